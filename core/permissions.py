"""Who may do what: the one table every view and API endpoint consults.

Each role maps to a set of permissions. Views declare the permission they need
with ``@require(...)``; the role matrix test walks every protected route against
every role using this same table. Row-level scope (a regional administrator's
subtree, a supplier's own products, a unit's own orders) is applied by the
services with ``core.registry.services.region_scope``, and by the domains for
their own rows.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from core.errors import wants_json


class Role(enum.StrEnum):
    CONSUMER = "consumer"  # 个人消费者
    SUPPLIER = "supplier"  # 供应商成员 (belongs to one supplier)
    UNIT_BUYER = "unit_buyer"  # 采购员 (belongs to one buyer unit)
    UNIT_APPROVER = "unit_approver"  # 审批人 (belongs to one buyer unit)
    PLATFORM_ADMIN = "platform_admin"  # 平台管理员
    REGIONAL_ADMIN = "regional_admin"  # 区域管理员 (scoped to one region subtree)


class Permission(enum.StrEnum):
    ACCOUNT = "account"  # own profile, password, API tokens
    SHOP_BUY = "shop.buy"  # cart, checkout, own orders
    SUPPLIER_WORKSPACE = "supplier.workspace"  # own supplier, products, sub-orders
    UNIT_WORKSPACE = "unit.workspace"  # own unit, procurement orders
    UNIT_APPROVE = "unit.approve"  # approve the unit's procurement orders
    ADMIN_DASHBOARD = "admin.dashboard"
    REGISTRY_VIEW = "registry.view"  # regions and households
    REGISTRY_IMPORT = "registry.import"
    ACCREDIT = "admin.accredit"  # suppliers, products, units
    PLANS_MANAGE = "admin.plans"
    ALERTS_MANAGE = "admin.alerts"
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"  # roles, regional scope
    ALERT_RULES_EDIT = "alerts.rules"  # thresholds of the early-warning job
    PAYMENTS_CONFIRM = "payments.confirm"  # confirm that a bank transfer arrived
    ALERTS_VIEW = "alerts.view"  # early warnings: a supplier its own products', an administrator its region's
    PLAN_LAG_VIEW = "alerts.plan_lag"  # plan-lag warnings: a unit's members their unit's, an administrator its region's


_ADMIN_COMMON = {
    Permission.ACCOUNT,
    Permission.ADMIN_DASHBOARD,
    Permission.REGISTRY_VIEW,
    Permission.REGISTRY_IMPORT,
    Permission.ACCREDIT,
    Permission.PLANS_MANAGE,
    Permission.ALERTS_MANAGE,
    Permission.AUDIT_VIEW,
    Permission.PAYMENTS_CONFIRM,
    Permission.ALERTS_VIEW,
    Permission.PLAN_LAG_VIEW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CONSUMER: frozenset({Permission.ACCOUNT, Permission.SHOP_BUY}),
    Role.SUPPLIER: frozenset({Permission.ACCOUNT, Permission.SUPPLIER_WORKSPACE, Permission.ALERTS_VIEW}),
    Role.UNIT_BUYER: frozenset({Permission.ACCOUNT, Permission.SHOP_BUY, Permission.UNIT_WORKSPACE,
                                Permission.PLAN_LAG_VIEW}),
    Role.UNIT_APPROVER: frozenset(
        {Permission.ACCOUNT, Permission.SHOP_BUY, Permission.UNIT_WORKSPACE, Permission.UNIT_APPROVE,
         Permission.PLAN_LAG_VIEW}
    ),
    Role.REGIONAL_ADMIN: frozenset(_ADMIN_COMMON),
    Role.PLATFORM_ADMIN: frozenset(_ADMIN_COMMON | {Permission.USERS_MANAGE, Permission.ALERT_RULES_EDIT}),
}


def role_allows(role: Role | str | None, permission: Permission) -> bool:
    if role is None:
        return False
    return permission in ROLE_PERMISSIONS.get(Role(role), frozenset())


def can(permission: Permission) -> bool:
    """True when the current user holds ``permission`` (for templates and views)."""
    return bool(current_user.is_authenticated and role_allows(current_user.role, permission))


def require(permission: Permission) -> Callable:
    """Guard a view: anonymous visitors go to log-in (401 on the API), others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if not role_allows(current_user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # read by the role-matrix test
        return wrapped

    return decorator
