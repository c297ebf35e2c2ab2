"""Fitting: defaults scaled to corpus size, BERTopic with our own components, a scikit-learn fallback.

BERTopic is given everything as objects (qualkit's embedder wrapped in its ``BaseEmbedder``, a PCA or
UMAP reducer, an HDBSCAN or KMeans clusterer, a lemmatising unigram vectorizer), never a model name,
and is imported lazily inside a ``warnings.catch_warnings`` block so that its import-time warning
filters do not leak into the caller's session. Without BERTopic the same reducer and clusterer run
directly (then ``sklearn.cluster.HDBSCAN`` instead of the ``hdbscan`` package). Themes from the
codebook's definitions (:func:`assign_to_codes`) are set aside before either engine clusters the rest.

Defaults by corpus size ``n`` (documents after splitting), measured with ``python -m bench.topics``:

- Reduction: PCA to 10 dimensions at every size (:data:`DEFAULT_REDUCTION`); UMAP (5 dimensions,
  cosine, seeded) stays available with ``reduction="umap"``. On the planted corpora PCA themes agreed
  better with the planted labels at every size and with both embedders (adjusted Rand index with
  MiniLM 0.78 vs 0.54 at 2,000 sentences, 0.82 vs 0.30 at 10,000, 0.80 vs 0.42 at 50,000; with LSA
  0.65 vs 0.62, 0.63 vs 0.34, 0.66 vs 0.54) and recovered as many planted themes or more, while
  seeded (hence single-threaded) UMAP took 5-25 times longer to fit. On the demo study UMAP gained
  little (with guidance, MiniLM: 22 of 24 codes matched either way, 13 vs 12 of them supported by the
  gold coding; LSA: 19 vs 17 matched, 6 supported either way) and left more sentences unassigned, so in
  our measurements UMAP never paid for its cost. PCA + HDBSCAN often finds one blob in real talk (the
  demo study); KMeans then cuts it (:class:`ThemeClusterer`), which also leaves no outliers. The static
  tier keeps 40 PCA dimensions instead of 10 (:data:`PCA_DIMS_BY_KIND`).
- Above :data:`MAX_FIT_SIZE` documents HDBSCAN clusters a seeded sample of that size (cluster sizes scaled
  to it) and every other document takes the label of its nearest sampled document.
- HDBSCAN ``min_cluster_size = clip(round(n / 100), 5, 500)``: a theme holds at least 1% of the talk
  (5 documents at 150, 14 at the demo's 1,400, 100 at 10,000, 500 at 50,000), so the number of themes
  stays readable (a square-root rule gave 106 themes at 10,000 planted sentences);
  ``min_samples = max(2, min_cluster_size // 4)`` so fewer documents start as outliers. Afterwards
  outliers join their nearest theme until at most 15% remain.

Example:
    >>> default_settings(150)["min_cluster_size"], default_settings(5_000)["reduction"]
    (5, 'pca')
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin, clone

from qualkit.embeddings import Embedder
from qualkit.errors import InvalidInput, MissingDependency

DEFAULT_REDUCTION = "pca"
REDUCTIONS = {"pca": 10, "umap": 5}  # reduction -> dimensions kept
# The static tier's vectors spread their variance over more directions than MiniLM's. On planted corpora of a
# development seed (seed 1; the benchmark reports seed 0) at 2k/10k/50k its ARI was 0.67/0.65/0.64 with 10 PCA
# dimensions, 0.75/0.75/0.79 with 30 and 0.75/0.80/0.83 with 40, against MiniLM's 0.78/0.79 at 2k/10k with 10.
# MiniLM keeps 10 (30 gave it 0.77/0.81: no consistent gain).
PCA_DIMS_BY_KIND = {"static": 40}
# HDBSCAN's cost grows fast with corpus size and dimensions (in 30 dimensions at 50,000 documents it took most
# of a minute); above this many documents it clusters a seeded sample and the rest follow their nearest sample.
MAX_FIT_SIZE = 20_000
UMAP_MAP_UP_TO = 20_000  # a UMAP run draws its theme map with a 2-D UMAP up to this many documents
MAX_THEME_SHARE = 0.5
MAX_CLUSTERED_OUTLIERS = 0.5
BERTOPIC_PIP = "pip install 'qualkit[topics]' && pip install --no-deps bertopic==0.17.4"


def bertopic_available() -> bool:
    """True when BERTopic can be imported (``sys.modules["bertopic"] = None`` counts as missing).

    Example:
        >>> isinstance(bertopic_available(), bool)
        True
    """
    try:
        with warnings.catch_warnings():
            _ignore_import_noise()
            import bertopic  # noqa: F401
    except ImportError:
        return False
    return True


def default_settings(n_docs: int, *, reduction: str = "auto", kind: str | None = None) -> dict[str, Any]:
    """Reduction, clustering and outlier settings for a corpus of ``n_docs`` documents.

    ``reduction`` is ``"auto"`` (:data:`DEFAULT_REDUCTION`), ``"pca"`` or ``"umap"``; ``kind`` is the
    embedder's kind (PCA keeps :data:`PCA_DIMS_BY_KIND` dimensions for the static tier).

    Example:
        >>> s = default_settings(2_000)
        >>> s["reduction"], s["n_components"], s["min_cluster_size"], s["min_samples"]
        ('pca', 10, 20, 5)
        >>> default_settings(50_000, kind="static")["n_components"]
        40
    """
    reduction = DEFAULT_REDUCTION if reduction == "auto" else reduction
    if reduction not in REDUCTIONS:
        raise InvalidInput(f"unknown reduction {reduction!r}", fix="use 'pca', 'umap' or 'auto'")
    min_cluster_size = int(np.clip(round(n_docs / 100), 5, 500))
    return {
        "reduction": reduction,
        "n_components": PCA_DIMS_BY_KIND.get(kind or "", REDUCTIONS["pca"]) if reduction == "pca" else REDUCTIONS[reduction],
        "min_cluster_size": min_cluster_size,
        "min_samples": max(2, min_cluster_size // 4),
        "n_themes": None,
        "max_outlier_share": 0.15,
        "top_words": 10,
        "max_fit_size": MAX_FIT_SIZE if n_docs > MAX_FIT_SIZE else None,
    }


def make_reducer(settings: dict[str, Any], n_docs: int, dim: int, random_state: int) -> Any:
    """The dimensionality reducer the settings ask for (PCA or UMAP), sized to the data.

    Example:
        >>> make_reducer({"reduction": "pca", "n_components": 10}, 6, 384, 0).n_components
        5
    """
    n_components = max(1, min(int(settings["n_components"]), dim, n_docs - 1))
    if settings["reduction"] == "umap":
        if importlib.util.find_spec("umap") is None:
            raise MissingDependency("umap-learn", extra="topics")
        from umap import UMAP

        # random_state makes UMAP single-threaded, and reproducible
        return UMAP(n_neighbors=min(15, n_docs - 1), n_components=n_components, min_dist=0.0, metric="cosine",
                    random_state=random_state, n_jobs=1, low_memory=True)
    if settings["reduction"] not in REDUCTIONS:
        raise InvalidInput(f"unknown reduction {settings['reduction']!r}", fix="use 'pca', 'umap' or 'auto'")
    from sklearn.decomposition import PCA

    return PCA(n_components=n_components, random_state=random_state)


class ThemeClusterer(ClusterMixin, BaseEstimator):
    """HDBSCAN sized to the corpus and kept from one-blob answers; KMeans when it fails or for ``n_themes``.

    HDBSCAN's excess-of-mass selection is fragile on sentence embeddings of real talk: on the demo study,
    dropping 63 of 1,402 sentences turned 27 themes into one cluster holding 93% of them. A cluster may
    therefore hold at most half of the documents (``max_cluster_size``). When HDBSCAN still finds fewer
    than two themes or leaves more than half the documents unassigned (typical after PCA), KMeans cuts the
    documents into ``clip(round(sqrt(n) / 2), 2, 40)`` themes instead (``method_`` says which ran).
    Follows BERTopic's clustering interface (``fit``, ``labels_``) and scikit-learn's estimator rules
    (``get_params``/``clone`` work; learned state ends in ``_``).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = np.vstack([rng.normal(0, .1, (20, 2)), rng.normal(3, .1, (20, 2))])
        >>> c = ThemeClusterer(min_cluster_size=5, min_samples=2).fit(x)
        >>> c.method_, len(set(c.labels_))
        ('hdbscan', 2)
    """

    def __init__(self, *, min_cluster_size: int = 10, min_samples: int = 2, n_themes: int | None = None,
                 random_state: int = 0, prefer_hdbscan_package: bool = True,
                 max_fit_size: int | None = None) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.n_themes = n_themes
        self.random_state = random_state
        self.prefer_hdbscan_package = prefer_hdbscan_package
        self.max_fit_size = max_fit_size

    def _kmeans(self, x: np.ndarray, k: int) -> np.ndarray:
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=max(1, min(k, len(x))), n_init=10, random_state=self.random_state).fit(x).labels_

    def fit(self, x: np.ndarray, y: Any = None) -> ThemeClusterer:
        """Cluster ``x``; ``labels_`` holds a theme per row (-1 for HDBSCAN outliers)."""
        x = np.asarray(x)
        if self.n_themes:
            self.method_, self.labels_ = "kmeans", self._kmeans(x, int(self.n_themes))
            return self
        if self.max_fit_size and len(x) > self.max_fit_size:
            return self._fit_sample(x)
        size = max(2, min(int(self.min_cluster_size), len(x)))
        samples = max(1, min(int(self.min_samples), size))
        largest = max(size + 1, int(np.ceil(MAX_THEME_SHARE * len(x))))
        if self.prefer_hdbscan_package and importlib.util.find_spec("hdbscan") is not None:
            from hdbscan import HDBSCAN

            labels = HDBSCAN(min_cluster_size=size, min_samples=samples, max_cluster_size=largest).fit(x).labels_
        else:
            from sklearn.cluster import HDBSCAN as SkHDBSCAN

            labels = SkHDBSCAN(min_cluster_size=size, min_samples=samples, max_cluster_size=largest,
                               copy=True).fit(x).labels_
        labels = np.asarray(labels)
        themes = len(set(labels.tolist()) - {-1})
        if themes < 2 or (labels == -1).mean() > MAX_CLUSTERED_OUTLIERS:
            k = int(np.clip(round(np.sqrt(len(x)) / 2), 2, 40))
            self.method_, self.labels_ = "kmeans", self._kmeans(x, k)
        else:
            self.method_, self.labels_ = "hdbscan", np.asarray(labels)
        return self

    def _fit_sample(self, x: np.ndarray) -> ThemeClusterer:
        """Cluster a seeded random sample of ``max_fit_size`` rows (sizes scaled to it); every other row takes
        the label of its nearest sampled row, an outlier's included, so shares and outliers carry over."""
        from sklearn.neighbors import KNeighborsClassifier

        rng = np.random.default_rng(self.random_state)
        sample = np.sort(rng.choice(len(x), size=int(self.max_fit_size), replace=False))
        scale = len(sample) / len(x)
        inner = clone(self).set_params(max_fit_size=None,
                                       min_cluster_size=max(2, round(self.min_cluster_size * scale)),
                                       min_samples=max(1, round(self.min_samples * scale))).fit(x[sample])
        rest = np.setdiff1d(np.arange(len(x)), sample)
        labels = np.empty(len(x), dtype=int)
        labels[sample] = inner.labels_
        labels[rest] = KNeighborsClassifier(n_neighbors=1).fit(x[sample], inner.labels_).predict(x[rest])
        self.method_, self.labels_ = inner.method_, labels
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """BERTopic calls this only for new documents; qualkit never does."""
        raise NotImplementedError("ThemeClusterer assigns only the documents it was fitted on")


