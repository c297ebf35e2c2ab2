"""Evaluation metrics agree with scikit-learn's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, f1_score

from qualkit.coding.evaluate import cohen_kappa, evaluate_codes, format_table

CODES = ["a", "b", "c"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sets(st.sampled_from(CODES)), st.sets(st.sampled_from(CODES))), min_size=1, max_size=25))
def test_metrics_match_scikit_learn(pairs):
    gold = {i: sorted(g) for i, (g, _) in enumerate(pairs)}
    pred = {i: sorted(p) for i, (_, p) in enumerate(pairs)}
    table = evaluate_codes(gold, pred, codes=CODES).set_index("code")
    G = np.array([[c in g for c in CODES] for g, _ in pairs])
    P = np.array([[c in p for c in CODES] for _, p in pairs])
    assert np.isclose(table.loc["micro", "f1"], f1_score(G, P, average="micro", zero_division=0))
    present = G.any(axis=0)
    if present.any():
        expected = np.mean([f1_score(G[:, j], P[:, j], zero_division=0) for j in np.nonzero(present)[0]])
        assert np.isclose(table.loc["macro", "f1"], expected)
    for j, code in enumerate(CODES):
        assert table.loc[code, "support"] == G[:, j].sum()
        if len(set(G[:, j])) > 1 or len(set(P[:, j])) > 1:
            with np.errstate(all="ignore"):
                reference = cohen_kappa_score(G[:, j], P[:, j])
            if np.isfinite(reference):
                assert np.isclose(table.loc[code, "kappa"], reference)


def test_missing_predictions_count_as_no_codes():
    table = evaluate_codes({"x": ["a"], "y": []}, {}).set_index("code")
    assert table.loc["a", "recall"] == 0 and table.loc["a", "predicted"] == 0


def test_a_gold_code_outside_the_codes_scored_is_an_error():
    """Seen by a new researcher: a typo in the gold file ('exhausted') silently scored as 'no code'."""
    from qualkit.errors import InvalidInput

    with pytest.raises(InvalidInput, match="gold item 'R21' has code 'exhausted', which is not among the codes"):
        evaluate_codes({"R20": ["exhaustion"], "R21": ["exhausted"]}, {}, codes=["exhaustion", "staffing"])


def test_kappa_is_nan_when_nobody_varies():
    assert np.isnan(cohen_kappa(np.zeros(4), np.zeros(4)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=3, max_size=30))
def test_alpha_and_ac1_match_the_textbook_definitions(pairs):
    import krippendorff

    from qualkit.analysis.reliability import gwet_ac1
    from qualkit.coding.evaluate import binary_agreement

    a = np.array([x for x, _ in pairs])
    b = np.array([y for _, y in pairs])
    got = {k: float(v[0]) for k, v in binary_agreement(a, b).items()}
    counts = np.stack([(~a).astype(int) + (~b).astype(int), a.astype(int) + b.astype(int)], axis=1)
    expected_ac1 = gwet_ac1(counts)
    assert np.isnan(got["ac1"]) == np.isnan(expected_ac1)
    if not np.isnan(expected_ac1):
        assert got["ac1"] == pytest.approx(expected_ac1)
    if len(set(a.tolist()) | set(b.tolist())) > 1:
        alpha = krippendorff.alpha(reliability_data=np.stack([a, b]).astype(float), level_of_measurement="nominal")
        assert got["alpha"] == pytest.approx(alpha)


def test_a_rare_code_keeps_a_high_ac1_where_kappa_collapses():
    gold = {i: (["rare"] if i == 0 else []) for i in range(100)}
    pred = {i: (["rare"] if i == 1 else []) for i in range(100)}
    row = evaluate_codes(gold, pred, codes=["rare"], n_boot=200).set_index("code").loc["rare"]
    assert row["kappa"] < 0 < 0.95 < row["ac1"]
    assert row["ac1_low"] <= row["ac1"] <= row["ac1_high"]


def test_a_code_with_no_gold_item_and_no_prediction_reads_n_a_not_zero():
    """A stranger read 0.000 for a code nobody applied and nothing predicted, as if the coder had failed on it."""
    table = evaluate_codes({"x": ["a"], "y": []}, {"x": ["a"], "y": ["b"]}, codes=["a", "b", "c"]).set_index("code")
    assert table.loc["a", "f1"] == 1.0
    assert pd.isna(table.loc["b", "recall"]) and table.loc["b", "precision"] == 0.0 and table.loc["b", "f1"] == 0.0
    assert table[["precision", "recall", "f1"]].loc["c"].isna().all()
    assert table.loc["macro", "f1"] == 1.0  # averaged over codes with gold items, as before
    line = next(row for row in format_table(table.reset_index()).splitlines() if row.strip().startswith("c "))
    assert line.split()[1:4] == ["n/a", "n/a", "n/a"]
