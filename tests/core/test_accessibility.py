"""Every page a role can open meets the basics of WCAG 2.1 AA that a machine can check:
a language, one main heading, a label for every field, a text alternative for every image,
and no asset loaded from another host."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from core.permissions import Role
from tests import factories


class _PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.labels_for: set[str] = set()
        self.fields: list[dict] = []
        self.images_without_alt: list[str] = []
        self.external: list[str] = []
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            kind = (a.get("type") or "").lower()
            if kind not in ("hidden", "submit", "button", "reset", "image"):
                self.fields.append({**a, "_wrapped": self._label_depth > 0, "_tag": tag})
        elif tag == "img" and "alt" not in a:
            self.images_without_alt.append(a.get("src", "?"))
        for attr in ("src", "href"):
            value = a.get(attr) or ""
            if tag in ("script", "img", "link", "iframe") and value.startswith(("http://", "https://", "//")):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1


def _pages(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api/", "/static")):
            if rule.endpoint.startswith("health.") or rule.rule.endswith((".csv", ".xlsx", ".json", ".pdf")):
                continue
            yield rule.rule


@pytest.mark.parametrize("role", [None, Role.CONSUMER, Role.SUPPLIER, Role.UNIT_BUYER, Role.PLATFORM_ADMIN])
def test_pages_have_language_heading_labels_and_alt_text(app, client, login, db_session, role):
    if role is not None:
        login(factories.user_with_role(role))
    problems = []
    for path in _pages(app):
        response = client.get(path)
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        audit = _PageAudit()
        audit.feed(response.get_data(as_text=True))
        if audit.lang not in ("zh-CN", "en"):
            problems.append(f"{path}: <html lang> is {audit.lang!r}")
        if audit.h1 != 1:
            problems.append(f"{path}: {audit.h1} <h1> headings")
        for f in audit.fields:
            labelled = f["_wrapped"] or f.get("id") in audit.labels_for or f.get("aria-label") or f.get(
                "aria-labelledby")
            if not labelled:
                problems.append(f"{path}: <{f['_tag']} name={f.get('name')!r}> has no label")
        problems += [f"{path}: <img src={src!r}> has no alt" for src in audit.images_without_alt]
        problems += [f"{path}: loads {url} from another host" for url in audit.external]
    assert not problems, "\n".join(problems)
