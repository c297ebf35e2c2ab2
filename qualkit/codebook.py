"""Load, validate and save codebooks: YAML (native), CSV/Excel, and REFI-QDA ``.qdc``.

YAML is the native, human-editable format (``qualkit/codebooks/burnout.yaml`` is a commented example);
CSV and Excel need only a name column (an export from another QDA tool with ``tag,description,number
of highlights`` imports as is; without an id column a code's id is its name, exactly); ``.qdc`` is the
REFI-QDA codebook exchange file, read with ``defusedxml``. Every load is validated, and every problem
names the file, the line where there is one, and a fix.

The element-level functions :func:`codebook_to_element` and :func:`codebook_from_element` are shared
with the ``.qdpx`` project export, whose ``project.qde`` embeds a ``<CodeBook>`` in the project
namespace.

Example:
    >>> cb = load_codebook("burnout")
    >>> "workload" in cb and cb["workload"].parent
    'systemic_drivers'
    >>> "burnout" in list_codebooks()
    True
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidCodebook, InvalidProjectFile, did_you_mean
from qualkit.model import Code, Codebook

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
YAML_SUFFIXES = (".yaml", ".yml")
CSV_SUFFIXES = (".csv", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
QDC_SUFFIXES = (".qdc",)
CODE_FIELDS = tuple(f.name for f in fields(Code))
LIST_FIELDS = ("examples", "near_misses", "cues", "patterns")
_GUID_NAMESPACE = uuid.UUID("6f1d3c2e-7a0b-4c8e-9d61-2b5f0a9e4c17")
_COLOR = re.compile(r"^#?(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")

# Line numbers of what was read: (code index, field) -> line, and (code index, None) -> the entry's line.
Lines = dict[tuple[int, str | None], int]


# ---------------------------------------------------------------------------------------------- public API
def list_codebooks() -> list[str]:
    """Names of the codebooks shipped with qualkit (load them by name).

    Example:
        >>> "burnout" in list_codebooks()
        True
    """
    folder = resources.files("qualkit") / "codebooks"
    return sorted(Path(entry.name).stem for entry in folder.iterdir()
                  if entry.name.endswith(YAML_SUFFIXES) and not entry.name.startswith((".", "_")))


def load_codebook(
    name_or_path: str | os.PathLike[str] | Codebook, *, name: str | None = None, sheet: str | None = None,
    validate: bool = True,
) -> Codebook:
    """Load a shipped codebook by name or a ``.yaml``/``.csv``/``.xlsx``/``.qdc`` file, validated.

    ``name`` overrides the codebook's name (by default the YAML ``name`` field or the file stem);
    ``sheet`` picks an Excel worksheet (default: the first).

    Example:
        >>> cb = load_codebook("burnout")
        >>> len(cb.codable_codes)
        24
    """
    if isinstance(name_or_path, Codebook):
        return validate_codebook(name_or_path) if validate else name_or_path
    path = Path(name_or_path)
    if not path.exists():
        text = str(name_or_path)
        if text in list_codebooks():
            shipped = resources.files("qualkit") / "codebooks" / f"{text}.yaml"
            codebook = codebook_from_yaml(shipped.read_text(encoding="utf-8"), path=f"qualkit/codebooks/{text}.yaml",
                                          validate=validate)
            return replace_name(codebook, name)
        if path.suffix.lower() in (*YAML_SUFFIXES, *CSV_SUFFIXES, *EXCEL_SUFFIXES, *QDC_SUFFIXES):
            raise InvalidCodebook(f"no codebook file at {path}", fix="check the path")
        raise InvalidCodebook(f"{text!r} is neither a codebook file nor a shipped codebook",
                              fix=f"{did_you_mean(text, list_codebooks())}use one of {list_codebooks()} or a .yaml/.csv/.xlsx/.qdc path")
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        codebook = codebook_from_yaml(_read_text(path), path=path, validate=validate)
    elif suffix in CSV_SUFFIXES:
        codebook = codebook_from_csv(_read_text(path), path=path, validate=validate,
                                     delimiter="\t" if suffix == ".tsv" else None)
    elif suffix in EXCEL_SUFFIXES:
        codebook = codebook_from_excel(path, sheet=sheet, validate=validate)
    elif suffix in QDC_SUFFIXES:
        codebook = codebook_from_qdc(path.read_bytes(), path=path, validate=validate)
    else:
        raise InvalidCodebook(f"cannot read a codebook from a {suffix or 'suffix-less'} file", path=path,
                              fix="use .yaml, .csv, .tsv, .xlsx or .qdc")
    return replace_name(codebook, name)


def save_codebook(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write a codebook as YAML, CSV, Excel or REFI ``.qdc``, chosen by the file's extension.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "mini.qdc"
        >>> save_codebook(Codebook("mini", [Code("a", "A")]), out).suffix
        '.qdc'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    validate_codebook(codebook)
    if suffix in YAML_SUFFIXES:
        path.write_text(codebook_to_yaml(codebook), encoding="utf-8")
    elif suffix in CSV_SUFFIXES:
        path.write_text(codebook_to_csv(codebook, delimiter="\t" if suffix == ".tsv" else ","), encoding="utf-8",
                        newline="")
    elif suffix in EXCEL_SUFFIXES:
        codebook_to_excel(codebook, path)
    elif suffix in QDC_SUFFIXES:
        path.write_bytes(codebook_to_qdc(codebook))
    else:
        raise InvalidCodebook(f"cannot write a codebook as {suffix or 'a suffix-less file'}", path=path,
                              fix="use .yaml, .csv, .tsv, .xlsx or .qdc")
    return path


def replace_name(codebook: Codebook, name: str | None) -> Codebook:
    """The codebook itself, renamed when ``name`` is given.

    Example:
        >>> replace_name(Codebook("a", [Code("x", "X")]), "b").name
        'b'
    """
    if name:
        codebook.name = name
    return codebook


def default_guid(codebook_name: str, code_id: str) -> str:
    """A stable REFI GUID for a code that has none (the same for the same codebook name and code id).

    Example:
        >>> default_guid("burnout", "workload") == default_guid("burnout", "workload")
        True
    """
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{codebook_name}\x1f{code_id}")).upper()


# ---------------------------------------------------------------------------------------------- validation
def codebook_problems(codebook: Codebook, *, path: str | os.PathLike[str] | None = None,
                      lines: Lines | None = None) -> list[InvalidCodebook]:
    """Every problem of a codebook (duplicate ids, unknown parents, cycles, empty names, bad patterns, colours).

    Each problem is an :class:`InvalidCodebook` naming the file and line (when known) and a fix.

    Example:
        >>> probs = codebook_problems(Codebook("x", [Code("a", "A", parent="zz")]))
        >>> probs[0].message
        "code 'a' names the parent 'zz', which is not a code of this codebook"
    """
    lines = lines or {}
    problems: list[InvalidCodebook] = []

    def problem(index: int, field: str | None, message: str, fix: str) -> None:
        line = lines.get((index, field), lines.get((index, None)))
        problems.append(InvalidCodebook(message, path=path, line=line, fix=fix))

    first_seen: dict[str, int] = {}
    for i, code in enumerate(codebook.codes):
        has_id, has_name = bool(str(code.id or "").strip()), bool(str(code.name or "").strip())
        if not has_name:
            label = f"code {code.id!r}" if has_id else f"code #{i + 1}"
            problem(i, "name", f"{label} has an empty name", "give every code a name")
        elif not has_id:
            problem(i, "id", f"code #{i + 1} ({code.name!r}) has an empty id", "give every code a unique id")
        if not has_id:
            continue
        if code.id in first_seen:
            other = lines.get((first_seen[code.id], None))
            where = f" (first defined on line {other})" if other else ""
            problem(i, "id", f"duplicate code id {code.id!r}{where}",
                    "give each code a unique id, or merge the two entries")
        else:
            first_seen[code.id] = i
        if code.color is not None and not _COLOR.match(str(code.color)):
            problem(i, "color", f"code {code.id!r} has the colour {code.color!r}, which is not #RRGGBB",
                    'write colours as "#RRGGBB" (quoted in YAML, where # starts a comment)')
        for k, pattern in enumerate(code.patterns):
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                line = lines.get((i, f"patterns.{k}"), lines.get((i, "patterns"), lines.get((i, None))))
                problems.append(InvalidCodebook(
                    f"pattern {pattern!r} of code {code.id!r} is not a valid regular expression ({error})",
                    path=path, line=line,
                    fix="escape special characters such as ( [ + ? with a backslash (doubled inside YAML "
                        "double quotes), or move plain words to cues"))
        for k, cue in enumerate(code.cues):
            if not str(cue).strip():
                line = lines.get((i, f"cues.{k}"), lines.get((i, "cues"), lines.get((i, None))))
                problems.append(InvalidCodebook(f"code {code.id!r} has an empty cue", path=path, line=line,
                                                fix="remove the empty cue"))
    known = set(first_seen)
    parents = {}
    for i, code in enumerate(codebook.codes):
        if code.parent is None:
            continue
        if code.parent not in known:
            hint = did_you_mean(code.parent, sorted(known))
            hint = f"{hint}Otherwise " if hint else ""
            problem(i, "parent", f"code {code.id!r} names the parent {code.parent!r}, which is not a code of this codebook",
                    f"{hint}add a code with id {code.parent!r}, or correct or remove the parent")
        else:
            parents[code.id] = code.parent
    reported: set[str] = set()
    for i, code in enumerate(codebook.codes):
        chain = [code.id]
        current = parents.get(code.id)
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        if current is not None and current == code.id and code.id not in reported:
            loop = [*chain, code.id]
            reported.update(chain)
            problem(i, "parent", f"the parents of codes {' -> '.join(loop)} form a cycle",
                    f"make one of them a top-level code, e.g. remove the parent of {code.id!r}")
    return problems


def validate_codebook(codebook: Codebook, *, path: str | os.PathLike[str] | None = None,
                      lines: Lines | None = None) -> Codebook:
    """Return the codebook if it is valid; otherwise raise the first problem (see :func:`codebook_problems`).

    Example:
        >>> validate_codebook(Codebook("x", [Code("a", "A"), Code("a", "B")]))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidCodebook: duplicate code id 'a'. Fix: give each code a unique id, or merge ...
    """
    problems = codebook_problems(codebook, path=path, lines=lines)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        first.problems = problems  # type: ignore[attr-defined]
        raise first
    return codebook


# ---------------------------------------------------------------------------------------------- YAML
_YAML_HEADER = """\
# qualkit codebook (YAML). Edit by hand; load with qk.Codebook.load("{path}").
# Top level: name, version, description, codes (a list). Each code: id, name, parent (optional id),
# codable (default true; false = a category that only groups codes), color ("#RRGGBB", quoted),
# definition, inclusion, exclusion, examples (excerpts that get the code), near_misses (excerpts that
# must not), cues (words/phrases matched on lemmas and lower-cased text), patterns (Python regexes,
# case-insensitive; double each backslash inside double quotes).
"""


def codebook_from_yaml(text: str, *, path: str | os.PathLike[str] | None = None, validate: bool = True) -> Codebook:
    """Parse a YAML codebook (a mapping with ``codes``, or a bare list of codes), with line numbers in errors.

    Example:
        >>> cb = codebook_from_yaml("name: mini\\ncodes:\\n  - id: a\\n    name: A\\n    cues: [tired]\\n")
        >>> cb["a"].cues
        ['tired']
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise InvalidCodebook(f"not valid YAML: {problem}", path=path, line=mark.line + 1 if mark else None,
                              fix="check indentation and quoting (quote values containing ': ' or starting with #)") from None
    finally:
        loader.dispose()
    if data is None:
        raise InvalidCodebook("the codebook file is empty", path=path, line=1, fix="add a `codes:` list")
    if isinstance(data, list):
        data, code_nodes = {"codes": data}, node
    elif isinstance(data, dict):
        code_nodes = next((v for k, v in node.value if k.value == "codes"), None)
    else:
        raise InvalidCodebook("a codebook must be a mapping with a `codes:` list", path=path, line=1,
                              fix="start the file with `name: ...` and `codes:`")
    unknown = set(data) - {"name", "version", "description", "codes"}
    if unknown:
        key = sorted(unknown)[0]
        line = next((k.start_mark.line + 1 for k, _ in node.value if k.value == key), None)
        raise InvalidCodebook(f"unknown top-level field {key!r}", path=path, line=line,
                              fix="use only name, version, description and codes")
    raw_codes = data.get("codes")
    if isinstance(raw_codes, dict):  # mapping form: {id: {fields}}
        items = [{"id": k, **(v or {})} for k, v in raw_codes.items()]
        entry_nodes = [v for _, v in code_nodes.value]
        key_nodes = [k for k, _ in code_nodes.value]
    elif isinstance(raw_codes, list):
        items = raw_codes
        entry_nodes = list(code_nodes.value)
        key_nodes = entry_nodes
    else:
        raise InvalidCodebook("the codebook has no `codes:` list", path=path, line=1,
                              fix="add `codes:` followed by entries `- id: ...`")
    lines: Lines = {}
    codes = []
    for i, (item, entry, key_node) in enumerate(zip(items, entry_nodes, key_nodes, strict=True)):
        lines[(i, None)] = key_node.start_mark.line + 1
        if not isinstance(item, dict):
            raise InvalidCodebook(f"code entry #{i + 1} is not a mapping of fields", path=path,
                                  line=lines[(i, None)], fix="write each code as `- id: ...` with fields below it")
        if isinstance(entry, yaml.MappingNode):
            for k, v in entry.value:
                lines[(i, k.value)] = k.start_mark.line + 1
                if isinstance(v, yaml.SequenceNode):
                    for j, element in enumerate(v.value):
                        lines[(i, f"{k.value}.{j}")] = element.start_mark.line + 1
        codes.append(_code_from_mapping(item, index=i, path=path, lines=lines))
    name = str(data.get("name") or (Path(path).stem if path else "codebook"))
    version = data.get("version", 1)
    if not isinstance(version, int) or version < 1:
        line = next((k.start_mark.line + 1 for k, _ in node.value if k.value == "version"), None) \
            if isinstance(node, yaml.MappingNode) else None
        raise InvalidCodebook(f"version {version!r} is not a positive whole number", path=path, line=line,
                              fix="write e.g. `version: 2`")
    codebook = Codebook(name=name, codes=codes, version=version, description=str(data.get("description") or ""))
    _fill_guids(codebook)
    if validate:
        validate_codebook(codebook, path=path, lines=lines)
    return codebook


