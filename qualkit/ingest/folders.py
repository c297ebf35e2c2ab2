"""Which files of a study folder are transcripts: the rest is passed over with a note saying why.

A study folder holds more than transcripts: the codebook, the participants list, a second coder's
codings, qualkit's own exports and reports. Imported as transcripts, a codebook's example quotes
became participant talk. :func:`select_transcripts` reads the first row of each CSV/Excel file in a
folder and passes over the ones whose headers say what else they are; a file named on its own is
read as asked. It also lists the files of a folder no reader takes (``.pdf``, ``.doc``, ``.rtf``), so that
no interview is left out without a word.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "int01.txt").write_text("Ann: hi")
    >>> _ = (folder / "codebook.csv").write_text("name,definition,example quote\\nSleep,Rest,I slept")
    >>> chosen = select_transcripts([folder])
    >>> [p.name for p in chosen.files], [r.summary() for r in chosen.skipped]
    (['int01.txt'], ['codebook.csv: a codebook (columns name, definition, example quote), not a transcript; not imported'])
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.ingest.participants import header_key
from qualkit.ingest.readers import READERS, UNSUPPORTED, suffixes
from qualkit.ingest.tabular import guess_column
from qualkit.model import ImportReport

CODEBOOK_COLUMNS = ("definition", "description", "inclusion", "exclusion", "example", "parent", "category",
                    "near miss", "when to use", "when not to use")
"""Header beginnings that mark a codebook table (compared lower-cased, ``_`` and ``-`` read as spaces)."""
CODE_NAME_COLUMNS = ("name", "code", "code name", "code id", "id", "label", "tag")
PARTICIPANT_ID_COLUMNS = ("participant id", "participant", "id", "pid", "respondent id", "respondent", "subject id")
PARTICIPANT_COLUMNS = ("pseudonym", "alias", "aliases", "speaker label", "role", "session", "gender", "age",
                       "grade", "site", "group")
EXPORT_SHEETS = ("about", "codings", "codebook", "prevalence", "prevalence_tests", "cooccurrence", "memos",
                 "participants")
"""The sheets (and, exported as CSV, the files) of a qualkit export (``qualkit.export.tables``)."""
TABLE_FORMATS = ("csv", "xlsx")


@dataclass(slots=True)
class Selection:
    """The files to import, and the files of the folders passed over (each an ImportReport saying why).

    Example:
        >>> Selection().files
        []
    """

    files: list[Path] = field(default_factory=list)
    skipped: list[ImportReport] = field(default_factory=list)


def what_table(headers: Sequence[Any]) -> str | None:
    """What a table other than a transcript is, judged by its header row: ``codebook``, ``participants list``,
    ``codings table`` (coding records: a ``codes`` column), or None for a transcript or survey.

    Example:
        >>> what_table(["Code", "Description", "Example quote"]), what_table(["participant_id", "pseudonym", "role"])
        ('codebook', 'participants list')
        >>> what_table(["source", "turn", "codes"]), what_table(["respondent", "role", "What is hardest?"])
        ('codings table', None)
    """
    names = [header_key(h) for h in headers]
    if "codes" in names:
        return "codings table"
    marks = {mark for name in names for mark in CODEBOOK_COLUMNS if name.startswith(mark)}
    text_column = guess_column(list(map(str, headers)), "text")
    if len(marks) >= 2 or (marks and text_column is None and any(name in CODE_NAME_COLUMNS for name in names)):
        return "codebook"
    questions = any("?" in name or len(name) > 40 for name in names)  # a survey's questions, not attributes
    has_id = any(name in PARTICIPANT_ID_COLUMNS for name in names)
    attributes = [name for name in names if name in PARTICIPANT_COLUMNS]
    if not questions and text_column is None and (
            {"pseudonym", "alias", "aliases", "speaker label"} & set(attributes) or (has_id and attributes)):
        return "participants list"
    return None


def select_transcripts(paths: Sequence[Any], *, participants: Any = None) -> Selection:
    """Files as given, and in each folder (not its sub-folders) the transcripts, sorted by name; see the module.

    In a folder, a file no reader takes (``.pdf``, ``.doc``, ``.rtf``...: :data:`~qualkit.ingest.readers.UNSUPPORTED`)
    is passed over with a report saying what to save it as (:func:`unreadable_note` lists them in one line),
    other files of unknown kinds silently; and a CSV/Excel file is passed over when it is the ``participants`` file, or whose header row makes it a codebook, a participants
    list or coding records, or that is part of a qualkit export (the ``about`` sheet, or ``about.csv`` and its
    sibling tables) or a qualkit report (Markdown with its "## Methods" written by qualkit).

    Example:
        >>> select_transcripts(["a.txt"]).files
        [PosixPath('a.txt')]
    """
    chosen = Selection()
    roster = Path(participants).resolve() if isinstance(participants, str | Path) else None
    known = set(suffixes())
    for path in map(Path, paths):
        if not path.is_dir():
            chosen.files.append(path)
            continue
        entries = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        export_folder = any(p.name.lower() == "about.csv" and _is_about(_csv_header_rows(p, 2)) for p in entries)
        for entry in entries:
            suffix = entry.suffix.lower()
            if suffix not in known:
                if suffix in UNSUPPORTED:  # an interview saved as .pdf/.doc/.rtf is not left out without a word
                    chosen.skipped.append(_skip(entry, f"{UNREADABLE} {suffix} files; not imported "
                                                       f"({UNSUPPORTED[suffix]})"))
                continue
            why = _not_a_transcript(entry, roster, export_folder)
            if why is None:
                chosen.files.append(entry)
            else:
                chosen.skipped.append(_skip(entry, f"{why}, not a transcript; not imported"))
    return chosen


UNREADABLE = "qualkit cannot read"


def unreadable_note(skipped: Sequence[ImportReport]) -> str | None:
    """One line naming the files of a folder no reader takes, and what to save them as (None when there are none).

    Example:
        >>> unreadable_note(select_transcripts([]).skipped) is None
        True
        >>> unreadable_note([ImportReport("int15.pdf", "txt", skipped="qualkit cannot read .pdf files; not imported")])
        'skipped 1 file qualkit cannot read: int15.pdf (save it as .docx or .txt)'
    """
    names = [r.source for r in skipped if (r.skipped or "").startswith(UNREADABLE)]
    if not names:
        return None
    return (f"skipped {len(names)} file{'s' if len(names) != 1 else ''} qualkit cannot read: {', '.join(names)} "
            f"(save {'them' if len(names) != 1 else 'it'} as .docx or .txt)")


def _skip(path: Path, why: str) -> ImportReport:
    fmt = path.suffix.lower().lstrip(".") or "txt"
    return ImportReport(source=path.name, format=fmt if fmt in READERS else "txt", skipped=why)


def _not_a_transcript(path: Path, roster: Path | None, export_folder: bool) -> str | None:
    """Why a file of a folder is no transcript (a codebook, the participants list...), or None."""
    if roster is not None and path.resolve() == roster:
        return "the participants file (--participants)"
    suffix = path.suffix.lower()
    if suffix in READERS["md"].suffixes:
        head = _head_text(path)
        if re.search(r"^## Methods\s*$", head, re.M) and "with qualkit" in head:
            return "a qualkit report"
        return None
    fmt = next((r.name for r in READERS.values() if suffix in r.suffixes), None)
    if fmt not in TABLE_FORMATS:
        return None
    if fmt == "xlsx":
        sheets, header = _excel_header(path)
        if "about" in sheets and {"codings", "codebook"} <= set(sheets):
            return "a qualkit export (it has the about sheet)"
    else:
        rows = _csv_header_rows(path, 2)
        if _is_about(rows):
            return "a qualkit export (about.csv)"
        if export_folder and path.stem.lower() in EXPORT_SHEETS:
            return "a table of a qualkit export (about.csv is beside it)"
        header = rows[0] if rows else []
    kind = what_table(header)
    if kind is None:
        return None
    shown = ", ".join(header_key(h) for h in header[:3] if header_key(h))
    return f"a {kind} (columns {shown}{', ...' if len(header) > 3 else ''})"


def _is_about(rows: list[list[str]]) -> bool:
    return len(rows) >= 2 and [header_key(h) for h in rows[0][:2]] == ["item", "value"] \
        and header_key(rows[1][0]) == "qualkit version"


def _head_text(path: Path, size: int = 65536) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""


def _csv_header_rows(path: Path, count: int) -> list[list[str]]:
    """The first rows of a CSV file (empty when it cannot be read: the reader then says why)."""
    text = _head_text(path)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.suffix.lower() == ".tsv" else max((",", ";", "\t", "|"), key=first.count)
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        return [row for _, row in zip(range(count), reader, strict=False)]
    except csv.Error:
        return []


def _excel_header(path: Path) -> tuple[list[str], list[Any]]:
    """The sheet names and the first sheet's header row of a workbook (empty when it cannot be read)."""
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheets = [name.lower() for name in book.sheetnames]
            first = next(book.worksheets[0].iter_rows(max_row=1, values_only=True), ())
            return sheets, [cell for cell in first if cell is not None]
        finally:
            book.close()
    except Exception:  # not a workbook after all: the reader reports that when it is imported
        return [], []
