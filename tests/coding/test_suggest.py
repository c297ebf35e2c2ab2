"""Project.suggest and ``qualkit suggest``: suggestions for a study, refreshed without touching a human decision."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import qualkit as qk
from qualkit.cli import app

LINES = [
    ("Moderator", "What makes the work hard?"),
    ("Ann", "Honestly the paperwork never ends, I chart every night until midnight."),
    ("Béla", "I'm so exhausted, there is nothing left in the tank by Thursday."),
    ("Cy", "We laughed at lunch together, it feels like a family here."),
    ("Ann", "Prior auths and the inbox, every single day."),
    ("Béla", "We are short-staffed and I'm drained, running on empty."),
]


@pytest.fixture
def project(two_session_project):
    return two_session_project(LINES)


def test_suggest_one_transcript_with_progress(project):
    calls = []
    result = project.suggest("g2.txt", progress=lambda done, total: calls.append((done, total)))
    frame = project.codings()
    assert set(frame["source"]) == {"g2.txt"}  # only the transcript asked for
    assert result == {"segments": 5, "suggestions": len(frame)} and len(frame) > 0
    assert set(frame["status"]) == {"suggested"} and "Moderator" not in set(frame["speaker"])
    assert calls and calls[-1] == (5, 5) and all(total == 5 for _, total in calls)
    whole = project.suggest()
    assert whole["segments"] == 10 and set(project.codings()["source"]) == {"g1.txt", "g2.txt"}


def _snapshot(project, ids):
    frame = project.codings().set_index("id")
    return {i: tuple(frame.loc[i, ["segment_id", "code_id", "status", "version", "decided_by", "start", "end"]])
            for i in ids}


def test_resuggest_after_decisions_and_codebook_edit_keeps_every_human_decision(project):
    project.suggest()
    first = project.codings()
    accepted, rejected, untouched = (int(i) for i in first["id"][:3])
    project.accept(accepted)
    project.reject(rejected)
    segment = int(first.loc[first["id"] == untouched, "segment_id"].iloc[0])
    manual = project.code(segment, "workload", start=None, end=None)
    human = [accepted, rejected, int(manual.id)]
    before = _snapshot(project, human)

    again = project.suggest()
    assert _snapshot(project, human) == before  # new decisions: humans untouched
    frame = project.codings()
    pending = frame[frame["status"] == "suggested"]
    decided = {(r.segment_id, r.code_id) for r in frame.itertuples() if r.id in human}
    assert not decided & set(zip(pending["segment_id"], pending["code_id"], strict=True))
    assert again["suggestions"] == len(pending)
    still = set(pending["id"]) & set(first["id"])
    assert still, "a suggestion proposed again keeps its id"

    # A codebook edit: one suggested code is dropped from the codebook.
    dropped = next(c for c in pending["code_id"] if c not in {frame.set_index("id").loc[i, "code_id"] for i in human})
    book = project.codebook
    edited = qk.Codebook(name=book.name, description=book.description, version=book.version,
                         codes=[c for c in book.codes if c.id != dropped])
    project.set_codebook(edited, note="drop a code")
    project.suggest()
    after = project.codings()
    assert _snapshot(project, human) == before  # codebook edit: humans untouched
    assert dropped not in set(after.loc[after["status"] == "suggested", "code_id"])  # its suggestions withdrawn
    assert set(after.loc[after["status"] == "suggested", "codebook_version"]) == {project.codebook.version}


def test_cli_suggest_and_import_suggest(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    runner = CliRunner()
    db = tmp_path / "nurses.qualkit.db"
    assert runner.invoke(app, ["init", str(db)]).exit_code == 0
    assert qk.Project.open(db).name == "nurses"  # named after the file, never "default"
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "g1.txt").write_text("\n".join(f"{s}: {b}" for s, b in LINES) + "\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", str(folder), "--db", str(db), "--suggest", "--no-progress"])
    assert imported.exit_code == 0, imported.output
    assert "suggestions await review" in imported.output
    waiting = qk.Project.open(db).codings(status="suggested")
    assert len(waiting) > 0
    result = runner.invoke(app, ["suggest", "--db", str(db), "--source", "g1.txt"])
    assert result.exit_code == 0, result.output
    assert f"{len(qk.Project.open(db).codings(status='suggested'))} suggestions await review" in result.output
    assert "suggesting codes" in result.output  # the progress bar (stderr, mixed into output here)
    missing = runner.invoke(app, ["suggest", "--db", str(db), "--source", "nope.txt"])
    assert missing.exit_code != 0


def test_init_names(tmp_path):
    runner = CliRunner()
    named = runner.invoke(app, ["init", str(tmp_path / "a.qualkit.db"), "--name", "Burnout pilot", "--codebook", "none"])
    assert named.exit_code == 0 and "'Burnout pilot'" in named.output
    url = runner.invoke(app, ["init", "--db", "postgresql://nobody@127.0.0.1:1/x"])
    assert url.exit_code != 0 and "needs a name" in str(url.exception or url.output)
