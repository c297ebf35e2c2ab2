"""Codebooks: shipped burnout book against the taxonomy, YAML/CSV/Excel/.qdc round trips, validation errors."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.codebook import (
    CODEBOOK_NS,
    PROJECT_NS,
    codebook_from_csv,
    codebook_from_element,
    codebook_from_qdc,
    codebook_from_yaml,
    codebook_problems,
    codebook_to_csv,
    codebook_to_element,
    codebook_to_qdc,
    codebook_to_yaml,
    default_guid,
    fold_description,
    list_codebooks,
    load_codebook,
    save_codebook,
    unfold_description,
    validate_codebook,
)
from qualkit.errors import InvalidCodebook, InvalidProjectFile
from qualkit.model import Code, Codebook


def _taxonomy(spec: Path) -> dict[str, str]:
    """code id -> parent from the taxonomy table."""
    text = (spec / "burnout_taxonomy.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| (\w+) \|", text, flags=re.MULTILINE)
    return {code: parent for parent, code in rows if parent != "parent"}


def _same(a: Codebook, b: Codebook) -> None:
    assert [asdict(c) for c in a.codes] == [asdict(c) for c in b.codes]


# ---------------------------------------------------------------------------- the shipped codebook
def test_burnout_is_shipped_and_loads_by_name():
    assert "burnout" in list_codebooks()
    assert Codebook.load("burnout").name == "burnout"


def test_burnout_codable_ids_equal_the_taxonomy(burnout, shared_spec):
    taxonomy = _taxonomy(shared_spec)
    assert len(taxonomy) == 24
    assert {c.id for c in burnout.codable_codes} == set(taxonomy)
    assert len(burnout.codable_codes) == 24
    categories = [c for c in burnout.codes if not c.codable]
    assert {c.id for c in categories} == set(taxonomy.values()) - {"disconnection"}
    assert len(burnout) == 29
    for code_id, parent in taxonomy.items():
        if code_id != parent:
            assert burnout[code_id].parent == parent, code_id
    assert burnout["disconnection"].codable
    assert {c.id for c in burnout.children("disconnection")} == {"isolation", "division", "connection_and_community"}


def test_every_burnout_code_is_complete(burnout):
    for code in burnout.codable_codes:
        assert len(code.definition.split()) >= 15, code.id
        assert code.inclusion.strip() and code.exclusion.strip(), code.id
        assert len(code.examples) >= 2 and len(code.near_misses) >= 1, code.id
        assert code.cues or code.patterns, code.id
        assert re.fullmatch(r"#[0-9A-F]{6}", code.color), code.id
    colours = [c.color for c in burnout.codes]
    assert len(set(colours)) == len(colours)


def test_burnout_validates_and_guids_are_stable(burnout):
    assert codebook_problems(burnout) == []
    assert burnout["workload"].guid == default_guid("burnout", "workload")
    assert load_codebook("burnout")["workload"].guid == burnout["workload"].guid


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", [".yaml", ".csv", ".xlsx", ".qdc", ".tsv"])
def test_round_trip_through_every_format(tmp_path, burnout, suffix):
    path = save_codebook(burnout, tmp_path / f"burnout{suffix}")
    again = load_codebook(path, name="burnout")
    _same(burnout, again)


def test_yaml_keeps_version_and_description(tmp_path, mini_codebook):
    mini_codebook.version = 3
    mini_codebook.description = "A tiny book."
    again = codebook_from_yaml(codebook_to_yaml(mini_codebook))
    assert (again.name, again.version, again.description) == ("mini", 3, "A tiny book.")
    assert again.ids == mini_codebook.ids
    assert again["isolation"].patterns == [r"\bon my own\b"]


def test_qdc_validates_against_the_refi_schema(tmp_path, burnout, shared_spec):
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(shared_spec / "refi" / "Codebook.xsd"))
    data = codebook_to_qdc(burnout)
    schema.validate(data.decode("utf-8"))
    root = ET.fromstring(data)
    # Hierarchy: categories are not codable; isolation nests inside the codable code disconnection.
    top = {c.get("name"): c for c in root.find(f"{{{CODEBOOK_NS}}}Codes")}
    assert top["Burnout dimensions"].get("isCodable") == "false"
    assert top["Disconnection"].get("isCodable") == "true"
    assert "Isolation" in [c.get("name") for c in top["Disconnection"]]


def test_codebook_element_in_the_project_namespace_is_schema_valid(burnout, shared_spec):
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(shared_spec / "refi" / "Project.xsd"))
    project = ET.Element(f"{{{PROJECT_NS}}}Project", {"name": "demo"})
    project.append(codebook_to_element(burnout, PROJECT_NS))
    schema.validate(ET.tostring(project, encoding="unicode"))
    again = codebook_from_element(project.find(f"{{{PROJECT_NS}}}CodeBook"), PROJECT_NS, name="burnout")
    _same(burnout, again)


def test_description_folds_every_field_and_parses_back():
    code = Code("moral_injury", "Moral injury", definition="Line one.\nLine two.", inclusion="When blocked.",
                exclusion="Not workload.", examples=["First example", "Second"], near_misses=["Not this"],
                cues=["moral injury", "the right thing"], patterns=[r"\bcan['’]t do\b"])
    folded = fold_description(code)
    assert "Inclusion: When blocked." in folded and "Near misses:\n- Not this" in folded
    parsed = unfold_description(folded)
    assert parsed == {"definition": "Line one.\nLine two.", "inclusion": "When blocked.",
                      "exclusion": "Not workload.", "examples": ["First example", "Second"],
                      "near_misses": ["Not this"], "cues": ["moral injury", "the right thing"],
                      "patterns": [r"\bcan['’]t do\b"], "id": "moral_injury"}
    assert unfold_description("Just a plain description from NVivo.") == {
        "definition": "Just a plain description from NVivo."}


def test_round_trips_keep_guids_versions_multiline_items_and_label_like_lines(tmp_path, mini_codebook):
    mini_codebook.version = 4
    code = mini_codebook["exhaustion"]
    code.definition = "Being drained.\nInclusion: this line belongs to the definition.\n\\ a backslash line"
    code.examples = ["First line of an example\nand its second line", "Cues: not a section"]
    code.cues = ["worn out; done", "drained"]
    for suffix in (".csv", ".tsv", ".xlsx", ".qdc", ".yaml"):
        again = load_codebook(save_codebook(mini_codebook, tmp_path / f"book{suffix}"), name="renamed")
        assert again.version == 4, suffix
        assert [c.guid for c in again.codes] == [default_guid("mini", c.id) for c in mini_codebook.codes], suffix
        assert again["exhaustion"].definition == code.definition, suffix
        assert again["exhaustion"].examples == code.examples, suffix
        assert again["exhaustion"].cues == code.cues, suffix
    assert default_guid("mini", "isolation") in codebook_to_csv(mini_codebook)


def test_csv_empty_name_and_inconsistent_versions_name_their_line():
    with pytest.raises(InvalidCodebook, match="has an empty name") as error:
        codebook_from_csv("name,description\nTired,Worn out\n,No name here\n", path="c.csv")
    assert error.value.line == 3 and "empty id" not in str(error.value)
    with pytest.raises(InvalidCodebook, match="differs from version 2 on line 2") as error:
        codebook_from_csv("name,codebook_version\nA,2\nB,3\n", path="c.csv")
    assert error.value.line == 3


def test_csv_with_an_unclosed_quote_names_the_line_where_it_opens():
    """Seen by a new researcher: the open quote swallowed the two rows after it into one code's name."""
    text = 'code,description\nWorkload,Too much work\nExhaustion\n"Moral injury,unclosed\nPeer support,help\n'
    with pytest.raises(InvalidCodebook, match="a quote opened in this row is never closed") as error:
        codebook_from_csv(text, path="my_codebook.csv")
    assert error.value.line == 4 and str(error.value).startswith("my_codebook.csv:4:")
    with pytest.raises(InvalidCodebook, match="the quoting is malformed") as error:
        codebook_from_csv('code,description\nA,x\n"B" b,y\n', path="c.csv")
    assert error.value.line == 3


