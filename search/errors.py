"""Search's domain errors (turned into HTTP answers by core.errors)."""

from __future__ import annotations

from core.errors import DomainError, ValidationFailed


class SearchUnavailable(DomainError):
    """The configured search engine cannot be reached or refused the request as a whole.

    The message shown to people is generic; the engine's own error goes to the log only.
    """

    status = 503
    code = "search_unavailable"


class InvalidCursor(ValidationFailed):
    """A pagination cursor that this search did not hand out (or another sort's)."""


def invalid_cursor() -> InvalidCursor:
    from flask_babel import gettext as _

    return InvalidCursor(_("This results link is no longer valid. Please start the search again."), field="cursor")
