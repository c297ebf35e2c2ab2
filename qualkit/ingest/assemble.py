"""Turning a reader's :class:`~qualkit.ingest.layout.Layout` into a :class:`~qualkit.model.Source`.

Shared by every format: resolves speakers (aliases, participants, proposed merges), decides roles,
finds non-speech marks, builds segments and speakers, writes the import report, and optionally
re-segments by sentence or window.

Roles: a speaker is the moderator when its participant's ``role`` says so; otherwise (no role from
participants) when its label or legend entry names the role (``Moderator``, ``Interviewer 2``, ``I1``,
``Host``); and when nothing names a moderator, the speaker who asks clearly the most questions
(at least 3 turns, at least 40% of them with a question mark, twice anyone else's share).

Example:
    >>> from qualkit.ingest.layout import detect_layout
    >>> src = assemble(detect_layout("I: Why?\\nR: Nights.\\nI: And?\\nR: Days.\\n"), name="i.txt", format="txt")
    >>> [(s.speaker, s.role, s.turn) for s in src.segments][:2]
    [('I', 'moderator', 0), ('R', 'participant', 1)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from qualkit.ingest.layout import Layout
from qualkit.ingest.marks import find_marks
from qualkit.ingest.participants import ParticipantIndex, is_moderator, session_matches
from qualkit.ingest.speakers import is_moderator_label, label_key, mentions_moderator, resolve_speakers
from qualkit.model import ImportReport, Participant, Segment, Source, Speaker

MAX_EXAMPLES = 5


def assemble(
    layout: Layout,
    *,
    name: str,
    format: str,
    raw: bytes | None = None,
    encoding: str | None = None,
    path: str | None = None,
    aliases: Mapping[str, str] | None = None,
    participants: Sequence[Participant] | None = None,
    moderators: Sequence[str] | None = None,
    merge_speakers: bool = True,
    segment_by: str = "turn",
    window: int = 3,
    nlp: Any = None,
    warnings: Sequence[str] = (),
) -> Source:
    """Build the Source (segments, speakers, import report) from a layout; see the module docstring.

    Example:
        >>> from qualkit.ingest.layout import detect_layout
        >>> assemble(detect_layout("Ann: Hi.\\nBo: Hey.\\nAnn: Ok.\\n"), name="a.txt", format="txt").import_report.speakers
        {'Ann': 2, 'Bo': 1}
    """
    text = layout.text
    report = ImportReport(source=name, format=format, encoding=encoding, label_style=layout.label_style)
    report.warnings.extend(warnings)
    report.warnings.extend(layout.warnings)
    items = sorted(layout.items, key=lambda item: item.start)
    labels = list(dict.fromkeys(item.label for item in items if item.label))
    legend_by_key = {label_key(code): desc for code, desc in layout.legend.items()}

    index = ParticipantIndex(participants) if participants else None
    by_id = {p.id: p for p in participants or []}
    participant_of: dict[str, str] = {}
    of_other_session: dict[str, str] = {}  # label -> the participant of another session it matched (not linked)
    if index is not None:
        for label in labels:
            legend = legend_by_key.get(label_key(label))
            match = index.match(label, source_name=name, extra=[legend] if legend else [])
            elsewhere = _other_session(match, name, layout.metadata)
            if elsewhere is not None:
                of_other_session[label] = match.id
                # Transcription services call every interviewee "P1": a P1 of another session is someone else,
                # and the store does not link them either, so none of their attributes may reach this file.
                report.warnings.append(
                    f"speaker {label!r} in {name} matches only participant {match.id!r} of session {elsewhere!r}, "
                    "not this file's; not linked, and none of their attributes taken. Add this file's speaker to "
                    "the participants file with its own session (or rename the file to start with its session); "
                    "if it is the same person in a second interview, clear their session in the participants file")
            elif match is not None:
                participant_of[label] = match.id
            elif index.ambiguous(label, name):
                report.warnings.append(f"speaker {label!r} matches several participants "
                                       f"({', '.join(p.id for p in index.ambiguous(label, name))}); none linked; "
                                       "give them distinct pseudonyms or add a session column naming the file")
    preferred = {p.id: p.pseudonym for p in participants or [] if p.pseudonym}
    resolution = resolve_speakers(labels, aliases=aliases, participant_of=participant_of, preferred=preferred,
                                  merge=merge_speakers)
    canonical = resolution.canonical
    report.proposed_merges = dict(resolution.proposed)
    if resolution.proposed and merge_speakers:
        report.warnings.append(merge_warning(resolution.proposed))

    # ---- speakers
    speakers: dict[str, Speaker] = {}
    alias_seen: set[tuple[str, str]] = set()  # (speaker, alias): a set, so many variants stay linear
    for label in labels:
        target = canonical[label]
        speaker = speakers.get(target)
        if speaker is None:
            speaker = speakers[target] = Speaker(target)
        if label != target and (target, label) not in alias_seen:
            alias_seen.add((target, label))
            speaker.aliases.append(label)
        pid = participant_of.get(label)
        if pid is None and index is not None and target not in participant_of:
            match = index.match(target, source_name=name)
            pid = match.id if match and _other_session(match, name, layout.metadata) is None else None
        if pid is not None and speaker.participant is None:
            speaker.participant = pid
            speaker.attributes.update(by_id[pid].attributes)
        legend = legend_by_key.get(label_key(label))
        if legend:
            speaker.attributes.setdefault("legend", legend)
    _decide_roles(text, speakers, items, canonical, by_id, legend_by_key, moderators)
    if index is not None:
        # A moderator needs no participant row (the import already tags them): warning of them read as a fault.
        unlinked = [s.label for s in speakers.values() if s.participant is None and s.role != "moderator"
                    and not of_other_session.keys() & {s.label, *s.aliases}]
        if unlinked:
            report.warnings.append(f"{len(unlinked)} speaker(s) match no participant ({', '.join(unlinked[:8])}); "
                                   "add them to the participants file, or give each label as an alias of its participant")

    # ---- segments
    segments: list[Segment] = []
    cue_times: dict[str, list[list[float]]] = {}
    cue_offsets: dict[str, list[list[int]]] = {}
    turn = -1
    for item in items:
        body = text[item.start:item.end]
        marks = find_marks(text, item.start, item.end)
        if item.kind in ("turn", "row") and (item.label or item.participant):
            speaker = speakers.get(canonical.get(item.label, "")) if item.label else None
            if not item.continued:
                turn += 1
            if speaker is not None and item.kind == "turn" and not item.continued:
                speaker.turns += 1
            if speaker is not None:
                speaker.words += len(body.split())
            pid = item.participant or (speaker.participant if speaker else None)
            attributes = dict(by_id[pid].attributes) if pid in by_id else dict(speaker.attributes if speaker else {})
            attributes.update(item.attributes)
            if "cues" in attributes:  # cue times live in the source metadata, keyed by turn (not a column)
                cue_times.setdefault(str(turn), []).extend(attributes.pop("cues"))
            if "cue_offsets" in attributes:
                cue_offsets.setdefault(str(turn), []).extend(attributes.pop("cue_offsets"))
            segments.append(Segment(
                source=name, start=item.start, end=item.end, text=body, speaker=speaker.label if speaker else None,
                role=speaker.role if speaker else "participant", kind=item.kind,
                turn=turn,
                time_start=item.time_start, time_end=item.time_end, marks=marks, attributes=attributes,
                participant=pid,
            ))
        elif item.kind == "row":
            turn += 1
            segments.append(Segment(source=name, start=item.start, end=item.end, text=body, speaker=None,
                                    role="participant", kind="row", turn=turn, time_start=item.time_start,
                                    time_end=item.time_end, marks=marks, attributes=dict(item.attributes)))
        else:
            kind = "legend" if item.kind == "legend" else "unattributed"
            attributes = {k: v for k, v in item.attributes.items() if k != "cue_offsets"}
            segments.append(Segment(source=name, start=item.start, end=item.end, text=body, speaker=None,
                                    role=None, kind=kind, time_start=item.time_start, time_end=item.time_end,
                                    marks=marks, attributes=attributes))
            if kind == "unattributed":
                report.unattributed += 1
                if len(report.unattributed_examples) < MAX_EXAMPLES:
                    report.unattributed_examples.append(body if len(body) <= 80 else body[:77] + "...")
    report.speakers = {s.label: s.turns for s in speakers.values()}
    report.moderators = [s.label for s in speakers.values() if s.role == "moderator"]
    report.marks = sum(len(s.marks) for s in segments)
    metadata: dict[str, Any] = dict(layout.metadata)
    if path is not None:
        metadata["path"] = path
    metadata["label_spans"] = [list(span) for span in layout.label_spans]
    if of_other_session:  # the store must not link them by label either (participant_lookup reads this)
        declined: dict[str, list[str]] = {}
        for label, pid in of_other_session.items():
            for said in dict.fromkeys((label, canonical[label])):
                declined.setdefault(said, []).append(pid)
        metadata["other_session_participants"] = declined
    if layout.legend:
        metadata["legend"] = dict(layout.legend)
    if cue_times:
        metadata["cues"] = cue_times
    if cue_offsets:
        metadata["cue_offsets"] = cue_offsets
    source = Source(name=name, text=text, format=format, raw=raw, encoding=encoding, segments=segments,
                    speakers=list(speakers.values()), metadata=metadata, import_report=report)
    if segment_by != "turn":
        from qualkit.ingest.segment import segment

        source.segments = segment(source, by=segment_by, window=window, nlp=nlp)
    report.segments = len(source.segments)
    if not any(s.kind in ("turn", "row", "sentence", "window") for s in source.segments):
        report.warnings.append("no speaker turns were recognised; every line is unattributed. Check how speakers "
                               "are written (e.g. 'Name: words'), or name the speakers in the participants list or "
                               "the speaker aliases")
    return source


def merge_warning(proposed: Mapping[str, str], *, shown: int = 5) -> str:
    """The import report's plain-language note on labels read as one speaker.

    Example:
        >>> merge_warning({"Dr Smith": "Jill Smith, MD"})[:74]
        "merged 1 label variant(s) into one speaker each: 'Dr Smith' as 'Jill Smith"
    """
    pairs = list(proposed.items())
    listed = ", ".join(f"{alias!r} as {target!r}" for alias, target in pairs[:shown])
    if len(pairs) > shown:
        listed += f" and {len(pairs) - shown} more"
    # the example is a real name variant rather than a case variant (MODERATOR/Moderator), where there is one
    example = next((a for a, t in pairs if a.casefold() != t.casefold()), pairs[0][0] if pairs else "Dr Smith")
    return (f"merged {len(pairs)} label variant(s) into one speaker each: {listed}. If one is a different person, "
            f"keep it apart with a speaker alias mapping the label to itself ({example} = {example} on the Study "
            "page, --aliases on the command line)")


def _other_session(participant: Participant | None, name: str, metadata: Mapping[str, Any]) -> str | None:
    """The session of a matched participant when it names another file than this one (else None)."""
    value = participant.attributes.get("session") if participant is not None else None
    if value is None or str(value) == "" or session_matches(str(value), name, dict(metadata)):
        return None
    return str(value)


def _decide_roles(
    text: str,
    speakers: dict[str, Speaker],
    items: Sequence[Any],
    canonical: Mapping[str, str],
    by_id: Mapping[str, Participant],
    legend_by_key: Mapping[str, str],
    moderators: Sequence[str] | None,
) -> None:
    """Set ``Speaker.role``: explicit list, participants' role, label/legend wording, then question share."""
    if moderators is not None:
        wanted = {label_key(m) for m in moderators}
        for speaker in speakers.values():
            names = [speaker.label, *speaker.aliases]
            speaker.role = "moderator" if any(label_key(n) in wanted for n in names) else "participant"
        return
    decided: set[str] = set()
    for speaker in speakers.values():
        p = by_id.get(speaker.participant or "")
        if p is not None and "role" in p.attributes:
            speaker.role = "moderator" if is_moderator(p) else "participant"
            decided.add(speaker.label)
            continue
        names = [speaker.label, *speaker.aliases]
        if any(is_moderator_label(n) or mentions_moderator(legend_by_key.get(label_key(n), "")) for n in names):
            speaker.role = "moderator"
            decided.add(speaker.label)
    if any(s.role == "moderator" for s in speakers.values()):
        return
    turns: Counter[str] = Counter()
    questions: Counter[str] = Counter()
    for item in items:
        if item.kind == "turn" and item.label and not item.continued:
            target = canonical[item.label]
            turns[target] += 1
            questions[target] += "?" in text[item.start:item.end]
    shares = {label: questions[label] / turns[label] for label in turns if turns[label] >= 3
              and label not in decided}
    if len(shares) < 1:
        return
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    best, share = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if share >= 0.4 and share >= 2 * runner_up and len(turns) >= 2:
        speakers[best].role = "moderator"
