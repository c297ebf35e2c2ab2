"""The researchers' journey in real browsers, on the real demo study, with background retraining on.

Starts ``streamlit run app.py`` on a free port against a copy of the demo study as ``qualkit demo``
builds it (``qualkit.demo.build_demo``; LSA embedder for speed), drives Debian's headless Chromium
with Playwright, waits explicitly for Streamlit to finish each run, checks the database, and saves
full-length screenshots to ``test-artifacts/``. Two people are logged in at once, each in their own
browser context. Skipped when Chromium is missing, unless ``QUALKIT_REQUIRE_BROWSER=1`` (then it fails).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _browser import ARGS, CHROMIUM, go, serve_app, settle, wait_until_settled
from _browser import login as _login
from _browser import require_browser as _require_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO = "Burnout focus groups"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("app-demo")]


@pytest.fixture
def server(tmp_path, helpers, app_demo_db):
    """A Streamlit server on a free port serving a copy of the demo study (retraining on); killed afterwards."""
    _require_browser()
    from qualkit.project import Project

    path = tmp_path / "demo.qualkit.db"
    shutil.copy(app_demo_db, path)
    url = f"sqlite:///{path}"
    project = Project.open(url, DEMO, user="setup")
    try:
        with serve_app(helpers.APP, helpers.login_env(url), tmp_path / "streamlit.log") as base:
            yield base, project
    finally:
        project.store.engine.dispose()


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


def model_updates(store) -> int:
    """How many model jobs (rank, retrain) the worker process has finished for the study."""
    from qualkit.store import jobs

    frame = jobs.jobs_df(store, limit=500)
    return int((frame["status"].eq("done") & frame["worker"].notna()).sum())


def click_button(page, key: str, attempts: int = 3) -> None:
    """Click the button with widget key ``key``, again if a rerun replaced it mid-click (a loaded machine).

    A rerun keeps the last run's elements on screen, marked stale, until it draws them anew; while a card moves
    up the page the same button can be there twice, so only the element that is not stale is clicked.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        try:
            page.locator(f".st-key-{key}:not([data-stale='true']) button").click(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            settle(page)


def wait_for_update(page, store, after: int, timeout: float = 240) -> int:
    """Wait until the worker finished a model job after ``after``; then take the new order if the page offers it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        update = model_updates(store)
        if update > after:
            refresh = page.locator(".st-key-q_refresh button")
            try:  # offered when it would change the cards on screen, never applied by itself
                refresh.wait_for(timeout=15_000)  # the page asks every 2 s
            except PlaywrightTimeout:
                assert not page.get_by_text("would show other cards here").count()
                return update  # the new order keeps the cards on screen: taken in without a word
            refresh.click()
            # The offer goes once the new order is drawn: reading the cards earlier (a loaded machine starts
            # the rerun late) would take them from the old order.
            # (An even newer order may be offered already: the cards are drawn all the same.)
            with contextlib.suppress(PlaywrightTimeout):
                refresh.wait_for(state="detached", timeout=30_000)
            settle(page)
            return update
        page.wait_for_timeout(500)
    raise AssertionError(f"the worker finished no model job after {after}")


def full_screenshot(page, path: Path) -> None:
    """Screenshot the whole page: Streamlit scrolls an inner container, so grow the viewport to fit it first."""
    height = page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]') || document.body;
        const block = document.querySelector('[data-testid="stMainBlockContainer"]') || main;
        return Math.max(main.scrollHeight, block.scrollHeight, document.body.scrollHeight);
    }""")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(int(height) + 120, 16000)})
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})


def new_page(browser):
    """A fresh browser context (its own cookies, so its own log-in) and a page in it."""
    return browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()


def login(page, base: str, name: str, password: str) -> None:
    """Log in on the log-in page (the demo study is the only one, so it opens by itself)."""
    _login(page, base, name, password, shown=True)  # the demo accounts are shown while they work


