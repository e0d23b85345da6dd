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
    from procurement import (  # noqa: F401  (models, routes, seed step)
        api_orders,
        demo,
        labels,
        labels_orders,
        models,
        models_completion,
        models_ledger,
        models_orders,
        models_side,
        views,
    )
    from procurement.admin_links import ACCOUNT_SECTIONS, ADMIN_LINKS
    from procurement.config import load_settings
    from procurement.views import orders as order_views  # noqa: F401  (procurement-order pages)

    load_settings(app)
    from procurement.services import side_ledger

    side_ledger.install()  # employees' purchases and help-sales entered as sub-orders complete
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(views.completion.assets_bp)  # the completion charts' script and style
    api.register_blueprint(procurement_api.blp)
    api.register_blueprint(api_orders.blp)
    from procurement import api_completion

    api.register_blueprint(api_completion.blp)
    app.extensions["demo_seeders"].append(demo.SEEDER)

    app.extensions.setdefault("admin_links", []).extend(ADMIN_LINKS)
    # Sections of the account page, same shape as admin links: {"title", "text", "url", "action"}.
    app.extensions.setdefault("account_sections", []).extend(ACCOUNT_SECTIONS)
    add_nav_item(app, "procurement.workspace", _l("My unit"), Permission.UNIT_WORKSPACE, order=25)
    add_nav_item(app, "procurement.admin_units", _l("Buyer units"), Permission.ACCREDIT, order=35)
    add_nav_item(app, "procurement.admin_plans", _l("Unit plans"), Permission.PLANS_MANAGE, order=36)
    add_nav_item(app, "procurement.order_list", _l("Procurement orders"), Permission.UNIT_WORKSPACE, order=26)
    add_nav_item(app, "procurement.order_approvals", _l("Approvals"), Permission.UNIT_APPROVE, order=28)
    add_nav_item(app, "procurement.supplier_parts", _l("Unit orders"), Permission.SUPPLIER_WORKSPACE, order=28)
    add_nav_item(app, "procurement.admin_completion", _l("Plan completion"), Permission.PLANS_MANAGE, order=37)
    add_nav_item(app, "procurement.unit_completion", _l("Plan completion"), Permission.UNIT_WORKSPACE, order=27)
    add_nav_item(app, "procurement_public.transparency", _l("Transparency"), None, order=90)

    def _lookup(table):
        return lambda value: labels.label(table, value)

    app.jinja_env.globals.update(
        unit_type_label=_lookup(labels.UNIT_TYPE),
        unit_status_label=_lookup(labels.UNIT_STATUS),
        unit_role_label=_lookup(labels.UNIT_ROLE),
        assistance_kind_label=_lookup(labels.ASSISTANCE_KIND),
        canteen_mode_label=_lookup(labels.CANTEEN_MODE),
        plan_status_label=_lookup(labels.PLAN_STATUS),
        procurement_status_label=lambda v: labels_orders.label(labels_orders.ORDER_STATUS, v),
        part_status_label=lambda v: labels_orders.label(labels_orders.PART_STATUS, v),
        channel_label=lambda v: labels_orders.label(labels_orders.CHANNEL, v),
        payment_terms_label=lambda v: labels_orders.label(labels_orders.PAYMENT_TERMS, v),
        payment_method_label=lambda v: labels_orders.label(labels_orders.PAYMENT_METHOD, v),
    )
