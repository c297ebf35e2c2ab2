"""Prevalence, co-occurrence, distinctive words, saturation and quotes on small hand-built frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qualkit.analysis.cooccurrence import cooccurrence, cooccurrence_pairs
from qualkit.analysis.distinctive import distinctive_words, log_odds_dirichlet
from qualkit.analysis.prevalence import adjusted_residuals, holm, prevalence
from qualkit.analysis.quotes import attribution, quotes, trim_quote
from qualkit.analysis.saturation import saturation
from qualkit.errors import InvalidInput
from qualkit.model import Code, Codebook

# Two focus groups. g1: moderator M, residents R1 R2, staff S1; g2: moderator M, resident R3, staff S2.
TURNS = [
    ("g1.txt", "M", None, "moderator", "What wears you down?"),
    ("g1.txt", "R1", "resident", "participant", "Night float. The pager never stops."),
    ("g1.txt", "R2", "resident", "participant", "Pager again, and the charting after clinic."),
    ("g1.txt", "S1", "staff", "participant", "Inbox messages and patient calls, all day."),
    ("g1.txt", "R1", "resident", "participant", "I am exhausted (laughs) honestly."),
    ("g2.txt", "M", None, "moderator", "And for you?"),
    ("g2.txt", "R3", "resident", "participant", "The pager. Always the pager at night."),
    ("g2.txt", "S2", "staff", "participant", "Staffing is short, the inbox keeps growing."),
    ("g2.txt", "S2", "staff", "participant", "We cover for each other, that keeps me going."),
]


@pytest.fixture
def segs() -> pd.DataFrame:
    rows, pos, last = [], 0, None
    for i, (source, speaker, role, speaker_role, text) in enumerate(TURNS, start=1):
        if source != last:
            pos, last = 0, source
        rows.append({"id": i, "source": source, "source_id": 1 if source == "g1.txt" else 2, "start": 100 * pos,
                     "end": 100 * pos + len(text), "text": text, "speaker": speaker,
                     "participant": None if speaker == "M" else speaker, "speaker_role": speaker_role,
                     "kind": "turn", "turn": pos, "seq": pos, "marks": [],
                     "role": role, "group": 1 if source == "g1.txt" else 2})
        pos += 1
    frame = pd.DataFrame(rows)
    five = frame["id"] == 5
    start = int(frame.loc[five, "start"].iloc[0])
    frame.loc[five, "marks"] = pd.Series([[[start + 15, start + 23, "laughter"]]], index=frame.index[five])
    return frame


def _c(segment_id, code, status="accepted", score=None, origin="human", start=None, end=None, evidence=()):
    return {"segment_id": segment_id, "code_id": code, "status": status, "score": score, "origin": origin,
            "coder": "ana", "decided_by": "ana", "start": start, "end": end, "evidence": list(evidence)}


@pytest.fixture
def cods() -> pd.DataFrame:
    return pd.DataFrame([
        _c(1, "workload"),  # moderator: excluded by default
        _c(2, "workload"), _c(2, "sleep"),
        _c(3, "workload"), _c(3, "ehr"),
        _c(4, "ehr"),
        _c(5, "exhaustion"),
        _c(7, "workload"), _c(7, "sleep"),
        _c(8, "staffing"), _c(8, "ehr", status="suggested", origin="rules", score=0.7),
        _c(9, "peer_support"),
        _c(9, "workload", status="rejected"),
    ])


def test_prevalence_counts_segments_speakers_and_sessions(segs, cods):
    result = prevalence(segs, cods, by="role")
    table = result.table.set_index(["code_id", "group"])
    # Residents: 4 segments (2, 3, 5, 7), speakers R1 R2 R3, both sessions. Staff: 3 segments, S1 S2.
    assert result.groups.set_index("group").loc["resident", ["segments", "speakers", "sessions"]].tolist() == [4, 3, 2]
    assert result.groups.set_index("group").loc["staff", ["segments", "speakers", "sessions"]].tolist() == [3, 2, 2]
    workload = table.loc[("workload", "resident")]
    assert workload[["segments", "speakers", "sessions"]].tolist() == [3, 3, 2]
    assert workload["segments_pct"] == 75.0 and workload["speakers_pct"] == 100.0
    assert table.loc[("workload", "staff"), "segments"] == 0  # the rejected coding does not count
    assert table.loc[("ehr", "staff"), "segments"] == 1  # the suggestion does not count by default
    with_suggested = prevalence(segs, cods, by="role", include_suggested=True).table.set_index(["code_id", "group"])
    assert with_suggested.loc[("ehr", "staff"), "segments"] == 2
    with_moderator = prevalence(segs, cods, by="role", include_moderator=True)
    assert "(missing)" in set(with_moderator.table["group"])
    assert with_moderator.crosstab.loc["workload"].sum() == 4


def test_prevalence_tests_match_scipy_and_residuals_by_hand(segs, cods):
    result = prevalence(segs, cods, by="role")
    tests = result.tests.set_index("code_id")
    # workload: residents 3 of 4 coded, staff 0 of 3 -> 2x2 Fisher exact.
    expected = stats.fisher_exact([[3, 0], [1, 3]])
    assert tests.loc["workload", "test"] == "fisher"
    assert tests.loc["workload", "p_value"] == pytest.approx(expected.pvalue)
    observed = np.array([[3, 0], [1, 3]], dtype=float)
    # E = [[12/7, 9/7], [16/7, 12/7]]; r = (3 - 12/7) / sqrt(12/7 * (1 - 3/7) * (1 - 4/7)).
    r = (3 - 12 / 7) / math.sqrt(12 / 7 * (4 / 7) * (3 / 7))
    assert adjusted_residuals(observed)[0, 0] == pytest.approx(r)
    assert result.residuals.loc["workload", "resident"] == pytest.approx(r, abs=1e-3)
    assert holm(np.array([0.01, np.nan, 0.02]))[[0, 2]].tolist() == pytest.approx([0.02, 0.02])

    by_group = prevalence(segs, cods, by="speaker", test="chi2")
    assert set(by_group.tests["test"].dropna()) == {"chi2"}
    chi2 = by_group.tests.set_index("code_id").loc["workload"]
    crosstab = by_group.crosstab.loc["workload"].to_numpy(dtype=float)
    totals = by_group.groups.set_index("group").loc[by_group.crosstab.columns, "segments"].to_numpy(dtype=float)
    ref = stats.chi2_contingency(np.vstack([crosstab, totals - crosstab]), correction=False)
    assert chi2["statistic"] == pytest.approx(ref.statistic)


def test_prevalence_rolls_up_themes_and_lists_unused_codes(segs, cods):
    codebook = Codebook("t", [Code("drivers", "Drivers", codable=False), Code("workload", "Workload", "drivers"),
                              Code("ehr", "EHR", "drivers"), Code("unused", "Unused"), Code("sleep", "Sleep")])
    result = prevalence(segs, cods, by="role", codebook=codebook, rollup=True, all_codes=True)
    table = result.table.set_index(["code_id", "group"])
    assert table.loc[("drivers+", "resident"), "segments"] == 3  # segments 2, 3, 7
    assert table.loc[("drivers+", "staff"), "segments"] == 1  # segment 4
    assert table.loc[("drivers+", "staff"), "code_name"] == "Drivers + sub-codes"  # a roll-up says so
    assert table.loc[("drivers+", "staff"), "rollup"] and not table.loc[("workload", "staff"), "rollup"]
    assert table.loc[("unused", "staff"), "segments"] == 0
    assert list(result.table["code_id"].unique()[:4]) == ["drivers+", "workload", "ehr", "unused"]
    assert table.loc[("ehr", "staff"), "code_name"] == "EHR"
    with pytest.raises(InvalidInput, match="no attribute 'gender'"):
        prevalence(segs, cods, by="gender")


def test_cooccurrence_within_segment_and_window(segs, cods):
    within = cooccurrence(segs, cods)
    assert within.loc["workload", "sleep"] == 2 and within.loc["sleep", "workload"] == 2
    assert within.loc["workload", "ehr"] == 1
    assert within.loc["workload", "workload"] == 3
    assert within.loc["ehr", "staffing"] == 0
    window = cooccurrence(segs, cods, window=1)
    # Pairs within one turn in g1: (2: workload,sleep) (3: workload,ehr) (4: ehr) (5: exhaustion).
    # workload-ehr: (2,3) (3,3) (3,4) -> 3; in g2: workload at 7, staffing at 8 -> workload-staffing 1.
    assert window.loc["workload", "ehr"] == 3
    assert window.loc["workload", "staffing"] == 1
    assert window.loc["ehr", "exhaustion"] == 1
    assert (window.to_numpy() == window.to_numpy().T).all()
    jaccard = cooccurrence(segs, cods, normalize="jaccard")
    assert jaccard.loc["workload", "sleep"] == pytest.approx(2 / 3)
    pairs = cooccurrence_pairs(within)
    assert tuple(pairs.iloc[0][["code_a", "code_b", "count"]]) in {("workload", "sleep", 2), ("sleep", "workload", 2)}
    with pytest.raises(InvalidInput):
        cooccurrence(segs, cods, window=2, normalize="jaccard")


def test_log_odds_against_a_hand_computed_example():
    # Group i: tired 3, pager 1 (n_i = 4); group j: tired 1, pager 3 (n_j = 4); prior alpha = 4 each
    # (alpha_0 = 8). For "tired": delta = log((3+4)/(4+8-3-4)) - log((1+4)/(4+8-1-4)) = log(7/5) - log(5/7)
    # = 0.672944; sigma^2 = 1/7 + 1/5 = 0.342857; z = 0.672944 / 0.585540 = 1.149272.
    result = log_odds_dirichlet({"tired": 3, "pager": 1}, {"tired": 1, "pager": 3}, {"tired": 4, "pager": 4})
    assert result.loc["tired", "log_odds"] == pytest.approx(2 * math.log(1.4))
    assert result.loc["tired", "variance"] == pytest.approx(1 / 7 + 1 / 5)
    assert result.loc["tired", "z"] == pytest.approx(1.149272, abs=1e-6)
    assert result.loc["pager", "z"] == pytest.approx(-1.149272, abs=1e-6)
    # Unequal totals and priors: i = {a: 5, b: 1}, j = {a: 2, b: 6}, alpha = {a: 1, b: 3} (alpha_0 = 4).
    # delta_a = log(6 / (6+4-5-1)) - log(3 / (8+4-2-1)) = log(1.5) - log(1/3) = 1.504077
    # sigma^2 = 1/6 + 1/3 = 0.5 -> z = 2.127100
    result = log_odds_dirichlet({"a": 5, "b": 1}, {"a": 2, "b": 6}, {"a": 1, "b": 3})
    assert result.loc["a", "log_odds"] == pytest.approx(math.log(1.5) - math.log(1 / 3))
    assert result.loc["a", "z"] == pytest.approx(1.504077 / math.sqrt(0.5), abs=1e-6)


def test_distinctive_words_by_role(segs):
    result = distinctive_words(segs, by="role", min_count=2, top=None)
    residents = result.loc[result["group"] == "resident"].set_index("word")
    staff = result.loc[result["group"] == "staff"].set_index("word")
    assert residents.index[0] == "pager" and residents.loc["pager", "count"] == 4
    assert staff.index[0] == "inbox" and residents.loc["pager", "z"] > 0
    assert "the" not in residents.index  # stop words out
    assert "laughs" not in set(distinctive_words(segs, by="role", min_count=1, top=None)["word"])
    versus = distinctive_words(segs, by="role", versus="resident", min_count=1, top=None)
    assert set(versus["group"]) == {"staff"}
    coded = distinctive_words(segs, by="role", min_count=1, codings=pd.DataFrame(
        [_c(2, "workload"), _c(4, "workload")]), code="workload", top=None)
    assert set(coded["word"]) <= set(["night", "float", "the", "pager", "never", "stops", "inbox", "messages", "and", "patient", "calls", "all", "day"])


def test_a_one_word_vocabulary_has_nothing_to_contrast():
    """Every group said only "tired": no word list, where the log-odds used to divide by zero (inf z scores)."""
    segs = pd.DataFrame({"id": [1, 2], "text": ["tired tired", "tired"], "start": 0, "source": "g1",
                         "speaker": ["A", "B"], "speaker_role": "participant", "kind": "turn",
                         "role": ["resident", "staff"]})
    with np.errstate(all="raise"):
        result = distinctive_words(segs, min_count=1, top=None)
    assert result.empty


def test_saturation_curve(segs, cods):
    curve = saturation(segs, cods)
    assert curve["unit"].tolist() == ["g1.txt", "g2.txt"]
    assert curve["new_codes"].tolist() == [4, 2]  # g1: workload sleep ehr exhaustion; g2: staffing peer_support
    assert curve["new_code_ids"].tolist()[1] == ["peer_support", "staffing"]
    assert curve["cumulative_codes"].tolist() == [4, 6]
    assert curve["cumulative_pct"].tolist() == [66.7, 100.0]
    reverse = saturation(segs, cods, order=["g2.txt", "g1.txt"])
    assert reverse["new_codes"].tolist() == [4, 2]  # workload sleep staffing peer_support, then ehr exhaustion
    assert saturation(segs, cods, min_count=2)["cumulative_codes"].tolist() == [2, 2]  # workload, ehr in g1
    with pytest.raises(InvalidInput):
        saturation(segs, cods, order=["g1.txt"])


def test_attribution_and_trimming():
    assert attribution({"role": "resident", "group": 2}) == "Resident, group 2"
    assert attribution({"role": None, "speaker_role": "participant", "source": "g3.txt"}) == "Participant, g3.txt"
    text = "Well. I'm honestly exhausted by the pager at night, every night. Anyway, that's it."
    quote, start, end = trim_quote(text, offset=1000, evidence=[(1000 + text.index("exhausted"),
                                                                  1000 + text.index("exhausted") + 9)])
    assert quote == "I'm honestly exhausted by the pager at night, every night."
    assert text[start - 1000:end - 1000] == quote
    span_quote, s, e = trim_quote(text, offset=0, span=(6, 28))
    assert span_quote == text[6:28] and (s, e) == (6, 28)
    long = "word " * 200 + "burnout here " + "word " * 200
    cut, s, e = trim_quote(long, evidence=[(long.index("burnout"), long.index("burnout") + 7)], max_chars=80)
    assert "burnout" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 82


def test_quotes_start_at_the_talk_not_at_fillers_or_marks():
    text = "[pause] Um, yeah, I'm just done with the pager."
    quote, start, end = trim_quote(text, offset=50, evidence=[(50 + text.index("done"), 50 + text.index("done") + 4)])
    assert quote == "I'm just done with the pager." and text[start - 50:end - 50] == quote
    assert trim_quote("ER was packed, um, all night.")[0] == "ER was packed, um, all night."  # not a filler
    assert trim_quote("Um.")[0] == "Um."  # nothing left after the filler: keep it
    # a reviewer's own span is quoted as chosen, fillers and all
    assert trim_quote(text + " More.", span=(0, len(text)))[0] == text


def test_a_quote_starts_at_a_word_not_at_an_emoji_or_stray_punctuation():
    """F's report quoted "😩 I am so tired..."; offsets still slice the transcript exactly (code points)."""
    transcript = "Moderator: How are nights?\nR1: Fine. 😩 I am so tired of the pager. Anyway.\n"
    offset = transcript.index("Fine.")
    text = transcript[offset:transcript.index("\n", offset)]
    word = offset + text.index("tired")
    quote, start, end = trim_quote(text, offset=offset, evidence=[(word, word + 5)])
    assert quote == "I am so tired of the pager." and transcript[start:end] == quote
    assert trim_quote("😩🙄 honestly, it never ends.")[0] == "honestly, it never ends."
    assert trim_quote("[laughs] 😂 Um, it never ends.")[0] == "it never ends."
    assert trim_quote("— and then the bleep again.")[0] == "and then the bleep again."
    assert trim_quote("“Not again,” I said.")[0] == "“Not again,” I said."  # an opening quotation mark stays
    assert trim_quote("£200 a month on parking.")[0] == "£200 a month on parking."
    long = "word " * 100 + "🙄 … burnout here " + "word " * 100
    at = long.index("burnout")
    cut, start, end = trim_quote(long, evidence=[(at, at + 7)], max_chars=len("🙄 … burnout here") + 20)
    assert cut.lstrip("…")[0].isalnum() and long[start:end] == cut.strip("…")
    segs = pd.DataFrame({"id": [1], "source": "g1.txt", "speaker": ["Ann"], "start": [offset], "text": [text],
                         "speaker_role": "participant", "kind": "turn"})
    cods = pd.DataFrame({"segment_id": [1], "code_id": ["pager"], "status": ["accepted"],
                         "evidence": [[[word, word + 5]]]})
    row = quotes(segs, cods, "pager").iloc[0]
    assert row["quote"] == "I am so tired of the pager." and transcript[row["start"]:row["end"]] == row["quote"]
    assert trim_quote("😩 Fine. More.", span=(0, 7))[0] == "😩 Fine."  # a reviewer's own span is quoted as chosen


