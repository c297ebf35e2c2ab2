"""The CSV/TSV codebook format: one code per row; only a name column is required.

An export from another QDA tool with ``tag,description,number of highlights`` imports as is; without
an id column a code's id is its name, exactly. List cells hold one item per line.

Example:
    >>> codebook_from_csv("name,definition\\nTired,Worn out\\n").ids
    ['Tired']
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qualkit.codebook.format import CodebookFormat, read_text
from qualkit.codebook.validation import (
    LIST_FIELDS,
    Lines,
    as_bool,
    default_guid,
    fill_guids,
    normalise_color,
    validate_codebook,
)
from qualkit.errors import InvalidCodebook
from qualkit.ingest.csvrows import MalformedCSV, csv_rows
from qualkit.model import Code, Codebook

# Column names we understand (compared lower-cased, with _ and - read as spaces), in order of preference.
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    # "code" beside a name column is the id ("code,name,definition"); alone it is the name (see _column_map)
    "id": ("id", "code id", "key", "code key", "code"),
    "name": ("name", "code name", "tag", "label", "title", "code"),
    "parent": ("parent", "parent id", "parent code", "parent name", "category", "parent category", "parent theme",
               "theme", "main code", "main category", "code group", "group", "higher order code"),
    "definition": ("definition", "description", "memo", "meaning", "code definition", "code description"),
    "inclusion": ("inclusion", "inclusion criteria", "include", "when to use", "include when", "include if",
                  "use when", "inclusion criterion", "when to include"),
    "exclusion": ("exclusion", "exclusion criteria", "exclude", "when not to use", "exclude when", "exclude if",
                  "do not use when", "don't use when", "exclusion criterion", "when to exclude"),
    "examples": ("examples", "example", "example quotes", "example quote", "example quote(s)", "quotes", "quote",
                 "exemplars", "exemplar", "example quotations", "typical quotes"),
    "near_misses": ("near misses", "near miss", "counterexamples", "counter examples", "negative examples"),
    "cues": ("cues", "keywords", "keyword", "cue words", "key words"),
    "patterns": ("patterns", "pattern", "regex", "regexes", "regular expressions"),
    "color": ("color", "colour", "hex"),
    "codable": ("codable", "is codable", "iscodable"),
    "guid": ("guid", "uuid"),
    "codebook_version": ("codebook version", "codebook_version"),
}
CSV_COLUMNS = ("id", "name", "parent", "codable", "color", "definition", "inclusion", "exclusion", "examples",
               "near_misses", "cues", "patterns", "guid", "codebook_version")
COLUMN_NAMES = ("name", "id", "parent", "definition", "inclusion (or 'include when')", "exclusion", "examples",
                "near misses", "cues", "patterns", "color", "codable")
"""The columns a codebook table may have, as a warning about an unread column names them."""


def _normal_header(header: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(header or "")).strip().lower()


def _column_map(headers: list[Any]) -> dict[str, int]:
    normal = [_normal_header(h) for h in headers]
    mapping: dict[str, int] = {}
    for field, aliases in _COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in normal and normal.index(alias) not in mapping.values():
                mapping[field] = normal.index(alias)
                break
    if "name" not in mapping and "id" in mapping and normal[mapping["id"]] == "code":
        mapping["name"] = mapping.pop("id")  # "code" alone names the code ("Code,Memo" from a QDA tool)
    return mapping


# What QDA tools export beside a code (counts, dates, authors): read past without a warning, as they carry
# nothing a code means.
_TOOL_COLUMNS = re.compile(r"(number of .+|.+ count|count|frequency|files|references|coverage|created( on| by)?|"
                           r"modified( on| by)?|author|date|groups|density|groundedness|totals?|aggregate|"
                           r"hierarchical name|nickname|number)")


def _snake_ids(ids: list[str]) -> bool:
    """Whether a file's ids are all snake_case (``staffing``, ``moral_residue``), so that new ids should be too."""
    return bool(ids) and all(re.fullmatch(r"[a-z0-9_]+", code_id) for code_id in ids)


def _new_id(name: str, *, snake: bool, taken: set[str]) -> str:
    """An id for a code the file names without one: like the file's others, not taken yet (added to ``taken``)."""
    new = re.sub(r"\W+", "_", name.casefold()).strip("_") if snake else name
    base, n = new, 2
    while new in taken:
        new, n = f"{base}_{n}", n + 1
    taken.add(new)
    return new


