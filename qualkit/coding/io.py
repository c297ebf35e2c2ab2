"""Reading and writing the batch formats of ``qualkit autocode`` and ``qualkit evaluate`` (JSONL or CSV).

Input rows are ``{"id": str, "text": str}`` plus optional ``speaker``, ``group`` and ``role``; labelled
rows add ``"codes": [code ids]``. Every problem names the file and line and says how to fix it.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = path.write_text('{"id": "a", "text": "So tired."}\\n')
    >>> [r.text for r in read_rows(path)]
    ['So tired.']
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidInput, did_you_mean
from qualkit.ingest.csvrows import MalformedCSV, csv_rows
from qualkit.ingest.tabular import guess_column


@dataclass(slots=True)
class Row:
    """One input record with the line it came from.

    Example:
        >>> Row(id="a", text="hi", line=1).codes is None
        True
    """

    id: str
    text: str
    line: int
    codes: list[str] | None = None
    speaker: str | None = None
    group: str | None = None
    role: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def iter_records(path: str | os.PathLike[str], *, find: tuple[str, ...] = (), required: tuple[str, ...] = (),
                 warn: bool = True) -> Iterator[tuple[int, Any]]:
    """(line, record) pairs from a JSONL or CSV/TSV file; CSV ``codes`` cells are split on ``;`` or ``|``.

    The one reader of record files (``qualkit autocode``/``evaluate`` rows, gold and outside codings); every
    problem names the file and line. ``find`` names fields ("id", "text") that a CSV may carry under another
    header, guessed as ``qualkit import`` guesses a survey's columns ("Respondent", "Answer"), with a warning;
    a ``required`` one that no header names is an error naming the columns there are (``warn=False``: a second
    pass over the same file, already warned about).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = path.write_text("id,codes\\n1,a;b\\n")
        >>> list(iter_records(path))
        [(2, {'id': '1', 'codes': ['a', 'b']})]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        handle = open(path, encoding="utf-8-sig", newline="" if suffix in (".csv", ".tsv") else "\n")  # noqa: SIM115
    except FileNotFoundError:
        raise InvalidInput(f"no file at {path}", path=path, fix="check the path") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder", path=path, fix="give a JSONL or CSV file") from None
    # Read as a stream (a million-row file is never held in memory); a decoding error names its line.
    line = 0
    try:
        with handle:
            if suffix in (".csv", ".tsv"):
                yield from _csv_records(path, handle, suffix, find, required, warn)
                return
            # JSONL lines end at "\n" only: str.splitlines() would also split inside a text at U+2028, U+2029,
            # NEL, form feeds and the like, which JSON strings may carry unescaped.
            for line, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    yield line, json.loads(raw)
                except json.JSONDecodeError as error:
                    raise InvalidInput(f"not valid JSON ({error.msg} at column {error.colno})", path=path, line=line,
                                       fix='write one JSON object per line, e.g. {"id": "1", "text": "..."}') from None
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not UTF-8 text ({error.reason})", path=path, line=line + 1 if line else None,
                           fix="save the file as UTF-8") from None


def _csv_records(path: Path, handle: Any, suffix: str, find: tuple[str, ...], required: tuple[str, ...],
                 warn: bool) -> Iterator[tuple[int, Any]]:
    # Read strictly: a quote never closed swallowed the rows after it, so a gold file scored 5 items of 22.
    rows = csv_rows(handle, "\t" if suffix == ".tsv" else ",")
    line = 1
    try:
        header = next((cells for line, cells in rows if any(c.strip() for c in cells)), None)
        if header is None:
            return
        renames = _guessed_fields(path, header, find, required, warn)
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            # a missing cell is None, as csv.DictReader gave it
            record: dict[str, Any] = dict(zip(header, cells + [None] * (len(header) - len(cells)), strict=False))
            for name, field in renames.items():
                record[field] = record.pop(name)
            if "codes" in record and record["codes"] is not None:
                cell = record["codes"].strip()
                record["codes"] = json.loads(cell) if cell.startswith("[") else \
                    [c.strip() for c in cell.replace("|", ";").split(";") if c.strip()]
            yield line, record
    except MalformedCSV as error:
        raise InvalidInput(f"the CSV is malformed: {error.reason}", path=path, line=error.line,
                           fix=error.fix or "check the quoting on that line") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the codes cell is not a JSON list ({error.msg})", path=path, line=line,
                           fix='write codes as "a;b" or ["a", "b"]') from None


