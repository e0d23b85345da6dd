"""The shop's forms. Choices that come from the database are filled in by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop import labels


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes, each with its own label (rendered inside a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(table: dict) -> list[SelectChoice]:
    return [SelectChoice(k.value, v) for k, v in table.items()]


class SupplierRegistrationForm(FlaskForm):
    name = StringField(_l("Supplier name"), validators=[DataRequired(), Length(max=120)])
    type = SelectField(_l("Kind of supplier"), choices=_choices(labels.SUPPLIER_TYPE),
                       validators=[DataRequired()])
    county_id = SelectField(_l("County where it is registered"), coerce=int, validators=[InputRequired()])
    licence_number = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=40)])
    contact_phone = TelField(_l("Contact mobile number"), validators=[DataRequired(), Length(max=20)])
    description = TextAreaField(_l("About the supplier (optional)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Apply for accreditation"))


class InviteForm(FlaskForm):
    email = EmailField(_l("Colleague's e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Invite"))


class ReasonForm(FlaskForm):
    """Approve, reject, suspend, reinstate, delist: the reason is checked by the service where it is required."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class HouseholdLinkForm(FlaskForm):
    id_number = StringField(_l("ID number of the head of household"),
                            validators=[DataRequired(), Length(min=18, max=18)])
    link_type = SelectField(_l("How the household is linked"), choices=_choices(labels.LINK_TYPE),
                            validators=[DataRequired()])
    started_on = DateField(_l("Start date"), validators=[InputRequired()])
    share_percent = StringField(_l("Benefit share (%)"), validators=[DataRequired(), Length(max=8)])
    submit = SubmitField(_l("Declare the link"))


class EndLinkForm(FlaskForm):
    ended_on = DateField(_l("End date"), validators=[Optional()])


class ChallengeForm(FlaskForm):
    note = TextAreaField(_l("What is questioned"), validators=[Optional(), Length(max=500)])


class ProductForm(FlaskForm):
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=120)])
    category_id = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    sales_unit = StringField(_l("Sales unit (斤, kg, 箱 ...)"), validators=[DataRequired(), Length(max=10)])
    specification = StringField(_l("Specification (e.g. 5 kg per box)"), validators=[Optional(), Length(max=60)])
    price = StringField(_l("Price per sales unit (yuan)"), validators=[DataRequired(), Length(max=16)])
    min_order_qty = IntegerField(_l("Minimum order quantity"), default=1,
                                 validators=[InputRequired(), NumberRange(min=1, max=10_000)])
    shelf_life_days = IntegerField(_l("Shelf life (days)"),
                                   validators=[InputRequired(), NumberRange(min=1, max=3650)])
    harvest_months = MultiCheckboxField(_l("Harvest months"), coerce=int,
                                        choices=[SelectChoice(i + 1, m) for i, m in enumerate(labels.MONTHS)])
    origin_village_id = SelectField(_l("Village of origin"), coerce=int, validators=[InputRequired()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    certifications = MultiCheckboxField(_l("Certifications"), choices=_choices(labels.CERTIFICATION))
    cert_green = StringField(_l("Green food certificate number"), validators=[Optional(), Length(max=60)])
    cert_organic = StringField(_l("Organic certificate number"), validators=[Optional(), Length(max=60)])
    cert_geo_indication = StringField(_l("Geographical indication registration number"),
                                      validators=[Optional(), Length(max=60)])
    submit = SubmitField(_l("Save"))


class LotForm(FlaskForm):
    quantity = IntegerField(_l("Quantity (sales units)"),
                            validators=[InputRequired(), NumberRange(min=1, max=1_000_000)])
    produced_on = DateField(_l("Harvest or production date"), validators=[Optional()])
    expires_on = DateField(_l("Expiry date (default: production date + shelf life)"), validators=[Optional()])
    submit = SubmitField(_l("Add stock"))


class WriteOffForm(FlaskForm):
    quantity = IntegerField(_l("Units to write off"), validators=[InputRequired(), NumberRange(min=1)])
    reason = StringField(_l("Why (spoiled, damaged ...)"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Write off"))


class ImageForm(FlaskForm):
    image = FileField(_l("Photo (JPEG, PNG or WebP, up to 5 MB)"), validators=[FileRequired()])
    alt_text = StringField(_l("What the photo shows (for screen readers)"),
                           validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Upload photo"))


class EvidenceForm(FlaskForm):
    kind = SelectField(_l("Kind of evidence"), choices=_choices(labels.EVIDENCE_KIND), validators=[DataRequired()])
    url = URLField(_l("Web address of the same product elsewhere"), validators=[Optional(), Length(max=500)])
    document = FileField(_l("Contract or invoice (PDF or image, up to 5 MB)"))
    reference_price = StringField(_l("Reference price per sales unit (yuan)"),
                                  validators=[DataRequired(), Length(max=16)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add evidence"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))],
    )
    all_or_nothing = BooleanField(_l("Import nothing if any row is invalid"))
    submit = SubmitField(_l("Import"))

