"""Limits that keep a project usable, and the checks that make a read source safe to store.

One hostile file must not disable a project: a CSV with a million columns would become a million
participant/segment attributes (and a million columns in every analysis and export). So every reader
works within :class:`Limits` and refuses a file over one of them with a one-line error naming the file
and the limit. The defaults are far above real transcripts (a two-hour focus group has a few hundred
turns, a dozen speakers and lines of a few thousand characters):

==============================  ===========  =====================================================
file size                       50 MB        ``max_bytes=`` / ``--max-mb``
line length                     1,000,000    characters in one line of the canonical text
columns in a table              1,000        CSV/Excel transcripts and participants files
attributes per participant      200          also per segment (a table's other columns)
speakers per file               10,000       distinct labels, before merging
segments per file               100,000      turns, rows, subtitle cues, legend and unattributed lines
==============================  ===========  =====================================================

:func:`check_text` refuses text a database cannot hold the same on every backend: NUL characters
(PostgreSQL refuses them) and lone surrogates (not encodable as UTF-8). :func:`check_source` checks a
finished :class:`~qualkit.model.Source` against the limits and the store's column sizes before
anything is written; messages name the file and line, and never quote the transcript's text.

Example:
    >>> Limits().speakers
    10000
    >>> check_text("Ann: hi\\nBo: \\x00", "g1.txt")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    qualkit.errors.InvalidTranscript: g1.txt:2: the text contains a NUL character (code 0) ...
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qualkit.errors import InvalidInput, InvalidTranscript
from qualkit.model import Participant, Source

# Column sizes of the store (qualkit/store/schema.py): longer values would fail on PostgreSQL.
MAX_NAME_CHARS = 500  # sources.name
MAX_LABEL_CHARS = 200  # segments.speaker, participants.label / pseudonym
MAX_KEY_CHARS = 200  # an attribute's name (a column header)

_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
_LINE = re.compile(r"[^\r\n]+")
_NUMERIC_METADATA = frozenset({"label_spans", "cues", "cue_offsets"})  # offsets and times: no text to check


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one file may hold (see the module docstring); pass your own to raise one.

    Example:
        >>> Limits(speakers=50_000).segments
        100000
    """

    file_bytes: int = 50_000_000
    line_chars: int = 1_000_000
    columns: int = 1_000
    attributes: int = 200
    speakers: int = 10_000
    segments: int = 100_000

    def replace(self, **changes: int) -> Limits:
        """A copy with some limits changed.

        Example:
            >>> Limits().replace(columns=5).columns
            5
        """
        return dataclasses.replace(self, **changes)


DEFAULT_LIMITS = Limits()


def over_limit(what: str, count: int, limit: int, path: str | os.PathLike[str] | None, *,
               line: int | None = None, fix: str | None = None, error: type = InvalidTranscript) -> Exception:
    """The one-line error for a file over a limit (``has 1,000,000 columns, over the limit of 1,000``).

    Example:
        >>> str(over_limit("columns", 1_000_000, 1_000, "wide.csv", line=1)).split(". Fix")[0]
        'wide.csv:1: the file has 1,000,000 columns, over the limit of 1,000'
    """
    return error(f"the file has {count:,} {what}, over the limit of {limit:,}", path=path, line=line,
                 fix=fix or "split the file, or raise the limit (limits=Limits(...)) if it is genuine")


