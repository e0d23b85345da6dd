"""Product photos and price-evidence documents: accepted, re-encoded, refused, served."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from core.extensions import db
from core.registry.models import RegionLevel
from shop.models import PriceEvidence, ProductImage, ProductStatus
from shop.services import media
from tests import factories
from tests.shop import factories_shop as fs


def _upload(client, product_id, data: bytes, filename="photo.png", alt="红色脆李特写"):
    return client.post(f"/shop/workspace/products/{product_id}/images",
                       data={"image": (io.BytesIO(data), filename), "alt_text": alt},
                       content_type="multipart/form-data")


def _fetch(client, url: str) -> tuple[int, str, bytes]:
    """GET a file and close the response (send_file keeps the file open until then)."""
    with client.get(url) as response:
        return response.status_code, response.mimetype, response.get_data()


def _files() -> set[str]:
    folder = media.product_image_dir()
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.fixture()
def owner_with_product(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    login(w.owner)
    db.session.commit()
    return w, product


@pytest.mark.parametrize(("mode", "fmt"), [("RGB", "PNG"), ("RGBA", "PNG"), ("RGB", "JPEG"), ("RGB", "WEBP")])
def test_a_photo_is_re_encoded_resized_and_served(client, owner_with_product, mode, fmt):
    _w, product = owner_with_product
    response = _upload(client, product.id, fs.png_bytes((2400, 1600), mode=mode, fmt=fmt), f"p.{fmt.lower()}")
    assert response.status_code == 302
    image = db.session.execute(sa.select(ProductImage).where(ProductImage.product_id == product.id)).scalar_one()
    assert (image.width, image.height) == (1200, 800) and image.alt_text == "红色脆李特写"
    status, mimetype, body = _fetch(client, f"/shop/media/{image.filename}")
    assert status == 200 and mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(body)).size == (1200, 800)
    thumb = Image.open(io.BytesIO(_fetch(client, f"/shop/media/{image.thumb_filename}")[2]))
    assert thumb.format == "JPEG" and max(thumb.size) == 400
    page = client.get(f"/shop/product/{product.id}").get_data(as_text=True)
    assert 'alt="红色脆李特写"' in page


def test_a_small_photo_is_not_enlarged(client, owner_with_product):
    _w, product = owner_with_product
    assert _upload(client, product.id, fs.png_bytes((300, 200))).status_code == 302
    image = db.session.execute(sa.select(ProductImage)).scalar_one()
    assert (image.width, image.height) == (300, 200)


@pytest.mark.parametrize(("data", "filename", "status"), [
    (b"this is not an image at all", "fake.png", 422),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "truncated.png", 422),
    (None, "anim.gif", 422),
    (b"%PDF-1.4\n%%EOF", "doc.png", 422),
])
def test_non_images_are_refused_and_nothing_is_written(client, owner_with_product, data, filename, status):
    _w, product = owner_with_product
    if data is None:
        data = fs.png_bytes((50, 50), fmt="GIF")
    before = _files()
    response = _upload(client, product.id, data, filename)
    assert response.status_code == status
    assert "JPEG, PNG or WebP" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(ProductImage.id))).scalar_one() == 0
    assert _files() == before


def test_an_oversized_file_is_refused(client, owner_with_product):
    _w, product = owner_with_product
    big = fs.png_bytes((100, 100)) + b"\x00" * (5 * 1024 * 1024)
    # Encoded in memory: the test client would otherwise spool a body this large to a temporary
    # file that it never closes (a ResourceWarning under filterwarnings=error).
    boundary, body = encode_multipart({"image": FileStorage(io.BytesIO(big), "big.png"), "alt_text": "大图"})
    response = client.post(f"/shop/workspace/products/{product.id}/images", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(ProductImage.id))).scalar_one() == 0


def test_a_photo_needs_alt_text(client, owner_with_product):
    _w, product = owner_with_product
    assert _upload(client, product.id, fs.png_bytes((100, 100)), alt="").status_code == 422
    assert db.session.execute(sa.select(sa.func.count(ProductImage.id))).scalar_one() == 0


def test_another_supplier_cannot_upload_to_my_product(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village)
    login(fs.world().owner)
    db.session.commit()
    assert _upload(client, product.id, fs.png_bytes((100, 100))).status_code == 404


def test_removing_a_photo_deletes_its_files(client, owner_with_product):
    _w, product = owner_with_product
    _upload(client, product.id, fs.png_bytes((100, 100)))
    image = db.session.execute(sa.select(ProductImage)).scalar_one()
    names = {image.filename, image.thumb_filename}
    assert names <= _files()
    assert client.post(f"/shop/workspace/products/{product.id}/images/{image.id}/delete").status_code == 302
    assert not names & _files()
    assert _fetch(client, f"/shop/media/{image.filename}")[0] == 404


def test_media_route_serves_only_generated_names(client, db_session):
    assert client.get("/shop/media/..%2Finstance%2Fsecret_key").status_code == 404
    assert client.get("/shop/media/secret_key").status_code == 404


def test_price_evidence_by_link_and_by_document(client, owner_with_product):
    _w, product = owner_with_product
    assert client.post(f"/shop/workspace/products/{product.id}/evidence", data={
        "kind": "link", "url": "https://mall.example.cn/item/42", "reference_price": "42.00"}).status_code == 302
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert client.post(f"/shop/workspace/products/{product.id}/evidence", data={
        "kind": "invoice", "reference_price": "38.50", "document": (io.BytesIO(pdf), "发票.pdf")},
        content_type="multipart/form-data").status_code == 302
    rows = db.session.execute(sa.select(PriceEvidence).order_by(PriceEvidence.id)).scalars().all()
    assert [(r.kind.value, r.reference_price_fen) for r in rows] == [("link", 4200), ("invoice", 3850)]
    status, _mimetype, body = _fetch(client, f"/shop/evidence/{rows[1].id}")
    assert status == 200 and body == pdf


@pytest.mark.parametrize("data", [
    {"kind": "link", "url": "javascript:alert(1)", "reference_price": "42"},
    {"kind": "link", "url": "https://mall.example.cn/x", "reference_price": "0"},
    {"kind": "contract", "reference_price": "42"},
])
def test_bad_price_evidence_is_refused(client, owner_with_product, data):
    _w, product = owner_with_product
    assert client.post(f"/shop/workspace/products/{product.id}/evidence", data=data).status_code == 422
    assert db.session.execute(sa.select(sa.func.count(PriceEvidence.id))).scalar_one() == 0


def test_evidence_documents_are_private_to_the_supplier_and_its_reviewers(client, login, db_session):
    w = fs.world()
    product = fs.product(w.supplier, w.category, w.village, status=ProductStatus.PENDING_REVIEW)
    from shop.services import products

    evidence = products.add_price_evidence(product, w.owner, kind="contract", reference_price_fen=3000,
                                           document=fs.png_bytes((200, 200)), document_name="合同.png")
    db.session.commit()
    login(factories.UserFactory())
    assert client.get(f"/shop/evidence/{evidence.id}").status_code == 404
    login(fs.admin(factories.region_chain()[RegionLevel.PROVINCE]))
    assert client.get(f"/shop/evidence/{evidence.id}").status_code == 403
    login(fs.admin(w.county))
    status, mimetype, _body = _fetch(client, f"/shop/evidence/{evidence.id}")
    assert status == 200 and mimetype == "image/jpeg"
