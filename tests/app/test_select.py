"""Select-to-code on the Transcript page, through the text selector component (AppTest), and its pure parts.

AppTest cannot run the component's JavaScript, so these tests send what the browser sends: the
component's trigger (``action``) as a widget state, the same message a click in Chromium produces.
What the browser draws is checked from the data the page hands the component. The real mouse and
keyboard are driven in ``test_select_browser.py``.
"""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit import review
from qualkit.app.components import passages as passages_module
from qualkit.app.components.apptest import component_data, send_action, send_state
from qualkit.app.components.passages import (
    Highlight,
    Passage,
    layout,
    parse_action,
    selectable_words,
    selection_parts,
)
from qualkit.errors import InvalidInput
from qualkit.users import Role, User

SELECTOR = "tx_text"
EMOJI_TURNS = [
    ("Moderator", "moderator", "Qu’est-ce qui vous épuise? 🤔"),
    ("Zoë", "participant", "L’EHR 😩 — deux heures chaque nuit 👩\u200d⚕\ufe0f, Rene\u0301e dit pareil."),
]


# ---------------------------------------------------------------------------- AppTest helpers
def drawn(at) -> dict:
    """The data the page handed the text selector (what the browser draws)."""
    return component_data(at, SELECTOR)


def send(at, value: dict) -> None:
    """Send the selector's ``action`` trigger, as the browser does after a selection and a code pick."""
    send_action(at, SELECTOR, value)


def passage_of(data: dict, text_start: str) -> dict:
    return next(p for p in data["passages"] if "".join(piece[0] for piece in p["pieces"]).startswith(text_start))


def span_of(passage: dict, first: str, last: str) -> tuple[int, int]:
    """Absolute offsets from the first word ``first`` to the word ``last`` (as the browser reads them)."""
    words = {"".join(p[0] for p in passage["pieces"] if p[1] == i): tuple(w) for i, w in enumerate(passage["words"])}
    return words[first][0], words[last][1]


# ---------------------------------------------------------------------------- the page
def test_coding_a_selection_lands_with_exact_offsets_and_an_event(study, apptest, helpers):
    at = apptest("ana", "transcript")
    helpers.assert_ok(at)
    data = drawn(at)
    assert data["codes"] and not data["readonly"]
    assert {h["name"] for h in data["highlights"]} >= {"Administrative burden", "Workload"}  # suggestions drawn
    seg = study.segment("group1.txt", 3)  # "I feel completely drained, running on empty by Thursday."
    passage = passage_of(data, "I feel completely")
    start, end = span_of(passage, "completely", "empty")
    send(at, {"kind": "code", "code": "emotional_exhaustion",
              "parts": [{"passage": int(seg["id"]), "start": start, "end": end}]})
    helpers.assert_ok(at)
    assert "Coded “completely drained, running on empty” as Emotional exhaustion" in helpers.texts(at)
    assert at.selectbox(key="tx_segment").value == int(seg["id"])  # a memo now goes with the passage just coded
    mine = study.store.codings_df(coder="ana", origin="human")
    assert len(mine) == 1
    row = mine.iloc[0]
    text = study.store.source("group1.txt").text
    assert text[int(row["start"]):int(row["end"])] == "completely drained, running on empty"
    assert (row["status"], row["decided_by"], row["code_id"]) == ("accepted", "ana", "emotional_exhaustion")
    event = study.store.events_df("coding", int(row["id"])).iloc[0]
    assert (event["user"], event["action"]) == ("ana", "code") and event["at"] is not None
    assert event["new"]["start"] == int(row["start"]) and event["new"]["end"] == int(row["end"])
    # the new coding is drawn at once, with the actions its coder may take
    new = next(h for h in drawn(at)["highlights"] if h["id"] == int(row["id"]))
    assert (new["start"], new["end"], new["actions"]) == (int(row["start"]), int(row["end"]),
                                                            ["adjust", "remove", "revert"])
    assert drawn(at)["recent"] == ["emotional_exhaustion"]  # the code just used comes first next time


