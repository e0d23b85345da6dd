"""Account rules: registration, passwords, reset tokens, roles, API tokens.

Services add and flush; the caller commits once.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core import audit
from core.accounts.models import ApiToken, User
from core.database import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.permissions import Role
from core.personal_data import mask_phone, normalise_phone

MIN_PASSWORD_LENGTH = 10
SELF_SERVICE_ROLES = {Role.CONSUMER}


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), field="password"
        )
    if password.isdigit() or password.isalpha():
        raise ValidationFailed(_("Use both letters and digits in the password."), field="password")


def find_by_email(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def register_user(
    *, email: str, password: str, display_name: str, phone: str | None = None, role: Role = Role.CONSUMER,
    region_id: int | None = None,
) -> User:
    email = normalise_email(email)
    if find_by_email(email) is not None:
        raise Conflict(_("An account with this e-mail address already exists."), field="email")
    check_password_strength(password)
    if role == Role.REGIONAL_ADMIN and region_id is None:
        raise ValidationFailed(_("A regional administrator needs a region."), field="region_id")
    try:
        phone = normalise_phone(phone) if phone else None
    except ValidationFailed as err:
        raise ValidationFailed(err.message, field="phone") from err  # shown beside the phone field
    user = User(
        email=email,
        display_name=display_name.strip(),
        phone=phone,
        role=role,
        region_id=region_id if role == Role.REGIONAL_ADMIN else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None:
        # Spend the same time as a real check so that timing does not reveal accounts.
        User(password_hash=_dummy_hash()).check_password(password)
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


_DUMMY = {}


def _dummy_hash() -> str:
    if "hash" not in _DUMMY:
        from werkzeug.security import generate_password_hash

        _DUMMY["hash"] = generate_password_hash("not-a-real-password")
    return _DUMMY["hash"]


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise ValidationFailed(_("The current password is not correct."), field="current_password")
    check_password_strength(new)
    user.set_password(new)
    audit.record("account.password_changed", "user", user.id)


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The current hash is part of the token, so a token works once: after the
    # reset the hash changes and the token no longer matches.
    return _reset_serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def reset_password_with_token(token: str, new_password: str) -> User:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise ValidationFailed(_("This reset link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise ValidationFailed(_("This reset link is not valid.")) from exc
    user = db.session.get(User, data.get("uid"))
    if user is None or user.password_hash[-16:] != data.get("h"):
        raise ValidationFailed(_("This reset link has already been used."))
    check_password_strength(new_password)
    user.set_password(new_password)
    audit.record("account.password_reset", "user", user.id, actor_id=user.id)
    return user


def change_role(user: User, role: Role, region_id: int | None, reason: str) -> None:
    before = {"role": user.role.value, "region_id": user.region_id}
    if role == Role.REGIONAL_ADMIN and region_id is None:
        raise ValidationFailed(_("A regional administrator needs a region."), field="region_id")
    user.role = role
    user.region_id = region_id if role == Role.REGIONAL_ADMIN else None
    audit.record(
        "account.role_changed", "user", user.id, before=before,
        after={"role": role.value, "region_id": user.region_id}, reason=reason,
    )


def issue_api_token(user: User, name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationFailed(_("Give the token a name of up to 80 characters."), field="name")
    row, token = ApiToken.issue(user, name)
    db.session.add(row)
    db.session.flush()
    audit.record("account.token_issued", "api_token", row.id, after={"name": name, "prefix": row.prefix})
    return token


def revoke_api_token(user: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(_("No such token."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("account.token_revoked", "api_token", row.id)


def public_profile(user: User) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "phone": mask_phone(user.phone),
        "role": user.role.value,
        "region_id": user.region_id,
    }
