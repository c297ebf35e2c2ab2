"""Select-to-code and the offline page in real headless Chromium, on a NEW study (not the demo).

A fresh project is created and a small transcript imported through the library (CRLF line ends, accents,
a decomposed accent, emoji with skin-tone/ZWJ sequences); ``streamlit run app.py`` serves it. A coder
codes one passage by dragging the mouse (Playwright's real mouse: down, move, up) and one with the
keyboard only, adjusts a coded span's edges by selecting its new extent, and removes a coding; the
store must then hold ``source.text[start:end] == the selected words``. Every request the pages make is
recorded (``page.on("request")``) and any host other than this machine fails the test. Screenshots go to
``test-artifacts/``. Skipped without Chromium unless ``QUALKIT_REQUIRE_BROWSER=1`` (then it fails).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _browser import ARGS, CHROMIUM, go, serve_app, settle
from _browser import login as _login
from _browser import require_browser as _require_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STUDY = "Night shifts 2024"
PASSWORDS = {"admin": "night-admin-pass", "ana": "night-ana-pass", "vic": "night-vic-pass"}
# What a researcher's own transcript looks like: Windows line ends, accents (one decomposed), emoji.
TRANSCRIPT = (
    "Moderator: Qu’est-ce qui vous épuise le plus, la nuit ? 🤔\r\n"
    "Zoë: Honestly? L’EHR 😩 — I spend two hours every night on documentation.\r\n"
    "Béla: Wir sind erschöpft — I feel completely drained 👩\u200d⚕\ufe0f, every single week.\r\n"
    "Zoë: My colleagues (Rene\u0301e, Tomás 👍🏽) keep me going; we debrief after hard cases.\r\n"
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = pytest.mark.browser


def new_study(folder: Path, transcript: str = TRANSCRIPT):
    """Create a project, import one transcript file and add three users, as a new research team would."""
    from qualkit.project import Project
    from qualkit.users import add_user

    url = f"sqlite:///{folder / 'night.qualkit.db'}"
    project = Project.create(url, STUDY, codebook="burnout", user="admin")
    path = folder / "nuit.txt"
    path.write_bytes(transcript.encode("utf-8"))
    project.import_transcripts([path], progress=False)
    for name, role in (("admin", "admin"), ("ana", "coder"), ("vic", "viewer")):
        add_user(project.store, name, PASSWORDS[name], role, actor="setup", rounds=4)
    assert project.store.source("nuit.txt").text == transcript  # CRLF and the decomposed accent kept
    return url, project


@contextlib.contextmanager
def serve(url: str, folder: Path, helpers):
    """The app on a free port for ``url`` (background model work off: these tests code by hand)."""
    with serve_app(helpers.APP, helpers.login_env(url) | {"QUALKIT_APP_RETRAIN": "0"}, folder / "streamlit.log") as base:
        yield base


@contextlib.contextmanager
def chromium_page(playwright, failure_shot: Path):
    """A page in headless Chromium; a screenshot of it when the test fails inside."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        yield page
    except Exception:
        page.screenshot(path=str(failure_shot), full_page=True)
        raise
    finally:
        browser.close()


def login(page, base: str, name: str) -> None:
    _login(page, base, name, PASSWORDS[name])


def word(page, turn_text: str, text: str):
    """The word element ``text`` in the turn containing ``turn_text``."""
    turn = page.locator(".qk-p").filter(has_text=turn_text)
    return turn.locator("[data-w]").filter(has_text=re.compile(f"^{re.escape(text)}$")).first


def drag(page, first, last) -> None:
    """Drag the real mouse from inside ``first`` (60% across) to inside ``last`` (40% across): not on word edges."""
    a, b = first.bounding_box(), last.bounding_box()
    page.mouse.move(a["x"] + a["width"] * 0.6, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.4, b["y"] + b["height"] / 2, steps=12)
    page.mouse.up()


def record_requests(page, hosts: list[str]) -> None:
    page.on("request", lambda request: hosts.append(request.url))