def test_coding_while_a_memo_is_drafted_keeps_the_memo_on_its_turn(study, apptest, helpers):
    """A stranger typed a memo for turn 5, coded words of turn 16 meanwhile, and the memo was saved on turn 16."""
    at = apptest("ana", "transcript")
    first, other = study.segment("group1.txt", 1), study.segment("group1.txt", 3)
    at.selectbox(key="tx_segment").select(int(first["id"])).run()
    at.text_area(key="tx_memo").input("EHR again: ask about the night documentation load").run()
    passage = passage_of(drawn(at), "I feel completely")
    start, end = span_of(passage, "completely", "empty")
    send(at, {"kind": "code", "code": "emotional_exhaustion",
              "parts": [{"passage": int(other["id"]), "start": start, "end": end}]})
    helpers.assert_ok(at)
    assert at.selectbox(key="tx_segment").value == int(first["id"])  # the draft's turn, not the one just coded


def test_emoji_accents_and_crlf_keep_offsets_exact(study, apptest, helpers):
    source = helpers.build_source("nuit.txt", EMOJI_TURNS)
    study.store.add_source(source, user="setup")
    assert "\r\n" in source.text
    at = apptest("ana", "transcript")
    at.selectbox(key="tx_source").select("nuit.txt").run()
    data = drawn(at)
    zoe = passage_of(data, "L’EHR")
    start, end = span_of(zoe, "deux", "Rene\u0301e")  # after an astral emoji: UTF-16 would be one off
    send(at, {"kind": "code", "code": "workload",
              "parts": [{"passage": zoe["id"], "start": start, "end": end}]})
    helpers.assert_ok(at)
    stored = study.store.codings_df(coder="ana", origin="human").iloc[0]
    text = study.store.source("nuit.txt").text
    assert text[int(stored["start"]):int(stored["end"])] == "deux heures chaque nuit 👩\u200d⚕\ufe0f, Rene\u0301e"


def test_a_selection_across_turns_codes_each_turn_in_one_transaction(study, apptest, helpers):
    at = apptest("ana", "transcript")
    data = drawn(at)
    first, second = passage_of(data, "We are short"), passage_of(data, "I feel completely")
    parts = [{"passage": first["id"], "start": span_of(first, "every", "patients")[0],
              "end": span_of(first, "every", "patients")[1]},
             {"passage": second["id"], "start": span_of(second, "I", "drained")[0],
              "end": span_of(second, "I", "drained")[1]}]
    send(at, {"kind": "code", "code": "workload", "parts": parts})
    helpers.assert_ok(at)
    assert "Coded 2 passages (one per turn) as Workload" in helpers.texts(at)
    mine = study.store.codings_df(coder="ana", origin="human").sort_values("start")
    text = study.store.source("group1.txt").text
    assert [text[s:e] for s, e in zip(mine["start"], mine["end"], strict=True)] == [
        "every shift is double the patients", "I feel completely drained"]
    assert mine["speaker"].tolist() == ["Béla", "Ana"]  # each part stays attributed to its speaker
    # a part that does not end on a word edge (a stale or forged request) stores nothing at all
    bad = [parts[0], dict(parts[1], end=parts[1]["end"] - 2)]
    send(at, {"kind": "code", "code": "peer_support", "parts": bad})
    assert "whole words" in helpers.texts(at)
    assert "peer_support" not in set(study.store.codings_df(coder="ana", origin="human")["code_id"])


def test_adjusting_removing_and_deciding_through_the_selector(study, apptest, helpers):
    at = apptest("ana", "transcript")
    data = drawn(at)
    suggestion = study.suggestion("group1.txt", 1, "administrative_burden")  # the whole of Ana's first turn
    drawn_suggestion = next(h for h in data["highlights"] if h["id"] == int(suggestion.id))
    assert drawn_suggestion["actions"] == ["accept", "reject", "adjust"] and drawn_suggestion["status"] == "suggested"
    passage = passage_of(data, "Honestly?")
    start, end = span_of(passage, "The", "documentation")
    send(at, {"kind": "adjust", "highlight": int(suggestion.id), "version": int(suggestion.version),
              "parts": [{"passage": passage["id"], "start": start, "end": end}]})
    helpers.assert_ok(at)
    coding = study.store.coding(int(suggestion.id))
    text = study.store.source("group1.txt").text
    assert text[coding.start:coding.end] == "The EHR. I spend two hours every night on documentation"
    assert (coding.status, coding.decided_by) == ("accepted", "ana")  # adjusting a suggestion accepts it
    assert "Accepted Administrative burden, now covering “The EHR." in helpers.texts(at)  # and says so
    adjusted = next(h for h in drawn(at)["highlights"] if h["id"] == coding.id)
    assert (adjusted["start"], adjusted["end"]) == (coding.start, coding.end)
    # the version the reader saw travels with the request: an old one is refused, nothing overwritten
    send(at, {"kind": "remove", "highlight": coding.id, "version": int(suggestion.version)})
    assert "Not saved" in helpers.texts(at) and study.store.coding(coding.id).status == "accepted"
    send(at, {"kind": "remove", "highlight": coding.id, "version": coding.version})
    helpers.assert_ok(at)
    assert study.store.coding(coding.id).status == "rejected"  # removed, and kept on record
    events = study.store.events_df("coding", coding.id)  # newest first
    assert events[["user", "action", "outcome"]].values.tolist()[:3] == [
        ["ana", "reject", "ok"], ["ana", "reject", "conflict"], ["ana", "adjust", "ok"]]
    # an adjust outside the coding's own turn is refused with a plain message
    other = study.suggestion("group1.txt", 2, "workload")
    send(at, {"kind": "adjust", "highlight": int(other.id), "version": int(other.version),
              "parts": [{"passage": passage["id"], "start": start, "end": end}]})
    assert "another turn" in helpers.texts(at) and study.store.coding(int(other.id)).status == "suggested"


