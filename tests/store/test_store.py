"""The project store on SQLite and on the real PostgreSQL server: transactions, versions, conflicts, events."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from sqlalchemy import func, select

from qualkit.errors import ConflictError, ProjectNotFound, StoreError
from qualkit.model import Code, Codebook, Coding, Memo, Participant, Segment, Source
from qualkit.store.repository import Store
from qualkit.store.schema import SegmentRow, SourceRow


def _codebook(*ids: str) -> Codebook:
    return Codebook(name="mini", codes=[Code(i, i.title(), definition=f"about {i}", cues=[i]) for i in ids])


def test_source_round_trip_keeps_text_bytes_and_offsets(store, small_source):
    store.add_source(small_source, user="ana")
    loaded = store.source("tiny.txt")
    assert loaded.text == small_source.text
    assert loaded.raw == small_source.raw
    assert "\r\n" in loaded.text
    assert [(s.start, s.end, s.text, s.speaker, s.role) for s in loaded.segments] == [
        (s.start, s.end, s.text, s.speaker, s.role) for s in small_source.segments
    ]
    for segment in loaded.segments:
        assert loaded.text[segment.start:segment.end] == segment.text


def test_duplicate_source_name_is_refused_and_nothing_changes(store, small_source):
    store.add_source(small_source, user="ana")
    again = Source(name="tiny.txt", text="X: other\n", format="txt")
    again.segments = [Segment("tiny.txt", 3, 8, "other", speaker="X")]
    with pytest.raises(StoreError, match="already in project"):
        store.add_source(again, user="ben")
    assert store.source("tiny.txt").text == small_source.text
    assert len(store.segments_df()) == 3


def test_failed_batch_import_leaves_nothing_behind(store, small_source):
    broken = Source(name="broken.txt", text="A: hi\n", format="txt")
    # offsets that do not match the text: the store must refuse before writing anything
    broken.segments = [Segment("broken.txt", 0, 2, "hi", speaker="A")]
    with pytest.raises(StoreError, match="does not match"):
        store.add_sources([small_source, broken], user="ana")
    assert store.sources_df().empty
    assert store.segments_df().empty


def test_batch_with_existing_name_rolls_back_every_file(store, small_source):
    store.add_source(small_source, user="ana")
    fresh = Source(name="fresh.txt", text="B: yes\n", format="txt")
    fresh.segments = [Segment("fresh.txt", 3, 6, "yes", speaker="B")]
    clash = Source(name="tiny.txt", text="C: no\n", format="txt")
    with pytest.raises(StoreError, match="nothing was imported"):
        store.add_sources([fresh, clash], user="ana")
    assert store.sources_df()["name"].tolist() == ["tiny.txt"]


def test_participants_link_by_label_and_alias_and_become_columns(store, small_source):
    store.add_source(small_source, user="ana")
    linked = store.upsert_participants([
        Participant("P1", pseudonym="Ann", attributes={"role": "resident", "group": "residents"}),
        Participant("P2", aliases=["Béla"], attributes={"role": "staff", "group": "staff"}),
    ], user="ana")
    assert linked == 2
    frame = store.segments_df()
    by_speaker = dict(zip(frame["speaker"], frame["role"], strict=True))
    assert by_speaker["Ann"] == "resident"
    assert by_speaker["Béla"] == "staff"
    assert frame.loc[frame["speaker"] == "Moderator", "speaker_role"].item() == "moderator"
    assert store.segments_df(participants_only=True)["speaker"].tolist() == ["Ann", "Béla"]


def test_participant_update_is_logged_with_old_and_new(store):
    store.upsert_participants([Participant("P1", attributes={"years": 2})], user="ana")
    store.upsert_participants([Participant("P1", attributes={"years": 3})], user="ben")
    events = store.events_df(entity="participant", entity_id="P1")
    update = events[events["action"] == "update"].iloc[0]
    assert update["user"] == "ben"
    assert update["old"]["attributes"] == {"years": 2}
    assert update["new"]["attributes"] == {"years": 3}


def test_codebook_versions_are_kept(store):
    assert store.save_codebook(_codebook("workload"), user="ana") == 1
    edited = store.codebook()
    edited.codes.append(Code("isolation", "Isolation", definition="alone"))
    assert store.save_codebook(edited, user="ben", note="add isolation") == 2
    assert store.codebook().ids == ["workload", "isolation"]
    assert store.codebook(version=1).ids == ["workload"]
    assert store.codebook().codes[0].guid == store.codebook(version=1).codes[0].guid
    assert store.codebook()["workload"].cues == ["workload"]
    versions = store.codebook_versions()
    assert versions["version"].tolist() == [1, 2]
    assert versions["note"].tolist()[-1] == "add isolation"


def _suggest(store, source, code="workload", score=0.8) -> int:
    store.add_source(source, user="ana")
    [coding_id] = store.add_codings([Coding(source.segments[1].id, code, origin="rules", score=score, coder="auto",
                                            evidence=[(source.segments[1].start, source.segments[1].start + 4)])])
    return coding_id


def test_decisions_record_who_and_keep_history(store, small_source):
    coding_id = _suggest(store, small_source)
    accepted = store.decide(coding_id, "accept", user="ana", expected_version=1)
    assert (accepted.status, accepted.decided_by, accepted.version) == ("accepted", "ana", 2)
    history = store.events_df(entity="coding", entity_id=coding_id)
    assert history.iloc[0]["old"]["status"] == "suggested"
    assert history.iloc[0]["new"]["status"] == "accepted"


def test_ids_taken_from_a_dataframe_work_like_ints(store, small_source):
    _suggest(store, small_source)
    coding_id = store.codings_df()["id"].iloc[0]  # a NumPy integer, as in project.accept(queue.id[0])
    assert type(coding_id).__module__ == "numpy"
    assert store.decide(coding_id, "accept", user="ana").status == "accepted"
    assert store.codings_df(status="accepted")["id"].tolist() == [int(coding_id)]


def test_unreadable_database_is_a_store_error(tmp_path):
    not_a_database = tmp_path / "notes.qualkit.db"
    not_a_database.write_text("these are my notes", encoding="utf-8")
    with pytest.raises(StoreError, match=r"cannot open the project database .*notes\.qualkit\.db: file is not a database"):
        Store.open(not_a_database)


def test_second_writer_gets_conflict_with_current_value_and_both_attempts_are_logged(store, small_source):
    coding_id = _suggest(store, small_source)
    store.decide(coding_id, "accept", user="ana", expected_version=1)
    with pytest.raises(ConflictError) as info:
        store.decide(coding_id, "reject", user="ben", expected_version=1)
    assert info.value.current["status"] == "accepted"
    assert info.value.current["decided_by"] == "ana"
    assert store.coding(coding_id).status == "accepted"
    history = store.events_df(entity="coding", entity_id=coding_id)
    attempts = history[history["action"] != "add"]
    assert sorted(zip(attempts["user"], attempts["outcome"], strict=True)) == [("ana", "ok"), ("ben", "conflict")]


def test_concurrent_writers_exactly_one_wins(store, small_source):
    coding_id = _suggest(store, small_source)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(user: str, decision: str) -> None:
        other = Store(store.engine, store.project_id, store.name)
        barrier.wait()
        try:
            other.decide(coding_id, decision, user=user, expected_version=1)
            outcomes[user] = "won"
        except ConflictError:
            outcomes[user] = "conflict"

    threads = [threading.Thread(target=decide, args=("ana", "accept")),
               threading.Thread(target=decide, args=("ben", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(u for u, o in outcomes.items() if o == "won")
    assert store.coding(coding_id).decided_by == winner
    history = store.events_df(entity="coding", entity_id=coding_id)
    assert sorted(history["outcome"]) == ["conflict", "ok", "ok"]  # the suggestion, the win, the refused attempt


def test_change_code_keeps_the_original_and_links_the_correction(store, small_source):
    coding_id = _suggest(store, small_source)
    new = store.decide(coding_id, "change", user="ana", code_id="emotional_exhaustion")
    assert store.coding(coding_id).status == "rejected"
    assert (new.code_id, new.status, new.origin, new.parent_id) == ("emotional_exhaustion", "accepted", "human",
                                                                    coding_id)
    assert set(store.codings_df()["code_id"]) == {"workload", "emotional_exhaustion"}


def test_span_adjustment_must_stay_inside_the_segment(store, small_source):
    coding_id = _suggest(store, small_source)
    segment = small_source.segments[1]
    adjusted = store.decide(coding_id, "span", user="ana", start=segment.start + 10, end=segment.end)
    assert (adjusted.start, adjusted.end) == (segment.start + 10, segment.end)
    with pytest.raises(StoreError, match="outside segment"):
        store.decide(coding_id, "span", user="ana", start=segment.start - 1, end=segment.end)


def test_replace_suggestions_never_touches_human_decisions(store, small_source):
    coding_id = _suggest(store, small_source)
    store.add_codings([Coding(small_source.segments[1].id, "isolation", origin="similarity", coder="auto")])
    store.decide(coding_id, "accept", user="ana")
    store.replace_suggestions([Coding(small_source.segments[1].id, "division", origin="rules", coder="auto")],
                              segment_ids=[small_source.segments[1].id], user="auto")
    frame = store.codings_df()
    assert sorted(zip(frame["code_id"], frame["status"], strict=True)) == [("division", "suggested"),
                                                                          ("workload", "accepted")]


def test_a_moved_span_bumps_the_version_so_a_decision_on_the_old_span_is_refused(store, small_source):
    coding_id = _suggest(store, small_source)
    segment = small_source.segments[1]
    seen = store.coding(coding_id).version
    store.replace_suggestions([Coding(segment.id, "workload", origin="rules", coder="auto", score=0.3)],
                              segment_ids=[segment.id], user="auto")
    assert store.coding(coding_id).version == seen  # a new score alone keeps the version
    store.replace_suggestions([Coding(segment.id, "workload", origin="rules", coder="auto", start=segment.start + 4,
                                      end=segment.end)], segment_ids=[segment.id], user="auto")
    moved = store.coding(coding_id)
    assert (moved.start, moved.version) == (segment.start + 4, seen + 1)
    with pytest.raises(StoreError):
        store.decide(coding_id, "accept", user="ana", expected_version=seen)
    assert store.coding(coding_id).status == "suggested"
    assert store.decide(coding_id, "accept", user="ana", expected_version=seen + 1).status == "accepted"


def test_codings_filters_and_pagination(store, small_source):
    store.add_source(small_source, user="ana")
    segment = small_source.segments[1]
    store.add_codings([Coding(segment.id, f"code{i}", origin="rules", coder="auto", score=i / 10) for i in range(7)])
    assert len(store.codings_df(limit=3)) == 3
    assert store.codings_df(limit=3, offset=6)["code_id"].tolist() == ["code6"]
    assert store.codings_df(code_id=["code1", "code2"])["code_id"].tolist() == ["code1", "code2"]
    assert store.codings_df(source="tiny.txt")["speaker"].unique().tolist() == ["Ann"]


def test_invalid_coding_is_refused(store, small_source):
    store.add_source(small_source, user="ana")
    with pytest.raises(StoreError, match="origin"):
        store.add_codings([Coding(small_source.segments[1].id, "x", origin="magic")])
    with pytest.raises(StoreError, match="not in project"):
        store.add_codings([Coding(999_999, "x", origin="rules")])
    assert store.codings_df().empty


def test_memo_edit_conflict(store, small_source):
    store.add_source(small_source, user="ana")
    memo_id = store.add_memo(Memo("first thought", segment_id=small_source.segments[1].id), user="ana")
    store.update_memo(memo_id, "second thought", user="ana", expected_version=1)
    with pytest.raises(ConflictError):
        store.update_memo(memo_id, "stale edit", user="ben", expected_version=1)
    assert store.memos_df()["text"].tolist() == ["second thought"]


def test_remove_source_refuses_when_humans_decided(store, small_source):
    coding_id = _suggest(store, small_source)
    store.decide(coding_id, "accept", user="ana")
    with pytest.raises(StoreError, match="decisions by people") as refused:
        store.remove_source("tiny.txt", user="ana")
    assert len(store.sources_df()) == 1
    assert "memos" not in refused.value.fix  # a stranger was told to move memos that did not exist


def test_remove_source_refuses_when_someone_wrote_a_memo_on_it(store, small_source):
    """A memo is a person's work too: removing its transcript deleted it without a word."""
    from qualkit.model import Memo

    store.add_source(small_source, user="ana")
    store.add_memo(Memo("Ask about the rota.", author="ana", segment_id=small_source.segments[1].id))
    with pytest.raises(StoreError, match="has 1 memos; it is not removed"):
        store.remove_source("tiny.txt", user="ana")
    assert len(store.sources_df()) == 1 and len(store.memos_df()) == 1


