"""Agreement between predicted and gold codes: per-code precision, recall, F1, support, kappa, alpha and AC1.

Items are keyed (segment id, row id, ``source#turn``); an item missing from the predictions counts as
predicted with no codes. Micro-F1 pools every (item, code) decision; macro-F1 averages the F1 of the
codes that occur in the gold standard. Each code is a yes/no decision per item, scored with Cohen's
kappa, Krippendorff's alpha (nominal) and Gwet's AC1; AC1 suits rare codes, where kappa falls towards
zero although the two coders almost always agree. ``n_boot`` adds percentile bootstrap intervals (over
items, seeded) for the three coefficients.

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

METRIC_COLUMNS = ["code", "precision", "recall", "f1", "support", "predicted", "kappa", "alpha", "ac1"]
COEFFICIENTS = ("kappa", "alpha", "ac1")


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


def binary_agreement(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Cohen's kappa, Krippendorff's alpha (nominal) and Gwet's AC1 of two binary coders.

    ``a`` and ``b`` are boolean arrays of shape ``(n,)`` or ``(replicates, n)`` (one row per bootstrap
    resample); the result has one value per row (NaN where a coefficient is undefined).

    Example:
        >>> {k: round(float(v[0]), 3) for k, v in binary_agreement(np.array([1, 0, 0, 0]), np.array([1, 0, 1, 0])).items()}
        {'kappa': 0.5, 'alpha': 0.533, 'ac1': 0.529}
    """
    a, b = np.atleast_2d(np.asarray(a, dtype=float)), np.atleast_2d(np.asarray(b, dtype=float))
    n = a.shape[1]
    observed = np.mean(a == b, axis=1)
    pa, pb = a.mean(axis=1), b.mean(axis=1)
    pi = (pa + pb) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        chance_kappa = pa * pb + (1 - pa) * (1 - pb)
        kappa = np.where(np.isclose(chance_kappa, 1.0), np.nan, (observed - chance_kappa) / (1 - chance_kappa))
        # Krippendorff's alpha with two coders and no missing values: expected disagreement from the pooled
        # 2n values, with the small-sample factor 2n / (2n - 1).
        expected = 2 * pi * (1 - pi) * (2 * n) / (2 * n - 1) if n > 0 else np.full_like(pi, np.nan)
        alpha = np.where(np.isclose(expected, 0.0), np.nan, 1 - (1 - observed) / expected)
        chance_ac1 = 2 * pi * (1 - pi)
        ac1 = np.where(np.isclose(chance_ac1, 1.0), np.nan, (observed - chance_ac1) / (1 - chance_ac1))
    return {"kappa": kappa, "alpha": alpha, "ac1": ac1}


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate_codes(
    gold: Mapping[Any, Iterable[str]], pred: Mapping[Any, Iterable[str]], *, codes: Sequence[str] | None = None,
    n_boot: int = 0, seed: int = 0,
) -> pd.DataFrame:
    """One row per code (precision, recall, F1, support, predicted, kappa, alpha, AC1), then ``micro`` and ``macro``.

    A figure that is undefined is NaN (shown "n/a"): precision for a code never predicted, recall for a code
    with no gold item, F1 for a code with neither. ``codes`` fixes the code list (default: every code in the gold standard or the predictions). The
    ``macro`` row averages each coefficient over the codes where it is defined. With ``n_boot`` > 0 every
    coefficient gets ``_low``/``_high`` columns: a 95% percentile bootstrap over items (seed ``seed``).

    Example:
        >>> evaluate_codes({"x": ["a"]}, {"x": ["a"]})["f1"].tolist()
        [1.0, 1.0, 1.0]
    """
    keys = list(gold)
    gold_sets = {k: set(gold[k] or ()) for k in keys}
    pred_sets = {k: set(pred.get(k) or ()) for k in keys}
    if codes is not None:  # a gold code outside the list would silently score as "no code" (a typo, say)
        known = set(codes)
        for key in keys:
            unknown = sorted(gold_sets[key] - known)
            if unknown:
                from qualkit.errors import InvalidInput

                raise InvalidInput(f"gold item {key!r} has code {unknown[0]!r}, which is not among the codes scored",
                                   fix=f"correct the gold code, or score its codebook (codes: "
                                       f"{', '.join(sorted(known))[:200]})")
    if codes is None:
        codes = sorted(set().union(*gold_sets.values(), *pred_sets.values())) if keys else []
    rows = []
    totals = np.zeros(3)
    macro = []
    resamples = (np.random.default_rng(seed).integers(0, len(keys), size=(n_boot, len(keys)))
                 if n_boot and keys else None)
    for code in codes:
        g = np.array([code in gold_sets[k] for k in keys], dtype=bool)
        p = np.array([code in pred_sets[k] for k in keys], dtype=bool)
        tp, fp, fn = float(np.sum(g & p)), float(np.sum(~g & p)), float(np.sum(g & ~p))
        totals += (tp, fp, fn)
        precision, recall, f1 = _prf(tp, fp, fn)
        nan = float("nan")  # undefined, not 0: no prediction has no precision, no gold item no recall
        row: dict[str, Any] = {"code": code, "precision": precision if tp + fp else nan,
                               "recall": recall if tp + fn else nan, "f1": f1 if tp + fp + fn else nan,
                               "support": int(g.sum()), "predicted": int(p.sum())}
        row.update({k: float(v[0]) for k, v in binary_agreement(g, p).items()})
        if resamples is not None:
            for name, values in binary_agreement(g[resamples], p[resamples]).items():
                finite = values[np.isfinite(values)]
                low, high = np.percentile(finite, [2.5, 97.5]) if finite.size >= 0.5 * n_boot else (np.nan, np.nan)
                row[f"{name}_low"], row[f"{name}_high"] = float(low), float(high)
        rows.append(row)
        if g.any():
            macro.append((precision, recall, f1))
    micro = _prf(*totals)
    nan = float("nan")
    rows.append({"code": "micro", "precision": micro[0], "recall": micro[1], "f1": micro[2],
                 "support": int(sum(r["support"] for r in rows)), "predicted": int(sum(r["predicted"] for r in rows)),
                 **dict.fromkeys(COEFFICIENTS, nan)})
    averaged = np.mean(macro, axis=0) if macro else np.zeros(3)
    per_code = rows[:-1]
    rows.append({"code": "macro", "precision": float(averaged[0]), "recall": float(averaged[1]),
                 "f1": float(averaged[2]), "support": rows[-1]["support"], "predicted": rows[-1]["predicted"],
                 **{name: _nanmean([r[name] for r in per_code]) for name in COEFFICIENTS}})
    columns = METRIC_COLUMNS + ([f"{n}_{side}" for n in COEFFICIENTS for side in ("low", "high")]
                                if resamples is not None else [])
    return pd.DataFrame(rows, columns=columns)


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def format_table(table: pd.DataFrame) -> str:
    """A plain-text rendering of an evaluation table (three decimals).

    Example:
        >>> "micro" in format_table(evaluate_codes({"x": ["a"]}, {"x": ["a"]}))
        True
    """
    shown = table.copy()
    for column in ("precision", "recall", "f1", *COEFFICIENTS):
        if f"{column}_low" in shown:
            shown[column] = [_with_interval(v, lo, hi) for v, lo, hi in zip(
                shown[column], shown[f"{column}_low"], shown[f"{column}_high"], strict=True)]
        else:
            shown[column] = shown[column].map(lambda v: "n/a" if pd.isna(v) else f"{v:.3f}")
        if column in COEFFICIENTS:  # per item, not pooled: not computed for the micro row
            shown.loc[shown["code"] == "micro", column] = ""
    shown = shown[[c for c in shown.columns if not c.endswith(("_low", "_high"))]]
    return shown.to_string(index=False)


def _with_interval(value: float, low: float, high: float) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]" if np.isfinite(low) and np.isfinite(high) else f"{value:.3f}"