def make_clusterer(settings: dict[str, Any], n_docs: int, random_state: int, *, prefer_hdbscan_package: bool) -> Any:
    """The :class:`ThemeClusterer` the settings ask for.

    Example:
        >>> make_clusterer({"n_themes": 3, "min_cluster_size": 5, "min_samples": 2}, 100, 0,
        ...                prefer_hdbscan_package=False).n_themes
        3
    """
    return ThemeClusterer(min_cluster_size=int(settings["min_cluster_size"]), min_samples=int(settings["min_samples"]),
                          n_themes=settings.get("n_themes"), random_state=random_state,
                          prefer_hdbscan_package=prefer_hdbscan_package, max_fit_size=settings.get("max_fit_size"))


class Unsupervised(TransformerMixin, BaseEstimator):
    """Wrap a reducer: fit without labels, and reuse the fitted layout for training rows.

    UMAP's ``transform`` of training points lands elsewhere than their fitted coordinates, so this
    wrapper returns the fitted coordinates of rows it has seen (documents set aside for a code's theme
    are placed with the wrapped reducer's ``transform``). It ignores any labels passed to ``fit`` (so
    nothing can make UMAP semi-supervised). A scikit-learn estimator: ``clone`` gives an unfitted copy.

    Example:
        >>> from sklearn.decomposition import PCA
        >>> x = np.eye(3)
        >>> r = Unsupervised(PCA(2))
        >>> bool(np.allclose(r.fit_transform(x, y=[0, 1, -1])[1:], r.transform(x[1:])))
        True
    """

    def __init__(self, reducer: Any = None) -> None:
        self.reducer = reducer

    def fit(self, x: np.ndarray, y: Any = None) -> Unsupervised:
        """Fit the wrapped reducer on ``x`` alone."""
        self.fit_transform(x)
        return self

    def fit_transform(self, x: np.ndarray, y: Any = None) -> np.ndarray:
        """Fit on ``x`` alone and return (and remember) the reduced data."""
        if self.reducer is None:
            raise InvalidInput("Unsupervised needs a reducer", fix="pass e.g. Unsupervised(PCA(10))")
        x = np.ascontiguousarray(x)
        self.reducer_ = clone(self.reducer)
        self.embedding_ = np.asarray(self.reducer_.fit_transform(x))
        self.rows_ = {row.tobytes(): i for i, row in enumerate(x)}
        return self.embedding_

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Fitted coordinates for rows seen in ``fit``; the wrapped reducer's transform otherwise."""
        x = np.ascontiguousarray(x)
        index = [self.rows_.get(row.tobytes()) for row in x]
        if all(i is not None for i in index):
            return self.embedding_[index]
        out = np.asarray(self.reducer_.transform(x), dtype=self.embedding_.dtype)
        seen = [k for k, i in enumerate(index) if i is not None]
        out[seen] = self.embedding_[[index[k] for k in seen]]
        return out


