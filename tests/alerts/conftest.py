"""Alerts tests: a world with a supplier, its member, a regional administrator and a category.

``request_context`` gives service calls a request context (Babel needs one); ``login`` clears
Flask-Login's cached user so that a test can switch users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import g

from core.registry.models import RegionLevel
from tests.shop import factories_shop

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def request_context(app, db_session):
    with app.test_request_context():
        yield


@pytest.fixture()
def login(login):
    def _login(user):
        g.pop("_login_user", None)
        return login(user)

    return _login


@dataclass
class AlertWorld:
    shop: factories_shop.World
    admin: object

    @property
    def village(self):
        return self.shop.village

    @property
    def supplier(self):
        return self.shop.supplier

    @property
    def owner(self):
        return self.shop.owner

    @property
    def category(self):
        return self.shop.category

    @property
    def county(self):
        return self.shop.chain[RegionLevel.COUNTY]

    def product(self, *, price_fen: int = 1000, shelf_life_days: int = 60, harvest_months: int = 0, **kw):
        from tests.alerts.factories_alerts import at

        kw.setdefault("listed_at", at(TODAY))
        return factories_shop.product(self.supplier, self.category, self.village, price_fen=price_fen,
                                      shelf_life_days=shelf_life_days, harvest_months=harvest_months, **kw)


@pytest.fixture()
def world(db_session):
    shop_world = factories_shop.world()
    return AlertWorld(shop=shop_world, admin=factories_shop.admin(shop_world.province))
