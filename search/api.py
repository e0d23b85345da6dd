"""/api/v1/search and /api/v1/search/suggest: public, in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Blueprint

from search import service
from search.schemas import SearchArgsSchema, SearchResultSchema, SuggestArgsSchema, SuggestResultSchema

blp = Blueprint("search_api", __name__, url_prefix="/api/v1", description="Product search")


@blp.route("/search")
@blp.doc(security=[])
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchResultSchema)
@blp.alt_response(422, description="Invalid parameters or cursor")
@blp.alt_response(503, description="The search engine is unreachable")
def search(args):
    """Search products on sale: hits with highlights, total, facet counts, suggestions.

    Sorted by relevance (with the key-assistance-county and urgent-sale boosts), price,
    newest or sales. Page with ``cursor=<next_cursor>``; a query that finds nothing comes
    with ``did_you_mean`` and ``related`` products.
    """
    return service.run_search(service.SearchParams(**args))


@blp.route("/search/suggest")
@blp.doc(security=[])
@blp.arguments(SuggestArgsSchema, location="query")
@blp.response(200, SuggestResultSchema)
def suggest(args):
    """As-you-type suggestions: product names, categories and places containing what was typed."""
    return {"query": args["q"], "suggestions": service.suggest(args["q"], args["limit"])}
