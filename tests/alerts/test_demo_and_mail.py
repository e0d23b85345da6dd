"""The job on the demo data, and e-mail when SMTP is configured."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from alerts import job
from alerts.models import Notification, Warning, WarningStatus
from core.accounts.models import User
from core.demo import SeedContext, run_seeders
from core.demo_core import CORE_SEEDER
from core.extensions import db
from shop.models import Product, SupplierMember
from tests.alerts.conftest import TODAY
from tests.alerts.factories_alerts import lot
from tests.factories import PASSWORD_HASH


def test_the_demo_data_opens_warnings_of_several_levels_and_tells_the_supplier(app, db_session, monkeypatch):
    monkeypatch.setattr("core.accounts.models.generate_password_hash", lambda password: PASSWORD_HASH)
    run_seeders([CORE_SEEDER, *app.extensions["demo_seeders"]],
                SeedContext(rng=random.Random(20260701), password="demo-password"))
    outcome = job.run()
    assert outcome.created and outcome.run.opened > 0
    shown = db.session.execute(sa.select(Warning.level, Warning.product_id).where(
        Warning.status == WarningStatus.OPEN)).all()
    assert len({level for level, _p in shown}) >= 2
    urgent = set(db.session.execute(sa.select(Product.id).where(Product.is_urgent_sale)).scalars())
    assert {p for _l, p in shown} <= urgent
    told = set(db.session.execute(sa.select(Notification.user_id)).scalars())
    regional = set(db.session.execute(sa.select(User.id).where(User.role == "regional_admin")).scalars())
    assert told & regional
    members = set(db.session.execute(sa.select(SupplierMember.user_id).join(
        Product, Product.supplier_id == SupplierMember.supplier_id).where(Product.id.in_({p for _l, p in shown})))
        .scalars())
    assert members <= told  # the demo gives log-ins to one supplier only; its members are told when it is warned


def test_e_mail_goes_out_after_the_commit_when_smtp_is_configured(app, world, monkeypatch):
    sent = []
    monkeypatch.setattr("core.mail.send_mail", lambda to, subject, body: sent.append((to, subject, body)))
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.test")
    p = world.product(price_fen=10_000)
    lot(p, 200, TODAY + timedelta(days=12))
    job.run(TODAY)
    assert {to for to, _s, _b in sent} == {world.owner.email, world.admin.email}
    assert all("/alerts/" in body and p.name in body for _t, _s, body in sent)


def test_no_e_mail_without_smtp(app, world, monkeypatch):
    sent = []
    monkeypatch.setattr("core.mail.send_mail", lambda *a: sent.append(a))
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    p = world.product(price_fen=10_000)
    lot(p, 200, TODAY + timedelta(days=12))
    job.run(TODAY)
    assert sent == []