def test_two_projects_in_one_database_are_separate(db_url, small_source):
    first = Store.create(db_url, name="one")
    second = Store.create(db_url, name="two")
    first.add_source(small_source, user="ana")
    assert second.segments_df().empty
    assert Store.list_projects(db_url) == ["one", "two"]
    with pytest.raises(ProjectNotFound, match="pass name="):
        Store.open(db_url)
    assert Store.open(db_url, "one").segments_df()["speaker"].tolist() == ["Moderator", "Ann", "Béla"]
    with pytest.raises(StoreError, match="already exists"):
        Store.create(db_url, name="one")
    first.engine.dispose()
    second.engine.dispose()


def test_segment_rows_have_foreign_keys_enforced(store, small_source):
    store.add_source(small_source, user="ana")
    with store.transaction() as session:
        source_row = session.scalar(select(SourceRow))
        session.delete(source_row)
    with store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SegmentRow)) == 0


def test_opening_missing_file_names_the_fix(tmp_path):
    with pytest.raises(ProjectNotFound, match="qualkit init"):
        Store.open(tmp_path / "nothing.qualkit.db")
    assert not (tmp_path / "nothing.qualkit.db").exists()  # refused before connecting: no empty file left


def test_same_label_in_two_sessions_links_to_the_right_person(store):
    def source(name: str) -> Source:
        text = "Moderator: Welcome.\nMaya: Hi.\n"
        src = Source(name=name, text=text, format="txt")
        src.segments = [Segment(name, 11, 19, "Welcome.", speaker="Moderator", role="moderator"),
                        Segment(name, 26, 29, "Hi.", speaker="Maya")]
        return src

    store.upsert_participants([
        Participant("fg1_mod", pseudonym="Moderator", attributes={"session": "fg1", "years": 8}),
        Participant("fg3_mod", pseudonym="Moderator", attributes={"session": "fg3", "years": 20}),
        Participant("fg1_p01", pseudonym="Maya", attributes={"session": "fg1"}),
    ], user="ana")
    store.add_sources([source("fg1_residents.txt"), source("fg3_faculty.txt"), source("fg10_other.txt")], user="ana")
    frame = store.segments_df()
    linked = dict(zip(zip(frame["source"], frame["speaker"], strict=True), frame["participant"], strict=True))
    assert linked[("fg1_residents.txt", "Moderator")] == "fg1_mod"
    assert linked[("fg3_faculty.txt", "Moderator")] == "fg3_mod"
    assert linked[("fg1_residents.txt", "Maya")] == "fg1_p01"
    # fg3 names its own session, so fg1's Maya is not eligible there; fg10 is not fg1
    assert pd.isna(linked[("fg3_faculty.txt", "Maya")])
    assert pd.isna(linked[("fg10_other.txt", "Moderator")])
