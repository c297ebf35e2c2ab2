"""A long transcript in real headless Chromium, on a NEW study: the memo box shows the turn a memo will go on.

A stranger paged to turns #47-#71 of a long focus group; the "Segment" box still showed "#0 Helen: Thanks
everyone", and the memo they saved went on turn #47, not the turn they saw. The box must show the turn the
memo is saved on, after every page change.
Skipped without Chromium unless ``QUALKIT_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _browser import ARGS, CHROMIUM, go, login, require_browser, serve_app, settle

pytestmark = pytest.mark.browser

PASSWORD = "long-study-pass"
SPEAKERS = ("Helen", "Siân", "Łukasz", "Zoë")


def long_study(folder: Path):
    """A new project with one 60-turn focus group (more than two pages of the Transcript page) and one coder."""
    from qualkit.project import Project
    from qualkit.users import add_user

    url = f"sqlite:///{folder / 'long.qualkit.db'}"
    project = Project.create(url, "Long nights", codebook="burnout", user="admin")
    turns = [f"{SPEAKERS[i % 4]}: Turn {i} about the night shift and the rota, number {i}." for i in range(60)]
    path = folder / "fg_long.txt"
    path.write_bytes("\r\n".join(turns).encode("utf-8"))
    project.import_transcripts([path], progress=False)
    add_user(project.store, "ana", PASSWORD, "coder", actor="setup", rounds=4)
    return url, project


def test_the_memo_box_shows_the_turn_the_memo_goes_on_after_paging(tmp_path, helpers, monkeypatch):
    require_browser()
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    from playwright.sync_api import expect, sync_playwright

    url, project = long_study(tmp_path)
    env = helpers.login_env(url) | {"QUALKIT_APP_RETRAIN": "0", "QUALKIT_CACHE_DIR": str(tmp_path / "cache")}
    with sync_playwright() as playwright, serve_app(helpers.APP, env, tmp_path / "app.log") as base:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        login(page, base, "ana", PASSWORD)
        go(page, "Transcript")
        chooser = page.locator(".st-key-tx_segment input")
        expect(chooser).to_have_value(re.compile(r"^#0 Helen"))
        for page_number in (2, 3):
            page.get_by_role("button", name="Next →").first.click()
            settle(page)
            expect(page.get_by_text(f"Page {page_number} of 3")).to_be_visible()
            first_turn = 25 * (page_number - 1)
            expect(chooser).to_have_value(re.compile(rf"^#{first_turn} "))  # not page 1's "#0 Helen"
        memo = "The rota comes up again on this page."
        page.get_by_label("New memo on this segment").fill(memo)
        page.get_by_role("button", name="Save memo").click()
        deadline = time.monotonic() + 30
        while memo not in set(project.store.memos_df()["text"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        memos = project.store.memos_df()
        segment = int(memos.loc[memos["text"] == memo, "segment_id"].iloc[0])
        assert int(project.store.segments_df().set_index("id").loc[segment, "turn"]) == 50
        settle(page)  # the page has redrawn after saving (a box typed into meanwhile is drawn again)
        jump = page.locator(".st-key-tx_page_jump input").first  # not five clicks of Next to reach a page
        jump.fill("1")
        jump.press("Enter")
        settle(page)
        expect(page.get_by_text("Page 1 of 3")).to_be_visible()
        expect(chooser).to_have_value(re.compile(r"^#0 Helen"))
        browser.close()
