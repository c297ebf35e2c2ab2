"""Withdrawing a participant who withdrew consent after coding began: their turns leave the study and the database.

Runs on SQLite and on the real PostgreSQL server (the mini study on ``db_url``). In the mini study Béla has
turns 2 and 5 of group1.txt, each with one machine suggestion.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.ingest.accounting import accounting_problems
from qualkit.project import Project
from qualkit.review import decisions
from qualkit.spans import locate_passage
from qualkit.store.schema import ParticipantRow
from qualkit.users import User

ANA = User("ana")
BELA_SAID = ("short-staffed, so every shift", "paperwork never ends")  # (the codebook cites "short-staffed")


def _words(store) -> dict[int, str]:
    """Each coding's words, as the transcript now reads."""
    return {int(row.id): store.source(row.source, with_raw=False).text[int(row.start):int(row.end)]
            for row in store.codings_df().itertuples()}


def test_a_participant_who_withdrew_consent_leaves_every_count_quote_and_export(study, tmp_path):
    """P07 withdrew consent mid-study: a re-import was refused once coding began and redaction only takes words,
    so her turns, codings and attributes stayed in every figure of the study."""
    store = study.store
    admin = Project.open(study.url, user="admin")
    admin.add_participants(pd.DataFrame({"id": ["P07", "P02"], "pseudonym": ["Béla", "Ana"],
                                         "site": ["North", "South"]}))
    seg = study.segment("group1.txt", 1)
    start, end = locate_passage(seg["text"], int(seg["start"]), "I spend two hours")
    hand = decisions.add_code(store, int(seg["id"]), "workload", actor=ANA, start=start, end=end)
    decisions.decide(store, int(study.suggestion("group1.txt", 2, "workload").id), "accept", actor=ANA)
    memo = admin.memo("staffing comes up again here", segment_id=int(study.segment("group1.txt", 5)["id"]))
    before = {i: words for i, words in _words(store).items()}
    gone = {int(study.suggestion("group1.txt", t, c).id) for t, c in ((2, "workload"), (5, "administrative_burden"))}
    prevalence = admin.prevalence(by=None, include_suggested=True).table.set_index("code_id")
    assert prevalence.loc["workload", "segments"] == 3 and prevalence.loc["workload", "group_speakers"] == 5
    assert admin.quotes("workload")["quote"].str.contains("short-staffed").sum() == 1

    preview = admin.withdrawal_preview("P07")
    assert preview[["source", "turn", "speaker", "codings", "memos"]].values.tolist() == [
        ["group1.txt", 2, "Béla", 1, 0], ["group1.txt", 5, "Béla", 1, 1]]
    counts = admin.withdraw_participant("P07", reason="consent withdrawn by email", expected=2)
    assert counts == {"participant": "P07", "turns": 2, "transcripts": 1, "codings": 2, "memos": 1, "theme_runs": 0}

    after = store.source("group1.txt")
    assert after.text.count("Béla: [withdrawn]\r\n") == 2 and not any(w in after.text for w in BELA_SAID)
    assert after.raw is None and all(after.text[seg.start:seg.end] == seg.text for seg in after.segments)
    assert "Béla" not in set(admin.segments()["speaker"]) and len(admin.segments()) == 8
    now = _words(store)
    assert now == {i: w for i, w in before.items() if i not in gone}  # the others cover exactly their words
    assert now[hand.id] == "I spend two hours"
    table = admin.prevalence(by=None, include_suggested=True).table.set_index("code_id")
    assert table.loc["workload", "segments"] == 2 and table.loc["workload", "group_speakers"] == 4
    assert table.loc["workload", "group_segments"] == 6
    assert admin.quotes("workload")["quote"].str.contains("short-staffed").sum() == 0
    folder = admin.export(tmp_path / "tables", format="csv")
    exported = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.csv"))
    assert "P07" not in exported and not any(w in exported for w in BELA_SAID) and "North" not in exported
    assert admin.participants()["participant"].tolist() == ["P02"]
    with store.session() as session:
        row = session.scalar(select(ParticipantRow).where(ParticipantRow.label == "P07"))
        assert (row.attributes, row.pseudonym, row.aliases) == ({}, None, [])
        assert row.withdrawn_at is not None
    assert memo.id not in set(store.memos_df(withdrawn=True)["id"])  # written on her turn: deleted with it
    event = store.events_df("participant").iloc[0]
    assert (event["action"], event["user"], event["entity_id"]) == ("withdraw", "admin", "P07")
    assert event["new"]["turns"] == 2 and event["new"]["reason"] == "consent withdrawn by email"
    assert not any(w in str(event["new"]) for w in BELA_SAID)

    undone = Project.open(study.url, user="ana").undo()  # her accept on P07's turn is gone: the step before it
    assert undone.id == hand.id and undone.status == "rejected"

    with pytest.raises(InvalidInput, match=r"P07 was already withdrawn on \d{4}-\d\d-\d\d"):
        admin.withdraw_participant("P07", reason="again")
    admin.add_participants(pd.DataFrame({"id": ["P07"], "site": ["North"]}))  # the list read again
    assert admin.participants()["participant"].tolist() == ["P02"]  # brings nothing back


