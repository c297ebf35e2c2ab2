"""Project facade: autocode stores suggestions without touching human decisions; queue; training; evaluate."""

from __future__ import annotations

import pytest

import qualkit as qk

LINES = [
    ("Moderator", "What makes the work hard?"),
    ("Ann", "Honestly the paperwork never ends, I chart every night until midnight."),
    ("Béla", "I'm so exhausted, there is nothing left in the tank by Thursday."),
    ("Cy", "We laughed at lunch together, it feels like a family here."),
    ("Ann", "Prior auths and the inbox, every single day."),
    ("Béla", "I never felt isolated here, to be fair."),
]


@pytest.fixture
def project(two_session_project):
    return two_session_project(LINES, "\r\n")


def test_autocode_stores_suggestions_for_participants_only(project):
    codings = project.autocode(progress=False)
    assert codings and all(c.id is not None for c in codings)
    frame = project.codings()
    assert set(frame["coder"]) == {"auto"} and set(frame["status"]) == {"suggested"}
    assert set(frame["codebook_version"]) == {project.codebook.version}
    assert "Moderator" not in set(frame["speaker"])
    burden = frame[frame["code_id"] == "administrative_burden"]
    assert len(burden) >= 2 and set(burden["origin"]) <= {"rules", "similarity", "learned"}
    source = project.store.source("g1.txt")
    for start, end in burden.iloc[0]["evidence"]:
        assert source.text[start:end].lower() in ("paperwork", "chart", "prior auths", "inbox")


def test_rerun_replaces_only_pending_machine_suggestions(project):
    first = project.autocode(progress=False)
    burden = next(c for c in first if c.code_id == "administrative_burden")
    other = next(c for c in first if c.id != burden.id)
    project.accept(burden.id)
    project.reject(other.id)
    manual = project.code(burden.segment_id, "workload")
    again = project.autocode(progress=False)
    frame = project.codings()
    kept = frame.set_index("id")
    assert kept.loc[burden.id, "status"] == "accepted" and kept.loc[other.id, "status"] == "rejected"
    assert kept.loc[manual.id, "origin"] == "human"
    decided = {(burden.segment_id, burden.code_id), (other.segment_id, other.code_id), (manual.segment_id, "workload")}
    assert not decided & {(c.segment_id, c.code_id) for c in again}
    pending = frame[frame["status"] == "suggested"]
    assert set(pending["id"]) == {c.id for c in again}  # old pending suggestions were replaced


def test_autocode_says_when_the_encoder_was_due_for_tuning_but_not_tuned(project, monkeypatch):
    """Without torch (or with tuning switched off) a stranger was never told fine-tuning was due and skipped."""
    import warnings

    import qualkit.embeddings
    from qualkit.coding import workflow

    monkeypatch.setattr(workflow, "judged_count", lambda project: 120)
    monkeypatch.setattr(qualkit.embeddings, "minilm_available", lambda: False)  # as without torch
    monkeypatch.delenv("QUALKIT_AUTO_FINE_TUNE", raising=False)
    calls = []
    with pytest.warns(UserWarning, match="120 segments are judged, but the encoder is not fine-tuned.*not installed"):
        project.autocode(progress=lambda done, total, message: calls.append(message))
    monkeypatch.undo()
    monkeypatch.setattr(workflow, "judged_count", lambda project: 120)
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "0")  # the user's own choice: said, but no warning
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project.autocode(progress=lambda done, total, message: calls.append(message))
    assert any("switched off (QUALKIT_AUTO_FINE_TUNE)" in m for m in calls)
    monkeypatch.setattr(workflow, "judged_count", lambda project: 20)  # not due yet: nothing to say
    assert workflow.tuning_skipped(project) is None


def test_autocode_reports_progress_in_chunks_and_keeps_state_off_the_instance_dict(project, monkeypatch):
    from qualkit.coding import workflow

    monkeypatch.setattr(workflow, "CHUNK", 2)
    calls = []
    project.autocode(progress=lambda done, total, message: calls.append((done, total, message)))
    coded = [(d, t) for d, t, _ in calls if t]
    total = coded[-1][1]
    assert coded[-1] == (total, total) and len(coded) >= total // 2  # one report per chunk of two
    assert [d for d, _ in coded] == sorted(d for d, _ in coded)
    assert calls[0][2].startswith("training")
    assert isinstance(project.coding, workflow.CodingResources) and "_coding_state" not in vars(project)


