"""The default coder: rules + similarity + the learned coder, blended per code as decisions accumulate.

:class:`Ensemble` composes coders in scikit-learn's ``VotingClassifier`` style:
``Ensemble(codebook, estimators=[("rules", RuleCoder()), ("similarity", SimilarityCoder()),
("learned", LearnedCoder())])``. A coder whose ``learns_from_labels`` is false is a *prior* (it scores
from the codebook alone); a coder that learns is trained on the decisions. A new coder joins by being
listed, without editing the ensemble. :class:`AutoCoder` is the ensemble qualkit uses by default
(``Project.autocode``, the app, ``qualkit autocode``), configured with flat switches.

Before a code has labelled examples, its score is the *prior*: the prior coders' scores combined as a
noisy OR (``1 - prod(1 - weight * score)``; similarity counts 0.8 by default); a rule cue whose sentence
reads like one of the code's near-misses counts for less, and a code that reviewers have only ever
rejected has its prior scaled down by ``prior_strength / (prior_strength + rejections)``. As accepted and
rejected decisions arrive, the learned coder's calibrated probability takes over with weight
``n / (n + prior_strength)`` for a code with ``n`` positive examples; with enough examples the weight
and the code's threshold are tuned on out-of-fold predictions. When every labelled unit has exactly one
code (an exclusive codebook, or ``exclusive=True``), the learned coder is one multinomial model, the
prior and the learned probabilities are mixed with one weight chosen by cross-validation, and each unit
gets its single best code. Each suggestion carries its score, the component that contributed most
(``origin``), evidence offsets and a one-line rationale such as
``cue "paperwork"; close to example 2 of administrative_burden (similarity 0.71)``.

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
from sklearn.base import clone

from qualkit.coding._base import (
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
from qualkit.coding.learned import LearnedCoder, best_threshold, exclusive_choice, is_exclusive
from qualkit.coding.params import FOLDS, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, UNIT_INTERVAL, StrOptions
from qualkit.coding.rules import RuleCoder
from qualkit.coding.similarity import SimilarityCoder
from qualkit.errors import InvalidInput

_WEIGHT_GRID = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
# How much each kind of prior counts in the noisy OR unless ``weights`` says otherwise.
PRIOR_WEIGHTS = {SimilarityCoder: 0.8}
# Parameters an ensemble hands to each of its coders (when the coder has them).
SHARED = ("codebook", "embedder", "nlp", "code_moderators", "random_state")
# A cue's sentence must also be really close to the near-miss, not merely less far from it than from the code
# (sparse TF-IDF/LSA vectors of short sentences are "closest" to whatever shares one word).
NEAR_MISS_MIN_COSINE = 0.5


def _f1(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (labels == 1)))
    denominator = float(predicted.sum() + labels.sum())
    return 2 * tp / denominator if denominator else 0.0


class Ensemble(BaseCoder):
    """Coders combined with per-code weights and thresholds: priors by noisy OR, a learned coder on top.

    Parameters:
        codebook: a :class:`~qualkit.model.Codebook`, or the name of a shipped one.
        estimators: ``[(name, coder), ...]``; ``None`` for rules + similarity + learned. Each coder is cloned
            and given the ensemble's ``codebook``, ``embedder``, ``nlp``, ``code_moderators`` and
            ``random_state``. Coders that learn from labels are trained on the decisions (their
            probabilities averaged when there are several); the others form the prior.
        weights: ``{name: weight}`` of prior coders in the noisy OR (default 1, similarity 0.8).
        embedder: ``"auto"`` (MiniLM if installed, else TF-IDF/LSA), ``"minilm"``, ``"lsa"`` or an embedder.
        thresholds: ``None`` (0.5, tuned per code once it has enough decisions), one float for all codes,
            or ``{code_id: threshold}`` overrides.
        exclusive: ``"auto"`` (from the labels: exactly one code per labelled unit), ``True`` or ``False``.
        near_miss_factor: what a rule score is multiplied by when the sentence holding the cue is clearly
            closer (by ``near_miss_margin`` in cosine) to one of the code's near-misses than to any of its
            prototypes ("divide the dose" for ``division``).
        prior_strength: positives a code needs before the learned coder counts as much as the prior.
        min_tuning: positives a code needs before its weight and threshold are tuned on held-out scores.
        code_moderators: code moderator turns as well (segments only).
        sentence_weight: how much a text's best sentence counts beside the whole text (multi-label
            codebooks): each sentence of a text of several is scored as a text of its own, and a code's
            score is ``(1 - w) x whole + w x max(whole, best sentence)``, so a code one sentence carries is
            not averaged away by the others. 0 scores whole texts only; a one-sentence text is unaffected.

    Attributes:
        estimators_: the fitted coders, ``{name: coder}``.
        prior_weights_: ``{name: weight}`` of each prior coder in the noisy OR.
        embedder_: the embedder the coders share (for review-queue diversity too).
        exclusive_: whether codes exclude each other (one code per unit).
        weights_: per-code weight of the learned probability against the prior.
        thresholds_: per-code score from which a code is predicted.
        has_prior_: codes whose prior is informative (cues, patterns, definitions, criteria or examples).
        prior_scale_: per-code factor on the prior (below 1 for codes reviewers only ever declined where the
            prior suggested them).
        n_positive_, n_negative_: decisions per code.
        n_declined_: for codes never accepted, the texts judged without the code where the prior suggested it.

    Example:
        >>> import qualkit as qk
        >>> coder = qk.Ensemble("burnout", [("rules", qk.RuleCoder()), ("similarity", qk.SimilarityCoder())],
        ...                     embedder="lsa").fit()
        >>> sorted(coder.estimators_)
        ['rules', 'similarity']
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "estimators": [None, list], "weights": [None, dict],
        "thresholds": [None, UNIT_INTERVAL, dict], "exclusive": [StrOptions({"auto"}), "boolean"],
        "near_miss_factor": [UNIT_INTERVAL], "near_miss_margin": [NON_NEGATIVE],
        "prior_strength": [NON_NEGATIVE], "min_tuning": [NON_NEGATIVE_INT],
        "random_state": ["random_state"], "code_moderators": ["boolean"], "sentence_weight": [UNIT_INTERVAL],
    }

    def __init__(
        self,
        codebook: Any = "burnout",
        estimators: list[tuple[str, BaseCoder]] | None = None,
        *,
        weights: Mapping[str, float] | None = None,
        embedder: Any = "auto",
        thresholds: float | Mapping[str, float] | None = None,
        exclusive: str | bool = "auto",
        near_miss_factor: float = 0.2,
        near_miss_margin: float = 0.15,
        prior_strength: float = 8.0,
        min_tuning: int = 8,
        random_state: int = 0,
        code_moderators: bool = False,
        sentence_weight: float = 0.0,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.estimators = estimators
        self.sentence_weight = sentence_weight
        self.weights = weights
        self.embedder = embedder
        self.thresholds = thresholds
        self.exclusive = exclusive
        self.near_miss_factor = near_miss_factor
        self.near_miss_margin = near_miss_margin
        self.prior_strength = prior_strength
        self.min_tuning = min_tuning
        self.random_state = random_state
        self.code_moderators = code_moderators
        self.nlp = nlp

    # ------------------------------------------------------------------ composition
    def _estimators(self) -> list[tuple[str, BaseCoder]]:
        """The (name, unfitted coder) pairs to combine."""
        if self.estimators is None:
            return [("rules", RuleCoder()), ("similarity", SimilarityCoder()), ("learned", LearnedCoder())]
        return list(self.estimators)

    def _prepared(self, coder: BaseCoder, codebook: Any, embedder: Any) -> BaseCoder:
        """A fresh copy of ``coder`` sharing the ensemble's codebook, embedder, pipeline and options."""
        fresh = clone(coder)
        own = fresh.get_params(deep=False)
        shared = {"codebook": codebook, "embedder": embedder, "nlp": self.nlp_, "code_moderators": self.code_moderators,
                  "random_state": self.random_state}
        fresh.set_params(**{k: v for k, v in shared.items() if k in own})
        return fresh

    def _prior_weight(self, name: str, coder: BaseCoder) -> float:
        if self.weights is not None and name in self.weights:
            return float(self.weights[name])
        return next((w for kind, w in PRIOR_WEIGHTS.items() if isinstance(coder, kind)), 1.0)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Iterable[Item] | Batch | None = None, y: Any = None) -> Ensemble:
        """Fit the prior coders; train the learning coders on ``y`` when labels are given.

        ``X`` may contain unlabelled texts too (``None`` entries in ``y``): they help the TF-IDF/LSA
        fallback learn the vocabulary of the study. ``fit()`` with nothing gives a zero-training coder.
        """
        codebook = self._start_fit()
        pairs = self._estimators()
        names = [name for name, _ in pairs]
        if not pairs:
            raise InvalidInput("every component of the ensemble is switched off", fix="enable rules, similarity or learned")
        if len(set(names)) != len(names):
            raise InvalidInput(f"estimator names repeat: {names}", fix="give every coder its own name")
        codes = codebook.codable_codes
        k = len(codes)
        batch = self._fit_batch(X)
        if y is not None and batch is None:
            raise InvalidInput("labels were given without texts", fix="call fit(texts, labels)")
        Y = label_matrix(y, list(self.codes_), len(batch)) if y is not None else None
        if Y is not None:
            Y[~batch.active] = -1
        has_labels = Y is not None and bool(((Y == 1).any(axis=0) & (Y == 0).any(axis=0)).any())
        self.exclusive_ = bool(self.exclusive if self.exclusive != "auto" else Y is not None and is_exclusive(Y))
        learners = [(n, c) for n, c in pairs if c.learns_from_labels]
        priors = [(n, c) for n, c in pairs if not c.learns_from_labels]
        # The zero-shot similarity must not depend on the corpus: with the LSA fallback it gets its own space,
        # fitted on the codebook and qualkit's reference talk; the learned coder keeps the study's LSA space
        # (fitted only when there is something to learn).
        own_space = self._uses_lsa()
        needs_shared = (learners and has_labels) or any(isinstance(c, SimilarityCoder) for _, c in priors)
        self.embedder_ = None
        if needs_shared and not (own_space and not (learners and has_labels)):
            corpus = prototypes(codebook)[0] + (sentence_texts(batch) if batch is not None else [])
            self.embedder_ = resolve_embedder(self.embedder, corpus)
        self.estimators_: dict[str, BaseCoder] = {}
        for name, coder in priors:
            space = "lsa" if own_space and isinstance(coder, SimilarityCoder) else self.embedder_
            self.estimators_[name] = self._prepared(coder, codebook, space).fit()
        if self.embedder_ is None:
            self.embedder_ = next((getattr(c, "embedder_", None) for c in self.estimators_.values()
                                   if getattr(c, "embedder_", None) is not None), None)  # review-queue diversity
        if has_labels:
            for name, coder in learners:
                learner = self._prepared(coder, codebook, self.embedder_)
                if "exclusive" in learner.get_params(deep=False):
                    learner.set_params(exclusive=self.exclusive_)
                self.estimators_[name] = learner.fit(batch, Y)
        self.prior_weights_ = {name: self._prior_weight(name, c) for name, c in priors}
        self.n_positive_ = (Y == 1).sum(axis=0).astype(int) if Y is not None else np.zeros(k, dtype=int)
        self.n_negative_ = (Y == 0).sum(axis=0).astype(int) if Y is not None else np.zeros(k, dtype=int)
        informative = np.array([bool(c.cues or c.patterns or c.definition.strip() or c.inclusion.strip() or c.examples)
                                for c in codes])
        self.has_prior_ = informative & bool(priors)
        self.weights_ = np.zeros(k, dtype=float)
        self.thresholds_ = np.full(k, 0.0 if self.exclusive_ else 0.5, dtype=float)
        # Rejections count too: a code the reviewers keep declining where it was suggested, and never accept,
        # is suggested less. Only where the prior suggested it: a segment judged for other codes says nothing
        # of this one (counting those, four accepts of other codes withdrew every suggestion of the rest).
        # (Only codes with an informative prior: a bare code name has no prior worth keeping or dampening.)
        never_accepted = (self.n_positive_ == 0) & (self.n_negative_ > 0) & self.has_prior_
        self.prior_scale_ = np.ones(k, dtype=float)
        self.n_declined_ = np.zeros(k, dtype=int)
        prior = None
        if never_accepted.any():
            prior = self._prior(batch)[0]
            self.n_declined_ = ((Y == 0) & self._suggested_by(prior)).sum(axis=0).astype(int)
            self.prior_scale_ = np.where(never_accepted, self.prior_strength / (self.prior_strength + self.n_declined_),
                                         1.0)
            prior = (prior * self.prior_scale_[None, :]).astype(np.float32)
        fitted_learners = self._learners()
        if fitted_learners:
            trained = self._trained()
            n = self.n_positive_.astype(float)
            self.weights_ = np.where(trained, np.where(self.has_prior_, n / (n + self.prior_strength), 1.0), 0.0)
            if not priors:
                self.weights_ = trained.astype(float)
            if self.exclusive_:
                self._tune_exclusive(batch, Y)
            else:
                thresholds = np.mean([c.thresholds_ for c in fitted_learners], axis=0)
                self.thresholds_ = np.where(self.weights_ >= 1.0, thresholds, self.thresholds_)
                self._tune(batch, Y, prior)
        self._apply_threshold_overrides()
        return self

    def _suggested_by(self, prior: np.ndarray) -> np.ndarray:
        """(texts x codes) True where the prior alone would suggest the code (its top code, when exclusive)."""
        if self.exclusive_:
            return (prior > 0) & (prior >= prior.max(axis=1, keepdims=True))
        return prior >= self.thresholds_[None, :]

    @property
    def rules_(self) -> RuleCoder | None:
        """The fitted rule coder, if the ensemble has one."""
        return next((c for c in self.estimators_.values() if isinstance(c, RuleCoder)), None)

    @property
    def similarity_(self) -> SimilarityCoder | None:
        """The fitted similarity coder, if the ensemble has one."""
        return next((c for c in self.estimators_.values() if isinstance(c, SimilarityCoder)), None)

    @property
    def learned_(self) -> BaseCoder | None:
        """The (first) fitted coder that learns from labels, if any was trained."""
        learners = self._learners()
        return learners[0] if learners else None

    def _learners(self) -> list[BaseCoder]:
        return [c for c in self.estimators_.values() if c.learns_from_labels]

    def _trained(self) -> np.ndarray:
        """Codes some learning coder has a model for."""
        trained = np.zeros(len(self.codes_), dtype=bool)
        for coder in self._learners():
            trained |= self._trained_by(coder)
        return trained

    def _trained_by(self, coder: BaseCoder) -> np.ndarray:
        """Codes one learning coder has a model for (all, for a coder that does not say)."""
        models = getattr(coder, "models_", None)
        if models is None:
            return np.ones(len(self.codes_), dtype=bool)
        trained = np.zeros(len(self.codes_), dtype=bool)
        if getattr(coder, "exclusive_", False):
            trained[np.asarray(coder.classes_, dtype=int)] = models[0] is not None
        else:
            trained[:] = [m is not None for m in models]
        return trained

    def _uses_lsa(self) -> bool:
        """True when the embedder spec resolves to the TF-IDF/LSA tier ("lsa", or "auto" without MiniLM)."""
        from qualkit.embeddings import default_tier, embedder_kind

        if self.embedder is None or (isinstance(self.embedder, str) and self.embedder.lower() == "auto"):
            return default_tier("coding") == "lsa"
        return isinstance(self.embedder, str) and embedder_kind(self.embedder) == "lsa"

    def _learned_oof(self) -> np.ndarray:
        return np.nanmean(np.stack([c.oof_scores_ for c in self._learners()]), axis=0) \
            if len(self._learners()) > 1 else self._learners()[0].oof_scores_

    def _tune(self, batch: Batch, Y: np.ndarray, prior: np.ndarray | None = None) -> None:
        """Choose each code's learned weight and threshold on out-of-fold scores of the labelled texts
        (``prior``: the prior's scores of ``batch``, when already computed)."""
        oof = self._learned_oof()
        calibrated = np.all([getattr(c, "calibrated_", np.ones(len(self.codes_), bool)) for c in self._learners()], axis=0)
        if prior is None:
            prior = self._prior(batch)[0] if self.has_prior_.any() else np.zeros(Y.shape, dtype=np.float32)
        for j in range(len(self.codes_)):
            rows = np.nonzero((Y[:, j] >= 0) & np.isfinite(oof[:, j]))[0]
            if not len(rows) or not calibrated[j]:
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

    def _tune_exclusive(self, batch: Batch, Y: np.ndarray) -> None:
        """One weight for the learned probabilities against the (normalised) prior, chosen on held-out folds.

        The weight maximises the agreement (Cohen's kappa) of the top code with the labels, on the learned
        coder's out-of-fold probabilities; without held-out probabilities the weight stays ``n / (n + s)``.
        """
        from sklearn.metrics import cohen_kappa_score

        oof = self._learned_oof()
        rows = np.nonzero((Y.sum(axis=1) == 1) & np.isfinite(oof).all(axis=1))[0]
        trained = self._trained()
        if not self.has_prior_.any():
            self.weights_ = trained.astype(float)
            return
        n = float(np.mean(self.n_positive_[trained])) if trained.any() else 0.0
        default = n / (n + self.prior_strength)
        self.weights_ = np.where(trained, default, 0.0)
        if len(rows) < 2 * len(self.codes_) or len(np.unique(Y[rows].argmax(axis=1))) < 2:
            return
        prior = _as_distribution(self._prior(batch)[0][rows])
        truth = Y[rows].argmax(axis=1)
        best = (-np.inf, default)
        for weight in sorted({*_WEIGHT_GRID, default}):
            mixed = (1 - weight) * prior + weight * oof[rows]
            kappa = cohen_kappa_score(truth, mixed.argmax(axis=1))
            if kappa > best[0] + 1e-9:
                best = (kappa, weight)
        self.weights_ = np.where(trained, best[1], 0.0)

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

    def _selected(self, scores: np.ndarray, threshold: float | None, top_k: int | None) -> np.ndarray:
        if not getattr(self, "exclusive_", False) or top_k is not None or threshold is not None:
            return super()._selected(scores, threshold, top_k)
        return exclusive_choice(scores, np.asarray(self.thresholds_))

    # ------------------------------------------------------------------ scoring
    def _prior(self, batch: Batch) -> tuple[np.ndarray, Scored | None, Scored | None]:
        """The noisy-OR prior of the prior coders, and the rule and similarity scores (for explanations)."""
        shape = (len(batch), len(self.codes_))
        scored = {name: coder.score_batch(batch) for name, coder in self.estimators_.items()
                  if not coder.learns_from_labels}
        rules_name = next((n for n, c in self.estimators_.items() if isinstance(c, RuleCoder)), None)
        similarity_name = next((n for n, c in self.estimators_.items() if isinstance(c, SimilarityCoder)), None)
        rules = scored.get(rules_name) if rules_name else None
        similarity = scored.get(similarity_name) if similarity_name else None
        if rules is not None and similarity is not None:
            near = self._near_miss_cues(batch, rules.details, similarity.details, self.near_miss_margin)
            rules.scores = np.where(near, rules.scores * self.near_miss_factor, rules.scores).astype(np.float32)
            rules.near_miss = near
            # Embeddings do not see negation: where the sentence closest to a code denies it ("I never felt
            # isolated"), the rule coder's negation lowers the similarity too.
            denied = self._denied(batch, rules.details, similarity.details)
            negated = self.estimators_[rules_name].negated_weight
            similarity.scores = np.where(denied, similarity.scores * negated, similarity.scores).astype(np.float32)
        miss = np.ones(shape, dtype=np.float64)
        for name, part in scored.items():
            miss *= 1.0 - self.prior_weights_[name] * part.scores
        prior = (1.0 - miss) * self.prior_scale_[None, :]
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

    def _learned_scores(self, batch: Batch) -> Scored | None:
        """The learning coders' probabilities (per code, averaged over those trained for it), with the first one's
        explanations."""
        learners = self._learners()
        if not learners:
            return None
        parts = [c.score_batch(batch) for c in learners]
        if len(parts) > 1:  # per code, the mean of the learners that have a model for it
            counted = np.array([self._trained_by(c) for c in learners], dtype=np.float32)[:, None, :]
            total = np.sum([p.scores for p in parts] * counted, axis=0)
            parts[0].scores = (total / np.maximum(counted.sum(axis=0), 1.0)).astype(np.float32)
        return parts[0]

    def _score_batch(self, batch: Batch) -> Scored:
        whole = self._whole_scores(batch)
        if self.exclusive_ or not self.sentence_weight:
            return whole
        return self._with_best_sentences(batch, whole)

    def _with_best_sentences(self, batch: Batch, whole: Scored) -> Scored:
        """``whole`` with each code's score raised towards its best sentence's (see ``sentence_weight``).

        Where a sentence scores higher than its whole text, the explanation is that sentence's, its
        evidence moved to the text's offsets.
        """
        owners, spans = [], []
        for i, sentences in enumerate(batch.sentence_spans):
            if batch.active[i] and len(sentences) > 1:
                owners += [i] * len(sentences)
                spans += sentences
        if not owners:
            return whole
        parts = Batch.build([batch.texts[i][a:b] for i, (a, b) in zip(owners, spans, strict=True)], nlp=batch.nlp)
        scored = self._whole_scores(parts)
        best = np.zeros_like(whole.scores)
        best_row = np.full(whole.scores.shape, -1, dtype=np.int64)
        for row, i in enumerate(owners):
            higher = scored.scores[row] > best[i]
            best[i] = np.where(higher, scored.scores[row], best[i])
            best_row[i] = np.where(higher, row, best_row[i])
        w = np.float32(self.sentence_weight)
        scores = ((1 - w) * whole.scores + w * np.maximum(whole.scores, best)).astype(np.float32)
        from_sentence = best > whole.scores

        def explain(i: int, j: int) -> Explanation:
            if not from_sentence[i, j]:
                return whole.explain(i, j)
            row = int(best_row[i, j])
            start, end = spans[row]
            part = scored.explain(row, j)
            evidence = [(start + a, start + b) for a, b in part.evidence] or [(start, end)]
            return Explanation(evidence, part.phrases)

        def origin_of(i: int, j: int) -> str:
            return scored.origin_of(int(best_row[i, j]), j) if from_sentence[i, j] else whole.origin_of(i, j)

        return Scored(scores, explain, origin=whole.origin, origin_of=origin_of)

    def _whole_scores(self, batch: Batch) -> Scored:
        """Each text scored as a whole: the prior coders' noisy OR mixed with the learned probabilities."""
        if batch.nlp is None:
            batch.nlp = self.nlp_
        prior, rules, similarity = self._prior(batch)
        learned = self._learned_scores(batch)
        weights = self.weights_[None, :].astype(np.float32)
        if learned is not None and self.exclusive_:
            mixed = _as_distribution(prior) if self.has_prior_.any() else np.zeros_like(prior)
            scores = (1 - weights) * mixed + weights * learned.scores
        elif learned is not None:
            use_learned_only = ~self.has_prior_ & self._trained()  # a code with no model yet keeps its (weak) prior
            scores = np.where(use_learned_only[None, :], learned.scores, (1 - weights) * prior + weights * learned.scores)
        else:
            scores = prior
        scores = np.clip(scores, 0.0, 1.0).astype(np.float32)
        shape = scores.shape
        r = rules.scores if rules is not None else np.zeros(shape, np.float32)
        s = similarity.scores if similarity is not None else np.zeros(shape, np.float32)
        lr = learned.scores if learned is not None else np.zeros(shape, np.float32)
        decisions = self.n_positive_ + self.n_negative_
        similarity_weight = next((self.prior_weights_[n] for n, c in self.estimators_.items()
                                  if isinstance(c, SimilarityCoder)), 0.0)

        def parts(i: int, j: int) -> dict[str, float]:
            w = float(self.weights_[j]) if self.has_prior_[j] else (1.0 if learned is not None else 0.0)
            return {"rules": (1 - w) * float(r[i, j]), "similarity": (1 - w) * similarity_weight * float(s[i, j]),
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


def _as_distribution(scores: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to one (rows of zeros stay zero), so a prior mixes with probabilities."""
    totals = scores.sum(axis=1, keepdims=True)
    return np.divide(scores, totals, out=np.zeros_like(scores, dtype=np.float32), where=totals > 0)


class AutoCoder(Ensemble):
    """qualkit's default coder: rules + similarity + learned, configured with flat switches.

    What ``Project.autocode``, the app and ``qualkit autocode`` use. Equivalent to an :class:`Ensemble` of
    ``RuleCoder(negation=negation)``, ``SimilarityCoder()`` and ``LearnedCoder(C=C, cv=cv)`` with
    ``weights={"similarity": similarity_weight}``; see :class:`Ensemble` for the other parameters and the
    attributes.

    Parameters:
        rules / similarity / learned: switch components on or off.
        neighbours: add a :class:`~qualkit.coding.neighbours.NeighbourCoder` beside the learned coder (their
            scores are averaged).
        similarity_weight: weight of the similarity score inside the prior.
        negation: how the rule coder treats negated or hypothetical cues (see :class:`RuleCoder`).
        C, cv: regularisation and folds of the learned coder.
        sentence_weight: as in :class:`Ensemble`, but 0.5 by default: a code one sentence of a passage carries
            counts (NHS comments, macro-F1 on three reported seeds and the 20-per-theme point; the demo's
            held-out sessions; ``python -m bench.coding --candidates "best sentence"``).

    Example:
        >>> import qualkit as qk
        >>> coder = qk.AutoCoder("burnout", embedder="lsa").fit(
        ...     ["I chart until midnight", "We laughed at lunch together"],
        ...     [["administrative_burden"], ["connection_and_community"]])
        >>> coder.predict_scores(["Charting again tonight"]).shape
        (1, 24)
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        **Ensemble._parameter_constraints,
        "rules": ["boolean"], "similarity": ["boolean"], "learned": ["boolean"], "neighbours": ["boolean"],
        "similarity_weight": [UNIT_INTERVAL], "negation": [StrOptions({"lower", "remove", "ignore"})],
        "C": [POSITIVE], "cv": [FOLDS],
    }

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        embedder: Any = "auto",
        rules: bool = True,
        similarity: bool = True,
        learned: bool = True,
        neighbours: bool = False,
        thresholds: float | Mapping[str, float] | None = None,
        exclusive: str | bool = "auto",
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
        sentence_weight: float = 0.5,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.sentence_weight = sentence_weight
        self.thresholds = thresholds
        self.exclusive = exclusive
        self.near_miss_factor = near_miss_factor
        self.near_miss_margin = near_miss_margin
        self.prior_strength = prior_strength
        self.min_tuning = min_tuning
        self.random_state = random_state
        self.code_moderators = code_moderators
        self.nlp = nlp
        self.rules = rules
        self.similarity = similarity
        self.learned = learned
        self.neighbours = neighbours
        self.similarity_weight = similarity_weight
        self.negation = negation
        self.C = C
        self.cv = cv

    @property
    def estimators(self) -> list[tuple[str, BaseCoder]]:
        """The components the switches select (read-only: set ``rules``, ``similarity``, ``learned``)."""
        chosen: list[tuple[str, BaseCoder]] = []
        if self.rules:
            chosen.append(("rules", RuleCoder(negation=self.negation)))
        if self.similarity:
            chosen.append(("similarity", SimilarityCoder()))
        if self.learned:
            chosen.append(("learned", LearnedCoder(C=self.C, cv=self.cv)))
        if self.neighbours:
            from qualkit.coding.neighbours import NeighbourCoder

            chosen.append(("neighbours", NeighbourCoder()))
        return chosen

    @property
    def weights(self) -> dict[str, float]:
        """Prior weights from ``similarity_weight``."""
        return {"similarity": self.similarity_weight}