def describe_exception(exc: BaseException, limit: int = 120) -> str:
    """``Type: message`` of an unexpected exception, on one line and cut to ``limit`` characters.

    Used where a library's own error is shown inside a qualkit error, so a message never carries a
    file's content (a zip header, a row of a million cells) or spans lines.

    Example:
        >>> describe_exception(ValueError("bad\\nvalue " + "x" * 200))[:24]
        'ValueError: bad value xx'
    """
    text = " ".join(str(exc).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def line_of(text: str, offset: int) -> int:
    """The 1-based line of a code-point offset (CRLF, CR and LF end lines).

    Example:
        >>> line_of("a\\r\\nb\\rc", 5)
        3
    """
    head = text[:offset]
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1


def check_text(text: str, path: str | os.PathLike[str] | None, *, what: str = "the text",
               error: type = InvalidTranscript) -> None:
    """Refuse NUL characters and lone surrogates, naming the line (never quoting the text).

    Example:
        >>> check_text("Ann: café ☕", "g1.txt") is None
        True
    """
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return
    code = ord(match.group())
    kind = "a NUL character (code 0)" if code == 0 else f"a lone surrogate (U+{code:04X}), which is not text"
    raise error(f"{what} contains {kind}", path=path, line=line_of(text, match.start()),
                fix="remove it (or save the file again from its program as UTF-8), then import it again")


def check_line_length(text: str, path: str | os.PathLike[str] | None, limit: int) -> None:
    """Refuse a line longer than ``limit`` characters, naming it (linear in the text).

    Example:
        >>> check_line_length("short\\n" + "x" * 20, "a.txt", 10)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: a.txt:2: the file has a line of 20 characters, over the limit of 10 ...
    """
    if len(text) <= limit:
        return
    for match in _LINE.finditer(text):  # each match is a whole line, so this is linear
        length = match.end() - match.start()
        if length <= limit:
            continue
        raise InvalidTranscript(f"the file has a line of {length:,} characters, over the limit of {limit:,}",
                                path=path, line=line_of(text, match.start()),
                                fix="break the text into lines or paragraphs, or raise the limit "
                                    "(limits=Limits(line_chars=...))")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def check_layout(layout: Any, path: str | os.PathLike[str] | None, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a reader's layout with more segments or distinct speaker labels than the limits, before speakers
    are resolved (so a file of 100,000 speakers costs one pass, not the work of resolving them).

    Example:
        >>> from qualkit.ingest.layout import Item, Layout
        >>> layout = Layout("A: x\\nB: y", items=[Item("turn", 3, 4, label="A"), Item("turn", 8, 9, label="B")])
        >>> check_layout(layout, "a.txt", Limits(speakers=1))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: a.txt: the file has 2 speakers, over the limit of 1 ...
    """
    if len(layout.items) > limits.segments:
        raise over_limit("segments", len(layout.items), limits.segments, path,
                         fix="split the transcript into several files, or raise the limit "
                             "(limits=Limits(segments=...))")
    labels = {item.label for item in layout.items if item.label}
    if len(labels) > limits.speakers:
        raise over_limit("speakers", len(labels), limits.speakers, path,
                         fix="check the speaker column or labels; split the file, or raise the limit "
                             "(limits=Limits(speakers=...))")
    check_text(layout.text, path)
    check_line_length(layout.text, path, limits.line_chars)


def check_source(source: Source, limits: Limits = DEFAULT_LIMITS, *, path: str | os.PathLike[str] | None = None
                 ) -> None:
    """Refuse a read source that breaks a limit or that a database column could not hold as it is.

    Checked: segments and speakers per file, line length, NUL and lone surrogates anywhere in the text,
    labels, attributes and metadata, label and name lengths, attributes per segment.

    Example:
        >>> from qualkit.model import Segment
        >>> src = Source("a.txt", "Ann: hi", "txt", segments=[Segment("a.txt", 5, 7, "hi", speaker="Ann")])
        >>> check_source(src) is None
        True
    """
    where = path if path is not None else source.name
    if len(source.name) > MAX_NAME_CHARS:
        raise InvalidTranscript(f"the file name has {len(source.name):,} characters, over the limit of "
                                f"{MAX_NAME_CHARS}", path=source.name[:60] + "…", fix="rename the file")
    check_text(source.name, where, what="the file name")
    if len(source.segments) > limits.segments:
        raise over_limit("segments", len(source.segments), limits.segments, where,
                         fix="split the transcript into several files, or raise the limit "
                             "(limits=Limits(segments=...))")
    if len(source.speakers) > limits.speakers:
        raise over_limit("speakers", len(source.speakers), limits.speakers, where,
                         fix="check the speaker column or labels; split the file, or raise the limit "
                             "(limits=Limits(speakers=...))")
    check_text(source.text, where)
    check_line_length(source.text, where, limits.line_chars)
    for speaker in source.speakers:
        for label in (speaker.label, *speaker.aliases):
            if len(label) > MAX_LABEL_CHARS:
                raise InvalidTranscript(f"a speaker label has {len(label):,} characters, over the limit of "
                                        f"{MAX_LABEL_CHARS}", path=where,
                                        fix="check the speaker column or labels; shorten the label")
            check_text(label, where, what="a speaker label")
    for segment in source.segments:
        if len(segment.attributes) > limits.attributes:
            raise over_limit("attributes on one segment", len(segment.attributes), limits.attributes, where,
                             line=segment.attributes.get("row") if isinstance(segment.attributes.get("row"), int)
                             else None,
                             fix="keep only the columns you need, or raise the limit (limits=Limits(attributes=...))")
        if segment.attributes:
            for text in _strings(segment.attributes):
                check_text(text, where, what="a column value")
            for key in segment.attributes:
                if len(str(key)) > MAX_KEY_CHARS:
                    raise InvalidTranscript(f"a column name has {len(str(key)):,} characters, over the limit of "
                                            f"{MAX_KEY_CHARS}", path=where, fix="shorten the column names")
    for key, value in source.metadata.items():
        if key in _NUMERIC_METADATA:
            continue
        for text in _strings(value):
            check_text(text, where, what="the file's details")


def check_participants(participants: Iterable[Participant], limits: Limits = DEFAULT_LIMITS, *,
                       path: str | os.PathLike[str] | None = None) -> None:
    """Refuse participants whose ids, labels or attributes the store could not hold, or too many attributes.

    Example:
        >>> check_participants([Participant("R1", attributes={"role": "nurse"})]) is None
        True
        >>> check_participants([Participant("R1\\x00")], path="p.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: p.csv: participant 1's id contains a NUL character (code 0) ...
    """
    for number, participant in enumerate(participants, start=1):
        who = f"participant {number}"
        for what, value in (("id", participant.id), ("pseudonym", participant.pseudonym),
                            *(("alias", a) for a in participant.aliases)):
            if value is None:
                continue
            if len(str(value)) > MAX_LABEL_CHARS:
                raise InvalidInput(f"{who}'s {what} has {len(str(value)):,} characters, over the limit of "
                                   f"{MAX_LABEL_CHARS}", path=path, fix=f"shorten the {what}")
            check_text(str(value), path, what=f"{who}'s {what}", error=InvalidInput)
        if len(participant.attributes) > limits.attributes:
            raise over_limit("attributes per participant", len(participant.attributes), limits.attributes, path,
                             error=InvalidInput,
                             fix="keep only the columns you need, or raise the limit (limits=Limits(attributes=...))")
        for key in participant.attributes:
            if len(str(key)) > MAX_KEY_CHARS:
                raise InvalidInput(f"a column name has {len(str(key)):,} characters, over the limit of "
                                   f"{MAX_KEY_CHARS}", path=path, fix="shorten the column names")
        for text in _strings(participant.attributes):
            check_text(text, path, what=f"{who}'s attributes", error=InvalidInput)