def test_withdrawal_is_refused_when_the_turns_changed_the_name_is_unknown_or_the_user_may_not(study):
    admin = Project.open(study.url, user="admin")
    before = study.store.source("group1.txt").text
    with pytest.raises(ConflictError, match="Béla now has 2 turns in the study, not the 3 you previewed"):
        admin.withdraw_participant("Béla", reason="consent withdrawn", expected=3)
    with pytest.raises(InvalidInput, match=r"no participant or speaker 'Bella'.*Ana, Béla, Chris, Dee, Eli"):
        admin.withdrawal_preview("Bella")
    with pytest.raises(InvalidInput, match="no reason"):
        admin.withdraw_participant("Béla", reason="  ")
    with pytest.raises(PermissionDenied):
        Project.open(study.url, user="ana").withdraw_participant("Béla", reason="consent withdrawn")
    assert study.store.source("group1.txt").text == before and len(study.store.codings_df()) == 8

    # a speaker no participants list names: withdrawn by name, and the record says so afterwards
    assert admin.withdraw_participant("béla", reason="consent withdrawn")["turns"] == 2
    with pytest.raises(InvalidInput, match="Béla was already withdrawn"):
        admin.withdrawal_preview("Béla")
    with pytest.raises(InvalidInput, match=r"the study has Ana, Chris, Dee, Eli, Moderator\."):
        admin.withdrawal_preview("Zed")


def test_the_words_leave_the_sqlite_file(tmp_path):
    from _mini_study import build_study

    path = tmp_path / "study.qualkit.db"
    build_study(f"sqlite:///{path}").store.engine.dispose()

    def on_disk() -> bytes:  # the database file and its write-ahead log
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())

    assert all(w.encode() in on_disk() for w in BELA_SAID)
    project = Project.open(f"sqlite:///{path}", user="admin")
    project.withdraw_participant("Béla", reason="consent withdrawn")
    project.store.engine.dispose()
    assert not any(w.encode() in on_disk() for w in BELA_SAID) and b"[withdrawn]" in on_disk()


def test_an_imported_crlf_transcript_with_emoji_stays_whole_after_a_withdrawal(tmp_path):
    """Offsets are code points and CRLF-safe: emoji before and after the withdrawn turn move nothing wrongly."""
    path = tmp_path / "night.txt"
    path.write_bytes("Interviewer: How was the night? 🌙\r\nP07: Awful 😤 the pager never stopped.\r\n"
                     "P08: Mine was calm 🙂 for once.\r\nP07: I cried in the car 😢.\r\nP08: I slept.\r\n".encode())
    roster = tmp_path / "people.csv"
    roster.write_text("id,site,age\r\nP07,North,34\r\nP08,South,41\r\n", encoding="utf-8")
    project = Project.create(tmp_path / "s.qualkit.db", codebook="burnout", user="pi")
    project.import_transcripts([path], participants=roster, progress=False)
    segments = project.segments()
    codings = []
    for turn, words, code in ((2, "Mine was calm 🙂", "peer_support"), (4, "I slept.", "individual_coping"),
                              (1, "the pager never stopped", "workload")):
        seg = segments.query(f"turn == {turn}").iloc[0]
        start, end = locate_passage(seg["text"], int(seg["start"]), words)
        codings.append(project.code(int(seg["id"]), code, start=start, end=end))
    assert project.withdrawal_preview("P07")["turn"].tolist() == [1, 3]
    counts = project.withdraw_participant("P07", reason="consent withdrawn by phone", expected=2)
    assert counts["turns"] == 2 and counts["codings"] == 1
    after = project.store.source("night.txt")
    assert after.text == ("Interviewer: How was the night? 🌙\r\nP07: [withdrawn]\r\nP08: Mine was calm 🙂 for once.\r\n"
                          "P07: [withdrawn]\r\nP08: I slept.\r\n")
    assert accounting_problems(after) == []
    assert [after.text[c.start:c.end] for c in map(project.store.coding, (codings[0].id, codings[1].id))] == [
        "Mine was calm 🙂", "I slept."]
    assert set(project.codings()["segment_id"]) <= set(project.segments()["id"])
    project.store.engine.dispose()
    on_disk = (tmp_path / "s.qualkit.db").read_bytes()
    assert b"the pager never stopped" not in on_disk and "I cried in the car 😢".encode() not in on_disk
    assert b"North" not in on_disk and b"South" in on_disk


