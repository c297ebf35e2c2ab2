"""The researcher's journey in a real browser: log in, open the demo study, review four suggestions.

Starts ``streamlit run app.py`` on a free port against a demo-like project built in a temporary folder
(two studies, the demo accounts), drives Debian's headless Chromium with Playwright, waits explicitly
for Streamlit to finish each run, checks the database, and saves a screenshot to ``test-artifacts/``.
Skipped when Chromium is missing, unless ``QUALKIT_REQUIRE_BROWSER=1`` (then it fails).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO = "Burnout focus groups"

pytestmark = pytest.mark.browser


def _require_browser() -> None:
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path, helpers):
    """A Streamlit server on a free port serving a demo-like project; killed afterwards."""
    _require_browser()
    from qualkit.project import Project
    from qualkit.users import create_demo_users

    url = f"sqlite:///{tmp_path / 'demo.qualkit.db'}"
    project = helpers.build_study(url, name=DEMO, users=False)
    create_demo_users(project.store, rounds=4)
    Project.create(url, "Pilot interviews", codebook=None, user="setup")  # so the demo study must be chosen
    project.store.engine.dispose()
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(helpers.APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=helpers.ROOT, env=helpers.login_env(url), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield base, project
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def settle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (after giving a triggered rerun time to start)."""
    page.wait_for_timeout(150)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(100)


def card_ids(page) -> list[int]:
    """Coding ids of the review cards on screen, top to bottom."""
    classes = page.locator('[class*="st-key-card_"]').evaluate_all("els => els.map(e => e.className)")
    return [int(m.group(1)) for c in classes if (m := re.search(r"st-key-card_(\d+)", c))]


