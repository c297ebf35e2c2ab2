"""A new researcher's study, end to end in real headless Chromium, on SQLite and on PostgreSQL.

The server starts with an empty qualkit database and one account (what ``qualkit users add`` leaves);
everything else happens in the browser, as a researcher would do it: create a study, upload two
transcripts of different formats (a ``.txt`` with ``Name:`` labels and a WebVTT file), give two
participants their roles in the table editor, suggest codes (the progress bar must show), accept a few
suggestions, open the passages behind a prevalence count and follow one to its transcript, and export a
REFI-QDA ``.qdpx`` and a Word report from the Export page. Every request the pages make is recorded and
any host other than this machine fails the test. Screenshots go to ``test-artifacts/``.

The keyboard review and undo steps of issue 12 are added after the review-queue work is merged.
"""

from __future__ import annotations

import io
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _browser import ARGS, CHROMIUM, go, login, serve_app, settle
from _browser import require_browser as _require_browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
STUDY = "Nurses on night shifts"
PASSWORD = "rosa-night-password"

TXT = """Interviewer: What makes the night shift hard?
Maya: Honestly the paperwork never ends, I chart every night until the end of the shift.
Tomás: We are short-staffed, so every shift is double the patients. I'm exhausted by Thursday.
Interviewer: And what helps?
Maya: My colleagues keep me going; we debrief after the hard cases.
Tomás: Nothing left in the tank. I feel completely drained, running on empty.
"""

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Moderator>How do you cope with the workload?

00:00:05.000 --> 00:00:12.000
<v Lena>Too many patients and too little time; the inbox and the prior auths every single day.

00:00:13.000 --> 00:00:19.000
<v Omar>I go for a run and I talk to a friend from residency. The team debriefs together.

00:00:20.000 --> 00:00:26.000
<v Lena>I'm so tired, exhausted, burnt out, there is nothing left at the end of the week.
"""


def fresh_database(url: str) -> None:
    """An empty qualkit database with one administrator account, as the server's owner leaves it."""
    from qualkit.store.engine import make_engine, migrate
    from qualkit.users import add_user

    engine = make_engine(url)
    migrate(engine)
    add_user(engine, "rosa", PASSWORD, "admin", actor="setup", rounds=4)
    engine.dispose()


def foreign(urls: list[str]) -> list[str]:
    """Requests to anything but this machine (blob:, data: and about: URLs never leave the browser)."""
    return [u for u in urls if urlsplit(u).scheme not in ("blob", "data", "about")
            and urlsplit(u).hostname not in LOCAL_HOSTS]


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.get_by_label(label)
    box.click()
    page.keyboard.type(option, delay=10)  # type to filter the list, then take the matching option
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def edit_cells(page, editor, edits: dict[tuple[int, int], str]) -> None:
    """Type into cells (row, column) of a ``st.data_editor`` grid with the keyboard, as a researcher would.

    Each step waits for what the researcher would see (the cell selected, the cell's editor open and
    closed, the value in the cell) rather than for a fixed time, which a busy machine outran.
    """
    from playwright.sync_api import expect

    box = editor.bounding_box()
    entry = page.locator("textarea.gdg-input")  # the grid's in-cell editor

    def cell(row: int, column: int):
        return editor.get_by_test_id(f"glide-cell-{column + 1}-{row}")  # the grid's column 0 holds row markers

    for (row, column), value in edits.items():
        # The first data cell (right of the row markers, under the header); move from it with the arrow keys.
        # A click that lands while the grid is still being redrawn selects nothing: click again, as a person would.
        for attempt in range(3):
            page.mouse.click(box["x"] + 60, box["y"] + 35 + 15)
            try:
                expect(cell(0, 0)).to_have_attribute("aria-selected", "true")
                break
            except AssertionError:
                if attempt == 2:
                    raise
                settle(page)
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        expect(cell(row, column)).to_have_attribute("aria-selected", "true")
        page.keyboard.press("Enter")  # open the cell's editor, then type into it
        expect(entry).to_be_visible()
        page.keyboard.type(value, delay=20)
        page.keyboard.press("Enter")
        expect(entry).to_be_hidden()
        expect(cell(row, column)).to_have_text(value)


