"""Early pytest plugin (`-p tests.stack`): real PostgreSQL and Valkey for the whole test session.

It runs at import, before pytest-django reads the settings, because settings need the URLs.
DATABASE_URL / REDIS_URL from the environment win; otherwise the embedded servers start, with the
PostgreSQL data under var/test-pg (kept between runs; pytest-django creates and drops test_va) and a
throw-away Valkey.
"""

import os
from pathlib import Path

from va_site.embedded import services_from_environment

ROOT = Path(__file__).resolve().parent.parent
TEST_VAR = Path(os.environ.get("VA_TEST_VAR_DIR", ROOT / "var" / "test")).resolve()

# The development profile (no HTTPS redirect, plain static files); tests/test_settings.py checks the
# production profile separately with `check --deploy`.
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-" + "x" * 40)
os.environ.setdefault("VA_VAR_DIR", str(TEST_VAR))
os.environ.setdefault("VA_CHANNEL_PREFIX", f"va-test-{os.getpid()}")

_env, _servers = services_from_environment(TEST_VAR, persist_valkey=False)
os.environ.update(_env)


def pytest_report_header(config):
    return [
        f"database: {'embedded PostgreSQL' if 'DATABASE_URL' in _env else 'DATABASE_URL'}",
        f"redis: {'embedded Valkey ' + _env['REDIS_URL'] if 'REDIS_URL' in _env else 'REDIS_URL'}",
    ]


def pytest_unconfigure(config):
    for server in reversed(_servers):
        server.stop()
    _servers.clear()
