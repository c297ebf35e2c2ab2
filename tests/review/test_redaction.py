"""Redacting a coded transcript: the words leave the database, every coding keeps its words, nothing else moves.

Runs on SQLite and on the real PostgreSQL server (the mini study on ``db_url``).
"""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.ingest.accounting import accounting_problems
from qualkit.project import Project
from qualkit.review import decisions
from qualkit.spans import locate_passage
from qualkit.users import User

ANA = User("ana")


def _words(store) -> dict[int, str]:
    """Each coding's words, as the transcript now reads."""
    texts = {}
    for row in store.codings_df().itertuples():
        texts[int(row.id)] = store.source(row.source, with_raw=False).text[int(row.start):int(row.end)]
    return texts


def test_a_name_is_taken_out_of_a_coded_transcript_and_every_coding_keeps_its_words(study):
    """A stranger's ethics board asked for a name removed after coding began: a re-import was refused as a
    duplicate, and removing the transcript was refused while decisions existed."""
    store = study.store
    seg = study.segment("group1.txt", 1)
    start, end = locate_passage(seg["text"], int(seg["start"]), "The EHR. I spend")
    hand = decisions.add_code(store, int(seg["id"]), "administrative_burden", actor=ANA, start=start, end=end)
    seen = study.suggestion("group1.txt", 2, "workload")
    other = {i: words for i, words in _words(store).items()}
    admin = Project.open(study.url, user="admin")

    preview = admin.redaction_preview("group1.txt", "ehr")
    assert preview["context"].tolist() == ["Honestly? The «EHR». I spend two hours every night on docum…"]
    assert preview["turn"].tolist() == [1]
    counts = admin.redact("group1.txt", "ehr", "[system]", expected=1)
    assert counts["passages"] == 1 and counts["codings"] >= 2

    after = store.source("group1.txt")
    assert "EHR" not in after.text and after.text.count("[system]") == 1 and after.raw is None
    assert all(after.text[seg.start:seg.end] == seg.text for seg in after.segments)
    now = _words(store)
    assert now[hand.id] == "The [system]. I spend"
    assert {i: w.replace("EHR", "[system]") for i, w in other.items()} == now  # the rest kept its words
    suggestion = store.coding(int(study.suggestion("group1.txt", 1, "administrative_burden").id))
    evidence = [after.text[a:b] for a, b in suggestion.evidence]
    assert evidence == ["[system]", "documentation"]
    with pytest.raises(ConflictError):  # a card drawn before the redaction is refused, not applied
        decisions.decide(store, int(seen.id), "accept", actor=ANA, expected_version=int(seen.version))
    event = store.events_df("source").iloc[0]
    assert event["action"] == "redact" and event["user"] == "admin" and "EHR" not in str(event["new"])

    # a speaker's name: in the speaker labels of the text and of every turn
    assert admin.redact("group1.txt", "Béla", "[P2]")["passages"] == 2
    after = store.source("group1.txt")
    assert "Béla" not in after.text and all(after.text[seg.start:seg.end] == seg.text for seg in after.segments)
    assert {seg.speaker for seg in after.segments} == {"Moderator", "Ana", "[P2]", "Chris"}
    assert store.source("group2.txt").text == study.store.source("group2.txt").text  # the other transcript as it was


def test_redaction_is_refused_when_what_was_previewed_changed_or_the_words_are_not_there(study):
    admin = Project.open(study.url, user="admin")
    before = study.store.source("group1.txt").text
    with pytest.raises(ConflictError, match=r"now occurs 1 times in group1\.txt, not the 2 you previewed"):
        admin.redact("group1.txt", "paperwork", "[x]", expected=2)
    with pytest.raises(InvalidInput, match=r"'Okafor' does not occur in group1\.txt"):
        admin.redact("group1.txt", "Okafor", "[x]")
    with pytest.raises(InvalidInput, match="the replacement is empty"):
        admin.redact("group1.txt", "paperwork", "  ")
    with pytest.raises(InvalidInput, match="run across the edge of turn"):  # the end of one turn and the next label
        admin.redact("group1.txt", "documentation. Béla", "[x]")
    with pytest.raises(PermissionDenied):
        Project.open(study.url, user="ana").redact("group1.txt", "paperwork", "[x]")
    assert study.store.source("group1.txt").text == before


def test_the_words_are_gone_from_the_sqlite_file(tmp_path):
    """PostgreSQL's old row versions go at its own VACUUM; an SQLite file is vacuumed by the redaction itself."""
    from _mini_study import build_study

    path = tmp_path / "study.qualkit.db"
    build_study(f"sqlite:///{path}").store.engine.dispose()

    def on_disk() -> bytes:  # the database file and its write-ahead log
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())

    assert b"Thursday" in on_disk()
    project = Project.open(f"sqlite:///{path}", user="admin")
    project.redact("group1.txt", "Thursday", "[day]")
    project.store.engine.dispose()
    assert b"Thursday" not in on_disk()


def test_an_imported_crlf_transcript_with_emoji_stays_whole_after_redaction(tmp_path):
    """Offsets are code points and CRLF-safe: a name before an emoji and across CRLF lines moves everything after."""
    path = tmp_path / "night.txt"
    path.write_bytes("Interviewer: How was the night?\r\nZoë Okafor: Dr Łukasz ignored me 😤 again.\r\n"
                     "Interviewer: And then?\r\nZoë Okafor: I told Łukasz I was done. 🙂\r\n".encode())
    project = Project.create(tmp_path / "s.qualkit.db", codebook="burnout", user="pi")
    project.import_transcripts([path], progress=False)
    seg = project.segments().query("turn == 3").iloc[0]
    start, end = locate_passage(seg["text"], int(seg["start"]), "I told Łukasz I was done. 🙂")
    hand = project.code(int(seg["id"]), "moral_injury", start=start, end=end)
    counts = project.redact("night.txt", "Łukasz", "[colleague]")
    assert counts["passages"] == 2
    after = project.store.source("night.txt")
    assert accounting_problems(after) == []  # every character in exactly one turn or speaker label
    moved = project.store.coding(hand.id)
    assert after.text[moved.start:moved.end] == "I told [colleague] I was done. 🙂"
    assert project.redact("night.txt", "Zoë Okafor", "[P1]")["passages"] == 2
    after = project.store.source("night.txt")
    assert accounting_problems(after) == [] and "Okafor" not in after.text
    assert set(project.segments()["speaker"]) == {"Interviewer", "[P1]"}
    project.store.engine.dispose()
    assert b"Okafor" not in (tmp_path / "s.qualkit.db").read_bytes()  # the import report named her too


def test_the_command_lists_every_place_and_asks_before_replacing(study):
    from typer.testing import CliRunner

    from qualkit.cli import app

    args = ["redact", "group1.txt", "paperwork", "--with", "[forms]", "--db", study.url, "--user", "admin"]
    declined = CliRunner().invoke(app, args, input="n\n")
    assert declined.exit_code == 1 and "nothing was replaced" in declined.output
    assert "1 place in group1.txt:\n  turn 5 (Béla): The «paperwork» never ends" in declined.output
    assert "paperwork" in study.store.source("group1.txt").text
    done = CliRunner().invoke(app, args, input="y\n")
    assert done.exit_code == 0, done.output
    assert "replaced 1 in group1.txt;" in done.output and "[forms]" in study.store.source("group1.txt").text