def _backend(embedder: Embedder) -> Any:
    """Wrap a qualkit embedder in BERTopic's ``BaseEmbedder`` so BERTopic never picks a model by name."""
    from bertopic.backend import BaseEmbedder

    class QualkitBackend(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return np.asarray(embedder.encode(list(documents)), dtype=np.float32)

    return QualkitBackend()


def fit_bertopic(
    texts: Sequence[str],
    embeddings: np.ndarray,
    settings: dict[str, Any],
    *,
    embedder: Embedder,
    random_state: int,
) -> tuple[np.ndarray, Unsupervised, str]:
    """Fit BERTopic with qualkit's components; return the topic per document (-1: outlier), the fitted
    reducer (an :class:`Unsupervised`) and which clustering ran (``hdbscan`` or ``kmeans``).

    Theme words are recomputed from the documents by :func:`qualkit.themes.words.theme_words` (they must
    be recomputable after an edit, without the model), so BERTopic only gets a cheap unigram vectorizer:
    its own topic words are not used. Only known, harmless warnings are silenced; anything UMAP, HDBSCAN
    or BERTopic warns about otherwise reaches the caller.

    Example:
        >>> fit_bertopic  # doctest: +ELLIPSIS
        <function fit_bertopic at ...>
    """
    with warnings.catch_warnings():  # BERTopic sets global warning filters on import; keep them local
        _ignore_import_noise()
        from bertopic import BERTopic
        from bertopic.vectorizers import ClassTfidfTransformer

    from sklearn.feature_extraction.text import CountVectorizer

    from qualkit.themes.words import LemmaTokenizer

    reducer = Unsupervised(make_reducer(settings, len(texts), embeddings.shape[1], random_state))
    clusterer = make_clusterer(settings, len(texts), random_state, prefer_hdbscan_package=True)
    model = BERTopic(
        embedding_model=_backend(embedder),
        umap_model=reducer,
        hdbscan_model=clusterer,
        # Unigrams only, no bigrams: BERTopic joins a topic's documents into one text before counting, and
        # its words are replaced by qualkit's anyway (theme_words), so this only has to be cheap.
        vectorizer_model=CountVectorizer(analyzer=LemmaTokenizer(bigrams=False)),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=int(settings["top_words"]),
        calculate_probabilities=False,
        verbose=False,
    )
    with warnings.catch_warnings():
        _ignore_fit_noise()
        topics, _ = model.fit_transform(list(texts), embeddings=embeddings.copy())
    return np.asarray(topics, dtype=int), model.umap_model, clusterer.method_


def _ignore_import_noise() -> None:
    """Warnings the optional packages print on import that say nothing about the user's data."""
    warnings.filterwarnings("ignore", message="Tensorflow not installed", category=ImportWarning)
    warnings.filterwarnings("ignore", message="SOCKS support in urllib3")


def _ignore_fit_noise() -> None:
    """Known noise during a fit: UMAP's note that a seed makes it single-threaded (qualkit seeds on
    purpose) and the deprecation notes umap-learn and hdbscan trigger in scikit-learn."""
    warnings.filterwarnings("ignore", message="n_jobs value .* overridden", category=UserWarning)
    warnings.filterwarnings("ignore", message=".*force_all_finite", category=FutureWarning)


def fit_sklearn(
    embeddings: np.ndarray, settings: dict[str, Any], *, random_state: int
) -> tuple[np.ndarray, Unsupervised, str]:
    """The path without BERTopic: reduce (PCA, or UMAP if installed), cluster (scikit-learn's HDBSCAN, or
    KMeans); return labels, the fitted reducer (an :class:`Unsupervised`) and which clustering ran.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = np.vstack([rng.normal(0, .1, (20, 4)), rng.normal(3, .1, (20, 4))])
        >>> labels, _, method = fit_sklearn(x, {"reduction": "pca", "n_components": 2, "min_cluster_size": 5,
        ...                                     "min_samples": 2, "n_themes": None}, random_state=0)
        >>> len(set(labels.tolist()) - {-1})
        2
    """
    reducer = Unsupervised(make_reducer(settings, len(embeddings), embeddings.shape[1], random_state))
    with warnings.catch_warnings():
        _ignore_fit_noise()
        reduced = np.nan_to_num(reducer.fit_transform(embeddings))
        clusterer = make_clusterer(settings, len(embeddings), random_state,
                                   prefer_hdbscan_package=False).fit(reduced)
    return np.asarray(clusterer.labels_, dtype=int), reducer, clusterer.method_


def assign_to_codes(
    embeddings: np.ndarray, code_matrix: np.ndarray, *, min_similarity: float, min_size: int
) -> np.ndarray:
    """Zero-shot themes from the codebook: the code (row of ``code_matrix``) each document is set aside
    for, or -1.

    A document goes to its nearest code prototype (the normalised mean embedding of the code's name and
    definition, examples and cues: :func:`qualkit.themes.describe.code_vectors`) when the cosine
    similarity is at least ``min_similarity``; a code keeps its documents only when it gathered at least
    ``min_size`` of them (as many as any theme needs), otherwise they go back to clustering.

    Example:
        >>> e = np.array([[1, 0], [.9, .1], [0, 1], [.6, .8]], dtype=np.float32)
        >>> assign_to_codes(e, np.array([[1., 0.], [0., 1.]]), min_similarity=0.9, min_size=2).tolist()
        [0, 0, -1, -1]
    """
    if not len(code_matrix) or not len(embeddings):
        return np.full(len(embeddings), -1, dtype=int)
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    similarity = (embeddings / norms) @ np.asarray(code_matrix, dtype=embeddings.dtype).T
    labels = np.where(similarity.max(axis=1) >= min_similarity, similarity.argmax(axis=1), -1)
    for code in set(labels.tolist()) - {-1}:
        if (labels == code).sum() < min_size:
            labels[labels == code] = -1
    return labels.astype(int)


def centroids(embeddings: np.ndarray, labels: np.ndarray, themes: Sequence[int]) -> np.ndarray:
    """L2-normalised mean embedding of each theme in ``themes``.

    Example:
        >>> centroids(np.eye(2, dtype=np.float32), np.array([0, 0]), [0]).astype(float).round(3).tolist()
        [[0.707, 0.707]]
    """
    out = np.zeros((len(themes), embeddings.shape[1]), dtype=np.float32)
    for row, theme in enumerate(themes):
        members = embeddings[labels == theme]
        if len(members):
            out[row] = members.mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


def reassign_outliers(
    embeddings: np.ndarray, labels: np.ndarray, *, max_share: float = 0.15, min_similarity: float = 0.0
) -> np.ndarray:
    """Give outliers (-1) their nearest theme until at most ``max_share`` of documents stay unassigned.

    Outliers at least ``min_similarity`` (cosine) from a theme centroid always join it; if more than
    ``max_share`` still remain, the most similar of them join too. BERTopic's ``reduce_outliers`` takes
    a fixed threshold only, so this picks the threshold from the data instead.

    Example:
        >>> e = np.array([[1, 0], [1, .1], [0, 1], [.1, 1], [.7, .7]], dtype=np.float32)
        >>> reassign_outliers(e, np.array([0, -1, 1, 1, -1]), max_share=0.2).tolist()
        [0, 0, 1, 1, -1]
    """
    labels = labels.copy()
    outliers = np.flatnonzero(labels == -1)
    themes = sorted(set(labels.tolist()) - {-1})
    if not len(outliers) or not themes:
        return labels
    norms = np.linalg.norm(embeddings[outliers], axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    similarity = (embeddings[outliers] / norms) @ centroids(embeddings, labels, themes).T
    best, score = similarity.argmax(axis=1), similarity.max(axis=1)
    allowed = int(np.floor(max_share * len(labels)))
    order = np.argsort(-score, kind="stable")
    must_join = max(0, len(outliers) - allowed)
    join = np.zeros(len(outliers), dtype=bool)
    join[order[:must_join]] = True
    join |= score >= min_similarity if min_similarity > 0 else False
    labels[outliers[join]] = np.asarray(themes)[best[join]]
    return labels


def by_size(labels: np.ndarray, *, keep: dict[int, int] | None = None) -> tuple[np.ndarray, dict[int, int]]:
    """Renumber themes 0, 1, ... from the largest down (ties: first document first); -1 stays -1.

    Returns the new labels and the old -> new mapping.

    Example:
        >>> by_size(np.array([5, 2, 2, -1, 5, 2]))[0].tolist()
        [1, 0, 0, -1, 1, 0]
    """
    themes = [t for t in dict.fromkeys(labels.tolist()) if t != -1]
    sizes = {t: int((labels == t).sum()) for t in themes}
    order = sorted(themes, key=lambda t: (-sizes[t], themes.index(t)))
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping.get(t, -1) for t in labels.tolist()], dtype=int), mapping
