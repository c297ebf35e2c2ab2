"""Queries behind review: the queue and its order, bulk candidates, counts, examples and id lookups."""

from __future__ import annotations

from qualkit.model import Coding, Memo
from qualkit.store.decisions import CONSENSUS, set_consensus, set_own_decision
from qualkit.store.memos import memo_source_ids
from qualkit.store.queries import (
    bulk_candidates,
    child_coding_ids,
    code_counts,
    code_examples,
    coding_source_ids,
    codings_by_id,
    human_rows_df,
    segment_ids_under_review,
    suggestion_queue,
)
from qualkit.store.rows import CODING_COLUMNS
from qualkit.store.sources import segment_source_ids


def test_the_queue_puts_the_most_uncertain_first_and_counts_all(coded):
    ids = coded.ids
    frame, total = suggestion_queue(coded.store, user="ana", limit=2)
    assert total == 4 and frame["id"].tolist() == [ids[(1, "support")], ids[(2, "exhaustion")]]  # 0.5, then 0.3
    page, _ = suggestion_queue(coded.store, user="ana", limit=2, offset=2)
    assert page["id"].tolist() == [ids[(2, "workload")], ids[(1, "exhaustion")]]
    assert frame["priority"].isna().all()
    only, total = suggestion_queue(coded.store, user="ana", code_ids=["workload"])
    assert (only["id"].tolist(), total) == ([ids[(2, "workload")]], 1)
    assert suggestion_queue(coded.store, user="ana", hidden_source_ids=[coded.source.id])[1] == 0
    assert suggestion_queue(coded.store, user="ana", min_score=0.75)[1] == 2


def test_a_ranking_orders_the_queue_and_the_rest_follow(coded):
    ids = coded.ids
    ranking = {ids[(1, "exhaustion")]: 0.9, ids[(2, "workload")]: 0.4}
    frame, total = suggestion_queue(coded.store, user="ana", ranking=ranking)
    assert total == 4
    assert frame["id"].tolist() == [ids[(1, "exhaustion")], ids[(2, "workload")], ids[(1, "support")],
                                    ids[(2, "exhaustion")]]
    assert frame["priority"].tolist()[:2] == [0.9, 0.4]


def test_own_row_sources_leave_out_what_the_coder_judged(coded):
    store, ids = coded.store, coded.ids
    set_own_decision(store, suggestion=store.coding(ids[(1, "support")]), code_id="support", status="accepted",
                     user="ana", action="accept")
    mine, total = suggestion_queue(store, user="ana", own_row_source_ids=[coded.source.id])
    assert total == 3 and ids[(1, "support")] not in set(mine["id"])
    assert suggestion_queue(store, user="ben", own_row_source_ids=[coded.source.id])[1] == 4
    assert child_coding_ids(store, ids[(1, "support")]) == [int(mine_id) for mine_id in
                                                             store.codings_df(coder="ana")["id"]]
    assert child_coding_ids(store, ids[(2, "workload")]) == []


def test_bulk_candidates_are_the_high_scores_first(coded):
    frame = bulk_candidates(coded.store, user="ana", min_score=0.5)
    assert frame["id"].tolist() == [coded.ids[(1, "exhaustion")], coded.ids[(2, "workload")],
                                    coded.ids[(1, "support")]]
    assert bulk_candidates(coded.store, user="ana", min_score=0.5, source_ids=[coded.source.id + 1]).empty


def test_codings_by_id_keep_the_order_asked_and_skip_the_gone(coded):
    wanted = [coded.ids[(2, "workload")], 999_999, coded.ids[(1, "exhaustion")]]
    frame = codings_by_id(coded.store, wanted)
    assert frame["id"].tolist() == [wanted[0], wanted[2]] and list(frame.columns) == CODING_COLUMNS
    assert frame["source"].tolist() == ["tiny.txt", "tiny.txt"]
    assert codings_by_id(coded.store, []).empty


def test_counts_and_examples_leave_out_hidden_coders(coded):
    store = coded.store
    segment = coded.segment(2)
    store.add_codings([Coding(segment.id, "workload", status="accepted", coder="ana", start=segment.start,
                              end=segment.start + 9),
                       Coding(segment.id, "workload", status="accepted", coder="ben")], user="ana")
    counts = code_counts(store).set_index("code_id")
    # accepted = coded segments: one passage though two coders applied it (a team saw "accepted 3" and the
    # same quote three times for one passage double-coded and settled); then rejected and suggested rows
    assert counts.loc["workload"].tolist() == [1, 0, 1]
    hidden = {coded.source.id: {"ben"}}
    assert code_counts(store, hidden=hidden).set_index("code_id").at["workload", "accepted"] == 1
    assert code_examples(store, "workload") == ["Paperwork"]  # the passage once
    assert code_examples(store, "workload", hidden=hidden, limit=5) == ["Paperwork"]
    assert code_examples(store, "support") == []
    # settled "does not apply": the coders' rows stay on record but the passage no longer counts
    store.add_codings([Coding(segment.id, "workload", status="rejected", coder="consensus", decided_by="consensus",
                              origin="human")], user="ana")
    assert code_counts(store).set_index("code_id").at["workload", "accepted"] == 0
    assert code_examples(store, "workload") == []


def test_id_lookups_name_the_transcript(coded):
    store, source_id = coded.store, coded.source.id
    segment = coded.segment(1)
    assert segment_source_ids(store, [segment.id, 999_999]) == {segment.id: source_id}
    assert segment_source_ids(store, []) == {}
    coding_id = coded.ids[(1, "support")]
    assert coding_source_ids(store, [coding_id, 999_999]) == {coding_id: source_id}
    on_segment = store.add_memo(Memo("on a turn", author="ana", segment_id=segment.id), user="ana")
    on_source = store.add_memo(Memo("on the file", author="ana", source_id=source_id), user="ana")
    on_code = store.add_memo(Memo("on a code", author="ana", code_id="workload"), user="ana")
    assert memo_source_ids(store, [on_segment, on_source, on_code]) == {on_segment: source_id, on_source: source_id}


def test_judgement_rows_are_the_coders_own_and_the_consensus(coded):
    store, ids = coded.store, coded.ids
    set_own_decision(store, suggestion=store.coding(ids[(1, "support")]), code_id="support", status="rejected",
                     user="ana", action="reject")
    set_consensus(store, segment_id=coded.segment(2).id, code_id="workload", apply=True, user="ben")
    frame = human_rows_df(store, source_id=coded.source.id, coders=["ana", "ben"])
    assert sorted(zip(frame["coder"], frame["decided_by"], frame["status"], strict=True)) == [
        ("ana", "ana", "rejected"), ("auto", CONSENSUS, "accepted")]


def test_segments_under_review_are_those_of_transcripts_with_pending_suggestions(coded):
    store = coded.store
    assert segment_ids_under_review(store) == [s.id for s in coded.source.segments]
    for coding_id in coded.ids.values():
        store.decide(coding_id, "accept", user="ana")
    assert segment_ids_under_review(store) == []