def read_rows(path: str | os.PathLike[str], *, labeled: bool = False, codes: Iterable[str] | None = None,
              categories: Iterable[str] = (), text_required: bool = True, warn: bool = True) -> list[Row]:
    """Read JSONL (one object per line) or CSV rows of ``id``, ``text`` (and ``codes`` when ``labeled``).

    The whole file as a list; :func:`iter_rows` streams the same rows with the same checks.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "in.csv"
        >>> _ = path.write_text("id,text,codes\\n1,Paperwork,admin;ehr\\n")
        >>> read_rows(path, labeled=True)[0].codes
        ['admin', 'ehr']
    """
    return list(iter_rows(path, labeled=labeled, codes=codes, categories=categories, text_required=text_required,
                          warn=warn))


def _guessed_fields(path: Path, headers: list[str], find: tuple[str, ...], required: tuple[str, ...],
                    warn: bool) -> dict[str, str]:
    """{header: field} for the ``find`` fields a CSV names otherwise (a warning says so); a missing one is an error."""
    taken = {i for i, header in enumerate(headers) if header in find}
    renames: dict[str, str] = {}
    for wanted in find:
        if wanted in headers:
            continue
        index = guess_column(headers, wanted, taken=taken)
        if index is not None:
            renames[headers[index]] = wanted
            taken.add(index)
        elif wanted in required:
            raise InvalidInput(f"no {wanted!r} column among {headers}", path=path, line=1,
                               fix=f"name the column that holds each row's {FIELD_MEANINGS[wanted]} {wanted!r}")
    if renames and warn:
        shown = ", ".join(f"{wanted} from {header!r}" for header, wanted in renames.items())
        warnings.warn(f"{path.name}: columns guessed: {shown}; name them {' and '.join(map(repr, renames.values()))} "
                      "in the file if that is wrong", stacklevel=4)
    return renames


FIELD_MEANINGS = {"id": "identifier", "text": "words"}


