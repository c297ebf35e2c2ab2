"""Writing a project as REFI-QDA: ``project.qde`` (QDA-XML 1.0) and its sources, packed as ``.qdpx``; ``.qdc``.

A ``.qdpx`` file is a zip of ``project.qde`` (namespace ``urn:QDA-XML:project:1.0``) and a flat
``sources/`` folder of ``<GUID>.txt`` files (UTF-8, the exact canonical text of each source, CRLF
kept). ``project.qde`` holds, in schema order: Users (every coder, reviewer and memo author),
CodeBook (written by the codebook's REFI serializer, definitions folded into each ``Description``),
Variables and Cases (participants and their attributes), Sources (each coding a
``PlainTextSelection`` in Unicode code points, end exclusive, with one ``Coding``), and Notes (memos,
referenced from the code, source, segment or project they are about).

GUIDs are stable across exports: the stored GUIDs of sources, codes, codings, participants (cases) and
memos are used as they are; users without a stored GUID, variables and the derived elements get
name-based (UUID 5) GUIDs, so exporting the same project twice gives the same identifiers.

Example:
    >>> from qualkit.store.repository import Store
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "empty.qdpx"
    >>> export_qdpx(Store.create("sqlite://", name="pilot"), out).name
    'empty.qdpx'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.export.format import Export
from qualkit.export.refi.archive import pack
from qualkit.export.refi.common import (
    PROJECT_NS,
    SUGGESTIONS_USER,
    case_description,
    exchange_settings,
    iso_datetime,
    normalise_guid,
    stable_guid,
    xml_text,
)
from qualkit.model import Code, Codebook


@dataclass
class _Context:
    users: dict[str, str] = field(default_factory=dict)  # name -> guid

    def user(self, name: str | None) -> str | None:
        if not name:
            return None
        return self.users.setdefault(name, stable_guid("user", name))


def project_xml(store: Any, *, include_suggested: bool = False) -> tuple[bytes, dict[str, bytes]]:
    """Build ``project.qde`` and the source files of a project: (XML bytes, {zip member: bytes}).

    ``include_suggested`` also exports suggestions still awaiting review, as codings by the user
    :data:`SUGGESTIONS_USER` (REFI has no status); by default only accepted codings are exported.

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
    root.set("name", xml_text(store.name))
    from qualkit.version import __version__

    root.set("origin", f"qualkit {__version__}")
    created = iso_datetime(project_created) if project_created is not None else None
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
                             name=xml_text(name), typeOfVariable=kind)
    source_guid = {s.id: normalise_guid(s.guid) or stable_guid("source", store.name, s.name) for s in source_objects}
    # A case refers to its participant's own turns (a selection each), not to whole transcripts: with a
    # SourceRef, NVivo and MAXQDA credited every word of a focus group to each of its speakers.
    case_labels = {label for label, *_ in participants}
    turns_of: dict[str, list[int]] = {}
    turn_guid: dict[int, str] = {}  # by the words' place, so an export of an imported copy gives the same
    for turn in segments.itertuples(index=False):
        if isinstance(turn.participant, str) and turn.participant in case_labels:
            turns_of.setdefault(turn.participant, []).append(int(turn.id))
            turn_guid[int(turn.id)] = stable_guid("turn", source_guid[int(turn.source_id)], str(int(turn.start)),
                                                  str(int(turn.end)))
    if participants:
        cases_el = etree.SubElement(root, "Cases")
        for label, guid, pseudonym, aliases, attributes in participants:
            case = etree.SubElement(cases_el, "Case", guid=guid, name=xml_text(label))
            description = case_description(pseudonym, aliases)
            if description:
                etree.SubElement(case, "Description").text = xml_text(description)
            for key, value in attributes.items():
                _variable_value(case, key, value, variables)
            for segment_id in turns_of.get(label, ()):
                etree.SubElement(case, "SelectionRef", targetGUID=turn_guid[segment_id])

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
            attrs = {"guid": guid, "name": xml_text(source.name), "plainTextPath": f"internal://{guid}.txt"}
            if context.user(by):
                attrs["creatingUser"] = context.user(by)
            if iso_datetime(at):
                attrs["creationDateTime"] = iso_datetime(at)
            source_el = etree.SubElement(sources_el, "TextSource", attrs)
            files[f"sources/{guid}.txt"] = source.text.encode("utf-8")
            for row in codings.loc[codings["source_id"] == source.id].itertuples(index=False):
                if row.code_id not in code_guid:
                    continue
                selection_guid = normalise_guid(row.guid) or stable_guid("coding", store.name, str(row.id))
                # A person's own coding is theirs; an accepted machine suggestion belongs to who accepted it.
                decided = _present(row.decided_by) and bool(row.decided_by)
                creator = row.decided_by if row.origin != "human" and decided else row.coder
                if row.status == "suggested":
                    creator = SUGGESTIONS_USER
                selection = etree.SubElement(source_el, "PlainTextSelection", {
                    "guid": selection_guid, "name": xml_text(_snippet(source.text[row.start:row.end])),
                    "startPosition": str(int(row.start)), "endPosition": str(int(row.end)),
                    **({"creatingUser": context.user(creator)} if creator else {}),
                    **({"creationDateTime": iso_datetime(row.created_at)} if iso_datetime(row.created_at) else {}),
                })
                coding_el = etree.SubElement(selection, "Coding", {
                    "guid": stable_guid("coding-of", selection_guid),
                    **({"creatingUser": context.user(creator)} if creator else {}),
                    **({"creationDateTime": iso_datetime(row.created_at)} if iso_datetime(row.created_at) else {}),
                })
                etree.SubElement(coding_el, "CodeRef", targetGUID=code_guid[row.code_id])
            for turn in segments.loc[segments["source_id"] == source.id].itertuples(index=False):
                if int(turn.id) in turn_guid:  # the words of a participant's case (no code)
                    etree.SubElement(source_el, "PlainTextSelection", {
                        "guid": turn_guid[int(turn.id)], "name": xml_text(f"turn of {turn.participant}"),
                        "startPosition": str(int(turn.start)), "endPosition": str(int(turn.end))})
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
            attrs = {"guid": memo_guid[int(memo.id)], "name": xml_text(_snippet(memo.text, 60))}
            if memo.author:
                attrs["creatingUser"] = context.user(memo.author)
            if iso_datetime(memo.created_at):
                attrs["creationDateTime"] = iso_datetime(memo.created_at)
            note = etree.SubElement(notes_el, "Note", attrs)
            etree.SubElement(note, "PlainTextContent").text = xml_text(memo.text)
            if _present(memo.code_id) and not _present(memo.segment_id) and memo.code_id in code_guid:
                _add_code_note(code_element[code_guid[memo.code_id]], memo_guid[int(memo.id)])
            elif not any(_present(v) for v in (memo.segment_id, memo.source_id, memo.code_id)):
                project_notes.append(memo_guid[int(memo.id)])
    description = store.description
    if description:
        etree.SubElement(root, "Description").text = xml_text(description)
    for guid in project_notes:
        etree.SubElement(root, "NoteRef", targetGUID=guid)

    # Users last in code, first in the file: everyone named above, and the users of imported files.
    for name in imported_users:
        context.user(name)
    for name in sorted(context.users, key=str.lower):
        etree.SubElement(users_el, "User", guid=context.users[name], name=xml_text(name))
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
        etree.SubElement(element, "TextValue").text = xml_text(value)
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
        new = ET.Element(tag, {k: xml_text(v) for k, v in element.attrib.items()})
        if element.text and element.text.strip():
            new.text = xml_text(element.text)
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


