"""REFI-QDA .qdpx/.qdc: schema-valid exports, stable GUIDs, exact round trips, and safe imports."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from _build import (
    CODEBOOK,
    CORPUS,
    REFI_SPEC,
    build_demo_project,
    build_project,
    qdpx_identities,
    source_from_turns,
)

from qualkit.errors import InvalidProjectFile
from qualkit.export.refi import (
    PROJECT_NS,
    export_qdc,
    export_qdpx,
    import_into_new_project,
    import_qdc,
    import_qdpx,
    project_xml,
    read_qdpx,
    turn_segments,
)
from qualkit.model import Coding
from qualkit.store.repository import Store


def _schema(name: str):
    if not (REFI_SPEC / name).is_file():
        pytest.skip(f"REFI-QDA schema {REFI_SPEC / name} is absent (the shared/spec/refi folder is not checked out)")
    import xmlschema

    return xmlschema.XMLSchema(str(REFI_SPEC / name))


def _qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde")


def _codings(store) -> list[tuple]:
    frame = store.codings_df(status="accepted")
    return sorted(zip(frame["source"], frame["code_id"], frame["start"], frame["end"], strict=True))


@pytest.fixture
def built(tmp_path):
    store = Store.create(tmp_path / "a.qualkit.db", name="Burnout pilot")
    info = build_project(store)
    yield store, info
    store.engine.dispose()


def test_exported_qdpx_validates_and_follows_the_packaging_rules(built, tmp_path):
    store, _ = built
    out = export_qdpx(store, tmp_path / "pilot.qdpx")
    schema = _schema("Project.xsd")
    schema.validate(_qde(out).decode("utf-8"))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names[0] == "project.qde"
        source_files = [n for n in names if n != "project.qde"]
        assert all(n.startswith("sources/") and n.endswith(".txt") and n.count("/") == 1 for n in source_files)
        texts = {archive.read(n).decode("utf-8") for n in source_files}
    assert texts == {store.source(name).text for name in store.sources_df()["name"]}
    assert any("\r\n" in t for t in texts)  # CRLF kept byte for byte

    import defusedxml.ElementTree as SafeET

    root = SafeET.fromstring(_qde(out))
    order = [child.tag.split("}")[1] for child in root]
    assert order == ["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "NoteRef"]
    for source in root.iter(f"{{{PROJECT_NS}}}TextSource"):
        assert source.get("plainTextPath") == f"internal://{source.get('guid')}.txt"
        assert source.get("richTextPath") is None


def test_selection_offsets_are_code_points_for_crlf_and_astral_characters(built, tmp_path):
    store, _ = built
    project = read_qdpx(export_qdpx(store, tmp_path / "p.qdpx"))
    by_name = {s.name: s for s in project.sources}
    g1, g2 = by_name["g1 café.txt"], by_name["g2.txt"]
    quoted = {g1.text[s.start:s.end] for s in g1.selections} | {g2.text[s.start:s.end] for s in g2.selections}
    assert "Exhaustion" in quoted
    assert "夜 shifts are brutal." in quoted
    assert "I chart at home" in quoted
    # Suggestions and rejected codings are not exported by default; with include_suggested they are.
    # 5 accepted codings, 1 segment memo and the 4 participant turns its cases refer to
    assert sum(len(s.selections) for s in project.sources) == 5 + 1 + 4
    xml, _ = project_xml(store, include_suggested=True)
    assert xml.count(b"<Coding ") == 6
    _schema("Project.xsd").validate(xml.decode("utf-8"))


def test_guids_are_stable_across_exports(built, tmp_path):
    store, _ = built
    first = _qde(export_qdpx(store, tmp_path / "one.qdpx"))
    second = _qde(export_qdpx(store, tmp_path / "two.qdpx"))
    assert first == second
    codes = {c.id: c.guid for c in store.codebook().codes}
    assert all(guid.encode() in first for guid in codes.values())
    for guid in store.codings_df(status="accepted")["guid"]:
        assert guid.encode() in first


def test_round_trip_gives_the_same_sources_codes_codings_memos_and_participants(built, tmp_path):
    store, _ = built
    out = export_qdpx(store, tmp_path / "p.qdpx")
    target = Store.create(tmp_path / "b.qualkit.db", name="copy")
    report = import_qdpx(out, target, user="importer")
    assert (report.sources, report.codes, report.codings, report.memos, report.participants) == (2, 4, 5, 4, 3)
    assert report.split_codings == 0
    for name in store.sources_df()["name"]:
        original, copy = store.source(name), target.source(name)
        assert copy.text == original.text and copy.guid == original.guid
    assert _codings(target) == _codings(store)
    copied = target.codings_df(status="accepted")
    assert set(copied["origin"]) == {"human"}
    # A person's own coding stays theirs; an accepted machine suggestion belongs to whoever accepted it.
    assert sorted(copied["coder"]) == sorted(
        (r.coder if r.origin == "human" else r.decided_by) for r in store.codings_df(status="accepted").itertuples())
    assert sorted(copied["coder"]) == ["ana", "ana", "ana", "ben", "ben"]
    assert set(copied["guid"]) == set(store.codings_df(status="accepted")["guid"])
    original_cb, copy_cb = store.codebook(), target.codebook()
    for code in original_cb.codes:
        other = copy_cb[code.id]
        assert (other.name, other.parent, other.definition, other.inclusion, other.exclusion, other.examples,
                other.near_misses, other.cues, other.codable, other.guid) == (
            code.name, code.parent, code.definition, code.inclusion, code.exclusion, code.examples,
            code.near_misses, code.cues, code.codable, code.guid)
    memos = target.memos_df()
    assert sorted(memos["text"]) == sorted(store.memos_df()["text"])
    assert "Recurring 'one me' phrasing.\r\nCheck group 2." in set(memos["text"])  # CR survives the XML
    anchors = {row.text: (row.segment_id is not None and row.segment_id == row.segment_id,
                          row.source_id == row.source_id and row.source_id is not None, row.code_id)
               for row in memos.itertuples()}
    assert anchors["Workload vs exhaustion: keep apart."][2] == "workload"
    assert anchors["Recurring 'one me' phrasing.\r\nCheck group 2."][0]
    participants = {p.id: p for p in target.participants()}
    assert participants["R01"].attributes["role"] == "resident" and participants["R01"].pseudonym == "Ann"
    assert participants["S01"].attributes["on_call"] is True
    assert participants["S01"].aliases == ["Béla"]
    # Segments link to the participants again, so prevalence by role still works after the round trip.
    segments = target.segments_df()
    assert set(segments.loc[segments["speaker"] == "Béla", "role"]) == {"staff"}
    # A second export of the imported project keeps every GUID of sources, codes and codings.
    again = _qde(export_qdpx(target, tmp_path / "again.qdpx"))
    for guid in list(store.codings_df(status="accepted")["guid"]) + [c.guid for c in original_cb.codes]:
        assert guid.encode() in again
    target.engine.dispose()


def test_round_trip_on_sqlite_and_postgresql(store, tmp_path):
    build_project(store)
    # The schema is checked on SQLite by the tests above; this one is about the store, so a missing
    # shared/spec folder does not skip the PostgreSQL round trip.
    out = export_qdpx(store, tmp_path / "p.qdpx")
    copy = Store.create(store.engine, name="copy")  # a second project in the same database
    report = import_qdpx(out, copy, user="importer")
    assert report.codings == 5
    assert _codings(copy) == _codings(store)
    for name in store.sources_df()["name"]:
        assert copy.source(name).text == store.source(name).text
    assert sorted(copy.memos_df()["text"]) == sorted(store.memos_df()["text"])


def test_import_into_a_project_with_a_codebook_matches_codes_and_adds_new_ones(built, tmp_path):
    from dataclasses import replace

    from qualkit.model import Code, Codebook

    store, _ = built
    out = export_qdpx(store, tmp_path / "p.qdpx")
    target = Store.create("sqlite://", name="target")
    target.save_codebook(Codebook("mini", [replace(c) for c in CODEBOOK.codes]), user="lea")
    report = import_qdpx(out, target)
    assert report.codes == 0 and len(target.codebook_versions()) == 1  # every code matched: no new version
    assert set(target.codings_df()["code_id"]) <= set(CODEBOOK.ids)

    # A colleague added a code under "drivers" in another program.
    extended = store.codebook()
    extended.codes.append(Code("night_shifts", "Night shifts", parent="drivers", definition="Nights."))
    store.save_codebook(extended, user="ana")
    seg = store.segments_df()
    night = int(seg.loc[seg["text"].str.contains("pager"), "id"].iloc[0])
    store.add_codings([Coding(night, "night_shifts", status="accepted", coder="ana")], user="ana")
    other = Store.create("sqlite://", name="other")
    other.save_codebook(Codebook("mini", [replace(c) for c in CODEBOOK.codes]), user="lea")
    report = import_qdpx(export_qdpx(store, tmp_path / "p2.qdpx"), other)
    assert report.codes == 1 and any("1 new codes" in w for w in report.warnings)
    merged = other.codebook()
    assert merged.name == "mini" and merged.version == 2 and merged["night_shifts"].parent == "drivers"
    assert "night_shifts" in set(other.codings_df()["code_id"])


def test_qdc_codebook_export_validates_and_reads_back(tmp_path):
    out = export_qdc(CODEBOOK, tmp_path / "mini.qdc")
    _schema("Codebook.xsd").validate(out.read_text(encoding="utf-8"))
    back = import_qdc(out)
    assert back.ids == CODEBOOK.ids
    assert back["workload"].inclusion == "Hours, volume, pace."


def test_codings_across_turns_are_split_and_uncovered_text_gets_a_segment(tmp_path):
    store = Store.create("sqlite://", name="x")
    store.save_codebook(CODEBOOK, user="ana")
    text = "Intro line without a label\nAnn: first turn\nBo: second turn\n"
    xml_store = Store.create("sqlite://", name="src")
    xml_store.save_codebook(CODEBOOK, user="ana")
    source = source_from_turns("t.txt", [("Ann", "first turn", "participant"), ("Bo", "second turn", "participant")],
                               "\n")
    source.text = text
    source.segments = turn_segments("t.txt", text)
    xml_store.add_source(source)
    whole = Coding(source.segments[1].id, "workload", status="accepted", coder="ana")
    xml_store.add_codings([whole])
    out = export_qdpx(xml_store, tmp_path / "t.qdpx")
    # Rewrite the selection to span both turns, as another QDA program may do.
    with zipfile.ZipFile(out) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    start, end = text.index("Ann:"), text.index("second turn") + len("second turn")
    old = members["project.qde"]
    sel_start = old.index(b'startPosition="')
    sel_end = old.index(b'"', old.index(b'endPosition="') + len(b'endPosition="'))
    members["project.qde"] = (old[:sel_start] + f'startPosition="{start}" endPosition="{end}'.encode()
                              + old[sel_end:])
    crafted = tmp_path / "crafted.qdpx"
    with zipfile.ZipFile(crafted, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    report = import_qdpx(crafted, store, segmenter=turn_segments)
    assert report.split_codings == 1
    pieces = sorted(zip(store.codings_df()["start"], store.codings_df()["end"], strict=True))
    assert [text[a:b] for a, b in pieces] == ["first turn", "second turn"]
    assert any("split" in w for w in report.warnings)


def test_import_into_a_new_project_file_and_refuse_duplicates(built, tmp_path):
    store, _ = built
    out = export_qdpx(store, tmp_path / "p.qdpx")
    new, report = import_into_new_project(out, tmp_path / "new.qualkit.db")
    assert new.name == "Burnout pilot" and report.sources == 2
    with pytest.raises(InvalidProjectFile, match="already has sources"):
        import_qdpx(out, new)
    assert len(new.codings_df()) == 5  # nothing added by the refused import
    new.engine.dispose()


@pytest.mark.skipif(not (CORPUS / "transcripts").is_dir(), reason="the demo corpus is not in this checkout")
def test_demo_study_qdpx_validates_and_round_trips(tmp_path):
    project = build_demo_project(tmp_path / "demo.qualkit.db")
    out = project.export(tmp_path / "demo.qdpx")
    _schema("Project.xsd").validate(_qde(out).decode("utf-8"))
    copy = type(project).import_qdpx(out, tmp_path / "copy.qualkit.db")
    assert copy.import_report.split_codings == 0
    assert _codings(copy.store) == _codings(project.store)
    again = copy.export(tmp_path / "again.qdpx")
    assert qdpx_identities(again) == qdpx_identities(out)  # every GUID of sources, codes, codings, cases, users
    original, imported = project.segments(), copy.segments()
    assert len(imported) == len(original)
    assert (imported[["source", "start", "end", "speaker_role"]].to_numpy().tolist()
            == original[["source", "start", "end", "speaker_role"]].to_numpy().tolist())
    # Participants and their attributes come back, so prevalence by role is the same after the round trip.
    pd.testing.assert_frame_equal(copy.prevalence(by="role").table, project.prevalence(by="role").table)
    # Each coder's codings stay theirs, so reliability is the same after the round trip.
    coders = [sorted(zip(p.codings(status="accepted")["coder"], p.codings(status="accepted")["start"],
                         strict=True)) for p in (project, copy)]
    assert coders[0] == coders[1]
    pd.testing.assert_frame_equal(copy.reliability(["gold", "ana"], n_boot=0).overall,
                                  project.reliability(["gold", "ana"], n_boot=0).overall)
    for p in (project, copy):
        p.store.engine.dispose()


# ----------------------------------------------------------------------------------------- safety


def _zip(tmp_path: Path, members: dict[str, bytes], name: str = "bad.qdpx") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


MINIMAL = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<Project xmlns="urn:QDA-XML:project:1.0" name="m"/>')


@pytest.mark.parametrize("member", ["../evil.txt", "sources/../../evil.txt", "/etc/passwd", "C:/evil.txt",
                                    "sources\\..\\evil.txt"])
def test_path_traversal_members_are_refused_before_reading(tmp_path, member):
    path = _zip(tmp_path, {"project.qde": MINIMAL, member: b"x"})
    with pytest.raises(InvalidProjectFile, match="unsafe path"):
        read_qdpx(path)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_bombs_and_oversized_members_are_refused(tmp_path, monkeypatch):
    bomb = _zip(tmp_path, {"project.qde": MINIMAL, "sources/a.txt": b"\0" * 20_000_000})
    with pytest.raises(InvalidProjectFile, match="zip bomb"):
        read_qdpx(bomb)
    import qualkit.export.refi.archive as archive

    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    big = _zip(tmp_path, {"project.qde": MINIMAL, "sources/b.txt": b"abc" * 1000}, "big.qdpx")
    with pytest.raises(InvalidProjectFile, match="would unpack"):
        read_qdpx(big)


def test_a_member_larger_than_its_header_is_refused(tmp_path):
    # A stored member whose headers claim 10 bytes fewer than it holds.
    lying = zipfile.ZipInfo("project.qde")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as out:
        out.writestr(lying, MINIMAL)
    raw = bytearray(buffer.getvalue())
    declared = len(MINIMAL).to_bytes(4, "little")
    smaller = (len(MINIMAL) - 10).to_bytes(4, "little")
    raw = raw.replace(declared + declared, declared + smaller)  # compressed size, then uncompressed size
    (tmp_path / "lying.qdpx").write_bytes(bytes(raw))
    with pytest.raises(InvalidProjectFile, match=r"cannot be read|larger than its header"):
        read_qdpx(tmp_path / "lying.qdpx")


def test_xml_bombs_and_external_entities_are_refused(tmp_path):
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
            b'<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>')
    with pytest.raises(InvalidProjectFile, match="unsafe XML"):
        read_qdpx(_zip(tmp_path, {"project.qde": bomb}, "bomb.qdpx"))
    external = (b'<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>')
    with pytest.raises(InvalidProjectFile, match="unsafe XML"):
        read_qdpx(_zip(tmp_path, {"project.qde": external}, "xxe.qdpx"))


def test_malformed_files_give_one_clear_error(tmp_path):
    (tmp_path / "not.qdpx").write_bytes(b"hello")
    with pytest.raises(InvalidProjectFile, match="not a zip"):
        read_qdpx(tmp_path / "not.qdpx")
    with pytest.raises(InvalidProjectFile, match=r"no project\.qde"):
        read_qdpx(_zip(tmp_path, {"other.xml": b"<a/>"}, "empty.qdpx"))
    with pytest.raises(InvalidProjectFile, match="not well-formed"):
        read_qdpx(_zip(tmp_path, {"project.qde": b"<Project"}, "broken.qdpx"))
    with pytest.raises(InvalidProjectFile, match="not a QDA-XML"):
        read_qdpx(_zip(tmp_path, {"project.qde": b"<Project name='x'/>"}, "nons.qdpx"))
    missing = MINIMAL.replace(b' name="m"/>', b' name="m"><Sources><TextSource guid="11111111-1111-1111-1111-'
                              b'111111111111" name="a" plainTextPath="internal://nope.txt"/></Sources></Project>')
    with pytest.raises(InvalidProjectFile, match="not in the archive"):
        read_qdpx(_zip(tmp_path, {"project.qde": missing}, "missing.qdpx"))


def test_a_failed_import_into_a_new_file_leaves_nothing_behind(tmp_path):
    bad = (MINIMAL.replace(b' name="m"/>', b' name="m"><Sources><TextSource guid="11111111-1111-1111-1111-'
                           b'111111111111" name="a" plainTextPath="internal://11111111-1111-1111-1111-111111111111.txt"/>'
                           b'</Sources></Project>'))
    path = _zip(tmp_path, {"project.qde": bad, "sources/11111111-1111-1111-1111-111111111111.txt": b"\xff\xfe\xfa"
                           .replace(b"\xff\xfe", b"\xc3\x28")})
    with pytest.raises(InvalidProjectFile, match="not UTF-8"):
        import_into_new_project(path, tmp_path / "never.qualkit.db")
    assert not (tmp_path / "never.qualkit.db").exists()


# ----------------------------------------------------------------------------------------- property

LABELS = st.sampled_from(["Ann", "Béla", "Zoë", "Dr Øyen", "Moderator"])
BODY = st.text(alphabet=st.sampled_from(list("abc xyz.,?!éßñ中文😀📟\u0301'\"<>&")), min_size=1, max_size=40).map(
    lambda s: s.strip() or "x").filter(lambda s: not s[0].isspace())


@st.composite
def projects(draw):
    sources = []
    for index in range(draw(st.integers(1, 2))):
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        turns = [(draw(LABELS), draw(BODY), "participant") for _ in range(draw(st.integers(1, 4)))]
        sources.append(source_from_turns(f"s{index}-{draw(st.sampled_from(['é', 'a', '中']))}.txt", turns, newline))
    spans = []
    for s_index, source in enumerate(sources):
        for seg_index, segment in enumerate(source.segments):
            for _ in range(draw(st.integers(0, 2))):
                a = draw(st.integers(segment.start, segment.end - 1))
                b = draw(st.integers(a + 1, segment.end))
                spans.append((s_index, seg_index, a, b, draw(st.sampled_from(["workload", "ehr", "exhaustion"]))))
    return sources, spans


_PROJECT_SCHEMA = []
if (REFI_SPEC / "Project.xsd").is_file():
    import xmlschema

    _PROJECT_SCHEMA.append(xmlschema.XMLSchema(str(REFI_SPEC / "Project.xsd")))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(projects())
def test_round_trip_property_offsets_exact(tmp_path, generated):
    sources, spans = generated
    store = Store.create("sqlite://", name="prop")
    store.save_codebook(CODEBOOK, user="ana")
    store.add_sources(sources, user="ana")
    codings = [Coding(sources[s].segments[g].id, code, status="accepted", coder="ana", start=a, end=b)
               for s, g, a, b, code in spans]
    store.add_codings(codings, user="ana")
    out = export_qdpx(store, tmp_path / "prop.qdpx")
    if _PROJECT_SCHEMA:
        _PROJECT_SCHEMA[0].validate(_qde(out).decode("utf-8"))
    copy = Store.create("sqlite://", name="copy")
    import_qdpx(out, copy)
    for source in sources:
        assert copy.source(source.name).text == source.text
    assert _codings(copy) == _codings(store)
    frame = copy.codings_df()
    for row in frame.itertuples():
        assert copy.source(row.source).text[row.start:row.end] == row.segment_text[
            row.start - row.segment_start:row.end - row.segment_start]


def test_unreviewed_suggestions_come_back_as_suggestions_and_the_export_says_what_it_leaves_out(built, tmp_path):
    """REFI-QDA has no status: suggestions travel as a named user and return for review, not as codings."""
    from qualkit.export.refi.common import SUGGESTIONS_USER
    from qualkit.export.registry import export_for

    store, _ = built
    statuses = store.codings_df()["status"].value_counts()
    assert statuses.get("suggested", 0) and statuses.get("rejected", 0), statuses  # the fixture has both
    out = export_qdpx(store, tmp_path / "s.qdpx", include_suggested=True)
    with zipfile.ZipFile(out) as archive:  # readable by the team once unpacked, not only by whoever unpacks
        assert {(info.external_attr >> 16) & 0o777 for info in archive.infolist()} == {0o644}
    assert SUGGESTIONS_USER.encode() in _qde(out)
    target = Store.create(tmp_path / "s.qualkit.db", name="copy")
    report = import_qdpx(out, target, user="importer")
    copied = target.codings_df()
    assert (copied["status"] == "suggested").sum() == statuses["suggested"] == report.suggestions
    assert (copied["status"] == "accepted").sum() == statuses["accepted"] == report.codings
    assert SUGGESTIONS_USER not in set(copied["coder"]) and "importer" not in set(copied["coder"])
    assert "came in as suggestions to review" in report.summary()
    contents = export_for(out).contents
    plain = contents(store)
    assert f"{statuses['accepted']} codings" in plain and f"{statuses['rejected']} rejected decisions" in plain
    assert f"{statuses['suggested']} suggestions not reviewed" in plain
    assert "suggestions not reviewed" not in contents(store, include_suggested=True)
    target.engine.dispose()


def test_a_coding_by_a_user_the_file_does_not_define_is_not_credited_to_the_importer(built, tmp_path):
    store, _ = built
    out = export_qdpx(store, tmp_path / "p.qdpx")
    xml = _qde(out).decode()
    import re as regex

    users = regex.findall(r'<User guid="([^"]+)" name="([^"]+)"', xml)
    ben = next(guid for guid, name in users if name == "ben")
    stranger = "0c1d2e3f-aaaa-4bbb-8ccc-dddddddddddd"
    with zipfile.ZipFile(out) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["project.qde"] = xml.replace(f'creatingUser="{ben}"', f'creatingUser="{stranger}"').encode()
    forged = tmp_path / "forged.qdpx"
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    target = Store.create(tmp_path / "f.qualkit.db", name="copy")
    report = import_qdpx(forged, target, user="importer")
    coders = set(target.codings_df()["coder"])
    assert "unknown-0C1D2E3F" in coders and "importer" not in coders and "ben" not in coders
    assert "not among the file's <Users>" in report.summary()
    target.engine.dispose()


def test_a_participants_case_refers_to_their_own_turns_not_to_whole_transcripts(built, tmp_path):
    """Each case pointed at whole transcripts, so NVivo or MAXQDA would credit a focus group to every speaker."""
    store, _ = built
    import defusedxml.ElementTree as SafeET

    xml = _qde(export_qdpx(store, tmp_path / "p.qdpx"))
    _schema("Project.xsd").validate(xml.decode("utf-8"))
    root = SafeET.fromstring(xml)
    ns = f"{{{PROJECT_NS}}}"
    texts = {s.get("guid"): store.source(s.get("name")).text for s in root.iter(f"{ns}TextSource")}
    selected = {sel.get("guid"): texts[source.get("guid")][int(sel.get("startPosition")):int(sel.get("endPosition"))]
                for source in root.iter(f"{ns}TextSource") for sel in source.iter(f"{ns}PlainTextSelection")}
    segments = store.segments_df()
    for case in root.iter(f"{ns}Case"):
        assert case.find(f"{ns}SourceRef") is None
        words = sorted(selected[ref.get("targetGUID")] for ref in case.iter(f"{ns}SelectionRef"))
        assert words == sorted(segments.loc[segments["participant"] == case.get("name"), "text"]), case.get("name")
    assert any(True for _ in root.iter(f"{ns}SelectionRef"))
