"""Run real Celery workers against the test database and the session's broker."""

import os
import subprocess
import sys
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
def celery_worker(queues: str = "default", extra_env: dict | None = None):
    """A worker process on `queues`. Messages left by earlier tests (whose rows were rolled back) are
    purged first."""
    from va_site.celery import app

    app.control.purge()
    env = {**os.environ, "DATABASE_URL": test_database_url(), **(extra_env or {})}
    command = [sys.executable, "-m", "celery", "-A", "va_site", "worker", "-Q", queues, "-P", "solo"]
    command += ["--without-gossip", "--without-mingle", "--loglevel", "INFO", "-n", f"test-{time.time_ns()}@%h"]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