def iter_rows(path: str | os.PathLike[str], *, labeled: bool = False, codes: Iterable[str] | None = None,
              categories: Iterable[str] = (), text_required: bool = True, warn: bool = True) -> Iterator[Row]:
    """Stream JSONL or CSV rows of ``id``, ``text`` (and ``codes`` when ``labeled``), checking each as it comes.

    ``codes`` (the codebook's codable ids) makes an unknown code id in a labelled row an error; naming one
    of the codebook's ``categories`` (codes that only group others) is reported as not codable. A CSV may
    name its columns otherwise ("Respondent", "Answer"): they are guessed, with a warning unless ``warn=False``.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "in.csv"
        >>> _ = path.write_text("id,text,codes\\n1,Paperwork,admin;ehr\\n")
        >>> next(iter_rows(path, labeled=True)).codes
        ['admin', 'ehr']
    """
    path = Path(path)
    known = set(codes) if codes is not None else None
    groups = set(categories)
    seen: dict[str, int] = {}
    required = ("id", "text") if text_required else ("id",)
    for line, record in iter_records(path, find=("id", "text"), required=required, warn=warn):
        if not isinstance(record, dict):
            raise InvalidInput(f"expected a JSON object, found {type(record).__name__}", path=path, line=line,
                               fix='write {"id": "...", "text": "..."} on each line')
        row_id = record.get("id")
        if row_id is None or (isinstance(row_id, str) and not row_id.strip()):
            try:  # a turn of a transcript is named by its place, as a gold file keyed by source and turn names it
                row_id = gold_key({k: record.get(k) for k in ("source", "start", "end", "turn")})
            except (KeyError, TypeError, ValueError):
                raise InvalidInput("the row has no id", path=path, line=line,
                                   fix='give every row an "id" (or "source" and "turn")') from None
        if not isinstance(row_id, str | int):
            raise InvalidInput(f"id {row_id!r} is not a string", path=path, line=line, fix="use string ids")
        row_id = str(row_id)
        if row_id in seen:
            raise InvalidInput(f"duplicate id {row_id!r} (first on line {seen[row_id]})", path=path, line=line,
                               fix="give every row a unique id")
        seen[row_id] = line
        text = record.get("text")
        if text is None and not text_required:
            text = ""
        if not isinstance(text, str):
            raise InvalidInput(f'row {row_id!r} has no "text" string', path=path, line=line,
                               fix='add "text": "..." to the row')
        row_codes = None
        if labeled or "codes" in record:
            row_codes = record.get("codes")
            if row_codes is None and labeled:
                raise InvalidInput(f'row {row_id!r} has no "codes" list', path=path, line=line,
                                   fix='add "codes": [...] (an empty list means no code)')
            if row_codes is not None:
                if isinstance(row_codes, str):
                    row_codes = [row_codes]
                if not isinstance(row_codes, list) or not all(isinstance(c, str) for c in row_codes):
                    raise InvalidInput(f'"codes" of row {row_id!r} is not a list of code ids', path=path, line=line,
                                       fix='write "codes": ["code_a", "code_b"]')
                if known is not None:
                    unknown = [c for c in row_codes if c not in known]
                    if unknown and unknown[0] in groups:
                        raise InvalidInput(f"row {row_id!r} names {unknown[0]!r}, a category of the codebook that "
                                           "is not codable", path=path, line=line,
                                           fix="use one of the codable codes it groups instead")
                    if unknown:
                        raise InvalidInput(f"row {row_id!r} names the unknown code {unknown[0]!r}", path=path,
                                           line=line, fix=f"{did_you_mean(unknown[0], sorted(known))}use a codable code id of the codebook")
        extra = {k: v for k, v in record.items() if k not in ("id", "text", "codes", "speaker", "group", "role")}
        yield Row(id=row_id, text=text, line=line, codes=row_codes, speaker=_optional_str(record.get("speaker")),
                  group=_optional_str(record.get("group")), role=_optional_str(record.get("role")), extra=extra)


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


KEY_KINDS = ("id", "span", "turn")
"""What an evaluation record may be matched on, in order: its id, ``source:start-end``, ``source#turn``."""


def gold_key(record: dict[str, Any], kind: str | None = None) -> str:
    """The key an evaluation record is matched on: its ``id``, else ``source:start-end``, else ``source#turn``.

    ``kind`` (one of :data:`KEY_KINDS`) asks for that key alone (KeyError when the record has none).

    Example:
        >>> gold_key({"source": "g1.txt", "turn": 4, "codes": []})
        'g1.txt#4'
        >>> gold_key({"id": "fg2-4", "source": "g1.txt", "turn": 4}, "turn")
        'g1.txt#4'
    """
    for each in (kind,) if kind else KEY_KINDS:
        if each == "id" and record.get("id") not in (None, ""):
            return str(record["id"])
        if each == "span" and record.get("source") not in (None, "") and record.get("start") not in (None, "") \
                and record.get("end") not in (None, ""):
            return f"{record['source']}:{int(record['start'])}-{int(record['end'])}"
        if each == "turn" and record.get("source") not in (None, "") and record.get("turn") not in (None, ""):
            return f"{record['source']}#{int(record['turn'])}"
    raise KeyError(kind or "id")


