"""The first click after the app server restarts is not lost, in real headless Chromium, on a NEW study.

An open tab reconnects to a restarted server as a new Streamlit session, which has not yet run the page's
script, so it does not know the callbacks of the buttons on screen: Streamlit then drops the click's
callback silently. A team saw a typed memo vanish this way after an upgrade restarted their server.
Without any set-up (no ``QUALKIT_SESSION_SECRET``), the tab must stay logged in across the restart.
Here a coder types a memo and presses "Save memo" as the first thing after a restart, accepts a card in
the queue as the first thing after a second restart, and codes words selected in the transcript as the
first thing after a third; each must land in the store.
Skipped without Chromium unless ``QUALKIT_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _browser import ARGS, CHROMIUM, free_port, go, serve_app, settle
from _browser import login as _login
from _browser import require_browser as _require_browser
from test_queue_browser import PASSWORDS, decisions_by, new_study, on_screen
from test_select_browser import drag, word

pytestmark = pytest.mark.browser

MEMO = "Nadia links exhaustion to the weekly rota — ask about Thursdays."


def wait_until(check, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def reconnected(page) -> None:
    """Wait until the tab has reconnected to the restarted server and drawn the page again."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=60_000)
    settle(page)


def test_the_first_click_after_a_server_restart_is_not_lost(tmp_path, helpers, monkeypatch):
    _require_browser()
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    from playwright.sync_api import expect, sync_playwright

    url, project = new_study(tmp_path)
    store = project.store
    env = helpers.login_env(url) | {"QUALKIT_APP_RETRAIN": "0", "QUALKIT_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("QUALKIT_SESSION_SECRET", None)  # the default set-up: the machine's own key must survive the restart
    port = free_port()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            with serve_app(helpers.APP, env, tmp_path / "first.log", port) as base:
                _login(page, base, "ana", PASSWORDS["ana"])
                go(page, "Transcript")
                expect(page.get_by_label("New memo on this segment")).to_be_visible()
                chooser = page.locator(".st-key-tx_segment input")  # the memo goes on turn 3, not the default
                chooser.click()
                chooser.fill("#3 Nadia")
                page.get_by_role("option", name=re.compile("^#3 Nadia")).first.click()
                settle(page)
                expect(chooser).to_have_value(re.compile("^#3 Nadia"))
            turn3 = int(store.segments_df().set_index("turn").loc[3, "id"])
            with serve_app(helpers.APP, env, tmp_path / "second.log", port):
                reconnected(page)
                page.get_by_label("New memo on this segment").fill(MEMO)
                page.get_by_role("button", name="Save memo").click()
                assert wait_until(lambda: MEMO in set(store.memos_df()["text"])), "the memo was not saved"
                memos = store.memos_df()  # on the turn the page showed, not the page's first turn
                assert int(memos.loc[memos["text"] == MEMO, "segment_id"].iloc[0]) == turn3
                settle(page)
                expect(page.get_by_text(MEMO).first).to_be_visible()
                go(page, "Review queue")
                card_id, _ = on_screen(page)
            with serve_app(helpers.APP, env, tmp_path / "third.log", port):
                reconnected(page)
                before = len(decisions_by(store, "ana"))
                page.locator(f'[class*="st-key-acc_{card_id}"] button').click()
                assert wait_until(lambda: len(decisions_by(store, "ana")) > before), "the accept was not saved"
                assert store.coding(card_id).status == "accepted"
                settle(page)
                go(page, "Transcript")
            with serve_app(helpers.APP, env, tmp_path / "fourth.log", port):
                reconnected(page)
                drag(page, word(page, "What makes", "ward"), word(page, "What makes", "rounds"))
                expect(page.locator(".qk-pick .qk-input")).to_be_focused()
                page.keyboard.type("hierarchy")
                page.keyboard.press("Enter")
                assert wait_until(lambda: ((codings := store.codings_df()) is not None and (
                    (codings["code_id"] == "hierarchy") & (codings["coder"] == "ana")).any())), "the coding was not saved"
                settle(page)
                expect(page.get_by_text("as Hierarchy").first).to_be_visible()
        except Exception:
            page.screenshot(path=str(tmp_path / "restart-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    project.store.engine.dispose()
