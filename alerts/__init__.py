"""Early warning of unsold produce, the response to it, and matchmaking."""

from flask import Blueprint, Flask

bp = Blueprint("alerts", __name__, template_folder="templates", url_prefix="/alerts")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