def choose(page, key: str, text: str) -> None:
    """Pick an option of the selectbox with widget key ``key`` by typing part of its label."""
    box = page.locator(f".st-key-{key} input[role='combobox']")
    box.click()
    box.fill(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()
    settle(page)


def test_review_journey(server):
    from playwright.sync_api import expect, sync_playwright

    base, project = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(base, wait_until="domcontentloaded")
            settle(page)
            expect(page.get_by_text("demo-ana-pass")).to_be_visible()  # demo accounts are shown
            page.get_by_label("User name").fill("ana")
            page.get_by_label("Password", exact=True).fill("demo-ana-pass")
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_text("Logged in as")).to_be_visible(timeout=30_000)
            settle(page)

            choose(page, "study_choice", DEMO)
            page.locator(".st-key-study_open button").click()
            expect(page.get_by_text(f"Opened {DEMO}.")).to_be_visible(timeout=30_000)
            settle(page)

            page.get_by_role("link", name="Review queue").click()
            expect(page.locator('[class*="st-key-card_"]').first).to_be_visible(timeout=30_000)
            settle(page)

            first = card_ids(page)[0]
            page.locator(f".st-key-acc_{first} button").click()
            expect(page.get_by_text("Accepted", exact=False).first).to_be_visible(timeout=30_000)
            settle(page)
            assert first not in card_ids(page)

            second = card_ids(page)[0]
            page.get_by_role("heading", name="Review queue").first.click()
            page.keyboard.press("a")  # the keyboard shortcut accepts the first card
            expect(page.locator(f".st-key-card_{second}")).to_have_count(0, timeout=30_000)
            settle(page)
            assert second not in card_ids(page)

            third = card_ids(page)[0]
            page.locator(f".st-key-rej_{third} button").click()
            expect(page.get_by_text("Rejected").first).to_be_visible(timeout=30_000)
            settle(page)

            fourth = card_ids(page)[0]
            choose(page, f"chg_{fourth}", "Individual coping")
            page.locator(f".st-key-chgbtn_{fourth} button").click()
            expect(page.get_by_text(re.compile("Changed .* to individual_coping")).first).to_be_visible(timeout=30_000)
            settle(page)
            page.screenshot(path=str(ARTIFACTS / "review-journey.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "review-journey-failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    store = project.store
    assert [store.coding(i).status for i in (first, second, third, fourth)] == [
        "accepted", "accepted", "rejected", "rejected"]
    assert {store.coding(i).decided_by for i in (first, second, third, fourth)} == {"ana"}
    changed = store.codings_df(origin="human")
    changed = changed[changed["parent_id"] == fourth]
    assert changed[["code_id", "status", "coder"]].values.tolist() == [["individual_coping", "accepted", "ana"]]
    events = store.events_df("coding")
    assert {"accept", "reject", "change"} <= set(events.loc[events["user"] == "ana", "action"])
    assert (ARTIFACTS / "review-journey.png").stat().st_size > 10_000


def login(browser, base: str, name: str, password: str):
    """A fresh browser context (its own Streamlit session) logged in as ``name``."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(base, wait_until="domcontentloaded")
    settle(page)
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Logged in as")).to_be_visible(timeout=30_000)
    settle(page)
    choose(page, "study_choice", DEMO)
    page.locator(".st-key-study_open button").click()
    expect(page.get_by_text(f"Opened {DEMO}.")).to_be_visible(timeout=30_000)
    settle(page)
    return page


def go(page, title: str) -> None:
    """Open a page from the sidebar and wait for it to finish running."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=30_000)
    settle(page)


def test_blind_double_coding_in_two_browsers(server):
    """Admin assigns a transcript blind to ana and ben; they code apart, finish, and settle a disagreement."""
    from playwright.sync_api import expect, sync_playwright

    base, project = server
    store = project.store
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        pages = []
        try:
            admin = login(browser, base, "admin", "demo-admin-pass")
            pages.append(admin)
            go(admin, "Double coding")
            choose(admin, "dc_source", "group2.txt")
            for coder in ("ana", "ben"):
                box = admin.locator(".st-key-dc_coders input[role='combobox']")
                box.click()
                box.fill(coder)
                admin.get_by_role("option", name=coder, exact=True).click()
                settle(admin)
            admin.keyboard.press("Escape")
            admin.locator(".st-key-dc_assign button").click()
            expect(admin.get_by_text("Assigned group2.txt to ana, ben (blind).")).to_be_visible(timeout=30_000)

            ana = login(browser, base, "ana", "demo-ana-pass")
            ben = login(browser, base, "ben", "demo-ben-pass")
            pages += [ana, ben]
            target = int(store.codings_df(source="group2.txt", code_id="workload")["id"].iloc[0])
            for page, button in ((ana, "acc"), (ben, "rej")):
                go(page, "Review queue")
                choose(page, "q_source", "group2.txt")
                page.locator(f".st-key-{button}_{target} button").click()
                expect(page.locator(f".st-key-card_{target}")).to_have_count(0, timeout=30_000)
                settle(page)
            assert store.coding(target).status == "suggested"  # blind: each decision is the coder's own row
            go(ana, "Transcript")
            choose(ana, "tx_source", "group2.txt")
            expect(ana.get_by_text("You code this transcript blind")).to_be_visible()

            for page in (ana, ben):
                go(page, "Double coding")
                page.locator('[class*="st-key-dc_done_"] button').first.click()
                expect(page.get_by_text("done.", exact=False).first).to_be_visible(timeout=30_000)
                settle(page)
            go(ben, "History")  # leave and come back so the comparison reflects both coders
            go(ben, "Double coding")
            expect(ben.get_by_text("Cohen's kappa")).to_be_visible(timeout=30_000)
            segment = int(store.coding(target).segment_id)
            ben.locator(f".st-key-adj_yes_{segment}_workload button").click()
            expect(ben.get_by_text("Settled: workload applies")).to_be_visible(timeout=30_000)
            settle(ben)
            ben.screenshot(path=str(ARTIFACTS / "double-coding.png"), full_page=True)
        except Exception:
            for i, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"double-coding-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()

    settled = store.coding(target)
    assert (settled.status, settled.decided_by) == ("accepted", "consensus")
    own = store.codings_df(origin="human", source="group2.txt", code_id="workload")
    assert sorted(zip(own["coder"], own["status"], strict=True)) == [("ana", "accepted"), ("ben", "rejected")]
    assert set(project.assignments()["done"]) == {True}
