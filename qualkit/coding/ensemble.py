"""The default coder: rules + similarity + the learned coder, blended per code as decisions accumulate.

Before a code has labelled examples, its score is the *prior*: the rule score and the similarity score
combined as a noisy OR (``1 - (1 - rules) * (1 - similarity_weight * similarity)``); a rule cue whose
sentence reads like one of the code's near-misses counts for less, and a code that reviewers have only
ever rejected has its prior scaled down by ``prior_strength / (prior_strength + rejections)``. As accepted and
rejected decisions arrive, the learned coder's calibrated probability takes over with weight
``n / (n + prior_strength)`` for a code with ``n`` positive examples; with enough examples the weight
and the code's threshold are tuned on out-of-fold predictions. Each suggestion carries its score, the
component that contributed most (``origin``), evidence offsets and a one-line rationale such as
``cue "paperwork"; close to example 2 of administrative_burden (0.71)``.

Example:
    >>> import qualkit as qk
    >>> coder = qk.AutoCoder(qk.Codebook.load("burnout"), embedder="lsa").fit()
    >>> coder.predict(["Honestly the paperwork never ends, I chart every night until midnight."])[0][:1]
    ['administrative_burden']
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sklearn.utils._param_validation import StrOptions

from qualkit.coding._base import (
    FOLDS,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    UNIT_INTERVAL,
    BaseCoder,
    Batch,
    Explanation,
    Item,
    Scored,
    label_matrix,
    prototypes,
    resolve_embedder,
    sentence_texts,
)
from qualkit.coding.learned import LearnedCoder, best_threshold
from qualkit.coding.rules import RuleCoder
from qualkit.coding.similarity import SimilarityCoder
from qualkit.errors import InvalidInput

_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
# A cue's sentence must also be really close to the near-miss, not merely less far from it than from the code
# (sparse TF-IDF/LSA vectors of short sentences are "closest" to whatever shares one word).
NEAR_MISS_MIN_COSINE = 0.5


def _f1(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (labels == 1)))
    denominator = float(predicted.sum() + labels.sum())
    return 2 * tp / denominator if denominator else 0.0


class Ensemble(BaseCoder):
    """Rules, similarity and a learned coder combined with per-code weights and thresholds (= ``AutoCoder``).

    Parameters:
        codebook: a :class:`~qualkit.model.Codebook`, or the name of a shipped one.
        embedder: ``"auto"`` (MiniLM if installed, else TF-IDF/LSA), ``"minilm"``, ``"lsa"`` or an embedder.
        rules / similarity / learned: switch components on or off.
        thresholds: ``None`` (0.5, tuned per code once it has enough decisions), one float for all codes,
            or ``{code_id: threshold}`` overrides.
        similarity_weight: weight of the similarity score inside the prior.
        near_miss_factor: what a rule score is multiplied by when the sentence holding the cue is clearly
            closer (by ``near_miss_margin`` in cosine) to one of the code's near-misses than to any of its
            prototypes ("divide the dose" for ``division``).
        prior_strength: positives a code needs before the learned coder counts as much as the prior.
        min_tuning: positives a code needs before its weight and threshold are tuned on held-out scores.
        negation: how the rule coder treats negated or hypothetical cues (see :class:`RuleCoder`).
        C, cv: regularisation and folds of the learned coder.
        code_moderators: code moderator turns as well (segments only).

    Example:
        >>> import qualkit as qk
        >>> coder = qk.AutoCoder("burnout", embedder="lsa").fit(
        ...     ["I chart until midnight", "We laughed at lunch together"],
        ...     [["administrative_burden"], ["connection_and_community"]])
        >>> coder.predict_scores(["Charting again tonight"]).shape
        (1, 24)
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "rules": ["boolean"], "similarity": ["boolean"], "learned": ["boolean"],
        "thresholds": [None, UNIT_INTERVAL, dict],
        "similarity_weight": [UNIT_INTERVAL], "near_miss_factor": [UNIT_INTERVAL],
        "near_miss_margin": [NON_NEGATIVE],
        "prior_strength": [NON_NEGATIVE], "min_tuning": [NON_NEGATIVE_INT],
        "negation": [StrOptions({"lower", "remove", "ignore"})], "C": [POSITIVE], "cv": [FOLDS],
        "random_state": ["random_state"], "code_moderators": ["boolean"],
    }

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        embedder: Any = "auto",
        rules: bool = True,
        similarity: bool = True,
        learned: bool = True,
        thresholds: float | Mapping[str, float] | None = None,
        similarity_weight: float = 0.8,
        near_miss_factor: float = 0.2,
        near_miss_margin: float = 0.15,
        prior_strength: float = 8.0,
        min_tuning: int = 8,
        negation: str = "lower",
        C: float = 4.0,
        cv: int = 5,
        random_state: int = 0,
        code_moderators: bool = False,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.rules = rules
        self.similarity = similarity
        self.learned = learned
        self.thresholds = thresholds
        self.similarity_weight = similarity_weight
        self.near_miss_factor = near_miss_factor
        self.near_miss_margin = near_miss_margin
        self.prior_strength = prior_strength
        self.min_tuning = min_tuning
        self.negation = negation
        self.C = C
        self.cv = cv
        self.random_state = random_state
        self.code_moderators = code_moderators
        self.nlp = nlp

    # ------------------------------------------------------------------ fit
    def fit(self, X: Iterable[Item] | Batch | None = None, y: Any = None) -> Ensemble:
        """Build the rule and similarity coders; train the learned coder on ``y`` when labels are given.

        ``X`` may contain unlabelled texts too (``None`` entries in ``y``): they help the TF-IDF/LSA
        fallback learn the vocabulary of the study. ``fit()`` with nothing gives a zero-training coder.
        """
        self._validate_parameters()
        if not (self.rules or self.similarity or self.learned):
            raise InvalidInput("every component of the ensemble is switched off", fix="enable rules, similarity or learned")
        codebook = self._check_codebook()
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp_ = load_nlp()
        else:
            self.nlp_ = self.nlp
        codes = codebook.codable_codes
        self.codes_ = np.array([c.id for c in codes], dtype=object)
        self.codebook_version_ = codebook.version
        k = len(codes)
        batch = self._build_batch(X) if X is not None else None
        if batch is not None and batch.nlp is None:
            batch.nlp = self.nlp_
        if y is not None and batch is None:
            raise InvalidInput("labels were given without texts", fix="call fit(texts, labels)")
        Y = label_matrix(y, list(self.codes_), len(batch)) if y is not None else None
        if Y is not None:
            Y[~batch.active] = -1
        has_labels = Y is not None and bool(((Y == 1).any(axis=0) & (Y == 0).any(axis=0)).any())
        self.rules_ = RuleCoder(codebook, negation=self.negation, nlp=self.nlp_).fit() if self.rules else None
        # The zero-shot similarity must not depend on the corpus: with the LSA fallback it gets its own space,
        # fitted on the codebook and qualkit's reference talk; the learned coder keeps the study's LSA space
        # (fitted only when there is something to learn).
        own_space = self._uses_lsa()
        self.embedder_ = None
        if (self.learned and has_labels) or (self.similarity and not own_space):
            corpus = prototypes(codebook)[0] + (sentence_texts(batch) if batch is not None else [])
            self.embedder_ = resolve_embedder(self.embedder, corpus)
        self.similarity_ = (SimilarityCoder(codebook, embedder="lsa" if own_space else self.embedder_,
                                            nlp=self.nlp_).fit() if self.similarity else None)
        if self.embedder_ is None and self.similarity_ is not None:
            self.embedder_ = self.similarity_.embedder_  # for review-queue diversity
        self.learned_ = None
        if self.learned and has_labels:
            self.learned_ = LearnedCoder(codebook, embedder=self.embedder_, C=self.C, cv=self.cv,
                                         random_state=self.random_state, nlp=self.nlp_).fit(batch, Y)
        self.n_positive_ = (Y == 1).sum(axis=0).astype(int) if Y is not None else np.zeros(k, dtype=int)
        self.n_negative_ = (Y == 0).sum(axis=0).astype(int) if Y is not None else np.zeros(k, dtype=int)
        informative = np.array([bool(c.cues or c.patterns or c.definition.strip() or c.inclusion.strip() or c.examples)
                                for c in codes])
        self.has_prior_ = informative & (self.rules or self.similarity)
        # Rejections count too: a code the reviewers keep rejecting and never accept is suggested less.
        # (Only for codes with an informative prior: a bare code name has no prior worth keeping or dampening.)
        never_accepted = (self.n_positive_ == 0) & (self.n_negative_ > 0) & self.has_prior_
        self.prior_scale_ = np.where(never_accepted, self.prior_strength / (self.prior_strength + self.n_negative_), 1.0)
        self.weights_ = np.zeros(k, dtype=float)
        self.thresholds_ = np.full(k, 0.5, dtype=float)
        if self.learned_ is not None:
            trained = np.array([m is not None for m in self.learned_.models_])
            n = self.n_positive_.astype(float)
            self.weights_ = np.where(trained, np.where(self.has_prior_, n / (n + self.prior_strength), 1.0), 0.0)
            if not (self.rules or self.similarity):
                self.weights_ = trained.astype(float)
            self.thresholds_ = np.where(self.weights_ >= 1.0, self.learned_.thresholds_, self.thresholds_)
            self._tune(batch, Y)
        self._apply_threshold_overrides()
        return self

    def _uses_lsa(self) -> bool:
        """True when the embedder is the TF-IDF/LSA fallback chosen by name ("lsa", or "auto" without MiniLM)."""
        if isinstance(self.embedder, str) and self.embedder.lower() == "lsa":
            return True
        if self.embedder is None or (isinstance(self.embedder, str) and self.embedder.lower() == "auto"):
            from qualkit.embeddings import minilm_available

            return not minilm_available()
        return False

    def _tune(self, batch: Batch, Y: np.ndarray) -> None:
        """Choose each code's learned weight and threshold on out-of-fold scores of the labelled texts."""
        oof = self.learned_.oof_scores_
        prior = self._prior(batch)[0] if self.has_prior_.any() else np.zeros(Y.shape, dtype=np.float32)
        for j in range(len(self.codes_)):
            rows = np.nonzero((Y[:, j] >= 0) & np.isfinite(oof[:, j]))[0]
            if not len(rows) or not self.learned_.calibrated_[j]:
                continue
            labels = Y[rows, j].astype(int)
            candidates = [float(self.weights_[j])]
            if self.has_prior_[j] and self.n_positive_[j] >= self.min_tuning:
                candidates += [w for w in _WEIGHT_GRID if w != candidates[0]]
            best = (-1.0, candidates[0], float(self.thresholds_[j]))
            for weight in candidates:
                scores = (1 - weight) * prior[rows, j] + weight * oof[rows, j] if self.has_prior_[j] else oof[rows, j]
                threshold = best_threshold(scores, labels)
                f1 = _f1(scores, labels, threshold)
                if f1 > best[0] + 1e-9:
                    best = (f1, weight, threshold)
            self.weights_[j], self.thresholds_[j] = best[1], best[2]

    def _apply_threshold_overrides(self) -> None:
        if self.thresholds is None:
            return
        if isinstance(self.thresholds, Mapping):
            unknown = [c for c in self.thresholds if c not in set(self.codes_)]
            if unknown:
                raise InvalidInput(f"thresholds name unknown codes {unknown[:5]}", fix="use codable code ids")
            for j, code in enumerate(self.codes_):
                if code in self.thresholds:
                    self.thresholds_[j] = float(self.thresholds[code])
        else:
            self.thresholds_[:] = float(self.thresholds)

    # ------------------------------------------------------------------ scoring
    def _prior(self, batch: Batch) -> tuple[np.ndarray, Scored | None, Scored | None]:
        shape = (len(batch), len(self.codes_))
        rules = self.rules_._score_batch(batch) if self.rules_ is not None else None
        similarity = self.similarity_._score_batch(batch) if self.similarity_ is not None else None
        r = rules.scores if rules is not None else np.zeros(shape, np.float32)
        s = similarity.scores if similarity is not None else np.zeros(shape, np.float32)
        if rules is not None and similarity is not None:
            near = self._near_miss_cues(batch, rules.details, similarity.details, self.near_miss_margin)
            r = np.where(near, r * self.near_miss_factor, r)
            rules.scores = r.astype(np.float32)
            rules.near_miss = near
            # Embeddings do not see negation: where the sentence closest to a code denies it ("I never felt
            # isolated"), the rule coder's negation lowers the similarity too.
            denied = self._denied(batch, rules.details, similarity.details)
            s = np.where(denied, s * self.rules_.negated_weight, s)
            similarity.scores = s.astype(np.float32)
        prior = (1.0 - (1.0 - r) * (1.0 - self.similarity_weight * s)) * self.prior_scale_[None, :]
        return prior.astype(np.float32), rules, similarity

    @staticmethod
    def _denied(batch: Batch, hits: list[dict[int, list[Any]]], raw: Any) -> np.ndarray:
        """(texts x codes) True where the unit most similar to a code holds only negated or hypothetical cues of it."""
        denied = np.zeros(raw.best.shape, dtype=bool)
        if not len(raw.owner):
            return denied
        first = np.searchsorted(raw.owner, np.arange(len(batch)))
        for i, per_code in enumerate(hits):
            spans = batch.unit_spans[i]
            for j, code_hits in per_code.items():
                if not spans or any(h.modifier is None for h in code_hits):
                    continue
                base = int(first[i])
                best = base + int(np.argmax(raw.unit[base:base + len(spans), j]))
                start, end = spans[best - base]
                denied[i, j] = any(start <= h.start < end for h in code_hits)
        return denied

    @staticmethod
    def _near_miss_cues(batch: Batch, hits: list[dict[int, list[Any]]], raw: Any, margin: float) -> np.ndarray:
        """(texts x codes) True where every cue of the code sits in a unit closer (by ``margin``) to one of the
        code's near-misses than to any of its prototypes."""
        near = np.zeros(raw.best.shape, dtype=bool)
        if not len(raw.owner):
            return near
        first = np.searchsorted(raw.owner, np.arange(len(batch)))
        for i, per_code in enumerate(hits):
            spans = batch.unit_spans[i]
            if not per_code or not spans:
                continue
            starts = [s for s, _ in spans]
            for j, code_hits in per_code.items():
                units = {int(first[i]) + max(0, bisect_right(starts, h.start) - 1) for h in code_hits}
                near[i, j] = all(raw.unit_near_gap[u, j] > margin and raw.unit_near[u, j] >= NEAR_MISS_MIN_COSINE
                                 for u in units)
        return near

    def _score_batch(self, batch: Batch) -> Scored:
        if batch.nlp is None:
            batch.nlp = self.nlp_
        prior, rules, similarity = self._prior(batch)
        learned = self.learned_._score_batch(batch) if self.learned_ is not None else None
        weights = self.weights_[None, :].astype(np.float32)
        if learned is not None:
            trained = np.array([m is not None for m in self.learned_.models_])
            use_learned_only = ~self.has_prior_ & trained  # a code with no model yet keeps its (weak) prior
            scores = np.where(use_learned_only[None, :], learned.scores, (1 - weights) * prior + weights * learned.scores)
        else:
            scores = prior
        scores = np.clip(scores, 0.0, 1.0).astype(np.float32)
        shape = scores.shape
        r = rules.scores if rules is not None else np.zeros(shape, np.float32)
        s = similarity.scores if similarity is not None else np.zeros(shape, np.float32)
        lr = learned.scores if learned is not None else np.zeros(shape, np.float32)
        decisions = self.n_positive_ + self.n_negative_

        def parts(i: int, j: int) -> dict[str, float]:
            w = float(self.weights_[j]) if self.has_prior_[j] else (1.0 if learned is not None else 0.0)
            return {"rules": (1 - w) * float(r[i, j]), "similarity": (1 - w) * self.similarity_weight * float(s[i, j]),
                    "learned": w * float(lr[i, j])}

        def origin_of(i: int, j: int) -> str:
            contributions = parts(i, j)
            return max(contributions, key=contributions.get)

        def explain(i: int, j: int) -> Explanation:
            contributions = parts(i, j)
            evidence: list[tuple[int, int]] = []
            phrases: list[str] = []
            if rules is not None and r[i, j] > 0:
                part = rules.explain(i, j)
                evidence += part.evidence
                phrases += part.phrases
                if getattr(rules, "near_miss", None) is not None and rules.near_miss[i, j]:
                    phrases.append("but the cue's sentence reads like a near-miss")
            if similarity is not None and (s[i, j] >= 0.3 or not phrases) and contributions["similarity"] > 0.01:
                part = similarity.explain(i, j)
                if not evidence:
                    evidence += part.evidence
                phrases += part.phrases
            if learned is not None and contributions["learned"] > 0.05:
                part = learned.explain(i, j)
                if not evidence:
                    evidence += part.evidence
                phrases.append(part.phrases[0] if part.phrases else f"learned from {decisions[j]} decisions")
            return Explanation(sorted(set(evidence)), phrases)

        return Scored(scores, explain, origin="ensemble", origin_of=origin_of)


AutoCoder = Ensemble
