"""Agreement between predicted and gold codes: per-code precision, recall, F1, support and Cohen's kappa.

Items are keyed (segment id, row id, ``source#turn``); an item missing from the predictions counts as
predicted with no codes. Micro-F1 pools every (item, code) decision; macro-F1 averages the F1 of the
codes that occur in the gold standard.

Example:
    >>> table = evaluate_codes({"1": ["a"], "2": ["b"]}, {"1": ["a"], "2": ["a"]})
    >>> round(float(table.set_index("code").loc["micro", "f1"]), 2)
    0.5
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

METRIC_COLUMNS = ["code", "precision", "recall", "f1", "support", "predicted", "kappa"]


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary vectors (NaN when both raters never vary, so chance agreement is total).

    Example:
        >>> cohen_kappa(np.array([1, 0, 1, 0]), np.array([1, 0, 0, 0]))
        0.5
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if not len(a):
        return float("nan")
    observed = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    expected = float(pa * pb + (1 - pa) * (1 - pb))
    if expected >= 1.0:
        return float("nan")
    return (observed - expected) / (1.0 - expected)


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate_codes(
    gold: Mapping[Any, Iterable[str]], pred: Mapping[Any, Iterable[str]], *, codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per code (precision, recall, F1, support, predicted, kappa), then ``micro`` and ``macro`` rows.

    ``codes`` fixes the code list (default: every code in the gold standard or the predictions).

    Example:
        >>> evaluate_codes({"x": ["a"]}, {"x": ["a"]})["f1"].tolist()
        [1.0, 1.0, 1.0]
    """
    keys = list(gold)
    gold_sets = {k: set(gold[k] or ()) for k in keys}
    pred_sets = {k: set(pred.get(k) or ()) for k in keys}
    if codes is None:
        codes = sorted(set().union(*gold_sets.values(), *pred_sets.values())) if keys else []
    rows = []
    totals = np.zeros(3)
    macro = []
    for code in codes:
        g = np.array([code in gold_sets[k] for k in keys], dtype=bool)
        p = np.array([code in pred_sets[k] for k in keys], dtype=bool)
        tp, fp, fn = float(np.sum(g & p)), float(np.sum(~g & p)), float(np.sum(g & ~p))
        totals += (tp, fp, fn)
        precision, recall, f1 = _prf(tp, fp, fn)
        rows.append({"code": code, "precision": precision, "recall": recall, "f1": f1, "support": int(g.sum()),
                     "predicted": int(p.sum()), "kappa": cohen_kappa(g, p)})
        if g.any():
            macro.append((precision, recall, f1))
    micro = _prf(*totals)
    rows.append({"code": "micro", "precision": micro[0], "recall": micro[1], "f1": micro[2],
                 "support": int(sum(r["support"] for r in rows)), "predicted": int(sum(r["predicted"] for r in rows)),
                 "kappa": float("nan")})
    averaged = np.mean(macro, axis=0) if macro else np.zeros(3)
    rows.append({"code": "macro", "precision": float(averaged[0]), "recall": float(averaged[1]),
                 "f1": float(averaged[2]), "support": rows[-1]["support"], "predicted": rows[-1]["predicted"],
                 "kappa": float(np.nanmean([r["kappa"] for r in rows[:-1]])) if len(rows) > 1
                 and not all(np.isnan(r["kappa"]) for r in rows[:-1]) else float("nan")})
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def format_table(table: pd.DataFrame) -> str:
    """A plain-text rendering of an evaluation table (three decimals).

    Example:
        >>> "micro" in format_table(evaluate_codes({"x": ["a"]}, {"x": ["a"]}))
        True
    """
    shown = table.copy()
    for column in ("precision", "recall", "f1", "kappa"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return shown.to_string(index=False)
