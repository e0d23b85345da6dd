"""Procurement's forms. Choices that come from the database are filled in by the views.

Amounts are typed in yuan (with 万 or 亿 allowed) and shares in percent; the
services receive integer fen and basis points.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from procurement import labels


def _choices(table: dict) -> list[SelectChoice]:
    return [SelectChoice(k.value, v) for k, v in table.items()]


class UnitForm(FlaskForm):
    """An administrator creates or edits a unit."""

    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(min=2, max=120)])
    type = SelectField(_l("Kind of unit"), choices=_choices(labels.UNIT_TYPE), validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    parent = StringField(_l("Parent unit (optional: its exact name)"), validators=[Optional(), Length(max=120)])
    approval_threshold = StringField(_l("Orders above this amount need an approver (yuan)"),
                                     validators=[Optional(), Length(max=30)], default="0")
    submit = SubmitField(_l("Save"))


class RegisterUnitForm(FlaskForm):
    """A person registers their unit for an administrator's approval."""

    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(min=2, max=120)])
    type = SelectField(_l("Kind of unit"), choices=_choices(labels.UNIT_TYPE), validators=[DataRequired()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    parent = StringField(_l("Parent unit (optional: its exact name)"), validators=[Optional(), Length(max=120)])
    submit = SubmitField(_l("Register the unit"))


class ReasonForm(FlaskForm):
    """Approve, reject, suspend, reinstate: the service says where the reason is required."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class MemberForm(FlaskForm):
    # No format check here: the service looks the address up among existing accounts.
    email = EmailField(_l("The person's e-mail (they need an account)"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role in the unit"), choices=_choices(labels.UNIT_ROLE), validators=[DataRequired()])
    submit = SubmitField(_l("Add member"))


class MemberRoleForm(FlaskForm):
    role = SelectField(_l("Role in the unit"), choices=_choices(labels.UNIT_ROLE), validators=[DataRequired()])


class AddressForm(FlaskForm):
    name = StringField(_l("Name (for example: main canteen)"), validators=[DataRequired(), Length(max=80)])
    recipient = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=40)])
    phone = TelField(_l("Recipient's mobile number"), validators=[DataRequired(), Length(max=20)])
    region_id = SelectField(_l("County"), coerce=int, validators=[InputRequired()])
    address = StringField(_l("Street address"), validators=[DataRequired(), Length(min=4, max=255)])
    submit = SubmitField(_l("Add address"))


class AssistanceForm(FlaskForm):
    county_id = SelectField(_l("Assisted county"), coerce=int, validators=[InputRequired()])
    kind = SelectField(_l("Kind of assistance"), choices=_choices(labels.ASSISTANCE_KIND),
                       validators=[DataRequired()])
    start_year = IntegerField(_l("From year"), validators=[InputRequired(), NumberRange(min=1900, max=2200)])
    end_year = IntegerField(_l("To year (optional)"), validators=[Optional(), NumberRange(min=1900, max=2200)])
    submit = SubmitField(_l("Add relation"))


class PlanForm(FlaskForm):
    """The unit's declaration for a year."""

    canteen_mode = SelectField(_l("Canteen"), choices=_choices(labels.CANTEEN_MODE), validators=[DataRequired()])
    canteen_budget = StringField(_l("Canteen food budget for the year (yuan)"),
                                 validators=[Optional(), Length(max=30)])
    reserved_share = StringField(_l("Share reserved for assistance products (%)"),
                                 validators=[Optional(), Length(max=10)])
    host_unit = StringField(_l("Unit whose canteen you share (its exact name)"),
                            validators=[Optional(), Length(max=120)])
    reason = TextAreaField(_l("Reason for the change (required once the plan is declared)"),
                           validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save the plan"))


class PlanFigureForm(FlaskForm):
    """An administrator sets (or withdraws) a unit's plan figure."""

    amount = StringField(_l("Plan amount (yuan; 万 and 亿 allowed)"), validators=[Optional(), Length(max=30)])
    reason = TextAreaField(_l("Reason (for example the notice that sets the figure)"),
                           validators=[DataRequired(), Length(max=500)])
    clear = BooleanField(_l("Withdraw the administrator's figure (the unit's declaration applies again)"))
    submit = SubmitField(_l("Save"))


class GuidingPlanForm(FlaskForm):
    region_id = SelectField(_l("Region"), coerce=int, validators=[InputRequired()])
    year = IntegerField(_l("Year"), validators=[InputRequired()])
    amount = StringField(_l("Guiding plan (yuan; 万 and 亿 allowed)"), validators=[DataRequired(), Length(max=30)])
    reason = TextAreaField(_l("Reason (for example the notice that sets the figure)"),
                           validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Save guiding plan"))


class EmployerForm(FlaskForm):
    unit_id = HiddenField(validators=[DataRequired()])


class PromotionCodeForm(FlaskForm):
    confirm = BooleanField(_l("I understand that links with the current code stop counting"),
                           validators=[DataRequired()])
    submit = SubmitField(_l("Create a new promotion code"))


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token (retire an address, remove a member, leave a unit)."""


class LeaveForm(FlaskForm):
    confirm_leave = BooleanField(_l("I want to leave this unit"), validators=[DataRequired()])
