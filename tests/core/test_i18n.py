"""Simplified Chinese is the default language and every string has its translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_interface_string_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_gettext", "-o", str(pot), "--no-location", "core", "shop", "procurement", "search",
         "alerts"],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as fh:
        template = read_po(fh)
    with (ROOT / "translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or found.fuzzy or not (all(found.string) if isinstance(found.string, tuple) else
                                                found.string):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not missing, f"{len(missing)} strings lack a Chinese translation (make extract-messages): {missing[:20]}"


def test_pages_are_in_chinese_by_default_and_switch_to_english(app, client):
    from core.config import load_config

    # The production default (the test app reads English by default).
    assert load_config(app.instance_path)["BABEL_DEFAULT_LOCALE"] == "zh_Hans_CN"
    client.post("/language", data={"lang": "zh_Hans_CN", "next": "/account/login"})
    page = client.get("/account/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "登录" in page
    client.post("/language", data={"lang": "en", "next": "/account/login"})
    page = client.get("/account/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Log in" in page
