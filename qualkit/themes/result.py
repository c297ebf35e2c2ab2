"""The result of theme discovery: themes, the documents they were found in, and how to store them.

A :class:`ThemeResult` is plain data: a list of :class:`Theme`, a documents frame (one row per clustered
sentence/window with offsets, speaker, attributes, ``theme``, ``similarity`` and 2-D map coordinates
``x``/``y``), the document embeddings, the codebook prototype vectors used for matching, and the
settings and library versions of the run. It serialises to JSON plus ``.npz`` bytes (no pickle), which
is how :mod:`qualkit.themes.runs` keeps it in the project store.

Example:
    >>> from qualkit.themes.discover import discover_themes
    >>> from qualkit.themes.synthetic import planted_corpus
    >>> result = discover_themes(planted_corpus(200).segments, engine="sklearn")  # doctest: +SKIP
    >>> result.to_frame()[["id", "label", "size"]].head(2)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import html
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import InvalidInput


@dataclass
class Theme:
    """One emergent theme: label, top words, size, quotes, prevalence by group and nearest codebook codes.

    ``candidate`` is a draft new code (id, name, definition, examples, cues) when no code matches;
    ``status`` is ``active`` or ``discarded``; ``promoted_to`` names the code a researcher made of it;
    ``custom_label`` is a researcher's name for the theme, kept when the theme is re-described.

    Example:
        >>> Theme(id=0, label="inbox, message", words=["inbox", "message"], size=12).status
        'active'
    """

    id: int
    label: str
    words: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    size: int = 0
    share: float = 0.0
    quotes: list[dict[str, Any]] = field(default_factory=list)
    prevalence: dict[str, dict[str, float]] = field(default_factory=dict)
    codes: list[dict[str, Any]] = field(default_factory=list)
    matched_code: str | None = None
    guided_by: str | None = None
    candidate: dict[str, Any] | None = None
    status: str = "active"
    promoted_to: str | None = None
    custom_label: str | None = None
    history: list[str] = field(default_factory=list)


@dataclass
class ThemeResult:
    """Themes found in a corpus, with everything needed to show, edit, store and code them.

    Edits (merge, split, rename, discard) are functions of :mod:`qualkit.themes.edit` that return a new
    result; :mod:`qualkit.themes.runs` saves them with the project.

    Example:
        >>> r = ThemeResult(themes=[], documents=pd.DataFrame({"theme": [-1, -1]}), embeddings=np.zeros((2, 2)))
        >>> r.outlier_share
        1.0
    """

    themes: list[Theme]
    documents: pd.DataFrame
    embeddings: np.ndarray
    code_ids: list[str] = field(default_factory=list)
    code_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    version: int | None = None

    # ------------------------------------------------------------------ reading
    @property
    def active(self) -> list[Theme]:
        """Themes not discarded, largest first."""
        return sorted((t for t in self.themes if t.status != "discarded"), key=lambda t: (-t.size, t.id))

    @property
    def outlier_share(self) -> float:
        """Share of documents that belong to no theme."""
        labels = self.documents["theme"].to_numpy() if len(self.documents) else np.zeros(0)
        return float((labels == -1).mean()) if len(labels) else 0.0

    @property
    def short_dropped(self) -> int:
        """Participant sentences (or windows) left out before fitting for having fewer than ``min_words``
        words ("Yeah, exactly."): they belong to no theme either."""
        return int(self.settings.get("short_dropped", 0))

    @property
    def fitted_share(self) -> float:
        """Share of the participant sentences that were clustered (the rest were too short)."""
        total = len(self.documents) + self.short_dropped
        return len(self.documents) / total if total else 0.0

    @property
    def unthemed_share(self) -> float:
        """Share of all participant sentences with no theme: unassigned documents plus the too-short ones.

        Example:
            >>> r = ThemeResult([], pd.DataFrame({"theme": [0, 0, -1]}), np.zeros((3, 2)), settings={"short_dropped": 1})
            >>> r.outlier_share, r.unthemed_share
            (0.3333333333333333, 0.5)
        """
        total = len(self.documents) + self.short_dropped
        outliers = int((self.documents["theme"] == -1).sum()) if len(self.documents) else 0
        return (outliers + self.short_dropped) / total if total else 0.0

    @property
    def candidates(self) -> list[Theme]:
        """Active themes that match no codebook code: proposals for new codes."""
        return [t for t in self.active if t.candidate is not None]

    def theme(self, theme_id: int) -> Theme:
        """The theme with this id.

        Example:
            >>> ThemeResult([Theme(3, "x")], pd.DataFrame(), np.zeros((0, 2))).theme(3).label
            'x'
        """
        for theme in self.themes:
            if theme.id == int(theme_id):
                return theme
        raise InvalidInput(f"no theme {theme_id} in this result",
                           fix=f"use one of {[t.id for t in self.themes]}")

    def theme_documents(self, theme_id: int) -> pd.DataFrame:
        """The documents of one theme, most typical first."""
        self.theme(theme_id)
        rows = self.documents[self.documents["theme"] == int(theme_id)]
        return rows.sort_values("similarity", ascending=False)

    def to_frame(self, *, include_discarded: bool = False) -> pd.DataFrame:
        """One row per theme: id, label, size, share, top words, best code and similarity, candidate, status.

        Example:
            >>> ThemeResult([Theme(0, "a", words=["a"], size=2)], pd.DataFrame(), np.zeros((0, 2))).to_frame()["label"].tolist()
            ['a']
        """
        themes = self.themes if include_discarded else self.active
        rows = [{"id": t.id, "label": t.label, "size": t.size, "share": t.share, "words": ", ".join(t.words[:8]),
                 "code": t.codes[0]["code_id"] if t.codes else None,
                 "similarity": t.codes[0]["similarity"] if t.codes else None, "matched_code": t.matched_code,
                 "candidate": t.candidate["id"] if t.candidate else None, "status": t.status}
                for t in themes]
        columns = ["id", "label", "size", "share", "words", "code", "similarity", "matched_code", "candidate",
                   "status"]
        return pd.DataFrame(rows, columns=columns)

    def prevalence(self, by: str | None = None) -> pd.DataFrame:
        """Theme prevalence by group: rows are themes, columns the values of ``by``, cells the share of
        that group's documents in the theme (``by`` defaults to the first prevalence attribute).

        Example:
            >>> t = Theme(0, "a", prevalence={"role": {"nurse": 0.5}})
            >>> float(ThemeResult([t], pd.DataFrame(), np.zeros((0, 2))).prevalence("role").loc[0, "nurse"])
            0.5
        """
        by = by or next(iter(self.settings.get("by", [])), None)
        if by is None:
            return pd.DataFrame()
        records = {t.id: t.prevalence.get(by, {}) for t in self.active}
        frame = pd.DataFrame.from_dict(records, orient="index").fillna(0.0)
        frame.index.name, frame.columns.name = "theme", by
        return frame

    def hierarchy(self) -> pd.DataFrame:
        """How active themes group together: an average-linkage tree on theme centroids (cosine distance).

        One row per merge, as in scipy's linkage matrix: ``left``/``right`` are theme ids for leaves or
        ``n + row`` for earlier merges, with their ``distance`` and the ``themes`` below the merge.
        """
        from scipy.cluster.hierarchy import linkage

        from qualkit.themes.fit import centroids

        ids = sorted(t.id for t in self.active)
        columns = ["node", "left", "right", "distance", "themes"]
        if len(ids) < 2:
            return pd.DataFrame(columns=columns)
        labels = self.documents["theme"].to_numpy()
        matrix = linkage(centroids(np.asarray(self.embeddings, dtype=np.float32), labels, ids), "average",
                         metric="cosine")
        members: dict[int, list[int]] = {i: [theme] for i, theme in enumerate(ids)}
        rows = []
        for k, (a, b, distance, _) in enumerate(matrix):
            node = len(ids) + k
            members[node] = members[int(a)] + members[int(b)]
            rows.append({"node": node, "left": int(a), "right": int(b), "distance": float(max(distance, 0.0)),
                         "themes": sorted(members[node])})
        frame = pd.DataFrame(rows, columns=columns)
        frame.attrs["leaves"] = ids
        return frame

    # ------------------------------------------------------------------ storage (JSON + npz, no pickle)
    def to_storage(self) -> tuple[dict[str, Any], bytes]:
        """The JSON-safe part (themes, documents without numbers, edits) and the arrays as ``.npz`` bytes.

        Embeddings are stored as float16 (half the bytes; cosine similarities change by < 0.001).
        """
        numeric = ["theme", "similarity", "x", "y"]
        docs = self.documents.drop(columns=[c for c in numeric if c in self.documents.columns])
        docs = docs.astype(object).where(docs.notna(), None)
        payload = {
            "themes": [dataclasses.asdict(t) for t in self.themes],
            "documents": {c: [_plain(v) for v in docs[c].tolist()] for c in docs.columns},
            "document_columns": list(self.documents.columns),
            "code_ids": list(self.code_ids),
            "edits": list(self.edits),
            "summary": self.summary(),
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            theme=self.documents["theme"].to_numpy(dtype=np.int32),
            similarity=self.documents["similarity"].to_numpy(dtype=np.float32),
            coords=self.documents[["x", "y"]].to_numpy(dtype=np.float32),
            embeddings=np.asarray(self.embeddings, dtype=np.float16),
            code_vectors=np.asarray(self.code_vectors, dtype=np.float32),
        )
        return payload, buffer.getvalue()

    @classmethod
    def from_storage(cls, payload: dict[str, Any], arrays: bytes, *, settings: dict[str, Any],
                     versions: dict[str, str], run_id: int | None = None, version: int | None = None) -> ThemeResult:
        """Rebuild a result from :meth:`to_storage` output (``allow_pickle=False``)."""
        with np.load(io.BytesIO(arrays), allow_pickle=False) as data:
            loaded = {k: data[k] for k in data.files}
        docs = pd.DataFrame(payload.get("documents", {}))
        docs["theme"] = loaded["theme"].astype(int)
        docs["similarity"] = loaded["similarity"]
        docs["x"], docs["y"] = loaded["coords"][:, 0], loaded["coords"][:, 1]
        columns = [c for c in payload.get("document_columns", docs.columns) if c in docs.columns]
        return cls(themes=[Theme(**t) for t in payload.get("themes", [])], documents=docs[columns],
                   embeddings=loaded["embeddings"].astype(np.float32), code_ids=list(payload.get("code_ids", [])),
                   code_vectors=loaded["code_vectors"], settings=settings, versions=versions,
                   edits=list(payload.get("edits", [])), run_id=run_id, version=version)

    def summary(self) -> dict[str, Any]:
        """Counts a report or the CLI can print: documents, themes, matched codes, candidates, and two
        figures for what has no theme: ``outlier_share`` (of the documents fitted) and ``unthemed_share``
        (of all participant sentences, counting the ``short_dropped`` ones never fitted; ``fitted_share``
        is the rest).

        Example:
            >>> ThemeResult([], pd.DataFrame({"theme": [0]}), np.zeros((1, 2))).summary()["documents"]
            1
        """
        active = self.active
        return {"documents": len(self.documents), "themes": len(active),
                "outlier_share": round(self.outlier_share, 4), "short_dropped": self.short_dropped,
                "fitted_share": round(self.fitted_share, 4), "unthemed_share": round(self.unthemed_share, 4),
                "matched_codes": sorted({t.matched_code for t in active if t.matched_code}),
                "candidates": len(self.candidates),
                "embedder": (self.settings or {}).get("embedder"),
                "embedder_tier": (self.settings or {}).get("embedder_kind")}

    def __repr__(self) -> str:
        s = self.summary()
        run = f" run {self.run_id}" if self.run_id is not None else ""
        return (f"<ThemeResult{run}: {s['themes']} themes over {s['documents']} documents, "
                f"{s['outlier_share']:.0%} of them in no theme; counting the {s['short_dropped']} sentences too "
                f"short to fit, {s['unthemed_share']:.0%} of participant sentences are in no theme; "
                f"{s['candidates']} candidate codes"
                + (f", embedder {s['embedder']} ({s['embedder_tier']} tier)" if s["embedder"] else "") + ">")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{t.id}</td><td>{html.escape(t.label)}</td><td>{t.size}</td>"
            f"<td>{html.escape(t.matched_code or (t.candidate or {}).get('id', '') or '')}</td></tr>"
            for t in self.active)
        return (f"<p>{html.escape(repr(self))}</p><table><tr><th>id</th><th>label</th><th>size</th>"
                f"<th>code / candidate</th></tr>{rows}</table>")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "item"):
        return _plain(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    """Make nested settings/themes JSON-safe (numpy scalars, tuples, NaN) for the store's JSON columns.

    Example:
        >>> jsonable({"a": (np.int64(1), float("nan"))})
        {'a': [1, None]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return _plain(value)
