"""Shared by the headless-Chromium tests: find the browser, serve the app on a free port, wait for Streamlit.

Imported by path (``sys.path.insert(0, <this folder>)``), as ``tests/export/_build.py`` is.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_browser() -> None:
    """Skip (or, with ``QUALKIT_REQUIRE_BROWSER=1``, fail) when Chromium or Playwright is missing."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium, or scripts/ensure-system-deps.sh)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if problem:
        if os.environ.get("QUALKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(app: Path, env: dict[str, str], log_path: Path, port: int | None = None) -> Iterator[str]:
    """``streamlit run app`` on ``port`` (a free one by default) of 127.0.0.1; yields its base URL; stops it afterwards.

    The server's output goes to ``log_path``; a traceback in it fails the test, and so does an "External
    URL" line (Streamlit asking a public service for this machine's address).
    """
    port = port or free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
            cwd=app.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    text = log_path.read_text()
    assert "External URL" not in text and "Traceback" not in text, text[-3000:]


def settle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (after giving a triggered rerun time to start)."""
    page.wait_for_timeout(150)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(100)


def login(page, base: str, name: str, password: str, *, shown: bool = False) -> None:
    """Log in on the log-in page (``shown``: check the page lists this password, as the demo's does)."""
    from playwright.sync_api import expect

    page.goto(base, wait_until="domcontentloaded")
    settle(page)
    if shown:
        expect(page.get_by_text(password)).to_be_visible()
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Logged in as")).to_be_visible(timeout=30_000)
    settle(page)


def go(page, title: str) -> None:
    """Open a page from the sidebar and wait for it to finish running."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=30_000)
    settle(page)


def wait_until_settled(page) -> None:
    """Wait until the queue's A and X act on the highlighted card (it must have been on screen a moment first)."""
    page.wait_for_timeout(page.evaluate("window.qualkitSettlesIn ? window.qualkitSettlesIn() : 0") + 50)
