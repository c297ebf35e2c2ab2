"""Similarity coder: how close a segment (or its closest sentence) is to each code's definition and examples.

Each codable code is represented by its definition, its inclusion criteria and its examples; its
near-misses pull the score down when a sentence is closer to them than to the code. A segment is
scored by its best sentence and by the whole turn (the length-weighted mean of its sentence vectors),
so a long turn is not diluted and each sentence is embedded once. MiniLM is used when the embeddings
extra is installed, TF-IDF/LSA otherwise; embeddings are cached per text.

Scores are *contrastive*: a text's similarity to a code minus its mean similarity to all codes, so talk
that is vaguely about work in general does not score high for every code. They are turned into [0, 1]
with a logistic curve per code whose cut-off is set against fixed material only: the code's near-misses,
the other codes' examples and a shipped set of neutral focus-group talk (see
:mod:`qualkit.coding._reference`). A segment's score therefore never depends on which other segments
are in the batch or in the corpus (the LSA fallback, too, is fitted on that fixed material).

Example:
    >>> from qualkit.model import Codebook, Code
    >>> cb = Codebook("m", [Code("admin", "Admin", definition="paperwork, forms and charting", examples=["so much paperwork"]),
    ...                     Code("sleep", "Sleep", definition="sleep and rest", examples=["I slept all weekend"])])
    >>> coder = SimilarityCoder(cb, embedder="lsa").fit()
    >>> coder.predict(["paperwork and forms"])
    [['admin']]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

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
)
from qualkit.coding.params import NON_NEGATIVE, POSITIVE, REAL, UNIT_INTERVAL, StrOptions

CALIBRATIONS = ("reference", "prototypes")


class Similarity(NamedTuple):
    """Raw (pre-logistic) similarity evidence of a batch, per text and per embedded unit."""

    best: np.ndarray  # (texts, codes): the best of the whole text and its units
    unit: np.ndarray  # (units, codes)
    owner: np.ndarray  # (units,): the text row of each unit
    doc: np.ndarray  # (texts, codes)
    unit_near_gap: np.ndarray  # (units, codes): closeness to the code's nearest near-miss minus to its prototypes
    doc_near_gap: np.ndarray  # (texts, codes)
    unit_near: np.ndarray  # (units, codes): cosine to the code's nearest near-miss (-inf without near-misses)


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
            with ``encode(texts)`` returning normalised vectors. ``"lsa"`` is fitted on the codebook's own
            texts and the neutral reference set, never on the segments, so scores do not depend on them.
        centroid_weight: share of the similarity to the code's centroid (the mean of its prototypes) in the
            raw score; the rest is the similarity to its closest single prototype.
        contrast: how much of a text's mean similarity over all codes is subtracted (1 = all of it), so a
            code must stand out from the others, not merely be about work.
        near_miss_weight: how strongly being closer to a near-miss than to the code lowers the score.
        calibration: what each code's cut-off is set against: ``"reference"`` (its near-misses, the other
            codes' examples and qualkit's shipped neutral talk) or ``"prototypes"`` (the codebook only).
        z: the cut-off, in standard deviations above the mean raw score of that calibration material;
            ``"auto"``: 2.0 for dense sentence embeddings, 6.0 for TF-IDF/LSA, whose raw scores over
            unrelated text are mostly zero (both chosen on sessions fg1+fg2 of the demo study).
        center / scale: a fixed logistic curve for every code instead (``None``: calibrated in ``fit``).
        threshold: the score from which a code is predicted.

    Attributes:
        embedder_: the embedder used (MiniLM, or an LSA space fitted on the fixed material).
        prototype_vectors_, prototype_columns_, prototype_labels_: each definition, criterion and example
            embedded, with its code column and a label for rationales ("example 2").
        centroids_: per code, the normalised mean of its prototypes.
        near_vectors_, near_columns_: the near-misses embedded, with their code column.
        z_: the cut-off used, in standard deviations above the calibration material.
        center_, scale_: per-code logistic curve turning raw similarity into a score.
        thresholds_: per-code score from which a code is predicted.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> cb = Codebook("m", [Code("a", "A", examples=["too much paperwork"]), Code("b", "B", examples=["slept well"])])
        >>> SimilarityCoder(cb, embedder="lsa").fit().codes_.tolist()
        ['a', 'b']
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "centroid_weight": [UNIT_INTERVAL],
        "contrast": [UNIT_INTERVAL],
        "near_miss_weight": [NON_NEGATIVE],
        "calibration": [StrOptions(set(CALIBRATIONS))],
        "z": [StrOptions({"auto"}), REAL],
        "center": [None, REAL],
        "scale": [None, POSITIVE],
        "threshold": [UNIT_INTERVAL],
        "code_moderators": ["boolean"],
    }

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        embedder: Any = "auto",
        centroid_weight: float = 0.7,
        contrast: float = 1.0,
        near_miss_weight: float = 0.5,
        calibration: str = "reference",
        z: float | str = "auto",
        center: float | None = None,
        scale: float | None = None,
        threshold: float = 0.5,
        code_moderators: bool = False,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.centroid_weight = centroid_weight
        self.contrast = contrast
        self.near_miss_weight = near_miss_weight
        self.calibration = calibration
        self.z = z
        self.center = center
        self.scale = scale
        self.threshold = threshold
        self.code_moderators = code_moderators
        self.nlp = nlp

    def fit(self, X: Iterable[Item] | None = None, y: Any = None) -> SimilarityCoder:
        """Embed the codes' prototypes and near-misses and calibrate each code's curve.

        ``X`` and ``y`` are accepted for scikit-learn compatibility and not used: the scores of a segment
        depend only on the codebook (and the fixed reference set), never on the other segments.
        """
        codebook = self._start_fit()
        codes = codebook.codable_codes
        texts, columns, labels, near_texts, near_columns = prototypes(codebook)
        reference = self._reference_texts()
        material = [*texts, *near_texts, *(c.exclusion for c in codes if c.exclusion.strip()), *reference]
        self.embedder_ = resolve_embedder(self.embedder, material)
        self.prototype_vectors_ = np.asarray(self.embedder_.encode(texts), dtype=np.float32)
        self.prototype_columns_ = np.asarray(columns, dtype=np.int64)
        self.prototype_labels_ = list(labels)
        width = self.prototype_vectors_.shape[1]
        self.centroids_ = _centroids(self.prototype_vectors_, self.prototype_columns_, len(codes))
        self.near_vectors_ = (np.asarray(self.embedder_.encode(near_texts), dtype=np.float32) if near_texts
                              else np.zeros((0, width), dtype=np.float32))
        self.near_columns_ = np.asarray(near_columns, dtype=np.int64)
        self.z_ = float(self.z) if self.z != "auto" else (6.0 if self.embedder_.name == "tfidf-lsa" else 2.0)
        reference_vectors = (np.asarray(self.embedder_.encode(reference), dtype=np.float32) if reference
                             else np.zeros((0, width), dtype=np.float32))
        self.center_, self.scale_ = self._calibrate(len(codes), reference_vectors)
        self.thresholds_ = np.full(len(codes), self.threshold, dtype=float)
        return self

    def _reference_texts(self) -> list[str]:
        if self.calibration != "reference":
            return []
        from qualkit.coding._reference import NEUTRAL_TURNS

        return list(NEUTRAL_TURNS)

    # ------------------------------------------------------------------ raw scores
    def _contrastive(self, vectors: np.ndarray, *, near: np.ndarray | None = None,
                     near_columns: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores (rows x codes) of some vectors, how much closer each is to a near-miss than to the code,
        and its cosine to the code's nearest near-miss (``near``: other near-misses, for leave-one-out)."""
        k = len(self.codes_)
        N = self.near_vectors_ if near is None else near
        ncols = self.near_columns_ if near_columns is None else near_columns
        best = _group_max(vectors @ self.prototype_vectors_.T, self.prototype_columns_, k)
        a = self.centroid_weight
        positive = a * (vectors @ self.centroids_.T) + (1 - a) * np.where(np.isfinite(best), best, 0.0)
        if self.contrast:
            positive = positive - self.contrast * positive.mean(axis=1, keepdims=True)
        gap = np.full(positive.shape, -np.inf, dtype=np.float32)
        nearest = np.full(positive.shape, -np.inf, dtype=np.float32)
        if len(ncols):
            nearest = _group_max(vectors @ N.T, ncols, k)
            gap = np.where(np.isfinite(nearest), nearest - np.where(np.isfinite(best), best, 0.0), -np.inf)
            if self.near_miss_weight:
                positive = positive - self.near_miss_weight * np.clip(np.where(np.isfinite(gap), gap, 0.0), 0, None)
        return positive.astype(np.float32), gap.astype(np.float32), nearest.astype(np.float32)

    def calibration_negatives(self, reference: np.ndarray | None = None) -> list[np.ndarray]:
        """Raw scores, per code, of fixed material that must not get it: its near-misses (each scored without
        itself among the near-misses), the other codes' examples and (``calibration="reference"``) qualkit's
        neutral reference talk, whose vectors are ``reference`` (embedded here when ``None``)."""
        k = len(self.codes_)
        negatives: list[list[float]] = [[] for _ in range(k)]
        examples = np.array([label.startswith("example") for label in self.prototype_labels_], dtype=bool)
        if examples.any():
            scores = self._contrastive(self.prototype_vectors_[examples])[0]
            for row, column in zip(scores, self.prototype_columns_[examples], strict=True):
                for j in range(k):
                    if j != column:
                        negatives[j].append(float(row[j]))
        for m in range(len(self.near_columns_)):
            keep = np.arange(len(self.near_columns_)) != m
            scores = self._contrastive(self.near_vectors_[m:m + 1], near=self.near_vectors_[keep],
                                       near_columns=self.near_columns_[keep])[0]
            negatives[int(self.near_columns_[m])].append(float(scores[0, self.near_columns_[m]]))
        if reference is None:
            texts = self._reference_texts()
            reference = np.asarray(self.embedder_.encode(texts), dtype=np.float32) if texts else None
        if reference is not None and len(reference):
            scores = self._contrastive(reference)[0]
            for j in range(k):
                negatives[j].extend(scores[:, j].tolist())
        return [np.asarray(values, dtype=np.float64) for values in negatives]

    def _calibrate(self, k: int, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-code logistic centre and scale from fixed material only (never from the segments).

        The centre sits ``z`` standard deviations above the mean raw score of the code's
        :meth:`calibration_negatives`; the scale is one standard deviation.
        """
        if self.center is not None:
            return np.full(k, self.center, dtype=np.float32), np.full(k, self.scale or 0.05, dtype=np.float32)
        z = self.z_
        centers, scales = np.full(k, np.nan, np.float32), np.full(k, np.nan, np.float32)
        for j, values in enumerate(self.calibration_negatives(reference)):
            if values.size >= 2:
                spread = max(float(values.std()), 1e-3)
                centers[j], scales[j] = float(values.mean()) + z * spread, spread
        fallback_center = float(np.nanmedian(centers)) if np.isfinite(centers).any() else 0.2
        fallback_scale = float(np.nanmedian(scales)) if np.isfinite(scales).any() else 0.05
        centers = np.where(np.isfinite(centers), centers, fallback_center)
        scales = np.where(np.isfinite(scales), scales, fallback_scale)
        if self.scale is not None:
            scales[:] = self.scale
        return centers.astype(np.float32), scales.astype(np.float32)

    def raw_similarity(self, batch: Batch) -> Similarity:
        """Contrastive similarity evidence per text and code (see :class:`Similarity`); ``[0]`` is the best."""
        units, owner, docs = batch.unit_vectors(self.embedder_)
        unit_scores, unit_gap, unit_near = self._contrastive(units)
        doc_scores, doc_gap, _ = self._contrastive(docs)
        best = np.where(batch.active[:, None], doc_scores, -1.0).astype(np.float32)
        if len(owner):
            np.maximum.at(best, owner, unit_scores)
        best[~batch.active] = -1.0
        return Similarity(best, unit_scores, owner, doc_scores, unit_gap, doc_gap, unit_near)

    def _score_batch(self, batch: Batch) -> Scored:
        if batch.nlp is None:
            batch.nlp = self.nlp_
        raw = self.raw_similarity(batch)
        scores = expit((raw.best - self.center_[None, :]) / self.scale_[None, :])
        scores = np.where(batch.active[:, None], scores, 0.0).astype(np.float32)
        units, owner, docs = batch.unit_vectors(self.embedder_)
        first_unit = np.searchsorted(owner, np.arange(len(batch))) if len(owner) else np.zeros(len(batch), int)

        def explain(i: int, j: int) -> Explanation:
            spans = batch.unit_spans[i]
            evidence: list[tuple[int, int]] = []
            vector = docs[i]
            if spans:
                start = int(first_unit[i])
                mine = np.arange(start, start + len(spans))
                u = int(mine[int(np.argmax(raw.unit[mine, j]))])
                evidence = [spans[u - start]]  # the best sentence of a long turn, or the short turn itself
                if raw.unit[u, j] >= raw.doc[i, j] or len(spans) == 1:
                    vector = units[u]
            members = np.nonzero(self.prototype_columns_ == j)[0]
            sims = self.prototype_vectors_[members] @ vector
            top = members[int(np.argmax(sims))]
            phrase = f"close to {self.prototype_labels_[top]} of {self.codes_[j]} (similarity {float(np.max(sims)):.2f})"
            return Explanation(evidence, [phrase])

        return Scored(scores, explain, origin="similarity", details=raw)


def _centroids(vectors: np.ndarray, columns: np.ndarray, k: int) -> np.ndarray:
    centroids = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    np.add.at(centroids, columns, vectors)
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return centroids / norms

