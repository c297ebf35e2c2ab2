"""REFI-QDA exchange: export a project as ``.qdpx`` and import ``.qdpx`` projects safely; ``.qdc`` codebooks.

A ``.qdpx`` file is a zip of ``project.qde`` (QDA-XML 1.0, namespace ``urn:QDA-XML:project:1.0``) and a
flat ``sources/`` folder of ``<GUID>.txt`` files (UTF-8, the exact canonical text of each source, CRLF
kept). ``project.qde`` holds, in schema order: Users (every coder, reviewer and memo author),
CodeBook (written by :func:`qualkit.codebook.codebook_to_element`, definitions folded into each
``Description``), Variables and Cases (participants and their attributes), Sources (each coding a
``PlainTextSelection`` in Unicode code points, end exclusive, with one ``Coding``), and Notes (memos,
referenced from the code, source, segment or project they are about).

GUIDs are stable across exports: the stored GUIDs of sources, codes, codings, participants (cases) and
memos are used as they are; users without a stored GUID, variables and the derived elements get
name-based (UUID 5) GUIDs, so exporting the same project twice gives the same identifiers. An import
keeps the file's GUIDs (users' GUIDs and source creators go to the project setting ``refi_exchange``),
so export, import and export again give the same GUIDs and the same variables.

Line breaks: offsets are code points, so a CRLF counts as two. Some tools count a CRLF as one
character; on import, ``crlf_as_one="auto"`` (the default) detects such files per source, from
selection names that quote the text, selections that only fit the text that way, and selection
boundaries that only fall between words that way, and converts their offsets (with a warning).
Files qualkit wrote are never converted; ``crlf_as_one=True``/``False`` forces the reading.

Import is defensive: zip members are checked (no absolute paths, no ``..``, bounded count, declared
and real sizes, compression ratio) before anything is read, XML is parsed with ``defusedxml`` with
DTDs forbidden (no entity expansion, no external entities), and every problem is an
:class:`~qualkit.errors.InvalidProjectFile` naming the file. Imported texts are segmented by
qualkit's own transcript reader, as if imported as ``.txt`` (``Label: text`` lines as a fallback); a
coding that crosses turns is split at their borders, and coded text outside any segment becomes an
unattributed segment of its own, so every offset survives exactly.

Example:
    >>> from qualkit.store.repository import Store
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "empty.qdpx"
    >>> export_qdpx(Store.create("sqlite://", name="pilot"), out).name
    'empty.qdpx'
"""

from __future__ import annotations

import bisect
import io
import os
import posixpath
import re
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidInput, InvalidProjectFile, QualkitError
from qualkit.model import Code, Codebook, Coding, Memo, Participant, Segment, Source

PROJECT_NS = "urn:QDA-XML:project:1.0"
_NS = f"{{{PROJECT_NS}}}"
_GUID_NAMESPACE = uuid.UUID("0b3c52b4-3f0e-4d8a-9a57-6d1f4ac5e2a1")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TURN = re.compile(r"^[ \t]*(?P<label>[^\s:][^:\r\n]{0,59}?)[ \t]*:[ \t]+(?=\S)")
_MODERATOR = re.compile(r"\b(moderator|facilitator|interviewer|mod)\b", re.IGNORECASE)

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200


def stable_guid(*parts: str) -> str:
    """A name-based GUID (UUID 5, upper case): the same parts always give the same GUID.

    Example:
        >>> stable_guid("user", "ana") == stable_guid("user", "ana")
        True
    """
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts))).upper()


def normalise_guid(value: str | None) -> str | None:
    """A GUID in the 8-4-4-4-12 upper-case form (braces removed), or None if it is not one.

    Example:
        >>> normalise_guid("{a1b2c3d4-0000-0000-0000-00000000000f}")
        'A1B2C3D4-0000-0000-0000-00000000000F'
    """
    match = _GUID.match(value or "")
    return match.group(1).upper() if match else None


def _xml_text(value: Any) -> str:
    """Text safe for XML 1.0 (characters XML cannot carry become U+FFFD)."""
    return _XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))


