"""Matchmaking forms: a unit's demand, a supplier's offer, and the answer to a match.

The forms check what a person can get wrong on the page (a window in the past, an end before the
start, an impossible quantity, a negative budget); the services check the same again for the API.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from alerts.figures import local_today
from alerts.services_matching import MAX_DAYS_AHEAD, MAX_QUANTITY
from core.errors import ValidationFailed
from core.money import parse_yuan


def _yuan(field, *, required: bool, maximum_fen: int, minimum_fen: int = 0) -> int | None:
    raw = (field.data or "").strip().replace(",", "").removeprefix("¥").removeprefix("￥")
    if not raw:
        if required:
            raise ValidationError(_l("Enter an amount in yuan."))
        return None
    try:
        fen = parse_yuan(raw)
    except ValidationFailed:
        raise ValidationError(_l("Give an amount in yuan with at most two decimals, for example 1200 or 8.80.")) \
            from None
    if fen < minimum_fen or fen > maximum_fen:
        raise ValidationError(_l("This amount is out of range; please check it."))
    return fen


class DemandForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    quantity = IntegerField(_l("Quantity"), validators=[
        InputRequired(_l("Give a whole quantity.")),
        NumberRange(min=1, max=MAX_QUANTITY, message=_l("Give a whole quantity from 1 to 1,000,000."))],
        render_kw={"inputmode": "numeric"})
    unit = StringField(_l("Unit counted (kg, 斤, 箱 …)"), default="kg",
                       validators=[InputRequired(), Length(min=1, max=10)])
    budget = StringField(_l("Budget for the whole quantity, in yuan (leave empty if open)"),
                         validators=[Optional()], render_kw={"inputmode": "decimal"})
    delivery_from = DateField(_l("Delivery from"), validators=[InputRequired(_l("Give a date."))])
    delivery_to = DateField(_l("Delivery until"), validators=[InputRequired(_l("Give a date."))])
    wished_region_id = SelectField(_l("Wished origin (optional)"), coerce=int, validators=[Optional()])
    note = TextAreaField(_l("Note for suppliers (grade, packing, delivery place)"),
                         validators=[Optional(), Length(max=1000)])

    budget_fen: int | None = None

    def validate_budget(self, field) -> None:
        self.budget_fen = _yuan(field, required=False, maximum_fen=10_000_000_000)

    def validate_delivery_from(self, field) -> None:
        if field.data and field.data < local_today():
            raise ValidationError(_l("The delivery window cannot start in the past."))

    def validate_delivery_to(self, field) -> None:
        if field.data and self.delivery_from.data and field.data < self.delivery_from.data:
            raise ValidationError(_l("The delivery window must end on or after its first day."))
        if field.data and field.data > local_today() + timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationError(_l("The delivery window must end within a year."))


class OfferForm(FlaskForm):
    product_id = SelectField(_l("Listed product (or choose none and describe it below)"), coerce=int,
                             validators=[Optional()])
    category_id = SelectField(_l("Category (when no listed product is chosen)"), coerce=int,
                              validators=[Optional()])
    description = TextAreaField(_l("What you offer (variety, grade, packing)"),
                                validators=[Optional(), Length(max=500)])
    quantity = IntegerField(_l("Quantity"), validators=[
        InputRequired(_l("Give a whole quantity.")),
        NumberRange(min=1, max=MAX_QUANTITY, message=_l("Give a whole quantity from 1 to 1,000,000."))],
        render_kw={"inputmode": "numeric"})
    unit = StringField(_l("Unit counted (when no listed product is chosen)"), validators=[Optional(),
                                                                                     Length(max=10)])
    ready_on = DateField(_l("Ready on"), validators=[InputRequired(_l("Give a date."))])
    price = StringField(_l("Price per unit, in yuan (a listed product's price when empty)"),
                        validators=[Optional()], render_kw={"inputmode": "decimal"})

    price_fen: int | None = None

    def validate_price(self, field) -> None:
        self.price_fen = _yuan(field, required=False, minimum_fen=1, maximum_fen=100_000_000)

    def validate_ready_on(self, field) -> None:
        if field.data and field.data < local_today():
            raise ValidationError(_l("Give the day it is ready, from today to a year ahead."))


class AnswerForm(FlaskForm):
    action = SelectField(_l("Answer"), validators=[InputRequired()],
                         choices=[SelectChoice("accept", _l("Accept")), SelectChoice("decline", _l("Decline"))])
    product_id = SelectField(_l("Listed product to order"), coerce=int, validators=[Optional()],
                             validate_choice=False)
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])
