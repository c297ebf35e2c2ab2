"""Transcript ingestion: every format researchers have, speakers resolved, exact offsets, never a word lost.

``read_transcript`` reads one file into a :class:`~qualkit.model.Source` whose ``segments`` point into
``source.text`` by exact code-point offsets, whose ``speakers`` are resolved (aliases merged, roles
decided, participants attached) and whose ``import_report`` says what was understood. Readers:

=========================  ===============================================================
``.txt .text .md``         :mod:`qualkit.ingest.text` (label styles, legends, chrome)
``.docx``                  :mod:`qualkit.ingest.word` (paragraphs, bold-run labels, tables)
``.vtt`` / ``.srt``        :mod:`qualkit.ingest.vtt`, :mod:`qualkit.ingest.srt`
``.csv .tsv .xlsx .xlsm``  :mod:`qualkit.ingest.tabular` (column mapping guessed and reported)
=========================  ===============================================================

The canonical text of each format is fixed in CONTRIBUTING.md. Accounting (checked by the property
tests): every non-whitespace character of ``source.text`` lies in exactly one of a turn/row segment,
a legend segment, an unattributed segment, or a speaker-label prefix listed in
``source.metadata["label_spans"]``; segments never overlap; marks lie inside their segment.

Example:
    >>> import qualkit as qk
    >>> src = qk.read_transcript("tests/ingest/data/interview_ir.txt")  # doctest: +SKIP
    >>> src.import_report.moderators  # doctest: +SKIP
    ['I']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidTranscript
from qualkit.ingest.encoding import DEFAULT_MAX_BYTES, decode_bytes, read_bytes
from qualkit.ingest.participants import ParticipantsLike, read_participants
from qualkit.ingest.segment import segment
from qualkit.ingest.speakers import label_key
from qualkit.model import Participant, Source

FORMATS: dict[str, str] = {
    ".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".vtt": "vtt",
    ".srt": "srt", ".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
}
_UNSUPPORTED: dict[str, str] = {
    ".doc": "open it in Word and save it as .docx",
    ".xls": "open it in Excel and save it as .xlsx",
    ".rtf": "open it in Word and save it as .docx, or save it as plain text",
    ".pdf": "copy the text into a .txt file, or export the transcript from its source as .docx",
    ".odt": "save it as .docx from LibreOffice",
    ".pages": "export it as .docx from Pages",
    ".qdpx": "import REFI-QDA projects with the export/refi tools, not as a transcript",
}


def detect_format(path: str | os.PathLike[str], raw: bytes | None = None) -> str:
    """The reader for a file: by extension, else by content (WEBVTT header, SRT cue, zip members).

    Example:
        >>> detect_format("group1.VTT"), detect_format("notes", b"WEBVTT\\n\\n")
        ('vtt', 'vtt')
    """
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    if suffix in _UNSUPPORTED:
        raise InvalidTranscript(f"{suffix} files cannot be read", path=path, fix=_UNSUPPORTED[suffix])
    if raw is not None:
        head = raw[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"WEBVTT"):
            return "vtt"
        if raw.startswith(b"PK\x03\x04"):
            return "xlsx" if b"xl/workbook" in raw[:20000] else "docx"
        import re

        if re.match(rb"\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", head):
            return "srt"
    return "txt"


def read_transcript(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    encoding: str | None = None,
    aliases: Mapping[str, str] | None = None,
    participants: ParticipantsLike | None = None,
    segment_by: str = "turn",
    window: int = 3,
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
    **options: Any,
) -> Source:
    """Read one transcript file into a Source with segments, speakers and an import report.

    ``format`` overrides the extension (``txt``, ``md``, ``docx``, ``vtt``, ``srt``, ``csv``, ``xlsx``);
    ``encoding`` overrides detection for text formats; ``aliases`` maps a label as written to the
    speaker it is (``{"Dr Smith": "Jill Smith, MD"}``; map a label to itself to stop a proposed merge);
    ``participants`` (CSV/Excel path, DataFrame or list) attaches attributes and roles;
    ``segment_by`` is ``turn`` (default), ``sentence`` or ``window`` (``window`` sentences within a turn).

    Other ``options``: ``moderators=[labels]`` (override role detection), ``merge_speakers=False``
    (only propose merges), ``nlp=`` (a spaCy pipeline for sentences), ``columns={"text": ..., "speaker":
    ..., "time": ..., "id": ..., "group": ...}`` and ``sheet=`` for CSV/Excel, ``delimiter=`` for CSV.

    Example:
        >>> src = read_transcript("tests/ingest/data/podcast_webpage.txt")  # doctest: +SKIP
        >>> src.text[src.segments[3].start:src.segments[3].end] == src.segments[3].text  # doctest: +SKIP
        True
    """
    from qualkit.ingest.assemble import assemble

    path = Path(path)
    raw = read_bytes(path, max_bytes=max_bytes)
    fmt = (format or detect_format(path, raw)).lower().lstrip(".")
    fmt = {"markdown": "md", "text": "txt", "xlsm": "xlsx", "tsv": "csv", "excel": "xlsx", "word": "docx"}.get(fmt, fmt)
    if fmt not in set(FORMATS.values()):
        raise InvalidTranscript(f"unknown format {format!r}", path=path,
                                fix=f"use one of {sorted(set(FORMATS.values()))}")
    roster: list[Participant] | None = read_participants(participants) if participants is not None else None
    known = {label_key(k) for k in (aliases or {})} | {label_key(v) for v in (aliases or {}).values()}
    if roster:
        from qualkit.ingest.participants import ParticipantIndex

        known |= ParticipantIndex(roster).known_keys()
    moderators = options.pop("moderators", None)
    merge_speakers = options.pop("merge_speakers", True)
    nlp = options.pop("nlp", None)
    warnings: list[str] = []
    encoding_used: str | None = None
    if fmt in ("txt", "md", "vtt", "srt") or (fmt == "csv"):
        decoded = decode_bytes(raw, path, encoding=encoding)
        encoding_used = decoded.encoding
        warnings.extend(decoded.warnings)
        text = decoded.text
    if fmt in ("txt", "md"):
        _no_options(options, path)
        from qualkit.ingest.text import text_layout

        layout = text_layout(text, known=known)
    elif fmt == "docx":
        _no_options(options, path)
        from qualkit.ingest.word import docx_layout

        layout = docx_layout(raw, path, known=known, max_bytes=max_bytes)
    elif fmt == "vtt":
        _no_options(options, path)
        from qualkit.ingest.vtt import vtt_layout

        layout = vtt_layout(text, path, known=known)
    elif fmt == "srt":
        _no_options(options, path)
        from qualkit.ingest.srt import srt_layout

        layout = srt_layout(text, path, known=known)
    else:
        from qualkit.ingest.tabular import table_layout

        layout = table_layout(raw if fmt == "xlsx" else text, path, format=fmt, max_bytes=max_bytes, **options)
    return assemble(
        layout, name=name or path.name, format=fmt, raw=raw, encoding=encoding_used, path=str(path),
        aliases=aliases, participants=roster, moderators=moderators, merge_speakers=merge_speakers,
        segment_by=segment_by, window=window, nlp=nlp, warnings=warnings,
    )


def _no_options(options: Mapping[str, Any], path: Path) -> None:
    if options:
        raise InvalidTranscript(f"unknown option(s) {sorted(options)} for this format", path=path,
                                fix="columns=, sheet= and delimiter= apply to CSV/Excel only; check the spelling")


def import_transcripts(store: Any, paths: Sequence[str | os.PathLike[str]], **kwargs: Any) -> list[Any]:
    """Read and store several transcripts, each in its own transaction (see :mod:`qualkit.ingest.batch`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> import_transcripts(Store.create("sqlite://"), [])
        []
    """
    from qualkit.ingest.batch import import_transcripts as run

    return run(store, paths, **kwargs)


def deidentify(*args: Any, **kwargs: Any) -> Any:
    """Replace names, emails, phones and URLs with consistent pseudonyms (see :mod:`qualkit.ingest.deidentify`).

    Example:
        >>> from qualkit.model import Source
        >>> deidentify(Source("a.txt", "Mail ann@x.org", "txt")).source.text
        'Mail [EMAIL-1]'
    """
    from qualkit.ingest.deidentify import deidentify as run

    return run(*args, **kwargs)


__all__ = ["FORMATS", "deidentify", "detect_format", "import_transcripts", "read_participants", "read_transcript",
           "segment"]
