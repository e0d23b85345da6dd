"""Browser journeys: a real headless Chromium (Debian's) driven by Playwright against a live server.

The site is the real application on a fresh SQLite file (migrated with ``flask db upgrade`` and
loaded with ``flask demo seed``), served by werkzeug's WSGI server on 127.0.0.1 and a free port,
Celery tasks eager. Every page a journey opens is watched: a console error, an uncaught page
error, or a request to any host but the live server fails the test. Screenshots go to
``test-artifacts/journeys/<journey>/`` (one more, ``FAILED-….png``, when a test fails).

Chromium is Debian's ``chromium`` (``scripts/ensure-browser.sh``, run by ``make test``, installs
it); Playwright's own browser download is never used. Without a Chromium the journeys skip with the
reason, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "journeys"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-password-2026")


def _missing_browser() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (run scripts/ensure-browser.sh, or set CHROMIUM_PATH)"
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: a journey in a real headless Chromium (tests/browser)")


def pytest_collection_modifyitems(config, items):
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"browser journeys cannot run in CI: {reason}")
    marker = pytest.mark.skip(reason=f"BROWSER JOURNEYS SKIPPED: {reason}")
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter):
    reason = _missing_browser()
    if reason is not None:
        terminalreporter.write_sep("!", f"BROWSER JOURNEYS SKIPPED: {reason}", red=True, bold=True)
    elif ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_sep("-", "browser journeys")
        terminalreporter.write_line(f"screenshots of the browser journeys: {ARTIFACTS}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        journey = item.funcargs.get("journey") if hasattr(item, "funcargs") else None
        if journey is not None:
            journey.failure_screenshot()


# ---------------------------------------------------------------------------------------- live server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object
    host: str

    def setup(self, fn, *args, **kwargs):
        """Run ``fn`` inside the live application (test set-up that no page offers) and commit."""
        from celery import _state as celery_state

        from core.extensions import db

        previous = celery_state.get_current_app()
        self.app.extensions["celery"].set_current()  # tasks it sends run against the live server's database
        with self.app.app_context():
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.remove()
                previous.set_current()


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    reason = _missing_browser()
    if reason is not None:
        pytest.skip(f"BROWSER JOURNEYS SKIPPED: {reason}")
    from celery import _state as celery_state
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from core import create_app

    tmp = Path(tempfile.mkdtemp(prefix="marketplace-journeys-"))
    previous_instance = os.environ.get("INSTANCE_PATH")
    previous_celery = celery_state.get_current_app()
    os.environ["INSTANCE_PATH"] = str(tmp / "instance")
    port = _free_port()
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'journeys.sqlite'}",
                "BABEL_DEFAULT_LOCALE": "en",
                # The limiter object is shared by every app: keep the storage the rest of the run uses.
                "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
                "RATELIMIT_LOGIN": "1000 per minute",
                "SHOP_MEDIA_ROOT": str(tmp / "media"),
                "CELERY": {
                    "broker_url": "memory://",
                    "task_always_eager": True,
                    "task_eager_propagates": True,
                    "task_ignore_result": True,
                    "beat_schedule": {},
                },
            }
        )
    finally:
        if previous_instance is None:
            os.environ.pop("INSTANCE_PATH", None)
        else:
            os.environ["INSTANCE_PATH"] = previous_instance
        # create_app made its Celery app the default and current one: give the rest of the run its own back,
        # and make this app's Celery current only in the server's request threads (below) and in setup().
        if previous_celery is not None:
            previous_celery.set_default()
            previous_celery.set_current()
    celery_app = app.extensions["celery"]

    def serve(environ, start_response):
        celery_app.set_current()  # thread-local: each request thread sends its tasks to this app
        return app(environ, start_response)

    live = LiveServer(url=f"http://127.0.0.1:{port}", app=app, host=f"127.0.0.1:{port}")
    with app.app_context():
        upgrade()
    celery_app.set_current()
    try:
        result = app.test_cli_runner().invoke(args=["demo", "seed"])
    finally:
        previous_celery.set_current()
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", port, serve, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="journeys-live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            from core.extensions import db

            db.engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # launch() gives every run a fresh, empty profile (user-data dir) of its own.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Journey:
    """One journey's browser contexts (one per person), what they saw, and its screenshot folder."""

    name: str
    server: LiveServer
    browser: object
    folder: Path
    problems: list[str] = field(default_factory=list)
    pages: list = field(default_factory=list)
    contexts: list = field(default_factory=list)
    shots: int = 0

    def person(self, email: str | None = None):
        """A new browser context (its own cookies), logged in as ``email`` when given; returns its page."""
        context = self.browser.new_context(
            base_url=self.server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self._watch(page, email or "anonymous")
        context.on("page", lambda p: self._watch(p, email or "anonymous"))
        self.pages.append(page)
        if email:
            self.login(page, email)
        return page

    def _watch(self, page, who: str) -> None:
        def on_console(msg):
            if msg.type != "error":
                return
            # A form sent back with its errors answers 422 (the project's rule); Chromium logs that as a
            # failed load of the page itself. Any other failed resource, or 422 on a sub-resource, counts.
            if "status of 422" in msg.text and msg.location.get("url") == page.url:
                return
            self.problems.append(f"console error for {who} on {page.url}: {msg.text}")

        def on_request(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("data", "blob", "about"):
                return
            if parts.netloc != self.server.host:
                self.problems.append(f"request leaving the machine for {who} on {page.url}: {request.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error for {who} on {page.url}: {exc}"))
        page.on("request", on_request)

    def login(self, page, email: str) -> None:
        page.goto("/account/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        assert "/account/login" not in page.url, f"log-in of {email} failed: {page.url}"

    def shot(self, page, label: str) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def failure_screenshot(self) -> None:
        for index, page in enumerate(self.pages):
            if not page.is_closed():
                with contextlib.suppress(Exception):  # best effort: the failure itself is what matters
                    page.screenshot(path=str(self.folder / f"FAILED-{index}.png"), full_page=True)

    def assert_clean(self) -> None:
        """No console error, page error or request off the machine."""
        assert not self.problems, "\n".join(self.problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture()
def journey(request, browser, live_server) -> Iterator[Journey]:
    name = request.node.name.removeprefix("test_")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    j = Journey(name=name, server=live_server, browser=browser, folder=folder)
    yield j
    j.close()
