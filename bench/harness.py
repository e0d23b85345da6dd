"""``make bench``: seed, serve, load, compare with baselines, write bench/RESULTS.md.

Steps, each on the PostgreSQL database ``BENCH_DATABASE_URL`` (dropped and created again,
UTF-8, unless ``BENCH_REUSE=1``):

1. ``flask db upgrade``, then ``flask demo seed --scale BENCH_SCALE`` timed (wall clock and
   peak resident memory of the process, from ``wait4``): the seed budget's figure. Then the sizes the
   other budgets name are added to the same database: ``--lines-per-product BENCH_LINES_PER_PRODUCT``
   (2,000,000 consumer order lines at 100,000 products), ``flask alerts run`` timed at that size,
   then ``--units BENCH_UNITS`` (10,000 units with about 1,000,000 procurement order lines).
2. In this process: the baselines the database alone sets. For search and suggestions, the
   statements the database backend runs for each query are captured (a SQLAlchemy
   ``before_cursor_execute`` listener around the backend's own ``search``/``suggest``) and
   replayed on a raw connection of the same engine, timed.
3. gunicorn on a free local port (several workers, no debug, no access log) and locust, in a
   process of its own, once per scenario: search, suggestions, product and category pages
   beside /healthz (the baseline for pages).
4. Scenario hooks for what other work is still building — checkout throughput (with
   pgbench's simple-update TPS as its baseline), the completion dashboard, the early-warning
   job: each is looked up in the URL map or the CLI and measured when it is there; otherwise
   the table says "not available yet".
5. The early-warning job's growth: a second database (``<name>_growth``) seeded at BENCH_SCALE ÷ 10
   products with the same lines per product, ``flask alerts run`` timed there, and the two times compared.

Run it as ``python -m bench.harness`` from the repository root (``make bench`` does).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from bench import results
from bench.results import BUDGET_BY_KEY, Report, Row

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out"
RESULTS_PATH = ROOT / "bench" / "RESULTS.md"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"

# A realistic mix: what people type, weighted by how often (the two-character words are the
# common case; one query finds nothing and takes the "did you mean / related" path).
SEARCH_QUERIES = [
    ["脆李", 6], ["巫山", 4], ["番茄", 5], ["土豆", 5], ["茶叶", 4], ["大米", 5], ["巫山脆李", 3], ["脐橙", 3],
    ["猕猴桃", 2], ["蜂蜜", 2], ["香菇", 2], ["腊肉", 2], ["土鸡蛋", 2], ["西红柿", 2], ["绿茶", 2], ["花椒", 1],
    ["富硒大米", 1], ["奉节", 1], ["榴莲", 1],
]
SUGGEST_QUERIES = ["脆", "脆李", "巫", "巫山", "番", "番茄", "土", "土豆", "茶", "茶叶", "大", "大米", "猕猴",
                   "蜂蜜", "香菇", "腊"]
CHECKOUT_CLIENTS = 16


@dataclass(frozen=True)
class Settings:
    database_url: str
    scale: int
    duration: int
    users: int
    workers: int
    threads: int
    baseline_rounds: int
    reuse: bool
    cores: int
    broker_url: str
    units: int
    lines_per_product: int
    growth_scale: int

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        cores = os.cpu_count() or 1
        workers = int(env.get("BENCH_WORKERS") or 2 * cores)
        scale = int(env.get("BENCH_SCALE") or 100_000)
        return cls(
            database_url=env.get("BENCH_DATABASE_URL") or DEFAULT_URL,
            scale=scale,
            duration=int(env.get("BENCH_DURATION") or 30),
            users=int(env.get("BENCH_USERS") or workers),
            workers=workers,
            threads=int(env.get("BENCH_THREADS") or 1),
            baseline_rounds=int(env.get("BENCH_BASELINE_ROUNDS") or 10),
            reuse=(env.get("BENCH_REUSE") or "") in ("1", "true", "yes"),
            cores=cores,
            broker_url=env.get("BENCH_CELERY_BROKER_URL") or default_broker(),
            units=int(env.get("BENCH_UNITS") or 10_000),
            lines_per_product=int(env.get("BENCH_LINES_PER_PRODUCT") or 20),
            growth_scale=int(env.get("BENCH_GROWTH_SCALE") or max(1, scale // 10)),
        )


def default_broker(host: str = "127.0.0.1", port: int = 6379) -> str:
    """Redis as production runs it when one answers here (database 12, the bench's own), else the
    embedded broker: on SQLite every checkout's publish waits for a file lock and an fsync, which a
    production server never pays."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=0.5):
            return f"redis://{host}:{port}/12"
    except OSError:
        return ""


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- the machine -------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cores = sum(1 for line in cpuinfo.splitlines() if line.startswith("processor"))
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 "unknown")
    mem_kib = 0
    if Path("/proc/meminfo").exists():
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {"cores (/proc/cpuinfo)": f"{cores or os.cpu_count()} × {model}",
            "memory (/proc/meminfo)": f"{mem_kib / 1024 / 1024:.1f} GiB"}


