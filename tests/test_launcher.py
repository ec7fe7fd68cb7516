"""`make run`'s launcher, run as a real process: embedded servers, migrations, demo, web, workers,
clean shutdown, restart after a crash, and one-line errors for bad environments."""

import fcntl
import http.cookiejar
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from va_site.embedded import ensure_port_free

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launcher_env(var_dir: Path, port: int, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env.update({"VA_VAR_DIR": str(var_dir), "VA_PORT": str(port), "VA_CHANNEL_PREFIX": "va-launcher-test"})
    env.update(overrides)
    return env


class Launcher:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "va_site.launcher"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 180) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(self.output)[-4000:]}")

    def stop(self, sig=signal.SIGINT, timeout: float = 90) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def credentials(launcher: Launcher) -> dict[str, str]:
    launcher.wait_for(r"Demo project")
    found = {}
    while len(found) < 4:
        match = launcher.wait_for(r"^\s+(\w+)\s+(\w+)\s+password: (\S+)")
        found[match.group(2)] = match.group(3)
    return found


def log_in(port: int, username: str, password: str) -> str:
    """Log in through the real login form; return the page the redirect lands on."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(f"{base}/accounts/login/", data=data.encode(), headers={"Referer": base})  # noqa: S310
    return opener.open(request, timeout=10).read().decode()


def running(pid_file: Path) -> bool:
    try:
        return psutil.pid_exists(int(pid_file.read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return False


@pytest.mark.timeout(600)
def test_run_crash_restart_and_clean_stop(tmp_path):
    port = free_port()
    first = Launcher(launcher_env(tmp_path, port))
    passwords = credentials(first)
    first.wait_for(rf"is running at http://127\.0\.0\.1:{port}/")
    health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).read())
    assert health["status"] == "ok"
    assert "Car chase (demo)" in log_in(port, "annotator1", passwords["annotator1"])

    # A crash: the launcher is killed outright. Its web server and workers must not outlive it.
    children = psutil.Process(first.proc.pid).children(recursive=True)
    first.stop(signal.SIGKILL)
    psutil.wait_procs([c for c in children if "postgres" not in c.name()], timeout=30)

    second = Launcher(launcher_env(tmp_path, port))
    assert credentials(second) == passwords  # same accounts: the database kept its data
    second.wait_for(r"is running at")
    assert "Car chase (demo)" in log_in(port, "manager", passwords["manager"])
    assert second.stop(signal.SIGINT) == 0
    assert "embedded servers stopped" in "".join(second.output)
    assert not running(tmp_path / "pg" / "postmaster.pid")
    assert not running(tmp_path / "valkey" / "valkey.pid")
    ensure_port_free("127.0.0.1", port)  # the web server let go of its port


def run_to_failure(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "va_site.launcher"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("[va] error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_to_failure(launcher_env(tmp_path, port))
    assert_one_line_error(result, f"port {port}", "already in use", "VA_PORT=")


def test_unreachable_database_url(tmp_path):
    env = launcher_env(tmp_path, free_port(), DATABASE_URL="postgresql://va:secret-pw@127.0.0.1:9/va")
    result = run_to_failure(env)
    assert_one_line_error(result, "cannot connect to DATABASE_URL", "unset DATABASE_URL")
    assert "secret-pw" not in result.stderr  # passwords are not echoed


def test_unreachable_redis_url(tmp_path):
    from tests.workers import test_database_url

    env = launcher_env(tmp_path, free_port(), DATABASE_URL=test_database_url(), REDIS_URL="redis://127.0.0.1:9/0")
    assert_one_line_error(run_to_failure(env), "cannot reach REDIS_URL", "unset REDIS_URL")


def test_second_launcher_on_the_same_data_is_refused(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / "launcher.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_to_failure(launcher_env(tmp_path, free_port()))
    assert_one_line_error(result, "another launcher", "VA_VAR_DIR")


def test_a_stale_lock_file_from_a_crash_does_not_block(tmp_path):
    (tmp_path / "launcher.lock").write_text("999999")  # left by a dead launcher, not locked
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_to_failure(launcher_env(tmp_path, busy.getsockname()[1]))
    assert_one_line_error(result, "already in use")  # got past the lock to the next check


def test_embed_concurrency_sets_the_ingestion_worker_processes():
    from va_site.launcher import child_commands

    embed = child_commands("127.0.0.1", 8000, workers=True, embed_concurrency=8)["worker-embed"]
    assert embed[embed.index("-Q") + 1] == "embed" and embed[embed.index("-c") + 1] == "8"
    assert "worker-embed" not in child_commands("127.0.0.1", 8000, workers=False)


@pytest.mark.parametrize("value", ["0", "-2", "four"])
def test_a_bad_embed_concurrency_is_refused_before_anything_starts(tmp_path, value):
    result = run_to_failure(launcher_env(tmp_path, free_port(), VA_EMBED_CONCURRENCY=value))
    assert_one_line_error(result, "VA_EMBED_CONCURRENCY", repr(value))
    assert not (tmp_path / "pg").exists()  # refused before the embedded servers started