def test_csv_cells_past_the_header_are_an_error_not_dropped_cues():
    """Seen by a new researcher: an unquoted cue list kept 'exhausted' and dropped the rest, and check said ok."""
    text = "id,name,definition,cues\nexhaustion,Emotional exhaustion,Feeling drained,exhausted, drained, burnt out\n"
    with pytest.raises(InvalidCodebook, match="6 cells but the header names 4 columns: ' drained', ' burnt out'"
                       ) as error:
        codebook_from_csv(text, path="codes.csv")
    assert error.value.line == 2 and "in double quotes" in str(error.value)
    quoted = text.replace("exhausted, drained, burnt out", '"exhausted, drained, burnt out"')
    assert codebook_from_csv(quoted, path="codes.csv").codes[0].cues == ["exhausted", "drained", "burnt out"]
    assert codebook_from_csv("id,name,,\nA,A,,\n", path="codes.csv").codes[0].id == "A"  # empty cells: nothing lost


def test_foreign_qdc_with_duplicate_names_gets_path_ids():
    ns = CODEBOOK_NS
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{ns}"><Codes>
  <Code guid="{default_guid('x', 'a')}" name="Barriers" isCodable="true" color="#abc">
    <Description>Things in the way</Description>
    <Code guid="{default_guid('x', 'b')}" name="Other" isCodable="true"/>
  </Code>
  <Code guid="{default_guid('x', 'c')}" name="Supports" isCodable="false">
    <Code guid="{default_guid('x', 'd')}" name="Other" isCodable="true"/>
  </Code>