def load_average() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "unknown"


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603, S607
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (with uncommitted changes)" if dirty else "")


# --- the database ------------------------------------------------------------------------------------


def psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    """Drop and create the bench database, UTF-8 with a UTF-8 LC_CTYPE (pg_trgm needs it for Chinese)."""
    import psycopg
    from psycopg import sql

    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: the bench database's name must contain 'bench'")
    parts = urlsplit(psycopg_url(url))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} "
                         f"(BENCH_DATABASE_URL): {str(exc).strip().splitlines()[-1]}") from None
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' "
                             "LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'").format(sql.Identifier(name)))


# --- processes ---------------------------------------------------------------------------------------


# The caller's own settings for these would point the bench at their services: the bench uses
# the database search backend and its own broker (BENCH_CELERY_BROKER_URL, else the embedded one).
_NOT_PASSED = ("FLASK_DEBUG", "DATABASE_URL", "ELASTICSEARCH_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
               "CELERY_TASK_ALWAYS_EAGER", "SQLALCHEMY_ECHO")


def child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
    env.update(DATABASE_URL=settings.database_url, INSTANCE_PATH=str(OUT / "instance"), FLASK_APP="wsgi",
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    if settings.broker_url:
        env["CELERY_BROKER_URL"] = settings.broker_url
    return env


def run_measured(cmd: list[str], env: dict[str, str], log_path: Path) -> tuple[float, float, int]:
    """Run ``cmd`` to the end: (wall seconds, peak resident MB of the process, exit code)."""
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)  # noqa: S603
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to the log-in page, say) is the answer, not the page it leads to


_opener = urllib.request.build_opener(_NoRedirect)


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, float]:
    """(status, milliseconds) of one GET, redirects not followed."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own local server
    started = time.perf_counter()
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, (time.perf_counter() - started) * 1000


@contextmanager
def gunicorn(settings: Settings):
    port = free_port()
    cmd = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(settings.workers),
           "--threads", str(settings.threads), "--log-level", "warning", "--error-logfile", str(OUT / "gunicorn.log"),
           "--graceful-timeout", "5", "wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(settings))  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base + "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; see {OUT / 'gunicorn.log'}")
            time.sleep(0.3)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_locust(settings: Settings, base: str, scenario: str, user_class: str, users: int, duration: int):
    """One headless locust run: (stats by name from its CSV, unrounded samples by name)."""
    prefix = OUT / scenario
    samples_path = OUT / f"{scenario}_samples.json"
    env = {**os.environ, "BENCH_PLAN": str(OUT / "plan.json"), "BENCH_SAMPLES": str(samples_path)}
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--host", base,
           "-u", str(users), "-r", str(users), "-t", f"{duration}s", "--csv", str(prefix), "--only-summary",
           "--stop-timeout", "5", "--exit-code-on-error", "0", "--loglevel", "WARNING", user_class]
    log(f"locust {scenario}: {users} users for {duration}s")
    with open(OUT / f"{scenario}.log", "w", encoding="utf-8") as fh:
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, check=True)  # noqa: S603
    stats = results.parse_locust_stats(f"{prefix}_stats.csv")
    samples = json.loads(samples_path.read_text()) if samples_path.exists() else {}
    return stats, samples


def figure(stats, samples, name: str, which: str) -> float | None:
    """Median or p95 of ``name``: from the unrounded samples when there are some, else locust's CSV."""
    values = samples.get(name) or []
    if values:
        return results.median(values) if which == "median" else results.percentile(values, 95)
    row = stats.get(name)
    if row is None:
        return None
    return row.median_ms if which == "median" else row.p95_ms


