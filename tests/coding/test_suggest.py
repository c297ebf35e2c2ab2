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


KEEP_LINES = [
    ("Moderator", "What makes the work hard?"),
    ("Ann", "Prior auths and the inbox, every single day."),
    ("Béla", "The inbox fills up with messages."),
    ("Cy", "Honestly the paperwork never ends, I chart every night until midnight."),
    ("Ann", "We laughed at lunch together, it feels like a family here."),
]


def test_a_retrain_rescores_a_pending_suggestion_in_place_and_only_the_codebook_withdraws_it(two_session_project):
    """A researcher rejected administrative_burden on two passages; each decision retrained the coder, whose
    lowered prior took another passage's suggestion below its threshold: the retrain deleted it (her clearest
    example gone, and suggesting again did not bring it back). Now it is rescored in place and stays pending
    until a person decides it; only its code leaving the codebook withdraws it."""
    project = two_session_project(KEEP_LINES)
    project.suggest()
    first = project.codings(code_id="administrative_burden", source="g1.txt").sort_values("score", ascending=False)
    assert len(first) == 3, first[["segment_id", "code_id", "score"]]
    clear, also, kept = (int(i) for i in first["id"])
    before = project.codings().set_index("id").loc[kept]

    project.reject(clear)
    project.suggest()
    project.reject(also)
    result = project.suggest()

    after = project.codings().set_index("id")
    assert kept in after.index, "the retrain deleted a pending suggestion because its score fell"
    row = after.loc[kept]
    coder = project.train_coder()
    threshold = float(coder.thresholds_[list(coder.codes_).index("administrative_burden")])
    assert row["status"] == "suggested" and row["segment_id"] == before["segment_id"]
    assert row["score"] < before["score"] and row["score"] < threshold  # rescored below threshold, still pending
    assert row["version"] == before["version"]  # a machine rescore keeps the version, as a re-proposal does
    assert result["suggestions"] == int((after["status"] == "suggested").sum())
    assert set(after.loc[[clear, also], "status"]) == {"rejected"}
    pending = after[after["status"] == "suggested"]
    again = pending.loc[pending["code_id"] == "administrative_burden", "segment_id"]
    assert not {int(after.loc[clear, "segment_id"]), int(after.loc[also, "segment_id"])} & set(again)  # not again

    # Its basis gone: the code leaves the codebook, and the next retrain withdraws its suggestion.
    book = project.codebook
    project.set_codebook(qk.Codebook(name=book.name, description=book.description, version=book.version,
                                     codes=[c for c in book.codes if c.id != "administrative_burden"]),
                         note="drop a code", leave_out_coded=True)
    project.suggest()
    assert kept not in set(project.codings()["id"])
    assert set(project.codings(code_id="administrative_burden")["status"]) == {"rejected"}


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
