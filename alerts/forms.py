"""The alerts forms: acting on a warning, and the thresholds of the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from alerts.models import ActionKind
from alerts.rules import RULE_SPECS

ACTION_LABELS = {
    ActionKind.ACKNOWLEDGE: _l("Acknowledge"),
    ActionKind.ASSIGN: _l("Assign"),
    ActionKind.NOTE: _l("Add a note"),
    ActionKind.RESPOND: _l("Mark a response taken"),
    ActionKind.RESOLVE: _l("Resolve"),
}


class ActionForm(FlaskForm):
    kind = SelectField(_l("Action"), choices=[SelectChoice(k.value, v) for k, v in ACTION_LABELS.items()],
                       validators=[InputRequired()])
    assignee_id = SelectField(_l("Assign to"), coerce=int, validators=[Optional()], validate_choice=False)
    note = TextAreaField(_l("Note (the response taken, or what you found)"), validators=[Optional(),
                                                                                      Length(max=2000)])


def rules_form_class():
    """A form with one whole-number field per rule threshold (see ``alerts.rules.RULE_SPECS``)."""

    class RulesForm(FlaskForm):
        reason = StringField(_l("Why the change (kept in the audit log)"), validators=[Optional(), Length(max=500)])

    for spec in RULE_SPECS:
        setattr(RulesForm, spec.key, IntegerField(spec.label, validators=[InputRequired()],
                                                  render_kw={"inputmode": "numeric"}))
    return RulesForm