def describe(stats, name: str) -> str:
    row = stats.get(name)
    if row is None:
        return "no requests"
    return f"{row.requests:,} requests, {row.failures:,} failed"


# --- in-process: the plan and the raw-SQL baselines ------------------------------------------------


def make_app(settings: Settings):
    env = child_env(settings)
    for name in _NOT_PASSED:
        os.environ.pop(name, None)
    os.environ.update({k: v for k, v in env.items() if k in ("DATABASE_URL", "INSTANCE_PATH", "LOG_LEVEL",
                                                            "CELERY_BROKER_URL")})
    from core import create_app

    return create_app()


def prepare_broker(app) -> None:
    """Publish once before the server starts: on a fresh embedded broker the gunicorn workers
    would otherwise race to create its tables on their first publish, and one would lose."""
    from search.outbox import enqueue_drain

    with app.app_context():
        enqueue_drain()


def catalog_facts(app) -> dict[str, int]:
    import sqlalchemy as sa

    from core.extensions import db
    from search.documents import on_sale
    from shop.models import OrderLine, Product, Supplier

    with app.app_context():
        facts = {
            "products": db.session.execute(sa.select(sa.func.count()).select_from(Product)).scalar_one(),
            "on_sale": db.session.execute(sa.select(sa.func.count()).select_from(Product)
                                          .join(Supplier, Supplier.id == Product.supplier_id)
                                          .where(on_sale())).scalar_one(),
            "order_lines": db.session.execute(sa.select(sa.func.count()).select_from(OrderLine)).scalar_one(),
        }
    return facts


def build_plan(app, settings: Settings) -> dict:
    import sqlalchemy as sa

    from core.extensions import db
    from search.documents import on_sale
    from shop.models import Product, Supplier

    with app.app_context():
        on_sale_products = (sa.select(Product.id).join(Supplier, Supplier.id == Product.supplier_id)
                            .where(on_sale()))
        product_ids = list(db.session.execute(on_sale_products.order_by(sa.func.random()).limit(500)).scalars())
        category_ids = sorted(set(db.session.execute(
            sa.select(Product.category_id).join(Supplier, Supplier.id == Product.supplier_id).where(on_sale())
            .distinct()).scalars()))
    if not product_ids:
        raise SystemExit("no product on sale after the seed: nothing to benchmark")
    return {"search_queries": SEARCH_QUERIES, "suggest_queries": SUGGEST_QUERIES, "product_ids": product_ids,
            "category_ids": category_ids}


def capture_statements(engine, fn) -> list[tuple[str, object]]:
    """The statements ``fn`` sends to the database, with their parameters, as the driver got them."""
    import sqlalchemy as sa

    captured: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return captured


def replay_ms(raw_connection, statements) -> float:
    started = time.perf_counter()
    with raw_connection.cursor() as cursor:
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            if cursor.description is not None:
                cursor.fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    raw_connection.rollback()
    return elapsed


def raw_baselines(app, settings: Settings) -> dict[str, list[float]]:
    """Per request, the time the database takes for the backend's own statements, replayed raw."""
    from core.extensions import db
    from search import service
    from search import text as tx
    from search.backends import get_backend
    from search.backends.base import SearchQuery

    samples: dict[str, list[float]] = {"search": [], "suggest": []}
    with app.app_context():
        backend = get_backend()
        if backend.name != "database":
            raise SystemExit("the bench measures the database backend: unset ELASTICSEARCH_URL")
        engine = db.engine
        month = service.current_month()
        search_sets = {}

        def backend_part(query: SearchQuery) -> None:
            # What run_search asks the backend for: a page, and related products when nothing matched.
            if backend.search(query).total == 0 and query.terms:
                backend.related(query, service.RELATED_LIMIT)

        for q, _ in SEARCH_QUERIES:
            query = SearchQuery(terms=tuple(tx.parse_terms(q)), month=month, size=service.PER_PAGE)
            search_sets[q] = capture_statements(engine, lambda query=query: backend_part(query))
        suggest_sets = {}
        for q in SUGGEST_QUERIES:
            terms = tuple(tx.parse_terms(q))[:3]
            suggest_sets[q] = capture_statements(engine, lambda terms=terms: backend.suggest(terms,
                                                                                            service.SUGGEST_LIMIT))
        db.session.rollback()
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            mix = [q for q, weight in SEARCH_QUERIES for _ in range(weight)]
            for round_ in range(settings.baseline_rounds + 1):  # the first round warms caches, untimed
                for q in mix:
                    ms = replay_ms(driver, search_sets[q])
                    if round_:
                        samples["search"].append(ms)
                for q in SUGGEST_QUERIES:
                    ms = replay_ms(driver, suggest_sets[q])
                    if round_:
                        samples["suggest"].append(ms)
        finally:
            raw.close()
    return samples


