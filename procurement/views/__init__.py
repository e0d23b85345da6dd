"""Procurement pages: the unit workspace, people's own pages, and the administrators' pages."""

from procurement.views import admin, people, workspace  # noqa: F401  (registers the routes)
