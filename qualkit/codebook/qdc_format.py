"""The REFI-QDA ``.qdc`` codebook format, read with ``defusedxml``; its ``<CodeBook>`` element is shared with ``.qdpx``.

A code's definition, criteria, examples, near-misses and cues are folded into one ``Description`` and
unfolded again on reading. :func:`codebook_to_element` and :func:`codebook_from_element` serve the
``.qdpx`` project export too, whose ``project.qde`` embeds a ``<CodeBook>`` in the project namespace.

Example:
    >>> codebook_from_qdc(codebook_to_qdc(Codebook("m", [Code("a", "A", definition="Worn out.")])))["a"].definition
    'Worn out.'
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from qualkit.codebook.format import CodebookFormat
from qualkit.codebook.validation import (
    COLOR,
    LIST_FIELDS,
    as_bool,
    default_guid,
    normalise_color,
    validate_codebook,
)
from qualkit.errors import InvalidCodebook, InvalidProjectFile
from qualkit.model import Code, Codebook

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
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
            if code.color and COLOR.match(code.color):
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
    when two codes share a name; ``Name (2)`` for a second code of the same name under the same parent).

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
                              codable=as_bool(code_el.get("isCodable", "true")),
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
    # Two codes of one name under one parent (other programs allow it; their GUIDs differ): number the later ones.
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        seen[code.id] = seen.get(code.id, 0) + 1
        if not explicit[i] and seen[code.id] > 1:
            code.id = f"{code.id} ({seen[code.id]})"
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


def _read(path: Path, *, validate: bool = True, **_: Any) -> Codebook:
    return codebook_from_qdc(path.read_bytes(), path=path, validate=validate)


def _write(codebook: Codebook, path: Path) -> None:
    path.write_bytes(codebook_to_qdc(codebook))


FORMAT = CodebookFormat("qdc", "REFI-QDA codebook (.qdc)", (".qdc",), read=_read, write=_write)
