"""`make run`: start (or check) PostgreSQL and Valkey, migrate, seed the demo, then run the ASGI
server and the Celery workers as child processes until Ctrl-C, and stop everything in order.

    python -m va_site.launcher [--host 127.0.0.1] [--port 8000] [--no-workers]
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from va_site.embedded import ServiceError, ensure_port_free, services_from_environment, wait_for_http

BASE_DIR = Path(__file__).resolve().parent.parent


def say(message: str) -> None:
    print(f"[va] {message}", flush=True)


def fail(message: str) -> int:
    print(f"[va] error: {message}", file=sys.stderr, flush=True)
    return 1


def acquire_lock(var_dir: Path):
    """One launcher per data folder. flock is released by the kernel if we crash: no stale locks."""
    var_dir.mkdir(parents=True, exist_ok=True)
    handle = open(var_dir / "launcher.lock", "a+")  # noqa: SIM115 — held open for the whole run
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        raise ServiceError(
            f"another launcher (pid {pid}) is already using {var_dir} — stop it first (Ctrl-C in its terminal), "
            "or set VA_VAR_DIR to another folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies, even by SIGKILL (no orphaned servers)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR, check=True)


def child_commands(host: str, port: int, workers: bool, embed_concurrency: int = 1) -> dict[str, list[str]]:
    python = sys.executable
    commands = {
        "web": [python, "-m", "uvicorn", "va_site.asgi:application", "--host", host, "--port", str(port)]
        + ["--ws", "websockets", "--lifespan", "off", "--no-access-log", "--timeout-graceful-shutdown", "5"],
    }
    if workers:
        celery = [python, "-m", "celery", "-A", "va_site", "worker", "--loglevel", "INFO"]
        commands["worker-default"] = celery + ["-Q", "default", "-c", "2", "-n", "default@%h"]
        commands["worker-embed"] = celery + ["-Q", "embed", "-c", str(embed_concurrency), "-n", "embed@%h"]
    return commands


def stop_children(children: dict[str, subprocess.Popen], timeout: float = 20.0) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # Celery: warm shutdown (finishes or requeues); uvicorn: graceful
    deadline = time.monotonic() + timeout
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {timeout:.0f}s; killing it")
            proc.kill()
            proc.wait()


def embed_concurrency() -> int | None:
    """VA_EMBED_CONCURRENCY: ingestion processes. On a GPU machine ingestion is CPU-bound (decoding, preview
    encoding), so several processes share one GPU well; None when the value is not a whole number ≥ 1."""
    text = os.environ.get("VA_EMBED_CONCURRENCY", "1")
    return int(text) if text.strip().isdigit() and int(text) >= 1 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("VA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("VA_PORT", "8000")))
    parser.add_argument("--no-workers", action="store_true", help="run the web server only")
    args = parser.parse_args(argv)
    var_dir = Path(os.environ.get("VA_VAR_DIR", BASE_DIR / "var")).resolve()
    embed_workers = embed_concurrency()
    if embed_workers is None:
        return fail(f"VA_EMBED_CONCURRENCY must be a whole number ≥ 1, got {os.environ['VA_EMBED_CONCURRENCY']!r}")

    stopping = {"signal": None}

    def on_signal(signum, _frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    servers: list = []
    children: dict[str, subprocess.Popen] = {}
    try:
        lock = acquire_lock(var_dir)  # noqa: F841 — held until exit
        ensure_port_free(args.host, args.port)
        say("starting PostgreSQL and Valkey (embedded unless DATABASE_URL / REDIS_URL are set)…")
        service_env, servers = services_from_environment(var_dir)
        env = {**os.environ, **service_env, "VA_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"}
        env.setdefault("DEBUG", "1")
        if "VA_EMBEDDING_MODEL" not in os.environ:
            # Offline demo: the small test architecture (weights made locally), said plainly.
            env["VA_EMBEDDING_MODEL"] = "va-test-tiny"
            say("embedding model: va-test-tiny (TEST model, random weights; set VA_EMBEDDING_MODEL for real ones)")
        env.setdefault("DJANGO_SETTINGS_MODULE", "va_site.settings")
        if "DATABASE_URL" in service_env:
            say(f"PostgreSQL (embedded, pgvector) ready, data in {var_dir / 'pg'}")
        if "REDIS_URL" in service_env:
            say(f"Valkey (embedded) ready on {service_env['REDIS_URL']}")
        say("applying migrations…")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "ingest", "--resume")  # videos a crash or Ctrl-C left half-done
        manage(env, "seed_demo")
        for name, command in child_commands(
            args.host, args.port, workers=not args.no_workers, embed_concurrency=embed_workers
        ).items():
            # Own session: a terminal Ctrl-C reaches only us, and we stop children in order.
            # The ASGI server runs each request in a fresh thread: pooled connections, not per-thread ones.
            child_env = {**env, "VA_DB_POOL": env.get("VA_DB_POOL", "1")} if name == "web" else env
            children[name] = subprocess.Popen(
                command, env=child_env, cwd=BASE_DIR, start_new_session=True, preexec_fn=die_with_parent
            )
        if wait_for_http(args.host, args.port, timeout=60):
            say(f"Video Annotator is running at http://{args.host}:{args.port}/  (Ctrl-C stops everything)")
        while stopping["signal"] is None:
            dead = {name: proc.returncode for name, proc in children.items() if proc.poll() is not None}
            if dead:
                name, code = next(iter(dead.items()))
                return fail(f"{name} exited with code {code}; stopping the rest (see its output above)")
            time.sleep(0.5)
        say("stopping…")
        return 0
    except ServiceError as exc:
        return fail(str(exc))
    except subprocess.CalledProcessError as exc:
        return fail(f"`{' '.join(exc.cmd[1:])}` failed with code {exc.returncode} (see its output above)")
    finally:
        stop_children(children)
        for server in reversed(servers):
            server.stop()
        if servers:
            say("embedded servers stopped; data kept in " + str(var_dir))


if __name__ == "__main__":
    sys.exit(main())
