"""The transcript reader registry: one line per format, naming its file suffixes and its reader function.

:func:`qualkit.ingest.read_transcript`, the CLI (``qualkit import``: which files a folder holds,
``--format``), the app's upload box and :meth:`qualkit.Project.transcript_formats` all read this
table, so a new format is one new module with a reader function plus one line in :data:`READERS`.

A reader function has the signature ``reader(data, path, *, known, limits, **options) -> Layout``:
``data`` is the decoded text (``binary=False``: the registry decodes the bytes first, detecting the
encoding) or the raw bytes (``binary=True``, for zip formats such as .docx); ``path`` is what error
messages name; ``known`` holds label keys that are speakers for sure (participants, aliases);
``limits`` is a :class:`~qualkit.ingest.limits.Limits` (file size, columns... a reader refuses what exceeds them);
``options`` are the reader's own keyword options, declared in ``options``. It returns a
:class:`~qualkit.ingest.layout.Layout` (canonical text, turns, label spans); speakers, roles, marks
and segments are built from it by :func:`qualkit.ingest.assemble.assemble`, the same for every format.

Example:
    >>> reader_for(".VTT").name, reader_for("word").name
    ('vtt', 'docx')
    >>> [r.name for r in READERS.values()]
    ['txt', 'md', 'docx', 'vtt', 'srt', 'csv', 'xlsx']
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidTranscript

TABLE_OPTIONS = ("columns", "sheet", "delimiter")


@dataclass(frozen=True, slots=True)
class Reader:
    """One transcript format: its name, file suffixes, reader function (``"module:function"``) and options.

    ``sniff`` (optional) recognises the format from a file's first bytes when the suffix says nothing.

    Example:
        >>> Reader("toy", (".toy",), "qualkit.ingest.text:text_layout", "toy transcripts").suffixes
        ('.toy',)
    """

    name: str
    suffixes: tuple[str, ...]
    function: str
    description: str
    binary: bool = False
    options: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    sniff: Callable[[bytes], bool] | None = None

    def load(self) -> Callable[..., Any]:
        """The reader function, imported on first use (so python-docx or openpyxl load only when needed).

        Example:
            >>> READERS["txt"].load().__name__
            'text_layout'
        """
        module, _, function = self.function.partition(":")
        return getattr(importlib.import_module(module), function)


def _head(raw: bytes) -> bytes:
    return raw[:200].lstrip(b"\xef\xbb\xbf \t\r\n")


def _sniff_vtt(raw: bytes) -> bool:
    return _head(raw).startswith(b"WEBVTT")


def _sniff_srt(raw: bytes) -> bool:
    return re.match(rb"\d+\s*\r?\n\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", _head(raw)) is not None


def _sniff_xlsx(raw: bytes) -> bool:
    return raw.startswith(b"PK\x03\x04") and b"xl/workbook" in raw[:20000]


def _sniff_docx(raw: bytes) -> bool:
    return raw.startswith(b"PK\x03\x04") and b"xl/workbook" not in raw[:20000]


# The registry. Order matters only for sniffing (first match wins) and for listings.
READERS: dict[str, Reader] = {reader.name: reader for reader in (
    Reader("txt", (".txt", ".text"), "qualkit.ingest.text:text_layout", "plain text", aliases=("text",)),
    Reader("md", (".md", ".markdown"), "qualkit.ingest.text:text_layout", "Markdown", aliases=("markdown",)),
    Reader("docx", (".docx",), "qualkit.ingest.word:docx_layout", "Word", binary=True, aliases=("word",),
           sniff=_sniff_docx),
    Reader("vtt", (".vtt",), "qualkit.ingest.vtt:vtt_layout", "WebVTT subtitles", sniff=_sniff_vtt),
    Reader("srt", (".srt",), "qualkit.ingest.srt:srt_layout", "SubRip subtitles", sniff=_sniff_srt),
    Reader("csv", (".csv", ".tsv"), "qualkit.ingest.tabular:csv_layout", "CSV/TSV table", options=TABLE_OPTIONS,
           aliases=("tsv",)),
    Reader("xlsx", (".xlsx", ".xlsm"), "qualkit.ingest.tabular:excel_layout", "Excel", binary=True,
           options=TABLE_OPTIONS, aliases=("excel", "xlsm"), sniff=_sniff_xlsx),
)}

# Files people try that no reader takes, with what to do instead.
UNSUPPORTED: dict[str, str] = {
    ".doc": "open it in Word and save it as .docx",
    ".xls": "open it in Excel and save it as .xlsx",
    ".rtf": "open it in Word and save it as .docx, or save it as plain text",
    ".pdf": "copy the text into a .txt file, or export the transcript from its source as .docx",
    ".odt": "save it as .docx from LibreOffice",
    ".pages": "export it as .docx from Pages",
    ".qdpx": "import REFI-QDA projects with the export/refi tools, not as a transcript",
}


def suffixes() -> list[str]:
    """Every file suffix some reader takes, in registry order (``[".txt", ".text", ".md", ...]``).

    Example:
        >>> ".docx" in suffixes() and ".pdf" not in suffixes()
        True
    """
    return [suffix for reader in READERS.values() for suffix in reader.suffixes]


def transcript_files(paths: Any) -> list[Path]:
    """Files as given, and in each folder (not its sub-folders) the files some reader takes, sorted by name.

    The CLI and :meth:`qualkit.Project.import_transcripts` both take folders this way.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("b.txt", "a.vtt", "notes.pdf", ".hidden.txt"):
        ...     _ = (folder / name).write_text("Ann: hi")
        >>> [p.name for p in transcript_files([folder])]
        ['a.vtt', 'b.txt']
    """
    known = set(suffixes())
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                                and p.suffix.lower() in known))
        else:
            files.append(path)
    return files


def format_names() -> list[str]:
    """The format names a user may pass as ``format=`` / ``--format`` (registry order).

    Example:
        >>> format_names()[:3]
        ['txt', 'md', 'docx']
    """
    return list(READERS)


def describe() -> str:
    """A one-line list of the formats for help texts and upload boxes.

    Example:
        >>> describe().startswith("plain text (.txt .text), Markdown (.md .markdown), Word (.docx)")
        True
    """
    return ", ".join(f"{r.description} ({' '.join(r.suffixes)})" for r in READERS.values())


def reader_for(name_or_suffix: str, *, path: str | os.PathLike[str] | None = None) -> Reader:
    """The reader for a format name, an alias (``word``, ``excel``) or a suffix (``.VTT``).

    Raises :class:`InvalidTranscript` listing the known formats when none matches.

    Example:
        >>> reader_for("markdown").name, reader_for(".TSV").name
        ('md', 'csv')
    """
    key = name_or_suffix.strip().lower()
    for reader in READERS.values():
        if key == reader.name or key in reader.aliases or key in reader.suffixes or "." + key in reader.suffixes:
            return reader
    raise InvalidTranscript(f"unknown format {name_or_suffix!r}", path=path,
                            fix=f"use one of {', '.join(format_names())}")


def detect_format(path: str | os.PathLike[str], raw: bytes | None = None) -> str:
    """The format of a file: by suffix, else by content (WEBVTT header, SRT cue, zip members), else ``txt``.

    Example:
        >>> detect_format("group1.VTT"), detect_format("notes", b"WEBVTT\\n\\n")
        ('vtt', 'vtt')
    """
    suffix = Path(path).suffix.lower()
    for reader in READERS.values():
        if suffix in reader.suffixes:
            return reader.name
    if suffix in UNSUPPORTED:
        raise InvalidTranscript(f"{suffix} files cannot be read", path=path, fix=UNSUPPORTED[suffix])
    if raw is not None:
        for reader in READERS.values():
            if reader.sniff is not None and reader.sniff(raw):
                return reader.name
    return "txt"
