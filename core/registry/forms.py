from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice


class ImportForm(FlaskForm):
    kind = SelectField(
        _l("What to import"),
        choices=[SelectChoice("households", _l("Households")), SelectChoice("regions", _l("Regions"))],
    )
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))],
    )
    all_or_nothing = BooleanField(_l("Import nothing if any row is invalid"))
    submit = SubmitField(_l("Import"))