@pytest.mark.browser
def test_new_researcher_journey(db_url, tmp_path, helpers):
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    from qualkit.project import Project

    fresh_database(db_url)
    ARTIFACTS.mkdir(exist_ok=True)
    backend = "postgres" if db_url.startswith("postgresql") else "sqlite"
    (tmp_path / "night-interviews.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "team-huddle.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "scan.txt").write_bytes(b"PK\x03\x04\x00\x00" * 50)  # a renamed Word file: refused, by its own name
    requests: list[str] = []
    errors: list[str] = []
    env = helpers.login_env(db_url) | {"QUALKIT_APP_RETRAIN": "0"}
    with serve_app(helpers.APP, env, tmp_path / "streamlit.log") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            # 1. Log in and create a study.
            login(page, base, "rosa", PASSWORD)
            expect(page.get_by_text("This database holds no study yet.")).to_be_visible()
            page.get_by_label("Name", exact=True).fill(STUDY)
            page.get_by_role("button", name="Create").click()
            expect(page.get_by_role("heading", name=STUDY)).to_be_visible(timeout=30_000)
            settle(page)
            assert parse_qs(urlsplit(page.url).query).get("study") == [STUDY]  # survives a reload
            page.reload()
            settle(page)
            expect(page.get_by_role("heading", name=STUDY)).to_be_visible(timeout=30_000)

            # 2. Upload two transcripts of different formats and a file that is none; the counts show the two
            # without a reload, and the refusal names the file as the researcher knows it, not the server's copy.
            page.locator('[data-testid="stFileUploader"]').first.locator("input[type=file]").set_input_files(
                [str(tmp_path / "night-interviews.txt"), str(tmp_path / "team-huddle.vtt"), str(tmp_path / "scan.txt")])
            expect(page.get_by_text("team-huddle.vtt").first).to_be_visible()
            # A double-click, as a stranger gave: the second click cut the import short (one file of four, or
            # none) and its rerun, the form cleared, said "Choose the transcripts to import first".
            page.get_by_role("button", name="Import", exact=True).dblclick()
            expect(page.get_by_text("Import finished: 2 of 3 transcripts.")).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Not imported: scan.txt: the file is a zip archive")).to_be_visible()
            settle(page)
            assert "Choose the transcripts to import first" not in page.inner_text("body")
            assert "qualkit-import-" not in page.inner_text("body")
            transcripts = page.locator('[data-testid="stMetric"]').filter(has_text="Transcripts")
            expect(transcripts).to_contain_text("2")
            page.screenshot(path=str(ARTIFACTS / f"journey-{backend}-imported.png"), full_page=True)

            # 3. New speakers have participant rows: give two of them their role in the table editor.
            project = Project.open(db_url, STUDY, user="rosa")
            assert "path" not in project.store.source("night-interviews.txt", with_raw=False).metadata  # a /tmp copy
            people = project.participants()
            assert {"Maya", "Tomás", "Lena", "Omar"} <= set(people["participant"])
            rows = {name: i for i, name in enumerate(people["participant"])}
            shown = [c for c in people.columns if c != "version"]  # the editor's columns: role and group are added
            role_column = [*shown, *(c for c in ("role", "group") if c not in shown)].index("role")
            editor = page.locator('[data-testid="stDataFrame"]').last
            editor.scroll_into_view_if_needed()
            edit_cells(page, editor, {(rows["Maya"], role_column): "resident", (rows["Lena"], role_column): "attending"})
            page.get_by_role("button", name="Save participants").click()
            expect(page.get_by_text("Saved 2 participants")).to_be_visible(timeout=30_000)
            settle(page)
            roles = project.participants().set_index("participant")["role"]
            assert roles["Maya"] == "resident" and roles["Lena"] == "attending"
            dropzone = page.locator('[data-testid="stFileUploader"]').first
            dropzone.locator("input[type=file]").set_input_files([str(tmp_path / "night-interviews.txt")])
            # as a person would, wait for the file to show in the box (under load Import went before the upload)
            expect(dropzone.get_by_text("night-interviews.txt")).to_be_visible(timeout=30_000)
            page.get_by_role("button", name="Import", exact=True).click()  # the same file again: said so
            expect(page.get_by_text("Import finished: 0 of 1 transcripts. 1 was already in the study")).to_be_visible(
                timeout=60_000)
            settle(page)

            # 4. Suggest codes for the whole study: the progress bar shows while it runs.
            page.evaluate("""() => { window.qkProgressSeen = false;
                new MutationObserver(() => { if (document.querySelector('[data-testid="stProgress"]'))
                    window.qkProgressSeen = true; }).observe(document.body, {childList: true, subtree: true}); }""")
            page.get_by_role("button", name="Suggest codes for the whole study").click()
            expect(page.get_by_text("await review on the Review queue page")).to_be_visible(timeout=180_000)
            settle(page)
            assert page.evaluate("() => window.qkProgressSeen"), "no progress bar was shown"
            suggested = project.codings(status="suggested")
            assert len(suggested) > 0 and set(suggested["source"]) == {"night-interviews.txt", "team-huddle.vtt"}
            expect(page.locator('[data-testid="stMetric"]').filter(has_text="Suggested")).to_contain_text(
                str(len(suggested)))

            # 5. Accept a few suggestions in the review queue (the keyboard review comes with the queue work).
            go(page, "Review queue")
            lost = 0
            for n in range(1, 4):
                for _attempt in range(3):
                    accept = page.get_by_role("button", name="Accept", exact=True).first
                    expect(accept).to_be_visible(timeout=30_000)
                    accept.click()
                    settle(page)
                    if _count_within(lambda: len(project.codings(status="accepted")), n, seconds=15):
                        break
                    # Under load a click that lands while Streamlit redraws is sometimes dropped whole (nothing is
                    # decided, the card stays, as a person would see); the person clicks again. Seen twice in full
                    # runs on a loaded machine; _count_within fails if a click ever decided more than one card.
                    lost += 1
            accepted = project.codings(status="accepted")
            assert len(accepted) == 3 and lost <= 2, f"{lost} clicks lost"

            # 6. Open the passages behind a prevalence count, and follow one to its transcript.
            go(page, "Analysis")
            choose(page, "Compare by", "role")
            table = project.prevalence(by="role").table
            cell = table[table["segments"] > 0].iloc[0]
            choose(page, "Passages behind the count of", cell["code_name"])
            choose(page, "in the group (role)", cell["group"])
            expect(page.get_by_text(f"{int(cell['segments'])} passage")).to_be_visible()
            link = page.get_by_role("link", name="night-interviews.txt").or_(
                page.get_by_role("link", name="team-huddle.vtt")).first
            expect(link).to_be_visible(timeout=30_000)  # the passages are drawn: the screenshot showed empty boxes
            page.screenshot(path=str(ARTIFACTS / f"journey-{backend}-passages.png"), full_page=True)
            link.click()
            expect(page.get_by_text("Opened at")).to_be_visible(timeout=30_000)
            settle(page)
            assert parse_qs(urlsplit(page.url).query).get("study") == [STUDY]

            # 7. Export a REFI-QDA project and a Word report from the Export page.
            go(page, "Export")
            files = {}
            for label, suffix in (("REFI-QDA project (.qdpx)", ".qdpx"), ("Report (Word)", ".docx")):
                choose(page, "Format", label)
                page.get_by_role("button", name="Prepare the export").click()
                settle(page, timeout=120_000)
                button = page.get_by_role("button", name=f"Download {STUDY.replace(' ', '_')}{suffix}")
                expect(button).to_be_visible(timeout=60_000)
                with page.expect_download() as download:
                    button.click()
                files[suffix] = Path(download.value.path()).read_bytes()
            with zipfile.ZipFile(io.BytesIO(files[".qdpx"])) as archive:
                assert "project.qde" in archive.namelist()
            with zipfile.ZipFile(io.BytesIO(files[".docx"])) as archive:
                assert "word/document.xml" in archive.namelist()
            page.screenshot(path=str(ARTIFACTS / f"journey-{backend}-done.png"), full_page=True)
            assert not errors, errors
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"journey-{backend}-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert len(requests) > 50 and any("/static/" in u for u in requests)
    assert not foreign(requests), sorted(set(foreign(requests)))


def _count_within(count, expected: int, *, seconds: float) -> bool:
    """True once ``count()`` reaches ``expected`` within ``seconds``; False if it stays below (more is an error)."""
    deadline = time.monotonic() + seconds
    while True:
        now = count()
        assert now <= expected, f"{now} decisions where {expected} were meant"
        if now == expected:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