def _datetime(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ======================================================================================= export


@dataclass
class _Context:
    users: dict[str, str] = field(default_factory=dict)  # name -> guid

    def user(self, name: str | None) -> str | None:
        if not name:
            return None
        return self.users.setdefault(name, stable_guid("user", name))


def project_xml(store: Any, *, include_suggested: bool = False) -> tuple[bytes, dict[str, bytes]]:
    """Build ``project.qde`` and the source files of a project: (XML bytes, {zip member: bytes}).

    ``include_suggested`` also exports suggestions still awaiting review (as codings: REFI has no
    status); by default only accepted codings are exported.

    Example:
        >>> from qualkit.store.repository import Store
        >>> xml, files = project_xml(Store.create("sqlite://", name="p"))
        >>> xml.startswith(b"<?xml") and files == {}
        True
    """
    import xml.etree.ElementTree as etree

    from qualkit.store.users import user_guids

    stored_users = user_guids(store)
    participants = [(p.id, normalise_guid(p.guid) or stable_guid("case", store.name, p.id), p.pseudonym,
                     list(p.aliases), dict(p.attributes)) for p in store.participants()]
    project_created = store.created_at
    exchange = exchange_settings(store)

    context = _Context()
    for name, guid in stored_users.items():
        if normalise_guid(guid):
            context.users[name] = normalise_guid(guid)
    # Identities users had in imported files win over the database's own: a round trip keeps them.
    for name, guid in exchange["users"].items():
        if normalise_guid(guid):
            context.users[name] = normalise_guid(guid)
    imported_users = set(exchange["users"])
    sources_frame = store.sources_df()
    statuses = ["accepted", "suggested"] if include_suggested else ["accepted"]
    codings = store.codings_df(status=statuses)
    memos = store.memos_df()
    segments = store.segments_df(attributes=False)
    codebook = _codebook_for_export(store, codings)

    # Elements are built with local names under a default namespace declared on the root (the standard
    # library cannot serialise a default namespace with unqualified attributes before Python 3.12).
    root = etree.Element("Project", {"xmlns": PROJECT_NS})
    root.set("name", _xml_text(store.name))
    from qualkit import __version__

    root.set("origin", f"qualkit {__version__}")
    created = _datetime(project_created) if project_created is not None else None
    if created:
        root.set("creationDateTime", created)

    users_el = etree.SubElement(root, "Users")
    if codebook is not None and codebook.codes:
        root.append(_codebook_element(codebook))
    code_guid = {c.id: c.guid for c in codebook.codes} if codebook is not None else {}
    code_element = {el.get("guid"): el for el in root.iter("Code")}

    # Variables and cases (participants and their attributes; source metadata as source variables).
    variables: dict[str, str] = {}  # name -> type
    for _, _, _, _, attributes in participants:
        for key, value in attributes.items():
            _note_variable(variables, key, value)
    source_objects = [store.source(int(sid), with_raw=False) for sid in sources_frame["id"]]
    for source in source_objects:
        for key, value in _scalar_metadata(source.metadata).items():
            _note_variable(variables, key, value)
    if variables:
        variables_el = etree.SubElement(root, "Variables")
        for name, kind in variables.items():
            etree.SubElement(variables_el, "Variable", guid=stable_guid("variable", name),
                             name=_xml_text(name), typeOfVariable=kind)
    source_guid = {s.id: normalise_guid(s.guid) or stable_guid("source", store.name, s.name) for s in source_objects}
    if participants:
        speaks_in: dict[str, set[int]] = {}
        for label, sid in zip(segments["participant"], segments["source_id"], strict=True):
            if isinstance(label, str):
                speaks_in.setdefault(label, set()).add(int(sid))
        cases_el = etree.SubElement(root, "Cases")
        for label, guid, pseudonym, aliases, attributes in participants:
            case = etree.SubElement(cases_el, "Case", guid=guid, name=_xml_text(label))
            description = _case_description(pseudonym, aliases)
            if description:
                etree.SubElement(case, "Description").text = _xml_text(description)
            for key, value in attributes.items():
                _variable_value(case, key, value, variables)
            for sid in sorted(speaks_in.get(label, ())):
                etree.SubElement(case, "SourceRef", targetGUID=source_guid[sid])

    # Sources with their codings, and the memos' anchors.
    files: dict[str, bytes] = {}
    memo_rows = list(memos.itertuples(index=False))
    memo_guid = {int(m.id): normalise_guid(m.guid) or stable_guid("memo", store.name, str(m.id)) for m in memo_rows}
    segment_span = {int(r.id): (int(r.start), int(r.end), int(r.source_id)) for r in segments.itertuples(index=False)}
    if source_objects:
        sources_el = etree.SubElement(root, "Sources")
        imported = {int(r.id): (r.imported_by, r.imported_at) for r in sources_frame.itertuples(index=False)}
        for source in source_objects:
            guid = source_guid[source.id]
            by, at = imported.get(source.id, (None, None))
            by = exchange["source_creators"].get(guid) or by  # who made it in the program it came from
            attrs = {"guid": guid, "name": _xml_text(source.name), "plainTextPath": f"internal://{guid}.txt"}
            if context.user(by):
                attrs["creatingUser"] = context.user(by)
            if _datetime(at):
                attrs["creationDateTime"] = _datetime(at)
            source_el = etree.SubElement(sources_el, "TextSource", attrs)
            files[f"sources/{guid}.txt"] = source.text.encode("utf-8")
            for row in codings.loc[codings["source_id"] == source.id].itertuples(index=False):
                if row.code_id not in code_guid:
                    continue
                selection_guid = normalise_guid(row.guid) or stable_guid("coding", store.name, str(row.id))
                # A person's own coding is theirs; an accepted machine suggestion belongs to who accepted it.
                decided = _present(row.decided_by) and bool(row.decided_by)
                creator = row.decided_by if row.origin != "human" and decided else row.coder
                selection = etree.SubElement(source_el, "PlainTextSelection", {
                    "guid": selection_guid, "name": _xml_text(_snippet(source.text[row.start:row.end])),
                    "startPosition": str(int(row.start)), "endPosition": str(int(row.end)),
                    **({"creatingUser": context.user(creator)} if creator else {}),
                    **({"creationDateTime": _datetime(row.created_at)} if _datetime(row.created_at) else {}),
                })
                coding_el = etree.SubElement(selection, "Coding", {
                    "guid": stable_guid("coding-of", selection_guid),
                    **({"creatingUser": context.user(creator)} if creator else {}),
                    **({"creationDateTime": _datetime(row.created_at)} if _datetime(row.created_at) else {}),
                })
                etree.SubElement(coding_el, "CodeRef", targetGUID=code_guid[row.code_id])
            for memo in memo_rows:
                seg = segment_span.get(int(memo.segment_id)) if _present(memo.segment_id) else None
                if seg is None or seg[2] != source.id:
                    continue
                selection = etree.SubElement(source_el, "PlainTextSelection", {
                    "guid": stable_guid("memo-anchor", memo_guid[int(memo.id)]), "name": "memo",
                    "startPosition": str(seg[0]), "endPosition": str(seg[1]),
                    **({"creatingUser": context.user(memo.author)} if memo.author else {}),
                })
                etree.SubElement(selection, "NoteRef", targetGUID=memo_guid[int(memo.id)])
            for memo in memo_rows:
                if not _present(memo.segment_id) and _present(memo.source_id) and int(memo.source_id) == source.id:
                    etree.SubElement(source_el, "NoteRef", targetGUID=memo_guid[int(memo.id)])
            for key, value in _scalar_metadata(source.metadata).items():
                _variable_value(source_el, key, value, variables)

    project_notes = []
    if memo_rows:
        notes_el = etree.SubElement(root, "Notes")
        for memo in memo_rows:
            attrs = {"guid": memo_guid[int(memo.id)], "name": _xml_text(_snippet(memo.text, 60))}
            if memo.author:
                attrs["creatingUser"] = context.user(memo.author)
            if _datetime(memo.created_at):
                attrs["creationDateTime"] = _datetime(memo.created_at)
            note = etree.SubElement(notes_el, "Note", attrs)
            etree.SubElement(note, "PlainTextContent").text = _xml_text(memo.text)
            if _present(memo.code_id) and not _present(memo.segment_id) and memo.code_id in code_guid:
                _add_code_note(code_element[code_guid[memo.code_id]], memo_guid[int(memo.id)])
            elif not any(_present(v) for v in (memo.segment_id, memo.source_id, memo.code_id)):
                project_notes.append(memo_guid[int(memo.id)])
    description = store.description
    if description:
        etree.SubElement(root, "Description").text = _xml_text(description)
    for guid in project_notes:
        etree.SubElement(root, "NoteRef", targetGUID=guid)

    # Users last in code, first in the file: everyone named above, and the users of imported files.
    for name in imported_users:
        context.user(name)
    for name in sorted(context.users, key=str.lower):
        etree.SubElement(users_el, "User", guid=context.users[name], name=_xml_text(name))
    if not len(users_el):
        root.remove(users_el)
    etree.indent(root, space="  ")
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    # A raw CR in text would be read back as LF (XML line-end normalisation): write it as a reference.
    xml = xml.replace(b"\r", b"&#13;")
    return xml, files


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return value == value  # NaN is the only value unequal to itself
    except Exception:
        return True


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _case_description(pseudonym: str | None, aliases: Sequence[str]) -> str:
    lines = []
    if pseudonym:
        lines.append(f"Pseudonym: {pseudonym}")
    if aliases:
        lines.append("Aliases: " + "; ".join(aliases))
    return "\n".join(lines)


def _parse_case_description(text: str | None) -> tuple[str | None, list[str]]:
    pseudonym, aliases = None, []
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "pseudonym" and value.strip():
            pseudonym = value.strip()
        elif key.strip().lower() == "aliases":
            aliases = [a.strip() for a in value.split(";") if a.strip()]
    return pseudonym, aliases


def _scalar_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (metadata or {}).items() if isinstance(v, str | int | float | bool) and v != ""}


