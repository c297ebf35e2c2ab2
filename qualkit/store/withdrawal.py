"""Withdrawal of a participant's consent: their turns leave the study and the database, every other offset moves.

A participant (or a speaker no participants list names) who withdraws consent after coding began is taken out
by :func:`withdraw_person`, in ONE transaction: in each transcript their turns' words become a fixed marker
(``[withdrawn]``) and the speaker labels of those turns (``label_spans``) lose their name: it becomes the
participant's id, or ``[withdrawn]`` for a speaker no participants list names (a label that already is the id
stays). Both change in ONE :class:`~qualkit.spans.Rewrite`, so every other turn, mark, label and coding keeps
covering exactly its words. Their segments are deleted with every coding, suggestion and evidence on them, so
no count, table, quote, export, reliability figure or theme input can include them (the rest of qualkit reads
segments and codings from these tables and nothing else). Memos written on their turns are DELETED, rows and
all (even ones deleted before): a memo on a turn often quotes the speaker, and a memo moved to the transcript
would sit in the Excel and REFI exports where the app shows it nowhere; the log's rows about those memos keep
who, when and the action but not the text. Memos on a transcript or a code stay. The original file bytes are
dropped; the import report and metadata (speaker counts keyed by name, …) and saved theme runs lose their words
and name; the participant record keeps only its label and the date (``withdrawn_at``), and the log's earlier
rows about that participant keep who and when but not the values (their attributes). The event names who,
when, how many turns and the reason, never the words. On SQLite the file is vacuumed afterwards. It cannot be
undone.

Example:
    >>> from qualkit.model import Segment, Source
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="w")
    >>> source = Source("a.txt", "Ann: Hi.\\nBo: I quit.\\n", "txt", metadata={"label_spans": [[0, 4], [9, 12]]})
    >>> source.segments = [Segment("a.txt", 5, 8, "Hi.", speaker="Ann", turn=0),
    ...                    Segment("a.txt", 13, 20, "I quit.", speaker="Bo", turn=1)]
    >>> _ = store.add_source(source, user="ana")
    >>> [turn["speaker"] for turn in person_turns(store, "Bo")]
    ['Bo']
    >>> withdraw_person(store, "Bo", reason="consent withdrawn by email", user="pi", expected=1)["turns"]
    1
    >>> store.source("a.txt").text  # Bo is in no participants list: the label goes too
    'Ann: Hi.\\n[withdrawn]: [withdrawn]\\n'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, InvalidInput, did_you_mean
from qualkit.spans import Rewrite, words_pattern
from qualkit.store.redaction import move_codings, scrubbed, vacuum_file
from qualkit.store.repository import Store
from qualkit.store.schema import (
    CodingRow,
    EventRow,
    MemoRow,
    ParticipantRow,
    SegmentRow,
    SourceRow,
    ThemeRunRow,
    utcnow,
)

MARKER = "[withdrawn]"
"""What stands in the text where a withdrawn participant's turn was."""

LISTED = 40
"""Names an error lists at most when the person asked for is not in the study."""

THEME_DOCUMENT_KEEP = ("segment_index", "source", "start", "end", "turn", "speaker", "participant", "theme")
"""Columns of a saved theme run's documents kept for a withdrawn turn (its words and attributes are dropped)."""


def person_turns(store: Store, who: str) -> list[dict[str, Any]]:
    """Every turn of participant (or unlinked speaker) ``who``: transcript, turn, speaker, offsets, codings, memos.

    One row per turn (a turn cut into sentences or windows is one row, ``segments`` says how many), in
    transcript and text order, with ``text`` (the turn's words) and ``memo_notes``: every memo written on the
    turn (``id``, ``author``, ``text``, ``deleted`` for one deleted earlier), which the withdrawal deletes;
    ``memos`` counts those not deleted earlier. Raises :class:`~qualkit.errors.InvalidInput`
    naming the known participants when ``who`` is nobody in the study, or saying when they were withdrawn.

    Example:
        >>> person_turns(Store.create("sqlite://", name="e"), "P07")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: no participant or speaker 'P07' in project 'e' ...
    """
    with store.session() as session:
        _, label, segments = _resolve(session, store, who)
        return _turns(session, segments, label)


