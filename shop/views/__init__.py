"""The shop's pages, on the ``shop`` blueprint: catalog (public), supplier workspace, administration.

Views are thin: parse the form → call a service → commit once → announce → render.
"""

from shop.views import admin, catalog, supplier_products, workspace  # noqa: F401  (each module adds its routes to shop.bp)
