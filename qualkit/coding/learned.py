"""Learned coder: calibrated classifiers trained on the researcher's decisions and the codebook's own examples.

Features are the segment's sentence embedding (MiniLM, or TF-IDF/LSA without it) next to TF-IDF word
n-grams, so a handful of examples already generalise through the embedding while specific wording is
picked up as decisions accumulate. The codebook's definitions, inclusion criteria and examples join the
training rows as positives of their code (and near-misses as negatives), so the coder starts from the
study's own material (a code with nothing but a name, by its name).

Multi-label codebooks (a unit may carry several codes, or none) get one class-balanced logistic regression
per code; when a code has enough examples, out-of-fold predictions (stratified cross-validation)
calibrate its probabilities (Platt scaling) and choose its threshold (best F1, shrunk towards 0.5 while
examples are few). Exclusive codebooks (every labelled unit has exactly one code, detected from the labels
or set with ``exclusive=True``) get one multinomial logistic regression whose regularisation is chosen by
cross-validation; its probabilities sum to one over the codes and a unit gets its most probable code
(``min_probability`` leaves it uncoded below that).

Labels: accepted = positive; rejected, and any other code of a judged segment = negative; codes left
undecided on a segment (``{code: None}``-style partial labels, see :func:`label_matrix`) are ignored.

Example:
    >>> from qualkit.model import Codebook, Code
    >>> cb = Codebook("m", [Code("admin", "Admin"), Code("sleep", "Sleep")])
    >>> texts = ["so much paperwork", "forms and paperwork", "I slept all day", "could not sleep"]
    >>> coder = LearnedCoder(cb, embedder="lsa").fit(texts, [["admin"], ["admin"], ["sleep"], ["sleep"]])
    >>> coder.predict(["paperwork again"])
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
    label_matrix,
    prototypes,
    resolve_embedder,
    sentence_texts,
    top_terms,
)
from qualkit.coding.params import FOLDS, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, UNIT_INTERVAL, StrOptions
from qualkit.errors import InvalidInput
from qualkit.nlp import english_stopwords

# Regularisation strengths an exclusive coder chooses from by cross-validation inside its training data.
EXCLUSIVE_C = (0.5, 2.0, 8.0)


EXCLUSIVE_EVIDENCE = 30
"""Labelled rows needed before "every one has exactly one code" is read as a one-code-per-unit codebook.

