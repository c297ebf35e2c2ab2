"""A coder's finished coding brought into a project: recorded as their review, all or nothing, on both backends."""

from __future__ import annotations

import json

import pytest

from qualkit.coding.records import import_coding_records, match_records, read_coding_records
from qualkit.errors import ConflictError, InvalidInput
from qualkit.model import Code, Codebook, Coding
from qualkit.store.bulk import record_review


@pytest.fixture
def coded_store(store, small_source):
    store.save_codebook(Codebook("m", [Code("exhaustion", "Exhaustion"), Code("admin", "Admin"),
                                       Code("isolation", "Isolation")]), user="ana")
    store.add_source(small_source, user="ana")
    ann, bela = small_source.segments[1], small_source.segments[2]
    store.add_codings([Coding(ann.id, "exhaustion", origin="rules", coder="auto", score=0.9),
                       Coding(ann.id, "isolation", origin="similarity", coder="auto", score=0.4),
                       Coding(bela.id, "exhaustion", origin="rules", coder="auto", score=0.3)], user="auto")
    return store, ann, bela


def _records(tmp_path, ann, bela, codes_for_bela=("admin",)):
    path = tmp_path / "gold.jsonl"
    rows = [{"source": "tiny.txt", "start": ann.start, "end": ann.end, "codes": ["exhaustion"]},
            {"source": "tiny.txt", "turn": bela.turn, "codes": list(codes_for_bela)}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_a_finished_coding_becomes_the_coders_review(coded_store, tmp_path):
    store, ann, bela = coded_store
    counts = import_coding_records(store, _records(tmp_path, ann, bela), coder="ana")
    assert counts == {"accepted": 1, "rejected": 2, "added": 1, "segments": 2}
    codings = store.codings_df()
    decided = {(r.segment_id, r.code_id): (r.status, r.decided_by, r.origin) for r in codings.itertuples()}
    assert decided == {(ann.id, "exhaustion"): ("accepted", "ana", "rules"),
                       (ann.id, "isolation"): ("rejected", "ana", "similarity"),
                       (bela.id, "exhaustion"): ("rejected", "ana", "rules"),
                       (bela.id, "admin"): ("accepted", "ana", "human")}
    events = store.events_df(entity="coding")
    assert (events["action"] == "import").sum() == 4 and set(events.loc[events["action"] == "import", "user"]) == {"ana"}
    # Importing the same file again changes nothing.
    assert import_coding_records(store, _records(tmp_path, ann, bela), coder="ana")["added"] == 0
    assert len(store.codings_df()) == 4


def test_an_unknown_code_or_segment_stores_nothing(coded_store, tmp_path):
    store, ann, bela = coded_store
    with pytest.raises(InvalidInput, match=r"'adimn'.*did you mean 'admin'"):
        import_coding_records(store, _records(tmp_path, ann, bela, codes_for_bela=["adimn"]), coder="ana")
    stray = [{"source": "other.txt", "turn": 1, "codes": ["admin"]}]
    with pytest.raises(InvalidInput, match=r"1 of 1 coding records name no segment of the project; the first: "
                                           r"source 'other.txt', turn 1: the project has no transcript 'other.txt' "
                                           r"\(it has "):  # a stranger was not told which source did not match
        import_coding_records(store, stray, coder="ana")
    sources = sorted(set(store.segments_df()["source"]))
    with pytest.raises(InvalidInput, match=rf"source '{sources[0]}', turn 999: no such segment in that transcript"):
        import_coding_records(store, [{"source": sources[0], "turn": 999, "codes": ["admin"]}], coder="ana")
    assert set(store.codings_df()["status"]) == {"suggested"}


def test_a_review_is_one_transaction(coded_store):
    store, ann, _ = coded_store
    ids = store.codings_df()["id"].tolist()
    store.decide(ids[0], "accept", user="ben")
    with pytest.raises(ConflictError, match="decided already"):
        record_review(store, reject=ids[1:], accept=[ids[0]], add=[Coding(ann.id, "admin")], user="ana")
    assert store.codings_df()["status"].tolist().count("suggested") == 2 and len(store.codings_df()) == 3


def test_records_match_by_span_turn_or_id_and_read_from_csv(tmp_path):
    import pandas as pd

    segments = pd.DataFrame({"id": [1, 2], "source": ["a.txt", "a.txt"], "start": [0, 10], "end": [9, 20],
                             "turn": [0, 1]})
    path = tmp_path / "codes.csv"
    path.write_text('source,turn,codes\na.txt,1,admin;isolation\na.txt,5,admin\n', encoding="utf-8")
    matched, missing = match_records(segments, read_coding_records(path))
    assert matched == {2: ["admin", "isolation"]} and missing == 1
    assert match_records(segments, [{"segment_id": 1, "codes": []}, {"source": "a.txt", "start": 0, "end": 9,
                                                                      "codes": ["x"]}])[0] == {1: ["x"]}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "a.txt"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad.jsonl:2: not valid JSON"):
        read_coding_records(bad)


def test_a_quote_never_closed_in_a_codings_csv_is_an_error_not_rows_lost(tmp_path):
    """A stranger's gold file with one unclosed quote scored 5 items of 22, and a second coder's import lost 21 rows."""
    path = tmp_path / "gold.csv"
    rows = "".join(f"a.txt,{turn},admin,ok\n" for turn in range(10))
    path.write_text("source,turn,codes,note\na.txt,10,admin,\"unsure, check with sam\n" + rows, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"gold.csv:2: the CSV is malformed: a quote opened in this row is never "
                                           r"closed") as caught:
        read_coding_records(path)
    assert caught.value.line == 2
    closed = tmp_path / "closed.csv"
    closed.write_text("source,turn,codes,note\na.txt,10,admin,\"unsure, check with sam\"\n" + rows, encoding="utf-8")
    assert len(read_coding_records(closed)) == 11


def test_records_whose_speaker_does_not_say_the_turn_are_refused(coded_store):
    """A second coder's file counted turns from 1: every code landed on the next speaker's turn, a moderator's
    too, without a warning, though each row named its speaker."""
    store, ann, bela = coded_store
    shifted = [{"source": "tiny.txt", "turn": ann.turn + 1, "speaker": ann.speaker, "codes": ["exhaustion"]}]
    with pytest.raises(InvalidInput, match=rf"turn {ann.turn + 1} names '{ann.speaker}', but '{bela.speaker}' says it"):
        import_coding_records(store, shifted, coder="ben")
    assert set(store.codings_df()["status"]) == {"suggested"}  # nothing imported
    right = [{"source": "tiny.txt", "turn": ann.turn, "speaker": ann.speaker.lower(), "codes": ["exhaustion"]}]
    assert import_coding_records(store, right, coder="ben")["segments"] == 1


def test_a_second_coders_file_does_not_decide_the_suggestions_others_are_reviewing(coded_store):
    """A stranger brought a colleague's coding in for a reliability check: it accepted and rejected the study's
    suggestions as the colleague's review, and they left her queue."""
    store, _, bela = coded_store
    first = int(store.codings_df(status="suggested").iloc[0]["id"])
    store.decide(first, "accept", user="ana")
    record = [{"source": "tiny.txt", "turn": bela.turn, "codes": ["admin"]}]
    with pytest.raises(InvalidInput, match=r"tiny\.txt: ana decided suggestions there; ben's records") as refused:
        import_coding_records(store, record, coder="ben")
    assert "assign the transcript to ana and ben for blind double coding" in refused.value.fix
    assert (store.codings_df()["decided_by"] == "ben").sum() == 0  # nothing imported
    assert import_coding_records(store, record, coder="ben", beside_others=True)["segments"] == 1
