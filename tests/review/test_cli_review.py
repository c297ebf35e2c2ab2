"""``qualkit review``: a terminal user lists the queue, decides exactly the versions listed, and undoes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import qualkit as qk
from qualkit.cli import app

runner = CliRunner()
TALK = ("Moderator: How are the night shifts?\n"
        "Ann: I am exhausted, bone tired, every single week.\n"
        "Ben: The paperwork never ends, I chart at home every night.\n")


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    path = tmp_path / "nights.qualkit.db"
    transcript = tmp_path / "group1.txt"
    transcript.write_text(TALK, encoding="utf-8")
    project = qk.Project.create(path, name="Nights", user="ana")
    project.import_transcripts([transcript])
    project.suggest()
    yield project, str(path)
    project.store.engine.dispose()


def review(*args: str):
    return runner.invoke(app, ["review", *args])


def test_the_queue_lists_each_suggestion_as_id_at_version_with_its_words(study):
    project, db = study
    pending = project.review_queue(5)
    assert not pending.empty
    listed = review("queue", "--db", db, "--user", "ana")
    assert listed.exit_code == 0, listed.output
    first = pending.iloc[0]
    assert f"{first['id']}@{first['version']}  {first['code_id']}" in listed.output
    assert "group1.txt turn" in listed.output and "“" in listed.output
    assert "group1.txt turn 1 (Ann)" in listed.output or "group1.txt turn 2 (Ben)" in listed.output


def test_a_survey_answer_is_listed_by_its_respondent_not_as_turn_0(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    survey = tmp_path / "survey.csv"
    survey.write_text("Respondent,Answer\nR0001,I am exhausted and burnt out every single week.\n"
                      "R0002,The paperwork never ends; I chart at home every night.\n", encoding="utf-8")
    path = tmp_path / "survey.qualkit.db"
    project = qk.Project.create(path, name="Survey", user="ana")
    project.import_transcripts([survey])
    project.suggest()
    assert not project.review_queue(5).empty
    listed = review("queue", "--db", str(path), "--user", "ana")
    project.store.engine.dispose()
    assert listed.exit_code == 0, listed.output
    assert "survey.csv respondent R000" in listed.output
    assert "turn" not in listed.output and "unattributed" not in listed.output


def test_accept_and_reject_decide_exactly_the_listed_versions_and_undo_takes_the_newest_back(study):
    project, db = study
    pending = project.review_queue(5)
    (a, va), (b, vb) = [(int(r.id), int(r.version)) for r in pending.head(2).itertuples()]
    done = review("accept", f"{a}@{va}", "--db", db, "--user", "ana")
    assert done.exit_code == 0, done.output
    done = review("reject", f"{b}@{vb}", "--db", db, "--user", "ana")
    assert done.exit_code == 0, done.output
    assert (project.store.coding(a).status, project.store.coding(b).status) == ("accepted", "rejected")
    assert project.store.coding(a).decided_by == "ana"
    undone = review("undo", "--db", db, "--user", "ana")
    assert undone.exit_code == 0 and f"undone: {b}@" in undone.output
    assert (project.store.coding(a).status, project.store.coding(b).status) == ("accepted", "suggested")


def test_a_stale_version_is_refused_and_names_the_card_while_the_others_are_decided(study):
    project, db = study
    pending = project.review_queue(5)
    (a, va), (b, vb) = [(int(r.id), int(r.version)) for r in pending.head(2).itertuples()]
    project.reject(a, expected_version=va)  # someone else, meanwhile
    result = review("accept", f"{a}@{va}", f"{b}@{vb}", "--db", db, "--user", "ana")
    assert result.exit_code == 2
    assert f"error: {a}@{va}: coding {a} was changed" in result.output
    assert project.store.coding(a).status == "rejected" and project.store.coding(b).status == "accepted"


def test_an_id_without_its_version_is_refused_before_anything_is_decided(study):
    project, db = study
    pending = project.review_queue(5)
    (a, va), (b, _) = [(int(r.id), int(r.version)) for r in pending.head(2).itertuples()]
    result = review("accept", f"{a}@{va}", str(b), "--db", db, "--user", "ana")
    assert result.exit_code != 0
    assert f"'{b}' is not ID@VERSION" in str(result.exception)
    assert project.store.coding(a).status == "suggested"


def test_change_gives_the_words_another_code_and_keeps_the_rejection(study):
    project, db = study
    row = project.review_queue(5).iloc[0]
    other = next(c.id for c in project.codebook.codable_codes if c.id != row["code_id"])
    result = review("change", f"{row['id']}@{row['version']}", other, "--db", db, "--user", "ana")
    assert result.exit_code == 0, result.output
    assert project.store.coding(int(row["id"])).status == "rejected"
    coded = project.codings()
    assert ((coded["code_id"] == other) & (coded["start"] == row["start"]) & (coded["end"] == row["end"])).any()


def test_info_counts_a_hand_code_removed_again_apart_from_rejections(study):
    """A stranger's `qualkit info` said "rejected: 13", most of them their own hand codes taken back."""
    project, db = study
    pending = project.review_queue(5)
    project.reject(int(pending.iloc[0]["id"]))
    segment = project.segments().iloc[-1]
    project.code(int(segment["id"]), "workload")
    project.undo()
    info = runner.invoke(app, ["info", db, "--user", "ana"])
    assert info.exit_code == 0, info.output
    assert "  rejected: 1 coding\n" in info.output and "  removed by its coder: 1 coding\n" in info.output