def _fill_empty_ids(codes: list[Code], unnamed: list[tuple[int, int]], path: Any) -> None:
    """Give a code whose id cell is empty an id like the file's others ("Moral residue" → moral_residue), saying so.

    A stranger's empty id cell silently became the id 'Moral residue' beside ids such as 'staffing'.
    """
    if not unnamed:
        return
    empty = {index for index, _ in unnamed}
    given = [code.id for i, code in enumerate(codes) if i not in empty]
    snake = _snake_ids(given)
    taken = set(given)
    for index, line in unnamed:
        code = codes[index]
        new = code.id = _new_id(code.name, snake=snake, taken=taken)
        where = f"{Path(path).name}:{line}" if path else f"line {line}"
        warnings.warn(f"{where}: code {code.name!r} has no id; it gets the id {new!r}"
                      + (" (like the file's other ids)" if snake else " (its name)"), stacklevel=4)


def _refuse_misspelt_headers(headers: list[Any], columns: dict[str, int], *, path: Any, line: int) -> None:
    """Refuse a header that is not understood but is close to one that is (``descripton``); warn of the rest.

    A tool's own counts and dates are read past; any other column is read past with a warning naming it and
    the columns qualkit reads (a stranger's "Include when" column was dropped without a word).
    """

    known = [alias for aliases in _COLUMN_ALIASES.values() for alias in aliases]
    ignored = []
    misspelt: list[tuple[str, str]] = []  # every one at once: fixing 'parnet' then revealed 'defintion'
    for index, header in enumerate(headers):
        normal = _normal_header(header)
        if not normal or index in columns.values():
            continue
        field = next((f for f, aliases in _COLUMN_ALIASES.items() if normal in aliases), None)
        if field is not None:  # a second column for a field already read ("name" and "label")
            warnings.warn(f"{Path(path).name + ': ' if path else ''}column {str(header)!r} not read: column "
                          f"{str(headers[columns[field]])!r} already gives the code's {field.replace('_', ' ')} "
                          "(rename or remove one of them)", UserWarning, stacklevel=2)
            continue
        close = difflib.get_close_matches(normal, known, n=1, cutoff=0.8) or _swapped(normal, known)
        if close:
            misspelt.append((str(header), close[0]))
        elif not _TOOL_COLUMNS.fullmatch(normal):
            ignored.append(str(header))
    if len(misspelt) == 1:
        raise InvalidCodebook(f"unknown column {misspelt[0][0]!r}", path=path, line=line,
                              fix=f"did you mean {misspelt[0][1]!r}? Rename the column")
    if misspelt:
        raise InvalidCodebook(f"unknown columns {', '.join(repr(h) for h, _ in misspelt)}", path=path, line=line,
                              fix="did you mean " + ", ".join(f"{c!r} for {h!r}" for h, c in misspelt)
                                  + "? Rename the columns")
    if ignored:
        where = f"{Path(path).name}: " if path else ""
        warnings.warn(f"{where}{'column' if len(ignored) == 1 else 'columns'} "
                      f"{', '.join(repr(h) for h in ignored)} not read (qualkit reads {', '.join(COLUMN_NAMES)}; "
                      "rename a column to one of these to keep it)", UserWarning, stacklevel=2)


def _swapped(word: str, known: list[str]) -> list[str]:
    """The known header ``word`` is with two neighbouring letters swapped (``nmae``), as a one-item list.

    Such a slip in a short word scores below the close-match cutoff: a stranger's 'nmae' column was read past
    with a warning, and the names silently became the ids.

    Example:
        >>> _swapped("nmae", ["id", "name"]), _swapped("mane", ["name"])
        (['name'], [])
    """
    for alias in known:
        if len(alias) == len(word) >= 4:
            differ = [i for i, (a, b) in enumerate(zip(word, alias, strict=True)) if a != b]
            if len(differ) == 2 and differ[1] == differ[0] + 1 and word[differ[0]] == alias[differ[1]] \
                    and word[differ[1]] == alias[differ[0]]:
                return [alias]
    return []


def split_cell(field: str, cell: str) -> list[str]:
    """The items of a list cell: a JSON array (what qualkit writes when an item spans lines), else one item
    per line (a single-line cue cell may also use ``;``, ``,`` or ``|``; other fields `` | ``)."""
    cell = cell.strip()
    if not cell:
        return []
    if cell.startswith("[") and cell.endswith("]"):
        import json

        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return items
    if "\n" in cell:
        parts = cell.splitlines()
    elif field == "patterns":
        parts = [cell]
    elif field == "cues":
        parts = re.split(r"\s*[;,|]\s*", cell)
    else:
        parts = re.split(r"\s+\|\s+", cell)
    return [p.strip() for p in parts if p.strip()]