def withdraw_person(store: Store, who: str, *, reason: str, user: str | None, expected: int | None = None,
                    marker: str = MARKER) -> dict[str, Any]:
    """Take participant (or unlinked speaker) ``who`` out of the study: their turns, codings and attributes.

    ``expected`` is the number of turns the person saw in :func:`person_turns`: another number now raises
    :class:`~qualkit.errors.ConflictError` and nothing changes. Returns ``participant`` (the label kept),
    ``turns``, ``transcripts``, ``codings`` (removed), ``memos`` (on their turns, deleted), ``theme_runs``.
    ``marker`` stands in for their words.
    """
    if not reason or not reason.strip():
        raise InvalidInput("no reason was given for the withdrawal",
                           fix='say why, e.g. reason="consent withdrawn by email on 3 May"',
                           cli_fix='pass --reason "consent withdrawn by email on 3 May"')
    now = utcnow()
    with store.transaction() as session:
        person, label, segments = _resolve(session, store, who)
        turns = _turns(session, segments, label)
        if expected is not None and len(turns) != expected:
            raise ConflictError(f"{label} now has {len(turns)} turns in the study, not the {expected} you previewed; "
                                "nothing was withdrawn", current={"turns": len(turns)})
        counts = {"codings": 0, "memos": 0, "theme_runs": 0}
        by_source: dict[int, list[SegmentRow]] = {}
        for seg in segments:
            by_source.setdefault(seg.source_id, []).append(seg)
        names, stand_in = _names(person, label, segments, marker)
        for source_id, mine in by_source.items():
            for key, value in _withdraw_in_source(session, store, source_id, mine, label, marker, user, now,
                                                  names=names, stand_in=stand_in).items():
                counts[key] += value
        if person is None:  # a speaker no participants list named: the record that says they withdrew
            person = ParticipantRow(project_id=store.project_id, label=label, aliases=[], attributes={})
            session.add(person)
        person.pseudonym, person.aliases, person.attributes = None, [], {}
        # The log's earlier rows about them held those attributes: they keep who and when, not the values.
        _drop_logged_values(session, store.project_id, "participant", [label])
        person.withdrawn_at, person.version = now, (person.version or 1) + 1
        result = {"participant": label, "turns": len(turns), "transcripts": len(by_source), **counts}
        store.log(session, user, "withdraw", "participant", label, new=result | {"reason": reason.strip()})
    vacuum_file(store)
    return result


def withdrawn_participants(store: Store) -> dict[str, Any]:
    """Label -> when each withdrawn participant withdrew.

    Example:
        >>> withdrawn_participants(Store.create("sqlite://", name="n"))
        {}
    """
    with store.session() as session:
        rows = session.execute(select(ParticipantRow.label, ParticipantRow.withdrawn_at).where(
            ParticipantRow.project_id == store.project_id, ParticipantRow.withdrawn_at.is_not(None))
            .order_by(ParticipantRow.id)).all()
    return dict(rows)


def _drop_logged_values(session: Session, project_id: int, entity: str, entity_ids: Sequence[str]) -> None:
    """The log's rows about these participants or memos keep who, when and what was done, not the values."""
    session.execute(update(EventRow).where(
        EventRow.project_id == project_id, EventRow.entity == entity, EventRow.entity_id.in_(list(entity_ids)))
        .values(old=None, new={"values": "dropped when the participant withdrew"})
        .execution_options(synchronize_session=False))