# --- scenario hooks for what is still being built ---------------------------------------------------


def find_rules(app, *, words: tuple[str, ...], method: str) -> list:
    found = []
    for rule in app.url_map.iter_rules():
        text = f"{rule.endpoint} {rule.rule}".lower()
        if method in (rule.methods or ()) and any(w in text for w in words):
            found.append(rule)
    return found


def checkout_endpoint(app) -> str | None:
    """SCENARIO HOOK: a JSON endpoint that places an order (POST /api/v1/orders or .../checkout)."""
    for rule in find_rules(app, words=("checkout", "/api/v1/orders"), method="POST"):
        if rule.rule.startswith("/api/") and not rule.arguments and "webhook" not in rule.rule:
            return rule.rule
    return None


def api_tokens(app, role, count: int) -> list[str]:
    import sqlalchemy as sa

    from core.accounts import services
    from core.accounts.models import User
    from core.extensions import db

    with app.app_context():
        users = list(db.session.execute(sa.select(User).where(User.role == role).order_by(User.id).limit(count))
                     .scalars())
        tokens = [services.issue_api_token(user, "bench") for user in users]
        db.session.commit()
    return tokens


def pgbench_tps(settings: Settings) -> tuple[float | None, str]:
    """pgbench's built-in simple-update script (-N) with 16 clients on the same server."""
    pgbench = shutil.which("pgbench")
    if not pgbench:
        return None, "pgbench not installed"
    import psycopg
    from psycopg import sql

    parts = urlsplit(psycopg_url(settings.database_url))
    name = database_name(settings.database_url) + "_pgbench"
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(parts._replace(path="/" + name))
    with open(OUT / "pgbench.log", "w", encoding="utf-8") as fh:
        init = [pgbench, "-i", "-q", "-s", "16", url]
        subprocess.run(init, stdout=fh, stderr=subprocess.STDOUT, check=True)  # noqa: S603
        done = subprocess.run([pgbench, "-N", "-c", str(CHECKOUT_CLIENTS), "-j", str(settings.cores),  # noqa: S603
                               "-T", str(settings.duration), url], capture_output=True, text=True, check=True)
        fh.write(done.stdout + done.stderr)
    tps = next((float(line.split("=")[1].split()[0]) for line in done.stdout.splitlines()
                if line.startswith("tps =")), None)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return tps, "pgbench -N (simple-update), 16 clients, scale 16"