def test_the_command_lists_every_turn_and_asks_before_withdrawing(study):
    from typer.testing import CliRunner

    from qualkit.cli import app

    args = ["withdraw", "Béla", "--reason", "consent withdrawn", "--db", study.url, "--user", "admin"]
    declined = CliRunner().invoke(app, args, input="n\n")
    assert declined.exit_code == 1 and "nothing was withdrawn" in declined.output
    assert ("2 turns of Béla in 1 transcript, 2 codings on them, 0 memos written on them (deleted with them):\n"
            "  group1.txt:\n    turn 2 (Béla): 1 coding, 0 memos: We are short-staffed") in declined.output
    assert "cannot be undone" in declined.output and "short-staffed" in study.store.source("group1.txt").text
    done = CliRunner().invoke(app, args, input="y\n")
    assert done.exit_code == 0, done.output
    assert "withdrew Béla: 2 turns in 1 transcript replaced by [withdrawn], 2 codings removed" in done.output
    assert "short-staffed" not in study.store.source("group1.txt").text


def test_a_saved_theme_run_keeps_no_words_or_attributes_of_the_withdrawn_turns(study):
    """A saved theme run quoted the participant; its documents and quotes lose their words, the others move."""
    from qualkit.store.theme_runs import insert_run, run_record

    store = study.store
    turns = [study.segment("group1.txt", t) for t in (3, 2)]  # Ana after Béla, Béla
    documents = {"segment_id": [int(s["id"]) for s in turns], "source": ["group1.txt"] * 2,
                 "start": [int(s["start"]) for s in turns], "end": [int(s["end"]) for s in turns],
                 "text": [s["text"] for s in turns], "speaker": ["Ana", "Béla"], "site": ["South", "North"],
                 "theme": [0, 0]}
    quote = {"text": turns[1]["text"], "speaker": "Béla", "source": "group1.txt", "segment_id": int(turns[1]["id"])}
    run = insert_run(store, name="r", settings={}, versions={}, user="ana",
                     payload={"summary": {}, "documents": documents, "themes": [{"id": 0, "quotes": [quote],
                                                                  "examples": [turns[1]["text"]]}]}, arrays=b"")
    assert Project.open(study.url, user="admin").withdraw_participant("Béla", reason="consent withdrawn")[
        "theme_runs"] == 1
    payload = run_record(store, run)["payload"]
    text = store.source("group1.txt").text
    docs = payload["documents"]
    assert docs["text"] == [turns[0]["text"], "[withdrawn]"] and docs["site"] == ["South", None]
    assert text[docs["start"][0]:docs["end"][0]] == turns[0]["text"] and docs["start"][0] < int(turns[0]["start"])
    assert not any(w in str(payload) for w in BELA_SAID)
    assert payload["themes"][0]["examples"] == ["[withdrawn]"]


def test_memos_written_on_a_withdrawn_turn_are_deleted_with_it_and_leave_every_export(study, tmp_path):
    """A memo on Béla's turn quoted her; it was kept and moved to the transcript, where the app shows no memo
    but the Excel memos sheet, the CSV tables and the .qdpx still carried her words."""
    store = study.store
    admin, ana = Project.open(study.url, user="admin"), Project.open(study.url, user="ana")
    quote = "Béla (nurse, North): 'The paperwork never ends' – she said it twice 😤"
    on_turn = ana.memo(quote, segment_id=int(study.segment("group1.txt", 5)["id"]))
    earlier = ana.memo("Béla again: short-staffed", segment_id=int(study.segment("group1.txt", 2)["id"]))
    store.withdraw_memo(earlier.id, user="ana", expected_version=1)  # deleted, but its row held her words
    on_source = admin.memo("Group 1 ran late; staffing dominates.", source_id=store.source("group1.txt").id)
    on_code = admin.memo("Workload overlaps with staffing.", code_id="workload")
    store.update_memo(on_turn.id, quote + " (twice!)", user="ana", expected_version=1)

    preview = admin.withdrawal_preview("Béla")
    assert preview["memos"].tolist() == [0, 1]
    assert preview["memo_notes"].tolist() == [
        [{"id": earlier.id, "author": "ana", "text": "Béla again: short-staffed", "deleted": True}],
        [{"id": on_turn.id, "author": "ana", "text": quote + " (twice!)", "deleted": False}]]
    assert admin.withdraw_participant("Béla", reason="consent withdrawn", expected=2)["memos"] == 2

    assert set(admin.memos()["id"]) == {on_source.id, on_code.id}  # the transcript's and the code's stay
    assert set(store.memos_df(withdrawn=True)["id"]) == {on_source.id, on_code.id}
    workbook = admin.export(tmp_path / "study.xlsx", format="xlsx")
    sheet = pd.read_excel(workbook, sheet_name="memos")
    assert sheet["text"].tolist() == ["Group 1 ran late; staffing dominates.", "Workload overlaps with staffing."]
    folder = admin.export(tmp_path / "tables", format="csv")
    tables = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.csv"))
    assert "paperwork never ends" not in tables and "Group 1 ran late" in tables
    events = store.events_df("memo")
    theirs = events[events["entity_id"].isin([str(on_turn.id), str(earlier.id)])]
    assert sorted(theirs["action"]) == ["create", "create", "delete", "update"]  # who, when and what stay
    assert set(theirs["user"]) == {"ana"} and not any(
        w in str(theirs[["old", "new"]].values.tolist()) for w in ("paperwork", "short-staffed"))
    assert "Group 1 ran late" in str(events[events["entity_id"] == str(on_source.id)]["new"].tolist())
    if study.url.startswith("sqlite:///"):
        store.engine.dispose()
        path = Path(study.url.removeprefix("sqlite:///"))
        on_disk = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
        assert "never ends' – she said".encode() not in on_disk and b"Group 1 ran late" in on_disk


