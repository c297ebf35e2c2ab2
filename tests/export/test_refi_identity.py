"""REFI-QDA identity and line breaks: export → import → export keeps every GUID; CRLF-as-one offsets convert."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import QDPX_TAGS, REFI_SPEC, build_project, qdpx_identities

from qualkit.errors import InvalidInput
from qualkit.export.refi import (
    PROJECT_NS,
    crlf_as_one_fits,
    crlf_one_to_code_points,
    exchange_settings,
    export_qdpx,
    import_qdpx,
    project_xml,
    read_qdpx,
)
from qualkit.store.repository import Store
from qualkit.store.users import insert_user


def test_export_import_export_gives_identical_guids_and_no_extra_variable(tmp_path):
    original = Store.create(tmp_path / "a.qualkit.db", name="Burnout pilot")
    insert_user(original, name="ana", password_hash="x", role="coder", actor="admin")  # a stored, random GUID
    build_project(original)
    first = export_qdpx(original, tmp_path / "first.qdpx")

    target = Store.create(tmp_path / "b.qualkit.db", name="copy")
    insert_user(target, name="ana", password_hash="y", role="coder", actor="admin")  # another GUID for "ana"
    report = import_qdpx(first, target, user="importer")
    second = export_qdpx(target, tmp_path / "second.qdpx")

    before, after = qdpx_identities(first), qdpx_identities(second)
    for tag in QDPX_TAGS:
        assert after[tag] == before[tag], tag
    assert before["Case"] and before["User"] and before["Variable"]  # the comparison is not vacuous
    participants = {p.id: p.guid for p in target.participants()}
    assert participants == {p.id: p.guid for p in original.participants()}
    # Provenance is recorded, but not as a source variable.
    for name in target.sources_df()["name"]:
        source = target.source(name)
        assert "imported_from" not in source.metadata
        assert source.import_report is not None and source.import_report.format == "qdpx"
    history = exchange_settings(target)["imports"]
    assert [(h["file"], h["by"], h["codings"]) for h in history] == [("first.qdpx", "importer", report.codings)]
    assert "importer" not in {name for _, name in after["User"]}


def test_a_second_import_keeps_the_first_user_guid_and_says_so(tmp_path):
    source = Store.create(tmp_path / "a.qualkit.db", name="pilot")
    build_project(source)
    out = export_qdpx(source, tmp_path / "p.qdpx")
    target = Store.create("sqlite://", name="t")
    import_qdpx(out, target)
    known = exchange_settings(target)["users"]["ana"]

    other = Store.create(tmp_path / "c.qualkit.db", name="other")
    insert_user(other, name="ana", password_hash="x", role="coder", actor=None)
    build_project(other)
    renamed = other.sources_df()
    for name in renamed["name"]:  # distinct source names, so the second import is allowed
        with other.transaction() as session:
            from qualkit.store.schema import SourceRow

            row = session.get(SourceRow, int(renamed.loc[renamed["name"] == name, "id"].iloc[0]))
            row.name = f"other {name}"
    report = import_qdpx(export_qdpx(other, tmp_path / "o.qdpx"), target)
    assert exchange_settings(target)["users"]["ana"] == known
    assert any("'ana' has GUID" in w for w in report.warnings)
    # The same participants with other GUIDs: the project's stay, and the report says so.
    assert {p.id: p.guid for p in target.participants()} == {p.id: p.guid for p in source.participants()}
    assert sum("is already in the project with GUID" in w for w in report.warnings) == 3


# ----------------------------------------------------------------------------------------- CRLF as one

TEXT = "Moderator: What comes to mind?\r\nAnn: Night shifts, always.\r\nBo: The inbox never empties.\r\n"
CODE_GUID = "C0DE0000-0000-4000-8000-000000000001"
SOURCE_GUID = "50FC0000-0000-4000-8000-000000000001"


def _foreign_qdpx(tmp_path: Path, spans: list[tuple[int, int, str | None]], *, origin: str = "OtherQDA 9") -> Path:
    """A .qdpx as another program writes it: CRLF source, selections given as (start, end, name)."""
    selections = "".join(
        f'<PlainTextSelection guid="5E1E0000-0000-4000-8000-{i:012d}" startPosition="{a}" endPosition="{b}"'
        + (f' name="{name}"' if name else "")
        + f'><Coding guid="C0D10000-0000-4000-8000-{i:012d}"><CodeRef targetGUID="{CODE_GUID}"/></Coding>'
        "</PlainTextSelection>" for i, (a, b, name) in enumerate(spans))
    qde = (f'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="{PROJECT_NS}" name="foreign" origin="{origin}">'
           f'<CodeBook><Codes><Code guid="{CODE_GUID}" name="Night work" isCodable="true"/></Codes></CodeBook>'
           f'<Sources><TextSource guid="{SOURCE_GUID}" name="fg.txt" plainTextPath="internal://{SOURCE_GUID}.txt">'
           f"{selections}</TextSource></Sources></Project>")
    path = tmp_path / "foreign.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qde.encode("utf-8"))
        archive.writestr(f"sources/{SOURCE_GUID}.txt", TEXT.encode("utf-8"))
    return path


def _one_counted(phrase: str) -> tuple[int, int]:
    """Offsets of ``phrase`` as a tool that counts each CRLF as one character gives them."""
    collapsed = TEXT.replace("\r\n", "\n")
    start = collapsed.index(phrase)
    return start, start + len(phrase)


PHRASES = ["Night shifts", "The inbox never empties."]


def test_conversion_maps_one_counted_offsets_to_code_points():
    convert = crlf_one_to_code_points(TEXT)
    for phrase in PHRASES:
        a, b = _one_counted(phrase)
        assert TEXT[convert(a):convert(b)] == phrase
    assert convert(0) == 0 and convert(len(TEXT.replace("\r\n", "\n"))) == len(TEXT)


@pytest.mark.parametrize("named", [True, False], ids=["names-quote-the-text", "word-boundaries-only"])
def test_crlf_counted_as_one_is_detected_and_converted_on_import(tmp_path, named):
    spans = [(*_one_counted(p), p if named else None) for p in PHRASES]
    path = _foreign_qdpx(tmp_path, spans)
    store = Store.create("sqlite://", name="t")
    report = import_qdpx(path, store)
    codings = store.codings_df()
    assert sorted(TEXT[a:b] for a, b in zip(codings["start"], codings["end"], strict=True)) == sorted(PHRASES)
    assert store.source("fg.txt").text == TEXT  # the CRLF text itself is kept exactly
    assert any("CRLF" in w and "converted" in w for w in report.warnings)


def test_code_point_offsets_from_another_tool_are_not_shifted(tmp_path):
    spans = [(TEXT.index(p), TEXT.index(p) + len(p), None) for p in PHRASES]
    project = read_qdpx(_foreign_qdpx(tmp_path, spans))
    selections = project.sources[0].selections
    assert [TEXT[s.start:s.end] for s in selections] == PHRASES
    assert not any("CRLF" in w for w in project.warnings)


def test_crlf_reading_can_be_forced_and_is_validated(tmp_path):
    spans = [(*_one_counted(p), None) for p in PHRASES]
    path = _foreign_qdpx(tmp_path, spans)
    forced = read_qdpx(path, crlf_as_one=True).sources[0].selections
    assert [TEXT[s.start:s.end] for s in forced] == PHRASES
    kept = read_qdpx(path, crlf_as_one=False).sources[0].selections
    assert [TEXT[s.start:s.end] for s in kept] != PHRASES
    with pytest.raises(InvalidInput, match="crlf_as_one"):
        read_qdpx(path, crlf_as_one="sometimes")


def test_detection_needs_evidence_and_never_touches_qualkit_files(tmp_path):
    assert not crlf_as_one_fits("no crlf here\n", [(0, 2, None)])
    assert not crlf_as_one_fits(TEXT, [])
    # Spans before the first line break read the same either way: no conversion.
    assert not crlf_as_one_fits(TEXT, [(11, 15, None)])
    # A qualkit file is code points by definition, whatever its spans look like.
    spans = [(*_one_counted(p), p) for p in PHRASES]
    project = read_qdpx(_foreign_qdpx(tmp_path, spans, origin="qualkit 0.1.0"))
    assert [(s.start, s.end) for s in project.sources[0].selections] == [(a, b) for a, b, _ in spans]


def test_the_exported_xml_keeps_carriage_returns_and_validates(tmp_path):
    store = Store.create("sqlite://", name="p")
    build_project(store)
    xml, _ = project_xml(store)
    assert b"\r" not in xml and b"&#13;" in xml  # memo text with CRLF, written as a character reference
    if (REFI_SPEC / "Project.xsd").is_file():
        import xmlschema

        xmlschema.XMLSchema(str(REFI_SPEC / "Project.xsd")).validate(xml.decode("utf-8"))


def test_two_codes_of_one_name_under_one_parent_both_import(tmp_path):
    """Another program allowed two top-level 'Staffing' codes (different GUIDs); the whole file was refused."""
    second = "C0DE0000-0000-4000-8000-000000000002"
    path = _foreign_qdpx(tmp_path, [(32, 44, None)])
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    qde = members["project.qde"].decode().replace(
        '<Code guid="C0DE0000-0000-4000-8000-000000000001" name="Night work" isCodable="true"/>',
        f'<Code guid="{CODE_GUID}" name="Staffing" isCodable="true"/>'
        f'<Code guid="{second}" name="Staffing" isCodable="true"/>')
    qde = qde.replace("</TextSource>", f'<PlainTextSelection guid="5E1E0000-0000-4000-8000-000000000099" '
                      f'startPosition="66" endPosition="90"><Coding guid="C0D10000-0000-4000-8000-000000000099">'
                      f'<CodeRef targetGUID="{second}"/></Coding></PlainTextSelection></TextSource>')
    members["project.qde"] = qde.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    store = Store.create("sqlite://", name="t")
    report = import_qdpx(path, store)
    assert [c.id for c in store.codebook().codes] == ["Staffing", "Staffing (2)"]
    assert sorted(store.codings_df()["code_id"]) == ["Staffing", "Staffing (2)"]
    assert "share a name with another code under the same parent" in report.summary()


def test_a_damaged_selection_and_an_unknown_code_are_named_in_the_warnings(tmp_path):
    path = _foreign_qdpx(tmp_path, [(32, 44, None)])
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    stray = "C0DE0000-0000-4000-8000-0000000000FF"
    qde = members["project.qde"].decode().replace("</TextSource>", (
        '<PlainTextSelection guid="5E1E0000-0000-4000-8000-000000000098" startPosition="x584" endPosition="600"/>'
        '<PlainTextSelection guid="5E1E0000-0000-4000-8000-000000000099" startPosition="66" endPosition="90">'
        f'<Coding guid="C0D10000-0000-4000-8000-000000000099"><CodeRef targetGUID="{stray}"/></Coding>'
        "</PlainTextSelection></TextSource>"))
    members["project.qde"] = qde.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    summary = import_qdpx(path, Store.create("sqlite://", name="t")).summary()
    assert "skipped selection 5E1E0000-0000-4000-8000-000000000098: its positions 'x584':'600' are not numbers" in summary
    assert f"code {stray} (e.g. selection 5E1E0000-0000-4000-8000-000000000099)" in summary
    assert "outside the text" not in summary
