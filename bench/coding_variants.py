"""Variants of the multi-label learned coder measured by ``bench.coding_dev`` (development only).

Every choice inside a variant (C, thresholds, the at-least-one rule) is made on out-of-fold predictions of
its own training texts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

C_GRID = (0.25, 1.0, 4.0, 16.0)


def _embed(embedder: Any, texts: list[str]) -> np.ndarray:
    from qualkit.coding._base import Batch

    return Batch.build(texts).unit_vectors(embedder)[2]


def _tfidf(fit_texts: list[str], other: list[str]) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", min_df=1, max_features=50000)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, max_features=50000)
    a = sparse.hstack([words.fit_transform(fit_texts), chars.fit_transform(fit_texts)], format="csr")
    b = sparse.hstack([words.transform(other), chars.transform(other)], format="csr")
    return a, b


def _lr(C: float, sparse_input: bool) -> Any:
    from sklearn.linear_model import LogisticRegression

    if sparse_input:
        return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=2000)
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000)


def oof_and_test(X: Any, Y: np.ndarray, X_test: Any, C: float, *, folds: int = 5, seed: int = 0) -> tuple[
        np.ndarray, np.ndarray]:
    """Per code: out-of-fold probabilities of the training rows and probabilities of the test rows."""
    from sklearn.model_selection import StratifiedKFold

    sparse_input = sparse.issparse(X)
    n, k = Y.shape
    oof = np.full((n, k), np.nan)
    test = np.zeros((X_test.shape[0], k))
    for j in range(k):
        y = Y[:, j].astype(int)
        pos = int(y.sum())
        if pos == 0 or pos == n:
            continue
        test[:, j] = _lr(C, sparse_input).fit(X, y).predict_proba(X_test)[:, 1]
        f = min(folds, pos, n - pos)
        if f < 2:
            continue
        for tr, te in StratifiedKFold(f, shuffle=True, random_state=seed).split(np.zeros(n), y):
            oof[te, j] = _lr(C, sparse_input).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
    return oof, test


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 on held-out scores (midpoint between distinct scores)."""
    ok = np.isfinite(scores)
    scores, labels = scores[ok], labels[ok].astype(int)
    positives = int(labels.sum())
    if positives == 0 or positives == len(labels):
        return 0.5, 0.0
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], labels[order]
    tp = np.cumsum(lab)
    f1 = 2 * tp / (np.arange(1, len(s) + 1) + positives)
    distinct = np.r_[s[1:] < s[:-1], True]
    f1 = np.where(distinct, f1, -1)
    i = int(np.argmax(f1))
    lower = s[i + 1] if i + 1 < len(s) else s[i] - 0.05
    return float((s[i] + lower) / 2), float(f1[i])


def thresholds_for(oof: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-code thresholds and the mean out-of-fold F1 they reach."""
    pairs = [best_threshold(oof[:, j], Y[:, j]) for j in range(Y.shape[1])]
    return np.array([t for t, _ in pairs]), float(np.mean([f for _, f in pairs]))


def _oof_macro(oof: np.ndarray, Y: np.ndarray, thresholds: np.ndarray, at_least_one: bool) -> float:
    ok = np.isfinite(oof).all(axis=1)
    P = decide(np.nan_to_num(oof[ok]), thresholds, at_least_one)
    G = Y[ok].astype(bool)
    tp = (G & P).sum(axis=0)
    d = G.sum(axis=0) + P.sum(axis=0)
    return float(np.mean(np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)))


def decide(probs: np.ndarray, thresholds: np.ndarray, at_least_one: bool) -> np.ndarray:
    """Codes at or above their threshold; with ``at_least_one`` a row with none gets its best (prob / threshold)."""
    chosen = probs >= thresholds[None, :]
    if at_least_one:
        empty = ~chosen.any(axis=1)
        best = np.argmax(probs / np.maximum(thresholds[None, :], 1e-6), axis=1)
        chosen[np.nonzero(empty)[0], best[empty]] = True
    return chosen


def _labels(themes: list[str], labels: list[list[str]]) -> np.ndarray:
    return np.array([[t in set(lab) for t in themes] for lab in labels], dtype=bool)


def blocks(codebook: Any, embedder: Any, texts: list[str], labels: list[list[str]], test: list[str]) -> dict[
        str, Any]:
    """Per block (``emb``, ``tfidf``): the C with the best out-of-fold F1, its OOF and test probabilities."""
    themes = [c.id for c in codebook.codable_codes]
    Y = _labels(themes, labels)
    out: dict[str, Any] = {"Y": Y, "themes": themes}
    for block in ("emb", "tfidf"):
        if block == "emb":
            X, X_test = _embed(embedder, texts), _embed(embedder, test)
        else:
            X, X_test = _tfidf(texts, test)
        best = None
        for C in C_GRID:
            oof, prob = oof_and_test(X, Y, X_test, C)
            score = thresholds_for(oof, Y)[1]
            print(f"    {block}: C={C} oof F1 {score:.3f}", flush=True)
            if best is None or score > best[0]:
                best = (score, C, oof, prob)
        out[block] = best
    return out


def combine(parts: dict[str, Any], *, weight: float | str, at_least_one: str) -> list[list[str]]:
    """Average the blocks' probabilities (embedding weight ``weight``, or ``"cv"``) and decide per code."""
    Y, themes = parts["Y"], parts["themes"]
    emb, tfidf = parts["emb"], parts["tfidf"]
    weights = [weight] if weight != "cv" else [0.25, 0.5, 0.75]
    best = None
    for w in weights:
        oof = w * emb[2] + (1 - w) * tfidf[2]
        thresholds, f1 = thresholds_for(oof, Y)
        if best is None or f1 > best[0]:
            best = (f1, w, thresholds, oof)
    _, w, thresholds, oof = best
    prob = w * emb[3] + (1 - w) * tfidf[3]
    rule = at_least_one == "on"
    if at_least_one == "cv":
        rule = _oof_macro(oof, Y, thresholds, True) > _oof_macro(oof, Y, thresholds, False)
    print(f"    weight {w}, at least one {rule}", flush=True)
    P = decide(prob, thresholds, rule)
    return [[themes[j] for j in np.nonzero(row)[0]] for row in P]


COMBINATIONS: dict[str, dict[str, Any]] = {
    "emb": {"weight": 1.0, "at_least_one": "off"},
    "tfidf": {"weight": 0.0, "at_least_one": "off"},
    "avg": {"weight": 0.5, "at_least_one": "off"},
    "avg >=1cv": {"weight": 0.5, "at_least_one": "cv"},
    "wcv >=1cv": {"weight": "cv", "at_least_one": "cv"},
}