def checkout_rows(app, settings: Settings, base: str | None) -> list[Row]:
    rate = Row(BUDGET_BY_KEY["checkout_rate"])
    oversell = Row(BUDGET_BY_KEY["checkout_oversell"])
    tps, how = pgbench_tps(settings)
    rate.baseline, rate.baseline_label = tps, ("pgbench -N" if tps is not None else how)
    url = checkout_endpoint(app)
    if url is None or base is None:
        rate.note = oversell.note = "not available yet (no JSON order-create endpoint in the URL map)"
        return [rate, oversell]
    import sqlalchemy as sa

    from core.extensions import db
    from core.permissions import Role
    from search.documents import on_sale
    from shop.models import Order, OrderLine, Product, Supplier

    def candidates(order_by, limit: int) -> dict[int, int]:
        with app.app_context():
            return dict(db.session.execute(
                sa.select(Product.id, Product.stock).join(Supplier, Supplier.id == Product.supplier_id)
                .where(on_sale(), Product.stock > 0, Product.min_order_qty <= 1)
                .order_by(*order_by).limit(limit)).all())

    tokens = api_tokens(app, Role.CONSUMER, CHECKOUT_CLIENTS)

    def race(scenario: str, products: dict[int, int], duration: int):
        """16 clients buying one or two of ``products`` for ``duration`` s; what was placed and sold."""
        with app.app_context():
            started_at = db.session.execute(sa.select(sa.func.now())).scalar_one()
        plan = json.loads((OUT / "plan.json").read_text())
        plan["checkout"] = {"url": url, "tokens": tokens, "product_ids": sorted(products)}
        (OUT / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
        stats, _ = run_locust(settings, base, scenario, "CheckoutUser", CHECKOUT_CLIENTS, duration)
        with app.app_context():
            placed, first, last = db.session.execute(
                sa.select(sa.func.count(), sa.func.min(Order.created_at), sa.func.max(Order.created_at))
                .where(Order.created_at >= started_at)).one()
            ordered = dict(db.session.execute(
                sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity))
                .where(OrderLine.product_id.in_(products), OrderLine.created_at >= started_at)
                .group_by(OrderLine.product_id)).all())
            left = dict(db.session.execute(
                sa.select(Product.id, Product.stock).where(Product.id.in_(products))).all())
        return stats, placed, first, last, ordered, left

    # The rate: products with stock to spare, so that every request can become an order.
    plenty = candidates((Product.stock.desc(), Product.id), 200)
    stats, placed, first, last, _ordered, _left = race("checkout", plenty, settings.duration)
    # Orders per second over the span in which they were placed (locust's start-up and stop are outside it).
    span = (last - first).total_seconds() if placed > 1 else 0
    rate.measured = placed / span if span > 0 else placed / settings.duration
    rate.extra = f"{placed:,} orders on the {len(plenty)} products with the most stock; " + describe(stats, "checkout")
    # Overselling: the same clients race for the lowest stock until it runs out.
    scarce = candidates((Product.stock, Product.id), 50)
    _stats, sold, *_, ordered, left = race("checkout-race", scarce, min(settings.duration, 20))
    if not sold:
        oversell.note = "no order placed: see bench/out/checkout-race_failures.csv"
        return [rate, oversell]
    oversell.measured = sum(max(0, int(ordered.get(p, 0)) - stock) for p, stock in scarce.items()) + sum(
        -s for s in left.values() if s < 0)
    sold_out = sum(1 for s in left.values() if s == 0)
    oversell.extra = f"{len(scarce)} lowest-stock products raced for, {sold_out} sold out, {sold:,} orders"
    return [rate, oversell]


def dashboard_row(app, base: str | None) -> Row:
    """SCENARIO HOOK: the completion dashboard and unit ranking, timed as the platform administrator.

    Every GET route without URL arguments whose endpoint or path says completion, ranking or
    lagging (spreadsheet exports left out) that answers the administrator with a 200 is timed;
    the slowest median is the figure, since the budget holds for each of them.
    """
    import sqlalchemy as sa

    row = Row(BUDGET_BY_KEY["dashboard"])
    rules = [r for r in find_rules(app, words=("completion", "ranking", "lagging"), method="GET")
             if not r.arguments and not r.rule.endswith((".xlsx", ".csv"))]
    if not rules or base is None:
        row.note = "not available yet (no completion dashboard in the URL map)"
        return row
    from core.extensions import db
    from core.permissions import Role

    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
        units = db.session.execute(sa.text("SELECT count(*) FROM buyer_unit")).scalar_one() \
            if "buyer_unit" in tables else 0
        line_tables = [t for t in tables if "procurement" in t and "line" in t]
        lines = sum(db.session.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()  # noqa: S608
                    for t in line_tables)
    row.at = f"{units:,} units, {lines:,} procurement order lines"
    if units < 10_000 or lines < 1_000_000:
        row.below_scale = "below 10,000 units and 1,000,000 lines"
    tokens = api_tokens(app, Role.PLATFORM_ADMIN, 1)
    headers = {"Authorization": f"Bearer {tokens[0]}"} if tokens else {}
    answered = {rule.rule: get(base + rule.rule, headers)[0] for rule in rules}
    timed = [path for path, status in answered.items() if status == 200]
    if not timed:
        row.note = "present but no route answered the administrator with 200: " + ", ".join(
            f"{path} {status}" for path, status in answered.items())
        return row
    medians = {path: statistics.median(get(base + path, headers)[1] for _ in range(20)) for path in timed}
    row.measured = max(medians.values())
    row.extra = "slowest of " + ", ".join(f"{path} {ms:.0f} ms" for path, ms in medians.items())
    return row