def test_quotes_are_strong_diverse_and_attributed(segs):
    cods = pd.DataFrame([
        _c(2, "pager", score=0.9, origin="rules", evidence=[(100 + 13, 100 + 18)]),
        _c(7, "pager", score=0.8, origin="rules"),
        _c(3, "pager", score=0.95, origin="rules"),
        _c(1, "pager", score=1.0, origin="rules"),  # moderator: never quoted by default
        _c(5, "pager", status="suggested", score=0.99, origin="rules"),
    ])
    result = quotes(segs, cods, "pager", n=3)
    assert result["segment_id"].tolist()[0] == 3  # strongest
    assert 1 not in result["segment_id"].tolist() and 5 not in result["segment_id"].tolist()
    # Second pick: a new speaker and a new group (segment 7, group 2) beats R1 in group 1.
    assert result["segment_id"].tolist()[1] == 7
    assert result["attribution"].tolist()[:2] == ["Resident, group 1", "Resident, group 2"]
    first = result.set_index("segment_id").loc[2]
    assert first["quote"] == "The pager never stops."  # trimmed to the sentence of the evidence
    assert "R1" not in " ".join(result["attribution"])
    assert quotes(segs, cods, "pager", include_suggested=True, n=1)["segment_id"].tolist() == [5]
    assert quotes(segs, cods, "nothing").empty


