"""Researchers' edits to a theme result: merge, split (re-fit a sub-corpus), rename, discard.

Each edit returns a new :class:`~qualkit.themes.result.ThemeResult` (the input is left untouched), with
the themes re-described from the stored embeddings and texts (no fitted model or embedder needed) and
the edit appended to ``result.edits``; :mod:`qualkit.themes.runs` saves it with the project.

Example:
    >>> from qualkit.themes.discover import discover_themes
    >>> from qualkit.themes.synthetic import planted_corpus
    >>> r = discover_themes(planted_corpus(200, seed=3).segments, engine="sklearn", n_themes=4)
    >>> merged = merge(r, [0, 1])
    >>> len(merged.active), merged.edits[-1]["action"]
    (3, 'merge')
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from qualkit.errors import InvalidInput
from qualkit.themes.describe import describe_themes
from qualkit.themes.fit import default_settings, fit_sklearn, reassign_outliers
from qualkit.themes.result import Theme, ThemeResult

MAX_SPLIT_PARTS = 6


def redescribe(result: ThemeResult, labels: np.ndarray, edit: dict[str, Any] | None = None,
               overrides: dict[int, dict[str, Any]] | None = None) -> ThemeResult:
    """Re-describe all themes for new document assignments, keeping researchers' decisions.

    ``overrides`` updates the kept decisions of some themes (e.g. a new label, a status, history).

    Example:
        >>> redescribe  # doctest: +ELLIPSIS
        <function redescribe at ...>
    """
    previous = {t.id: dataclasses.asdict(t) for t in result.themes}
    for theme_id, changes in (overrides or {}).items():
        previous[theme_id] = {**previous.get(theme_id, {"id": theme_id}), **changes}
    docs = result.documents.copy()
    docs["theme"] = labels
    themes, similarity = describe_themes(
        docs, result.embeddings, labels, settings=result.settings, code_ids=result.code_ids,
        code_matrix=result.code_vectors, codebook_names=result.settings.get("codebook_names", {}),
        previous=previous)
    docs["similarity"] = similarity
    edits = [*result.edits, edit] if edit else list(result.edits)
    return dataclasses.replace(result, themes=[Theme(**t) for t in themes], documents=docs, edits=edits)


def _check(result: ThemeResult, theme_ids: list[int]) -> None:
    for theme_id in theme_ids:
        if result.theme(theme_id).status == "discarded":
            raise InvalidInput(f"theme {theme_id} was discarded", fix="edit only active themes")


def merge(result: ThemeResult, theme_ids: list[int], *, label: str | None = None) -> ThemeResult:
    """Merge themes into the first id given; the merged theme is re-described (or takes ``label``).

    Example:
        >>> merge  # doctest: +ELLIPSIS
        <function merge at ...>
    """
    ids = [int(t) for t in dict.fromkeys(theme_ids)]
    if len(ids) < 2:
        raise InvalidInput("merging needs at least two theme ids", fix="pass e.g. [2, 5]")
    _check(result, ids)
    target = ids[0]
    labels = result.documents["theme"].to_numpy().copy()
    labels[np.isin(labels, ids)] = target
    history = [*result.theme(target).history, f"merged themes {ids[1:]} into {target}"]
    override: dict[str, Any] = {"history": history}
    if label is not None:
        override["custom_label"] = label
    return redescribe(result, labels, {"action": "merge", "themes": ids, "into": target, "label": label},
                      {target: override})


def split(result: ThemeResult, theme_id: int, *, n: int | None = None) -> ThemeResult:
    """Split a theme by re-fitting its documents alone (``n`` parts, or HDBSCAN with parts of at least
    1/6 of the theme, so 2 to 6 parts; KMeans cuts it in two when density finds no parts).

    Every document of the theme goes to one of the new themes, which get fresh ids.

    Example:
        >>> split  # doctest: +ELLIPSIS
        <function split at ...>
    """
    theme_id = int(theme_id)
    _check(result, [theme_id])
    labels = result.documents["theme"].to_numpy().copy()
    members = np.flatnonzero(labels == theme_id)
    if len(members) < 4:
        raise InvalidInput(f"theme {theme_id} has only {len(members)} documents", fix="split larger themes")
    embeddings = np.asarray(result.embeddings[members], dtype=np.float32)
    # Sized to the sub-corpus, not to a corpus of that many documents (which would allow parts of 5 and
    # cut a 224-document theme into 14): each part holds at least 1/MAX_SPLIT_PARTS of the theme.
    part = max(5, len(members) // MAX_SPLIT_PARTS)
    settings = {**default_settings(len(members), reduction="pca"), "n_themes": n, "min_cluster_size": part,
                "min_samples": max(2, part // 4)}
    random_state = int(result.settings.get("random_state", 0))
    parts, _, method = fit_sklearn(embeddings, settings, random_state=random_state)
    if n is None and (method != "hdbscan" or len(set(parts.tolist()) - {-1}) < 2):
        # density found no parts (the clusterer's KMeans fallback is sized for a corpus): cut it in two
        parts, _, _ = fit_sklearn(embeddings, {**settings, "n_themes": 2}, random_state=random_state)
    parts = reassign_outliers(embeddings, parts, max_share=0.0)
    first = max(t.id for t in result.themes) + 1
    new_ids = {old: first + k for k, old in enumerate(sorted(set(parts.tolist())))}
    labels[members] = [new_ids[p] for p in parts.tolist()]
    note = f"split from theme {theme_id}"
    return redescribe(result, labels, {"action": "split", "theme": theme_id, "into": sorted(new_ids.values()),
                                       "n": n}, {i: {"history": [note]} for i in new_ids.values()})


def rename(result: ThemeResult, theme_id: int, label: str) -> ThemeResult:
    """Give a theme a researcher's label (kept through later edits).

    Example:
        >>> rename  # doctest: +ELLIPSIS
        <function rename at ...>
    """
    if not label.strip():
        raise InvalidInput("a theme label cannot be empty", fix="pass a few words")
    old = result.theme(theme_id).label
    labels = result.documents["theme"].to_numpy()
    return redescribe(result, labels, {"action": "rename", "theme": int(theme_id), "old": old, "label": label},
                      {int(theme_id): {"custom_label": label.strip()}})


def discard(result: ThemeResult, theme_id: int) -> ThemeResult:
    """Mark a theme as noise: its documents become unassigned; the theme stays listed as discarded.

    Example:
        >>> discard  # doctest: +ELLIPSIS
        <function discard at ...>
    """
    theme_id = int(theme_id)
    _check(result, [theme_id])
    theme = result.theme(theme_id)
    labels = result.documents["theme"].to_numpy().copy()
    labels[labels == theme_id] = -1
    history = [*theme.history, f"discarded ({theme.size} documents)"]
    return redescribe(result, labels, {"action": "discard", "theme": theme_id, "size": theme.size},
                      {theme_id: {"status": "discarded", "history": history}})