def _variable_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    return "Text"


def _note_variable(variables: dict[str, str], name: str, value: Any) -> None:
    if value is None or (isinstance(value, float) and value != value):
        return
    kind = _variable_type(value)
    known = variables.get(name)
    if known is None or known == kind:
        variables[name] = kind
    elif {known, kind} == {"Integer", "Float"}:
        variables[name] = "Float"
    else:
        variables[name] = "Text"


def _variable_value(parent: Any, name: str, value: Any, variables: dict[str, str]) -> Any:
    import xml.etree.ElementTree as etree

    if name not in variables or value is None or (isinstance(value, float) and value != value):
        return None
    kind = variables[name]
    element = etree.SubElement(parent, "VariableValue")
    etree.SubElement(element, "VariableRef", targetGUID=stable_guid("variable", name))
    if kind == "Boolean":
        etree.SubElement(element, "BooleanValue").text = "true" if value else "false"
    elif kind == "Integer":
        etree.SubElement(element, "IntegerValue").text = str(int(value))
    elif kind == "Float":
        etree.SubElement(element, "FloatValue").text = repr(float(value))
    else:
        etree.SubElement(element, "TextValue").text = _xml_text(value)
    return element


def _codebook_for_export(store: Any, codings: Any) -> Codebook | None:
    """The active codebook, plus any code that codings use but the codebook no longer lists."""
    from qualkit.codebook import default_guid
    from qualkit.errors import StoreError

    try:
        codebook = store.codebook()
    except StoreError:
        codebook = None
    used = list(dict.fromkeys(codings["code_id"])) if len(codings) else []
    if codebook is None:
        if not used:
            return None
        codebook = Codebook(name=store.name, codes=[])
    for code_id in used:
        if code_id not in codebook:
            codebook.codes.append(Code(id=code_id, name=code_id, definition="(not in the current codebook)"))
    for code in codebook.codes:
        code.guid = normalise_guid(code.guid) or default_guid(codebook.name, code.id)
    return codebook


def _codebook_element(codebook: Codebook) -> Any:
    """The codebook serializer's ``<CodeBook>`` re-built with local names (the root declares the namespace)."""
    import xml.etree.ElementTree as ET

    from qualkit.codebook import codebook_to_element

    source = codebook_to_element(codebook, PROJECT_NS)

    def copy(element: ET.Element) -> Any:
        tag = element.tag.split("}", 1)[-1]
        new = ET.Element(tag, {k: _xml_text(v) for k, v in element.attrib.items()})
        if element.text and element.text.strip():
            new.text = _xml_text(element.text)
        for child in element:
            new.append(copy(child))
        return new

    return copy(source)


