"""Issue 16 findings 1 and 2: every public ``Project`` method, run as a viewer (vic) and as a blind coder (ana,
coding group1.txt blind beside ben), against a table of what each may do — on SQLite and PostgreSQL.

Outcomes: ``OK`` (runs), ``DENIED`` (:class:`PermissionDenied`, nothing written), ``HIDDEN`` (runs, and the
result shows nothing of ben's on the blind transcript). The table must name every public method, and
agree with the rule each method declares (``qualkit.access.PROJECT_RULES``).
"""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from qualkit.access import PROJECT_RULES, READ_PERMISSIONS
from qualkit.errors import PermissionDenied, QualkitError
from qualkit.project import Project

OK, DENIED, HIDDEN = "ok", "denied", "hidden"
SECRET = "BEN-SECRET-MEMO"


def _suggestion(study, turn: int, code: str) -> int:
    return int(study.suggestion("group2.txt", turn, code)["id"])


def _seg(study, source: str, turn: int) -> int:
    return int(study.segment(source, turn)["id"])


def _words(study, source: str, turn: int) -> tuple[int, int]:
    """The first word of a turn (a span inside it)."""
    seg = study.segment(source, turn)
    start = int(seg["start"])
    return start, start + len(str(seg["text"]).split()[0])


# method -> (call(project, study, tmp_path), viewer outcome, blind coder outcome)
TABLE = {
    "create": (lambda p, s, t: Project.create(s.url, "another", codebook=None, user=p.user), DENIED, DENIED),
    "open": (lambda p, s, t: Project.open(s.url, s.project.name, user=p.user), OK, OK),
    "import_qdpx": (lambda p, s, t: Project.import_qdpx(t / "missing.qdpx", p), DENIED, DENIED),
    "import_transcripts": (lambda p, s, t: p.import_transcripts([t / "new.txt"], progress=False), DENIED, DENIED),
    "add_participants": (lambda p, s, t: p.add_participants(pd.DataFrame({"id": ["R9"]})), DENIED, DENIED),
    "add_speaker_participants": (lambda p, s, t: p.add_speaker_participants(), DENIED, DENIED),
    "set_codebook": (lambda p, s, t: p.set_codebook(p.codebook), DENIED, DENIED),
    "set_min_cell": (lambda p, s, t: p.set_min_cell(5), DENIED, DENIED),
    "sources": (lambda p, s, t: p.sources(), OK, OK),
    "segments": (lambda p, s, t: p.segments(), OK, OK),
    "participants": (lambda p, s, t: p.participants(), OK, OK),
    "codings": (lambda p, s, t: p.codings(), OK, HIDDEN),
    "memos": (lambda p, s, t: p.memos(), OK, HIDDEN),
    "history": (lambda p, s, t: p.history(), OK, HIDDEN),
    "accept": (lambda p, s, t: p.accept(_suggestion(s, 2, "workload")), DENIED, OK),
    "reject": (lambda p, s, t: p.reject(_suggestion(s, 2, "emotional_exhaustion")), DENIED, OK),
    "change_code": (lambda p, s, t: p.change_code(_suggestion(s, 1, "peer_support"), "individual_coping"),
                    DENIED, OK),
    "code": (lambda p, s, t: p.code(_seg(s, "group2.txt", 3), "workload"), DENIED, OK),
    "memo": (lambda p, s, t: p.memo("a note", segment_id=_seg(s, "group2.txt", 3)), DENIED, OK),
    "edit_memo": (lambda p, s, t: p.edit_memo(p.memo("a note").id, "a better note"), DENIED, OK),
    "delete_memo": (lambda p, s, t: p.delete_memo(p.memo("a slip").id), DENIED, OK),
    "restore_memo": (lambda p, s, t: p.restore_memo(p.delete_memo(p.memo("a slip").id)["id"]), DENIED, OK),
    "adjust": (lambda p, s, t: p.adjust(_suggestion(s, 2, "workload"), *_words(s, "group2.txt", 2)), DENIED, OK),
    "revert": (lambda p, s, t: p.revert(_suggestion(s, 2, "workload")), DENIED, OK),
    "undo": (lambda p, s, t: p.undo(), DENIED, OK),
    "actor": (lambda p, s, t: p.actor(), OK, OK),
    "transcript_formats": (lambda p, s, t: p.transcript_formats(), OK, OK),
    "import_codings": (lambda p, s, t: p.import_codings(t / "missing.jsonl"), DENIED, DENIED),
    "remove_transcript": (lambda p, s, t: p.remove_transcript("group2.txt"), DENIED, DENIED),
    "redaction_preview": (lambda p, s, t: p.redaction_preview("group2.txt", "patients"), DENIED, DENIED),
    "redact": (lambda p, s, t: p.redact("group2.txt", "patients", "[x]"), DENIED, DENIED),
    "withdrawal_preview": (lambda p, s, t: p.withdrawal_preview("Dee"), DENIED, DENIED),
    "withdraw_participant": (lambda p, s, t: p.withdraw_participant("Dee", reason="consent withdrawn"), DENIED, DENIED),
    "ids": (lambda p, s, t: p.ids(pd.DataFrame({"id": [1]})), OK, OK),
    "autocode": (lambda p, s, t: p.autocode(progress=False), DENIED, OK),
    "suggest": (lambda p, s, t: p.suggest("group2.txt"), DENIED, OK),
    "train_coder": (lambda p, s, t: p.train_coder(), DENIED, OK),
    "fine_tune": (lambda p, s, t: p.fine_tune(progress=False), DENIED, OK),
    "review_queue": (lambda p, s, t: p.review_queue(), OK, OK),
    "evaluate": (lambda p, s, t: p.evaluate(t / "gold.jsonl"), OK, DENIED),
    "assign": (lambda p, s, t: p.assign("group2.txt", ["ana", "ben"]), DENIED, DENIED),
    "assignments": (lambda p, s, t: p.assignments(), OK, OK),
    "mark_done": (lambda p, s, t: p.mark_done("group1.txt"), DENIED, OK),
    "disagreements": (lambda p, s, t: p.disagreements("group1.txt"), DENIED, DENIED),
    "adjudicate": (lambda p, s, t: p.adjudicate(_seg(s, "group1.txt", 4), "peer_support", apply=True),
                   DENIED, DENIED),
    "unsettle": (lambda p, s, t: p.unsettle(int(s.suggestion("group1.txt", 1, "administrative_burden")["id"])),
                 DENIED, DENIED),
    "add_demo_users": (lambda p, s, t: p.add_demo_users(), DENIED, DENIED),
    "discover_themes": (lambda p, s, t: p.discover_themes(), DENIED, OK),
    "themes": (lambda p, s, t: p.themes(), OK, OK),
    "theme_runs": (lambda p, s, t: p.theme_runs(), OK, OK),
    "promote_theme": (lambda p, s, t: p.promote_theme(1), DENIED, DENIED),
    "merge_themes": (lambda p, s, t: p.merge_themes([1, 2]), DENIED, OK),
    "split_theme": (lambda p, s, t: p.split_theme(1), DENIED, OK),
    "rename_theme": (lambda p, s, t: p.rename_theme(1, "x"), DENIED, OK),
    "discard_theme": (lambda p, s, t: p.discard_theme(1), DENIED, OK),
    "prevalence": (lambda p, s, t: p.prevalence(by=None), OK, DENIED),
    "cooccurrence": (lambda p, s, t: p.cooccurrence(), OK, DENIED),
    "passages": (lambda p, s, t: p.passages("peer_support"), OK, DENIED),
    "distinctive_words": (lambda p, s, t: p.distinctive_words(by="speaker", min_count=1), OK, OK),
    "saturation": (lambda p, s, t: p.saturation(), OK, DENIED),
    "quotes": (lambda p, s, t: p.quotes("peer_support"), OK, DENIED),
    "reliability": (lambda p, s, t: p.reliability(["ana", "ben"], n_boot=0), OK, DENIED),
    "export": (lambda p, s, t: p.export(t / f"{p.user}.xlsx"), OK, DENIED),
    "report": (lambda p, s, t: p.report(t / f"{p.user}.md", figures=False, n_boot=0), OK, DENIED),
}
# Variants of a method whose arguments change what it reveals.
VARIANTS = [
    ("distinctive_words(code=)", lambda p, s, t: p.distinctive_words(by="speaker", code="peer_support",
                                                                       min_count=1), OK, DENIED),
    ("reliability(origin:human)", lambda p, s, t: p.reliability(["origin:human", "machine:auto"], n_boot=0),
     OK, DENIED),
    ("export(qdc)", lambda p, s, t: p.export(t / f"{p.user}.qdc"), OK, OK),
    ("export(qdpx)", lambda p, s, t: p.export(t / f"{p.user}.qdpx"), OK, DENIED),
    ("export(csv)", lambda p, s, t: p.export(t / f"{p.user}-csv", "csv"), OK, DENIED),
    ("report(html)", lambda p, s, t: p.report(t / f"{p.user}.html", figures=False, n_boot=0), OK, DENIED),
]


