"""Payments: Stripe at its network boundary (signed webhooks, a local stand-in for its API) and bank transfers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from core.extensions import db
from shop.models import OrderStatus
from shop.models_orders import Payment, PaymentEvent, PaymentStatus
from shop.payments import services as payments
from tests import factories
from tests.shop import factories_orders

SECRET = "whsec_test_secret_for_marketplace"


@pytest.fixture()
def stripe_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_marketplace")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", SECRET)
    return app


def signed(payload: dict, secret: str = SECRET, timestamp: int | None = None) -> tuple[bytes, str]:
    """The body and ``Stripe-Signature`` header, built the way Stripe builds them."""
    body = json.dumps(payload).encode()
    ts = timestamp or int(time.time())
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={ts},v1={digest}"


def event(event_id: str, kind: str, obj: dict, created: int | None = None) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "created": created or int(time.time()),
            "api_version": "2025-01-27", "data": {"object": obj}}


def post_webhook(client, payload: dict, **kw):
    body, header = signed(payload, **kw)
    return client.post("/api/v1/payments/stripe/webhook", data=body,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})


@pytest.fixture()
def stripe_payment(db_session, stripe_on):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 2, oranges: 1})
    payment = Payment(order=order, provider="stripe", amount_fen=order.total_fen, reference="cs_test_abc")
    db.session.add(payment)
    db.session.flush()
    return payment


def session_completed(event_id="evt_1", created=None):
    return event(event_id, "checkout.session.completed",
                 {"id": "cs_test_abc", "object": "checkout.session", "payment_status": "paid",
                  "payment_intent": "pi_test_1"}, created)


def test_a_signed_completed_session_marks_the_order_paid(client, stripe_payment):
    response = post_webhook(client, session_completed())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outcome"] == "paid"
    assert stripe_payment.status == PaymentStatus.SUCCEEDED
    assert stripe_payment.provider_payment_id == "pi_test_1"
    assert {so.status for so in stripe_payment.order.sub_orders} == {OrderStatus.PAID}


def test_a_forged_signature_is_refused_and_changes_nothing(client, stripe_payment):
    body, header = signed(session_completed(), secret="whsec_someone_else")
    response = client.post("/api/v1/payments/stripe/webhook", data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"]
    missing = client.post("/api/v1/payments/stripe/webhook", data=body)
    assert missing.status_code == 422
    assert stripe_payment.status == PaymentStatus.PENDING
    assert db.session.query(PaymentEvent).count() == 0


def test_an_old_signature_is_refused(client, stripe_payment):
    response = post_webhook(client, session_completed(), timestamp=int(time.time()) - 3600)
    assert response.status_code == 422
    assert stripe_payment.status == PaymentStatus.PENDING


def test_a_replayed_event_has_no_second_effect(client, stripe_payment):
    assert post_webhook(client, session_completed()).get_json()["outcome"] == "paid"
    again = post_webhook(client, session_completed())
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    assert db.session.query(PaymentEvent).count() == 1


def test_events_out_of_order_never_undo_a_payment(client, stripe_payment):
    expired_later = event("evt_2", "checkout.session.expired", {"id": "cs_test_abc", "object": "checkout.session"})
    failed = event("evt_3", "payment_intent.payment_failed",
                   {"id": "pi_test_1", "object": "payment_intent",
                    "last_payment_error": {"message": "Your card was declined."}})
    assert post_webhook(client, session_completed()).get_json()["outcome"] == "paid"
    assert post_webhook(client, expired_later).get_json()["outcome"].startswith("ignored")
    assert post_webhook(client, failed).get_json()["outcome"].startswith("ignored")
    assert stripe_payment.status == PaymentStatus.SUCCEEDED
    assert {so.status for so in stripe_payment.order.sub_orders} == {OrderStatus.PAID}


def test_a_failed_payment_is_recorded_with_its_reason(client, stripe_payment):
    stripe_payment.provider_payment_id = "pi_test_1"
    failed = event("evt_4", "payment_intent.payment_failed",
                   {"id": "pi_test_1", "object": "payment_intent",
                    "last_payment_error": {"message": "Your card was declined."}})
    assert post_webhook(client, failed).get_json()["outcome"] == "failed"
    assert stripe_payment.failure_message == "Your card was declined."
    assert {so.status for so in stripe_payment.order.sub_orders} == {OrderStatus.PENDING_PAYMENT}


def test_a_refund_reported_by_stripe_updates_the_payment(client, stripe_payment):
    post_webhook(client, session_completed())
    refunded = event("evt_5", "charge.refunded",
                     {"id": "ch_1", "object": "charge", "payment_intent": "pi_test_1", "amount_refunded": 3990})
    assert post_webhook(client, refunded).get_json()["outcome"] == "partially_refunded"
    assert stripe_payment.refunded_fen == 3990


class _FakeStripe(BaseHTTPRequestHandler):
    """Answers the two Stripe calls we make, and remembers what it was sent."""

    seen: ClassVar[list] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        _FakeStripe.seen.append({"path": self.path, "form": form, "idempotency": self.headers.get("Idempotency-Key"),
                                 "auth": self.headers.get("Authorization")})
        if self.path == "/v1/checkout/sessions":
            body = {"id": "cs_test_from_fake", "object": "checkout.session",
                    "url": "https://checkout.stripe.test/c/pay/cs_test_from_fake", "payment_status": "unpaid"}
        elif self.path == "/v1/refunds":
            body = {"id": "re_test_1", "object": "refund", "amount": int(form["amount"][0]), "status": "succeeded"}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", "req_fake")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def fake_stripe(stripe_on, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _FakeStripe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeStripe.seen = []
    monkeypatch.setitem(stripe_on.config, "STRIPE_API_BASE", f"http://127.0.0.1:{server.server_port}")
    yield _FakeStripe
    server.shutdown()
    server.server_close()


def test_starting_a_stripe_payment_creates_a_checkout_session_in_fen(db_session, fake_stripe):
    _w, plums, oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 2, oranges: 1})
    start = payments.start_payment(order, "stripe", success_url="http://localhost/ok", cancel_url="http://localhost/no")
    assert start.redirect_url == "https://checkout.stripe.test/c/pay/cs_test_from_fake"
    assert start.payment.reference == "cs_test_from_fake"
    call = fake_stripe.seen[0]
    assert call["idempotency"] == f"checkout-{order.id}-1"
    assert call["auth"] == "Bearer sk_test_marketplace"
    amounts = sorted(int(v[0]) for k, v in call["form"].items() if k.endswith("[unit_amount]"))
    assert amounts == [3990, 5800]
    assert call["form"]["line_items[0][price_data][currency]"] == ["cny"]
    assert call["form"]["metadata[order_id]"] == [str(order.id)]


def test_a_refund_goes_back_through_stripe_with_an_idempotency_key(db_session, fake_stripe):
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 1})
    payment = Payment(order=order, provider="stripe", amount_fen=order.total_fen, reference="cs_r",
                      provider_payment_id="pi_r", status=PaymentStatus.SUCCEEDED)
    db.session.add(payment)
    db.session.flush()
    reference = payments.refund(order, 3990, idempotency_key="refund-42")
    assert reference == "re_test_1"
    call = fake_stripe.seen[-1]
    assert call["path"] == "/v1/refunds"
    assert call["idempotency"] == "refund-42"
    assert call["form"] == {"payment_intent": ["pi_r"], "amount": ["3990"]}


def test_stripe_is_offered_only_when_configured(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    assert [p.value for p in payments.available_providers()] == ["manual"]
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 1})
    with pytest.raises(Exception, match="not available"):
        payments.start_payment(order, "stripe", success_url="", cancel_url="")


def test_an_administrator_confirms_a_transfer_through_the_api(client, login, db_session):
    _w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 1})
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    login(factories.user_with_role("platform_admin"))
    response = client.post(f"/api/v1/payments/{start.payment.id}/confirm-transfer",
                           json={"bank_transaction": "ICBC-20261123-01"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "succeeded"
    assert {so.status for so in order.sub_orders} == {OrderStatus.PAID}
    again = client.post(f"/api/v1/payments/{start.payment.id}/confirm-transfer",
                        json={"bank_transaction": "ICBC-20261123-02"})
    assert again.status_code == 409


def test_a_regional_administrator_cannot_confirm_elsewhere(client, login, db_session):
    w, plums, _oranges, buyer = factories_orders.two_supplier_world()
    order = factories_orders.place(buyer, {plums: 1}, address_region_id=w.village.id)
    start = payments.start_payment(order, "manual", success_url="", cancel_url="")
    login(factories.user_with_role("regional_admin"))  # scoped to a different, new province
    response = client.post(f"/api/v1/payments/{start.payment.id}/confirm-transfer",
                           json={"bank_transaction": "X-1"})
    assert response.status_code == 404
    assert start.payment.status == PaymentStatus.PENDING
