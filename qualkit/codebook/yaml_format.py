"""The YAML codebook format (qualkit's native, human-editable one; ``qualkit/codebooks/*.yaml`` are examples).

Example:
    >>> cb = codebook_from_yaml(codebook_to_yaml(Codebook("m", [Code("a", "A", cues=["tired"])])))
    >>> cb["a"].cues
    ['tired']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qualkit.codebook.format import CodebookFormat, read_text
from qualkit.codebook.validation import (
    CODE_FIELDS,
    LIST_FIELDS,
    Lines,
    as_bool,
    default_guid,
    fill_guids,
    normalise_color,
    validate_codebook,
)
from qualkit.errors import InvalidCodebook, did_you_mean
from qualkit.model import Code, Codebook

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
    _refuse_repeated_keys(node, path)
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
    fill_guids(codebook)
    if validate:
        validate_codebook(codebook, path=path, lines=lines)
    return codebook


def _refuse_repeated_keys(node: Any, path: Any) -> None:
    """Refuse a key written twice in one mapping: YAML would keep the last silently and lose the first.

    A quote left open is the usual cause: it runs on over the next entries until another quote, and
    the fields after it repeat; a whole code can vanish that way without any YAML error.
    """
    import yaml

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key, value in current.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    raise InvalidCodebook(
                        f"the field {key.value!r} appears twice in one entry (lines {seen[key.value]} and {line}); "
                        "YAML would keep only the second", path=path, line=line,
                        fix="check the lines above it for a quote that is opened and never closed, or remove one "
                            "of the two")
                if isinstance(key, yaml.ScalarNode):
                    seen[key.value] = line
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


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
            value = as_bool(value)
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


def _read(path: Path, *, validate: bool = True, **_: Any) -> Codebook:
    return codebook_from_yaml(read_text(path), path=path, validate=validate)


def _write(codebook: Codebook, path: Path) -> None:
    path.write_text(codebook_to_yaml(codebook), encoding="utf-8")


FORMAT = CodebookFormat("yaml", "YAML", (".yaml", ".yml"), read=_read, write=_write)