def _public_methods() -> set[str]:
    names = set()
    for name, member in inspect.getmembers(Project):
        if name.startswith("_") or isinstance(inspect.getattr_static(Project, name), property):
            continue
        if callable(member):
            names.add(name)
    return names


def test_the_table_names_every_public_method():
    assert _public_methods() == set(TABLE)


@pytest.mark.parametrize("name", sorted(PROJECT_RULES))
def test_the_table_agrees_with_each_methods_rule(name):
    """A viewer may do exactly what needs no write right; a coder is refused whole-project views while blind."""
    if name not in TABLE:
        pytest.skip(f"{name} is not a Project method")
    _, viewer, blind = TABLE[name]
    assert (viewer == DENIED) == (PROJECT_RULES[name] not in READ_PERMISSIONS), name
    if PROJECT_RULES[name] == "see_all":
        assert blind == DENIED, name


def _reveals_ben(result, study) -> bool:
    group1 = int(study.store.source("group1.txt").id)
    frame = result
    if "author" in frame:  # memos
        return SECRET in " ".join(frame["text"].astype(str)) or "ben" in set(frame["author"])
    if "entity" in frame:  # events
        return "ben" in set(frame.loc[frame["entity"].isin(["coding", "memo"]), "user"])
    on_group1 = frame[frame["source_id"] == group1]
    return bool(({"ben"} & set(on_group1["coder"])) or ({"ben"} & set(on_group1["decided_by"].dropna())))


