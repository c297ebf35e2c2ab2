"""From segments to the documents a theme model clusters: participant talk, split into sentences or windows.

Moderator turns, unattributed lines and speaker legends are left out by default, non-speech marks are
blanked (``Segment.clean_text``), and each turn is split into sentences (or windows of a few sentences)
so that one long turn does not become one topic. Every document keeps its absolute offsets into the
source text and the position/id of the segment it came from, so themes can be turned back into codings.

Example:
    >>> from qualkit.model import Segment
    >>> segs = [Segment("g1", 0, 45, "The inbox is endless. I chart until midnight.", speaker="Ann")]
    >>> docs = documents_from_segments(segs, min_words=2)
    >>> docs[["start", "end", "text"]].values.tolist()
    [[0, 21, 'The inbox is endless.'], [22, 45, 'I chart until midnight.']]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput
from qualkit.model import Mark, Segment

LEVELS = ("sentence", "window", "turn")
# Columns of ``Store.segments_df`` that describe the segment itself; every other column is an attribute.
_SEGMENT_FIELDS = {"id", "source", "source_id", "start", "end", "text", "speaker", "participant", "speaker_role",
                   "kind", "turn", "seq", "time_start", "time_end", "marks"}
_INNER_BOUNDARY = re.compile(r"[.!?…]\s+\S|\n\s*\n")
_WORD = re.compile(r"\w+")


def as_segments(segments: Sequence[Segment] | pd.DataFrame) -> list[Segment]:
    """Accept ``Segment`` objects or a segments DataFrame (``project.segments()``) and return segments.

    DataFrame columns other than the segment's own fields become ``Segment.attributes``.

    Example:
        >>> frame = pd.DataFrame({"source": ["g1"], "start": [0], "end": [2], "text": ["Hi"], "group": ["A"]})
        >>> as_segments(frame)[0].attributes
        {'group': 'A'}
    """
    if not isinstance(segments, pd.DataFrame):
        segments = list(segments)
        if segments and not all(isinstance(s, Segment) for s in segments):
            raise InvalidInput("segments must be qualkit Segment objects or a segments DataFrame",
                               fix="pass project.segments() or a list of qk.Segment")
        return segments
    missing = {"source", "start", "end", "text"} - set(segments.columns)
    if missing:
        raise InvalidInput(f"the segments DataFrame lacks the columns {sorted(missing)}",
                           fix="pass project.segments() or build the frame with source/start/end/text columns")
    frame = segments.astype(object).where(segments.notna(), None)
    extra = [c for c in frame.columns if c not in _SEGMENT_FIELDS]
    out = []
    for row in frame.to_dict("records"):
        role = row.get("speaker_role", "participant") if "speaker_role" in row else "participant"
        out.append(Segment(
            source=str(row["source"]), start=int(row["start"]), end=int(row["end"]), text=str(row["text"]),
            speaker=row.get("speaker"), role=role, kind=row.get("kind") or "turn", turn=row.get("turn"),
            marks=[Mark(*m) for m in (row.get("marks") or [])], participant=row.get("participant"),
            attributes={c: row[c] for c in extra if row[c] is not None},
            id=None if row.get("id") is None else int(row["id"]),
        ))
    return out


def _sentence_spans(texts: list[str]) -> list[list[tuple[int, int]]]:
    """Sentence spans (relative, end exclusive) of each text, from ``qualkit.ingest.segment``'s splitter.

    Texts with no inner sentence boundary or paragraph break skip spaCy altogether (most short turns).
    """
    spans: list[list[tuple[int, int]]] = [[(0, len(t))] for t in texts]
    to_split = [i for i, t in enumerate(texts) if _INNER_BOUNDARY.search(t.strip())]
    if to_split:
        from qualkit.ingest.segment import sentence_spans
        from qualkit.nlp import load_nlp

        nlp = load_nlp(lemmatizer=False)
        for i in to_split:
            spans[i] = sentence_spans(texts[i], 0, len(texts[i]), nlp)
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def documents_from_segments(
    segments: Sequence[Segment] | pd.DataFrame,
    *,
    level: str = "sentence",
    window: int = 3,
    min_words: int = 4,
    include_moderator: bool = False,
) -> pd.DataFrame:
    """One row per document to cluster: offsets, cleaned text, speaker and the segment's attributes.

    ``level`` is ``"sentence"`` (default), ``"window"`` (``window`` consecutive sentences of one turn) or
    ``"turn"``; segments that already are sentences are kept as they are. Documents with fewer than
    ``min_words`` words ("Yeah.", "Exactly.") are dropped; ``frame.attrs["short_dropped"]`` counts them.
    Columns: ``segment_index`` (position in the input), ``segment_id``, ``source``, ``start``, ``end``,
    ``text``, ``speaker``, ``participant``, ``turn``, then one column per attribute.

    Example:
        >>> from qualkit.model import Segment
        >>> mod = Segment("g1", 0, 20, "What wears you down?", speaker="Mod", role="moderator")
        >>> len(documents_from_segments([mod]))
        0
    """
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}", fix=f"use one of {LEVELS}")
    kept = [(i, s) for i, s in enumerate(as_segments(segments))
            if s.is_participant or (include_moderator and s.role == "moderator")]
    cleaned = [s.clean_text for _, s in kept]
    splittable = [k for k, (_, s) in enumerate(kept) if level != "turn" and s.kind not in ("sentence", "window")]
    spans: list[list[tuple[int, int]]] = [[(0, len(t))] for t in cleaned]
    for k, found in zip(splittable, _sentence_spans([cleaned[k] for k in splittable]), strict=True):
        spans[k] = found
    rows: list[dict[str, Any]] = []
    short = 0
    for k, (index, seg) in enumerate(kept):
        parts = spans[k]
        if level == "window" and seg.kind not in ("sentence", "window"):
            parts = [(parts[j][0], parts[min(j + window, len(parts)) - 1][1]) for j in range(0, len(parts), window)]
        for lo, hi in parts:
            lo, hi = _trim(cleaned[k], lo, hi)
            text = " ".join(cleaned[k][lo:hi].split())
            if len(_WORD.findall(text)) < min_words:
                short += _WORD.search(text) is not None  # a turn that was only a mark is no sentence
                continue
            rows.append({"segment_index": index, "segment_id": seg.id, "source": seg.source,
                         "start": seg.start + lo, "end": seg.start + hi, "text": text, "speaker": seg.speaker,
                         "participant": seg.participant, "turn": seg.turn, **seg.attributes})
    columns = ["segment_index", "segment_id", "source", "start", "end", "text", "speaker", "participant", "turn"]
    frame = pd.DataFrame(rows, columns=None if rows else columns).reset_index(drop=True)
    frame.attrs["short_dropped"] = short  # how many documents min_words left out (reported with the themes)
    return frame
