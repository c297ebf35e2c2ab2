"""Evaluation metrics agree with scikit-learn's."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, f1_score

from qualkit.coding.evaluate import cohen_kappa, evaluate_codes

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


def test_kappa_is_nan_when_nobody_varies():
    assert np.isnan(cohen_kappa(np.zeros(4), np.zeros(4)))
