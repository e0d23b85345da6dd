"""The shop's settings, read from the environment (listed in the README)."""

from __future__ import annotations

import os

from flask import Flask


def load_settings(app: Flask) -> None:
    env = os.environ
    app.config.setdefault("SHOP_MEDIA_ROOT", env.get("SHOP_MEDIA_ROOT") or "")  # empty: <instance>/media
    app.config.setdefault("SHOP_UNPAID_ORDER_MINUTES", int(env.get("SHOP_UNPAID_ORDER_MINUTES") or 30))
    app.config.setdefault("SHOP_AUTO_RECEIVE_DAYS", int(env.get("SHOP_AUTO_RECEIVE_DAYS") or 10))
    app.config.setdefault("SHOP_COMPLETE_AFTER_DAYS", int(env.get("SHOP_COMPLETE_AFTER_DAYS") or 7))
    app.config.setdefault("STRIPE_PAYMENT_METHODS", env.get("STRIPE_PAYMENT_METHODS") or "card,alipay,wechat_pay")
    # Shown to buyers who pay by bank transfer (对公转账).
    app.config.setdefault("BANK_ACCOUNT_NAME", env.get("BANK_ACCOUNT_NAME") or "消费帮扶平台运营有限公司")
    app.config.setdefault("BANK_NAME", env.get("BANK_NAME") or "中国农业银行重庆分行营业部")
    app.config.setdefault("BANK_ACCOUNT_NUMBER", env.get("BANK_ACCOUNT_NUMBER") or "31010 0000 0000 0000")
    schedule = app.config["CELERY"].setdefault("beat_schedule", {})
    schedule.setdefault("shop-expire-unpaid-orders", {"task": "shop.expire_unpaid_orders", "schedule": 300.0})
    schedule.setdefault("shop-advance-orders", {"task": "shop.advance_orders", "schedule": 3600.0})