def test_autocode_a_subset_and_unknown_segments(project):
    everything = project.autocode(progress=False)
    target = everything[0].segment_id
    subset = project.autocode(segment_ids=[target], progress=False)
    assert {c.segment_id for c in subset} <= {target}
    assert len(project.codings(status="suggested")) == len(everything)
    with pytest.raises(qk.InvalidInput, match="not in project"):
        project.autocode(segment_ids=[10_000], progress=False)


def test_training_uses_decisions_and_is_cached(project):
    codings = project.autocode(progress=False)
    coder = project.train_coder()
    assert coder is project.train_coder()  # nothing changed: no refit
    assert coder.n_positive_.sum() == 0
    for c in codings:
        (project.accept if c.code_id == "administrative_burden" else project.reject)(c.id)
    trained = project.train_coder()
    assert trained is not coder
    j = list(trained.codes_).index("administrative_burden")
    assert trained.n_positive_[j] >= 2 and trained.n_negative_[j] >= 1


def test_review_queue_orders_suggestions_with_a_priority(project):
    project.autocode(progress=False)
    queue = project.review_queue(5)
    assert 0 < len(queue) <= 5 and "priority" in queue
    assert set(queue.columns) >= set(project.codings().columns)
    assert queue["priority"].is_monotonic_decreasing
    assert set(queue["status"]) == {"suggested"}
    only = project.review_queue(50, code_id="administrative_burden", source="g2.txt")
    assert set(only["code_id"]) == {"administrative_burden"} and set(only["source"]) == {"g2.txt"}


def test_a_span_is_adjusted_and_the_adjustment_undone_through_project(project):
    """A stranger had to reach into qualkit.review.decisions to change the words a coding covers."""
    project.autocode(progress=False)
    suggestion = project.review_queue(1).iloc[0]
    start = int(suggestion["segment_start"])
    adjusted = project.adjust(int(suggestion["id"]), start, start + 4, expected_version=int(suggestion["version"]))
    assert (adjusted.start, adjusted.end, adjusted.status) == (start, start + 4, "accepted")
    restored = project.undo()
    assert (restored.status, restored.start, restored.end) == ("suggested", suggestion["start"], suggestion["end"])


def test_evaluate_against_gold_records(project):
    project.autocode(progress=False)
    gold = [{"source": "g1.txt", "turn": 1, "codes": ["administrative_burden"]},
            {"source": "g1.txt", "turn": 5, "codes": []},
            {"source": "g2.txt", "turn": 2, "codes": ["emotional_exhaustion"]}]
    table = project.evaluate(gold).set_index("code")
    assert table.loc["administrative_burden", "support"] == 1
    assert table.loc["administrative_burden", "recall"] == 1.0
    assert 0 <= table.loc["micro", "f1"] <= 1
    with pytest.raises(qk.InvalidInput, match="none of the 1 gold records"):
        project.evaluate([{"source": "nope.txt", "turn": 1, "codes": []}])


def test_a_passage_coded_and_taken_back_teaches_nothing(project):
    from qualkit.coding.workflow import judged_labels

    segments = project.segments(participants_only=True)
    first = int(segments["id"].iloc[0])
    codes = [c.id for c in project.codebook.codable_codes]
    project.code(first, "isolation")
    assert judged_labels(project.store, [first], codes)[0]["isolation"] is True
    project.undo()  # a slip of the hand: the row stays on record as rejected, but it is no judgement
    rows = project.store.codings_df()
    assert rows.loc[rows["segment_id"] == first, "status"].tolist() == ["rejected"]
    assert judged_labels(project.store, [first], codes) == [None]  # not "no code applies to this segment"

    # A reviewer rejecting someone else's passage is a judgement: the code does not apply there.
    project.code(first, "isolation")
    ben = qk.Project(project.store, user="ben")
    rows = project.store.codings_df(status="accepted")
    ben.reject(int(rows.loc[rows["segment_id"] == first, "id"].iloc[0]))
    assert judged_labels(project.store, [first], codes)[0]["isolation"] is False


