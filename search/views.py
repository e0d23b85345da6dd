"""The search page: GET only, works without JavaScript; search.js adds suggestions as you type."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from search import bp, labels, service
from search.backends.base import SORTS
from search.schemas import SearchArgsSchema
from search.text import MAX_QUERY_LENGTH

# Query-string names of the filters; the page and the API use the same ones.
FILTERS = ("category", "region", "certification", "price", "supplier_type", "in_season", "key_county", "urgent")


@bp.get("/")
def search_page():
    # Empty form fields ("category=") mean "not chosen".
    raw = {k: v for k, v in request.args.items() if v != ""}
    try:
        args = SearchArgsSchema().load(raw)
    except ValidationError as err:
        message = _("The query is too long: at most %(n)d characters.", n=MAX_QUERY_LENGTH) if "q" in err.messages \
            else _("Some search options are invalid: %(names)s.", names=", ".join(sorted(err.messages)))
        return render_template("search/search.html", result=None, args={"q": raw.get("q", "")[:MAX_QUERY_LENGTH]},
                               error=message, link=_linker({}), sorts=_sorts()), 422
    result = service.run_search(service.SearchParams(**args))
    return render_template("search/search.html", result=result, args=args, error=None, link=_linker(args),
                           sorts=_sorts())


def _sorts():
    return [(key, labels.SORT[key]) for key in SORTS]


def _linker(args: dict):
    """``link(name=value, ...)``: this search with some parameters changed (None removes one).
    Changing anything starts again from the first page."""
    base = {k: v for k, v in args.items() if k in (*FILTERS, "q", "sort") and v not in (None, "", False)}
    if base.get("sort") == "relevance":
        base.pop("sort")

    def link(**changes) -> str:
        params = dict(base)
        for key, value in changes.items():
            if value is None or value is False:
                params.pop(key, None)
            else:
                params[key] = 1 if value is True else value
        return url_for("search.search_page", **params)

    return link