def test_viewers_read_only_and_a_forged_request_is_refused(study, apptest, helpers):
    at = apptest("vic", "transcript")
    helpers.assert_ok(at)
    data = drawn(at)
    assert data["readonly"] and data["codes"] is None
    assert all(h["actions"] == [] for h in data["highlights"])
    passage = passage_of(data, "Honestly?")
    start, end = span_of(passage, "The", "EHR")
    send(at, {"kind": "code", "code": "workload", "parts": [{"passage": passage["id"], "start": start, "end": end}]})
    assert "vic is a viewer and may not code" in helpers.texts(at)
    assert study.store.codings_df(origin="human").empty


def test_blind_coding_shows_only_my_own_decisions_and_stops_when_done(quiet_study, apptest, helpers):
    store = quiet_study.store
    review.assign(store, "group1.txt", ["ana", "ben"], actor=User("admin", Role.ADMIN))
    peer = quiet_study.suggestion("group1.txt", 4, "peer_support")
    review.decide(store, int(peer.id), "accept", actor=User("ben"))
    seg = quiet_study.segment("group1.txt", 3)
    review.add_code(store, int(seg["id"]), "workload", actor=User("ben"))
    at = apptest("ana", "transcript")
    helpers.assert_ok(at)
    coders = {(h["detail"], h["status"]) for h in drawn(at)["highlights"]}
    assert not any("ben" in detail for detail, _ in coders)  # ben's rows stay hidden from ana
    data = drawn(at)
    passage = passage_of(data, "I feel completely")
    start, end = span_of(passage, "running", "empty")
    send(at, {"kind": "code", "code": "emotional_exhaustion",
              "parts": [{"passage": passage["id"], "start": start, "end": end}]})
    helpers.assert_ok(at)
    assert any(h["detail"] == "by ana" for h in drawn(at)["highlights"])
    review.mark_done(store, "group1.txt", actor=User("ana"))
    at.run()
    assert drawn(at)["readonly"] and drawn(at)["codes"] is None  # done: ana can no longer code it
    admin = apptest("admin", "transcript")
    assert any("ben" in h["detail"] for h in drawn(admin)["highlights"])  # an administrator sees both


def test_add_codes_saves_every_part_or_none(study_on):
    """The library call behind a selection across turns: one transaction, on SQLite and PostgreSQL."""
    from qualkit.errors import StoreError

    store, ana = study_on.store, User("ana")
    first, second = study_on.segment("group1.txt", 2), study_on.segment("group1.txt", 3)
    good = (int(first["id"]), int(first["start"]), int(first["start"]) + 6)
    with pytest.raises(StoreError, match="outside segment"):
        review.add_codes(store, [good, (int(second["id"]), int(second["start"]), int(second["end"]) + 1)],
                         "workload", actor=ana)
    assert store.codings_df(origin="human").empty
    saved = review.add_codes(store, [good, (int(second["id"]), int(second["start"]), int(second["end"]))],
                             "workload", actor=ana)
    assert [c.id for c in saved] == sorted(store.codings_df(origin="human")["id"])
    with pytest.raises(InvalidInput, match="nothing to code"):
        review.add_codes(store, [], "workload", actor=ana)