def _add_code_note(code_el: Any, note_guid: str) -> None:
    """NoteRef goes after a code's Description and before its sub-codes (schema order)."""
    import xml.etree.ElementTree as etree

    ref = etree.Element("NoteRef", targetGUID=note_guid)
    children = list(code_el)
    position = 0
    for i, child in enumerate(children):
        if child.tag in ("Description", "NoteRef"):
            position = i + 1
    code_el.insert(position, ref)


def export_qdpx(store: Any, path: str | os.PathLike[str], *, include_suggested: bool = False) -> Path:
    """Write a whole project as a REFI-QDA ``.qdpx`` file (written to a temporary name, then moved in place).

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib, zipfile
        >>> out = export_qdpx(Store.create("sqlite://", name="p"), pathlib.Path(tempfile.mkdtemp()) / "p.qdpx")
        >>> zipfile.ZipFile(out).namelist()
        ['project.qde']
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(qdpx_bytes(store, include_suggested=include_suggested))
    partial.replace(path)
    return path


def export_qdc(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write a codebook as a REFI-QDA ``.qdc`` file (the codebook module's serializer).

    Example:
        >>> import tempfile, pathlib
        >>> export_qdc(Codebook("m", [Code("a", "A")]), pathlib.Path(tempfile.mkdtemp()) / "m.qdc").suffix
        '.qdc'
    """
    from qualkit.codebook import save_codebook

    path = Path(path)
    if path.suffix.lower() != ".qdc":
        path = path.with_suffix(".qdc")
    return save_codebook(codebook, path)


def import_qdc(path: str | os.PathLike[str]) -> Codebook:
    """Read a REFI-QDA ``.qdc`` codebook (safely; the codebook module's reader).

    Example:
        >>> import tempfile, pathlib
        >>> out = export_qdc(Codebook("m", [Code("a", "A")]), pathlib.Path(tempfile.mkdtemp()) / "m.qdc")
        >>> import_qdc(out).ids
        ['a']
    """
    from qualkit.codebook import load_codebook

    return load_codebook(str(path))


# ======================================================================================= import


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