def test_review_journey(server):
    """ana reviews four demo suggestions while the coder retrains; ben reviews at the same time in his browser."""
    from playwright.sync_api import expect, sync_playwright

    base, project = server
    store = project.store
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = new_page(browser)
        pages = [page]
        try:
            # A link to a page opened logged out: the log-in form at that address (a team saw "page not found"),
            # and after logging in, the page the link named.
            visitor = new_page(browser)
            pages.append(visitor)
            visitor.goto(f"{base}/history", wait_until="domcontentloaded")
            settle(visitor)
            expect(visitor.get_by_label("User name")).to_be_visible(timeout=30_000)
            assert not visitor.get_by_text("does not seem to exist").count()
            visitor.get_by_label("User name").fill("ben")
            visitor.get_by_label("Password", exact=True).fill("demo-ben-pass")
            visitor.get_by_role("button", name="Log in").click()
            expect(visitor.get_by_role("heading", name="History").first).to_be_visible(timeout=30_000)
            visitor.context.close()
            pages.remove(visitor)
            login(page, base, "ana", "demo-ana-pass")
            page.reload(wait_until="domcontentloaded")  # the log-in survives a reload (session cookie)...
            settle(page)
            expect(page.get_by_text("Logged in as")).to_be_visible(timeout=30_000)
            page.goto(f"{base}/queue", wait_until="domcontentloaded")  # ...and a link straight to a page
            settle(page)
            expect(page.get_by_role("heading", name="Review queue").first).to_be_visible(timeout=30_000)
            expect(page.locator('[class*="st-key-card_"]').first).to_be_visible(timeout=30_000)
            update = wait_for_update(page, store, 0)  # the first visit ranks the queue in the worker process

            first = card_ids(page)[0]
            click_button(page, f"acc_{first}")
            expect(page.get_by_text("Accepted", exact=False).first).to_be_visible(timeout=30_000)
            settle(page)
            assert first not in card_ids(page)

            # While the coder retrains on that decision, keep reviewing: nothing is refused.
            second = card_ids(page)[0]
            page.get_by_role("heading", name="Review queue").first.click()
            wait_until_settled(page)  # as a person would have: the card was on screen a moment
            page.keyboard.press("a")  # the keyboard shortcut accepts the first card
            expect(page.locator(f'[class*="st-key-card_{second}_v"]')).to_have_count(0, timeout=30_000)
            settle(page)

            third = card_ids(page)[0]
            click_button(page, f"rej_{third}")
            expect(page.get_by_text("Rejected").first).to_be_visible(timeout=30_000)
            settle(page)

            fourth = card_ids(page)[0]
            page.get_by_role("heading", name="Review queue").first.click()
            page.keyboard.press("k")  # K opens the first card's chooser; nothing changes yet
            chooser = page.locator(f".st-key-chg_{fourth} input[role='combobox']")
            expect(chooser).to_be_focused(timeout=10_000)
            assert store.coding(fourth).status == "suggested"
            chooser.fill("Individual coping")
            page.get_by_role("option", name=re.compile("Individual coping")).first.click()
            settle(page)
            click_button(page, f"chgbtn_{fourth}")
            expect(page.get_by_text(re.compile(r"Changed .* to .*\(individual_coping\)")).first).to_be_visible(timeout=30_000)
            settle(page)
            assert not page.get_by_text("Not saved").count() and not page.get_by_text("no longer suggests").count()

            update = wait_for_update(page, store, update)  # the retrained order is offered; ana takes it
            full_screenshot(page, ARTIFACTS / "review-journey.png")

            # A second researcher, logged in at the same time in another browser, reviews the same study.
            ben = new_page(browser)
            pages.append(ben)
            login(ben, base, "ben", "demo-ben-pass")
            go(ben, "Review queue")
            shown = card_ids(ben)
            assert not {first, second, third, fourth} & set(shown)  # ana's decisions are not offered again
            click_button(ben, f"rej_{shown[0]}")
            expect(ben.get_by_text("Rejected").first).to_be_visible(timeout=30_000)
            settle(ben)
            full_screenshot(ben, ARTIFACTS / "review-journey-second-user.png")
            page.bring_to_front()
            expect(page.get_by_text("Logged in as")).to_be_visible()  # both researchers stay logged in
        except Exception:
            for i, shot in enumerate(pages):
                shot.screenshot(path=str(ARTIFACTS / f"review-journey-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()

    assert [store.coding(i).status for i in (first, second, third, fourth)] == [
        "accepted", "accepted", "rejected", "rejected"]
    assert {store.coding(i).decided_by for i in (first, second, third, fourth)} == {"ana"}
    changed = store.codings_df(origin="human")
    changed = changed[changed["parent_id"] == fourth]
    assert changed[["code_id", "status", "coder"]].values.tolist() == [["individual_coping", "accepted", "ana"]]
    assert (store.coding(shown[0]).status, store.coding(shown[0]).decided_by) == ("rejected", "ben")
    events = store.events_df("coding")
    assert {"accept", "reject", "change"} <= set(events.loc[events["user"] == "ana", "action"])
    assert "conflict" not in set(events.loc[events["user"].isin(["ana", "ben"]), "outcome"])
    assert "rescore" in set(events["action"])  # the retraining refreshed the suggestions meanwhile
    assert (ARTIFACTS / "review-journey.png").stat().st_size > 10_000


def test_blind_double_coding_in_two_browsers(server):
    """Admin assigns a transcript blind to ana and ben; they code apart, finish, and settle a disagreement."""
    from playwright.sync_api import expect, sync_playwright

    base, project = server
    store = project.store
    source = "fg2_residents.txt"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pages = []
        try:
            admin = new_page(browser)
            pages.append(admin)
            login(admin, base, "admin", "demo-admin-pass")
            go(admin, "Double coding")
            choose(admin, "dc_source", source)
            for coder in ("ana", "ben"):
                box = admin.locator(".st-key-dc_coders input[role='combobox']")
                box.click()
                box.fill(coder)
                admin.get_by_role("option", name=coder, exact=True).click()
                settle(admin)
            admin.keyboard.press("Escape")
            click_button(admin, "dc_assign")
            expect(admin.get_by_text(f"Assigned {source} to ana, ben (blind).")).to_be_visible(timeout=30_000)

            ana, ben = new_page(browser), new_page(browser)
            pages += [ana, ben]
            login(ana, base, "ana", "demo-ana-pass")
            login(ben, base, "ben", "demo-ben-pass")
            pending = store.codings_df(source=source, status="suggested")
            code = str(pending["code_id"].value_counts().idxmin())  # a code with few cards: all on one page
            target = int(pending.loc[pending["code_id"] == code, "id"].iloc[0])
            for page, button in ((ana, "acc"), (ben, "rej")):
                go(page, "Review queue")
                choose(page, "q_source", source)
                choose(page, "q_code", f"({code})")  # so the card is on the first page, whatever the ranking
                click_button(page, f"{button}_{target}")
                expect(page.locator(f".st-key-card_{target}")).to_have_count(0, timeout=30_000)
                settle(page)
            assert store.coding(target).status == "suggested"  # blind: each decision is the coder's own row
            go(ana, "Transcript")
            choose(ana, "tx_source", source)
            expect(ana.get_by_text("You code this transcript blind")).to_be_visible()

            for page in (ana, ben):
                go(page, "Double coding")
                page.locator('[class*="st-key-dc_done_anyway_"] label').first.click()  # the others stay unjudged
                settle(page)
                page.locator('[class*="st-key-dc_done_"] button').first.click()
                expect(page.get_by_text("done.", exact=False).first).to_be_visible(timeout=30_000)
                settle(page)
            expect(ben.get_by_text("Kappa (pooled)")).to_be_visible(timeout=30_000)  # the comparison is there at once
            choose(ben, "dc_compare", source)  # the demo's fg1 is a finished double-coded transcript too
            segment = int(store.coding(target).segment_id)
            click_button(ben, f"adj_yes_{segment}_{code}")
            expect(ben.get_by_text(re.compile(r"Settled: .+ applies to turn \d+"))).to_be_visible(timeout=30_000)
            settle(ben)
            full_screenshot(ben, ARTIFACTS / "double-coding.png")
        except Exception:
            for i, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"double-coding-failure-{i}.png"), full_page=True)
            raise
        finally:
            browser.close()

    settled = store.coding(target)
    assert (settled.status, settled.decided_by) == ("accepted", "consensus")
    own = store.codings_df(origin="human", source=source, code_id=code)
    assert sorted(zip(own["coder"], own["status"], strict=True)) == [("ana", "accepted"), ("ben", "rejected")]
    assert set(project.assignments()["done"]) == {True}