def qdpx_bytes(store: Any, *, include_suggested: bool = False) -> bytes:
    """The ``.qdpx`` archive as bytes (for the app's download button).

    Example:
        >>> from qualkit.store.repository import Store
        >>> qdpx_bytes(Store.create("sqlite://", name="p"))[:2]
        b'PK'
    """
    xml, files = project_xml(getattr(store, "store", store), include_suggested=include_suggested)
    return pack(xml, files)


def _project_qdpx(store: Any, path: Path, **options: Any) -> Path:
    return export_qdpx(store, path, **options)


def _codebook_qdc(store: Any, path: Path) -> Path:
    return export_qdc(getattr(store, "store", store).codebook(), path)


def qdpx_contents(store: Any, *, include_suggested: bool = False) -> str:
    """What a ``.qdpx`` of the project holds, and what REFI-QDA has no place for (so the file leaves out).

    Example:
        >>> from qualkit.store.repository import Store
        >>> qdpx_contents(Store.create("sqlite://", name="q"))
        'holds 0 sources, 0 codings, 0 memos'
    """
    from qualkit.store.assignments import assignments_df

    store = getattr(store, "store", store)
    from qualkit.model import awaiting_review

    codings = store.codings_df()
    statuses = codings["status"].value_counts()
    accepted, rejected = (int(statuses.get(s, 0)) for s in ("accepted", "rejected"))
    suggested = int(awaiting_review(codings).sum())  # a blind transcript's judged suggestions are not "not reviewed"
    held = [f"{len(store.sources_df())} sources", f"{accepted} codings"]
    if include_suggested and suggested:
        held.append(f"{suggested} suggestions (as codings by {SUGGESTIONS_USER!r})")
    held.append(f"{len(store.memos_df())} memos")
    left = [f"{rejected} rejected decisions" if rejected else "",
            f"{suggested} suggestions not reviewed (include_suggested adds them)" if suggested and not
            include_suggested else "",
            f"{len(assignments)} double-coding assignments" if len(assignments := assignments_df(store)) else ""]
    left = [part for part in left if part]
    return f"holds {', '.join(held)}" + (f"; REFI-QDA has no place for {', '.join(left)}" if left else "")


EXPORTS = (
    Export("qdpx", "REFI-QDA project (.qdpx)", (".qdpx",), write=_project_qdpx, options=("include_suggested",),
           contents=qdpx_contents),
    Export("qdc", "REFI-QDA codebook (.qdc)", (".qdc",), write=_codebook_qdc),
)
"""The REFI-QDA exchange exports."""