def database_facts(url: str) -> dict[str, int]:
    """Products, order lines by kind, and buyer units in the database at ``url`` (plain SQL, no app)."""
    import psycopg

    with psycopg.connect(psycopg_url(url), connect_timeout=10) as conn:
        products = conn.execute("SELECT count(*) FROM product").fetchone()[0]
        lines = dict(conn.execute("SELECT o.kind, count(*) FROM order_line l JOIN sub_order s ON s.id = l.sub_order_id "
                                  "JOIN shop_order o ON o.id = s.order_id GROUP BY o.kind").fetchall())
        units = conn.execute("SELECT count(*) FROM buyer_unit").fetchone()[0]
    return {"products": products, "order_lines": sum(lines.values()), "consumer_lines": lines.get("consumer", 0),
            "procurement_lines": lines.get("procurement", 0), "units": units}


@dataclass
class JobRun:
    """One timed ``flask alerts run`` on one database."""

    facts: dict[str, int]
    seconds: float | None = None
    peak_mb: float | None = None
    note: str = ""

    @property
    def at(self) -> str:
        return f"{self.facts['products']:,} products, {self.facts['order_lines']:,} order lines"


def alerts_run(settings: Settings, url: str, name: str) -> JobRun:
    """SCENARIO HOOK: ``flask alerts run`` on the database at ``url``, timed with its peak memory."""
    import psycopg

    log(f"flask alerts run ({database_name(url)})")
    try:
        job = JobRun(database_facts(url))
    except psycopg.OperationalError:  # BENCH_REUSE=1 without a growth database seeded earlier
        return JobRun({"products": 0, "order_lines": 0}, note=f"not measured: no database {database_name(url)}")
    log_path = OUT / f"alerts-run-{name}.log"
    seconds, peak_mb, code = run_measured([str(BIN / "flask"), "alerts", "run"],
                                          {**child_env(settings), "DATABASE_URL": url}, log_path)
    if code != 0:
        job.note = f"`flask alerts run` failed (exit {code}; bench/out/{log_path.name})"
    elif "already run" in log_path.read_text(encoding="utf-8"):
        # The job runs once a day per database: a reused database has today's run already.
        job.note = "not re-measured: the job had already run today on this database (BENCH_REUSE=1)"
    else:
        job.seconds, job.peak_mb = seconds, peak_mb
    return job


def warning_rows(full: JobRun | None, small: JobRun | None) -> list[Row]:
    """The job's time and memory at the budget's size, and its growth from the small database to the full one."""
    time_row, memory_row = Row(BUDGET_BY_KEY["warning_time"]), Row(BUDGET_BY_KEY["warning_memory"])
    growth = Row(BUDGET_BY_KEY["warning_growth"])
    if full is None:
        time_row.note = memory_row.note = growth.note = "not available yet (no `flask alerts run`)"
        return [time_row, memory_row, growth]
    for row in (time_row, memory_row):
        row.at, row.products, row.note = full.at, full.facts["products"], full.note
        if full.facts["order_lines"] < 2_000_000:
            row.below_scale = "below 2,000,000 order lines"
    time_row.measured, memory_row.measured = full.seconds, full.peak_mb
    if small is None:
        growth.note = "not measured (BENCH_GROWTH_SCALE=0)"
    elif small.seconds is None or full.seconds is None:
        growth.note = small.note or full.note
    else:
        # Linear growth: the time grows by no more than the number of products does.
        ratio = full.facts["products"] / small.facts["products"]
        growth.budget = replace(growth.budget, limit=ratio, budget=f"≤ {ratio:.2f}× (linear)")
        growth.measured = full.seconds / small.seconds
        growth.at = f"{small.facts['products']:,} → {full.facts['products']:,} products"
        growth.products = full.facts["products"]
        growth.extra = (f"{small.seconds:.1f} s at {small.at} → {full.seconds:.1f} s; peak memory "
                        f"{small.peak_mb:,.0f} → {full.peak_mb:,.0f} MB")
    return [time_row, memory_row, growth]