# ---------------------------------------------------------------------------- the pure parts
def test_passages_docstring_examples():
    result = doctest.testmod(passages_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_words_snap_to_what_a_reader_sees_as_one_character():
    text = "Zoë: 👍🏽 e\u0301te\u0301, l’hôpital — short‑staffed 🇬🇧!\r\nOK"
    assert [text[s:e] for s, e in selectable_words(text)] == [
        "Zoë", ":", "👍🏽", "e\u0301te\u0301", ",", "l’hôpital", "—", "short‑staffed", "🇬🇧", "!", "OK"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab é\u0301’-.,\r\n\t😩👩\u200d⚕\ufe0f🇬🇧 ")), max_size=40),
       st.integers(0, 10_000))
def test_selectable_words_cover_every_visible_character_once(text, base):
    spans = selectable_words(text, base)
    covered = [False] * len(text)
    previous = base
    for s, e in spans:
        assert previous <= s < e <= base + len(text)
        previous = e
        assert not text[s - base].isspace() and not text[e - base - 1].isspace()
        for i in range(s - base, e - base):
            covered[i] = True
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab é’.\r\n😩")), min_size=1, max_size=30), st.data())
def test_layout_pieces_rebuild_the_text_and_every_selection_is_exact(text, data):
    base = 500
    spans = selectable_words(text, base)
    highlights = []
    if spans:
        lo = data.draw(st.integers(base, base + len(text) - 1))
        hi = data.draw(st.integers(lo + 1, base + len(text)))
        highlights.append(Highlight(1, lo, hi, "#fd0", "X"))  # may start and end inside words
    out = layout([Passage(7, text, base)], highlights)["passages"][0]
    words = [tuple(w) for w in out["words"]]
    assert words == spans
    for index, (s, e) in enumerate(words):
        assert "".join(p[0] for p in out["pieces"] if p[1] == index) == text[s - base:e - base]
    assert sum(len(p[0]) for p in out["pieces"]) == len(text.replace("\r\n", "\n"))
    if spans:
        i = data.draw(st.integers(0, len(spans) - 1))
        j = data.draw(st.integers(i, len(spans) - 1))
        chosen = selection_parts([{"passage": 7, "start": spans[i][0], "end": spans[j][1]}], [Passage(7, text, base)])
        assert chosen.text == text[spans[i][0] - base:spans[j][1] - base]


def test_requests_that_do_not_match_the_page_are_refused():
    shown = [Passage(1, "So tired.", 10), Passage(2, "Me too.", 30)]
    marks = [Highlight(9, 13, 18, "#fd0", "Exhaustion", version=2, actions=("remove", "adjust"))]
    with pytest.raises(InvalidInput, match="not in the text shown"):
        selection_parts([{"passage": 3, "start": 10, "end": 12}], shown)
    with pytest.raises(InvalidInput, match="nothing is selected"):
        selection_parts([], shown)
    with pytest.raises(InvalidInput, match="stays within one turn"):
        parse_action({"kind": "adjust", "highlight": 9, "parts": [{"passage": 1, "start": 10, "end": 18},
                                                                  {"passage": 2, "start": 30, "end": 32}]},
                     shown, marks)
    with pytest.raises(InvalidInput, match="cannot accept"):
        parse_action({"kind": "accept", "highlight": 9}, shown, marks)
    with pytest.raises(InvalidInput, match="no longer shown"):
        parse_action({"kind": "remove", "highlight": 99}, shown, marks)
    assert parse_action(None, shown, marks) is None and parse_action({}, shown, marks) is None


def test_select_text_returns_the_readers_selection_with_absolute_offsets():
    """The one-passage form (for the review card's span): what the browser reports becomes exact offsets."""
    from streamlit.testing.v1 import AppTest

    def card():
        import streamlit as st

        from qualkit.app.components import select_text

        chosen = select_text("Zoë: so tired 😩 tonight.\r\nReally.", 120, key="card_span", label="Zoë")
        st.write("nothing" if chosen is None else f"{chosen.start}:{chosen.end}={chosen.text}")

    at = AppTest.from_function(card).run()
    assert "nothing" in [str(m.value) for m in at.markdown]
    data = component_data(at, "card_span")
    assert data["picker"] is False and data["readonly"] and data["report_selection"]
    words = data["passages"][0]["words"]  # [Zoë] [:] [so] [tired] [😩] [tonight] [.] [Really] [.]
    send_state(at, "card_span", {"selection": [{"passage": "card_span", "start": words[3][0], "end": words[7][1]}]})
    assert [str(m.value) for m in at.markdown] == ["128:152=tired 😩 tonight.\r\nReally"]  # 😩 counts one code point, CRLF two