</Codes></CodeBook>""".encode()
    book = codebook_from_qdc(xml, name="x")
    assert book.ids == ["Barriers", "Barriers/Other", "Supports", "Supports/Other"]
    assert book["Supports/Other"].parent == "Supports"
    assert book["Barriers"].color == "#AABBCC" and book["Barriers"].definition == "Things in the way"
    assert not book["Supports"].codable


def test_unsafe_or_broken_qdc_is_refused(tmp_path):
    bomb = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><CodeBook xmlns="urn:QDA-XML:codebook:1.0">&a;</CodeBook>"""
    with pytest.raises(InvalidProjectFile, match="unsafe XML"):
        codebook_from_qdc(bomb)
    path = tmp_path / "broken.qdc"
    path.write_bytes(b"<CodeBook>\n<Codes>\n</CodeBook>")
    with pytest.raises(InvalidProjectFile) as error:
        load_codebook(path)
    assert error.value.line == 3 and "broken.qdc" in str(error.value)


# ---------------------------------------------------------------------------- CSV and Excel imports
def test_qda_tool_export_imports_as_is(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("tag,description,number of highlights\nWork load,Too much to do,12\n"
                    "Being Heard,\"Listened to, or not\",3\n", encoding="utf-8")
    book = load_codebook(path)
    assert book.name == "tags"
    assert book.ids == ["Work load", "Being Heard"]  # the id is the name, exactly
    assert book["Being Heard"].definition == "Listened to, or not"
    assert all(c.codable and c.parent is None for c in book)


def test_csv_optional_columns_parents_by_name_and_lists():
    text = ("Name,Parent,Definition,Inclusion,Exclusion,Examples,Keywords\n"
            "Feelings,,How people feel,,,,\n"
            "Tired,Feelings,Worn out,Depletion,Busy days,\"So tired\nNothing left\",tired; drained\n")
    book = codebook_from_csv(text, name="x")
    assert book["Tired"].parent == "Feelings"
    assert book["Tired"].examples == ["So tired", "Nothing left"]
    assert book["Tired"].cues == ["tired", "drained"]
    assert book["Tired"].exclusion == "Busy days"


def test_themes_named_only_in_the_parent_column_become_categories(tmp_path):
    """A stranger's "Theme | Code | Definition" sheet was refused: its themes had no rows of their own (D1)."""
    path = tmp_path / "codes.csv"
    path.write_text("Theme,Code,Definition\r\nWorkload,Rota gaps,Shifts nobody covers\r\n"
                    "Workload,Paperwork,Forms and charting\r\nSupport,Peer support,Colleagues who help\r\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match=r"codes.csv: categories 'Workload', 'Support' named only in the Theme "
                                         r"column added as categories"):
        book = load_codebook(path)
    assert book.ids == ["Workload", "Rota gaps", "Paperwork", "Support", "Peer support"]
    assert [c.id for c in book.codable_codes] == ["Rota gaps", "Paperwork", "Peer support"]
    assert book["Paperwork"].parent == "Workload" and book["Peer support"].parent == "Support"
    snake = tmp_path / "ids.csv"
    snake.write_text("id,name,category\nrota_gaps,Rota gaps,Staffing and rotas\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="'Staffing and rotas'"):
        book = load_codebook(snake)
    assert book.ids == ["staffing_and_rotas", "rota_gaps"] and book["staffing_and_rotas"].name == "Staffing and rotas"
    misspelt = tmp_path / "themes.csv"  # a stranger's "Workoad" became a theme of its own, splitting the totals
    misspelt.write_text("Theme,Code\nWorkload,Rota gaps\nWorkload,Paperwork\nWorkoad,Phone lines\n"
                        "Support,Peer support\n", encoding="utf-8")
    with pytest.raises(InvalidCodebook) as refused:
        load_codebook(misspelt)
    assert "themes.csv:4: the Theme column names both 'Workload' (2 codes) and 'Workoad' (1)" in str(refused.value)
    typo = tmp_path / "typo.csv"
    typo.write_text("name,parent\nWorkload,\nRota gaps,Workolad\n", encoding="utf-8")
    with pytest.raises(InvalidCodebook) as refused:  # a misspelt code, not a new category
        load_codebook(typo)
    assert "typo.csv:3: code 'Rota gaps' names the parent 'Workolad'" in str(refused.value)
    assert "did you mean 'Workload'?" in str(refused.value)


def test_excel_import_of_a_foreign_sheet(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Memo"])
    sheet.append(["Hierarchy", "Rank and top-down decisions"])
    sheet.append([None, None])
    sheet.append(["Peer support", "Colleagues helping"])
    workbook.save(tmp_path / "codes.xlsx")
    book = load_codebook(tmp_path / "codes.xlsx")
    assert book.ids == ["Hierarchy", "Peer support"]
    assert book["Hierarchy"].definition == "Rank and top-down decisions"


def test_an_excel_codebook_behind_an_empty_first_sheet_is_found_and_errors_name_the_sheet(tmp_path):
    """A stranger's codes sat on a second sheet: "codes.xlsx:1: no name column among []" named neither sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Cover"
    codes = workbook.create_sheet("Codebook")
    codes.append(["Code", "Definition"])
    codes.append(["Interruptions", "Being pulled away"])
    workbook.save(tmp_path / "codes.xlsx")
    assert load_codebook(tmp_path / "codes.xlsx").ids == ["Interruptions"]
    codes["A1"] = "Remarks"  # no name column now
    codes["B1"] = "Count"
    workbook.save(tmp_path / "codes.xlsx")
    with pytest.raises(InvalidCodebook, match=r"codes\.xlsx, sheet 'Codebook':1: no name column"):
        load_codebook(tmp_path / "codes.xlsx")
    Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(InvalidCodebook, match="the workbook holds no codebook: its only sheet is empty"):
        load_codebook(tmp_path / "empty.xlsx")


def test_csv_without_a_name_column_says_which_line():
    with pytest.raises(InvalidCodebook, match="no name column") as error:
        codebook_from_csv("description,count\nx,1\n", path="codes.csv")
    assert error.value.line == 1 and "codes.csv:1" in str(error.value)


def test_csv_with_a_misspelt_column_is_refused_not_read_without_it():
    """A stranger's `descripton` column: every code loaded with an empty definition, and no word about it."""
    with pytest.raises(InvalidCodebook, match=r"unknown column 'descripton'.*did you mean 'description'") as error:
        codebook_from_csv("code_name,descripton\nWorkarounds,Informal practices\n", path="codes.csv")
    assert error.value.line == 1
    # Two letters swapped in a short header score below the close-match cutoff: 'nmae' was read past with a
    # warning, and the names became the ids.
    with pytest.raises(InvalidCodebook, match=r"unknown column 'nmae'.*did you mean 'name'"):
        codebook_from_csv("id,nmae\nstaffing,Staffing levels\n", path="codes.csv")
    book = codebook_from_csv("name,definition,notes\nA,the a code,ours\n", path="codes.csv")  # other columns stay fine
    assert book["A"].definition == "the a code"


def test_a_column_qualkit_does_not_read_is_named_not_dropped_without_a_word(tmp_path):
    """A stranger's "Include when" column was read past in silence: every code lost its inclusion criteria."""
    text = ("Code,Definition,Include when,Example quote(s),Bogus\n"
            "Fatigue,Worn out,When tiredness is named,I am so tired,x\n")
    with pytest.warns(UserWarning, match=r"codes\.csv: column 'Bogus' not read \(qualkit reads name, id"):
        book = codebook_from_csv(text, path="codes.csv")
    assert book["Fatigue"].inclusion == "When tiredness is named"  # the app's own label for the field
    assert book["Fatigue"].examples == ["I am so tired"]
    import warnings

    with warnings.catch_warnings():  # a tool's own counts and dates are read past without a word
        warnings.simplefilter("error")
        codebook_from_csv("tag,description,number of highlights,Created by\nA,x,3,ana\n", path="atlas.csv")


def test_a_code_column_beside_a_name_column_is_the_id():
    """``code,name,definition`` was refused: "unknown column 'code'. Fix: did you mean 'code'?"."""
    book = codebook_from_csv("code,name,definition\nleave,Intention to leave,Plans to quit\n", path="codes.csv")
    assert book.ids == ["leave"] and book["leave"].name == "Intention to leave"
    assert codebook_from_csv("Code,Memo\nPeer support,Colleagues\n").ids == ["Peer support"]  # alone: the name


def test_a_second_column_for_the_same_field_is_named_not_refused_as_a_misspelling():
    with pytest.warns(UserWarning, match=r"column 'Label' not read: column 'name' already gives the code's name"):
        book = codebook_from_csv("name,Label,definition\nA,Other,x\n", path="codes.csv")
    assert book.ids == ["A"] and book["A"].name == "A"


def test_a_code_without_a_definition_is_warned_of(tmp_path):
    """An empty definition was accepted in silence; the report's codebook table then showed a blank."""
    from typer.testing import CliRunner

    from qualkit.cli import app

    path = tmp_path / "codes.csv"
    path.write_text("name,definition\nFatigue,Worn out\nIntention to leave,\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["codebook", "check", str(path)])
    assert result.exit_code == 0
    assert "warning: code 'Intention to leave' has no definition" in result.output
    assert "'Fatigue'" not in result.output


# ---------------------------------------------------------------------------- validation errors
BAD_YAML = """\
name: bad
codes:
  - id: a
    name: A
  - id: b
    name: B
    parent: zz
  - id: a
    name: Again
"""


def test_duplicate_ids_name_the_yaml_line_and_a_fix(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    with pytest.raises(InvalidCodebook) as error:
        load_codebook(path)
    problems = error.value.problems
    messages = {p.message.split(" (")[0]: p for p in problems}
    duplicate = messages["duplicate code id 'a'"]
    assert duplicate.line == 8 and str(duplicate).startswith(f"{path}:8: ") and "Fix:" in str(duplicate)
    parent = next(p for p in problems if "parent 'zz'" in p.message)
    assert parent.line == 7 and "add a code with id 'zz'" in parent.fix


def test_duplicate_ids_name_the_csv_line():
    with pytest.raises(InvalidCodebook, match="duplicate code id 'A'") as error:
        codebook_from_csv("name,definition\nA,one\nB,\"two\nlines\"\nA,three\n", path="c.csv")
    assert error.value.line == 5


def test_ids_that_differ_only_in_case_or_spacing_are_refused_naming_both_lines():
    """A stranger's 'Burnout' and 'burnout ' passed as two codes: a typo that splits one code's codings in two."""
    with pytest.raises(InvalidCodebook, match=r"code id 'burnout' differs from 'Burnout' \(line 2\) only in case "
                                              "or spacing") as error:
        codebook_from_csv("name,definition\nBurnout,one\nIsolation,two\nburnout ,three\n", path="c.csv")
    assert error.value.line == 4


def test_cycles_empty_names_bad_patterns_and_colours():
    book = Codebook("x", [Code("a", "A", parent="c"), Code("b", "B", parent="a"), Code("c", "C", parent="b"),
                          Code("d", " "), Code("e", "E", patterns=["(unclosed"], color="red")])
    messages = [p.message for p in codebook_problems(book)]
    assert any("form a cycle" in m for m in messages)
    assert any("'d' has an empty name" in m for m in messages)
    assert any("pattern '(unclosed'" in m and "not a valid regular expression" in m for m in messages)
    assert any("colour 'red'" in m for m in messages)
    with pytest.raises(InvalidCodebook, match=r"\(and 3 more problems\)"):
        validate_codebook(book)


def test_bad_pattern_names_its_yaml_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('codes:\n  - id: a\n    name: A\n    patterns:\n      - "ok"\n      - "\\\\bbad(("\n',
                    encoding="utf-8")
    with pytest.raises(InvalidCodebook, match="not a valid regular expression") as error:
        load_codebook(path)
    assert error.value.line == 6


def test_unknown_field_and_broken_yaml(tmp_path):
    with pytest.raises(InvalidCodebook, match="did you mean 'examples'") as error:
        codebook_from_yaml("codes:\n  - id: a\n    name: A\n    exampels: [x]\n", path="f.yaml")
    assert error.value.line == 4
    with pytest.raises(InvalidCodebook, match="not valid YAML") as error:
        codebook_from_yaml("codes:\n  - id: a\n   name: [\n", path="f.yaml")
    assert error.value.line is not None


def test_unknown_codebook_name_suggests_the_closest():
    with pytest.raises(InvalidCodebook, match="did you mean 'burnout'"):
        load_codebook("burnuot")


# ---------------------------------------------------------------------------- property: any codebook survives
# Any text, including lines that look like REFI description labels ("Inclusion: ...") or list bullets.
_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
_text = st.lists(st.one_of(_line, st.sampled_from(["Inclusion: sneaky", "Cues:", "- bullet", "\\back", "qualkit id: x"])),
                 min_size=1, max_size=3).map("\n".join).map(str.strip).filter(bool)


@st.composite
def codebooks(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), min_size=n, max_size=n, unique=True))
    codes = []
    for i, code_id in enumerate(ids):
        parent = draw(st.sampled_from([None, *ids[:i]]))
        codes.append(Code(code_id, draw(_line.map(str.strip).filter(bool)), parent=parent, definition=draw(_text),
                          inclusion=draw(st.one_of(st.just(""), _text)),
                          examples=draw(st.lists(_text, max_size=3)), cues=draw(st.lists(_text, max_size=3)),
                          codable=draw(st.booleans()), guid=draw(st.sampled_from([default_guid("prop", code_id),
                                                                                   str(uuid.uuid4()).upper()]))))
    return Codebook("prop", codes, version=draw(st.integers(1, 9)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(codebooks())
def test_any_codebook_round_trips_through_yaml_csv_and_qdc(book):
    _same(book, codebook_from_yaml(codebook_to_yaml(book)))
    # REFI nests children inside parents, so codes come back in tree order: compare by id.
    again = codebook_from_qdc(codebook_to_qdc(book), name="prop")
    assert sorted(map(str, map(asdict, book.codes))) == sorted(map(str, map(asdict, again.codes)))
    assert again.version == book.version
    from_csv = codebook_from_csv(codebook_to_csv(book), name="other")  # GUIDs survive a rename too
    _same(book, from_csv)
    assert from_csv.version == book.version


def test_a_codebook_file_with_no_codes_is_an_error_not_ok(tmp_path):
    from qualkit.codebook import load_codebook
    from qualkit.errors import InvalidCodebook

    empty = tmp_path / "empty.yaml"
    empty.write_text("name: nights\ncodes: []\n", encoding="utf-8")
    with pytest.raises(InvalidCodebook, match=r"empty\.yaml: the codebook file holds no codes"):
        load_codebook(empty)


def test_a_quote_left_open_in_a_yaml_codebook_is_an_error_not_a_lost_code(tmp_path):
    """The open quote runs on over the next code; YAML kept the repeated fields silently and a code vanished."""
    from qualkit.codebook import load_codebook
    from qualkit.errors import InvalidCodebook

    text = (  # as a stranger's file had it: the open quote ends at the next code's colour, the rest is a comment
        "name: ed\ncodes:\n"
        "  - id: staffing\n    name: Staffing\n    definition: Too few staff.\n    examples:\n"
        "      - \"We were three nurses down on nights.\n"
        "    cues: [short staffed]\n"
        "  - id: violence\n    name: Violence\n    color: \"#FB9A99\"\n    definition: Aggression toward staff.\n"
        "    cues: [swung at]\n"
    )
    path = tmp_path / "ed.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidCodebook, match=r"ed\.yaml:\d+: the field '\w+' appears twice in one entry") as caught:
        load_codebook(path)
    assert "a quote that is opened and never closed" in str(caught.value)


def test_an_empty_id_cell_gets_an_id_like_the_others_with_a_warning(tmp_path):
    """A stranger's empty id cell silently became the id 'Moral residue' beside ids such as 'staffing'."""
    path = tmp_path / "codes.csv"
    path.write_text("id,name,parent\nstaffing,Staffing,\n,Moral residue,\nguilt,Guilt,Moral residue\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning, match=r"codes.csv:3: code 'Moral residue' has no id; it gets the id "
                                         r"'moral_residue' \(like the file's other ids\)"):
        book = load_codebook(path)
    assert book.ids == ["staffing", "moral_residue", "guilt"] and book["guilt"].parent == "moral_residue"


def test_every_misspelt_column_is_named_at_once(tmp_path):
    """A stranger fixed 'parnet' only to be told next of 'defintion'."""
    path = tmp_path / "codes.csv"
    path.write_text("id,name,parnet,defintion\nload,Load,,Too much\n", encoding="utf-8")
    with pytest.raises(InvalidCodebook, match=r"codes.csv:1: unknown columns 'parnet', 'defintion'.*did you mean "
                                              r"'parent' for 'parnet', 'definition' for 'defintion'"):
        load_codebook(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_a_codebook_saved_by_excel_as_unicode_text_is_read(tmp_path, encoding):
    """A stranger's Excel "Unicode Text" save (UTF-16, tab-separated) was read as Windows-1252 and refused for
    having no name column, with headers like 'ÿþi\\x00d\\x00'."""
    path = tmp_path / "codes.csv"
    text = "id\tname\tdefinition\nfatigue\tFatigue\tTired after nights, Zoë said.\nsleep\tSleep\tNo rest.\n"
    mark = {"utf-16": b"", "utf-16-be": "\ufeff".encode("utf-16-be"), "utf-32": b""}[encoding]
    path.write_bytes(mark + text.encode(encoding))
    codebook = load_codebook(path)
    assert [(c.id, c.name) for c in codebook.codes] == [("fatigue", "Fatigue"), ("sleep", "Sleep")]
    assert codebook["fatigue"].definition == "Tired after nights, Zoë said."