def _resolve(session: Session, store: Store, who: str) -> tuple[ParticipantRow | None, str, list[SegmentRow]]:
    """The participant row (None for a bare speaker), the label kept, and the person's segments."""
    who = (who or "").strip()
    rows = session.scalars(select(ParticipantRow).where(ParticipantRow.project_id == store.project_id)
                           .order_by(ParticipantRow.id)).all()
    found = [r for r in rows if r.label == who] or [r for r in rows if who in {r.pseudonym, *(r.aliases or [])}] \
        or [r for r in rows if who.casefold() in {str(n).casefold() for n in (r.label, r.pseudonym, *(r.aliases or []))
                                                  if n}]
    if len(found) > 1:
        raise InvalidInput(f"{who!r} names {len(found)} participants ({', '.join(r.label for r in found)})",
                           fix="name one of them by its participant id")
    if found:
        person = found[0]
        if person.withdrawn_at is not None:
            raise InvalidInput(f"{person.label} was already withdrawn on {person.withdrawn_at:%Y-%m-%d}; "
                               "nothing more to withdraw", fix="the History page shows who withdrew them and why")
        segments = session.scalars(select(SegmentRow).where(SegmentRow.participant_id == person.id)
                                   .order_by(SegmentRow.source_id, SegmentRow.start)).all()
        return person, person.label, list(segments)
    speakers = sorted(set(session.scalars(select(SegmentRow.speaker).where(
        SegmentRow.project_id == store.project_id, SegmentRow.participant_id.is_(None),
        SegmentRow.speaker.is_not(None)))))
    name = who if who in speakers else next((s for s in speakers if s.casefold() == who.casefold()), None)
    if name is None:
        known = [r.label for r in rows if r.withdrawn_at is None] + speakers
        listed = ", ".join(known[:LISTED]) + (f" and {len(known) - LISTED} more" if len(known) > LISTED else "")
        raise InvalidInput(f"no participant or speaker {who!r} in project {store.name!r}; "
                           + (f"the study has {listed}" if known else "it has no participants or speakers yet"),
                           fix=f"{did_you_mean(who, known)}use a participant id or speaker name from that list")
    segments = session.scalars(select(SegmentRow).where(
        SegmentRow.project_id == store.project_id, SegmentRow.participant_id.is_(None), SegmentRow.speaker == name)
        .order_by(SegmentRow.source_id, SegmentRow.start)).all()
    return None, name, list(segments)


def _turn_groups(segments: Sequence[SegmentRow]) -> list[list[SegmentRow]]:
    """The segments of one transcript grouped by turn (a segment without a turn number is a group of its own)."""
    groups: dict[Any, list[SegmentRow]] = {}
    for seg in segments:
        groups.setdefault((seg.source_id, seg.turn) if seg.turn is not None else ("segment", seg.id), []).append(seg)
    return sorted(groups.values(), key=lambda g: (g[0].source_id, g[0].start))


def _turns(session: Session, segments: Sequence[SegmentRow], label: str) -> list[dict[str, Any]]:
    ids = [seg.id for seg in segments]
    codings = dict(session.execute(select(CodingRow.segment_id, func.count()).where(CodingRow.segment_id.in_(ids))
                                   .group_by(CodingRow.segment_id)).all()) if ids else {}
    notes: dict[int, list[dict[str, Any]]] = {}
    for memo in (session.scalars(select(MemoRow).where(MemoRow.segment_id.in_(ids)).order_by(MemoRow.id)).all()
                 if ids else []):
        notes.setdefault(memo.segment_id, []).append({"id": memo.id, "author": memo.author, "text": memo.text,
                                                      "deleted": memo.withdrawn_at is not None})
    names = dict(session.execute(select(SourceRow.id, SourceRow.name).where(
        SourceRow.id.in_({seg.source_id for seg in segments}))).all()) if ids else {}
    return [{"source": names[group[0].source_id], "turn": group[0].turn, "participant": label,
             "speaker": group[0].speaker, "start": group[0].start, "end": group[-1].end, "segments": len(group),
             "codings": sum(codings.get(seg.id, 0) for seg in group),
             "memos": sum(not note["deleted"] for seg in group for note in notes.get(seg.id, [])),
             "text": " ".join(seg.text for seg in group),
             "memo_notes": [note for seg in group for note in notes.get(seg.id, [])]}
            for group in _turn_groups(segments)]


