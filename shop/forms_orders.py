"""Forms of the cart, checkout and order pages, and the display names of order and payment states."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from shop.models import OrderStatus
from shop.models_orders import PaymentStatus, RefundStatus

ORDER_STATUS = {
    OrderStatus.PENDING_PAYMENT: _l("Waiting for payment"),
    OrderStatus.PAID: _l("Paid, waiting for shipment"),
    OrderStatus.SHIPPED: _l("Shipped"),
    OrderStatus.RECEIVED: _l("Received"),
    OrderStatus.COMPLETED: _l("Completed"),
    OrderStatus.CANCELLED: _l("Cancelled"),
    OrderStatus.REFUND_REQUESTED: _l("Refund requested"),
    OrderStatus.REFUNDED: _l("Refunded"),
}
PAYMENT_STATUS = {
    PaymentStatus.PENDING: _l("Waiting"),
    PaymentStatus.SUCCEEDED: _l("Paid"),
    PaymentStatus.FAILED: _l("Failed"),
    PaymentStatus.EXPIRED: _l("Expired"),
    PaymentStatus.REFUNDED: _l("Refunded"),
    PaymentStatus.PARTIALLY_REFUNDED: _l("Partly refunded"),
}
REFUND_STATUS = {
    RefundStatus.REQUESTED: _l("Waiting for a decision"),
    RefundStatus.REFUNDED: _l("Refunded"),
    RefundStatus.DECLINED: _l("Declined"),
}


class CheckoutForm(FlaskForm):
    recipient_name = StringField(_l("Recipient's name"), validators=[DataRequired(), Length(max=40)])
    recipient_phone = TelField(_l("Recipient's mobile number"), validators=[DataRequired(), Length(max=20)])
    address = TextAreaField(_l("Delivery address"), validators=[DataRequired(), Length(min=5, max=255)])
    address_region_id = SelectField(_l("County of the address (optional)"), coerce=int, validators=[Optional()])
    referral_code = StringField(_l("Promotion code (optional)"), validators=[Optional(), Length(max=32)])
    # Made when the form is shown: a second submit of the same form returns the first order.
    idempotency_key = HiddenField()
    submit = SubmitField(_l("Place the order"))


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=40)])
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("Mark as shipped"))


class RefundRequestForm(FlaskForm):
    reason = TextAreaField(_l("Why do you want a refund?"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Request the refund"))


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note to the buyer (required when declining)"), validators=[Optional(), Length(max=500)])


class ConfirmTransferForm(FlaskForm):
    bank_transaction = StringField(_l("Bank transaction number"), validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("Confirm the transfer arrived"))
