from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me logged in"))
    submit = SubmitField(_l("Log in"))


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(_l("Mobile number (optional)"), validators=[Optional(), Length(max=20)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=256)])
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("Passwords differ."))]
    )
    submit = SubmitField(_l("Create account"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Passwords differ."))],
    )
    submit = SubmitField(_l("Set new password"))


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Create token"))