def _names(person: ParticipantRow | None, label: str, segments: Sequence[SegmentRow],
           marker: str) -> tuple[list[str], str]:
    """The names that stand for the person in labels and reports (longest first), and what replaces them.

    A participant's id replaces their names; a speaker no participants list names becomes the marker. A
    label that already is the participant's id is no name (it stays, as the participant record does).
    """
    names = {seg.speaker for seg in segments if seg.speaker}
    if person is None:
        return sorted(names | {label}, key=len, reverse=True), marker
    names |= {person.pseudonym, *(person.aliases or [])} - {None, ""}
    return sorted((n for n in names if n.strip() and n.casefold() != label.casefold()), key=len, reverse=True), label


def _label_matches(text: str, label_spans: Sequence[Sequence[int]], turn_starts: Sequence[tuple[int, int]],
                   names: Sequence[str], stand_in: str) -> list[tuple[int, int, str]]:
    """Where the person's names stand in the speaker labels of their turns, each to become ``stand_in``.

    ``turn_starts`` holds (end of the text before the turn that belongs to a segment, start of the turn): the
    label spans between them are that turn's labels.
    """
    patterns = [words_pattern(name) for name in names]
    found: list[tuple[int, int, str]] = []
    for before, start in turn_starts:
        for a, b in label_spans:
            if not (before <= a and b <= start):
                continue
            taken: list[tuple[int, int]] = []
            for pattern in patterns:  # longest names first, so "Hannah Price" wins over "Hannah"
                for match in pattern.finditer(text, a, b):
                    if all(match.end() <= s or match.start() >= e for s, e in taken):
                        taken.append(match.span())
            found += [(s, e, stand_in) for s, e in sorted(taken)]
    return found


def _withdraw_in_source(session: Session, store: Store, source_id: int, mine: list[SegmentRow], label: str,
                        marker: str, user: str | None, now: Any, *, names: Sequence[str],
                        stand_in: str) -> dict[str, int]:
    """Replace ``mine`` (the person's segments of one transcript) by the marker, their labels' names by
    ``stand_in``; delete the segments, their codings and the memos on them."""
    source = session.get(SourceRow, source_id)
    spans = [(group[0].start, group[-1].end) for group in _turn_groups(mine)]
    gone = {seg.id for seg in mine}
    others = session.scalars(select(SegmentRow).where(SegmentRow.source_id == source_id, SegmentRow.id.not_in(gone))
                             .order_by(SegmentRow.start)).all()
    for seg in others:
        if any(seg.start < end and seg.end > start for start, end in spans):
            raise InvalidInput(f"turn {seg.turn} of {source.name} ({seg.speaker}) lies inside a turn of {label}; "
                               "nothing was withdrawn", fix="please report this transcript to the qualkit authors")
    ends = sorted(seg.end for seg in [*others, *mine])
    turn_starts = [(max((e for e in ends if e <= start), default=0), start) for start, _ in spans]
    labels = _label_matches(source.text, (source.meta or {}).get("label_spans", []), turn_starts, names, stand_in)
    rewrite = Rewrite(source.text, [*spans, *labels], marker)
    turn_spans = {(start, end) for start, end in spans}
    words = sorted({seg.text for seg in mine if seg.text.strip()}, key=len, reverse=True)
    name_patterns = [words_pattern(name) for name in names]

    def scrub(text: str) -> str:  # free text quoting their words or naming them (import report, theme quotes)
        for said in words:
            text = text.replace(said, marker)
        for pattern in name_patterns:
            text = pattern.sub(stand_in, text)
        return text

    for seg in others:
        seg.start, seg.end = rewrite.start(seg.start), rewrite.end(seg.end)
        seg.marks = rewrite.spans(seg.marks)
    move_codings(session, [seg.id for seg in others], rewrite)  # offsets move, words and rationales stay
    removed = session.scalar(select(func.count()).select_from(CodingRow).where(CodingRow.segment_id.in_(gone)))
    session.execute(delete(CodingRow).where(CodingRow.segment_id.in_(gone)).execution_options(
        synchronize_session=False))
    memos = [str(i) for i in session.scalars(select(MemoRow.id).where(MemoRow.segment_id.in_(gone))).all()]
    if memos:  # a memo on their turn often quotes them: the row goes, and its text leaves the log
        session.execute(delete(MemoRow).where(MemoRow.id.in_([int(i) for i in memos])).execution_options(
            synchronize_session=False))
        _drop_logged_values(session, store.project_id, "memo", memos)
    session.flush()
    session.execute(delete(SegmentRow).where(SegmentRow.id.in_(gone)).execution_options(synchronize_session=False))
    meta = dict(source.meta or {})
    if "label_spans" in meta:
        meta["label_spans"] = rewrite.spans(meta["label_spans"])
    if "cue_offsets" in meta:
        turns = {str(seg.turn) for seg in mine}
        meta["cue_offsets"] = {turn: rewrite.spans(spans_)
                               for turn, spans_ in meta["cue_offsets"].items() if str(turn) not in turns}
    meta["withdrawn_spans"] = [*rewrite.spans(meta.get("withdrawn_spans", [])),
                               *([new_start, new_end] for start, end, new_start, new_end in rewrite.replaced
                             if (start, end) in turn_spans)]
    meta["withdrawals"] = [*meta.get("withdrawals", []),
                           {"at": now.isoformat(), "by": user, "participant": label, "turns": len(spans)}]
    source.text, source.raw = rewrite.text, None  # the file's bytes hold their words too
    source.meta = scrubbed(meta, scrub, keep=("label_spans", "cue_offsets", "withdrawn_spans"))
    source.report = scrubbed(dict(source.report or {}), scrub)
    runs = _withdraw_from_theme_runs(session, store.project_id, source.name, gone, rewrite, scrub, marker, stand_in)
    return {"codings": int(removed or 0), "memos": len(memos), "theme_runs": runs}


