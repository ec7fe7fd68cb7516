"""A throw-away real stack for benchmarks: embedded PostgreSQL + Valkey in a temp folder, Django set
up against them, and helpers to start workers and the ASGI server as child processes."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def boot(name: str) -> Path:
    """Start the embedded servers (unless DATABASE_URL/REDIS_URL are set), configure Django, migrate."""
    from va_site.embedded import services_from_environment

    var_dir = Path(tempfile.mkdtemp(prefix=f"va-bench-{name}-"))
    env, servers = services_from_environment(var_dir, persist_valkey=False)
    os.environ.update(env)
    os.environ.update(
        {
            "VA_VAR_DIR": str(var_dir),
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "va_site.settings",
            "VA_CHANNEL_PREFIX": f"va-bench-{os.getpid()}",
        }
    )

    def cleanup():
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(var_dir, ignore_errors=True)

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the atexit clean-up on `kill` too
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var_dir


def start(command: list[str], log_name: str) -> subprocess.Popen:
    log = open(Path(os.environ["VA_VAR_DIR"]) / f"{log_name}.log", "w")  # noqa: SIM115 — lives with the child
    proc = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)

    def stop():
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    atexit.register(stop)
    return proc


def start_worker(queues: str = "default", concurrency: int = 1) -> subprocess.Popen:
    return start(
        [sys.executable, "-m", "celery", "-A", "va_site", "worker", "-Q", queues, "-c", str(concurrency)]
        + ["--without-gossip", "--without-mingle", "-n", f"bench-{queues}@%h"],
        f"worker-{queues}",
    )


def clustered_vectors(n: int, dim: int, *, clusters: int = 200, spread: float = 0.6, seed: int = 0) -> np.ndarray:
    """Unit vectors drawn around `clusters` random centres: structure like real embeddings, unlike pure noise."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, clusters, size=n)] + spread * rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))
