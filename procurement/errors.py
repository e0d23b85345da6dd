"""Procurement's own domain errors (core.errors turns every DomainError into a 4xx answer)."""

from __future__ import annotations

from core.errors import Conflict


class UnitNotActive(Conflict):
    """The unit is pending, rejected or suspended: it cannot plan, buy or change its members."""

    code = "unit_not_active"