def _withdraw_from_theme_runs(session: Session, project_id: int, name: str, gone: set[int], rewrite: Rewrite,
                              scrub: Any, marker: str, stand_in: str) -> int:
    """Saved theme runs: documents of withdrawn turns lose their words and attributes; offsets move."""
    touched = 0
    for run in session.scalars(select(ThemeRunRow).where(ThemeRunRow.project_id == project_id)).all():
        result = dict(run.result or {})
        documents = dict(result.get("documents") or {})
        sources = documents.get("source") or []
        if name not in sources:
            continue
        ids = documents.get("segment_id") or [None] * len(sources)
        theirs = [s == name and i is not None and int(i) in gone for s, i in zip(sources, ids, strict=True)]
        said = sorted({str(t) for t, mine in zip(documents.get("text") or [], theirs, strict=False) if mine and t},
                      key=len, reverse=True)
        for column, values in list(documents.items()):
            if column in ("start", "end"):
                place = rewrite.start if column == "start" else rewrite.end
                values = [place(int(v)) if s == name and v is not None else v
                          for s, v in zip(sources, values, strict=True)]
            elif column == "text":
                values = [marker if mine else v for v, mine in zip(values, theirs, strict=True)]
            elif column == "speaker":
                values = [stand_in if mine else v for v, mine in zip(values, theirs, strict=True)]
            elif column not in THEME_DOCUMENT_KEEP:
                values = [None if mine else v for v, mine in zip(values, theirs, strict=True)]
            documents[column] = values
        result["documents"] = documents

        def scrub_all(text: str, said: list[str] = said) -> str:
            for words in said:
                text = text.replace(words, marker)
            return scrub(text)

        run.result = scrubbed(result, scrub_all, keep=("documents",)) | {"documents": documents}
        run.version = (run.version or 1) + 1
        touched += 1
    return touched


__all__ = ["MARKER", "person_turns", "withdraw_person", "withdrawn_participants"]
