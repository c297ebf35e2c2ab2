"""Turning table rows into qualkit objects and frames, shared by every part of the store.

Example:
    >>> jsonable({"n": (1, 2), "ok": True})
    {'n': [1, 2], 'ok': True}
    >>> [list(c) for c in chunks([1, 2, 3], size=2)]
    [[1, 2], [3]]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Select, select

from qualkit.model import Coding
from qualkit.store.schema import CodingRow, ParticipantRow, SegmentRow, SourceRow

SEGMENT_COLUMNS = [
    "id", "source", "source_id", "start", "end", "text", "speaker", "participant", "speaker_role",
    "kind", "turn", "seq", "time_start", "time_end", "marks",
]
CODING_COLUMNS = [
    "id", "segment_id", "code_id", "codebook_version", "coder", "origin", "status", "score", "start", "end",
    "evidence", "rationale", "decided_by", "decided_at", "parent_id", "guid", "created_at", "updated_at",
    "version", "source", "source_id", "speaker", "speaker_role", "turn", "segment_start", "segment_end",
    "segment_text", "participant", "segment_kind",
]
CHUNK = 2000
"""Ids per ``IN (...)`` list or rows per bulk insert (well under every backend's parameter limit)."""


def chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of ``rows`` of at most ``size`` items.

    Example:
        >>> [len(c) for c in chunks(list(range(5)), size=2)]
        [2, 2, 1]
    """
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def bind_names(values: dict[str, Any]) -> dict[str, Any]:
    """Parameter names for an executemany UPDATE: ``_``-prefixed (column names are reserved for SET).

    Example:
        >>> bind_names({"_id": 1, "score": 0.5})
        {'_id': 1, '_score': 0.5}
    """
    return {k if k.startswith("_") else f"_{k}": v for k, v in values.items()}


def coding_values(row: CodingRow) -> dict[str, Any]:
    """The fields of a coding row that a conflict or an update's event shows (code, status, span, who, version...).

    Example:
        >>> coding_values(CodingRow(id=1, segment_id=2, code_id="w", status="accepted", origin="human",
        ...               coder="ana", version=3))["version"]
        3
    """
    return {
        "id": row.id, "segment_id": row.segment_id, "code_id": row.code_id, "status": row.status,
        "origin": row.origin, "coder": row.coder, "score": row.score, "start": row.start, "end": row.end,
        "rationale": row.rationale, "decided_by": row.decided_by, "version": row.version,
    }


def changed_by(current: dict[str, Any], user: str | None) -> str:
    """Who changed a coding meanwhile, as a stale-version message tells its reader ("you", not their own name).

    Example:
        >>> changed_by({"decided_by": "ana"}, "ana"), changed_by({"decided_by": "ben"}, "ana"), changed_by({}, "ana")
        ('you a moment ago or in another tab', 'ben', 'someone else')
    """
    who = current.get("decided_by") or "someone else"
    return "you a moment ago or in another tab" if who == user else who


def coding_from_row(row: CodingRow) -> Coding:
    """A :class:`~qualkit.model.Coding` from its row.

    Example:
        >>> coding_from_row(CodingRow(id=1, segment_id=2, code_id="w", origin="rules", status="suggested",
        ...                 coder="auto", version=1)).code_id
        'w'
    """
    return Coding(segment_id=row.segment_id, code_id=row.code_id, origin=row.origin, status=row.status,
                  score=row.score, coder=row.coder, start=row.start, end=row.end,
                  evidence=[tuple(e) for e in (row.evidence or [])], rationale=row.rationale,
                  codebook_version=row.codebook_version, decided_by=row.decided_by, parent_id=row.parent_id,
                  guid=row.guid, id=row.id, version=row.version)


def joined_codings(project_id: int) -> Select:
    """The query of a project's codings joined with their segment and source (rows for :func:`coding_frame`).

    Example:
        >>> "JOIN segments" in str(joined_codings(1))
        True
    """
    return (
        select(CodingRow, SourceRow.name, SourceRow.id.label("sid"), SegmentRow.speaker, SegmentRow.role,
               SegmentRow.turn, SegmentRow.start.label("seg_start"), SegmentRow.end.label("seg_end"),
               SegmentRow.text, ParticipantRow.label.label("participant"), SegmentRow.kind)
        .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
        .join(SourceRow, SourceRow.id == SegmentRow.source_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == SegmentRow.participant_id)
        .where(CodingRow.project_id == project_id)
    )


def coding_frame(rows: Iterable[Any]) -> pd.DataFrame:
    """Rows of :func:`joined_codings` as a frame with :data:`CODING_COLUMNS`.

    Example:
        >>> list(coding_frame([]).columns) == CODING_COLUMNS
        True
    """
    records = []
    for r in rows:
        c = r[0]
        records.append((c.id, c.segment_id, c.code_id, c.codebook_version, c.coder, c.origin, c.status, c.score,
                        c.start, c.end, c.evidence, c.rationale, c.decided_by, c.decided_at, c.parent_id, c.guid,
                        c.created_at, c.updated_at, c.version, r.name, r.sid, r.speaker, r.role, r.turn,
                        r.seg_start, r.seg_end, r.text, r.participant, r.kind))
    return pd.DataFrame.from_records(records, columns=CODING_COLUMNS)


def coding_record(row: Any) -> dict[str, Any]:
    """Every column of a coding row, JSON-safe (times as ISO text): enough to insert the same row again.

    Example:
        >>> coding_record(CodingRow(id=7, code_id="w"))["code_id"]
        'w'
    """
    return {column.name: jsonable(getattr(row, column.name)) for column in row.__table__.columns}


def row_from_record(record: dict[str, Any]) -> CodingRow:
    """The coding row a :func:`coding_record` describes (its times parsed back)."""
    from datetime import datetime

    values = dict(record)
    for name in ("decided_at", "created_at", "updated_at"):
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    return CodingRow(**values)


def jsonable(value: Any) -> Any:
    """Make numpy scalars, tuples and sets JSON-safe for JSON columns.

    Example:
        >>> jsonable({1: {"a", }})
        {'1': ['a']}
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


__all__ = [
    "CHUNK",
    "CODING_COLUMNS",
    "SEGMENT_COLUMNS",
    "bind_names",
    "changed_by",
    "chunks",
    "coding_frame",
    "coding_from_row",
    "coding_values",
    "joined_codings",
    "jsonable",
]
