"""The early-warning task through a real Celery worker on Redis (skipped when Redis is not reachable).

The worker is a separate process (``celery -A wsgi:celery_app worker``), so it cannot see the rows of
a test's rolled-back transaction. The test builds a database of its own with the app's migrations —
a temporary SQLite file, or on PostgreSQL a sibling of this run's per-process test database — seeds
it in a subprocess (committed), points the worker at it and at Redis database 13, publishes the task
with ``.delay()``, waits for the worker's result and reads the warnings the worker wrote.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.config import normalise_database_url
from tests.alerts.factories_planlag import DAY_146

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/13"  # a database no other test uses
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds for the worker to start, run the job and store its result

SEED = """
from flask_migrate import upgrade
from core import create_app
from core.extensions import db

app = create_app()
with app.app_context():
    upgrade()
    with app.test_request_context():
        from tests.alerts.factories_planlag import lag_world, plan
        world = lag_world()
        plan(world.unit)  # nothing counted: 40 points behind time progress on DAY_146
        db.session.commit()
        print(world.unit.id)
"""


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture()
def worker_database(tmp_path):
    """A migrated, seeded database the worker can share: (url, id of the lagging unit)."""
    server = os.environ.get("DATABASE_URL")
    if server:
        base = sa.engine.make_url(normalise_database_url(server))
        url = base.set(database=f"{base.database}_{os.getpid()}_worker")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            conn.exec_driver_sql(f"CREATE DATABASE \"{url.database}\" TEMPLATE template0 ENCODING 'UTF8' "
                                 "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
        rendered = url.render_as_string(hide_password=False)
    else:
        admin = None
        rendered = f"sqlite:///{tmp_path / 'worker.sqlite'}"
    try:
        # The seed runs tasks inline: nothing it does may reach the worker's queue.
        env = {**os.environ, "DATABASE_URL": rendered, "CELERY_BROKER_URL": "memory://",
               "CELERY_TASK_ALWAYS_EAGER": "1", "INSTANCE_PATH": str(tmp_path / "instance")}
        seeded = subprocess.run([sys.executable, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=TIMEOUT, check=False)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        yield rendered, int(seeded.stdout.strip().splitlines()[-1])
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            admin.dispose()


@pytest.fixture()
def worker(worker_database, tmp_path):
    """A real worker process on Redis database 13, stopped (and killed if need be) at the end."""
    import redis

    url, _unit_id = worker_database
    log = tmp_path / "worker.log"
    redis.Redis.from_url(BROKER).flushdb()  # nothing an earlier, interrupted run left on the test's database
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER,
           "INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--pool", "solo", "--loglevel",
             "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"planlag-test-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the worker's own process group (start_new_session)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture()
def publish_to_redis(monkeypatch):
    """A Celery client of its own on the worker's Redis database: the message goes through the broker
    as the beat scheduler's would, whatever broker the test run's own application uses."""
    from celery import Celery

    # Celery reads CELERY_BROKER_URL from the environment before any broker it is given (CI's second
    # pass sets it to another Redis database).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    # Not made the current app: the suite's later .delay() calls must keep going to its own broker.
    client = Celery("alerts-worker-test", broker=BROKER, backend=BROKER, set_as_current=False)
    yield client
    client.close()


def _wait_for_result(celery, task_id: str, proc, log: Path) -> dict:
    from celery.backends.redis import RedisBackend

    backend = RedisBackend(app=celery, url=BROKER)
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            meta = backend.get_task_meta(task_id)
            if meta["status"] == "SUCCESS":
                return meta["result"]
            if meta["status"] in ("FAILURE", "REVOKED"):
                pytest.fail(f"the worker failed the task: {meta.get('traceback') or meta['result']}")
            if proc.poll() is not None:
                pytest.fail(f"the worker exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"no result from the worker within {TIMEOUT} s:\n{log.read_text()[-3000:]}")
    finally:
        backend.forget(task_id)


@pytest.mark.skipif(not _redis_reachable(), reason=f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}: "
                                                   "the real-worker test needs a Redis server")
def test_a_real_worker_runs_the_early_warning_job_and_writes_plan_lag_warnings(
        worker_database, worker, publish_to_redis):
    url, unit_id = worker_database
    proc, log = worker
    # Every configuration ignores results; this one message asks the worker to keep its result.
    sent = publish_to_redis.send_task("alerts.run_early_warning", args=[DAY_146.isoformat()], ignore_result=False)
    result = _wait_for_result(publish_to_redis, sent.id, proc, log)
    assert result["run_on"] == DAY_146.isoformat() and result["created"] is True
    assert result["plan_lag_opened"] == 1

    engine = sa.create_engine(normalise_database_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT w.unit_id, w.level, w.status, w.gap_points, r.run_on, r.plan_lag_units "
                "FROM alert_plan_lag_warning w JOIN alert_run r ON r.id = w.first_run_id")).all()
            told = conn.execute(sa.text("SELECT COUNT(*) FROM alert_notification WHERE link LIKE '/alerts/plan-lag/%'")
                                ).scalar_one()
    finally:
        engine.dispose()
    assert len(rows) == 1
    unit, level, status, gap, run_on, units = rows[0]
    assert (unit, level, status, float(gap), str(run_on), units) == (unit_id, "orange", "open", 40.0, "2026-05-26", 1)
    assert told == 3  # the unit's administrator, the regional administrator over it, the platform administrator