def test_a_hand_code_taken_back_reads_removed_in_the_tables_not_rejected(study, tmp_path):
    """A stranger's Excel sheet and ``codings()`` listed her own hand code, undone, as "rejected" (D6)."""
    from qualkit.export.tables import tidy_codings

    project, _ = study
    rejected = int(project.review_queue(5).iloc[0]["id"])
    project.reject(rejected)
    project.code(int(project.segments().iloc[-1]["id"]), "workload")
    project.undo()
    every = project.codings()
    assert every.loc[every["id"] == rejected, "removed"].tolist() == [False]
    hand = every.loc[every["origin"] == "human"]
    assert hand["status"].tolist() == ["rejected"] and hand["removed"].tolist() == [True]
    assert project.codings(status="rejected")["removed"].sum() == 1
    table = tidy_codings(project.store)
    assert table.loc[table["coding_id"] == rejected, "status"].tolist() == ["rejected"]
    assert table.loc[table["origin"] == "human", "status"].tolist() == ["removed"]
    assert tidy_codings(project.store, statuses=("rejected",))["coding_id"].tolist() == [rejected]


def test_undo_takes_back_a_bulk_accept_whole_as_the_app_does(study):
    project, db = study
    from qualkit.review import decisions

    pending = project.review_queue(5)
    items = [(int(r.id), int(r.version)) for r in pending.head(2).itertuples()]
    decisions.accept_many(project.store, items, actor=project.actor())
    undone = review("undo", "--db", db, "--user", "ana")
    assert undone.exit_code == 0, undone.output
    assert {project.store.coding(i).status for i, _ in items} == {"suggested"}


def test_change_to_its_own_code_or_a_version_never_seen_is_refused_and_undo_of_a_change_says_what_came_back(study):
    """A stranger's `change 66@1 system_failures` (its own code) made a second row; `accept 51@9` blamed
    "someone else"; undo of a change said the new row "is rejected again", though it never had been."""
    project, db = study
    first = project.review_queue(5).iloc[0]
    card = f"{first['id']}@{first['version']}"
    same = review("change", card, str(first["code_id"]), "--db", db, "--user", "ana")
    assert same.exit_code != 0 and f"has the code '{first['code_id']}' already; nothing changed" in same.output
    never = review("accept", f"{first['id']}@9", "--db", db, "--user", "ana")
    assert never.exit_code != 0 and "has no version 9 (it is at version 1)" in never.output
    assert project.store.coding(int(first["id"])).status == "suggested"
    other = next(c.id for c in project.codebook.codable_codes if c.id != first["code_id"])
    changed = review("change", card, other, "--db", db, "--user", "ana")
    assert changed.exit_code == 0, changed.output
    undone = review("undo", "--db", db, "--user", "ana")
    assert undone.exit_code == 0, undone.output
    assert f"{first['id']}@" in undone.output and "awaits review again" in undone.output
    assert "is withdrawn, kept on record" in undone.output and "rejected again" not in undone.output