def codebook_from_rows(rows: Iterable[tuple[int, list[Any]]], *, path: Any, name: str,
                        validate: bool) -> Codebook:
    rows = iter(rows)
    header_line, headers = next(((n, r) for n, r in rows if any(str(c or "").strip() for c in r)), (1, []))
    columns = _column_map(headers)
    _refuse_misspelt_headers(headers, columns, path=path, line=header_line)
    if "name" not in columns:
        if "id" in columns:
            columns["name"] = columns["id"]
        else:
            raise InvalidCodebook(f"no name column among {[str(h) for h in headers]}", path=path, line=header_line,
                                  fix="add a header row with a `name` (or `tag`/`code`) column")
    codes: list[Code] = []
    lines: Lines = {}
    version: tuple[int, int] | None = None  # (version, line it was first given on)
    unnamed: list[tuple[int, int]] = []  # (code index, line) of rows whose id cell is empty
    for line, row in rows:
        cells = ["" if c is None else str(c) for c in row]
        if not any(c.strip() for c in cells):
            continue

        def cell(field: str, cells: list[str] = cells) -> str:
            index = columns.get(field)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        name_value = cell("name")
        index = len(codes)
        lines[(index, None)] = line
        values: dict[str, Any] = {
            "id": cell("id") if "id" in columns else name_value, "name": name_value,
            "parent": cell("parent") or None, "definition": cell("definition"), "inclusion": cell("inclusion"),
            "exclusion": cell("exclusion"), "codable": as_bool(cell("codable")) if cell("codable") else True,
            "color": normalise_color(cell("color")) if cell("color") else None, "guid": cell("guid") or None,
        }
        if "id" in columns and not values["id"]:
            values["id"] = name_value
            unnamed.append((index, line))
        for field in LIST_FIELDS:
            values[field] = split_cell(field, cell(field)) if field in columns else []
        codes.append(Code(**values))
        if cell("codebook_version"):
            given = cell("codebook_version")
            if not given.isdigit() or int(given) < 1:
                raise InvalidCodebook(f"codebook version {given!r} is not a positive whole number", path=path,
                                      line=line, fix="write e.g. 2 in the codebook_version column")
            if version is not None and int(given) != version[0]:
                raise InvalidCodebook(f"codebook version {given} differs from version {version[0]} on line "
                                      f"{version[1]}", path=path, line=line,
                                      fix="give every row the same codebook_version (or leave it empty)")
            version = version or (int(given), line)
    _fill_empty_ids(codes, unnamed, path)
    # A parent may be given by id or by name.
    ids = {c.id for c in codes}
    by_name = {c.name: c.id for c in codes}
    for code in codes:
        if code.parent is not None and code.parent not in ids and code.parent in by_name:
            code.parent = by_name[code.parent]
    parent_header = str(headers[columns["parent"]]).strip() if "parent" in columns else "parent"
    codes, lines = _add_named_categories(codes, lines, path, column=parent_header)
    codebook = Codebook(name=name, codes=codes, version=version[0] if version else 1)
    fill_guids(codebook)
    if validate:
        validate_codebook(codebook, path=path, lines=lines)
    return codebook


def _add_named_categories(codes: list[Code], lines: Lines, path: Any, *, column: str = "parent",
                          ) -> tuple[list[Code], Lines]:
    """Add a category for each parent named only in the parent column ("Theme | Code | Definition" sheets).

    Such a sheet never gives its themes rows of their own; they were refused as unknown parents. A parent
    that reads like a misspelt code ("Workolad" beside "Workload") is left for validation to name instead.
    Each new category goes just before its first code; ``lines`` (code index -> file line) follows the codes.
    """
    known = [name for code in codes for name in (code.id, code.name)]
    snake, taken = _snake_ids([code.id for code in codes]), {code.id for code in codes}
    added: dict[str, Code] = {}
    for code in codes:
        parent = code.parent
        if parent is None or parent in known or parent in added:
            continue
        if difflib.get_close_matches(parent, known, n=1, cutoff=0.8):
            continue
        added[parent] = Code(_new_id(parent, snake=snake, taken=taken), parent, codable=False)
    if not added:
        return codes, lines
    _refuse_misspelt_categories(codes, list(added), lines, path, column)
    where = f"{Path(path).name}: " if path else ""
    warnings.warn(f"{where}{'category' if len(added) == 1 else 'categories'} {', '.join(map(repr, added))} "
                  f"named only in the {column} column added as categories (for grouping, not for coding)",
                  UserWarning, stacklevel=3)
    ordered: list[Code] = []
    moved: dict[int, int] = {}
    for index, code in enumerate(codes):
        category = added.get(code.parent) if code.parent is not None else None
        if category is not None:
            if category not in ordered:
                ordered.append(category)
            code.parent = category.id
        moved[index] = len(ordered)
        ordered.append(code)
    return ordered, {(moved[index], field): line for (index, field), line in lines.items()}