A handful of single-coded rows says little: where one unit in ten carries two codes, ten rows are all
single-coded two times in three, thirty rows once in twenty-five. Read too early, every unit is forced
into some code ("N/A" coded as a theme).
"""


def is_exclusive(Y: np.ndarray, *, min_rows: int = EXCLUSIVE_EVIDENCE) -> bool:
    """True when ``min_rows`` or more labelled rows each have exactly one code (and two or more codes occur).

    Example:
        >>> one_each = np.array([[1, 0], [0, 1], [-1, -1]])
        >>> is_exclusive(one_each, min_rows=2), is_exclusive(one_each), is_exclusive(np.array([[1, 1], [0, 1]]))
        (True, False, False)
    """
    judged = Y[(Y >= 0).all(axis=1)]
    if len(judged) < max(min_rows, 2) or (Y == -1).any(axis=1).sum() != (Y == -1).all(axis=1).sum():
        return False  # too little evidence, or partial labels: those are per-code decisions
    return bool((judged.sum(axis=1) == 1).all() and (judged.sum(axis=0) > 0).sum() >= 2)


def best_threshold(scores: np.ndarray, labels: np.ndarray, *, prior: float = 0.5, strength: float = 5.0) -> float:
    """The threshold maximising F1 on held-out scores, shrunk towards ``prior`` when positives are few.

    Example:
        >>> round(best_threshold(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 0, 1, 1]), strength=0), 2)
        0.45
    """
    positives = int(labels.sum())
    if positives == 0 or positives == len(labels):
        return prior
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    tp = np.cumsum(sorted_labels)
    predicted = np.arange(1, len(scores) + 1)
    f1 = 2 * tp / (predicted + positives)
    # Only cut between distinct scores.
    distinct = np.r_[sorted_scores[1:] < sorted_scores[:-1], True]
    f1 = np.where(distinct, f1, -1)
    k = int(np.argmax(f1))
    upper = sorted_scores[k]
    lower = sorted_scores[k + 1] if k + 1 < len(scores) else upper - 0.05
    best = float((upper + lower) / 2)
    return float((positives * best + strength * prior) / (positives + strength))


class LearnedCoder(BaseCoder):
    """Calibrated logistic regressions on embedding + TF-IDF features, trained from decisions and the codebook.

    Parameters:
        codebook: the codes to learn (codable codes; a code with no example at all scores 0).
        embedder: ``"auto"``, ``"minilm"``, ``"lsa"``, an embedder object, or ``None`` for TF-IDF only.
        tfidf: add TF-IDF word uni- and bigrams to the features.
        char_ngrams: add TF-IDF character 2-5-grams (within words), robust to spelling and inflection.
        C: inverse regularisation strength of each per-code logistic regression (multi-label).
        embedding_weight: scale of the embedding block relative to the TF-IDF block.
        class_weight: ``"balanced"`` (default) weighs rare codes up; ``None`` leaves them as they are.
        cv: folds for out-of-fold calibration and thresholds (fewer when a code has fewer examples).
        min_calibration: positives (and negatives) a code needs before it is calibrated and its threshold tuned.
        threshold: a code's threshold until it is tuned (multi-label).
        threshold_shrinkage: how many positives' worth of pull a tuned threshold gets towards ``threshold``
            (0: the best out-of-fold F1 threshold as it is).
        exclusive: ``"auto"`` (exclusive when every labelled unit has exactly one code), ``True`` or ``False``.
        min_probability: an exclusive coder leaves a unit uncoded when its best code is less probable.
        codebook_examples: train on the codebook's definitions, inclusion criteria and examples too
            (positives of their code) and its near-misses (negatives of theirs).

    Attributes:
        exclusive_: whether one multinomial model was fitted (codes exclude each other).
        models_: per-code classifiers (multi-label; ``None`` for a code without positives and negatives),
            or a one-element list holding the multinomial model (exclusive).
        classes_: column of each class of the multinomial model in ``codes_`` (exclusive).
        C_: the regularisation chosen by cross-validation (exclusive).
        calibration_: per-code Platt scaling ``(a, b)`` of the decision function (multi-label).
        calibrated_: which codes were calibrated on held-out folds.
        thresholds_: per-code score from which a code is predicted.
        n_positive_, n_negative_: decisions per code (codebook material not counted).
        oof_scores_: out-of-fold probabilities of the labelled texts (NaN where not computed).
        vectorizer_, char_vectorizer_, embedder_, blocks_: the fitted feature blocks.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> LearnedCoder(Codebook("m", [Code("a", "A")])).get_params()["cv"]
        5
    """

    learns_from_labels = True

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "tfidf": ["boolean"], "char_ngrams": ["boolean"], "C": [POSITIVE], "embedding_weight": [NON_NEGATIVE],
        "class_weight": [None, StrOptions({"balanced"}), dict], "cv": [FOLDS],
        "min_calibration": [NON_NEGATIVE_INT], "threshold": [UNIT_INTERVAL],
        "threshold_shrinkage": [NON_NEGATIVE], "random_state": ["random_state"],
        "code_moderators": ["boolean"], "exclusive": [StrOptions({"auto"}), "boolean"],
        "min_probability": [UNIT_INTERVAL], "codebook_examples": ["boolean"],
    }

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        embedder: Any = "auto",
        tfidf: bool = True,
        char_ngrams: bool = True,
        C: float = 4.0,
        embedding_weight: float = 1.0,
        class_weight: str | None = "balanced",
        cv: int = 5,
        min_calibration: int = 3,
        threshold: float = 0.5,
        threshold_shrinkage: float = 5.0,
        exclusive: str | bool = "auto",
        min_probability: float = 0.0,
        codebook_examples: bool = True,
        random_state: int = 0,
        code_moderators: bool = False,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.tfidf = tfidf
        self.char_ngrams = char_ngrams
        self.C = C
        self.embedding_weight = embedding_weight
        self.class_weight = class_weight
        self.cv = cv
        self.min_calibration = min_calibration
        self.threshold = threshold
        self.threshold_shrinkage = threshold_shrinkage
        self.exclusive = exclusive
        self.min_probability = min_probability
        self.codebook_examples = codebook_examples
        self.random_state = random_state
        self.code_moderators = code_moderators
        self.nlp = nlp

    # ------------------------------------------------------------------ features
    def _features(self, batch: Batch, *, fit: bool = False, extra: list[str] = ()) -> Any:
        """The feature matrix: [embedding | word TF-IDF | character TF-IDF]; ``fit`` learns the vocabularies.

        ``extra`` texts (the codebook's material) are appended as rows after the batch's.
        """
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        blocks = []
        texts = [t if a else "" for t, a in zip(batch.texts, batch.active, strict=True)] + list(extra)
        if fit:
            self.blocks_: dict[str, tuple[int, int]] = {}
            self.vectorizer_ = self.char_vectorizer_ = None
        width = 0

        def add(name: str, matrix: Any) -> None:
            nonlocal width
            blocks.append(matrix)
            if fit:
                self.blocks_[name] = (width, width + matrix.shape[1])
            width += matrix.shape[1]

        if self.embedder_ is not None:
            vectors = batch.unit_vectors(self.embedder_)[2]
            if extra:
                vectors = np.vstack([vectors, np.asarray(self.embedder_.encode(list(extra)), dtype=np.float32)])
            add("embedding", sparse.csr_matrix(vectors * self.embedding_weight))
        if self.tfidf:
            if fit:
                self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                                   strip_accents="unicode", max_features=50000)
                add("words", self.vectorizer_.fit_transform(texts))
            else:
                add("words", self.vectorizer_.transform(texts))
        if self.char_ngrams:
            if fit:
                min_df = 2 if int(batch.active.sum()) >= 50 else 1
                self.char_vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                                        min_df=min_df, max_features=30000)
                add("chars", self.char_vectorizer_.fit_transform(texts))
            else:
                add("chars", self.char_vectorizer_.transform(texts))
        if not blocks:
            raise InvalidInput("the learned coder has no features",
                               fix="set tfidf=True or char_ngrams=True, or give an embedder")
        return sparse.hstack(blocks, format="csr")

    def _material(self, codebook: Any) -> tuple[list[str], np.ndarray]:
        """The codebook's own rows: (texts, label matrix) with its prototypes positive for their code and
        negative for the others, and each near-miss negative for its code only."""
        k = len(self.codes_)
        if not self.codebook_examples:
            return [], np.zeros((0, k), dtype=np.int8)
        texts, columns, _, near_texts, near_columns = prototypes(codebook)
        # A code with nothing but its name is learned from its name too: one more positive for a code the
        # decisions rarely show (on NHS comments at 20 per theme, development macro-F1 +0.03; bench/coding_dev.py).
        rows = list(zip(texts, columns, strict=True))
        matrix = np.zeros((len(rows) + len(near_texts), k), dtype=np.int8)
        for r, (_, j) in enumerate(rows):
            matrix[r, j] = 1
        for r, j in enumerate(near_columns, start=len(rows)):
            matrix[r, :] = -1
            matrix[r, j] = 0
        return [t for t, _ in rows] + list(near_texts), matrix

    # ------------------------------------------------------------------ fit
    def fit(self, X: Iterable[Item], y: Any) -> LearnedCoder:
        """Train from labelled texts or segments (see :func:`label_matrix` for ``y``) and the codebook's material."""
        codebook = self._start_fit()
        if y is None:
            raise InvalidInput("the learned coder needs labels", fix="pass y: one list of code ids per text")
        batch = self._fit_batch(X)
        Y = label_matrix(y, list(self.codes_), len(batch))
        Y[~batch.active] = -1
        self.exclusive_ = bool(is_exclusive(Y) if self.exclusive == "auto" else self.exclusive)
        self.embedder_ = None if self.embedder is None else resolve_embedder(self.embedder, sentence_texts(batch))
        extra_texts, extra_Y = self._material(codebook)
        if self.exclusive_:
            extra_keep = extra_Y.sum(axis=1) == 1  # near-misses name no code of their own: left out
            extra_texts = [t for t, keep in zip(extra_texts, extra_keep, strict=True) if keep]
            extra_Y = extra_Y[extra_keep]
        features = self._features(batch, fit=True, extra=extra_texts)
        n = len(batch)
        self.n_positive_ = ((Y == 1).sum(axis=0)).astype(int)
        self.n_negative_ = ((Y == 0).sum(axis=0)).astype(int)
        self.oof_scores_ = np.full(Y.shape, np.nan, dtype=np.float32)
        Y_all = np.vstack([Y, extra_Y]) if len(extra_Y) else Y
        if self.exclusive_:
            self._fit_exclusive(features, Y_all, n)
        else:
            self._fit_per_code(features, Y_all, n)
        return self

    def _fit_exclusive(self, features: Any, Y: np.ndarray, n: int) -> None:
        """One multinomial model over the codes; C chosen by stratified cross-validation on the decisions."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss
        from sklearn.model_selection import StratifiedKFold

        k = len(self.codes_)
        rows = np.nonzero(Y.sum(axis=1) == 1)[0]
        y = Y[rows].argmax(axis=1)
        decisions = rows < n
        self.classes_ = np.unique(y)
        self.calibration_ = np.tile(np.array([[1.0, 0.0]]), (k, 1))
        self.calibrated_ = np.zeros(k, dtype=bool)
        self.thresholds_ = np.full(k, self.min_probability, dtype=float)
        self.models_ = [None]
        if len(self.classes_) < 2:
            self.C_ = self.C
            return

        def model(C: float) -> LogisticRegression:
            return LogisticRegression(C=C, class_weight=self.class_weight, max_iter=2000)

        counts = np.bincount(y[decisions], minlength=k)[self.classes_]
        folds = min(self.cv, int(counts.min())) if decisions.any() else 0
        self.C_ = float(self.C)
        if folds >= 2:
            best = (np.inf, self.C)
            oof_best = None
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            held = np.nonzero(decisions)[0]
            splits = list(splitter.split(np.zeros(len(held)), y[held]))
            for C in EXCLUSIVE_C:
                oof = np.zeros((len(held), len(self.classes_)))
                for train, test in splits:
                    keep = np.r_[held[train], np.nonzero(~decisions)[0]]  # the codebook's rows always train
                    fitted = model(C).fit(features[rows[keep]], y[keep])
                    probs = np.zeros((len(test), len(self.classes_)))
                    probs[:, np.searchsorted(self.classes_, fitted.classes_)] = fitted.predict_proba(
                        features[rows[held[test]]])
                    oof[test] = probs
                loss = log_loss(np.searchsorted(self.classes_, y[held]), np.clip(oof, 1e-9, 1),
                                labels=np.arange(len(self.classes_)))
                if loss < best[0]:
                    best, oof_best = (loss, C), oof
            self.C_ = float(best[1])
            scores = np.zeros((len(held), k), dtype=np.float32)
            scores[:, self.classes_] = oof_best
            self.oof_scores_[rows[held]] = scores
        self.models_ = [model(self.C_).fit(features[rows], y)]

    def _fit_per_code(self, features: Any, Y: np.ndarray, n: int) -> None:
        """One calibrated binary model per code (multi-label)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        k = len(self.codes_)
        self.models_ = [None] * k
        self.classes_ = np.arange(k)
        self.C_ = float(self.C)
        self.calibration_ = np.tile(np.array([[1.0, 0.0]]), (k, 1))
        self.calibrated_ = np.zeros(k, dtype=bool)
        self.thresholds_ = np.full(k, self.threshold, dtype=float)
        for j in range(k):
            rows = np.nonzero(Y[:, j] >= 0)[0]
            labels = Y[rows, j].astype(int)
            decided = rows < n
            positives, negatives = int(labels[decided].sum()), int(decided.sum() - labels[decided].sum())
            if positives == 0 or negatives == 0:
                continue  # a code no decision has both taught and ruled out yet scores 0 (the prior decides)
            X_j = features[rows]

            # The dual problem is much faster while features outnumber examples (text features do).
            dual = X_j.shape[1] > X_j.shape[0]

            def model(dual: bool = dual) -> LogisticRegression:
                return LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear",
                                          dual=dual, max_iter=1000)

            self.models_[j] = model().fit(X_j, labels)
            folds = min(self.cv, positives, negatives)
            if folds >= 2 and min(positives, negatives) >= self.min_calibration:
                held = np.nonzero(decided)[0]
                material = np.nonzero(~decided)[0]
                decision = np.zeros(len(held))
                splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
                for train, test in splitter.split(np.zeros(len(held)), labels[held]):
                    keep = np.r_[held[train], material]
                    decision[test] = model().fit(X_j[keep], labels[keep]).decision_function(X_j[held[test]])
                platt = LogisticRegression(C=100.0).fit(decision[:, None], labels[held])
                a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
                if a <= 0:
                    # Held-out scores carry no signal yet (too few, too varied examples); a non-positive
                    # slope would invert the model, so keep the raw sigmoid until decisions accumulate.
                    continue
                self.calibration_[j] = (a, b)
                self.calibrated_[j] = True
                probs = expit(a * decision + b)
                self.oof_scores_[rows[held], j] = probs
                self.thresholds_[j] = best_threshold(probs, labels[held], prior=self.threshold,
                                                    strength=self.threshold_shrinkage)

    # ------------------------------------------------------------------ scoring
    def _probabilities(self, features: Any) -> np.ndarray:
        scores = np.zeros((features.shape[0], len(self.codes_)), dtype=np.float32)
        if self.exclusive_:
            if self.models_[0] is not None:
                scores[:, self.classes_[self.models_[0].classes_]] = self.models_[0].predict_proba(features)
            elif len(self.classes_):
                scores[:, self.classes_[0]] = 1.0
            return scores
        for j, model in enumerate(self.models_):
            if model is None:
                continue
            decision = model.decision_function(features)
            a, b = self.calibration_[j]
            scores[:, j] = expit(a * decision + b)
        return scores

    def _coefficients(self, j: int) -> np.ndarray | None:
        """Weights that push a text towards code ``j`` (for explanations)."""
        if self.exclusive_:
            model = self.models_[0]
            if model is None or j not in set(self.classes_[model.classes_].tolist()):
                return None
            position = int(np.nonzero(self.classes_[model.classes_] == j)[0][0])
            coef = model.coef_
            return coef[0] if coef.shape[0] == 1 and position == 1 else (-coef[0] if coef.shape[0] == 1 else coef[position])
        model = self.models_[j]
        return None if model is None else model.coef_[0]

    def _selected(self, scores: np.ndarray, threshold: float | None, top_k: int | None) -> np.ndarray:
        if not getattr(self, "exclusive_", False) or top_k is not None or threshold is not None:
            return super()._selected(scores, threshold, top_k)
        return exclusive_choice(scores, np.asarray(self.thresholds_))

    def _score_batch(self, batch: Batch) -> Scored:
        if batch.nlp is None:
            batch.nlp = self.nlp_
        features = self._features(batch)
        scores = self._probabilities(features)
        vocabulary = self.vectorizer_.get_feature_names_out() if self.vectorizer_ is not None else None
        offset, end = self.blocks_.get("words", (0, 0))
        # "yeah" or "for my" may carry weight in a small model but explain nothing to a researcher.
        stop = english_stopwords()

        def explain(i: int, j: int) -> Explanation:
            decisions = int(self.n_positive_[j] + self.n_negative_[j])
            phrase = f"learned from {decisions} decisions (probability {scores[i, j]:.2f})"
            evidence: list[tuple[int, int]] = []
            coefs = self._coefficients(j)
            if vocabulary is not None and coefs is not None:
                row = features[i]
                tfidf_cols = row.indices[(row.indices >= offset) & (row.indices < end)]
                contributions = coefs[tfidf_cols] * row[0, tfidf_cols].toarray()[0] if len(tfidf_cols) else []
                order = np.argsort(-np.asarray(contributions)) if len(tfidf_cols) else []
                terms = [term for term in (str(vocabulary[tfidf_cols[o] - offset]) for o in order if contributions[o] > 0)
                         if not stop.issuperset(term.split())][:3]
                found = top_terms(batch.texts[i], terms, limit=2)
                if found:
                    phrase += "; words " + ", ".join(f'"{t}"' for t, _ in found)
                    evidence = [span for _, span in found]
            return Explanation(evidence, [phrase])

        return Scored(scores, explain, origin="learned")


def exclusive_choice(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """One code per row: the best-scoring one, if it reaches its threshold (else none: uncoded).

    Example:
        >>> exclusive_choice(np.array([[0.2, 0.7], [0.4, 0.3], [0.0, 0.0]]), np.array([0.5, 0.5])).tolist()
        [[False, True], [False, False], [False, False]]
    """
    chosen = np.zeros(scores.shape, dtype=bool)
    if not scores.size:
        return chosen
    best = np.argmax(scores, axis=1)
    rows = np.arange(len(scores))
    chosen[rows, best] = (scores[rows, best] >= thresholds[best]) & (scores[rows, best] > 0)
    return chosen
