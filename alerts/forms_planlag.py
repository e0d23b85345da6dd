"""The form for acting on a plan-lag warning (no assignment: the unit itself is the one to act)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from alerts.forms import ACTION_LABELS
from alerts.services_planlag import ACTIONS


class PlanLagActionForm(FlaskForm):
    kind = SelectField(_l("Action"), choices=[SelectChoice(k.value, ACTION_LABELS[k]) for k in ACTIONS],
                       validators=[InputRequired()])
    note = TextAreaField(_l("Note (what the unit will buy, or what you found)"),
                         validators=[Optional(), Length(max=2000)])
