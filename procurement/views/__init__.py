"""Procurement pages: the unit workspace, people's own pages, and the administrators' pages."""

# Registers the routes (completion: plan completion pages; transparency: the public figures page).
from procurement.views import admin, completion, integrity, people, transparency, workspace  # noqa: F401