def _code_from_mapping(item: Mapping[str, Any], *, index: int, path: Any, lines: Lines) -> Code:
    unknown = [k for k in item if k not in CODE_FIELDS and k not in ("colour", "keywords", "description")]
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, CODE_FIELDS)
        raise InvalidCodebook(f"code entry #{index + 1} has the unknown field {key!r}", path=path,
                              line=lines.get((index, str(key)), lines.get((index, None))),
                              fix=f"{hint}fields are {', '.join(CODE_FIELDS)}")
    values: dict[str, Any] = {}
    for key, value in item.items():
        field = {"colour": "color", "keywords": "cues", "description": "definition"}.get(key, key)
        if field in LIST_FIELDS:
            if value is None:
                value = []
            elif isinstance(value, str):
                value = [value]
            elif not isinstance(value, list):
                raise InvalidCodebook(f"{key} of code entry #{index + 1} must be a list", path=path,
                                      line=lines.get((index, key)), fix=f"write {key} as `- item` lines")
            value = [str(v) for v in value if v is not None]
        elif field == "codable":
            value = _as_bool(value)
        elif field in ("parent", "color", "guid"):
            value = None if value in (None, "") else str(value)
        else:
            value = "" if value is None else str(value)
        values[field] = value
    values.setdefault("id", values.get("name", ""))
    values.setdefault("name", values.get("id", ""))
    values["id"] = str(values["id"]).strip()
    values["name"] = str(values["name"]).strip()
    if values.get("color"):
        values["color"] = normalise_color(values["color"])
    return Code(**values)


