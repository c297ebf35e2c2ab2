"""Reliability statistics against hand-computed textbook examples, and the segment-level analysis."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from qualkit.analysis.reliability import (
    Coder,
    _binary_statistics,
    _unit_quantities,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
    reliability,
    resolve_coder,
)
from qualkit.errors import InvalidInput

# ----------------------------------------------------------------------------- textbook examples


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        # 50 grant proposals, two readers: po = 35/50 = .70, pe = .5*.6 + .5*.4 = .50, kappa = .20/.50.
        ([[20, 5], [10, 15]], 0.4),
        # Same 60% agreement, different marginals: pe = .6*.7 + .4*.3 = .54 -> .06/.46.
        ([[45, 15], [25, 15]], 0.06 / 0.46),
        # pe = .6*.3 + .4*.7 = .46 -> .14/.54.
        ([[25, 35], [5, 35]], 0.14 / 0.54),
        # Perfect agreement on both categories.
        ([[7, 0], [0, 3]], 1.0),
    ],
)
def test_cohen_kappa_classic_2x2_tables(table, expected):
    assert cohen_kappa_table(table) == pytest.approx(expected, abs=1e-12)


def test_cohen_kappa_three_categories_by_hand():
    # Rows coder A, columns coder B; n = 100. po = (25 + 30 + 16)/100 = .71.
    # Marginals A: 35, 40, 25; B: 30, 45, 25 -> pe = (35*30 + 40*45 + 25*25)/100^2 = .3475.
    # kappa = (.71 - .3475)/(1 - .3475) = .3625/.6525 = 0.5556.
    table = [[25, 8, 2], [3, 30, 7], [2, 7, 16]]
    assert cohen_kappa_table(table) == pytest.approx(0.3625 / 0.6525)


def test_cohen_kappa_from_labels_matches_the_table():
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert np.isnan(cohen_kappa(["n"] * 5, ["n"] * 5))


def test_fleiss_kappa_worked_example():
    # The classic worked example: 10 subjects, 14 raters, 5 categories.
    # Hand computation: P-bar = 0.378, P-e = 0.213, kappa = (0.378 - 0.213) / (1 - 0.213) = 0.210.
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(counts) == pytest.approx(0.2099, abs=5e-4)
    x = np.array(counts, dtype=float)
    p_bar = (((x**2).sum(1) - 14) / (14 * 13)).mean()
    assert p_bar == pytest.approx(0.378, abs=5e-4)


def test_fleiss_kappa_with_two_raters_is_scotts_pi():
    # Two raters, binary: Fleiss reduces to Scott's pi. Units: (1,1) x3, (0,0) x4, (1,0) x3.
    counts = [[0, 2]] * 3 + [[2, 0]] * 4 + [[1, 1]] * 3
    p1 = (3 * 2 + 3) / 20  # share of "1" among all 20 ratings = .45
    pe = p1**2 + (1 - p1) ** 2
    po = 7 / 10
    assert fleiss_kappa(counts) == pytest.approx((po - pe) / (1 - pe))
    with pytest.raises(InvalidInput):
        fleiss_kappa([[1, 1], [3, 0]])


def test_krippendorff_published_nominal_example_with_missing_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 observers x 12 units with
    # missing values; published alpha (nominal) = 0.743.
    nan = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    assert krippendorff_alpha(data) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_published_binary_example():
    # Krippendorff (2011): two observers, ten units, binary. By hand: n = 20 values, 14 zeros, 6 ones,
    # 4 disagreeing units -> o_01 = 4; alpha = 1 - (n - 1) o_01 / (n_0 n_1) = 1 - 19*4/84 = 0.0952.
    data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    assert krippendorff_alpha(data) == pytest.approx(1 - 19 * 4 / 84)
    # Cohen's kappa on the same data: po = .6, pe = .2*.4 + .8*.6 = .56 -> .04/.44.
    assert cohen_kappa(*data) == pytest.approx(0.04 / 0.44)
    assert percent_agreement(data) == pytest.approx(0.6)
    assert np.isnan(krippendorff_alpha([[0, 0, 0], [0, 0, 0]]))


@pytest.mark.parametrize("coders", [2, 3, 5])
def test_fast_binary_statistics_match_the_reference_implementations(coders):
    rng = np.random.default_rng(coders)
    truth = rng.random(200) < 0.3
    values = np.column_stack([np.where(rng.random(200) < 0.8, truth, ~truth) for _ in range(coders)]).astype(float)
    quantities, pairs = _unit_quantities(values)
    stats = _binary_statistics(quantities.sum(0, keepdims=True), coders, pairs)
    counts = np.column_stack([coders - values.sum(1), values.sum(1)])
    assert stats["fleiss_kappa"][0] == pytest.approx(fleiss_kappa(counts))
    assert stats["krippendorff_alpha"][0] == pytest.approx(krippendorff_alpha(values.T))
    assert stats["percent_agreement"][0] == pytest.approx(percent_agreement(values.T))
    assert stats["gwet_ac1"][0] == pytest.approx(gwet_ac1(counts))
    for k, (a, b) in enumerate(pairs):
        assert stats["pair_kappa"][0, k] == pytest.approx(cohen_kappa(values[:, a], values[:, b]))


def test_gwet_ac1_worked_example_and_the_rare_code_paradox():
    # Gwet (2008), two raters, two categories: 40 yes/yes, 5 yes/no, 5 no/yes, 50 no/no.
    counts = [[0, 2]] * 40 + [[1, 1]] * 10 + [[2, 0]] * 50
    pa, pi = 0.9, 0.45
    assert gwet_ac1(counts) == pytest.approx((pa - 2 * pi * (1 - pi)) / (1 - 2 * pi * (1 - pi)))
    # A rare code: the coders agree on 98 of 100 units but never on a "yes"; kappa is below zero, AC1 near one.
    rare = [[2, 0]] * 98 + [[1, 1]] * 2
    assert fleiss_kappa(rare) < 0 < 0.95 < gwet_ac1(rare)


# ----------------------------------------------------------------------------- segments and coders


def _segments(n: int, sources: tuple[str, ...] = ("g1.txt",)) -> pd.DataFrame:
    rows = []
    for s_index, source in enumerate(sources):
        for i in range(n):
            rows.append({"id": s_index * 100 + i + 1, "source": source, "speaker": f"P{i % 3}", "turn": i, "seq": i,
                         "speaker_role": "participant", "kind": "turn", "text": f"turn {i} of {source}"})
    return pd.DataFrame(rows)


def _coding(segment_id, code, coder, *, origin="human", status="accepted", decided_by=None):
    return {"segment_id": segment_id, "code_id": code, "coder": coder, "origin": origin, "status": status,
            "decided_by": decided_by if decided_by is not None else (coder if origin == "human" else None)}


def _two_coder_codings() -> pd.DataFrame:
    # Code "a": ana says yes on 1-4, ben on 3-6. Segments 7-10: nobody coded anything.
    rows = [_coding(s, "a", "ana") for s in (1, 2, 3, 4)]
    rows += [_coding(s, "a", "ben") for s in (3, 4, 5, 6)]
    return pd.DataFrame(rows)


def test_uncoded_segments_are_excluded_by_default_and_the_statement_says_so():
    segs = _segments(10)
    result = reliability(segs, _two_coder_codings(), ["ana", "ben"], n_boot=0)
    row = result.per_code.iloc[0]
    # 6 units: both 2, ana only 2, ben only 2, neither 0 -> po = 2/6, pe = (4/6)^2 + (2/6)^2 = 20/36.
    assert row["units"] == 6
    assert row["percent_agreement"] == pytest.approx(2 / 6)
    assert row["cohen_kappa"] == pytest.approx((12 / 36 - 20 / 36) / (16 / 36))
    assert "4 segments that no coder coded were excluded" in result.statement
    assert " talk in 1 transcript every coder worked on" in result.statement  # not "1 transcripts"
    assert result.settings["uncoded"] == "exclude"

    included = reliability(segs, _two_coder_codings(), ["ana", "ben"], uncoded="include", n_boot=0)
    row = included.per_code.iloc[0]
    # 10 units: po = 6/10, pe = .4*.4 + .6*.6 = .52 -> kappa = .08/.48: inflated, as the report warns.
    assert row["units"] == 10
    assert row["cohen_kappa"] == pytest.approx(0.08 / 0.48)
    assert "were included (this inflates" in included.statement
    assert row["cohen_kappa"] > result.per_code.iloc[0]["cohen_kappa"]


def test_a_coders_judgement_follows_contributing_rules():
    segs = _segments(6)
    rows = [
        # Suggestions by the machine coder "auto"; ana accepts some in place, rejects one.
        _coding(1, "a", "auto", origin="rules", status="accepted", decided_by="ana"),
        _coding(2, "a", "auto", origin="rules", status="rejected", decided_by="ana"),
        _coding(3, "a", "auto", origin="rules", status="suggested"),
        # ben's blind double-coding: his own rows pointing at the suggestions.
        _coding(1, "a", "ben"), _coding(2, "a", "ben"),
        _coding(3, "a", "ben", status="rejected"),
    ]
    codings = pd.DataFrame(rows)
    assert resolve_coder(codings, "auto") == Coder("auto", "machine", "coder")
    assert resolve_coder(codings, "ana").kind == "human"
    assert resolve_coder(codings, "origin:rules") == Coder("rules", "machine", "origin")

    result = reliability(segs, codings, ["ana", "ben"], n_boot=0)
    assert result.per_code.iloc[0][["n_ana", "n_ben"]].tolist() == [1, 2]
    dis = result.disagreements
    assert dis["segment_id"].tolist() == [2]
    assert dis.iloc[0]["rejected_by"] == "ana"
    assert dis.iloc[0]["applied_by"] == "ben"

    machine = reliability(segs, codings, ["ben", "auto"], n_boot=0)
    # The machine judged yes on 1, 2, 3 (its suggestions, whatever humans decided); ben yes on 1, 2.
    assert machine.per_code.iloc[0][["n_ben", "n_auto"]].tolist() == [2, 3]
    by_origin = reliability(segs, codings, ["ben", "origin:rules"], n_boot=0)
    assert by_origin.per_code.iloc[0]["n_rules"] == 3


def test_only_transcripts_every_coder_worked_on_count():
    segs = _segments(4, sources=("g1.txt", "g2.txt"))
    rows = [_coding(1, "a", "ana"), _coding(2, "a", "ben"), _coding(101, "a", "ana"), _coding(102, "a", "ana")]
    result = reliability(segs, pd.DataFrame(rows), ["ana", "ben"], n_boot=0)
    assert result.settings["sources"] == ["g1.txt"]
    assert result.per_code.iloc[0]["units"] == 2
    chosen = reliability(segs, pd.DataFrame(rows), ["ana", "ben"], sources=["g1.txt", "g2.txt"], n_boot=0)
    assert chosen.per_code.iloc[0]["units"] == 4


def test_moderator_talk_is_not_a_unit_unless_asked():
    segs = _segments(4)
    segs.loc[segs["id"] == 1, "speaker_role"] = "moderator"
    rows = [_coding(1, "a", "ana"), _coding(1, "a", "ben"), _coding(2, "a", "ana")]
    assert reliability(segs, pd.DataFrame(rows), ["ana", "ben"], n_boot=0).per_code.iloc[0]["units"] == 1
    assert reliability(segs, pd.DataFrame(rows), ["ana", "ben"], n_boot=0,
                       include_moderator=True).per_code.iloc[0]["units"] == 2


def test_pooled_kappa_follows_de_vries():
    segs = _segments(10)
    rows = [_coding(s, "a", "ana") for s in (1, 2, 3, 4)] + [_coding(s, "a", "ben") for s in (3, 4, 5, 6)]
    rows += [_coding(s, "b", "ana") for s in (1, 7, 8)] + [_coding(s, "b", "ben") for s in (7, 8, 9)]
    result = reliability(segs, pd.DataFrame(rows), ["ana", "ben"], n_boot=0)
    units = 9  # segment 10 is uncoded
    # code a: both {3,4}; only ana {1,2}; only ben {5,6} -> po = 5/9, pa = pb = 4/9
    po_a, pe_a = (2 + 3) / units, (4 / 9) ** 2 + (5 / 9) ** 2
    # code b: both {7,8}; only ana {1}; only ben {9} -> po = 7/9, pa = pb = 3/9
    po_b, pe_b = (2 + 5) / units, (3 / 9) ** 2 + (6 / 9) ** 2
    po, pe = (po_a + po_b) / 2, (pe_a + pe_b) / 2
    overall = result.overall.set_index("statistic")["value"]
    assert overall["cohen_kappa_pooled"] == pytest.approx((po - pe) / (1 - pe))
    assert overall["percent_agreement"] == pytest.approx((5 + 7) / 18)
    # exact match: units where both codes agree: 3, 4, 7, 8 agree on both; 10 excluded; 5 of 9 disagree.
    assert overall["exact_match"] == pytest.approx(4 / 9)
    # stacked Krippendorff alpha equals the package on the stacked data.
    a = np.zeros((2, 18))
    for k, coder in enumerate(("ana", "ben")):
        for r in rows:
            if r["coder"] == coder:
                a[k, (r["segment_id"] - 1) + (0 if r["code_id"] == "a" else 9)] = 1
    assert overall["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(a))


def test_three_coders_fleiss_and_mean_pairwise_cohen():
    segs = _segments(12)
    rng = np.random.default_rng(7)
    rows = []
    values = {}
    for coder in ("ana", "ben", "cy"):
        chosen = [s for s in range(1, 13) if rng.random() < 0.5] or [1]
        values[coder] = chosen
        rows += [_coding(s, "a", coder) for s in chosen]
    result = reliability(segs, pd.DataFrame(rows), ["ana", "ben", "cy"], n_boot=0)
    units = sorted(set().union(*values.values()))
    matrix = np.array([[1 if u in values[c] else 0 for u in units] for c in ("ana", "ben", "cy")])
    counts = np.column_stack([3 - matrix.sum(0), matrix.sum(0)])
    row = result.per_code.iloc[0]
    assert row["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts))
    pairwise = [cohen_kappa(matrix[a], matrix[b]) for a, b in itertools.combinations(range(3), 2)]
    assert row["cohen_kappa"] == pytest.approx(np.nanmean(pairwise))
    assert len(result.pairs) == 3
    assert row["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(matrix))
    # a methodologist read "Cohen's kappa" for three coders: the statement and the report name Light's
    assert "cohen_kappa is Light's kappa: the mean of Cohen's kappa over every pair" in result.statement
    from qualkit.export.report import kappa_name

    assert kappa_name(3).startswith("Light's") and kappa_name(2) == "Cohen's \u03ba"


def test_codes_nobody_applied_are_named_and_few_coded_codes_get_no_interval_in_the_report():
    """A methodologist read "7 codes" against an 8-code codebook, and [1.00, 1.00] on 3 coded units as certainty."""
    from qualkit.export.report import _reliability_tables
    from qualkit.model import Code, Codebook

    segs = _segments(12)
    rows = [_coding(s, "a", c) for s in range(1, 9) for c in ("ana", "ben")] + \
        [_coding(s, "b", c) for s in (9, 10) for c in ("ana", "ben")]
    codebook = Codebook("m", [Code("a", "A"), Code("b", "B"), Code("unused", "Unused")])
    result = reliability(segs, pd.DataFrame(rows), ["ana", "ben"], codebook=codebook, n_boot=50)
    assert "1 of the codebook's 3 codes was applied by no coder here and is left out (unused)" in result.statement
    assert "Units: 10 segments" in result.statement and "2 codes, each" in result.statement
    per_code = _reliability_tables(result)[1].set_index("code")
    assert "[" in per_code.loc["A", "agreement"]  # 16 coded units: an interval
    assert per_code.loc["B", "agreement"] == "1.00 (too few coded for an interval)"  # 4 coded units


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate():
    segs = _segments(60)
    rng = np.random.default_rng(1)
    truth = rng.random(60) < 0.4
    rows = []
    for coder, noise in (("ana", 0.1), ("ben", 0.15)):
        for s in range(60):
            if truth[s] != (rng.random() < noise):
                rows.append(_coding(s + 1, "a", coder))
        rows.append(_coding(60, "b", coder))
    codings = pd.DataFrame(rows)
    first = reliability(segs, codings, ["ana", "ben"], n_boot=300, seed=3, uncoded="include")
    again = reliability(segs, codings, ["ana", "ben"], n_boot=300, seed=3, uncoded="include")
    other = reliability(segs, codings, ["ana", "ben"], n_boot=300, seed=4, uncoded="include")
    pd.testing.assert_frame_equal(first.per_code, again.per_code)
    assert not first.per_code.equals(other.per_code)
    row = first.per_code.set_index("code_id").loc["a"]
    for stat in ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"):
        assert row[f"{stat}_low"] <= row[stat] <= row[f"{stat}_high"], stat
        assert row[f"{stat}_high"] - row[f"{stat}_low"] > 0.01
    overall = first.overall.set_index("statistic")
    assert (overall["ci_low"] <= overall["value"]).all() and (overall["value"] <= overall["ci_high"]).all()
    assert "300 resamples, seed 3" in first.statement


def test_bad_coder_lists_raise_one_clear_error():
    segs = _segments(3)
    codings = _two_coder_codings()
    with pytest.raises(InvalidInput, match="two or more"):
        reliability(segs, codings, ["ana"], n_boot=0)
    # One coder nobody knows: the count is what is wrong ("no codings by coder 'me'" said nothing of it).
    with pytest.raises(InvalidInput, match=r"two or more different coders, got \['me'\]"):
        reliability(segs, codings, ["me"], n_boot=0)
    with pytest.raises(InvalidInput, match="no codings by coder 'zoe'"):
        reliability(segs, codings, ["ana", "zoe"], n_boot=0)
    with pytest.raises(InvalidInput, match="uncoded"):
        reliability(segs, codings, ["ana", "ben"], uncoded="sometimes")


def test_reliability_over_a_store_on_sqlite_and_postgresql(store, small_source):
    from qualkit.model import Code, Codebook, Coding

    store.save_codebook(Codebook("c", [Code("exhaustion", "Exhaustion"), Code("ehr", "EHR")]), user="lea")
    store.add_source(small_source, user="lea")
    moderator, ann, bela = (s.id for s in small_source.segments)
    # The machine suggested both; ana accepted exhaustion in place; ben coded blind on his own rows.
    suggestions = [Coding(ann, "exhaustion", origin="rules", coder="auto", score=0.9),
                   Coding(bela, "ehr", origin="rules", coder="auto", score=0.7)]
    store.add_codings(suggestions, user="auto")
    store.decide(suggestions[0].id, "accept", user="ana")
    store.add_codings([Coding(ann, "exhaustion", status="accepted", coder="ben", parent_id=suggestions[0].id),
                       Coding(bela, "ehr", status="accepted", coder="ben", parent_id=suggestions[1].id),
                       Coding(bela, "exhaustion", status="rejected", coder="ben")], user="ben")
    result = reliability(store.segments_df(), store.codings_df(), ["ana", "ben"], n_boot=0,
                         codebook=store.codebook())
    per_code = result.per_code.set_index("code_id")
    assert per_code.loc["exhaustion", "percent_agreement"] == 1.0
    assert per_code.loc["ehr", "percent_agreement"] == 0.5  # ben yes, ana no on Béla's turn
    assert per_code.loc["ehr", "code_name"] == "EHR"
    assert result.disagreements[["segment_id", "code_id", "applied_by"]].values.tolist() == [[bela, "ehr", "ben"]]
    assert moderator not in set(result.units["segment_id"])
    machine = reliability(store.segments_df(), store.codings_df(), ["ben", "auto"], n_boot=0)
    assert machine.per_code.set_index("code_id").loc["ehr", "percent_agreement"] == 1.0


def test_a_coders_own_row_decides_over_their_earlier_decision_in_place():
    """ana accepted a suggestion in place, then (the transcript now blind) rejected it afresh in her own row:
    it counted as both her yes and her no."""
    from qualkit.analysis.reliability import Coder, judgements

    rows = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": ["a", "a", "a"], "coder": ["auto", "ana", "auto"],
                         "origin": ["rules", "human", "rules"], "status": ["accepted", "rejected", "accepted"],
                         "decided_by": ["ana", "ana", "ana"]})
    positive, negative, _ = judgements(rows, Coder("ana"))
    assert positive.values.tolist() == [[2, "a"]] and negative.values.tolist() == [[1, "a"]]


def test_naming_a_coder_before_anyone_has_coded_says_so_not_use_one_of_nothing():
    """A stranger's reliability("ann", "sam") on a fresh study said "Fix: use one of []"."""
    import pandas as pd

    from qualkit.analysis.reliability import resolve_coder

    empty = pd.DataFrame(columns=["coder", "decided_by", "origin"])
    with pytest.raises(InvalidInput, match="nobody has coded or decided anything yet") as caught:
        resolve_coder(empty, "ann")
    assert "[]" not in str(caught.value)