def seed_data(settings: Settings, url: str, name: str, scale: int, *options: str) -> tuple[float, float]:
    """``flask demo seed --scale scale options…`` on ``url``: (seconds, peak MB); a failure stops the bench."""
    cmd = [str(BIN / "flask"), "demo", "seed", "--scale", str(scale), *options]
    log(" ".join(cmd[1:]) + f" ({database_name(url)})")
    seconds, peak_mb, code = run_measured(cmd, {**child_env(settings), "DATABASE_URL": url}, OUT / f"{name}.log")
    if code != 0:
        raise SystemExit(f"the demo seed failed (exit {code}); see {OUT / f'{name}.log'}")
    return seconds, peak_mb


def fresh_database(settings: Settings, url: str) -> None:
    log(f"recreating {database_name(url)}")
    recreate_database(url)
    log("flask db upgrade")
    subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT,  # noqa: S603
                   env={**child_env(settings), "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL)


def growth_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database_name(url)}_growth"))


def _broker_label(url: str) -> str:
    if not url:
        return "embedded (SQLite)"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}{parts.path}"  # never the password


# --- the run ---------------------------------------------------------------------------------------------


def main() -> int:
    settings = Settings.from_env()
    load_at_start = load_average()
    if OUT.exists():
        for path in OUT.iterdir():
            if path.is_file():
                path.unlink()
    (OUT / "instance").mkdir(parents=True, exist_ok=True)
    for path in (OUT / "instance").glob("celery-*.sqlite"):  # the embedded broker's undrained messages
        path.unlink()
    if settings.broker_url.startswith("redis://"):  # the last run's undrained messages on the bench's database
        import redis

        redis.Redis.from_url(settings.broker_url).flushdb()
    notes: list[str] = []
    seed = Row(BUDGET_BY_KEY["seed"], products=settings.scale, at=f"{settings.scale:,} products")
    lines_option = ("--lines-per-product", str(settings.lines_per_product))
    added: list[str] = []  # what adding the budgets' sizes took, for the notes
    if settings.reuse:
        seed.note = "not re-run (BENCH_REUSE=1)"
    else:
        fresh_database(settings, settings.database_url)
        seconds, peak_mb = seed_data(settings, settings.database_url, "seed", settings.scale)
        seed.measured, seed.extra = seconds, f"peak {peak_mb:,.0f} MB"
        seconds, _ = seed_data(settings, settings.database_url, "seed-lines", settings.scale, *lines_option)
        added.append(f"{settings.lines_per_product} order lines per product {seconds:.0f} s")

    app = make_app(settings)
    group = app.cli.commands.get("alerts")
    has_job = group is not None and "run" in getattr(group, "commands", {})
    # The job at the budget's size (before the procurement lines are added, which it does not need).
    full_job = alerts_run(settings, settings.database_url, "full") if has_job else None
    if not settings.reuse:
        seconds, _ = seed_data(settings, settings.database_url, "seed-units", settings.scale, *lines_option,
                               "--units", str(settings.units))
        added.append(f"{settings.units:,} units with their procurement orders {seconds:.0f} s")
    small_job = None
    if has_job and settings.growth_scale:
        small_url = growth_url(settings.database_url)
        if not settings.reuse:
            fresh_database(settings, small_url)
            seconds, _ = seed_data(settings, small_url, "seed-growth", settings.growth_scale, *lines_option)
            added.append(f"the {settings.growth_scale:,}-product database {seconds:.0f} s")
        small_job = alerts_run(settings, small_url, "growth")

    facts = catalog_facts(app)
    at = f"{facts['products']:,} products ({facts['on_sale']:,} on sale)"
    plan = build_plan(app, settings)
    (OUT / "plan.json").write_text(json.dumps(plan, ensure_ascii=False))
    log("raw-SQL baselines")
    raw = raw_baselines(app, settings)

    prepare_broker(app)
    rows: dict[str, Row] = {}
    with gunicorn(settings) as base:
        for path in ("/healthz", "/api/v1/search?q=脆李", "/api/v1/search/suggest?q=脆",
                     f"/shop/product/{plan['product_ids'][0]}", f"/shop/category/{plan['category_ids'][0]}"):
            for _ in range(settings.workers * 3):  # every worker imports and connects before the clock runs
                get(base + quote(path, safe="/?=&"))
        stats, samples = run_locust(settings, base, "search", "SearchUser", settings.users, settings.duration)
        for key, which in (("search_median", "median"), ("search_p95", "p95")):
            raw_figure = results.median(raw["search"]) if which == "median" else results.percentile(raw["search"], 95)
            rows[key] = Row(BUDGET_BY_KEY[key], measured=figure(stats, samples, "/api/v1/search", which), at=at,
                            products=facts["products"], baseline=raw_figure, baseline_label="raw SQL",
                            extra=describe(stats, "/api/v1/search") if which == "median" else "")
        stats, samples = run_locust(settings, base, "suggest", "SuggestUser", settings.users, settings.duration)
        rows["suggest_median"] = Row(BUDGET_BY_KEY["suggest_median"], at=at, products=facts["products"],
                                     measured=figure(stats, samples, "/api/v1/search/suggest", "median"),
                                     baseline=results.median(raw["suggest"]), baseline_label="raw SQL",
                                     extra=describe(stats, "/api/v1/search/suggest"))
        stats, samples = run_locust(settings, base, "pages", "PageUser", settings.users, settings.duration)
        healthz = figure(stats, samples, "/healthz", "median")
        for key, name in (("product_median", "product page"), ("category_median", "category page")):
            rows[key] = Row(BUDGET_BY_KEY[key], measured=figure(stats, samples, name, "median"), at=at,
                            products=facts["products"], baseline=healthz, baseline_label="/healthz",
                            extra=describe(stats, name))
        log("checkout hook")
        checkout = checkout_rows(app, settings, base)
        log("dashboard hook")
        dashboard = dashboard_row(app, base)
    warnings = warning_rows(full_job, small_job)
    data = database_facts(settings.database_url)

    ordered = [rows["search_median"], rows["search_p95"], rows["suggest_median"], rows["product_median"],
               rows["category_median"], *checkout, dashboard, *warnings, seed]
    notes += [
        f"Load: locust {settings.users} users with no wait (closed loop) for {settings.duration} s per scenario, "
        f"gunicorn {settings.workers} workers × {settings.threads} thread(s), PostgreSQL at "
        f"{urlsplit(settings.database_url).hostname}; locust, gunicorn and the harness share this machine.",
        "Search and suggestion baselines: the database backend's own statements for the same queries, captured "
        f"with a SQLAlchemy event and replayed on a raw connection of the same engine, one at a time, "
        f"{settings.baseline_rounds} rounds of the same query mix. Page baseline: /healthz through the same server.",
        f"Data for search, pages, checkout and the dashboard: {facts['products']:,} products "
        f"({facts['on_sale']:,} on sale), {data['consumer_lines']:,} consumer and {data['procurement_lines']:,} "
        f"procurement order lines, {data['units']:,} buyer units. The seed figure is the default "
        f"`flask demo seed --scale {settings.scale}` alone; the budgets' sizes were added to the same database "
        "afterwards (`--lines-per-product`, then `--units`)" + (f": {'; '.join(added)}." if added else "."),
        "The early-warning job ran after the lines were added and before the procurement orders were; its growth "
        f"row compares it with a run on a database of its own at {settings.growth_scale:,} products and the same "
        "lines per product (the ratio of times against the ratio of products: linear or better is within).",
        "The machine is shared with other engineers running tests: every figure is noisy (see the load average).",
    ]
    smoke = facts["products"] < 100_000
    run_info = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "commit": git_commit(),
        "settings": f"BENCH_SCALE={settings.scale}, BENCH_LINES_PER_PRODUCT={settings.lines_per_product}, "
                    f"BENCH_UNITS={settings.units}, BENCH_GROWTH_SCALE={settings.growth_scale}, "
                    f"BENCH_DURATION={settings.duration}, "
                    f"BENCH_USERS={settings.users}, BENCH_WORKERS={settings.workers}, "
                    f"broker {_broker_label(settings.broker_url)}",
    }
    machine = {**machine_info(),
               "load average (/proc/loadavg, 1/5/15 min)": f"{load_at_start} at the start, {load_average()} at the end"}
    report = Report(rows=ordered, machine=machine, run=run_info, smoke=smoke, notes=notes)
    text = results.write(RESULTS_PATH, report)
    print(text)
    log(f"written {RESULTS_PATH.relative_to(ROOT)}; raw output in {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
