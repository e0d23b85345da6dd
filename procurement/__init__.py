"""Procurement: buyer units, plans, procurement orders, completion figures."""

from flask import Blueprint, Flask

bp = Blueprint("procurement", __name__, template_folder="templates", url_prefix="/procurement")
# The promotion link /u/<code> lives at the site's root, short enough for a poster.
public_bp = Blueprint("procurement_public", __name__)


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from core.extensions import api
    from core.permissions import Permission
    from core.templating import add_nav_item
    from procurement import api as procurement_api
    from procurement import demo, labels, models, models_ledger, views  # noqa: F401  (models, routes, seed step)
    from procurement.admin_links import ACCOUNT_SECTIONS, ADMIN_LINKS
    from procurement.config import load_settings

    load_settings(app)
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    api.register_blueprint(procurement_api.blp)
    app.extensions["demo_seeders"].append(demo.SEEDER)

    app.extensions.setdefault("admin_links", []).extend(ADMIN_LINKS)
    # Sections of the account page, same shape as admin links: {"title", "text", "url", "action"}.
    app.extensions.setdefault("account_sections", []).extend(ACCOUNT_SECTIONS)
    add_nav_item(app, "procurement.workspace", _l("My unit"), Permission.UNIT_WORKSPACE, order=25)
    add_nav_item(app, "procurement.admin_units", _l("Buyer units"), Permission.ACCREDIT, order=35)
    add_nav_item(app, "procurement.admin_plans", _l("Unit plans"), Permission.PLANS_MANAGE, order=36)

    def _lookup(table):
        return lambda value: labels.label(table, value)

    app.jinja_env.globals.update(
        unit_type_label=_lookup(labels.UNIT_TYPE),
        unit_status_label=_lookup(labels.UNIT_STATUS),
        unit_role_label=_lookup(labels.UNIT_ROLE),
        assistance_kind_label=_lookup(labels.ASSISTANCE_KIND),
        canteen_mode_label=_lookup(labels.CANTEEN_MODE),
        plan_status_label=_lookup(labels.PLAN_STATUS),
    )
