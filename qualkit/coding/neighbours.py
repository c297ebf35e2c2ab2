"""Neighbour coder: a text gets the codes of the most similar texts people have already decided on.

Each labelled text votes for its codes, weighted by how close it is (a softmax of cosine similarities over
the ``k`` nearest); a code's score is the weighted share of neighbours that carry it, among those that
were decided for that code. Thresholds are tuned on leave-one-out scores of the labelled texts, so the
coder composes with the others in an :class:`~qualkit.coding.Ensemble` as a second learner beside the
logistic regressions (whose scores it is averaged with, code by code).

It helps only once many texts are decided. On development splits carved from the benchmark's training
parts (``python -m bench.coding_dev``; seeds 0-2), beside the tuned default: NHS comments with 1,386
decided texts +0.022 macro-F1 (every seed), with 720 texts -0.019, the demo study (241 texts) -0.037 per-code
kappa on seed 0. Hence ``min_decided``: with fewer decided texts the coder abstains.

Example:
    >>> from qualkit.model import Codebook, Code
    >>> cb = Codebook("m", [Code("admin", "Admin"), Code("sleep", "Sleep")])
    >>> coder = NeighbourCoder(cb, embedder="lsa", k=2, min_decided=0).fit(
    ...     ["paperwork and forms", "forms again", "I slept all weekend", "no sleep at all"],
    ...     [["admin"], ["admin"], ["sleep"], ["sleep"]])
    >>> coder.predict(["more forms and paperwork"])
    [['admin']]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from qualkit.coding._base import (
    BaseCoder,
    Batch,
    Explanation,
    Item,
    Scored,
    label_matrix,
    resolve_embedder,
    sentence_texts,
)
from qualkit.coding.learned import best_threshold
from qualkit.coding.params import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, UNIT_INTERVAL

# Rows of similarities computed at once, so a study with many decisions does not build one huge matrix.
_CHUNK = 2048


class NeighbourCoder(BaseCoder):
    """The codes of the nearest decided texts, weighted by similarity.

    Parameters:
        codebook: the codes to suggest.
        embedder: ``"auto"``, ``"minilm"``, ``"lsa"``, a path, or an embedder object.
        k: how many nearest labelled texts vote.
        temperature: softness of the vote weights (``exp(cosine / temperature)``); smaller trusts the
            nearest more.
        threshold: a code's threshold until it is tuned.
        threshold_shrinkage: how many positives' worth of pull a tuned threshold gets towards ``threshold``.
        min_decided: with fewer decided texts the coder abstains (no code has a model): neighbours help
            only once there are many (see the module docstring).

    Attributes:
        vectors_: unit vectors of the labelled texts.
        labels_: their decisions (1 applied, 0 not, -1 not decided for that code).
        oof_scores_: leave-one-out scores of the labelled texts.
        thresholds_: per-code score from which a code is predicted.
        models_: per code, its column when it has positives and negatives to vote with (else ``None``).
        calibrated_: codes whose threshold was tuned on leave-one-out scores.
        n_positive_, n_negative_: decisions per code.
        embedder_: the fitted embedder.
    """

    learns_from_labels = True

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "k": [POSITIVE_INT], "temperature": [POSITIVE], "threshold": [UNIT_INTERVAL],
        "threshold_shrinkage": [NON_NEGATIVE], "min_decided": [NON_NEGATIVE_INT], "code_moderators": ["boolean"],
    }

    def __init__(self, codebook: Any = "burnout", *, embedder: Any = "auto", k: int = 15, temperature: float = 0.05,
                 threshold: float = 0.5, threshold_shrinkage: float = 5.0, min_decided: int = 1000,
                 code_moderators: bool = False, nlp: Any = None) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.k = k
        self.temperature = temperature
        self.threshold = threshold
        self.threshold_shrinkage = threshold_shrinkage
        self.min_decided = min_decided
        self.code_moderators = code_moderators
        self.nlp = nlp

    def fit(self, X: Iterable[Item], y: Any) -> NeighbourCoder:
        """Keep the labelled texts' vectors and decisions; tune thresholds on leave-one-out scores."""
        self._start_fit()
        batch = self._fit_batch(X)
        Y = label_matrix(y, list(self.codes_), len(batch))
        Y[~batch.active] = -1
        self.embedder_ = resolve_embedder(self.embedder, sentence_texts(batch))
        decided = (Y >= 0).any(axis=1)
        self.vectors_ = batch.unit_vectors(self.embedder_)[2][decided]
        self.labels_ = Y[decided].astype(np.int8)
        self.n_positive_ = (Y == 1).sum(axis=0).astype(int)
        self.n_negative_ = (Y == 0).sum(axis=0).astype(int)
        enough = int(decided.sum()) >= self.min_decided
        self.models_ = [j if enough and self.n_positive_[j] and self.n_negative_[j] else None
                        for j in range(len(self.codes_))]
        self.oof_scores_ = np.full(Y.shape, np.nan, dtype=np.float32)
        voting = np.array([m is not None for m in self.models_])
        if voting.any():  # NaN where the coder has no say, so an ensemble's tuning leaves it out there
            votes = self._vote(self.vectors_, leave_out_self=True)
            self.oof_scores_[np.ix_(decided, voting)] = votes[:, voting]
        self.thresholds_ = np.full(len(self.codes_), self.threshold, dtype=float)
        self.calibrated_ = np.array([m is not None for m in self.models_])
        for j in np.nonzero(self.calibrated_)[0]:
            rows = self.labels_[:, j] >= 0
            self.thresholds_[j] = best_threshold(self.oof_scores_[decided][rows, j], self.labels_[rows, j],
                                                 prior=self.threshold, strength=self.threshold_shrinkage)
        return self

    def _vote(self, vectors: np.ndarray, *, leave_out_self: bool = False) -> np.ndarray:
        """Each row's similarity-weighted share of neighbours carrying each code (decided ones only)."""
        k = min(self.k, len(self.vectors_) - int(leave_out_self))
        scores = np.zeros((len(vectors), len(self.codes_)), dtype=np.float32)
        if k <= 0:
            return scores
        applied = (self.labels_ == 1).astype(np.float32)
        decided = (self.labels_ >= 0).astype(np.float32)
        for start in range(0, len(vectors), _CHUNK):
            similarity = vectors[start:start + _CHUNK] @ self.vectors_.T
            if leave_out_self:
                rows = np.arange(similarity.shape[0])
                similarity[rows, rows + start] = -np.inf
            nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            near = np.take_along_axis(similarity, nearest, axis=1)
            weights = np.exp((near - near.max(axis=1, keepdims=True)) / self.temperature)
            votes = np.einsum("rk,rkc->rc", weights, applied[nearest])
            counted = np.einsum("rk,rkc->rc", weights, decided[nearest])
            scores[start:start + _CHUNK] = np.divide(votes, counted, out=np.zeros_like(votes), where=counted > 0)
        return scores

    def _score_batch(self, batch: Batch) -> Scored:
        vectors = batch.unit_vectors(self.embedder_)[2]
        scores = self._vote(vectors)
        scores[:, np.array([m is None for m in self.models_])] = 0.0

        def explain(i: int, j: int) -> Explanation:
            return Explanation([], [f"like the decided passages nearest to it ({scores[i, j]:.0%} of their vote)"])

        return Scored(scores, explain, origin="learned")


__all__ = ["NeighbourCoder"]
