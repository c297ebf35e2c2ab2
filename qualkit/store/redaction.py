"""Redaction of a coded transcript: words taken out of the study database, every offset carried along.

An ethics board may require a name removed after coding has begun. :func:`redact_source` replaces the
passages a :class:`~qualkit.spans.Rewrite` names in one transcript, in ONE transaction: the source text
(its original file bytes are dropped, as de-identification does), its segments (offsets, text, speaker
labels, marks), the label spans and cue offsets of its metadata, its import report, its codings (span,
evidence, rationale; each one's version moves on, so a card drawn before is refused, not applied) and
the documents of saved theme runs (their words and offsets). Every coding keeps covering the same
words, with a replaced passage's replacement in place of it. The event names how many passages were
replaced, by whom and with what, never the words taken out; memos (the team's own writing) and the
event log are not rewritten. On SQLite the file is vacuumed afterwards, so the words do not linger in
its free pages.

Example:
    >>> from qualkit.model import Segment, Source
    >>> from qualkit.spans import Rewrite
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="r")
    >>> source = Source("a.txt", "Ann: I told Okafor.", "txt", metadata={"label_spans": [[0, 4]]})
    >>> source.segments = [Segment("a.txt", 5, 19, "I told Okafor.", speaker="Ann")]
    >>> _ = store.add_source(source, user="ana")
    >>> redact_source(store, "a.txt", [(12, 18)], "[name]", scrub=lambda s: s.replace("Okafor", "[name]"),
    ...               user="ana")["passages"]
    1
    >>> store.source("a.txt").segments[0].text
    'I told [name].'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, InvalidInput
from qualkit.spans import Rewrite
from qualkit.store.repository import Store
from qualkit.store.schema import CodingRow, SegmentRow, SourceRow, ThemeRunRow, utcnow

Scrub = Callable[[str], str]


def redact_source(store: Store, source: str | int, matches: Sequence[tuple[int, int]], replacement: str, *,
                  scrub: Scrub, user: str | None, seen_text: str | None = None) -> dict[str, int]:
    """Replace the passages ``matches`` of one transcript's text by ``replacement``, carrying every offset along.

    ``scrub`` rewrites free text that quotes the transcript (speaker labels, rationales, the import report,
    theme words) the same way. ``seen_text`` is the text the person previewed: a transcript changed since
    raises :class:`~qualkit.errors.ConflictError` and nothing is written. A passage that runs from one turn
    into the next (or into a speaker label) is refused. Returns counts: ``passages``, ``segments``,
    ``codings``, ``theme_runs``.
    """
    with store.transaction() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.project_id == store.project_id,
                                                     (SourceRow.name == source) if isinstance(source, str)
                                                     else (SourceRow.id == int(source))))
        if row is None:
            raise InvalidInput(f"no transcript {source!r} in project {store.name!r}",
                               fix="use a transcript name from the Study page or project.sources()")
        if seen_text is not None and row.text != seen_text:
            raise ConflictError(f"{row.name} changed after you previewed the redaction; nothing was replaced",
                                current={"source": row.name})
        rewrite = Rewrite(row.text, matches, replacement)
        segments = session.scalars(select(SegmentRow).where(SegmentRow.source_id == row.id)
                                   .order_by(SegmentRow.start)).all()
        _check_within_turns(row.name, segments, rewrite.replaced)
        changed = _rewrite_segments(session, segments, rewrite, scrub)
        codings = move_codings(session, [seg.id for seg in segments], rewrite, scrub=scrub)
        runs = _rewrite_theme_runs(session, store.project_id, row.name, rewrite, scrub)
        meta = dict(row.meta or {})
        if "label_spans" in meta:
            meta["label_spans"] = rewrite.spans(meta["label_spans"])
        if "withdrawn_spans" in meta:  # the markers of turns withdrawn earlier (qualkit.store.withdrawal)
            meta["withdrawn_spans"] = rewrite.spans(meta["withdrawn_spans"])
        if "cue_offsets" in meta:
            meta["cue_offsets"] = {turn: rewrite.spans(spans)
                                   for turn, spans in meta["cue_offsets"].items()}
        meta["redactions"] = [*meta.get("redactions", []),
                              {"at": utcnow().isoformat(), "by": user, "passages": len(rewrite.replaced),
                               "replacement": replacement}]
        row.text, row.raw, row.meta = rewrite.text, None, scrubbed(meta, scrub, keep=("label_spans", "cue_offsets", "withdrawn_spans"))
        row.report = scrubbed(dict(row.report or {}), scrub)
        counts = {"passages": len(rewrite.replaced), "segments": changed, "codings": codings, "theme_runs": runs}
        store.log(session, user, "redact", "source", row.id, new=counts | {"replacement": replacement})
    vacuum_file(store)
    return counts


def vacuum_file(store: Store) -> None:
    """Rewrite an SQLite file so that words just deleted or replaced do not linger in its free pages or log.

    PostgreSQL keeps old row versions until its own VACUUM; an in-memory database has no file.

    Example:
        >>> vacuum_file(Store.create("sqlite://", name="v"))  # nothing to do in memory
    """
    if store.engine.dialect.name == "sqlite" and store.engine.url.database not in (None, "", ":memory:"):
        with store.engine.connect() as connection:  # the old words would stay in the file's free pages
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # and from the write-ahead log


def _check_within_turns(name: str, segments: Sequence[SegmentRow], replaced: Sequence[tuple[int, ...]]) -> None:
    """Refuse a passage that crosses a segment's edge: its words would belong to two turns at once."""
    for start, end, *_ in replaced:
        for seg in segments:
            if start < seg.end and end > seg.start and not (seg.start <= start and end <= seg.end):
                raise InvalidInput(f"the words at characters {start}-{end} of {name} run across the edge of turn "
                                   f"{seg.turn if seg.turn is not None else seg.id}; nothing was replaced",
                                   fix="redact words that lie within one turn (or one speaker label)")