NIGHT = ("Interviewer: How was the night? 🌙\r\nHannah Price: (00:41)\r\nI didn't sleep for a week 😢, the pager.\r\n"
         "Omar Said: (01:02)\r\nMine was calm 🙂 for once.\r\nHannah Price: (01:30)\r\nI cried in the car.\r\n"
         "Omar Said: (01:45)\r\nI slept.\r\n")


def test_the_withdrawn_persons_name_leaves_their_speaker_labels_the_report_and_the_file(db_url, tmp_path):
    """The text read 'Hannah Price: (00:41)\\n[withdrawn]': the label still said who took part (in the .qdpx
    source text and the import report too). Her labels now carry her id; every other word stays put."""
    path = tmp_path / "north.txt"
    path.write_bytes(NIGHT.encode())
    roster = tmp_path / "people.csv"
    roster.write_text("id,pseudonym,site\r\nP07,Hannah Price,North\r\nP08,Omar Said,South\r\n", encoding="utf-8")
    project = Project.create(db_url, "night", codebook="burnout", user="pi")
    project.import_transcripts([path], participants=roster, progress=False)
    assert "Hannah Price" in str(project.store.source("north.txt").import_report)
    segments = project.segments()
    for turn, words, code in ((1, "Mine was calm 🙂", "peer_support"), (3, "I slept.", "individual_coping"),
                              (0, "the pager", "workload")):
        seg = segments.query(f"turn == {turn}").iloc[0]
        start, end = locate_passage(seg["text"], int(seg["start"]), words)
        project.code(int(seg["id"]), code, start=start, end=end)
    night = segments[segments["turn"].isna()].iloc[0]
    project.code(int(night["id"]), "workload", start=int(night["start"]) + 13, end=int(night["end"]))
    before = _words(project.store)

    assert project.withdraw_participant("P07", reason="consent withdrawn", expected=2)["codings"] == 1
    after = project.store.source("north.txt")
    assert after.text == NIGHT.replace("Hannah Price", "P07").replace(
        "I didn't sleep for a week 😢, the pager.", "[withdrawn]").replace("I cried in the car.", "[withdrawn]")
    assert [after.text[a:b] for a, b in after.metadata["label_spans"]] == [
        "P07: (00:41)", "Omar Said: (01:02)", "P07: (01:30)", "Omar Said: (01:45)"]
    assert accounting_problems(after) == []
    assert _words(project.store) == {i: w for i, w in before.items() if w != "the pager"}
    assert sorted(_words(project.store).values()) == ["How was the night? 🌙", "I slept.", "Mine was calm 🙂"]
    assert set(project.segments()["speaker"].dropna()) == {"Omar Said"}
    report = after.import_report
    assert report.speakers == {"P07": 2, "Omar Said": 2} and "Hannah Price" not in str(report)
    assert "Hannah Price" not in str(after.metadata) and "Hannah Price" not in str(project.participants())
    qdpx = project.export(tmp_path / "night.qdpx", format="qdpx")
    import zipfile

    with zipfile.ZipFile(qdpx) as archive:
        packed = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Hannah Price" not in packed and b"Omar Said" in packed
    if db_url.startswith("sqlite:///"):
        project.store.engine.dispose()
        on_disk = Path(db_url.removeprefix("sqlite:///")).read_bytes()
        assert b"Hannah Price" not in on_disk and b"Omar Said" in on_disk
