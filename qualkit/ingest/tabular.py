"""Reader for spreadsheets of utterances or survey answers (``.csv``, ``.tsv``, ``.xlsx``).

Canonical text (CONTRIBUTING.md): one line per row, ``f"{speaker}: {text}"``, or just the text when
there is no speaker column; a cell's own line breaks become spaces. Rows with an empty text cell
carry no words and are skipped (counted in a warning). With several text columns (a wide survey:
one column per question) each non-empty answer is its own line, in row order, with the column
header as the ``question`` attribute.

Column mapping: ``columns={"text": ..., "speaker": ..., "id": ..., "time": ..., "end": ..., "group": ...}``
(header names, case-insensitive; ``text`` may be a list). Anything not given is guessed from common
headers (``text``/``response``/``answer``/``comment``..., ``speaker``/``name``..., ``participant_id``/``id``...,
``time``/``timestamp``/``start``..., ``group``/``session``...); a text column is otherwise the column with
the longest free text, and questions as headers (``"What drains you most?"``) make a wide survey. The
mapping used is stored in ``source.metadata["columns"]`` and shown as a report line. Every other column
becomes a segment attribute.

Example:
    >>> layout = table_layout("name,answer\\nAnn,Too many notes\\nBo,Nights\\n", "a.csv", format="csv")
    >>> layout.text
    'Ann: Too many notes\\nBo: Nights'
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Mapping
from typing import Any

from qualkit.errors import InvalidTranscript
from qualkit.ingest.archive import check_archive
from qualkit.ingest.csvrows import MalformedCSV, csv_rows, sniff_delimiter
from qualkit.ingest.layout import Item, Layout
from qualkit.ingest.limits import DEFAULT_LIMITS, Limits, describe_exception, over_limit
from qualkit.ingest.participants import convert_cell, keeps_text
from qualkit.ingest.speakers import parse_time

GUESSES: dict[str, tuple[str, ...]] = {
    "text": ("text", "utterance", "response", "answer", "comment", "comments", "transcript", "content", "quote",
             "verbatim", "message", "what was said", "free text", "open response", "feedback", "statement",
             "speech", "dialogue", "dialog", "body", "narrative", "response text", "answer text", "open text"),
    "speaker": ("speaker", "speaker name", "speaker label", "name", "who", "person", "respondent name",
                "participant name", "pseudonym"),  # not "label": in a survey sheet it is the code
    "id": ("participant id", "participant", "respondent id", "respondent", "pid", "id", "response id",
           "record id", "subject id", "subject", "participant code", "participant #", "participant no",
           "participant number", "respondent #", "respondent no", "respondent number", "resp id", "resp #",
           "resp no", "resp", "response #", "case id"),
    "time": ("time", "timestamp", "start", "start time", "begin", "offset", "time start", "tc", "in"),
    "end": ("end", "end time", "stop", "time end", "out"),
    # who the respondents are ("Staff group") is what a study compares by, before where they were ("Site")
    "group": ("group", "staff group", "professional group", "job role", "profession", "session", "focus group",
              "site", "cohort", "wave", "fg"),
}


NON_ANSWERS = frozenset({"n/a", "na", "n.a.", "n/a.", "-", "--", "---", "–", "—", "."})
"""Survey cells that say the respondent gave no answer."""


def _norm(header: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(header or "").strip().casefold())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _rows_from_csv(text: str, path: str | os.PathLike[str], delimiter: str | None,
                   limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    if delimiter is None:
        delimiter = sniff_delimiter(text, path)
    rows: list[tuple[int, list[str]]] = []
    try:
        for start_line, row in csv_rows(text, delimiter):
            _check_row(row, start_line, len(rows), path, limits)
            rows.append((start_line, row))
    except MalformedCSV as error:
        raise InvalidTranscript(f"the CSV is malformed: {error.reason}", path=path, line=error.line,
                                fix=error.fix or "check the quoting on that line, or save the sheet again as CSV "
                                "UTF-8") from None
    return rows


def _check_row(row: list[Any], line: int, count: int, path: str | os.PathLike[str], limits: Limits) -> None:
    """Refuse a table past the column or row limits as soon as the offending row is read."""
    if len(row) > limits.columns:
        width = len(row)
        while width > limits.columns and row[width - 1] in ("", None):  # trailing empty cells do not count
            width -= 1
        if width > limits.columns:
            raise over_limit("columns", width, limits.columns, path, line=line,
                             fix="keep only the columns you need, or raise the limit (limits=Limits(columns=...))")
    if count > limits.segments:
        raise over_limit("rows", count, limits.segments, path, line=line,
                         fix="split the table into several files, or raise the limit (limits=Limits(segments=...))")


def _rows_from_xlsx(raw: bytes, path: str | os.PathLike[str], sheet: str | int | None,
                    max_bytes: int, limits: Limits = DEFAULT_LIMITS) -> list[tuple[int, list[str]]]:
    raw = check_archive(raw, path, required="xl/workbook.xml", max_bytes=max_bytes, kind="Excel")
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidTranscript(f"the Excel file cannot be opened ({describe_exception(exc)})", path=path,
                                fix="open it in Excel and save it again as .xlsx") from None
    try:
        if sheet is None:
            worksheet = workbook.worksheets[0]
        elif isinstance(sheet, int):
            worksheet = workbook.worksheets[sheet]
        else:
            worksheet = workbook[sheet]
    except (KeyError, IndexError):
        raise InvalidTranscript(f"no sheet {str(sheet)[:60]!r} (sheets: {_names(workbook.sheetnames)})", path=path,
                                fix="choose one of those sheets") from None
    rows: list[tuple[int, list[str]]] = []
    try:
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()  # the sheet's declared size may lie; read only the cells it holds
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            _check_row(list(values), number, len(rows), path, limits)
            rows.append((number, [_cell(v) for v in values]))
    except InvalidTranscript:
        raise
    except Exception as exc:  # a damaged sheet part (bad XML, bad cell values)
        raise InvalidTranscript(f"the Excel file cannot be read ({describe_exception(exc)})", path=path,
                                fix="open it in Excel and save it again as .xlsx") from None
    finally:
        workbook.close()
    return rows


def _names(names: list[str], shown: int = 8) -> str:
    """Column or sheet names for a one-line message: at most ``shown``, each at most 40 characters."""
    listed = ", ".join(repr(n[:40]) for n in names[:shown])
    return listed + (f" and {len(names) - shown:,} more" if len(names) > shown else "")


def _find(headers: list[str], wanted: str | None) -> int | None:
    if wanted is None:
        return None
    key = _norm(wanted)
    for index, header in enumerate(headers):
        if _norm(header) == key:
            return index
    return -1


def guess_column(headers: list[str], role: str, *, taken: set[int] | frozenset[int] = frozenset()) -> int | None:
    """The index of the column whose header names ``role`` ("text", "id", "speaker", ...), or None.

    Headers are compared case- and punctuation-blind, in the order of :data:`GUESSES` (so "respondent id" wins
    over "id"); columns in ``taken`` already serve another role.

    Example:
        >>> guess_column(["Respondent", "Answer"], "text"), guess_column(["Respondent", "Answer"], "id")
        (1, 0)
    """
    normalised = [_norm(h) for h in headers]
    for name in GUESSES[role]:
        if name in normalised and normalised.index(name) not in taken:
            return normalised.index(name)
    return None


def table_layout(
    data: str | bytes,
    path: str | os.PathLike[str],
    *,
    format: str = "csv",
    columns: Mapping[str, Any] | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    max_bytes: int = 50_000_000,
    limits: Limits | None = None,
) -> Layout:
    """The canonical text and layout of a CSV (decoded text) or Excel (bytes) table.

    Example:
        >>> table_layout("id,score\\n1,3\\n", "s.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: s.csv:1: no text column among ['id', 'score']. Fix: ...
    """
    limits = limits or DEFAULT_LIMITS.replace(file_bytes=max_bytes)
    if format == "xlsx":
        rows = _rows_from_xlsx(data if isinstance(data, bytes) else data.encode(), path, sheet, limits.file_bytes,
                               limits)
    else:
        rows = _rows_from_csv(data if isinstance(data, str) else data.decode("utf-8", "replace"), path, delimiter,
                              limits)
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InvalidTranscript("the table is empty", path=path, fix="check that the sheet with the answers is saved")
    header_line, headers = rows[0]
    headers = [h.strip() for h in headers]
    body = rows[1:]
    if not body:
        raise InvalidTranscript("the table has a header but no rows", path=path, line=header_line,
                                fix="add the answers below the header row")
    columns = dict(columns or {})
    unknown = set(columns) - set(GUESSES)
    if unknown:
        raise InvalidTranscript(f"unknown column role(s) {sorted(unknown)}", path=path,
                                fix=f"use columns= with keys among {sorted(GUESSES)}")
    mapping: dict[str, Any] = {}
    guessed: list[str] = []
    for role, wanted in columns.items():
        names = wanted if isinstance(wanted, list | tuple) else [wanted]
        indices = [_find(headers, name) for name in names]
        missing = [name for name, index in zip(names, indices, strict=True) if index == -1]
        if missing:
            raise InvalidTranscript(f"no column named {str(missing[0])[:60]!r} (columns: {_names(headers)})",
                                    path=path, line=header_line,
                                    fix=f"rename that column in the file, or choose one of those columns as the {role} "
                                        "column",
                                    cli_fix="pass --text-column <one of those names>" if role == "text" else None)
        mapping[role] = indices if role == "text" else indices[0]
    for role in GUESSES:
        if role in mapping:
            continue
        index = guess_column(headers, role, taken={i for v in mapping.values()
                                                   for i in (v if isinstance(v, list) else [v])})
        if index is not None:
            mapping[role] = [index] if role == "text" else index
            guessed.append(role)
    if "text" not in mapping:
        used = {v for v in mapping.values() if isinstance(v, int)}
        questions = [i for i, h in enumerate(headers) if i not in used and h.endswith("?") and len(h) >= 12]
        if questions:
            mapping["text"] = questions
            guessed.append("text")
        else:
            best, best_length = None, 0.0
            for index in range(len(headers)):
                if index in used:
                    continue
                values = [r[index] for _, r in body if index < len(r) and r[index].strip()]
                if not values:
                    continue
                words = sum(len(v.split()) for v in values) / len(values)
                if words >= 3 and words > best_length:
                    best, best_length = index, words
            if best is not None:
                mapping["text"] = [best]
                guessed.append("text")
    if "text" not in mapping:
        raise InvalidTranscript(f"no text column among {_names(headers)}", path=path, line=header_line,
                                fix="name the column with the answers 'text' (or 'response', 'answer', 'comment'), "
                                    "or name the text column (--text-column on the command line)")
    layout = Layout("")
    role_columns = {i for role, v in mapping.items() for i in (v if isinstance(v, list) else [v])}
    others = sum(1 for i, h in enumerate(headers) if i not in role_columns and h)
    if others > limits.attributes:  # each other column would become an attribute of every segment
        raise over_limit("columns besides the text, speaker, id and time", others, limits.attributes, path,
                         line=header_line, fix="keep only the columns you need, or raise the limit "
                                               "(limits=Limits(attributes=...))")
    speaker_index, id_index = mapping.get("speaker"), mapping.get("id")
    time_index, end_index = mapping.get("time"), mapping.get("end")
    text_indices: list[int] = mapping["text"]
    lines: list[str] = []
    position = 0
    skipped = declined = 0
    as_text = {index for index in range(len(headers))
               if keeps_text(row[index] for _, row in rows[1:] if index < len(row))}
    for line_number, row in rows[1:]:
        def value(index: int | None, row: list[str] = row) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        attributes: dict[str, Any] = {"row": line_number}
        for index, header in enumerate(headers):
            if index not in role_columns and header and value(index):
                attributes[header] = convert_cell(value(index), text=index in as_text)
        if "group" in mapping and value(mapping["group"]):
            attributes[headers[mapping["group"]]] = convert_cell(value(mapping["group"]),
                                                                 text=mapping["group"] in as_text)
        speaker = value(speaker_index) or None
        participant = value(id_index) or None
        time_start = _seconds(value(time_index))
        time_end = _seconds(value(end_index))
        for text_index in text_indices:
            text = re.sub(r"\s*(?:\r\n|\r|\n)\s*", " ", value(text_index))
            if not text:
                skipped += 1
                continue
            if text.casefold() in NON_ANSWERS:  # counted as answers, they swelled every share's denominator
                declined += 1
                continue
            item_attributes = dict(attributes)
            if len(text_indices) > 1:
                item_attributes["question"] = headers[text_index]
            if speaker:
                line = f"{speaker}: {text}"
                layout.label_spans.append((position, position + len(speaker) + 1))
                start = position + len(speaker) + 2
                layout.items.append(Item("turn", start, start + len(text), label=speaker, time_start=time_start,
                                         time_end=time_end, line=line_number, style="column",
                                         participant=participant, attributes=item_attributes))
                layout.styles["column"] += 1
            else:
                line = text
                layout.items.append(Item("row", position, position + len(text), time_start=time_start,
                                         time_end=time_end, line=line_number, participant=participant,
                                         attributes=item_attributes))
            lines.append(line)
            position += len(line) + 1
    layout.text = "\n".join(lines)
    described = {role: ([headers[i] for i in v] if isinstance(v, list) else headers[v]) for role, v in mapping.items()}
    layout.metadata["columns"] = described
    if guessed:
        shown = ", ".join(f"{role} from {_listed(described[role])}" for role in mapping)
        layout.warnings.append(f"columns guessed: {shown}; if that is wrong, name the columns yourself (app: "
                               "'Table columns' on the import form; Python: columns=; CLI: --text-column)")
    if skipped:
        layout.warnings.append(f"{skipped} empty answer cell(s) skipped")
    if declined:
        layout.warnings.append(f"{declined} answer cell(s) that say no answer ('n/a', '-' and the like) skipped")
    if not layout.items:
        raise InvalidTranscript("every text cell is empty", path=path, line=header_line,
                                fix="check that the right column holds the answers, or name the text column yourself")
    return layout


def _listed(names: str | list[str]) -> str:
    """Column names for a message: ``'Utterance'`` or ``'Q1', 'Q2'``."""
    return ", ".join(repr(n) for n in names) if isinstance(names, list) else repr(names)


def csv_layout(text: str, path: str | os.PathLike[str], *, known: set[str] | None = None,
               limits: Limits | None = None, **options: Any) -> Layout:
    """The registry's CSV/TSV reader: :func:`table_layout` of decoded text (``columns=``, ``delimiter=``).

    Example:
        >>> csv_layout("name,answer\\nAnn,Too many notes\\n", "a.csv").text
        'Ann: Too many notes'
    """
    return table_layout(text, path, format="csv", limits=limits, **options)


def excel_layout(raw: bytes, path: str | os.PathLike[str], *, known: set[str] | None = None,
                 limits: Limits | None = None, **options: Any) -> Layout:
    """The registry's Excel reader: :func:`table_layout` of the workbook's bytes (``columns=``, ``sheet=``).

    Example:
        >>> excel_layout(b"not a zip", "a.xlsx")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: a.xlsx: the file is not a valid Excel file (not a zip archive). Fix: ...
    """
    return table_layout(raw, path, format="xlsx", limits=limits, **options)


def _seconds(value: str) -> float | None:
    if not value:
        return None
    parsed = parse_time(value)
    if parsed is not None:
        return parsed
    try:
        return float(value)
    except ValueError:
        return None
