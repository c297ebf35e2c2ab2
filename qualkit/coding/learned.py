"""Learned coder: one calibrated classifier per code, trained on the researcher's decisions.

Features are the segment's sentence embedding (MiniLM, or TF-IDF/LSA without it) next to TF-IDF word
n-grams, so a handful of examples already generalise through the embedding while specific wording is
picked up as decisions accumulate. Each code gets a class-balanced logistic regression; when a code has
enough examples, out-of-fold predictions (stratified cross-validation) calibrate its probabilities
(Platt scaling) and choose its threshold (best F1, shrunk towards 0.5 while examples are few).

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
    resolve_embedder,
    sentence_texts,
    top_terms,
)
from qualkit.errors import InvalidInput
from qualkit.nlp import english_stopwords


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
    """Per-code calibrated logistic regressions on embedding + TF-IDF features, trained from decisions.

    Parameters:
        codebook: the codes to learn (codable codes; codes without examples score 0).
        embedder: ``"auto"``, ``"minilm"``, ``"lsa"``, an embedder object, or ``None`` for TF-IDF only.
        tfidf: add TF-IDF word uni- and bigrams to the features.
        char_ngrams: add TF-IDF character 2-5-grams (within words), robust to spelling and inflection.
        C: inverse regularisation strength of each logistic regression.
        embedding_weight: scale of the embedding block relative to the TF-IDF block.
        cv: folds for out-of-fold calibration and thresholds (fewer when a code has fewer examples).
        min_calibration: positives (and negatives) a code needs before it is calibrated and its threshold tuned.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> LearnedCoder(Codebook("m", [Code("a", "A")])).get_params()["cv"]
        5
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "tfidf": ["boolean"], "char_ngrams": ["boolean"], "C": [POSITIVE], "embedding_weight": [NON_NEGATIVE],
        "class_weight": [None, StrOptions({"balanced"}), dict], "cv": [FOLDS],
        "min_calibration": [NON_NEGATIVE_INT], "threshold": [UNIT_INTERVAL], "random_state": ["random_state"],
        "code_moderators": ["boolean"],
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
        self.random_state = random_state
        self.code_moderators = code_moderators
        self.nlp = nlp

    # ------------------------------------------------------------------ features
    def _features(self, batch: Batch, *, fit: bool = False) -> Any:
        """The feature matrix: [embedding | word TF-IDF | character TF-IDF]; ``fit`` learns the vocabularies."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        blocks = []
        texts = [t if a else "" for t, a in zip(batch.texts, batch.active, strict=True)]
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
            add("embedding", sparse.csr_matrix(batch.unit_vectors(self.embedder_)[2] * self.embedding_weight))
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

    def fit(self, X: Iterable[Item], y: Any) -> LearnedCoder:
        """Train one classifier per code from labelled texts or segments (see :func:`label_matrix` for ``y``)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        self._validate_parameters()
        codebook = self._check_codebook()
        if y is None:
            raise InvalidInput("the learned coder needs labels", fix="pass y: one list of code ids per text")
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp_ = load_nlp()
        else:
            self.nlp_ = self.nlp
        self.codes_ = np.array([c.id for c in codebook.codable_codes], dtype=object)
        self.codebook_version_ = codebook.version
        batch = self._build_batch(X)
        if batch.nlp is None:
            batch.nlp = self.nlp_
        Y = label_matrix(y, list(self.codes_), len(batch))
        Y[~batch.active] = -1
        self.embedder_ = None if self.embedder is None else resolve_embedder(self.embedder, sentence_texts(batch))
        features = self._features(batch, fit=True)
        k = len(self.codes_)
        self.models_: list[Any] = [None] * k
        self.calibration_ = np.tile(np.array([[1.0, 0.0]]), (k, 1))
        self.calibrated_ = np.zeros(k, dtype=bool)
        self.thresholds_ = np.full(k, self.threshold, dtype=float)
        self.n_positive_ = ((Y == 1).sum(axis=0)).astype(int)
        self.n_negative_ = ((Y == 0).sum(axis=0)).astype(int)
        self.oof_scores_ = np.full(Y.shape, np.nan, dtype=np.float32)
        for j in range(k):
            rows = np.nonzero(Y[:, j] >= 0)[0]
            labels = Y[rows, j].astype(int)
            positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
            if positives == 0 or negatives == 0:
                continue
            X_j = features[rows]

            # The dual problem is much faster while features outnumber examples (text features do).
            dual = X_j.shape[1] > X_j.shape[0]

            def model(dual: bool = dual) -> LogisticRegression:
                return LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear",
                                          dual=dual, max_iter=1000)

            self.models_[j] = model().fit(X_j, labels)
            folds = min(self.cv, positives, negatives)
            if folds >= 2 and min(positives, negatives) >= self.min_calibration:
                decision = np.zeros(len(rows))
                splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
                for train, test in splitter.split(np.zeros(len(rows)), labels):
                    decision[test] = model().fit(X_j[train], labels[train]).decision_function(X_j[test])
                platt = LogisticRegression(C=100.0).fit(decision[:, None], labels)
                a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
                if a <= 0:
                    # Held-out scores carry no signal yet (too few, too varied examples); a non-positive
                    # slope would invert the model, so keep the raw sigmoid until decisions accumulate.
                    continue
                self.calibration_[j] = (a, b)
                self.calibrated_[j] = True
                probs = expit(a * decision + b)
                self.oof_scores_[rows, j] = probs
                self.thresholds_[j] = best_threshold(probs, labels, prior=self.threshold)
        return self

    def _probabilities(self, features: Any) -> np.ndarray:
        scores = np.zeros((features.shape[0], len(self.codes_)), dtype=np.float32)
        for j, model in enumerate(self.models_):
            if model is None:
                continue
            decision = model.decision_function(features)
            a, b = self.calibration_[j]
            scores[:, j] = expit(a * decision + b)
        return scores

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
            phrase = f"learned from {decisions} decisions ({scores[i, j]:.2f})"
            evidence: list[tuple[int, int]] = []
            model = self.models_[j]
            if vocabulary is not None and model is not None:
                row = features[i]
                coefs = model.coef_[0]
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
