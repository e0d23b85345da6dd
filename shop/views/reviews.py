"""Reviews: the buyer's review form, the product page's review section, moderation, and the JSON API."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf import FlaskForm
from marshmallow import Schema, fields, validate
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from core.errors import DomainError
from core.extensions import db
from core.pagination import paginate
from core.permissions import Permission, require
from shop import bp
from shop.models_benefit import REVIEW_TEXT_MAX
from shop.services import reviews
from shop.views._helpers import attach_error

RATING_CHOICES = [
    SelectChoice("", _l("Choose a rating")),
    SelectChoice("5", _l("5 stars — excellent")),
    SelectChoice("4", _l("4 stars — good")),
    SelectChoice("3", _l("3 stars — fair")),
    SelectChoice("2", _l("2 stars — poor")),
    SelectChoice("1", _l("1 star — very poor")),
]


class ReviewForm(FlaskForm):
    rating = SelectField(_l("Your rating"), choices=RATING_CHOICES, validators=[DataRequired()])
    text = TextAreaField(_l("Your review (optional)"), validators=[Length(max=REVIEW_TEXT_MAX)],
                         render_kw={"maxlength": REVIEW_TEXT_MAX, "rows": 5})
    submit = SubmitField(_l("Publish the review"))


class ModerationForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


def _page_arg(name: str) -> int:
    raw = request.args.get(name, "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


@bp.app_template_global()
def product_reviews(product) -> dict:
    """What the product page's review section shows (rendered by shop/reviews/_product_section.html)."""
    return {
        "summary": reviews.summary(product.id),
        "page": reviews.visible_reviews(product.id, _page_arg("reviews_page")),
        "to_review": reviews.lines_to_review(current_user, product.id),
    }


@bp.route("/orders/lines/<int:line_id>/review", methods=["GET", "POST"])
@require(Permission.SHOP_BUY)
def review_line(line_id: int):
    line = reviews.buyer_line(line_id, current_user)
    form = ReviewForm()
    refusal = None
    try:
        reviews.ensure_reviewable(line)
    except DomainError as err:
        refusal = err
    if refusal is None and form.validate_on_submit():
        try:
            reviews.submit_review(line.id, current_user, rating=form.rating.data, text=form.text.data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            attach_error(form, err)
        else:
            flash(_("Thank you: your review of %(name)s is published.", name=line.product_name), "success")
            return redirect(url_for("shop.product", product_id=line.product_id, _anchor="reviews"))
    status = 200
    if refusal is not None:
        status = refusal.status if request.method == "POST" else 200
    elif request.method == "POST":
        status = 422
    return render_template("shop/reviews/form.html", line=line, form=form, refusal=refusal), status


# --- moderation -----------------------------------------------------------------------------


@bp.get("/admin/reviews/")
@require(Permission.ACCREDIT)
def admin_reviews():
    shown = request.args.get("show", "visible")
    hidden = {"visible": False, "hidden": True}.get(shown)
    page = paginate(reviews.reviews_in_scope(current_user, hidden=hidden), per_page=30)
    return render_template("shop/reviews/admin.html", page=page, show=shown if hidden is not None else "all",
                           form=ModerationForm())


@bp.post("/admin/reviews/<int:review_id>/<any(hide, show):action>")
@require(Permission.ACCREDIT)
def review_moderate(review_id: int, action: str):
    review = reviews.get_review(review_id)
    form = ModerationForm()
    form.validate_on_submit()
    try:
        if action == "hide":
            reviews.hide_review(review, current_user, form.reason.data or "")
        else:
            reviews.show_review(review, current_user, form.reason.data or "")
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status in (403, 404):
            raise  # outside the administrator's region: the error page, not a flash on the list
        flash(err.message, "error")
    else:
        flash(_("The review is hidden.") if action == "hide" else _("The review is shown again."), "success")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/shop/admin/reviews")
                    else url_for("shop.admin_reviews"))


# --- JSON API -------------------------------------------------------------------------------

blp = Blueprint("shop_reviews_api", __name__, url_prefix="/api/v1", description="Product reviews")


class ReviewSchema(Schema):
    id = fields.Int()
    product_id = fields.Int()
    order_line_id = fields.Int()
    rating = fields.Int()
    text = fields.Str()
    reviewer = fields.Str(metadata={"description": "the reviewer's display name, masked"})
    created_at = fields.DateTime()


class ReviewPageSchema(Schema):
    average_rating = fields.Decimal(as_string=True, allow_none=True,
                                    metadata={"description": "mean of the visible reviews, one decimal"})
    count = fields.Int()
    page = fields.Int()
    per_page = fields.Int()
    items = fields.List(fields.Nested(ReviewSchema))


class ReviewQuerySchema(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=reviews.MAX_PAGES))


class ReviewInSchema(Schema):
    rating = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=5),
                        metadata={"description": "1 to 5 stars"})
    text = fields.Str(load_default="", validate=validate.Length(max=REVIEW_TEXT_MAX))


def _review_json(review, reviewer: str) -> dict:
    return {"id": review.id, "product_id": review.product_id, "order_line_id": review.order_line_id,
            "rating": review.rating, "text": review.text, "reviewer": reviewer, "created_at": review.created_at}


@blp.route("/products/<int:product_id>/reviews", methods=["GET"])
@blp.arguments(ReviewQuerySchema, location="query")
@blp.response(200, ReviewPageSchema)
def list_product_reviews(query, product_id: int):
    """The visible reviews of a listed product, newest first, with the average rating (public)."""
    from shop.services import catalog

    catalog.product_view(product_id, current_user)  # NotFound for products not on sale, as on the page
    summary = reviews.summary(product_id)
    page = reviews.visible_reviews(product_id, query["page"])
    return {"average_rating": summary.average, "count": summary.count, "page": page.page,
            "per_page": page.per_page, "items": [_review_json(r, name) for r, name in page.items]}


@blp.route("/order-lines/<int:line_id>/review", methods=["POST"])
@require(Permission.SHOP_BUY)
@blp.arguments(ReviewInSchema)
@blp.response(201, ReviewSchema)
def post_review(data, line_id: int):
    """Review an order line of your own that you have received (once per line)."""
    review = reviews.submit_review(line_id, current_user, rating=data["rating"], text=data["text"])
    db.session.commit()
    return _review_json(review, reviews.reviewer_label(current_user.display_name))
