"""Describe themes from document assignments: words, label, quotes, prevalence, nearest codes, candidates.

Everything here is recomputed from plain data (the documents frame, embeddings, assignments and the
codebook's prototype vectors), so a stored run can be edited and re-described without the fitted model
or the embedder.

Example:
    >>> slug(["prior authorization", "fax"])
    'prior_authorization_fax'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qualkit.embeddings import Embedder
from qualkit.model import Code, Codebook
from qualkit.themes.fit import centroids
from qualkit.themes.words import label_from_words, theme_words

GROUP_COLUMNS = ("group", "focus_group", "session", "site", "source")


def prototype_text(code: Code) -> list[str]:
    """Texts whose mean embedding stands for a code: name and definition, each example, name and cues.

    Example:
        >>> from qualkit.model import Code
        >>> prototype_text(Code("w", "Workload", definition="Too much work.", cues=["understaffed"]))
        ['Workload. Too much work.', 'Workload: understaffed']
    """
    texts = [f"{code.name}. {code.definition}".strip()]
    texts += [e for e in code.examples if e.strip()]
    if code.cues:
        texts.append(f"{code.name}: {', '.join(code.cues[:12])}")
    return texts


def code_vectors(codebook: Codebook | None, embedder: Embedder) -> tuple[list[str], np.ndarray]:
    """Codable code ids and their prototype vectors (normalised mean embedding of :func:`prototype_text`).

    Example:
        >>> code_vectors(None, None)[0]
        []
    """
    if codebook is None or not codebook.codable_codes:
        return [], np.zeros((0, 0), dtype=np.float32)
    codes = codebook.codable_codes
    texts = [prototype_text(c) for c in codes]
    flat = np.asarray(embedder.encode([t for group in texts for t in group]), dtype=np.float32)
    vectors, at = [], 0
    for group in texts:
        vectors.append(flat[at:at + len(group)].mean(axis=0))
        at += len(group)
    matrix = np.vstack(vectors)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return [c.id for c in codes], matrix / norms


def slug(words: Sequence[str], taken: set[str] | None = None) -> str:
    """A lower_snake_case code id from top words, made unique against ``taken``.

    Example:
        >>> slug(["inbox", "message"], taken={"inbox_message"})
        'inbox_message_2'
    """
    base = "_".join(re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_") for w in words[:2]) or "theme"
    candidate, n = base, 2
    while taken and candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _quotes(docs: pd.DataFrame, similarity: np.ndarray, group_column: str | None, n: int) -> list[dict[str, Any]]:
    """The documents nearest the theme centroid, preferring one per speaker and at least six words."""
    order = np.argsort(-similarity, kind="stable")
    picked: list[int] = []
    speakers: set[Any] = set()
    for strict in (True, False):
        for i in order:
            if len(picked) >= n:
                break
            if i in picked:
                continue
            row = docs.iloc[i]
            if strict and (row["speaker"] in speakers or len(str(row["text"]).split()) < 6):
                continue
            picked.append(int(i))
            speakers.add(row["speaker"])
    out = []
    for i in picked:
        row = docs.iloc[i]
        out.append({"text": row["text"], "speaker": row["speaker"], "source": row["source"],
                    "group": None if group_column is None else _plain(row.get(group_column)),
                    "start": int(row["start"]), "end": int(row["end"]),
                    "segment_id": None if pd.isna(row["segment_id"]) else int(row["segment_id"]),
                    "similarity": round(float(similarity[i]), 4)})
    return out


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def prevalence_by_theme(
    docs: pd.DataFrame, labels: np.ndarray, themes: Sequence[int], by: Sequence[str]
) -> dict[int, dict[str, dict[str, float]]]:
    """Share of each group's documents that belong to each theme in ``themes``, for every attribute in ``by``.

    Each column's groups are read once for all themes (read per theme, they took 9 s of a 29 s theme fit at
    50,000 documents and 22 themes).

    Example:
        >>> prevalence_by_theme(pd.DataFrame({"role": ["nurse", "nurse", "resident", "resident"]}),
        ...                     np.array([0, 1, 0, 0]), [0], ["role"])
        {0: {'role': {'nurse': 0.5, 'resident': 1.0}}}
        >>> d = pd.DataFrame({"role": ["nurse", "nurse", "resident", None]})
        >>> prevalence_by_theme(d, np.array([0, 1, 0, 0]), [0, 1], ["role"])[1]
        {'role': {'nurse': 0.5, 'resident': 0.0}}
    """
    out: dict[int, dict[str, dict[str, float]]] = {theme: {} for theme in themes}
    labels = np.asarray(labels)
    for column in by:
        if column not in docs.columns:
            continue
        values = [_group_value(v) for v in docs[column].tolist()]
        present = {v for v in values if v is not None}
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
        ordered = sorted(present, key=(lambda v: v) if numeric else str)
        index = {value: k for k, value in enumerate(ordered)}
        group = np.array([index[v] if v is not None else -1 for v in values], dtype=int)
        sizes = np.bincount(group[group >= 0], minlength=len(ordered))
        for theme in themes:
            counts = np.bincount(group[(group >= 0) & (labels == theme)], minlength=len(ordered))
            out[theme][column] = {str(value): round(float(counts[k] / sizes[k]), 4) if sizes[k] else 0.0
                                  for k, value in enumerate(ordered)}
    return out


def _group_value(value: Any) -> Any:
    """A group's value as a plain Python value: None for missing, 2 for 2.0 (a number column with gaps)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def describe_themes(
    docs: pd.DataFrame,
    embeddings: np.ndarray,
    labels: np.ndarray,
    *,
    settings: dict[str, Any],
    code_ids: Sequence[str],
    code_matrix: np.ndarray,
    codebook_names: dict[str, str],
    previous: dict[int, dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Build every theme's description; returns theme dicts and each document's similarity to its theme.

    ``previous`` carries what researchers decided (renamed labels, status, promotion, history) by theme id
    so it survives re-description after an edit.

    Example:
        >>> describe_themes  # doctest: +ELLIPSIS
        <function describe_themes at ...>
    """
    previous = previous or {}
    theme_ids = sorted(set(labels.tolist()) - {-1})
    words = theme_words(docs["text"].tolist(), labels, top_n=int(settings.get("top_words", 10)),
                        seed_words=settings.get("seed_words", []))
    centres = centroids(embeddings, labels, theme_ids)
    norms = np.linalg.norm(embeddings, axis=1)
    norms[norms == 0] = 1.0
    doc_similarity = np.full(len(labels), np.nan, dtype=np.float32)
    threshold = float(settings.get("match_threshold", 0.5))
    # candidate ids must not collide with any code of the codebook, nor with codes made from themes since
    taken = {*code_ids, *codebook_names, *(t.get("promoted_to") for t in previous.values() if t.get("promoted_to"))}
    shares = prevalence_by_theme(docs, labels, theme_ids, settings.get("by", []))
    themes = []
    for row, theme in enumerate(theme_ids):
        member = np.flatnonzero(labels == theme)
        similarity = (embeddings[member] @ centres[row]) / norms[member]
        doc_similarity[member] = similarity
        top = [w for w, _ in words.get(theme, [])]
        codes: list[dict[str, Any]] = []
        if len(code_ids):
            scores = code_matrix @ centres[row]
            for k in np.argsort(-scores, kind="stable")[:3]:
                codes.append({"code_id": code_ids[k], "name": codebook_names.get(code_ids[k], code_ids[k]),
                              "similarity": round(float(scores[k]), 4)})
        before = previous.get(theme, {})
        quotes = _quotes(docs.iloc[member], similarity, settings.get("group_column"), 3)
        # What a theme is reported against, strongest link first: the code a researcher promoted it to,
        # the code whose definition it was built from (zero-shot), the nearest code above the threshold.
        guided = settings.get("guided", {}).get(str(theme))
        matched = before.get("promoted_to") or guided
        if matched is None and codes and codes[0]["similarity"] >= threshold:
            matched = codes[0]["code_id"]
        status = before.get("status", "active")
        candidate = None
        if matched is None and status == "active":
            candidate_id = slug(top, taken)
            taken.add(candidate_id)
            name = " / ".join(top[:2]).capitalize() if top else f"Theme {theme}"
            candidate = {
                "id": candidate_id, "name": name,
                "definition": (f"Participants talk about {', '.join(top[:5])}. Draft written from emergent "
                               f"theme {theme} ({len(member)} excerpts); rewrite it before coding with it."),
                "examples": [q["text"] for q in quotes], "cues": top[:5],
            }
        themes.append({
            "id": int(theme), "label": before.get("custom_label") or label_from_words(top), "words": top,
            "weights": [s for _, s in words.get(theme, [])], "size": len(member),
            "share": round(len(member) / max(len(labels), 1), 4), "quotes": quotes,
            "prevalence": shares[theme],
            "codes": codes, "matched_code": matched, "guided_by": guided, "candidate": candidate,
            "status": status, "promoted_to": before.get("promoted_to"), "custom_label": before.get("custom_label"),
            "history": list(before.get("history", [])),
        })
    # Themes a researcher discarded keep their record (with no documents any more).
    for theme, before in sorted(previous.items()):
        if theme not in theme_ids and before.get("status") == "discarded":
            themes.append({**before, "size": 0, "share": 0.0, "candidate": None})
    return themes, doc_similarity