def codebook_to_yaml(codebook: Codebook) -> str:
    """Render a codebook as commented YAML that :func:`codebook_from_yaml` reads back identically.

    Example:
        >>> "id: a" in codebook_to_yaml(Codebook("mini", [Code("a", "A")]))
        True
    """
    import yaml

    codes = []
    for code in codebook.codes:
        entry: dict[str, Any] = {"id": code.id, "name": code.name}
        if code.parent is not None:
            entry["parent"] = code.parent
        if not code.codable:
            entry["codable"] = False
        if code.color:
            entry["color"] = code.color
        for field in ("definition", "inclusion", "exclusion"):
            if getattr(code, field):
                entry[field] = getattr(code, field)
        for field in LIST_FIELDS:
            if getattr(code, field):
                entry[field] = list(getattr(code, field))
        if code.guid and code.guid != default_guid(codebook.name, code.id):
            entry["guid"] = code.guid
        codes.append(entry)
    body = {"name": codebook.name, "version": codebook.version}
    if codebook.description:
        body["description"] = codebook.description
    body["codes"] = codes
    dumped = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return _YAML_HEADER.format(path=f"{codebook.name}.yaml") + "\n" + dumped


# ---------------------------------------------------------------------------------------------- CSV / Excel
# Column names we understand (compared lower-cased, with _ and - read as spaces), in order of preference.
_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "code id", "key", "code key"),
    "name": ("name", "code name", "tag", "label", "title", "code"),
    "parent": ("parent", "parent id", "parent code", "parent name", "category"),
    "definition": ("definition", "description", "memo", "meaning"),
    "inclusion": ("inclusion", "inclusion criteria", "include", "when to use"),
    "exclusion": ("exclusion", "exclusion criteria", "exclude", "when not to use"),
    "examples": ("examples", "example", "example quotes"),
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
    return mapping