def test_evaluate_scores_the_machine_not_the_gold_coders_own_decisions(project):
    """Found by a methodologist: after review, every code scored 1.000 against ana's gold, because ana's own
    accepted codings counted as the machine's predictions (and its rejected suggestions did not)."""
    project.autocode(progress=False)
    suggestion = project.review_queue(1).iloc[0]
    segment, code = int(suggestion["segment_id"]), str(suggestion["code_id"])
    project.reject(int(suggestion["id"]))
    other = next(c.id for c in project.codebook.codable_codes if c.id != code)
    project.code(segment, other)
    turn = project.segments().set_index("id").loc[segment]
    gold = [{"source": turn["source"], "turn": int(turn["turn"]), "codes": [other]}]
    machine = project.evaluate(gold).set_index("code")
    assert machine.loc[other, "recall"] == 0.0  # the hand code is not the machine's
    assert machine.loc[code, "precision"] == 0.0  # the rejected suggestion still is
    person = project.evaluate(gold, coder=project.user).set_index("code")
    assert person.loc[other, "recall"] == 1.0


def test_wrong_argument_types_get_errors_that_name_the_argument(project, tmp_path):
    """A notebook user's accept([13]) gave an SQL error, code("5", ...) "no segment 5" though it exists,
    reliability("root") was read letter by letter and prevalence(by=["unit"]) raised a pandas error."""
    project.autocode(progress=False)
    first = int(project.codings()["id"].iloc[0])
    with pytest.raises(qk.InvalidInput, match=r"coding_id must be one id \(a whole number\), not the list"):
        project.accept([first])
    assert project.accept(str(first)).status == "accepted"  # an id copied as text is the id
    segment = int(project.segments(participants_only=True)["id"].iloc[0])
    assert project.code(str(segment), "workload").segment_id == segment
    with pytest.raises(qk.InvalidInput, match=r"by must be one name \(text\), not \['role'\]"):
        project.prevalence(by=["role"])
    with pytest.raises(qk.InvalidInput, match="code must be one name"):
        project.quotes(5)
    with pytest.raises(qk.InvalidInput, match=r"two or more different coders, got \['root'\]"):
        project.reliability("root")  # one coder named, not four letters
    path = tmp_path / "codes.csv"
    path.write_text("name,definition\nA,the a\nA,again\n", encoding="utf-8")
    with pytest.raises(qk.InvalidInput, match=r"checks a Codebook, not the file name .*load_codebook"):
        qk.validate_codebook(str(path))  # a path, as one would guess: pointed to what checks a file
    # A stranger's review_queue(-1) listed suggestions, code(start=1990) without end coded to the turn's end,
    # and import_transcripts(42) ended in "TypeError: 'int' object is not iterable".
    with pytest.raises(qk.InvalidInput, match="n must be at least 1, not -1"):
        project.review_queue(-1)
    with pytest.raises(qk.InvalidInput, match="give both start and end, or neither"):
        project.code(segment, "workload", start=3)
    for wrong in (42, [1, 2]):
        with pytest.raises(qk.InvalidInput, match=r"paths must be transcript files or folders, not 42|not 1"):
            project.import_transcripts(wrong)


def test_segments_of_a_transcript_that_is_not_there_is_an_error_not_an_empty_table(project):
    with pytest.raises(qk.QualkitError, match=r"no source 'nope\.txt'"):
        project.segments(source="nope.txt")


def test_a_misspelt_codings_filter_and_a_code_name_in_the_queue_are_errors_not_empty_tables(project):
    """A stranger's codings(staus=...) was a raw TypeError, and review_queue(code_id="Staffing") an empty queue."""
    with pytest.raises(qk.QualkitError, match=r"codings\(\) has no filter 'staus'.*did you mean 'status'"):
        project.codings(staus="accepted")
    name = project.codebook.codable_codes[0].name
    with pytest.raises(qk.QualkitError, match=f"'{project.codebook.codable_codes[0].id}' is the id of the code named"):
        project.review_queue(code_id=name)


def test_a_folder_of_transcripts_is_imported_as_on_the_command_line(tmp_path):
    """A notebook user's project.import_transcripts("transcripts/") was refused: "is not a file"."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "b.txt").write_text("Ann: Nights again.\nBo: Every week.\n", encoding="utf-8")
    (folder / "a.txt").write_text("Cy: Charting at home.\nDee: Me too.\n", encoding="utf-8")
    (folder / "notes.pdf").write_bytes(b"%PDF")
    project = qk.Project.create(tmp_path / "p.qualkit.db", codebook=None, user="ana")
    with pytest.warns(UserWarning, match="notes.pdf"):  # a file of the folder left out is said, not silent
        reports = project.import_transcripts(folder, progress=False)
    assert [r.source for r in reports if not r.skipped] == ["a.txt", "b.txt"]
    assert [r.source for r in reports if r.skipped] == ["notes.pdf"]
    assert sorted(project.sources()["name"]) == ["a.txt", "b.txt"]
    project.store.engine.dispose()