def _run(project, study, tmp_path, call):
    """``("ran", result)``, ``(DENIED, error)``, or ``("ran", error)`` for another one-line error (the rule let
    it through; the data did not suit it, e.g. reliability of two coders with no unit in common)."""
    try:
        return "ran", call(project, study, tmp_path)
    except PermissionDenied as error:
        return DENIED, error
    except QualkitError as error:
        return "ran", error


@pytest.mark.parametrize("who", ["vic", "ana"])
def test_every_project_method_as_viewer_and_blind_coder(blind_study, stub_models, tmp_path, who):
    (tmp_path / "new.txt").write_text("Ann: a new transcript.\nBob: yes.\n", encoding="utf-8")
    (tmp_path / "gold.jsonl").write_text("", encoding="utf-8")
    project = Project.open(blind_study.url, blind_study.project.name, user=who)
    wrong = []
    for name, call, viewer, blind in [(n, *TABLE[n]) for n in TABLE] + VARIANTS:
        expected = viewer if who == "vic" else blind
        before = len(blind_study.store.events_df())
        outcome, result = _run(project, blind_study, tmp_path, call)
        if expected == DENIED:
            if outcome != DENIED:
                wrong.append(f"{name}: expected PermissionDenied, it ran")
            elif len(blind_study.store.events_df()) != before:
                wrong.append(f"{name}: refused but wrote an event")
        elif outcome == DENIED:
            wrong.append(f"{name}: expected {expected}, refused: {result}")
        elif expected == HIDDEN and _reveals_ben(result, blind_study):
            wrong.append(f"{name}: shows ben's decisions on the blind transcript")
    assert not wrong, wrong


def test_the_viewer_sees_what_the_blind_coder_may_not(blind_study):
    """The HIDDEN checks can fail: the same reads as a non-blind reader do show ben."""
    vic = Project.open(blind_study.url, blind_study.project.name, user="vic")
    assert _reveals_ben(vic.codings(), blind_study)
    assert _reveals_ben(vic.memos(), blind_study)
    assert _reveals_ben(vic.history(), blind_study)
    ana = Project.open(blind_study.url, blind_study.project.name, user="ana")
    assert not _reveals_ben(ana.codings(), blind_study) and "ana" in set(ana.codings()["coder"])


def test_blind_coder_decides_in_own_rows_through_project(blind_study):
    """Project.accept on the blind transcript makes ana's own row, as the app does; the suggestion stays."""
    ana = Project.open(blind_study.url, blind_study.project.name, user="ana")
    suggestion = blind_study.suggestion("group1.txt", 1, "administrative_burden")
    own = ana.accept(int(suggestion["id"]))
    assert own.coder == "ana" and own.parent_id == int(suggestion["id"])
    assert blind_study.store.coding(int(suggestion["id"])).status == "suggested"
    ben = Project.open(blind_study.url, blind_study.project.name, user="ben")
    assert int(own.id) not in set(ben.codings()["id"])


def test_a_blind_coders_queue_through_project_empties_as_they_judge(blind_study):
    """Found by a stranger: Project.review_queue listed the suggestions ana had judged on her blind transcript
    again and again (a loop over it never ended; the repeated accepts did nothing)."""
    ana = Project.open(blind_study.url, blind_study.project.name, user="ana")
    first = ana.review_queue(50, source="group1.txt")
    assert len(first)
    for row in first.itertuples():
        ana.accept(int(row.id))
    assert ana.review_queue(50, source="group1.txt").empty