@dataclass
class QdpxImport:
    """What an import stored: counts and the warnings a researcher should read.

    Example:
        >>> QdpxImport(project="p").summary()
        'imported p: 0 sources, 0 codes, 0 codings, 0 memos, 0 participants'
    """

    project: str
    sources: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    participants: int = 0
    split_codings: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line plus a line per warning."""
        text = (f"imported {self.project}: {self.sources} sources, {self.codes} codes, {self.codings} codings, "
                f"{self.memos} memos, {self.participants} participants")
        return "\n".join([text, *[f"  warning: {w}" for w in self.warnings]])


def _safe_members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Check every member's name and size before reading anything; return name -> info."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InvalidProjectFile(f"the archive holds {len(infos)} files (limit {MAX_MEMBERS})", path=path,
                                 fix="this is not a normal .qdpx project; export it again")
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ".." in parts
                or re.match(r"^[A-Za-z]:", name) or posixpath.normpath(name).startswith("..")):
            raise InvalidProjectFile(f"unsafe path {name!r} in the archive (path traversal)", path=path,
                                     fix="only open .qdpx files from a trusted QDA program; export it again")
        if info.file_size > MAX_MEMBER_BYTES:
            raise InvalidProjectFile(f"{name} would unpack to {info.file_size} bytes (limit {MAX_MEMBER_BYTES})",
                                     path=path, fix="split the project or remove large media sources")
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidProjectFile(f"{name} is compressed {info.file_size // max(info.compress_size, 1)}:1, "
                                     "like a zip bomb", path=path, fix="export the project again")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidProjectFile(f"the archive would unpack to more than {MAX_TOTAL_BYTES} bytes", path=path,
                                     fix="remove large media sources before exporting")
        if not name.endswith("/"):
            members[name] = info
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """Read a member, never more than its declared size (a lying header cannot make us read more)."""
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise InvalidProjectFile(f"{info.filename} cannot be read ({error})", path=path,
                                 fix="the archive is damaged or crafted; export it again") from None
    if len(data) > info.file_size:
        raise InvalidProjectFile(f"{info.filename} is larger than its header says", path=path,
                                 fix="the archive is damaged or crafted; export it again")
    return data


def _parse_xml(data: bytes, path: Path, member: str) -> Any:
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InvalidProjectFile(f"{member}: unsafe XML refused ({type(error).__name__}: DTDs and entities are "
                                 "not allowed)", path=path, fix="export the project again from the QDA program") from None
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise InvalidProjectFile(f"{member} is not well-formed XML ({error})", path=path, line=line,
                                 fix="export the project again") from None


def read_qdpx(path: str | os.PathLike[str], *, crlf_as_one: bool | str = "auto") -> QdpxProject:
    """Read a ``.qdpx`` file safely into plain objects (nothing is stored).

    ``crlf_as_one`` says how selection offsets count a CRLF line break: ``False`` as two code points
    (the standard), ``True`` as one (some tools do; offsets are converted), ``"auto"`` (default)
    decides per source from the evidence (see :func:`crlf_as_one_fits`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib
        >>> out = export_qdpx(Store.create("sqlite://", name="p"), pathlib.Path(tempfile.mkdtemp()) / "p.qdpx")
        >>> read_qdpx(out).name
        'p'
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidProjectFile("no such file", path=path, fix="check the path")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InvalidProjectFile("not a .qdpx file (not a zip archive)", path=path,
                                 fix="export the project from the QDA program as REFI-QDA project (.qdpx)") from None
    with archive:
        members = _safe_members(archive, path)
        by_lower = {name.lower(): info for name, info in members.items()}
        qde = by_lower.get("project.qde")
        if qde is None:
            raise InvalidProjectFile("the archive has no project.qde", path=path,
                                     fix="export the project again as a REFI-QDA project (.qdpx)")
        root = _parse_xml(_read_member(archive, qde, path), path, "project.qde")

        def read_source_file(reference: str) -> bytes:
            target = reference.split("://", 1)[1] if "://" in reference else reference
            target = target.lstrip("/")
            candidates = [f"sources/{target}", target]
            for candidate in candidates:
                info = by_lower.get(candidate.lower())
                if info is not None:
                    return _read_member(archive, info, path)
            raise InvalidProjectFile(f"source file {reference!r} is not in the archive", path=path,
                                     fix="export the project again with its sources")

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

    if root.tag != f"{_NS}Project":
        raise InvalidProjectFile(f"the root element is {root.tag}, not a QDA-XML 1.0 Project", path=path,
                                 fix=f"use a .qdpx file in the namespace {PROJECT_NS}")
    project = QdpxProject(name=root.get("name") or path.stem)
    description = root.find(f"{_NS}Description")
    project.description = (description.text or "") if description is not None else ""
    if crlf_as_one not in (True, False, "auto"):
        raise InvalidInput(f"crlf_as_one must be True, False or 'auto', not {crlf_as_one!r}",
                           fix="pass crlf_as_one=True, False or 'auto'")
    written_by_qualkit = (root.get("origin") or "").startswith("qualkit")  # qualkit always writes code points
    for user in root.iterfind(f"{_NS}Users/{_NS}User"):
        guid = normalise_guid(user.get("guid"))
        if guid:
            project.users[guid] = user.get("name") or user.get("id") or guid
    codebook_el = root.find(f"{_NS}CodeBook")
    if codebook_el is not None and codebook_el.find(f"{_NS}Codes") is not None:
        project.codebook = codebook_from_element(codebook_el, PROJECT_NS, name=project.name, path=path)
        for code in project.codebook.codes:
            code.guid = normalise_guid(code.guid) or code.guid
        for code_el in codebook_el.iter(f"{_NS}Code"):
            refs = [normalise_guid(r.get("targetGUID")) for r in code_el.findall(f"{_NS}NoteRef")]
            if refs:
                project.code_notes[normalise_guid(code_el.get("guid")) or ""] = [r for r in refs if r]

    variables = {}
    for variable in root.iterfind(f"{_NS}Variables/{_NS}Variable"):
        guid = normalise_guid(variable.get("guid"))
        if guid:
            variables[guid] = variable.get("name") or guid

    def values_of(element: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for value_el in element.findall(f"{_NS}VariableValue"):
            ref = value_el.find(f"{_NS}VariableRef")
            name = variables.get(normalise_guid(ref.get("targetGUID")) if ref is not None else "")
            if name is None:
                continue
            for child in value_el:
                if child is ref:
                    continue
                values[name] = _typed_value(child.tag[len(_NS):], child.text)
        return values

    labels = set()
    for case in root.iterfind(f"{_NS}Cases/{_NS}Case"):
        label = case.get("name") or case.get("guid")
        if not label or label in labels:
            continue
        labels.add(label)
        description = case.find(f"{_NS}Description")
        pseudonym, aliases = _parse_case_description(description.text if description is not None else None)
        project.participants.append(Participant(label, pseudonym=pseudonym, aliases=aliases,
                                                attributes=values_of(case), guid=normalise_guid(case.get("guid"))))

    names: set[str] = set()
    for element in root.iterfind(f"{_NS}Sources/*"):
        kind = element.tag[len(_NS):]
        if kind != "TextSource":
            project.warnings.append(f"skipped {kind} {element.get('name')!r}: only text sources are imported")
            continue
        guid = normalise_guid(element.get("guid")) or stable_guid("imported-source", element.get("name") or "")
        name = element.get("name") or guid
        base, number = name, 2
        while name in names:
            name, number = f"{base} ({number})", number + 1
        names.add(name)
        content = element.find(f"{_NS}PlainTextContent")
        if element.get("plainTextPath"):
            raw = read_source_file(element.get("plainTextPath"))
            text = _decode(raw, path, element.get("plainTextPath"))
        elif content is not None:
            text = content.text or ""
        else:
            project.warnings.append(f"skipped source {name!r}: it has no plain text (plainTextPath)")
            continue
        source = QdpxSource(guid=guid, name=name, text=text, variables=values_of(element),
                            user=project.users.get(normalise_guid(element.get("creatingUser")) or ""))
        skipped = 0
        raw = []
        for sel in element.findall(f"{_NS}PlainTextSelection"):
            try:
                raw.append((sel, int(sel.get("startPosition")), int(sel.get("endPosition"))))
            except (TypeError, ValueError):
                skipped += 1
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
                                  user=project.users.get(normalise_guid(sel.get("creatingUser")) or ""))
            for coding in sel.findall(f"{_NS}Coding"):
                ref = coding.find(f"{_NS}CodeRef")
                code_guid = normalise_guid(ref.get("targetGUID")) if ref is not None else None
                if code_guid:
                    user = project.users.get(normalise_guid(coding.get("creatingUser")) or "") or selection.user
                    selection.codes.append((code_guid, user, normalise_guid(coding.get("guid"))))
            selection.notes = [g for g in (normalise_guid(r.get("targetGUID"))
                                           for r in sel.findall(f"{_NS}NoteRef")) if g]
            source.selections.append(selection)
        if skipped:
            project.warnings.append(f"{name}: skipped {skipped} selections outside the text")
        if element.findall(f"{_NS}Coding"):
            project.warnings.append(f"{name}: codings of the whole source were skipped")
        source.notes = [g for g in (normalise_guid(r.get("targetGUID")) for r in element.findall(f"{_NS}NoteRef")) if g]
        project.sources.append(source)

    for note in root.iterfind(f"{_NS}Notes/{_NS}Note"):
        guid = normalise_guid(note.get("guid"))
        content = note.find(f"{_NS}PlainTextContent")
        text = content.text if content is not None and content.text else None
        if text is None and note.get("plainTextPath"):
            text = _decode(read_source_file(note.get("plainTextPath")), path, note.get("plainTextPath"))
        if guid and text:
            project.notes[guid] = (text, project.users.get(normalise_guid(note.get("creatingUser")) or ""))
    project.project_notes = [g for g in (normalise_guid(r.get("targetGUID"))
                                         for r in root.findall(f"{_NS}NoteRef")) if g]
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


def turn_segments(name: str, text: str) -> list[Segment]:
    """Split a plain text into one segment per non-empty line; ``Label: text`` lines become speaker turns.

    A turn's text starts after the label (the canonical rule); lines without a label are unattributed.

    Example:
        >>> [(s.speaker, s.text) for s in turn_segments("g1", "Moderator: Hi.\\r\\nAnn: Tired.\\r\\n")]
        [('Moderator', 'Hi.'), ('Ann', 'Tired.')]
    """
    segments: list[Segment] = []
    turn = 0
    for match in re.finditer(r"[^\r\n]+", text):
        line, offset = match.group(0), match.start()
        label = _TURN.match(line)
        if label:
            start = offset + label.end()
            speaker = label.group("label").strip()
            role = "moderator" if _MODERATOR.search(speaker) else "participant"
            kind = "turn"
        else:
            start = offset + len(line) - len(line.lstrip())
            speaker, role, kind = None, None, "unattributed"
        end = offset + len(line.rstrip())
        if end <= start:
            continue
        segments.append(Segment(name, start, end, text[start:end], speaker=speaker, role=role, kind=kind,
                                turn=turn))
        turn += 1
    return segments


def ingest_segments(name: str, text: str) -> list[Segment]:
    r"""Segment an imported text with qualkit's own transcript reader (speakers, moderators, marks).

    Falls back to :func:`turn_segments` when the reader is unavailable, refuses the text, or would
    read it differently (its canonical text must be the text itself, so offsets stay exact).

    Example:
        >>> [s.speaker for s in ingest_segments("g1.txt", "Moderator: Hi.\nAnn: Tired.\n")]
        ['Moderator', 'Ann']
    """
    import tempfile

    try:
        from qualkit.ingest import read_transcript
    except ImportError:
        return turn_segments(name, text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.txt"
        path.write_bytes(text.encode("utf-8"))
        try:
            source = read_transcript(path, format="txt", name=name)
        except QualkitError:
            return turn_segments(name, text)
    if source.text != text:
        return turn_segments(name, text)
    return list(source.segments)


def _place(spans: Iterable[tuple[int, int]], segments: list[Segment], name: str,
           text: str) -> dict[tuple[int, int], list[tuple[int, int, int]]]:
    """Map each span to (segment index, start, end) pieces, adding unattributed segments where needed.

    A span inside a segment goes to the smallest such segment; a span across turns is split at the
    turns it overlaps; a span outside every segment gets an unattributed segment of its own.
    """
    placement: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for start, end in sorted(set(spans)):
        containing = [i for i, s in enumerate(segments) if s.start <= start and end <= s.end]
        if containing:
            best = min(containing, key=lambda i: segments[i].end - segments[i].start)
            placement[(start, end)] = [(best, start, end)]
            continue
        overlapping = [(i, max(start, s.start), min(end, s.end)) for i, s in enumerate(segments)
                       if max(start, s.start) < min(end, s.end)]
        turns = [piece for piece in overlapping if segments[piece[0]].kind != "unattributed"]
        pieces = turns or overlapping
        if not pieces:
            segments.append(Segment(name, start, end, text[start:end], speaker=None, role=None, kind="unattributed"))
            pieces = [(len(segments) - 1, start, end)]
        placement[(start, end)] = pieces
    return placement


def import_qdpx(
    path: str | os.PathLike[str],
    into: Any,
    *,
    user: str | None = None,
    segmenter: Callable[[str, str], list[Segment]] | None = None,
    crlf_as_one: bool | str = "auto",
) -> QdpxImport:
    """Import a ``.qdpx`` project into a store (or a Project): codebook, participants, sources, codings, memos.

    Codings become accepted human codings by the user who made them in the other program (or
    ``user``). ``segmenter(name, text)`` splits texts into segments (default :func:`ingest_segments`,
    qualkit's transcript reader, so speakers, moderators and marks are found as on a normal import).
    ``crlf_as_one`` as in :func:`read_qdpx`. Nothing is stored when the file is unsafe, malformed, or
    names a source the project already has.

    GUIDs survive: sources, codes, codings, cases (participants) and notes keep theirs; the users'
    GUIDs and who created each source in the other program are kept in the project settings
    (``refi_exchange``, see :func:`exchange_settings`) with a record of the import, so exporting the
    project again gives the same identifiers and no extra variables.

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib
        >>> out = export_qdpx(Store.create("sqlite://", name="a"), pathlib.Path(tempfile.mkdtemp()) / "a.qdpx")
        >>> import_qdpx(out, Store.create("sqlite://", name="b")).sources
        0
    """
    store = getattr(into, "store", into)
    user = user or getattr(into, "user", None)
    from qualkit.model import ImportReport

    path = Path(path)
    project = read_qdpx(path, crlf_as_one=crlf_as_one)
    result = QdpxImport(project=project.name, warnings=list(project.warnings))
    existing = set(store.sources_df()["name"])
    clash = sorted(existing & {s.name for s in project.sources})
    if clash:
        raise InvalidProjectFile(f"the project already has sources named {clash}", path=path,
                                 fix="import into a new project, or remove those sources first")

    split = segmenter or ingest_segments
    sources: list[Source] = []
    placements = []
    for qs in project.sources:
        segments = sorted(split(qs.name, qs.text), key=lambda s: (s.start, s.end))
        spans = [(sel.start, sel.end) for sel in qs.selections]
        placement = _place(spans, segments, qs.name, qs.text)
        order = sorted(range(len(segments)), key=lambda i: (segments[i].start, segments[i].end))
        new_index = {old: new for new, old in enumerate(order)}
        segments = [segments[i] for i in order]
        placement = {span: [(new_index[i], a, b) for i, a, b in pieces] for span, pieces in placement.items()}
        speakers: dict[str, int] = {}
        for segment in segments:
            if segment.speaker:
                speakers[segment.speaker] = speakers.get(segment.speaker, 0) + 1
        report = ImportReport(source=qs.name, format="qdpx", encoding="utf-8", speakers=speakers,
                              moderators=sorted({s.speaker for s in segments if s.role == "moderator" and s.speaker}),
                              unattributed=sum(s.kind == "unattributed" for s in segments), segments=len(segments))
        # Provenance lives in the import report and the project settings, never in the metadata:
        # metadata are exported as source variables, and a round trip must not add one.
        source = Source(name=qs.name, text=qs.text, format="txt", raw=qs.text.encode("utf-8"), encoding="utf-8",
                        guid=qs.guid, segments=segments, metadata=dict(qs.variables), import_report=report)
        sources.append(source)
        placements.append(placement)

    # Writes: codebook, participants, sources (one transaction), codings (one), memos.
    version, code_by_guid = _store_codebook(store, project.codebook, user=user, note=f"imported from {path.name}",
                                            result=result)
    if project.participants:
        known = {p.id: p.guid for p in store.participants()}
        for participant in project.participants:
            old = normalise_guid(known.get(participant.id))
            if old and participant.guid and old != participant.guid:
                result.warnings.append(f"participant {participant.id!r} is already in the project with GUID {old}; "
                                       f"the file's {participant.guid} is not used")
        store.upsert_participants(project.participants, user=user)
        result.participants = len(project.participants)
    if sources:
        store.add_sources(sources, user=user)
        result.sources = len(sources)
    codings: list[Coding] = []
    unknown_codes = 0
    for qs, source, placement in zip(project.sources, sources, placements, strict=True):
        for sel in qs.selections:
            pieces = placement[(sel.start, sel.end)]
            if len(pieces) > 1 and sel.codes:
                result.split_codings += len(sel.codes)
            for code_guid, coder, coding_guid in sel.codes:
                code_id = code_by_guid.get(code_guid)
                if code_id is None:
                    unknown_codes += 1
                    continue
                who = coder or user
                for n, (index, start, end) in enumerate(pieces):
                    guid = sel.guid if len(sel.codes) == 1 else (coding_guid or sel.guid)
                    if n:
                        guid = stable_guid("split", guid, str(start))
                    codings.append(Coding(segment_id=source.segments[index].id, code_id=code_id, origin="human",
                                          status="accepted", coder=who, decided_by=who, start=start, end=end,
                                          codebook_version=version, guid=guid))
    if codings:
        store.add_codings(codings, user=user, action="import")
        result.codings = len(codings)
    if unknown_codes:
        result.warnings.append(f"skipped {unknown_codes} codings whose code is not in the codebook")
    if result.split_codings:
        result.warnings.append(f"{result.split_codings} codings crossed speaker turns and were split at the turns")

    memos: list[Memo] = []
    anchored: set[str] = set()
    code_id_of_note = {g: code_by_guid.get(c) for c, guids in project.code_notes.items() for g in guids}
    for qs, source, placement in zip(project.sources, sources, placements, strict=True):
        for note in qs.notes:
            anchored.add(note)
            memos.append(_memo(project, note, source_id=source.id))
        for sel in qs.selections:
            index = placement[(sel.start, sel.end)][0][0]
            for note in sel.notes:
                anchored.add(note)
                memos.append(_memo(project, note, segment_id=source.segments[index].id))
    for note, code_id in code_id_of_note.items():
        if code_id is not None and note not in anchored:
            anchored.add(note)
            memos.append(_memo(project, note, code_id=code_id))
    for note in project.notes:
        if note not in anchored:
            memos.append(_memo(project, note))
    for memo in memos:
        if memo.text:
            store.add_memo(memo, user=user)
            result.memos += 1
    _record_exchange(store, project, path, result, user=user)
    return result


EXCHANGE_SETTING = "refi_exchange"


def exchange_settings(store: Any) -> dict[str, Any]:
    """What earlier ``.qdpx`` imports recorded: users' GUIDs, who created each source there, the imports.

    ``users`` maps a user name to the GUID it had in the imported file; ``source_creators`` maps a
    source GUID to the user who created it in the other program; ``imports`` lists each import (file,
    project name, time, user and counts).

    Example:
        >>> from qualkit.store.repository import Store
        >>> exchange_settings(Store.create("sqlite://", name="p"))
        {'users': {}, 'source_creators': {}, 'imports': []}
    """
    saved = dict(getattr(store, "store", store).settings.get(EXCHANGE_SETTING) or {})
    return {"users": dict(saved.get("users") or {}), "source_creators": dict(saved.get("source_creators") or {}),
            "imports": list(saved.get("imports") or [])}


def _record_exchange(store: Any, project: QdpxProject, path: Path, result: QdpxImport, *, user: str | None) -> None:
    """Keep the file's user GUIDs and source creators, and a record of the import, in the project settings."""
    exchange = exchange_settings(store)
    for guid, name in project.users.items():
        known = exchange["users"].get(name)
        if known is None:
            exchange["users"][name] = guid
        elif normalise_guid(known) != guid:
            result.warnings.append(f"user {name!r} has GUID {guid} in {path.name} but {known} in this project; "
                                   "the project's GUID is kept")
    for qs in project.sources:
        if qs.user:
            exchange["source_creators"][qs.guid] = qs.user
    exchange["imports"].append({
        "file": path.name, "project": project.name, "at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "by": user, "sources": result.sources, "codes": result.codes, "codings": result.codings,
        "memos": result.memos, "participants": result.participants,
    })
    store.update_settings(user=user, **{EXCHANGE_SETTING: exchange})


def _store_codebook(store: Any, imported: Codebook | None, *, user: str | None, note: str,
                    result: QdpxImport) -> tuple[int | None, dict[str, str]]:
    """Store the imported codebook; return its version and a map code GUID -> code id in the project.

    Into a project without a codebook the imported one is saved as is. Into a project with one, codes
    are matched by GUID, then by id; when every code matches, nothing changes (re-importing a file a
    colleague coded in another program); otherwise the new codes are added as a new version of the
    project's codebook, under their matched parents.
    """
    from qualkit.errors import StoreError

    if imported is None or not imported.codes:
        return None, {}
    try:
        active = store.codebook()
    except StoreError:
        active = None
    if active is None or not active.codes:
        version = store.save_codebook(imported, user=user, note=note)
        result.codes = len(imported.codes)
        return version, {c.guid: c.id for c in imported.codes}
    by_guid = {normalise_guid(c.guid): c.id for c in active.codes if c.guid}
    known = set(active.ids)
    target_of = {c.id: by_guid.get(c.guid) or (c.id if c.id in known else None) for c in imported.codes}
    new_codes = [replace(c, parent=(target_of.get(c.parent) or c.parent) if c.parent else None)
                 for c in imported.codes if target_of[c.id] is None]
    mapping = {c.guid: target_of[c.id] or c.id for c in imported.codes}
    if not new_codes:
        return active.version, mapping
    merged = Codebook(name=active.name, codes=[*active.codes, *new_codes], description=active.description)
    version = store.save_codebook(merged, user=user, note=f"{note}: {len(new_codes)} new codes")
    result.codes = len(new_codes)
    result.warnings.append(f"added {len(new_codes)} new codes to codebook {active.name!r} (version {version})")
    return version, mapping


def _memo(project: QdpxProject, guid: str, **target: Any) -> Memo:
    text, author = project.notes.get(guid, ("", None))
    return Memo(text=text, author=author, guid=guid, **target)


def import_into_new_project(path: str | os.PathLike[str], into: str | os.PathLike[str] | None, *,
                            name: str | None = None, user: str | None = None,
                            crlf_as_one: bool | str = "auto") -> tuple[Any, QdpxImport]:
    """Create a project at ``into`` (SQLite path or URL) and import the ``.qdpx`` into it.

    A new SQLite file that fails to import is removed again, so a bad file leaves nothing behind.

    Example:
        >>> import tempfile, pathlib
        >>> from qualkit.store.repository import Store
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> out = export_qdpx(Store.create("sqlite://", name="a"), folder / "a.qdpx")
        >>> store, report = import_into_new_project(out, folder / "b.qualkit.db")
        >>> store.name
        'a'
    """
    from qualkit.store.repository import Store

    project = read_qdpx(path, crlf_as_one=crlf_as_one)  # fail before creating anything
    target = Path(into) if into is not None and "://" not in str(into) else None
    created_file = target is not None and not target.exists()
    store = Store.create(into, name or project.name, description=project.description)
    try:
        report = import_qdpx(path, store, user=user, crlf_as_one=crlf_as_one)
    except Exception:
        store.engine.dispose()
        if created_file and target is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        raise
    return store, report


def qdpx_bytes(store: Any, *, include_suggested: bool = False) -> bytes:
    """The ``.qdpx`` archive as bytes (for the app's download button).

    Example:
        >>> from qualkit.store.repository import Store
        >>> qdpx_bytes(Store.create("sqlite://", name="p"))[:2]
        b'PK'
    """
    xml, files = project_xml(getattr(store, "store", store), include_suggested=include_suggested)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue()
