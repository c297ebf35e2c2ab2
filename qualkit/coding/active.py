"""Active learning: which segments to review next so the coder learns most from each decision.

Codes take turns choosing: a code with few positive decisions asks for its most likely positive (rare
codes need examples first), a code with enough asks for the segment it is least sure about (score
closest to its threshold); every choice must also be unlike the segments already chosen or reviewed
(diversity, by maximal marginal relevance over sentence embeddings).

Example:
    >>> from qualkit.model import Codebook, Code
    >>> from qualkit.coding import RuleCoder
    >>> coder = RuleCoder(Codebook("m", [Code("a", "A", cues=["tired"])])).fit()
    >>> suggest_next(coder, ["tired", "never tired", "hello"], 2)
    ['tired', 'never tired']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from qualkit.coding._base import Batch, Item


def uncertainty(scores: np.ndarray, thresholds: np.ndarray, *, weights: np.ndarray | None = None) -> np.ndarray:
    """Per-row uncertainty in [0, 1]: highest when some code's score equals its threshold, 0 when all are sure.

    Example:
        >>> uncertainty(np.array([[0.5, 0.0], [1.0, 0.0]]), np.array([0.5, 0.5])).round(2).tolist()
        [0.9, 0.0]
    """
    t = np.clip(np.asarray(thresholds, dtype=float)[None, :], 1e-6, 1 - 1e-6)
    distance = np.where(scores >= t, (scores - t) / (1 - t), (t - scores) / t)
    closeness = 1.0 - np.clip(distance, 0.0, 1.0)
    if weights is not None:
        closeness = closeness * np.asarray(weights, dtype=float)[None, :]
    if closeness.shape[1] == 0:
        return np.zeros(closeness.shape[0])
    # The most uncertain code dominates; the others break ties.
    ordered = np.sort(closeness, axis=1)[:, ::-1]
    return 0.8 * ordered[:, 0] + 0.2 * ordered[:, : min(3, ordered.shape[1])].mean(axis=1)


def _diversity_vectors(coder: Any, batch: Batch) -> np.ndarray:
    embedder = getattr(coder, "embedder_", None)
    if embedder is not None:
        return batch.unit_vectors(embedder)[2]
    from sklearn.feature_extraction.text import HashingVectorizer

    hashed = HashingVectorizer(n_features=2**12, alternate_sign=False, norm="l2").transform(batch.texts)
    return hashed.toarray().astype(np.float32)


def rank_for_review(coder: Any, items: Sequence[Item] | Batch, n: int = 10, *, exclude: Iterable[int] = (),
                    diversity: float = 0.2, seek_positives: int = 6) -> tuple[list[int], np.ndarray]:
    """Positions of the ``n`` items to review next, in order, and every item's uncertainty.

    Codes take turns (the code with the fewest positive decisions first), each choosing the item that is
    most useful for it and unlike those already chosen or reviewed: while a code has fewer than
    ``seek_positives`` positive decisions its most likely positive (finding examples of rare codes is
    what a new coder needs most), afterwards its most uncertain item (score closest to its threshold).
    ``exclude`` are positions already reviewed: never chosen, and chosen items should differ from them.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> from qualkit.coding import RuleCoder
        >>> coder = RuleCoder(Codebook("m", [Code("a", "A", cues=["tired"])])).fit()
        >>> rank_for_review(coder, ["hello", "tired"], 1)[0]
        [1]
    """
    check_is_fitted(coder, "codes_")
    batch, scored = coder.scored(items)
    if not len(batch):
        return [], np.zeros(0)
    scores = scored.scores
    thresholds = np.asarray(coder.thresholds_, dtype=float)
    k = scores.shape[1]
    n_positive = np.asarray(getattr(coder, "n_positive_", np.full(k, seek_positives)), dtype=float)
    value = uncertainty(scores, thresholds)
    t = np.clip(thresholds[None, :], 1e-6, 1 - 1e-6)
    closeness = 1.0 - np.clip(np.where(scores >= t, (scores - t) / (1 - t), (t - scores) / t), 0.0, 1.0)
    per_code = np.where((n_positive < seek_positives)[None, :], scores, closeness)
    available = batch.active.copy()
    available[[i for i in exclude if 0 <= i < len(batch)]] = False
    excluded = batch.active & ~available
    value = np.where(available, value, -np.inf)
    n = min(n, int(available.sum()))
    if n <= 0:
        return [], value
    vectors = _diversity_vectors(coder, batch) if diversity > 0 else None
    closest = np.zeros(len(batch), dtype=np.float32)
    if vectors is not None and excluded.any():
        closest = np.max(vectors @ vectors[excluded].T, axis=1)
    # Rare codes first; codes whose scores carry no information at all are skipped.
    order = [j for j in np.argsort(n_positive, kind="stable") if np.ptp(per_code[available, j]) > 0]
    chosen: list[int] = []
    turn = 0
    while len(chosen) < n:
        column = per_code[:, order[turn % len(order)]] if order else value
        gain = (1 - diversity) * column - diversity * np.clip(closest, 0, None)
        gain = np.where(available, gain, -np.inf)
        pick = int(np.argmax(gain))
        if not np.isfinite(gain[pick]):
            break
        chosen.append(pick)
        available[pick] = False
        if vectors is not None:
            closest = np.maximum(closest, vectors @ vectors[pick])
        turn += 1
    return chosen, value


def suggest_next(coder: Any, segments: Sequence[Item], n: int = 10, **options: Any) -> list[Item]:
    """The ``n`` segments (or texts) a reviewer should decide on next (see :func:`rank_for_review`).

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> from qualkit.coding import RuleCoder
        >>> coder = RuleCoder(Codebook("m", [Code("a", "A", cues=["tired"])])).fit()
        >>> suggest_next(coder, ["hello", "tired"], 1)
        ['tired']
    """
    items = list(segments)
    order, _ = rank_for_review(coder, items, n, **options)
    return [items[i] for i in order]