def _split_cell(field: str, cell: str) -> list[str]:
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


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return True
    return str(value).strip().lower() not in ("false", "no", "n", "0", "f", "")


def normalise_color(color: str) -> str:
    """``#RRGGBB`` in upper case from ``RRGGBB``/``#rgb``/``#rrggbb``; anything else is returned unchanged.

    Example:
        >>> normalise_color("#abc")
        '#AABBCC'
    """
    text = str(color).strip()
    if not _COLOR.match(text):
        return text
    digits = text.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits.upper()


def _codebook_from_rows(rows: Iterable[tuple[int, list[Any]]], *, path: Any, name: str,
                        validate: bool) -> Codebook:
    rows = iter(rows)
    header_line, headers = next(((n, r) for n, r in rows if any(str(c or "").strip() for c in r)), (1, []))
    columns = _column_map(headers)
    if "name" not in columns:
        if "id" in columns:
            columns["name"] = columns["id"]
        else:
            raise InvalidCodebook(f"no name column among {[str(h) for h in headers]}", path=path, line=header_line,
                                  fix="add a header row with a `name` (or `tag`/`code`) column")
    codes: list[Code] = []
    lines: Lines = {}
    version: tuple[int, int] | None = None  # (version, line it was first given on)
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
            "exclusion": cell("exclusion"), "codable": _as_bool(cell("codable")) if cell("codable") else True,
            "color": normalise_color(cell("color")) if cell("color") else None, "guid": cell("guid") or None,
        }
        if "id" in columns and not values["id"]:
            values["id"] = name_value
        for field in LIST_FIELDS:
            values[field] = _split_cell(field, cell(field)) if field in columns else []
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
    # A parent may be given by id or by name.
    ids = {c.id for c in codes}
    by_name = {c.name: c.id for c in codes}
    for code in codes:
        if code.parent is not None and code.parent not in ids and code.parent in by_name:
            code.parent = by_name[code.parent]
    codebook = Codebook(name=name, codes=codes, version=version[0] if version else 1)
    _fill_guids(codebook)
    if validate:
        validate_codebook(codebook, path=path, lines=lines)
    return codebook


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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterable[tuple[int, list[Any]]]:
        start = 1
        for row in reader:
            yield start, row
            start = reader.line_num + 1

    try:
        return _codebook_from_rows(rows(), path=path, validate=validate,
                                   name=name or (Path(path).stem if path else "codebook"))
    except csv.Error as error:
        raise InvalidCodebook(f"malformed CSV: {error}", path=path, line=reader.line_num,
                              fix="check the quoting on that line") from None


