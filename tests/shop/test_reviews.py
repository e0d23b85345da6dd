"""Reviews: only the buyer of a received line reviews it, once; the product page shows the average;
administrators hide and show reviews (audited); the API lists and posts reviews."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from core.extensions import db
from core.registry.models import RegionLevel
from shop.models_benefit import ProductReview
from shop.services import reviews
from tests import factories
from tests.shop import factories_benefit, factories_shop


def _bought(received: bool = True, quantity: int = 1):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=3990, stock=20, name="巫山脆李")
    buyer = factories.UserFactory(display_name="张晓梅")
    order, _payment = factories_benefit.paid_order(buyer, {product: quantity})
    sub_order = order.sub_orders[0]
    if received:
        factories_benefit.received(sub_order)
    return w, product, buyer, sub_order.lines[0]


def _count() -> int:
    return db.session.execute(sa.select(sa.func.count(ProductReview.id))).scalar_one()


def test_the_buyer_reviews_a_received_line(db_session):
    _w, product, buyer, line = _bought()
    review = reviews.submit_review(line.id, buyer, rating=4, text="  很甜，很新鲜  ")
    assert (review.product_id, review.rating, review.text) == (product.id, 4, "很甜，很新鲜")
    assert db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.target_type == "product_review", AuditEntry.target_id == str(review.id))).scalar() == "review.create"


def test_a_line_not_received_yet_is_refused(db_session):
    _w, _product, buyer, line = _bought(received=False)
    with pytest.raises(reviews.NotReceivedYet, match="once you have received it"):
        reviews.submit_review(line.id, buyer, rating=5)
    assert _count() == 0


def test_someone_elses_line_is_refused_as_not_found(db_session):
    _w, _product, _buyer, line = _bought()
    with pytest.raises(NotFound):
        reviews.submit_review(line.id, factories.UserFactory(), rating=5)
    assert _count() == 0


def test_a_line_is_reviewed_only_once(db_session):
    _w, _product, buyer, line = _bought()
    reviews.submit_review(line.id, buyer, rating=5)
    with pytest.raises(reviews.AlreadyReviewed):
        reviews.submit_review(line.id, buyer, rating=1, text="改主意了")
    assert _count() == 1


def test_the_database_refuses_a_second_review_of_a_line(db_session):
    _w, product, buyer, line = _bought()
    reviews.submit_review(line.id, buyer, rating=5)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(ProductReview(order_line_id=line.id, buyer_id=buyer.id, product_id=product.id, rating=2))
        db.session.flush()


@pytest.mark.parametrize("rating", [0, 6, -1, None, "", "five", True, 4.5, "3.5"])
def test_a_rating_outside_one_to_five_is_refused(db_session, rating):
    _w, _product, buyer, line = _bought()
    with pytest.raises(ValidationFailed) as err:
        reviews.submit_review(line.id, buyer, rating=rating)
    assert err.value.field == "rating"
    assert _count() == 0


def test_a_text_longer_than_500_characters_is_refused(db_session):
    _w, _product, buyer, line = _bought()
    with pytest.raises(ValidationFailed, match="500"):
        reviews.submit_review(line.id, buyer, rating=3, text="甜" * 501)
    assert reviews.submit_review(line.id, buyer, rating=3, text="甜" * 500).text == "甜" * 500


def test_the_product_page_shows_the_average_count_and_latest_reviews(client, login, db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=3990, stock=50)
    for rating in (5, 4, 4):  # 13 / 3 = 4.33 → 4.3
        buyer = factories.UserFactory(display_name="李四")
        order, _payment = factories_benefit.paid_order(buyer, {product: 1})
        factories_benefit.completed(order.sub_orders[0])
        reviews.submit_review(order.sub_orders[0].lines[0].id, buyer, rating=rating, text=f"评分{rating}")
    html = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert "4.3" in html and "3 reviews" in html
    assert "评分5" in html and "李**" in html and "李四" not in html


def test_reviews_are_paginated_newest_first(client, db_session):
    w = factories_shop.world()
    product = factories_shop.product(w.supplier, w.category, w.village, price_fen=100, stock=50)
    buyer = factories.UserFactory()
    for n in range(reviews.PAGE_SIZE + 2):
        order, _payment = factories_benefit.paid_order(buyer, {product: 1})
        factories_benefit.received(order.sub_orders[0])
        reviews.submit_review(order.sub_orders[0].lines[0].id, buyer, rating=5, text=f"第{n}条")
    first = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert f"第{reviews.PAGE_SIZE + 1}条" in first and "第0条" not in first and "Page 1 of 2" in first
    second = client.get(f"/shop/product/{product.id}?reviews_page=2").get_data(as_text=True)
    assert "第0条" in second and "第1条" in second and f"第{reviews.PAGE_SIZE + 1}条" not in second


def test_an_eligible_buyer_finds_the_form_on_the_product_page_and_publishes(client, login, db_session):
    _w, product, buyer, line = _bought()
    login(buyer)
    html = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert f"/shop/orders/lines/{line.id}/review" in html
    form = client.get(f"/shop/orders/lines/{line.id}/review")
    assert form.status_code == 200 and 'name="rating"' in form.get_data(as_text=True)
    bad = client.post(f"/shop/orders/lines/{line.id}/review", data={"rating": "6", "text": "好"})
    assert bad.status_code == 422 and _count() == 0
    done = client.post(f"/shop/orders/lines/{line.id}/review", data={"rating": "5", "text": "好吃"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/shop/product/{product.id}#reviews")
    page = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert "5.0" in page and "好吃" in page and f"/shop/orders/lines/{line.id}/review" not in page
    again = client.post(f"/shop/orders/lines/{line.id}/review", data={"rating": "1", "text": "再来"})
    assert again.status_code == 409 and _count() == 1


def test_the_form_refuses_a_line_not_received_and_someone_elses_line(client, login, db_session):
    _w, _product, buyer, line = _bought(received=False)
    login(buyer)
    page = client.get(f"/shop/orders/lines/{line.id}/review")
    assert "once you have received it" in page.get_data(as_text=True)
    assert client.post(f"/shop/orders/lines/{line.id}/review", data={"rating": "5"}).status_code == 409
    login(factories.UserFactory())
    assert client.get(f"/shop/orders/lines/{line.id}/review").status_code == 404
    assert _count() == 0


def test_an_administrator_hides_and_shows_a_review_audited(client, login, db_session):
    w, product, buyer, line = _bought()
    review = reviews.submit_review(line.id, buyer, rating=1, text="骗子 13812345678")
    admin = factories_shop.admin(w.chain[RegionLevel.PROVINCE])
    with pytest.raises(ValidationFailed):
        reviews.hide_review(review, admin, "")
    login(admin)
    listing = client.get("/shop/admin/reviews/").get_data(as_text=True)
    assert "骗子" in listing
    response = client.post(f"/shop/admin/reviews/{review.id}/hide", data={"reason": "含个人信息"})
    assert response.status_code == 302
    review = factories_shop.reload(review)
    assert review.is_hidden and review.hidden_reason == "含个人信息"
    assert reviews.summary(product.id).count == 0
    assert "骗子" not in client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    with pytest.raises(InvalidTransition):
        reviews.hide_review(review, admin, "again")
    reviews.show_review(review, admin)
    assert reviews.summary(product.id).count == 1
    actions = db.session.execute(sa.select(AuditEntry.action).where(AuditEntry.target_type == "product_review")
                                 .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["review.create", "review.hide", "review.show"]


def test_an_administrator_of_another_region_cannot_hide(db_session):
    _w, _product, buyer, line = _bought()
    review = reviews.submit_review(line.id, buyer, rating=2)
    elsewhere = factories_shop.admin(factories.region_chain()[RegionLevel.PROVINCE])
    with pytest.raises(Forbidden):
        reviews.hide_review(review, elsewhere, "不喜欢")
    assert not factories_shop.reload(review).is_hidden


def test_the_api_lists_and_posts_reviews(client, login, db_session):
    _w, product, buyer, line = _bought()
    login(buyer)
    refused = client.post(f"/api/v1/order-lines/{line.id}/review", json={"rating": 0})
    assert refused.status_code == 422 and _count() == 0
    created = client.post(f"/api/v1/order-lines/{line.id}/review", json={"rating": 4, "text": "不错"})
    assert created.status_code == 201
    assert created.get_json()["rating"] == 4 and created.get_json()["reviewer"] == "张**"
    twice = client.post(f"/api/v1/order-lines/{line.id}/review", json={"rating": 5})
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_reviewed"
    login(factories.UserFactory())
    assert client.post(f"/api/v1/order-lines/{line.id}/review", json={"rating": 5}).status_code == 404
    body = client.get(f"/api/v1/products/{product.id}/reviews").get_json()
    assert body["average_rating"] == "4.0" and body["count"] == 1
    assert [r["text"] for r in body["items"]] == ["不错"]


def test_the_api_does_not_list_reviews_of_a_product_not_on_sale(client, db_session):
    w = factories_shop.world()
    hidden = factories_shop.product(w.supplier, w.category, w.village, status="pending_review")
    assert client.get(f"/api/v1/products/{hidden.id}/reviews").status_code == 404


def test_the_moderation_page_of_another_region_refuses_and_lists_nothing(client, login, db_session):
    _w, _product, buyer, line = _bought()
    review = reviews.submit_review(line.id, buyer, rating=2, text="一般")
    login(factories_shop.admin(factories.region_chain()[RegionLevel.PROVINCE]))
    assert "一般" not in client.get("/shop/admin/reviews/?show=all").get_data(as_text=True)
    assert client.post(f"/shop/admin/reviews/{review.id}/hide", data={"reason": "不喜欢"}).status_code == 403
    assert not factories_shop.reload(review).is_hidden
