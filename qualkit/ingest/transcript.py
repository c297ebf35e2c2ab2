r"""Read one transcript (a path, bytes, a file object or text) into a :class:`~qualkit.model.Source`.

The reader is chosen from :data:`qualkit.ingest.readers.READERS`; see :mod:`qualkit.ingest` for the formats
and the accounting every reader keeps. Kept apart from the package so that the batch importer and the
de-identifier can read with it without importing the package that dispatches to them.

Example:
    >>> source = read_transcript(text="Ann: How was it?\nBo: Long.\nAnn: Why?\nBo: Paperwork.\n", name="a.txt")
    >>> [s.speaker for s in source.segments if s.kind == "turn"]
    ['Ann', 'Bo', 'Ann', 'Bo']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from qualkit.errors import InvalidTranscript, QualkitError
from qualkit.ingest.encoding import decode_bytes, read_bytes
from qualkit.ingest.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_layout,
    check_line_length,
    check_source,
    check_text,
    describe_exception,
)
from qualkit.ingest.participants import ParticipantsLike, read_participants
from qualkit.ingest.readers import READERS, detect_format, reader_for
from qualkit.ingest.speakers import label_key
from qualkit.model import Participant, Source

# suffix -> format name, derived from the registry (kept for callers that look a suffix up)
FORMATS: dict[str, str] = {suffix: reader.name for reader in READERS.values() for suffix in reader.suffixes}

TranscriptInput = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]


def read_transcript(
    source: TranscriptInput | None = None,
    *,
    text: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
    participants: ParticipantsLike | None = None,
    segment_by: str = "turn",
    window: int = 3,
    max_bytes: int | None = None,
    limits: Limits | None = None,
    name: str | None = None,
    **options: Any,
) -> Source:
    """Read one transcript into a Source with segments, speakers and an import report.

    ``source`` is a path, the file's bytes, or an open file (binary or text); or pass the decoded
    ``text=`` itself (a REFI-QDA source, a pasted transcript). ``name`` names the source (default: the
    file name; for bytes, text and files without a name ``transcript.<format>``) and is what errors
    point at when there is no path. The reader comes from :data:`qualkit.ingest.readers.READERS`:
    ``format`` names it (``txt``, ``md``, ``docx``, ``vtt``, ``srt``, ``csv``, ``xlsx``, or an alias
    such as ``word``), else the suffix of the path or ``name``, else the content; text defaults to ``txt``.

    ``encoding`` overrides detection for text formats; ``aliases`` maps a label as written to the
    speaker it is (``{"Dr Smith": "Jill Smith, MD"}``; map a label to itself to stop a proposed merge);
    ``participants`` (CSV/Excel path, DataFrame or list) attaches attributes and roles;
    ``segment_by`` is ``turn`` (default), ``sentence`` or ``window`` (``window`` sentences within a turn).
    ``limits`` (:class:`~qualkit.ingest.limits.Limits`) caps file size, line length, columns, attributes,
    speakers and segments; ``max_bytes`` sets just the size. A file over a limit, or one no reader can
    make sense of, raises :class:`~qualkit.errors.InvalidTranscript` naming the file (and line where
    there is one); so do NUL characters and lone surrogates, refused before anything is stored.

    Other ``options``: ``moderators=[labels]`` (override role detection), ``merge_speakers=False``
    (only propose merges), ``nlp=`` (a spaCy pipeline for sentences), and the reader's own options
    (CSV/Excel: ``columns={"text": ..., "speaker": ..., "time": ..., "id": ..., "group": ...}``,
    ``sheet=``, ``delimiter=``).

    Example:
        >>> src = read_transcript(text="Ann: Tired.\\nBo: Me too.\\nAnn: Nights.\\n", name="g1.txt")
        >>> [(s.speaker, s.text) for s in src.segments][:2]
        [('Ann', 'Tired.'), ('Bo', 'Me too.')]
        >>> import io
        >>> read_transcript(io.BytesIO(b"WEBVTT\\n\\n00:01.000 --> 00:02.000\\n<v Ann>Hi</v>\\n")).format
        'vtt'
    """
    from qualkit.ingest.assemble import assemble

    limits = limits or DEFAULT_LIMITS
    if max_bytes is not None:
        limits = limits.replace(file_bytes=max_bytes)
    raw, decoded_text, path, given = _take_input(source, text, name=name, max_bytes=limits.file_bytes)
    label = str(path) if path is not None else given or "transcript"  # what messages name
    if format is not None:
        reader = reader_for(format, path=label)
    elif decoded_text is not None:
        suffix = Path(label).suffix.lower()
        reader = READERS[FORMATS[suffix]] if suffix in FORMATS else READERS["txt"]
    else:
        reader = READERS[detect_format(label, raw)]
    name = given or (path.name if path is not None else f"transcript{reader.suffixes[0]}")
    roster: list[Participant] | None = read_participants(participants) if participants is not None else None
    known = {label_key(k) for k in (aliases or {})} | {label_key(v) for v in (aliases or {}).values()}
    if roster:
        from qualkit.ingest.participants import ParticipantIndex

        known |= ParticipantIndex(roster).known_keys()
    moderators = options.pop("moderators", None)
    merge_speakers = options.pop("merge_speakers", True)
    nlp = options.pop("nlp", None)
    unknown = sorted(set(options) - set(reader.options))
    if unknown:
        accepted = f"the {reader.description} reader takes {', '.join(o + '=' for o in reader.options)}" \
            if reader.options else f"the {reader.description} reader takes no options of its own"
        raise InvalidTranscript(f"unknown option(s) {', '.join(unknown)} for this format", path=label,
                                fix=f"{accepted}; check the spelling")
    warnings: list[str] = []
    encoding_used: str | None = None
    if reader.binary:
        if raw is None:
            raise InvalidTranscript(f"a {reader.description} file cannot be given as text", path=label,
                                    fix="pass its path, its bytes or a file opened in binary mode ('rb')")
        data: str | bytes = raw
    else:
        if decoded_text is not None:
            data, encoding_used = decoded_text, "utf-8"
        else:
            decoded = decode_bytes(raw, label, encoding=encoding)
            data, encoding_used = decoded.text, decoded.encoding
            warnings.extend(decoded.warnings)
        check_text(data, label)  # before any reader: NUL and lone surrogates are refused with their line
        check_line_length(data, label, limits.line_chars)
        if decoded_text is not None:
            raw = decoded_text.encode("utf-8")
    try:
        layout = reader.load()(data, label, known=known, limits=limits, **options)
        check_layout(layout, label, limits)
        result = assemble(
            layout, name=name, format=reader.name, raw=raw, encoding=encoding_used,
            path=str(path) if path is not None else None,
            aliases=aliases, participants=roster, moderators=moderators, merge_speakers=merge_speakers,
            segment_by=segment_by, window=window, nlp=nlp, warnings=warnings,
        )
        check_source(result, limits, path=label)
    except QualkitError:
        raise
    except (Exception, RecursionError) as exc:  # a reader's or library's own error on a hostile file
        raise InvalidTranscript(f"the file could not be read ({describe_exception(exc)})", path=label,
                                fix="open it in the program that made it and save it again; if it then still "
                                    "fails, please report the file to the qualkit authors") from None
    return result


def _take_input(source: Any, text: str | None, *, name: str | None,
                max_bytes: int) -> tuple[bytes | None, str | None, Path | None, str | None]:
    """``(raw bytes, decoded text, path, name)`` from whatever the caller passed; sizes checked, reads bounded."""
    if (source is None) == (text is None):
        raise InvalidTranscript("pass either a transcript (a path, bytes or an open file) or text=, not both",
                                path=name, fix="read_transcript('g1.txt') or read_transcript(text=..., name='g1.txt')")
    if text is not None:
        if not isinstance(text, str):
            raise InvalidTranscript(f"text= must be a string, not {type(text).__name__}", path=name,
                                    fix="pass bytes or a file as the first argument instead")
        _check_size(len(text), name or "transcript", max_bytes)
        return None, text, None, name
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return read_bytes(path, max_bytes=max_bytes), None, path, name
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
    elif hasattr(source, "read"):
        given = getattr(source, "name", None)  # an open file knows its path
        if name is None and isinstance(given, str) and given and not given.startswith("<"):
            name = Path(given).name
        try:
            chunk = _read_bounded(source, max_bytes + 1)  # never more than the limit (plus one to notice it)
        except (OSError, ValueError, UnicodeError) as exc:
            raise InvalidTranscript(f"the file cannot be read ({type(exc).__name__})", path=name or "transcript",
                                    fix="pass the path instead, or open the file in binary mode ('rb')") from None
        if isinstance(chunk, str):
            _check_size(len(chunk), name or "transcript", max_bytes)
            return None, chunk, None, name
        raw = bytes(chunk)
    else:
        raise InvalidTranscript(f"cannot read a transcript from a {type(source).__name__}", path=name,
                                fix="pass a path, bytes, an open file, or text=")
    _check_size(len(raw), name or "transcript", max_bytes)
    return raw, None, None, name


def _read_bounded(handle: Any, limit: int, step: int = 1 << 20) -> bytes | str:
    """Up to ``limit`` bytes (or characters) of an open file, in steps (``read(limit)`` would reserve the limit)."""
    parts: list[Any] = []
    size = 0
    while size < limit:
        part = handle.read(min(step, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if not parts:
        return b""
    return ("" if isinstance(parts[0], str) else b"").join(parts)


def _check_size(size: int, label: str, max_bytes: int) -> None:
    if size > max_bytes:
        from qualkit.ingest.encoding import human_size

        raise InvalidTranscript(f"the transcript is over the limit of {human_size(max_bytes)}", path=label,
                                fix="split the transcript into smaller files, or raise the size limit (max_bytes)")


__all__ = ["FORMATS", "TranscriptInput", "read_transcript"]