def foreign(urls: list[str]) -> list[str]:
    """Requests to anything but this machine (blob: and data: URLs never leave the browser)."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("blob", "data", "about"):
            continue
        if parts.hostname not in {h.strip("[]") for h in LOCAL_HOSTS}:
            out.append(url)
    return out


def coded(store, code_id: str):
    frame = store.codings_df(coder="ana", origin="human", code_id=code_id)
    assert len(frame) == 1, frame
    return frame.iloc[0]


def test_code_by_mouse_and_by_keyboard_on_a_new_study(tmp_path, helpers):
    """ana codes by dragging the mouse and by the keyboard alone, adjusts a span, removes a coding."""
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    url, project = new_study(tmp_path)
    store = project.store
    text = store.source("nuit.txt").text
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    with serve(url, tmp_path, helpers) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        record_requests(page, requests)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            login(page, base, "ana")
            go(page, "Transcript")
            expect(page.locator(".qk-region")).to_be_visible()

            # 1. The mouse: drag from the middle of "L’EHR" to the middle of "documentation"; it snaps to words.
            drag(page, word(page, "Honestly?", "L’EHR"), word(page, "Honestly?", "documentation"))
            picker = page.locator(".qk-pick")
            expect(picker).to_be_visible()
            expect(picker.locator(".qk-input")).to_be_focused()  # type-ahead at once
            page.keyboard.type("admin")
            expect(picker.get_by_role("option")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "select-mouse.png"))
            page.keyboard.press("Enter")
            expect(page.get_by_text("as Administrative burden").first).to_be_visible(timeout=30_000)
            settle(page)
            mouse = coded(store, "administrative_burden")
            assert text[int(mouse["start"]):int(mouse["end"])] == "L’EHR 😩 — I spend two hours every night on documentation"
            expect(page.locator(".qk-chip", has_text="Administrative burden")).to_have_count(1)

            # 2. The keyboard alone: into the text, down two turns, right four words, Shift+right five times.
            page.locator(".qk-region").focus()
            for key in ["ArrowDown", "ArrowDown", *["ArrowRight"] * 4, *["Shift+ArrowRight"] * 5]:
                page.keyboard.press(key)
            expect(page.locator(".qk-live")).to_contain_text("Selected 5 words: I feel completely drained 👩")
            page.keyboard.press("Enter")
            expect(picker.locator(".qk-input")).to_be_focused()
            page.keyboard.type("exhaus")
            page.screenshot(path=str(ARTIFACTS / "select-keyboard.png"))
            page.keyboard.press("Enter")
            expect(page.get_by_text("as Emotional exhaustion").first).to_be_visible(timeout=30_000)
            settle(page)
            keys = coded(store, "emotional_exhaustion")
            assert text[int(keys["start"]):int(keys["end"])] == "I feel completely drained 👩\u200d⚕\ufe0f"
            expect(page.locator(".qk-region")).to_be_focused()  # the reader keeps their place after coding

            # 3. Adjust its edges with the keyboard: select the new extent, Enter, Tab to "Set to selection".
            for key in ["Home", *["ArrowRight"] * 6, "Shift+ArrowRight", "Shift+ArrowRight"]:
                page.keyboard.press(key)
            expect(page.locator(".qk-live")).to_contain_text("Selected 2 words: completely drained")
            page.keyboard.press("Enter")
            expect(picker.locator(".qk-here")).to_contain_text("Emotional exhaustion")
            page.keyboard.press("Tab")
            expect(picker.get_by_role("button", name="Set to selection: Emotional exhaustion")).to_be_focused()
            page.keyboard.press("Enter")
            expect(page.get_by_text("now covers “completely drained”").first).to_be_visible(timeout=30_000)
            settle(page)
            adjusted = store.coding(int(keys["id"]))
            assert text[adjusted.start:adjusted.end] == "completely drained"
            assert store.events_df("coding", adjusted.id)["action"].iloc[0] == "adjust"

            # 4. Remove the mouse coding from its chip (it stays on record, rejected).
            page.locator(".qk-chip", has_text="Administrative burden").click()
            picker.get_by_role("button", name="Remove: Administrative burden").click()
            expect(page.get_by_text("Removed Administrative burden").first).to_be_visible(timeout=30_000)
            settle(page)
            assert store.coding(int(mouse["id"])).status == "rejected"

            # 5. A selection across turns: one passage per turn, each attributed to its own speaker.
            drag(page, word(page, "Wir sind", "every"), word(page, "My colleagues", "colleagues"))
            expect(picker.locator(".qk-what")).to_contain_text("2 turns, coded as one passage per turn: Béla #2, Zoë #3")
            page.screenshot(path=str(ARTIFACTS / "select-across-turns.png"))
            page.keyboard.type("workload")
            page.keyboard.press("Enter")
            expect(page.get_by_text("Coded 2 passages (one per turn) as Workload").first).to_be_visible(timeout=30_000)
            settle(page)
            parts = store.codings_df(coder="ana", origin="human", code_id="workload").sort_values("start")
            assert [text[s:e] for s, e in zip(parts["start"], parts["end"], strict=True)] == [
                "every single week.", "My colleagues"]
            assert parts["speaker"].tolist() == ["Béla", "Zoë"]
            page.screenshot(path=str(ARTIFACTS / "select-done.png"), full_page=True)
            assert not errors, errors
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "select-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    project.store.engine.dispose()
    assert requests and not foreign(requests), foreign(requests)
    events = store.events_df("coding")
    assert set(events.loc[events["user"] == "ana", "action"]) == {"code", "adjust", "reject"}


PAGE_TITLES = ["Study", "Transcript", "Review queue", "Codebook", "Double coding", "History", "Team", "Themes",
               "Analysis", "Reliability", "Export"]


def test_no_page_requests_anything_off_this_machine(tmp_path, helpers):
    """Log in, open every page (and code a passage), recording every request; only 127.0.0.1 may be asked."""
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    url, project = new_study(tmp_path)
    requests: list[str] = []
    with serve(url, tmp_path, helpers) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        record_requests(page, requests)
        try:
            login(page, base, "admin")
            for title in PAGE_TITLES:
                go(page, title)
            go(page, "Transcript")
            drag(page, word(page, "Honestly?", "two"), word(page, "Honestly?", "night"))
            page.keyboard.type("workload")
            page.keyboard.press("Enter")
            expect(page.get_by_text("as Workload").first).to_be_visible(timeout=30_000)
            settle(page)
            go(page, "Analysis")
            page.reload(wait_until="networkidle")  # a fresh load fetches the favicon and fonts again
            settle(page)
        finally:
            browser.close()
    project.store.engine.dispose()
    assert len(requests) > 50  # the recorder saw the page load its scripts, styles and fonts
    assert any("/static/" in u for u in requests)
    assert not foreign(requests), sorted(set(foreign(requests)))


CARD_APP = '''
import streamlit as st
from qualkit.app.components import select_text

chosen = select_text(TEXT, 4000, key="card_span", label="Zoë")
st.write("nothing" if chosen is None else f"{chosen.start}:{chosen.end}={chosen.text!r}")
'''


def test_select_text_reports_a_mouse_selection(tmp_path, helpers):
    """The one-passage form (what the review card will use): a drag comes back as exact offsets, no panel."""
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    text = "Wir sind erschöpft — I feel completely drained 👩\u200d⚕\ufe0f,\r\nevery single week."
    script = tmp_path / "card.py"
    script.write_text(f"TEXT = {text!r}\n{CARD_APP}", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(helpers.ROOT))
    with serve_app(script, env, tmp_path / "streamlit.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        try:
            page.goto(base, wait_until="domcontentloaded")
            settle(page)
            expect(page.get_by_text("nothing")).to_be_visible()
            turn = page.locator(".qk-p")
            drag(page, turn.locator("[data-w]").filter(has_text=re.compile("^completely$")),
                 turn.locator("[data-w]").filter(has_text=re.compile("^single$")))
            start = 4000 + text.index("completely")
            end = 4000 + text.index("single") + len("single")
            expected = f"{start}:{end}={text[start - 4000:end - 4000]!r}"
            expect(page.get_by_text(expected)).to_be_visible(timeout=30_000)
            assert page.locator(".qk-pick").is_hidden()  # no code picker in this form
            page.keyboard.press("Escape")  # clear it, then select the same words again (seen by a new researcher:
            expect(page.get_by_text("nothing")).to_be_visible(timeout=30_000)  # the second drag was ignored)
            drag(page, turn.locator("[data-w]").filter(has_text=re.compile("^completely$")),
                 turn.locator("[data-w]").filter(has_text=re.compile("^single$")))
            expect(page.get_by_text(expected)).to_be_visible(timeout=30_000)
        finally:
            browser.close()


def test_a_quote_selected_from_its_opening_mark_keeps_its_closing_one(tmp_path, helpers):
    """A stranger dragged over ‘just ask a quick question’: the span, and the report's quote, lost the ’."""
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    said = "People walk into the dispensary to ‘just ask a quick question’ all day."
    url, project = new_study(tmp_path, f"Moderator: What interrupts you?\r\nZoë: {said}\r\nBéla: Yes, all day.\r\n")
    store = project.store
    text = store.source("nuit.txt").text
    with serve(url, tmp_path, helpers) as base, sync_playwright() as playwright, \
            chromium_page(playwright, tmp_path / "quote-failure.png") as page:
        login(page, base, "ana")
        go(page, "Transcript")
        expect(page.locator(".qk-region")).to_be_visible()
        drag(page, word(page, "dispensary", "‘"), word(page, "dispensary", "question"))
        expect(page.locator(".qk-pick .qk-input")).to_be_focused()
        # the picker quotes the words as written: "‘ just ... question ’" read as typos
        expect(page.locator(".qk-pick .qk-what q")).to_have_text("‘just ask a quick question’")
        page.keyboard.type("admin")
        page.keyboard.press("Enter")
        expect(page.get_by_text("as Administrative burden").first).to_be_visible(timeout=30_000)
        coding = coded(store, "administrative_burden")
        assert text[int(coding["start"]):int(coding["end"])] == "‘just ask a quick question’"
    project.store.engine.dispose()
