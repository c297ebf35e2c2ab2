"""Similarity coder: how close a segment (or its closest sentence) is to each code's definition and examples.

Each codable code is represented by its definition, its inclusion criteria and its examples; its
near-misses pull the score down when a sentence is closer to them. A segment is scored by its best
sentence and by the whole turn (the length-weighted mean of its sentence vectors), so a long turn is
not diluted and each sentence is embedded once. MiniLM is used when the embeddings extra is installed,
TF-IDF/LSA otherwise; embeddings are cached per text.

Raw cosine similarities are turned into scores in [0, 1] with a logistic curve per code, centred
between how close the code's own examples are to each other and how close other codes' examples come.

Example:
    >>> from qualkit.model import Codebook, Code
    >>> cb = Codebook("m", [Code("admin", "Admin", definition="paperwork, forms and charting", examples=["so much paperwork"]),
    ...                     Code("sleep", "Sleep", definition="sleep and rest", examples=["I slept all weekend"])])
    >>> coder = SimilarityCoder(cb, embedder="lsa").fit(["forms and paperwork all day", "I slept badly"])
    >>> coder.predict(["paperwork and forms"])
    [['admin']]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.special import expit

from qualkit.coding._base import (
    BaseCoder,
    Batch,
    Explanation,
    Item,
    Scored,
    prototypes,
    resolve_embedder,
    sentence_texts,
)


def _group_max(matrix: np.ndarray, columns: np.ndarray, k: int) -> np.ndarray:
    """Max over the columns of each group (columns sorted by group); -inf for groups without columns."""
    out = np.full((matrix.shape[0], k), -np.inf, dtype=np.float32)
    if matrix.shape[1] == 0 or matrix.shape[0] == 0:
        return out
    groups, starts = np.unique(columns, return_index=True)
    out[:, groups] = np.maximum.reduceat(matrix, starts, axis=1)
    return out


class SimilarityCoder(BaseCoder):
    """Score codes by semantic similarity to their definitions, inclusion criteria and examples.

    Parameters:
        codebook: the codes (definitions, inclusion, examples, near-misses).
        embedder: ``"auto"`` (MiniLM if installed, else TF-IDF/LSA), ``"minilm"``, ``"lsa"`` or an object
            with ``encode(texts)`` returning normalised vectors.
        centroid_weight: share of the similarity to the code's centroid (the mean of its prototypes) in the
            raw score; the rest is the similarity to its closest single prototype.
        near_miss_weight: how strongly being closer to a near-miss than to the code lowers the score.
        center / scale: the logistic curve mapping cosine to score (``None``: set per code in ``fit``).
        calibration: how ``fit`` sets the curve per code: ``"corpus"`` centres it on the ``quantile`` of
            the code's similarities over the texts given to ``fit`` (at least 50), ``"prototypes"`` between
            the code's own examples and other codes' examples; ``"auto"`` uses the corpus when there is one.
        threshold: the score from which a code is predicted.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> cb = Codebook("m", [Code("a", "A", examples=["too much paperwork"]), Code("b", "B", examples=["slept well"])])
        >>> SimilarityCoder(cb, embedder="lsa").fit().codes_.tolist()
        ['a', 'b']
    """

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        embedder: Any = "auto",
        centroid_weight: float = 0.7,
        near_miss_weight: float = 0.5,
        center: float | None = None,
        scale: float | None = None,
        calibration: str = "auto",
        quantile: float = 0.85,
        threshold: float = 0.5,
        code_moderators: bool = False,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.centroid_weight = centroid_weight
        self.near_miss_weight = near_miss_weight
        self.center = center
        self.scale = scale
        self.calibration = calibration
        self.quantile = quantile
        self.threshold = threshold
        self.code_moderators = code_moderators
        self.nlp = nlp

    def fit(self, X: Iterable[Item] | None = None, y: Any = None) -> SimilarityCoder:
        """Embed the codes' prototypes (and fit the fallback embedder on ``X``'s sentences when LSA is used)."""
        codebook = self._check_codebook()
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp_ = load_nlp()
        else:
            self.nlp_ = self.nlp
        codes = codebook.codable_codes
        self.codes_ = np.array([c.id for c in codes], dtype=object)
        self.codebook_version_ = codebook.version
        texts, columns, labels, near_texts, near_columns = prototypes(codebook)
        corpus = list(texts) + list(near_texts)
        batch = self._build_batch(X) if X is not None else None
        if batch is not None:
            if batch.nlp is None:
                batch.nlp = self.nlp_
            corpus += sentence_texts(batch)
        self.embedder_ = resolve_embedder(self.embedder, corpus)
        self.prototype_vectors_ = np.asarray(self.embedder_.encode(texts), dtype=np.float32)
        self.prototype_columns_ = np.asarray(columns, dtype=np.int64)
        self.prototype_labels_ = list(labels)
        centroids = np.zeros((len(codes), self.prototype_vectors_.shape[1]), dtype=np.float32)
        np.add.at(centroids, self.prototype_columns_, self.prototype_vectors_)
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.centroids_ = centroids / norms
        self.near_vectors_ = (np.asarray(self.embedder_.encode(near_texts), dtype=np.float32) if near_texts
                              else np.zeros((0, self.prototype_vectors_.shape[1]), dtype=np.float32))
        self.near_columns_ = np.asarray(near_columns, dtype=np.int64)
        self.center_, self.scale_ = self._calibrate(len(codes))
        if self.center is None and self.calibration in ("auto", "corpus") and batch is not None \
                and int(batch.active.sum()) >= 50:
            best = self.raw_similarity(batch)[0][batch.active]
            self.center_ = np.quantile(best, self.quantile, axis=0).astype(np.float32)
            self.scale_ = np.maximum(0.5 * best.std(axis=0), 0.005).astype(np.float32)
            if self.scale is not None:
                self.scale_[:] = self.scale
        self.thresholds_ = np.full(len(codes), self.threshold, dtype=float)
        return self

    def _calibrate(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-code logistic centre and scale from the prototypes themselves.

        The centre sits between how close a code's examples are to its other prototypes (leave one out)
        and how close the examples of other codes come to it (their 90th percentile).
        """
        if self.center is not None:
            return np.full(k, self.center, dtype=np.float32), np.full(k, self.scale or 0.05, dtype=np.float32)
        P, cols = self.prototype_vectors_, self.prototype_columns_
        sims = P @ P.T
        np.fill_diagonal(sims, -np.inf)
        per_code = _group_max(sims, cols, k)  # (m, k): each prototype's best match among each code's prototypes
        own = np.array([per_code[cols == j, j] for j in range(k)], dtype=object)
        centers, scales = np.zeros(k, np.float32), np.zeros(k, np.float32)
        for j in range(k):
            inside = np.asarray(own[j], dtype=np.float32)
            inside = inside[np.isfinite(inside)]
            outside = per_code[cols != j, j]
            outside = outside[np.isfinite(outside)]
            high = float(np.mean(inside)) if inside.size else np.nan
            low = float(np.quantile(outside, 0.9)) if outside.size else np.nan
            if np.isnan(high) or np.isnan(low) or high <= low:
                centers[j], scales[j] = np.nan, np.nan
            else:
                centers[j], scales[j] = (high + low) / 2, max((high - low) / 2, 0.05)
        fallback_center = float(np.nanmedian(centers)) if np.isfinite(centers).any() else 0.4
        fallback_scale = float(np.nanmedian(scales)) if np.isfinite(scales).any() else 0.1
        centers = np.where(np.isfinite(centers), centers, fallback_center)
        scales = np.where(np.isfinite(scales), scales, fallback_scale)
        if self.scale is not None:
            scales[:] = self.scale
        return centers.astype(np.float32), scales.astype(np.float32)

    def raw_similarity(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cosine evidence per (text, code): (best adjusted similarity, unit-level scores, unit owners, doc scores)."""
        k = len(self.codes_)
        units, owner, docs = batch.unit_vectors(self.embedder_)
        unit_best = _group_max(units @ self.prototype_vectors_.T, self.prototype_columns_, k)
        doc_best = _group_max(docs @ self.prototype_vectors_.T, self.prototype_columns_, k)
        a = self.centroid_weight
        unit_pos = a * (units @ self.centroids_.T) + (1 - a) * unit_best
        doc_pos = a * (docs @ self.centroids_.T) + (1 - a) * doc_best
        if len(self.near_columns_) and self.near_miss_weight:
            unit_near = _group_max(units @ self.near_vectors_.T, self.near_columns_, k)
            doc_near = _group_max(docs @ self.near_vectors_.T, self.near_columns_, k)
            unit_pos = unit_pos - self.near_miss_weight * np.clip(unit_near - unit_best, 0, None)
            doc_pos = doc_pos - self.near_miss_weight * np.clip(doc_near - doc_best, 0, None)
        best = np.where(batch.active[:, None], doc_pos, -1.0).astype(np.float32)
        best[~np.isfinite(best)] = -1.0
        if len(owner):
            np.maximum.at(best, owner, np.where(np.isfinite(unit_pos), unit_pos, -1.0))
        return best, unit_pos, owner, doc_pos

    def _score_batch(self, batch: Batch) -> Scored:
        if batch.nlp is None:
            batch.nlp = self.nlp_
        best, unit_pos, owner, doc_pos = self.raw_similarity(batch)
        scores = expit((best - self.center_[None, :]) / self.scale_[None, :])
        scores = np.where(batch.active[:, None], scores, 0.0).astype(np.float32)
        units, _, docs = batch.unit_vectors(self.embedder_)
        row_units: dict[int, np.ndarray] = {}

        def explain(i: int, j: int) -> Explanation:
            if i not in row_units:
                row_units[i] = np.nonzero(owner == i)[0]
            mine = row_units[i]
            spans = batch.unit_spans[i]
            evidence: list[tuple[int, int]] = []
            vector = docs[i]
            if len(mine):
                u = mine[int(np.argmax(unit_pos[mine, j]))]
                if unit_pos[u, j] >= doc_pos[i, j] and len(spans) > 1:
                    evidence = [spans[int(u - mine[0])]]
                    vector = units[u]
            members = np.nonzero(self.prototype_columns_ == j)[0]
            sims = self.prototype_vectors_[members] @ vector
            top = members[int(np.argmax(sims))]
            phrase = f"close to {self.prototype_labels_[top]} of {self.codes_[j]} ({float(np.max(sims)):.2f})"
            return Explanation(evidence, [phrase])

        return Scored(scores, explain, origin="similarity")