def _refuse_misspelt_categories(codes: list[Code], names: list[str], lines: Lines, path: Any, column: str) -> None:
    """Refuse two new categories spelt almost alike ("Workload" and "Workoad"), naming the rarer one's line.

    A stranger's misspelt theme became a category of its own and split the theme's totals without a word.
    """
    uses = {name: [i for i, code in enumerate(codes) if code.parent == name] for name in names}
    for name in names:
        others = [other for other in names if other != name]
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.8)
        if close and (len(uses[name]), name) < (len(uses[close[0]]), close[0]):
            raise InvalidCodebook(
                f"the {column} column names both {close[0]!r} ({len(uses[close[0]])} codes) and {name!r} "
                f"({len(uses[name])}); one looks like a misspelling of the other", path=path,
                line=lines.get((uses[name][0], None)),
                fix=f"write the theme one way (did you mean {close[0]!r}?), or name them more differently")


def codebook_from_csv(text: str, *, path: str | os.PathLike[str] | None = None, name: str | None = None,
                      delimiter: str | None = None, validate: bool = True) -> Codebook:
    """Read a codebook from CSV text; only a name column is needed (ids default to the name, exactly).

    List cells (examples, cues, ...) hold one item per line; single-line cue cells may also use ``;``.

    Example:
        >>> cb = codebook_from_csv("tag,description,number of highlights\\nBurnout,Feeling drained,12\\n")
        >>> cb["Burnout"].definition
        'Feeling drained'
    """
    text = text.lstrip("\ufeff")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    try:
        return codebook_from_rows(csv_rows(text, delimiter), path=path, validate=validate,
                                   name=name or (Path(path).stem if path else "codebook"))
    except MalformedCSV as error:
        raise InvalidCodebook(error.reason, path=path, line=error.line,
                              fix=error.fix or "check the quoting on that line") from None



def list_cell(field: str, items: list[str]) -> str:
    """One item per line, or a JSON array when the lines would not read back as the same items (an item
    spanning lines, a lone cue holding a ";", an item with surrounding spaces, ...)."""
    import json

    plain = "\n".join(items)
    return plain if split_cell(field, plain) == items else json.dumps(items, ensure_ascii=False)


def table_rows(codebook: Codebook) -> list[list[str]]:
    rows = [list(CSV_COLUMNS)]
    for code in codebook.codes:
        row = []
        for column in CSV_COLUMNS:
            if column == "codebook_version":
                row.append(str(codebook.version))
                continue
            value = getattr(code, column)
            if column in LIST_FIELDS:
                value = list_cell(column, list(value))
            elif column == "codable":
                value = "true" if value else "false"
            elif column == "guid":  # always written: GUIDs identify codes across tools and renames
                value = value or default_guid(codebook.name, code.id)
            row.append("" if value is None else str(value))
        rows.append(row)
    return rows


def codebook_to_csv(codebook: Codebook, *, delimiter: str = ",") -> str:
    """Render a codebook as CSV (one code per row; list cells hold one item per line).

    Example:
        >>> codebook_to_csv(Codebook("m", [Code("a", "A")])).splitlines()[0].split(",")[:3]
        ['id', 'name', 'parent']
    """
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(table_rows(codebook))
    return buffer.getvalue()




def _read(path: Path, *, validate: bool = True, **_: Any) -> Codebook:
    return codebook_from_csv(read_text(path), path=path, validate=validate,
                             delimiter="\t" if path.suffix.lower() == ".tsv" else None)


def _write(codebook: Codebook, path: Path) -> None:
    path.write_text(codebook_to_csv(codebook, delimiter="\t" if path.suffix.lower() == ".tsv" else ","),
                    encoding="utf-8", newline="")


FORMAT = CodebookFormat("csv", "CSV", (".csv", ".tsv"), read=_read, write=_write)
