"""Backend selection, by configuration only (STYLE habit 9).

``ELASTICSEARCH_URL`` set → ``ElasticsearchBackend``; unset → ``DatabaseBackend``. There is no
fallback from one to the other at run time: when the configured engine is down, search says
so (503, /readyz) instead of quietly answering from somewhere else.
"""

from __future__ import annotations

from flask import current_app

from search.backends.base import SearchBackend


def get_backend() -> SearchBackend:
    config = current_app.config
    url = (config.get("ELASTICSEARCH_URL") or "").strip()
    prefix = config.get("ELASTICSEARCH_INDEX_PREFIX") or "marketplace"
    key = ("elasticsearch", url, prefix) if url else ("database",)
    cache = current_app.extensions.setdefault("search_backends", {})
    backend = cache.get(key)
    if backend is None:
        if url:
            from search.backends.elasticsearch import ElasticsearchBackend

            backend = ElasticsearchBackend(url, prefix, refresh=config.get("ELASTICSEARCH_REFRESH", False),
                                           timeout=float(config.get("ELASTICSEARCH_TIMEOUT", 10)))
        else:
            from search.backends.database import DatabaseBackend

            backend = DatabaseBackend()
        cache[key] = backend
    return backend