def codebook_from_excel(path: str | os.PathLike[str], *, sheet: str | None = None, name: str | None = None,
                        validate: bool = True) -> Codebook:
    """Read a codebook from an Excel worksheet laid out like the CSV format (header row first).

    Example:
        >>> codebook_from_excel("codes.xlsx").name  # doctest: +SKIP
        'codes'
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise InvalidCodebook(f"cannot open the workbook ({error})", path=path,
                              fix="save it as .xlsx from Excel or LibreOffice") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise InvalidCodebook(f"no worksheet {sheet!r}", path=path, fix=f"use one of {workbook.sheetnames}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        rows = [(n, list(r)) for n, r in enumerate(worksheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return _codebook_from_rows(rows, path=path, validate=validate, name=name or Path(path).stem)


def _list_cell(field: str, items: list[str]) -> str:
    """One item per line, or a JSON array when the lines would not read back as the same items (an item
    spanning lines, a lone cue holding a ";", an item with surrounding spaces, ...)."""
    import json

    plain = "\n".join(items)
    return plain if _split_cell(field, plain) == items else json.dumps(items, ensure_ascii=False)


def _table_rows(codebook: Codebook) -> list[list[str]]:
    rows = [list(CSV_COLUMNS)]
    for code in codebook.codes:
        row = []
        for column in CSV_COLUMNS:
            if column == "codebook_version":
                row.append(str(codebook.version))
                continue
            value = getattr(code, column)
            if column in LIST_FIELDS:
                value = _list_cell(column, list(value))
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
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(_table_rows(codebook))
    return buffer.getvalue()


def codebook_to_excel(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write a codebook as an Excel workbook with the CSV columns.

    Example:
        >>> codebook_to_excel(Codebook("m", [Code("a", "A")]), "m.xlsx")  # doctest: +SKIP
        PosixPath('m.xlsx')
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = (codebook.name or "codebook")[:31]
    for row in _table_rows(codebook):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)
    return Path(path)


# ---------------------------------------------------------------------------------------------- REFI-QDA
_SECTIONS = (("inclusion", "Inclusion"), ("exclusion", "Exclusion"), ("examples", "Examples"),
             ("near_misses", "Near misses"), ("cues", "Cues"), ("patterns", "Patterns"), ("id", "qualkit id"))
_SECTION_OF = {label.lower(): field for field, label in _SECTIONS}
_QDC_VERSION = re.compile(r"^qualkit\b.*\bcodebook version (\d+)\b")
_SECTION_LINE = re.compile(r"^(Inclusion|Exclusion|Examples|Near misses|Cues|Patterns|qualkit id):[ \t]*(.*)$",
                           re.IGNORECASE)


def fold_description(code: Code) -> str:
    """Fold a code's definition, criteria, examples, near-misses and cues into one REFI ``Description`` text.

    Example:
        >>> print(fold_description(Code("tired", "Tired", definition="Worn out.", cues=["drained"])))
        Worn out.
        <BLANKLINE>
        Cues:
        - drained
        <BLANKLINE>
        qualkit id: tired
    """
    parts = [_escape_lines(code.definition.strip())] if code.definition.strip() else []
    for field, label in _SECTIONS:
        if field == "id":
            if code.id != code.name:
                parts.append(f"{label}: " + ("\\" + code.id if code.id.startswith("\\") else code.id))
            continue
        value = getattr(code, field)
        if field in LIST_FIELDS:
            if value:
                items = ["- " + item.replace("\n", "\n  ") for item in value]
                parts.append(f"{label}:\n" + "\n".join(items))
        elif value.strip():
            first, _, rest = value.strip().partition("\n")
            first = "\\" + first if first.startswith("\\") else first
            parts.append(f"{label}: {first}" + (f"\n{_escape_lines(rest)}" if rest else ""))
    return "\n\n".join(parts)


def _escape_lines(text: str) -> str:
    """Prefix a backslash to lines of free text that would read as a section label ("Inclusion: ...") or
    start with one, so :func:`unfold_description` cannot mistake them for another field."""
    return "\n".join("\\" + line if _SECTION_LINE.match(line) or line.startswith("\\") else line
                     for line in text.split("\n"))


def unfold_description(text: str) -> dict[str, Any]:
    """Parse a ``Description`` written by :func:`fold_description` back into fields (plain text = definition).

    Example:
        >>> unfold_description("Tired.\\n\\nCues:\\n- drained")
        {'definition': 'Tired.', 'cues': ['drained']}
    """
    result: dict[str, Any] = {}
    definition: list[str] = []
    field: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        if field is None:
            return
        if field in LIST_FIELDS:
            items: list[str] = []
            for line in buffer:
                if line.startswith("- "):
                    items.append(line[2:])
                elif line.startswith("  ") and items:
                    items[-1] += "\n" + line[2:]
                elif line.strip():
                    items.append(line.strip())
            result[field] = items
        else:
            result[field] = "\n".join(_unescape(line) for line in buffer).strip()

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        match = _SECTION_LINE.match(line)
        if match:
            flush()
            field, buffer = _SECTION_OF[match.group(1).lower()], []
            if match.group(2).strip():
                buffer.append(match.group(2) if field not in LIST_FIELDS else "- " + match.group(2).strip())
        elif field is None:
            definition.append(_unescape(line))
        else:
            buffer.append(line)
    flush()
    text_definition = "\n".join(definition).strip()
    if text_definition:
        result = {"definition": text_definition, **result}
    return result


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") else line


def codebook_to_element(codebook: Codebook, namespace: str = CODEBOOK_NS) -> ET.Element:
    """Build the REFI ``<CodeBook>`` element (codes nested by parent) in the given XML namespace.

    Use ``PROJECT_NS`` to embed it in a ``project.qde``; GUIDs are the codes' own (stable) GUIDs.

    Example:
        >>> el = codebook_to_element(Codebook("m", [Code("a", "A"), Code("b", "B", parent="a")]))
        >>> [c.get("name") for c in el.iter(f"{{{CODEBOOK_NS}}}Code")]
        ['A', 'B']
    """
    if not codebook.codes:
        raise InvalidCodebook(f"codebook {codebook.name!r} has no codes; REFI-QDA needs at least one",
                              fix="add a code before exporting")
    ns = f"{{{namespace}}}"
    root = ET.Element(f"{ns}CodeBook")
    if namespace == CODEBOOK_NS:
        # REFI's CodeBook has no version attribute; qualkit keeps its version in the free-text origin.
        root.set("origin", f"qualkit; codebook version {codebook.version}")
    codes_el = ET.SubElement(root, f"{ns}Codes")
    elements: dict[str, ET.Element] = {}
    pending = list(codebook.codes)
    ids = set(codebook.ids)
    while pending:
        progressed = False
        for code in list(pending):
            if code.parent is not None and code.parent in ids and code.parent not in elements:
                continue
            parent_el = elements.get(code.parent, codes_el) if code.parent else codes_el
            attributes = {"guid": code.guid or default_guid(codebook.name, code.id), "name": code.name,
                          "isCodable": "true" if code.codable else "false"}
            if code.color and _COLOR.match(code.color):
                attributes["color"] = normalise_color(code.color)
            element = ET.SubElement(parent_el, f"{ns}Code", attributes)
            description = fold_description(code)
            if description:
                ET.SubElement(element, f"{ns}Description").text = description
            elements[code.id] = element
            pending.remove(code)
            progressed = True
        if not progressed:
            raise InvalidCodebook(f"the parents of {[c.id for c in pending]} form a cycle",
                                  fix="validate the codebook and remove the cycle")
    # Description must come before nested codes in REFI's schema order.
    for element in elements.values():
        description = element.find(f"{ns}Description")
        if description is not None and list(element).index(description) != 0:
            element.remove(description)
            element.insert(0, description)
    return root


def codebook_from_element(element: ET.Element, namespace: str = CODEBOOK_NS, *, name: str = "codebook",
                          path: str | os.PathLike[str] | None = None, validate: bool = True) -> Codebook:
    """Read codes from a REFI ``<CodeBook>`` element (codebook or project namespace), unfolding descriptions.

    A code's id is the ``qualkit id`` in its description, else its name (its parent's path and its name
    when two codes share a name).

    Example:
        >>> el = codebook_to_element(Codebook("m", [Code("a", "A", definition="Tired.")]))
        >>> codebook_from_element(el)["a"].definition
        'Tired.'
    """
    ns = f"{{{namespace}}}"
    if element.tag != f"{ns}CodeBook":
        raise InvalidProjectFile(f"expected a CodeBook element in {namespace}, found {element.tag}", path=path,
                                 fix=f"use a REFI-QDA codebook in the namespace {namespace}")
    codes_el = element.find(f"{ns}Codes")
    if codes_el is None:
        raise InvalidProjectFile("the CodeBook has no Codes element", path=path, fix="export the codebook again")
    codes: list[Code] = []
    paths: list[str] = []
    explicit: list[bool] = []
    parent_of: list[int | None] = []

    def walk(parent_el: ET.Element, parent_index: int | None) -> None:
        for code_el in parent_el.findall(f"{ns}Code"):
            code_name = code_el.get("name")
            guid = code_el.get("guid")
            if not code_name or not guid:
                raise InvalidProjectFile("a Code lacks its name or guid attribute", path=path,
                                         fix="every REFI Code needs name, guid and isCodable")
            description_el = code_el.find(f"{ns}Description")
            values = unfold_description(description_el.text if description_el is not None else "")
            code_id = values.pop("id", None)
            color = code_el.get("color")
            codes.append(Code(id=code_id or code_name, name=code_name, guid=guid,
                              codable=_as_bool(code_el.get("isCodable", "true")),
                              color=normalise_color(color) if color else None, **values))
            explicit.append(code_id is not None)
            parent_of.append(parent_index)
            paths.append(f"{paths[parent_index]}/{code_name}" if parent_index is not None else code_name)
            walk(code_el, len(codes) - 1)

    walk(codes_el, None)
    # Ids default to names; where two codes share a name, their paths (parent/child) tell them apart.
    counts: dict[str, int] = {}
    for code in codes:
        counts[code.id] = counts.get(code.id, 0) + 1
    for i, code in enumerate(codes):
        if not explicit[i] and counts[code.id] > 1:
            code.id = paths[i]
    for code, parent_index in zip(codes, parent_of, strict=True):
        code.parent = codes[parent_index].id if parent_index is not None else None
    origin = _QDC_VERSION.search(element.get("origin") or "")
    codebook = Codebook(name=name, codes=codes, version=int(origin.group(1)) if origin else 1)
    if validate:
        validate_codebook(codebook, path=path)
    return codebook


def codebook_to_qdc(codebook: Codebook) -> bytes:
    """Serialise a codebook as a REFI-QDA ``.qdc`` file (UTF-8 XML in the codebook namespace).

    Example:
        >>> codebook_to_qdc(Codebook("m", [Code("a", "A")])).startswith(b"<?xml")
        True
    """
    ET.register_namespace("", CODEBOOK_NS)
    root = codebook_to_element(codebook, CODEBOOK_NS)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def codebook_from_qdc(data: bytes, *, path: str | os.PathLike[str] | None = None, name: str | None = None,
                      validate: bool = True) -> Codebook:
    """Parse a REFI-QDA ``.qdc`` file safely (no DTDs, entities or external references).

    Example:
        >>> codebook_from_qdc(codebook_to_qdc(Codebook("m", [Code("a", "A")]))).ids
        ['a']
    """
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as error:
        raise InvalidProjectFile(f"unsafe XML refused ({type(error).__name__})", path=path,
                                 fix="export the codebook again without DTDs or entity declarations") from None
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise InvalidProjectFile(f"not well-formed XML ({error.msg if hasattr(error, 'msg') else error})",
                                 path=path, line=line, fix="export the codebook again") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in (CODEBOOK_NS, PROJECT_NS):
        raise InvalidProjectFile(f"root element {root.tag} is not a REFI-QDA CodeBook", path=path,
                                 fix=f"use a .qdc file in the namespace {CODEBOOK_NS}")
    return codebook_from_element(root, namespace, name=name or (Path(path).stem if path else "codebook"),
                                 path=path, validate=validate)


# ---------------------------------------------------------------------------------------------- helpers
def _fill_guids(codebook: Codebook) -> None:
    for code in codebook.codes:
        if not code.guid:
            code.guid = default_guid(codebook.name, code.id)


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def codes_as_records(codebook: Codebook) -> list[dict[str, Any]]:
    """The codes as plain dicts (for DataFrames and JSON).

    Example:
        >>> codes_as_records(Codebook("m", [Code("a", "A")]))[0]["id"]
        'a'
    """
    return [{f: getattr(c, f) for f in CODE_FIELDS} for c in codebook.codes]


def copy_codebook(codebook: Codebook, **changes: Any) -> Codebook:
    """A deep copy of a codebook, with top-level fields changed.

    Example:
        >>> copy_codebook(Codebook("m", [Code("a", "A")]), name="n").name
        'n'
    """
    import copy

    return replace(copy.deepcopy(codebook), **changes)


__all__ = [
    "CODEBOOK_NS",
    "PROJECT_NS",
    "codebook_from_csv",
    "codebook_from_element",
    "codebook_from_excel",
    "codebook_from_qdc",
    "codebook_from_yaml",
    "codebook_problems",
    "codebook_to_csv",
    "codebook_to_element",
    "codebook_to_excel",
    "codebook_to_qdc",
    "codebook_to_yaml",
    "codes_as_records",
    "copy_codebook",
    "default_guid",
    "fold_description",
    "list_codebooks",
    "load_codebook",
    "normalise_color",
    "save_codebook",
    "unfold_description",
    "validate_codebook",
]
