"""The marketplace: suppliers, household links, products, orders."""

from flask import Blueprint, Flask

bp = Blueprint("shop", __name__, template_folder="templates", url_prefix="/shop")


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from core.extensions import api
    from core.permissions import Permission
    from core.templating import add_nav_item
    from shop import api as shop_api
    from shop import demo, labels, models, models_orders, tasks, views  # noqa: F401  (registers models, routes and the seed step)  # noqa: F401  (order records and periodic order tasks)
    from shop.admin_links import ADMIN_LINKS
    from shop.config import load_settings

    load_settings(app)
    app.register_blueprint(bp)
    api.register_blueprint(shop_api.blp)
    from shop.payments import api as payments_api

    api.register_blueprint(payments_api.blp)
    app.extensions["demo_seeders"].append(demo.SEEDER)

    app.extensions.setdefault("home_sections", []).extend(views.catalog.HOME_SECTIONS)
    app.extensions.setdefault("admin_links", []).extend(ADMIN_LINKS)
    add_nav_item(app, "shop.catalog_index", _l("Shop"), None, order=10)
    add_nav_item(app, "shop.workspace", _l("My supplier"), Permission.SUPPLIER_WORKSPACE, order=20)
    add_nav_item(app, "shop.admin_suppliers", _l("Supplier accreditation"), Permission.ACCREDIT, order=30)
    add_nav_item(app, "shop.admin_products", _l("Product review"), Permission.ACCREDIT, order=31)

    def _lookup(table):
        return lambda value: labels.label(table, value)

    app.jinja_env.globals.update(
        supplier_type_label=_lookup(labels.SUPPLIER_TYPE),
        supplier_status_label=_lookup(labels.SUPPLIER_STATUS),
        link_type_label=_lookup(labels.LINK_TYPE),
        link_status_label=_lookup(labels.LINK_STATUS),
        product_status_label=_lookup(labels.PRODUCT_STATUS),
        certification_label=_lookup(labels.CERTIFICATION),
        evidence_kind_label=_lookup(labels.EVIDENCE_KIND),
        month_names=labels.MONTHS,
    )
