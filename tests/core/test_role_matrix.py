"""Every protected page and API endpoint against every role.

The expected answer of each cell comes from core.permissions.ROLE_PERMISSIONS,
the one table that decides who may do what: allowed, 403, or (anonymous) a
redirect to log-in for pages and 401 for the API. Every route must either
declare a permission with @require or be listed below as public, so a new
unguarded route fails this test.
"""

from __future__ import annotations

import pytest

from core.permissions import Role, role_allows
from tests import factories

PUBLIC_ENDPOINTS = {
    "static",
    "main.home",
    "main.set_language",
    "health.healthz",
    "health.readyz",
    "accounts.login",
    "accounts.register",
    "accounts.forgot_password",
    "accounts.reset_password",
    "api-docs.openapi_json",
    "registry_api.list_regions",
    "procurement_public.promotion_link",  # /u/<code>: a unit's public promotion link
    "procurement_public.transparency",  # aggregate, anonymised figures for everyone
    "procurement_public.transparency_xlsx",
    "completion_assets.static",  # the completion charts' script and style
    "payments_api.stripe_webhook",  # proves itself with Stripe's signature instead
    # The catalog and search are open to visitors; only listed products of approved suppliers show.
    "shop.catalog_index",
    "shop.category",
    "shop.product",
    "shop.supplier",
    "shop.media_file",
    # The cart is open to visitors (kept in their session); checkout needs a buyer.
    "shop.cart",
    "shop.cart_add",
    "shop.cart_update",
    "shop.cart_remove",
    "shop_api.list_categories",
    "shop_api.list_products",
    "shop_api.get_product",
    "shop_reviews_api.list_product_reviews",  # the reviews of a listed product, as on its page
    "search.static",
    "search.search_page",
    "search_api.search",
    "search_api.suggest",
}
# Endpoints protected by flask-login's @login_required rather than a permission.
LOGIN_ONLY_ENDPOINTS = {"accounts.logout"}

ROLES = [None, *Role]


def _url_args(rule, world) -> dict:
    """Sample values for URL parameters: objects every allowed role may see."""
    samples = world["samples"]
    args = {}
    for name in rule.arguments:
        key = f"{rule.endpoint}:{name}"
        if key in samples:
            args[name] = samples[key]
        elif name in samples:
            args[name] = samples[name]
        else:
            pytest.fail(f"add a sample value for URL parameter {name!r} of {rule.endpoint} in test_role_matrix")
    return args


def _protected_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        permission = getattr(view, "required_permission", None)
        if permission is None:
            assert rule.endpoint in PUBLIC_ENDPOINTS | LOGIN_ONLY_ENDPOINTS, (
                f"{rule.endpoint} ({rule.rule}) declares no permission: guard it with @require or list it as public"
            )
            continue
        rules.append((rule, permission))
    return rules


@pytest.fixture()
def world(db_session):
    chain = factories.region_chain()
    from core.registry.models import RegionLevel
    from tests.alerts import factories_alerts, factories_matching, factories_outreach, factories_planlag
    from tests.procurement import factories_orders as procurement_orders
    from tests.procurement.factories_procurement import role_matrix_samples
    from tests.shop import factories_benefit, factories_cart, factories_shop

    return {
        "chain": chain,
        "samples": {
            "region_id": chain[RegionLevel.COUNTY].id,
            "token_id": 0,
            "payment_id": 0,
            "kind": "households",
            **role_matrix_samples(chain),  # procurement: unit_id, year, member_id, address_id, relation_id
            **factories_shop.role_matrix_samples(chain),  # shop: supplier, product, lot, image, link, ...
            **procurement_orders.role_matrix_samples(chain),  # procurement orders: procurement_order_id, part_id
            **factories_benefit.role_matrix_samples(chain),  # shop reviews: an order line, a review
            **factories_cart.role_matrix_samples(chain),  # shop orders: order, sub-order, transfer, refund
            **factories_alerts.role_matrix_samples(chain),  # alerts: an open warning
            **factories_planlag.role_matrix_samples(chain),  # alerts: an open plan-lag warning
            **factories_outreach.role_matrix_samples(chain),  # alerts: a unit's outreach about a warning
            **factories_matching.role_matrix_samples(chain),  # alerts: a demand, an offer, a match
        },
    }


def _user_for(role, world):
    from core.registry.models import RegionLevel

    if role is None:
        return None
    return factories.user_with_role(role, region=world["chain"][RegionLevel.PROVINCE])


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_role_matrix(app, client, login, world, role):
    user = _user_for(role, world)
    if user is not None:
        login(user)
    failures = []
    for rule, permission in _protected_rules(app):
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **_url_args(rule, world), _external=False)
        response = client.open(url, method=method, json={} if url.startswith("/api/") and method != "GET" else None)
        status = response.status_code
        is_api = url.startswith("/api/")
        if role is None:
            expected = "401" if is_api else "login"
            ok = status == 401 if is_api else (status == 302 and "/account/login" in response.headers["Location"])
        elif role_allows(role, permission):
            expected = "allowed"
            ok = status not in (401, 403) and status < 500 and "/account/login" not in response.headers.get(
                "Location", "")
        else:
            expected = "403"
            ok = status == 403
        if not ok:
            failures.append(f"{method} {url} as {role}: expected {expected}, got {status}")
    assert not failures, "\n".join(failures)


def test_every_role_has_an_entry_in_the_permission_table():
    from core.permissions import ROLE_PERMISSIONS

    assert set(ROLE_PERMISSIONS) == set(Role)
