"""Browser tests: Debian's Chromium driven by Playwright against the real ASGI server (uvicorn, HTTP +
websockets) on the test database, with the session's Valkey as channel layer and broker.

Chromium is the system package (`apt-get install -y chromium`; `.ci/run` installs it); Playwright is
pointed at it with `executable_path` and never downloads a browser. Screenshots of every flow go to
artifacts/browser/ (git-ignored) so the pages can be looked at.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import sync_playwright

from tests.workers import ROOT, stop_process, test_database_url

ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"laptop": {"width": 1366, "height": 768}, "desktop": {"width": 1920, "height": 1080}}


def chromium_path() -> str:
    path = os.environ.get("VA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is missing: apt-get install -y chromium (or set VA_CHROMIUM)", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server_url(django_db_setup, django_db_blocker) -> str:
    """uvicorn serving va_site.asgi on the test database, for the whole session."""
    with django_db_blocker.unblock():
        database_url = test_database_url()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1", "VA_DB_POOL": "1"}
    log = tempfile.NamedTemporaryFile("w+", prefix="uvicorn-", suffix=".log", delete=False)  # noqa: SIM115
    command = [sys.executable, "-m", "uvicorn", "va_site.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "5"]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)  # noqa: S310 — our own loopback server
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("uvicorn did not start:\n" + Path(log.name).read_text()[-3000:], pytrace=False)
            time.sleep(0.2)
    yield url
    if not stop_process(proc):
        pytest.fail("uvicorn did not stop within 20 s:\n" + Path(log.name).read_text()[-3000:], pytrace=False)


@pytest.fixture(scope="module")
def browser(server_url):
    """Chromium for one test module. Playwright's sync API keeps an event loop running in this thread,
    and Django's ORM refuses to run next to one unless told that this test thread is not async code;
    module scope keeps that confined to the browser tests."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Browser:
    """Open pages as a given user; every page's console errors are collected."""

    def __init__(self, browser, base_url: str, name: str):
        self.browser, self.base_url, self.name = browser, base_url, name
        self.contexts = []
        self.console_errors: list[str] = []

    def page(self, user=None, size: str = "laptop"):
        context = self.browser.new_context(viewport=SIZES[size], base_url=self.base_url)
        self.contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": self.base_url}
            context.add_cookies([cookie])
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.set_default_timeout(15_000)
        return page

    def screenshot(self, page, step: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def web(browser, server_url, transactional_db, request):
    session = Browser(browser, server_url, request.node.name)
    yield session
    session.close()
