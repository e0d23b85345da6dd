"""A small Elasticsearch stand-in on 127.0.0.1 for testing our backend at the HTTP boundary.

It speaks just enough of the REST API for what ``search.backends.elasticsearch`` sends —
index templates, index creation, aliases, _bulk, _search, _refresh, _settings — records
every request for the tests to inspect, and answers in Elasticsearch's response shapes
(with the ``X-Elastic-Product`` header the official client insists on). It does not
analyse text or evaluate queries: ``_search`` returns the index's documents in
``product_id`` order (honouring sort direction, size and search_after on that field), or a
canned response a test sets. It checks nothing about relevance: that needs a real cluster.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeElasticsearch:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.templates: dict[str, dict] = {}
        self.indices: dict[str, dict[str, dict]] = {}
        self.aliases: dict[str, set[str]] = {}
        self.search_response: dict | None = None  # canned answer for _search, when set
        self.fail_status: int | None = None  # answer every request with this status, when set
        self.bulk_item_errors: dict[str, tuple[int, str]] = {}  # _id → (status, error type)
        self.bulk_delay = 0.0
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeElasticsearch:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests read -------------------------------------------------------------------

    def calls(self, method: str | None = None, path_part: str = "") -> list[dict]:
        return [r for r in self.requests if (method is None or r["method"] == method) and path_part in r["path"]]

    def bulk_operations(self) -> list[tuple[str, str, dict | None]]:
        """Every bulk action received, in order: (action, _id, source or None)."""
        out = []
        for request in self.calls(None, "_bulk"):
            lines = request["body_lines"]
            i = 0
            while i < len(lines):
                action, meta = next(iter(lines[i].items()))
                if action == "delete":
                    out.append((action, meta["_id"], None))
                    i += 1
                else:
                    out.append((action, meta["_id"], lines[i + 1]))
                    i += 2
        return out

    def live_index(self, alias: str) -> str | None:
        targets = sorted(self.aliases.get(alias, ()))
        return targets[0] if targets else None

    # --- the server ------------------------------------------------------------------------

    def _resolve(self, name: str) -> list[str]:
        if name in self.aliases:
            return sorted(self.aliases[name])
        return [name] if name in self.indices else []

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status: int, body: dict | None = None) -> None:
                data = json.dumps(body if body is not None else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=9")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data) if self.command != "HEAD" else 0))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _handle(self) -> None:
                raw = self._body()
                split = urlsplit(self.path)
                text = raw.decode() if raw else ""
                record = {"method": self.command, "path": split.path, "query": parse_qs(split.query),
                          "body": None, "body_lines": []}
                if text:
                    if split.path.endswith("_bulk"):
                        record["body_lines"] = [json.loads(line) for line in text.splitlines() if line.strip()]
                    else:
                        record["body"] = json.loads(text)
                with fake.lock:
                    fake.requests.append(record)
                    if fake.fail_status:
                        return self._reply(fake.fail_status, _error("unavailable", fake.fail_status))
                status, body = fake._route(self.command, split.path, record)
                return self._reply(status, body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler

    def _route(self, method: str, path: str, record: dict) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p]
        body = record["body"] or {}
        if parts[:1] == ["_index_template"]:
            self.templates[parts[1]] = body
            return 200, {"acknowledged": True}
        if parts[:1] == ["_alias"]:
            name = parts[1]
            targets = self.aliases.get(name)
            if not targets:
                return 404, _error("aliases_not_found_exception", 404)
            return 200, {index: {"aliases": {name: {}}} for index in targets}
        if parts == ["_aliases"]:
            for action in body.get("actions", []):
                kind, spec = next(iter(action.items()))
                if kind == "add":
                    self.aliases.setdefault(spec["alias"], set()).add(spec["index"])
                elif kind == "remove":
                    self.aliases.get(spec["alias"], set()).discard(spec["index"])
            return 200, {"acknowledged": True}
        if parts[-1:] == ["_bulk"]:
            return self._bulk(record)
        if parts[-1:] == ["_search"]:
            return self._search(parts[0], body)
        if parts[-1:] == ["_refresh"]:
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if parts[-1:] == ["_settings"]:
            return 200, {"acknowledged": True}
        if len(parts) == 1 and method == "PUT":
            name = parts[0]
            if name in self.indices:
                return 400, _error("resource_already_exists_exception", 400)
            self.indices[name] = {}
            for alias in (body.get("aliases") or {}):
                self.aliases.setdefault(alias, set()).add(name)
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}
        if len(parts) == 1 and method == "DELETE":
            self.indices.pop(parts[0], None)
            for targets in self.aliases.values():
                targets.discard(parts[0])
            return 200, {"acknowledged": True}
        return 400, _error("unsupported_by_fake", 400)

    def _bulk(self, record: dict) -> tuple[int, dict]:
        if self.bulk_delay:
            time.sleep(self.bulk_delay)
        lines = record["body_lines"]
        items, errors, i = [], False, 0
        while i < len(lines):
            action, meta = next(iter(lines[i].items()))
            source = lines[i + 1] if action != "delete" else None
            i += 1 if action == "delete" else 2
            targets = self._resolve(meta["_index"])
            if not targets:
                items.append({action: {"_index": meta["_index"], "_id": meta["_id"], "status": 404,
                                       "error": {"type": "index_not_found_exception"}}})
                errors = True
                continue
            index = targets[0]
            if meta["_id"] in self.bulk_item_errors:
                status, kind = self.bulk_item_errors[meta["_id"]]
                items.append({action: {"_index": index, "_id": meta["_id"], "status": status,
                                       "error": {"type": kind, "reason": f"{kind} for document {meta['_id']}"}}})
                errors = True
                continue
            docs = self.indices[index]
            if action == "delete":
                found = docs.pop(meta["_id"], None) is not None
                items.append({action: {"_index": index, "_id": meta["_id"], "status": 200 if found else 404,
                                       "result": "deleted" if found else "not_found"}})
                continue
            created = meta["_id"] not in docs
            docs[meta["_id"]] = source
            items.append({action: {"_index": index, "_id": meta["_id"], "status": 201 if created else 200,
                                   "result": "created" if created else "updated", "_version": 1}})
        return 200, {"took": 1, "errors": errors, "items": items}

    def _search(self, name: str, body: dict) -> tuple[int, dict]:
        targets = self._resolve(name)
        if not targets:
            return 404, _error("index_not_found_exception", 404)
        if self.search_response is not None:
            return 200, self.search_response
        docs = [(int(k), v) for k, v in self.indices[targets[0]].items()]
        descending = any("desc" in json.dumps(s) for s in body.get("sort", [])[-1:])
        docs.sort(key=lambda d: d[0], reverse=descending)
        if body.get("search_after"):
            last = int(body["search_after"][-1])
            docs = [d for d in docs if (d[0] < last if descending else d[0] > last)]
        size = int(body.get("size", 10))
        wanted = body.get("_source")
        hits = []
        for product_id, source in docs[:size]:
            hit = {"_index": targets[0], "_id": str(product_id), "_score": None, "sort": [product_id]}
            if isinstance(wanted, list):
                hit["_source"] = {k: source.get(k) for k in wanted}
            hits.append(hit)
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0,
                                                                "failed": 0},
                     "hits": {"total": {"value": len(docs), "relation": "eq"}, "max_score": None, "hits": hits}}


def _error(kind: str, status: int) -> dict:
    return {"error": {"root_cause": [{"type": kind, "reason": kind}], "type": kind, "reason": kind}, "status": status}


def closed_port_url() -> str:
    """An address where nothing listens (the port was just bound and released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
