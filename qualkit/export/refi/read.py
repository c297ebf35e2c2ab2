"""Reading a ``.qdpx`` into plain objects (nothing is stored): sources, selections, codes, cases, notes, users.

Offsets are Unicode code points. Some tools count a CRLF as one character; ``crlf_as_one="auto"``
(the default) detects such files per source, from selection names that quote the text, selections that
only fit the text that way, and selection boundaries that only fall between words that way, and
converts their offsets (with a warning). Files qualkit wrote are never converted.

Two text sources with one GUID but different texts are refused, naming the GUID: after a round trip
both would be written to one ``sources/<GUID>.txt``, and one transcript would hold the other's text.

Example:
    >>> from qualkit.store.repository import Store
    >>> import tempfile, pathlib
    >>> from qualkit.export.refi.write import export_qdpx
    >>> out = export_qdpx(Store.create("sqlite://", name="p"), pathlib.Path(tempfile.mkdtemp()) / "p.qdpx")
    >>> read_qdpx(out).name
    'p'
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidInput, InvalidProjectFile
from qualkit.export.refi.archive import open_qdpx
from qualkit.export.refi.common import NS, PROJECT_NS, normalise_guid, parse_case_description, stable_guid
from qualkit.model import Codebook, Participant


@dataclass
class Selection:
    """A coded or annotated span of a text source in a ``.qdpx`` file.

    Example:
        >>> Selection(guid="G", start=0, end=4).codes
        []
    """

    guid: str
    start: int
    end: int
    codes: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (code guid, user, coding guid)
    notes: list[str] = field(default_factory=list)
    user: str | None = None


@dataclass
class QdpxSource:
    """One text source read from a ``.qdpx`` file.

    Example:
        >>> QdpxSource(guid="G", name="g1.txt", text="Ann: hi").selections
        []
    """

    guid: str
    name: str
    text: str
    selections: list[Selection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    user: str | None = None


@dataclass
class QdpxProject:
    """Everything qualkit reads from a ``.qdpx`` file, before anything is stored.

    Example:
        >>> QdpxProject(name="p").sources
        []
    """

    name: str
    description: str = ""
    users: dict[str, str] = field(default_factory=dict)  # guid -> name
    codebook: Codebook | None = None
    participants: list[Participant] = field(default_factory=list)
    sources: list[QdpxSource] = field(default_factory=list)
    notes: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # guid -> (text, author)
    code_notes: dict[str, list[str]] = field(default_factory=dict)  # code guid -> note guids
    project_notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_users: set[str] = field(default_factory=set)  # creatingUser GUIDs missing from <Users>

    def user_of(self, element: Any) -> str | None:
        """The name of the user who made ``element`` (its ``creatingUser``); None when it names nobody.

        A GUID that is not among the file's users becomes ``unknown-`` and its first 8 digits (never
        the person importing: that would credit them with someone else's work).

        Example:
            >>> import xml.etree.ElementTree as ET
            >>> QdpxProject(name="p").user_of(ET.Element("Coding", creatingUser="0c1d2e3f-aaaa-bbbb-cccc-dddddddddddd"))
            'unknown-0C1D2E3F'
        """
        guid = normalise_guid(element.get("creatingUser"))
        if not guid:
            return None
        if guid not in self.users:
            self.unknown_users.add(guid)
            return f"unknown-{guid[:8]}"
        return self.users[guid]



def read_qdpx(path: str | os.PathLike[str], *, crlf_as_one: bool | str = "auto") -> QdpxProject:
    """Read a ``.qdpx`` file safely into plain objects (nothing is stored).

    ``crlf_as_one`` says how selection offsets count a CRLF line break: ``False`` as two code points
    (the standard), ``True`` as one (some tools do; offsets are converted), ``"auto"`` (default)
    decides per source from the evidence (see :func:`crlf_as_one_fits`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib
        >>> from qualkit.export.refi.write import export_qdpx
        >>> out = export_qdpx(Store.create("sqlite://", name="p"), pathlib.Path(tempfile.mkdtemp()) / "p.qdpx")
        >>> read_qdpx(out).name
        'p'
    """
    path = Path(path)
    with open_qdpx(path) as (root, read_source_file):
        return _read_project(root, path, read_source_file, crlf_as_one=crlf_as_one)


def crlf_one_to_code_points(text: str) -> Callable[[int], int]:
    r"""A function that turns an offset counting each CRLF as one character into a code-point offset.

    Example:
        >>> convert = crlf_one_to_code_points("a\r\nb\r\nc")
        >>> [convert(p) for p in (0, 1, 2, 3, 4)]
        [0, 1, 3, 4, 6]
    """
    collapsed_at = [match.start() - k for k, match in enumerate(re.finditer("\r\n", text))]
    return lambda position: position + bisect.bisect_left(collapsed_at, position)


def _splits_word(text: str, position: int) -> bool:
    return 0 < position < len(text) and text[position - 1].isalnum() and text[position].isalnum()


def _reading_evidence(text: str, spans: Sequence[tuple[int, int, str | None]]) -> tuple[int, int, int]:
    """How well spans fit a text: (spans whose name matches the text, spans inside it, boundaries between words)."""
    names = valid = clean = 0
    for start, end, name in spans:
        if not 0 <= start < end <= len(text) or text[start - 1:start + 1] == "\r\n" or text[end - 1:end + 1] == "\r\n":
            continue
        valid += 1
        clean += (not _splits_word(text, start)) + (not _splits_word(text, end))
        wanted = " ".join((name or "").split()).rstrip("…")
        if len(wanted) >= 3 and " ".join(text[start:end].split()).startswith(wanted):
            names += 1
    return names, valid, clean


def crlf_as_one_fits(text: str, spans: Sequence[tuple[int, int, str | None]]) -> bool:
    r"""True when selection offsets make sense only if each CRLF counted as one character.

    ``spans`` are (start, end, selection name). The two readings are compared on the evidence, in this
    order: selection names that quote the text (qualkit, and several tools, name a selection by its
    text), selections that fit the text at all (ending inside it, not between CR and LF), and selection
    boundaries that fall between words rather than inside one (a clear margin is required). Ties keep
    the standard reading (code points), so a correct file is never shifted.

    Example:
        >>> text = "Mod: Hi.\r\nAnn: So tired.\r\nBo: Inbox.\r\n"
        >>> crlf_as_one_fits(text, [(28, 33, "Inbox")])  # "Inbox" is at 30-35 in code points
        True
        >>> crlf_as_one_fits(text, [(30, 35, "Inbox")])
        False
    """
    if "\r\n" not in text or not spans:
        return False
    convert = crlf_one_to_code_points(text)
    standard = _reading_evidence(text, spans)
    collapsed = _reading_evidence(text, [(convert(a), convert(b), n) for a, b, n in spans])
    if collapsed[0] != standard[0]:
        return collapsed[0] > standard[0]
    if collapsed[1] != standard[1]:
        return collapsed[1] > standard[1]
    mostly_clean = collapsed[2] >= 0.9 * 2 * collapsed[1]  # a tool's selections mostly start and end at words
    return mostly_clean and collapsed[2] - standard[2] >= max(2, len(spans) // 2)


def _read_project(root: Any, path: Path, read_source_file: Callable[[str], bytes], *,
                  crlf_as_one: bool | str = "auto") -> QdpxProject:
    from qualkit.codebook import codebook_from_element

    if root.tag != f"{NS}Project":
        raise InvalidProjectFile(f"the root element is {root.tag}, not a QDA-XML 1.0 Project", path=path,
                                 fix=f"use a .qdpx file in the namespace {PROJECT_NS}")
    project = QdpxProject(name=root.get("name") or path.stem)
    description = root.find(f"{NS}Description")
    project.description = (description.text or "") if description is not None else ""
    if crlf_as_one not in (True, False, "auto"):
        raise InvalidInput(f"crlf_as_one must be True, False or 'auto', not {crlf_as_one!r}",
                           fix="pass crlf_as_one=True, False or 'auto'")
    written_by_qualkit = (root.get("origin") or "").startswith("qualkit")  # qualkit always writes code points
    for user in root.iterfind(f"{NS}Users/{NS}User"):
        guid = normalise_guid(user.get("guid"))
        if guid:
            project.users[guid] = user.get("name") or user.get("id") or guid
    codebook_el = root.find(f"{NS}CodeBook")
    if codebook_el is not None and codebook_el.find(f"{NS}Codes") is not None:
        project.codebook = codebook_from_element(codebook_el, PROJECT_NS, name=project.name, path=path)
        for code in project.codebook.codes:
            code.guid = normalise_guid(code.guid) or code.guid
        numbered = [code.id for code in project.codebook.codes if code.id.endswith(")") and " (" in code.id
                    and code.id.rsplit(" (", 1)[0] in project.codebook]
        if numbered:
            project.warnings.append(f"{len(numbered)} codes share a name with another code under the same parent; "
                                    f"they are imported as {', '.join(repr(i) for i in numbered[:5])}")
        for code_el in codebook_el.iter(f"{NS}Code"):
            refs = [normalise_guid(r.get("targetGUID")) for r in code_el.findall(f"{NS}NoteRef")]
            if refs:
                project.code_notes[normalise_guid(code_el.get("guid")) or ""] = [r for r in refs if r]

    variables = {}
    for variable in root.iterfind(f"{NS}Variables/{NS}Variable"):
        guid = normalise_guid(variable.get("guid"))
        if guid:
            variables[guid] = variable.get("name") or guid

    def values_of(element: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for value_el in element.findall(f"{NS}VariableValue"):
            ref = value_el.find(f"{NS}VariableRef")
            name = variables.get(normalise_guid(ref.get("targetGUID")) if ref is not None else "")
            if name is None:
                continue
            for child in value_el:
                if child is ref:
                    continue
                values[name] = _typed_value(child.tag[len(NS):], child.text)
        return values

    labels = set()
    for case in root.iterfind(f"{NS}Cases/{NS}Case"):
        label = case.get("name") or case.get("guid")
        if not label or label in labels:
            continue
        labels.add(label)
        description = case.find(f"{NS}Description")
        pseudonym, aliases = parse_case_description(description.text if description is not None else None)
        project.participants.append(Participant(label, pseudonym=pseudonym, aliases=aliases,
                                                attributes=values_of(case), guid=normalise_guid(case.get("guid"))))

    names: set[str] = set()
    texts_by_guid: dict[str, str] = {}
    for element in root.iterfind(f"{NS}Sources/*"):
        kind = element.tag[len(NS):]
        if kind != "TextSource":
            project.warnings.append(f"skipped {kind} {element.get('name')!r}: only text sources are imported")
            continue
        given = normalise_guid(element.get("guid"))
        name = element.get("name") or given or stable_guid("imported-source", "")
        base, number = name, 2
        while name in names:
            name, number = f"{base} ({number})", number + 1
        names.add(name)
        guid = given or stable_guid("imported-source", name)
        content = element.find(f"{NS}PlainTextContent")
        if element.get("plainTextPath"):
            raw = read_source_file(element.get("plainTextPath"))
            text = _decode(raw, path, element.get("plainTextPath"))
        elif content is not None:
            text = content.text or ""
        else:
            project.warnings.append(f"skipped source {name!r}: it has no plain text (plainTextPath)")
            continue
        if guid in texts_by_guid:
            if texts_by_guid[guid] != text:
                raise InvalidProjectFile(f"two text sources share the GUID {guid} but hold different texts", path=path,
                                         fix="give each source its own GUID in the QDA program, then export again")
            project.warnings.append(f"{name}: the same text as another source with GUID {guid}; "
                                    "imported with a GUID of its own")
            guid = stable_guid("duplicate-source", guid, name)
        texts_by_guid[guid] = text
        source = QdpxSource(guid=guid, name=name, text=text, variables=values_of(element),
                            user=project.user_of(element))
        skipped = 0
        raw = []
        for sel in element.findall(f"{NS}PlainTextSelection"):
            try:
                raw.append((sel, int(sel.get("startPosition")), int(sel.get("endPosition"))))
            except (TypeError, ValueError):
                project.warnings.append(f"{name}: skipped selection {sel.get('guid')}: its positions "
                                        f"{sel.get('startPosition')!r}:{sel.get('endPosition')!r} are not numbers")
        convert: Callable[[int], int] | None = None
        if crlf_as_one is True or (crlf_as_one == "auto" and not written_by_qualkit and crlf_as_one_fits(
                text, [(a, b, sel.get("name")) for sel, a, b in raw])):
            convert = crlf_one_to_code_points(text)
            if "\r\n" in text:
                project.warnings.append(f"{name}: selection offsets count each CRLF line break as one character; "
                                        "converted to code points")
        for sel, start, end in raw:
            if convert is not None:
                start, end = convert(start), convert(end)
            if not 0 <= start < end <= len(text):
                skipped += 1
                continue
            selection = Selection(guid=normalise_guid(sel.get("guid")) or stable_guid("sel", guid, str(start)),
                                  start=start, end=end,
                                  user=project.user_of(sel))
            for coding in sel.findall(f"{NS}Coding"):
                ref = coding.find(f"{NS}CodeRef")
                code_guid = normalise_guid(ref.get("targetGUID")) if ref is not None else None
                if code_guid:
                    user = project.user_of(coding) or selection.user
                    selection.codes.append((code_guid, user, normalise_guid(coding.get("guid"))))
            selection.notes = [g for g in (normalise_guid(r.get("targetGUID"))
                                           for r in sel.findall(f"{NS}NoteRef")) if g]
            source.selections.append(selection)
        if skipped:
            project.warnings.append(f"{name}: skipped {skipped} selections outside the text")
        if element.findall(f"{NS}Coding"):
            project.warnings.append(f"{name}: codings of the whole source were skipped")
        source.notes = [g for g in (normalise_guid(r.get("targetGUID")) for r in element.findall(f"{NS}NoteRef")) if g]
        project.sources.append(source)

    for note in root.iterfind(f"{NS}Notes/{NS}Note"):
        guid = normalise_guid(note.get("guid"))
        content = note.find(f"{NS}PlainTextContent")
        text = content.text if content is not None and content.text else None
        if text is None and note.get("plainTextPath"):
            text = _decode(read_source_file(note.get("plainTextPath")), path, note.get("plainTextPath"))
        if guid and text:
            project.notes[guid] = (text, project.user_of(note))
    project.project_notes = [g for g in (normalise_guid(r.get("targetGUID"))
                                         for r in root.findall(f"{NS}NoteRef")) if g]
    if project.unknown_users:
        shown = ", ".join(sorted(project.unknown_users)[:3]) + (" ..." if len(project.unknown_users) > 3 else "")
        project.warnings.append(f"{len(project.unknown_users)} creatingUser GUIDs are not among the file's <Users> "
                                f"({shown}); what they made is credited to unknown-<first 8 digits of the GUID>")
    return project


def _typed_value(kind: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        if kind == "IntegerValue":
            return int(text)
        if kind == "FloatValue":
            return float(text)
        if kind == "BooleanValue":
            return text.strip().lower() in ("true", "1")
    except ValueError:
        return text
    return text


def _decode(raw: bytes, path: Path, member: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidProjectFile(f"{member} is not UTF-8 text (byte {error.start})", path=path,
                                 fix="REFI-QDA plain text sources must be UTF-8; export the project again") from None



def import_qdc(path: str | os.PathLike[str]) -> Codebook:
    """Read a REFI-QDA ``.qdc`` codebook (safely; the codebook module's reader).

    Example:
        >>> import tempfile, pathlib
        >>> from qualkit.export.refi.write import export_qdc
        >>> from qualkit.model import Code
        >>> out = export_qdc(Codebook("m", [Code("a", "A")]), pathlib.Path(tempfile.mkdtemp()) / "m.qdc")
        >>> import_qdc(out).ids
        ['a']
    """
    from qualkit.codebook import load_codebook

    return load_codebook(str(path))

