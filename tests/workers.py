"""Run real Celery workers against the test database and the session's broker."""

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database the tests run against (test_va), for child processes."""
    s = connection.settings_dict
    host = quote(s["HOST"] or "", safe="")
    auth = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{s['NAME']}"


@contextmanager
def celery_worker(queues: str = "default", extra_env: dict | None = None, purge: bool = True):
    """A worker process on `queues`. With `purge`, messages left by earlier tests (whose rows were
    rolled back) are dropped first, so enqueue a test's own tasks after entering."""
    from va_site.celery import app

    if purge:
        app.control.purge()
    env = {**os.environ, "DATABASE_URL": test_database_url(), **(extra_env or {})}
    command = [sys.executable, "-m", "celery", "-A", "va_site", "worker", "-Q", queues, "-P", "solo"]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"test-{time.time_ns()}@%h"]
    # Output goes to a file, never an unread pipe (a full pipe blocks the worker mid-task).
    log = tempfile.NamedTemporaryFile("w+", prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log_path = log.name
    try:
        yield proc
    except BaseException:
        log.flush()
        print(f"--- worker log ({log.name}) ---\n" + Path(log.name).read_text()[-6000:])
        raise
    finally:
        stop_process(proc)


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> bool:
    """SIGTERM, then SIGKILL after `timeout` seconds; False when it had to be killed."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False