def read_codes(path: str | os.PathLike[str], kind: str | None = None) -> dict[str, list[str]]:
    """Read ``{key: codes}`` from gold or predicted JSONL/CSV (keys as in :func:`gold_key`, of ``kind`` if given).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "gold.jsonl"
        >>> _ = path.write_text('{"source": "a.txt", "turn": 1, "codes": ["x"]}\\n')
        >>> read_codes(path)
        {'a.txt#1': ['x']}
    """
    path = Path(path)
    result: dict[str, list[str]] = {}
    for line, record in iter_records(path):
        if not isinstance(record, dict):
            raise InvalidInput("expected a JSON object", path=path, line=line, fix="write one object per line")
        try:
            key = gold_key(record, kind)
        except KeyError:
            wanted = {"span": "source with start and end", "turn": "source with turn"}.get(kind or "",
                                                                                     "id (nor source with turn or start/end)")
            raise InvalidInput(f"the record has no {wanted}", path=path, line=line,
                               fix='add "id" (or "source" and "turn")') from None
        codes = record.get("codes")
        if codes is None:
            codes = []
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list):
            raise InvalidInput('"codes" is not a list', path=path, line=line, fix='write "codes": ["a", "b"]')
        if key in result:
            raise InvalidInput(f"duplicate record {key!r}", path=path, line=line, fix="keep one record per item")
        result[key] = [str(c) for c in codes]
    return result


def write_predictions(path: str | os.PathLike[str] | None, ids: Sequence[str], codes: Sequence[Sequence[str]],
                      scores: Sequence[dict[str, float]]) -> None:
    """Write ``{"id", "codes", "scores"}`` JSONL in input order (``path`` ``-`` or ``None``: standard output).

    Example:
        >>> write_predictions(None, ["a"], [["x"]], [{"x": 0.9}])
        {"id": "a", "codes": ["x"], "scores": {"x": 0.9}}
    """
    import sys

    lines = (json.dumps({"id": i, "codes": list(c), "scores": s}, ensure_ascii=False)
             for i, c, s in zip(ids, codes, scores, strict=True))
    if path is None or str(path) == "-":
        for line in lines:
            sys.stdout.write(line + "\n")
        return
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line + "\n")


WHERE_FIELDS = ("source", "turn", "start", "end")
"""Fields of an input row that say where its text is; ``qualkit autocode`` copies them to its output."""


def prediction_line(row_id: str, codes: Sequence[str], scores: dict[str, float],
                    where: dict[str, Any] | None = None) -> str:
    """One JSONL line of ``qualkit autocode`` output (with its newline); ``where``: the row's source, turn, ...

    An output of ids alone could not be scored against a gold file keyed by source and turn.

    Example:
        >>> prediction_line("a", ["x"], {"x": 0.9})
        '{"id": "a", "codes": ["x"], "scores": {"x": 0.9}}\\n'
        >>> prediction_line("fg2-1", [], {}, {"source": "fg2.vtt", "turn": 1})
        '{"id": "fg2-1", "source": "fg2.vtt", "turn": 1, "codes": [], "scores": {}}\\n'
    """
    placed = {k: where[k] for k in WHERE_FIELDS if where and where.get(k) not in (None, "")}
    return json.dumps({"id": row_id, **placed, "codes": list(codes), "scores": scores}, ensure_ascii=False) + "\n"


def partial_output(path: str | os.PathLike[str]) -> list[str]:
    """The ids of the complete lines of an interrupted run's output; a torn last line is cut off the file.

    A run killed while writing leaves at most one incomplete line at the end: it is removed, so resuming
    rewrites that row and every row ends up in the output exactly once.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl.partial"
        >>> _ = path.write_text('{"id": "a", "codes": [], "scores": {}}\\n{"id": "b", "co')
        >>> partial_output(path), path.read_text().count("\\n")
        (['a'], 1)
    """
    path = Path(path)
    ids: list[str] = []
    good = 0
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                ids.append(str(json.loads(raw)["id"]))
            except (ValueError, KeyError, TypeError):
                break
            good += len(raw)
    if good != path.stat().st_size:
        with open(path, "r+b") as handle:
            handle.truncate(good)
    return ids
