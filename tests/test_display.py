"""Notebook renderings: codings and segments as HTML with the coded span, evidence and marks highlighted."""

from __future__ import annotations

import math

import pandas as pd

import qualkit as qk
from qualkit.display import Span, coding_card_html, highlight_html, segment_html, show
from qualkit.model import Code, Codebook


def test_highlight_escapes_text_and_marks_overlaps():
    markup = highlight_html("a <b> c", 100, [Span(102, 105, "#111", "x"), Span(100, 107, "#222", "y", dashed=True)])
    assert "&lt;b&gt;" in markup and "<b>" not in markup
    assert 'title="x, y"' in markup  # the overlap lists both codes; the shorter span's colour wins
    assert "background:#111" in markup and "background:#222;border-bottom:2px dashed" in markup


def test_coding_card_shows_span_evidence_score_and_who_said_it():
    codebook = Codebook("m", [Code("workload", "Workload", color="#abcdef")])
    text = "Too many shifts, honestly."
    row = {"code_id": "workload", "segment_text": text, "segment_start": 50, "start": 50, "end": 66,
           "evidence": [[59, 65]], "score": 0.734, "status": "suggested", "origin": "rules",
           "rationale": 'cue "shifts"', "speaker": math.nan, "source": "fg1.txt"}
    markup = coding_card_html(row, codebook=codebook)
    assert "Workload (workload)" in markup and "background:#abcdef" in markup
    assert "score 0.73" in markup and "(unattributed)" in markup and "fg1.txt" in markup
    evidence = markup.split('title="workload, evidence">shifts</mark>')[0].rsplit("<mark", 1)[1]
    assert "font-weight:bold" in evidence
    assert markup.count("cue &quot;shifts&quot;") == 1


def test_segment_greys_non_speech_marks_and_names_the_moderator():
    markup = segment_html({"speaker": "Moderator", "speaker_role": "moderator", "text": "Go on (laughs)",
                           "start": 10, "turn": 3, "marks": [[16, 24, "laughter"]]})
    assert "(moderator)" in markup and "#3" in markup
    assert 'title="laughter">(laughs)</mark>' in markup


def test_show_picks_cards_or_turns_and_says_how_many_rows_are_left():
    codings = pd.DataFrame({"code_id": ["a", "b", "c"], "segment_text": ["x", "y", "z"], "segment_start": [0, 0, 0]})
    shown = show(codings, n=2)
    assert shown._repr_html_().count("qk-text") == 2 and "1 more rows" in shown._repr_html_()
    assert repr(shown).splitlines() == ["a: x", "b: y"]
    segments = pd.DataFrame({"speaker": [None], "text": ["Title"], "start": [0], "marks": [[]]})
    assert "(unattributed)" in qk.show(segments)._repr_html_()


def test_objects_display_as_html_in_notebooks():
    assert "<b>workload</b>" in qk.Coding(1, "workload", score=0.5)._repr_html_()
    assert "Ann" in qk.Segment("f", 0, 2, "Hi", speaker="Ann")._repr_html_()