def test_a_passage_the_coders_disagree_on_is_the_last_exemplar_and_says_so():
    """ben applied peer support to a passage about family life, ana rejected it, nobody settled it."""
    from qualkit.analysis.quotes import quotes

    segments = pd.DataFrame({"id": [1, 2], "source": "night.txt", "speaker": ["Zoë", "Ali"], "start": [0, 100],
                             "text": ["My partner works days, so we leave each other notes on the fridge.",
                                      "The night team covers for each other when someone is drowning."],
                             "speaker_role": "participant", "kind": "turn"})
    codings = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": "peer_support",
                            "status": ["accepted", "rejected", "accepted"], "decided_by": ["ben", "ana", "ana"],
                            "origin": "human", "score": [None, None, None]})
    found = quotes(segments, codings, "peer_support")
    assert found["segment_id"].tolist() == [2, 1]  # the agreed passage first, though both score 1.0
    assert found["contested"].tolist() == [False, True]
    settled = pd.concat([codings, pd.DataFrame({"segment_id": [1], "code_id": ["peer_support"],
                                                "status": ["accepted"], "decided_by": ["consensus"],
                                                "origin": ["human"], "score": [None]})])
    assert not quotes(segments, settled, "peer_support")["contested"].any()


def test_a_disagreement_by_omission_marks_the_quote_when_the_report_passes_it():
    """cora coded leadership, cody left it out: no one rejected it, yet the coders disagree (the report passes it)."""
    from qualkit.analysis.quotes import quotes

    segments = pd.DataFrame({"id": [1, 2], "source": "fg2.txt", "speaker": ["Ann", "Bo"], "start": [0, 100],
                             "text": ["There was a wellness lunch while we were four nurses short.",
                                      "Management never asks the night team anything."],
                             "speaker_role": "participant", "kind": "turn"})
    codings = pd.DataFrame({"segment_id": [1, 2], "code_id": "leadership", "status": "accepted",
                            "decided_by": ["cora", "cora"], "origin": "human", "score": [None, None]})
    assert not quotes(segments, codings, "leadership")["contested"].any()  # nothing explicit to go by
    found = quotes(segments, codings, "leadership", disputed={(1, "leadership"), (2, "staffing")})
    assert found["segment_id"].tolist() == [2, 1] and found["contested"].tolist() == [False, True]


def test_prevalence_notes_group_values_that_differ_only_in_case():
    """A participants sheet had 'registrar' for one doctor and 'Registrar' for another: prevalence split one
    registrar off into a one-person group, without a word."""
    segments = pd.DataFrame({"id": [1, 2, 3], "source": "g1.txt", "speaker": ["A", "B", "C"],
                             "participant": ["A", "B", "C"], "speaker_role": "participant", "kind": "turn",
                             "role": ["registrar", "Registrar", "consultant"]})
    codings = pd.DataFrame({"segment_id": [1, 2], "code_id": "rota", "status": "accepted"})
    notes = prevalence(segments, codings, by="role").notes
    assert notes == ["role has values that differ only in case or spacing ('Registrar', 'registrar'): they are "
                     "counted as separate groups; correct the participants file to join them"]
    assert prevalence(segments.assign(role=["registrar", "registrar", "consultant"]), codings, by="role").notes == []