def _rewrite_segments(session: Session, segments: Sequence[SegmentRow], rewrite: Rewrite, scrub: Scrub) -> int:
    changed = 0
    for seg in segments:
        start, end = rewrite.start(seg.start), rewrite.end(seg.end)
        words = rewrite.text[start:end]
        speaker = scrub(seg.speaker) if seg.speaker else seg.speaker
        changed += words != seg.text or speaker != seg.speaker
        seg.start, seg.end, seg.text, seg.speaker = start, end, words, speaker
        seg.marks = rewrite.spans(seg.marks)
        seg.attributes = scrubbed(dict(seg.attributes or {}), scrub)
    return changed


def move_codings(session: Session, segment_ids: Sequence[int], rewrite: Rewrite, *, scrub: Scrub | None = None,
                 ) -> int:
    """Carry the codings of ``segment_ids`` (offsets, evidence) into a rewritten text; returns how many.

    Each gets a new version, so a card drawn before is refused, not applied; ``scrub`` also rewrites their
    rationales (a redaction's words), else they stay.

    Example:
        >>> move_codings(session, [], Rewrite("", [], ""))  # doctest: +SKIP
        0
    """
    rows = session.scalars(select(CodingRow).where(CodingRow.segment_id.in_(list(segment_ids)))).all() \
        if segment_ids else []
    now = utcnow()
    for coding in rows:
        coding.start, coding.end = rewrite.start(coding.start), rewrite.end(coding.end)
        coding.evidence = rewrite.spans(coding.evidence)
        if scrub is not None:
            coding.rationale = scrub(coding.rationale or "")
        coding.version, coding.updated_at = coding.version + 1, now
    return len(rows)


def _rewrite_theme_runs(session: Session, project_id: int, name: str, rewrite: Rewrite, scrub: Scrub) -> int:
    runs = session.scalars(select(ThemeRunRow).where(ThemeRunRow.project_id == project_id)).all()
    touched = 0
    for run in runs:
        result = dict(run.result or {})
        documents = dict(result.get("documents") or {})
        sources = documents.get("source") or []
        if name not in sources:
            continue
        for column, place in (("start", rewrite.start), ("end", rewrite.end)):
            if column in documents:
                documents[column] = [place(int(v)) if s == name and v is not None else v
                                     for s, v in zip(sources, documents[column], strict=True)]
        result["documents"] = documents
        run.result = scrubbed(result, scrub, keep=("start", "end", "source"))
        touched += 1
    return touched


def scrubbed(value: Any, scrub: Scrub, *, keep: Sequence[str] = ()) -> Any:
    """``value`` with ``scrub`` applied to every string in it (keys in ``keep`` are left as they are).

    Example:
        >>> scrubbed({"Ann": ["Ann said"], "start": "Ann"}, lambda s: s.replace("Ann", "[P1]"), keep=("start",))
        {'[P1]': ['[P1] said'], 'start': 'Ann'}
    """
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {(scrub(k) if isinstance(k, str) else k): v if k in keep else scrubbed(v, scrub)
                for k, v in value.items()}  # keys too: the import report counts turns by speaker name
    if isinstance(value, list):
        return [scrubbed(v, scrub) for v in value]
    return value


__all__ = ["move_codings", "redact_source", "scrubbed", "vacuum_file"]
