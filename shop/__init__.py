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
    from shop.views import cart, fulfilment, orders  # noqa: F401  (cart and order pages; cart registers CartItem)

    load_settings(app)
    # Reviews and benefit attribution: their tables, their routes on ``bp`` (before it is registered), their API.
    from shop import models_benefit  # noqa: F401
    from shop.views import benefit as benefit_views  # noqa: F401
    from shop.views import reviews as review_views

    app.register_blueprint(bp)
    api.register_blueprint(shop_api.blp)
    api.register_blueprint(review_views.blp)
    from shop.payments import api as payments_api

    api.register_blueprint(payments_api.blp)
    from shop import api_orders

    api.register_blueprint(api_orders.blp)
    app.extensions["demo_seeders"].append(demo.SEEDER)
    from shop.services import attribution

    app.extensions["demo_seeders"].append(attribution.demo_seeder())  # completed demo orders → benefit rows

    app.extensions.setdefault("home_sections", []).extend(views.catalog.HOME_SECTIONS)
    app.extensions.setdefault("admin_links", []).extend(ADMIN_LINKS)
    add_nav_item(app, "shop.catalog_index", _l("Shop"), None, order=10)
    add_nav_item(app, "shop.workspace", _l("My supplier"), Permission.SUPPLIER_WORKSPACE, order=20)
    add_nav_item(app, "shop.admin_suppliers", _l("Supplier accreditation"), Permission.ACCREDIT, order=30)
    add_nav_item(app, "shop.admin_products", _l("Product review"), Permission.ACCREDIT, order=31)
    add_nav_item(app, "shop.cart", _l("Cart"), None, order=11)
    add_nav_item(app, "shop.my_orders", _l("My orders"), Permission.SHOP_BUY, order=12)
    add_nav_item(app, "shop.supplier_orders", _l("Orders to fulfil"), Permission.SUPPLIER_WORKSPACE, order=21)
    add_nav_item(app, "shop.admin_transfers", _l("Transfers and refunds"), Permission.PAYMENTS_CONFIRM, order=32)
    app.extensions["admin_links"].extend(fulfilment.ADMIN_LINKS)

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
