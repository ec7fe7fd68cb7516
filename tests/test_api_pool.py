"""The connection pool that ASGI servers need (VA_DB_POOL): the settings it produces work against the real
database, in a fresh process, and concurrent threads share a bounded number of server connections."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.workers import test_database_url as database_url

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, threading
from django.db import connection, connections
from django.conf import settings

def work():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pids.add(cursor.fetchone()[0])
    connections.close_all()  # back to the pool, as at the end of a request

pids = set()
threads = [threading.Thread(target=work) for _ in range(40)]
for t in threads: t.start()
for t in threads: t.join()
db = settings.DATABASES["default"]
print(json.dumps({"conn_max_age": db["CONN_MAX_AGE"], "pool": db["OPTIONS"].get("pool"), "backends": len(pids)}))
"""


def test_pooled_database_settings_bound_the_connections(db):
    env = {**os.environ, "DATABASE_URL": database_url(), "VA_DB_POOL": "1", "VA_DB_POOL_MAX": "4"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["conn_max_age"] == 0 and report["pool"]["max_size"] == 4
    assert 1 <= report["backends"] <= 4  # 40 threads, at most 4 server connections
