from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.accounts import services
from core.extensions import db
from core.permissions import Permission, require

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and API tokens")


class ProfileSchema(Schema):
    id = fields.Int()
    email = fields.Str()
    display_name = fields.Str()
    phone = fields.Str(metadata={"description": "masked"})
    role = fields.Str()
    region_id = fields.Int(allow_none=True)


class TokenRequestSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=80))


class TokenSchema(Schema):
    token = fields.Str(metadata={"description": "shown once; send as `Authorization: Bearer <token>`"})


@blp.route("/me")
@require(Permission.ACCOUNT)
@blp.response(200, ProfileSchema)
def me():
    """The account making the request."""
    return services.public_profile(current_user)


@blp.route("/tokens", methods=["POST"])
@require(Permission.ACCOUNT)
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenSchema)
def create_token(payload):
    """Issue an API token for the current account."""
    token = services.issue_api_token(current_user, payload["name"])
    db.session.commit()
    return {"token": token}
