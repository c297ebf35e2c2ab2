"""Small-cell disclosure guard: no group of fewer than ``min_cell`` people is shown as itself.

A stranger saw prevalence by role show the study's one chaplain as "1/1", with that person's quotes and
distinctive words, in a study of a few named hospitals. The study below has groups of 1, 2 and 4 people
under ``role`` (chaplain, attending, resident) and of 1 and 6 under ``site`` (St Mary's, Royal).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "export"))
from _build import source_from_turns

import qualkit as qk
from qualkit.analysis.disclosure import check_min_cell, guard_groups
from qualkit.analysis.prevalence import prevalence
from qualkit.errors import InvalidInput
from qualkit.export.report import collect_report, render_markdown
from qualkit.model import Code, Codebook, Coding, Participant

OTHER = "Other (groups of fewer than 3 people)"
# speaker label -> (role, site)
PEOPLE = {
    "Rhea": ("resident", "Royal"), "Rupert": ("resident", "Royal"), "Rosa": ("resident", "Royal"),
    "Ravi": ("resident", "Royal"), "Anouk": ("attending", "Royal"), "Amos": ("attending", "Royal"),
    "Cyprian": ("chaplain", "St Mary's"),
}
TURNS = [
    ("Moderator", "What wears you down?", "moderator"),
    ("Rhea", "Night shifts and the pager, twelve patients each night.", "participant"),
    ("Rupert", "The pager never stops on nights, the patients keep coming.", "participant"),
    ("Rosa", "Charting at home after every long shift on the ward.", "participant"),
    ("Ravi", "Too many patients for one resident on call overnight.", "participant"),
    ("Anouk", "The rota leaves us short every single weekend in clinic.", "participant"),
    ("Amos", "Rota gaps again, so clinic runs late into the evening.", "participant"),
    ("Cyprian", "The chapel vigil and the bereaved families, every chapel visit is heavy work.", "participant"),
    ("Cyprian", "Chapel again, vigil again, no one covers the chapel at night.", "participant"),
]
CHAPLAIN_WORDS = ("chapel", "vigil")


@pytest.fixture
def study(tmp_path):
    project = qk.Project.create(tmp_path / "hospitals.qualkit.db", name="Hospitals", codebook=None, user="ana")
    project.store.save_codebook(Codebook("t", [Code("workload", "Workload")]), user="ana")
    project.store.upsert_participants([Participant(name, aliases=[name], attributes={"role": role, "site": site})
                                       for name, (role, site) in PEOPLE.items()], user="ana")
    source = source_from_turns("fg1.txt", TURNS, "\n")
    project.store.add_source(source, user="ana")
    # Everyone's talk is workload; the chaplain's is the strongest (a machine suggestion scored 0.99, accepted).
    project.store.add_codings([Coding(s.id, "workload", origin="human", status="accepted", coder="ana")
                               for s in source.segments[1:] if s.speaker != "Cyprian"], user="ana")
    project.store.add_codings([Coding(s.id, "workload", origin="rules", status="accepted", coder="auto",
                                      score=0.99, decided_by="ana")
                               for s in source.segments if s.speaker == "Cyprian"], user="ana")
    yield project
    project.store.engine.dispose()


def _chaplain_segments(project) -> set[int]:
    segments = project.segments()
    return set(segments.loc[segments["speaker"] == "Cyprian", "id"].astype(int))


def test_groups_below_min_cell_are_merged_into_other_when_that_reaches_min_cell(study):
    assert study.min_cell == 3  # the default, with nothing stored
    result = study.prevalence(by="role")
    assert list(dict.fromkeys(result.table["group"])) == ["resident", OTHER]
    other = result.table.set_index(["code_id", "group"]).loc[("workload", OTHER)]
    # attending (2 people, 2 segments) + chaplain (1 person, 2 segments): 3 people, 4 segments, all coded.
    assert other[["segments", "group_segments", "speakers", "group_speakers"]].tolist() == [4, 4, 3, 3]
    assert result.groups.set_index("group").loc[OTHER, "speakers"] == 3
    assert list(result.crosstab.columns) == ["resident", OTHER]
    note = next(n for n in result.notes if "fewer than 3 people" in n)
    assert note.startswith("role: attending and chaplain each have fewer than 3 people, so they are shown together "
                           f"as \u201c{OTHER}\u201d")
    assert not any(name in " ".join(result.notes) for name in PEOPLE)  # which values, never who
    assert result.settings["small_cells"]["merged"] == ["attending", "chaplain"]
    # Every count opens its passages, the merged row's too.
    assert len(study.passages("workload", by="role", group=OTHER)) == 4


def test_a_small_group_is_never_left_out_alone_where_the_overall_figures_would_give_it_away(study):
    """Left out alone, St Mary's one chaplain was the overall figures minus Royal's: the smallest other group
    joins "Other" (secondary suppression); only a study with too few people in all leaves its groups out."""
    by_site = study.prevalence(by="site")
    assert set(by_site.table["group"]) == {"Other (groups of fewer than 3 people, with Royal)"}
    assert by_site.groups["speakers"].tolist() == [7]
    assert ("site: St Mary's has fewer than 3 people, so it is shown together with Royal as \u201cOther (groups of fewer "
            "than 3 people, with Royal)\u201d, so that its figures cannot be worked out from the overall "
            "ones") in " ".join(by_site.notes)
    by_role = study.prevalence(by="role", min_cell=4)  # attending 2 + chaplain 1 = 3 < 4: resident joins them
    assert by_role.settings["small_cells"]["joined"] == ["resident"]
    assert by_role.groups["speakers"].tolist() == [7]
    too_few = study.prevalence(by="role", min_cell=8)  # seven people in all
    assert too_few.table.empty
    assert any(n.startswith("role: attending, chaplain and resident each have fewer than 8 people, so they are not "
                            "shown (the study has too few people in all)") for n in too_few.notes)
    assert "Cyprian" not in " ".join(too_few.notes + by_role.notes + by_site.notes)


def test_min_cell_one_shows_every_group_as_before_and_overall_figures_never_change(study):
    segments, codings = study.segments(), study.store.codings_df()
    before = prevalence(segments, codings, by="role", rollup=True, all_codes=True, codebook=study.codebook)
    shown = study.prevalence(by="role", min_cell=1)
    pd.testing.assert_frame_equal(shown.table, before.table)
    assert shown.table.set_index(["code_id", "group"]).loc[("workload", "chaplain"), "group_speakers"] == 1
    assert not [n for n in shown.notes if "people" in n]
    assert study.set_min_cell(1) == 1 and study.min_cell == 1
    pd.testing.assert_frame_equal(study.prevalence(by="role").table, before.table)
    assert study.history("project")["new"].astype(str).str.contains("min_cell").any()  # who changed it, when
    study.set_min_cell(3)
    pd.testing.assert_frame_equal(study.prevalence(by=None).table, study.prevalence(by=None, min_cell=1).table)


def test_quotes_are_never_drawn_from_a_left_out_group_nor_attributed_by_a_merged_one(study):
    chaplain = _chaplain_segments(study)
    # Unguarded, the chaplain's two turns are quoted.
    assert chaplain <= set(study.quotes("workload", n=10, by="site", min_cell=1)["segment_id"])
    by_site = study.quotes("workload", n=10, by="site", min_cell=8)  # every group left out: no quote at all
    assert by_site.empty and any("St Mary's" in note for note in by_site.attrs["notes"])
    # Grouped by site, the one chaplain is quoted inside "Other", and not as "Chaplain": her role is one person.
    joined = study.quotes("workload", n=10, by="site")
    assert chaplain <= set(joined["segment_id"])
    assert "Chaplain" not in {a.split(",")[0] for a in joined["attribution"]}
    assert "Chaplain" not in {a.split(",")[0] for a in study.quotes("workload", n=10, by=None)["attribution"]}
    by_role = study.quotes("workload", n=10, by="role")  # merged into Other: quoted, but not as "Chaplain"
    assert chaplain <= set(by_role["segment_id"])
    assert not {"Chaplain", "Attending"} & {a.split(",")[0] for a in by_role["attribution"]}
    assert "Chaplain" in set(study.quotes("workload", n=10, by="role", min_cell=1)["attribution"].str.split(",").str[0])


def test_distinctive_words_follow_the_same_rule(study):
    open_words = study.distinctive_words(by="site", min_count=1, top=None, min_cell=1)
    assert set(CHAPLAIN_WORDS) <= set(open_words.loc[open_words["group"] == "St Mary's", "word"])
    # Left out: St Mary's is no group, and its one person's words are not read at all.
    guarded = study.distinctive_words(by="site", min_count=1, top=None)
    assert guarded.empty and "St Mary's" in " ".join(guarded.attrs["notes"])
    by_role = study.distinctive_words(by="role", min_count=1, top=None)
    assert set(by_role["group"]) == {"resident", OTHER}
    assert any("fewer than 3 people" in note for note in by_role.attrs["notes"])
    with pytest.raises(InvalidInput, match="fewer than 3 people"):
        study.distinctive_words(by="role", versus="chaplain", min_count=1)
    with pytest.raises(InvalidInput, match="shown inside 'Other"):  # the residents joined the small groups
        study.distinctive_words(by="role", versus="resident", min_count=1, min_cell=4)


def test_cli_prints_the_note_and_min_cell_overrides_for_one_run(study):
    from qualkit.cli import app

    db = str(study.store.engine.url.database)
    runner = CliRunner()
    guarded = runner.invoke(app, ["analyze", "prevalence", "--db", db, "--by", "role", "--user", "ana"])
    assert guarded.exit_code == 0, guarded.output
    table, _, notes = guarded.output.partition("Note:")
    assert OTHER in table and "chaplain" not in table and "attending" not in table
    assert "role: attending and chaplain each have fewer than 3 people" in notes
    opened = runner.invoke(app, ["analyze", "prevalence", "--db", db, "--by", "role", "--min-cell", "1",
                                 "--user", "ana"])
    assert opened.exit_code == 0 and "chaplain" in opened.output and OTHER not in opened.output
    assert study.min_cell == 3  # one run only
    quoted = runner.invoke(app, ["analyze", "quotes", "--code", "workload", "--by", "site", "--n", "10",
                                 "--db", db, "--user", "ana"])
    assert quoted.exit_code == 0 and "Note: site: St Mary's" in quoted.output
    assert "chapel" in quoted.output.lower() and "Chaplain" not in quoted.output  # quoted, never named by role
    refused = runner.invoke(app, ["analyze", "prevalence", "--db", db, "--min-cell", "0", "--user", "ana"])
    assert refused.exit_code == 2


def test_report_applies_the_study_setting_and_says_so_in_its_methods(study, tmp_path):
    report = collect_report(study.store, by="role", n_boot=0, figures=False)
    text = render_markdown(report, tmp_path / "r.md").read_text(encoding="utf-8")
    methods = text.split("## Methods", 1)[1].split("##", 1)[0]
    assert "no group of role with fewer than 3 people" in methods and OTHER in methods
    assert f"{OTHER}: segments" in text and "chaplain: segments" not in text and "attending: speakers" not in text
    assert "Note: role: attending and chaplain each have fewer than 3 people" in text
    assert "Chaplain" not in text  # no quote attributed to the one chaplain
    by_site = collect_report(study.store, by="site", n_boot=0, figures=False)
    quotes = " ".join(b.text for b in by_site.blocks if b.kind == "quote").lower()
    assert quotes and not any(word in quotes for word in CHAPLAIN_WORDS)
    words = by_site.results["distinctive_words"]
    assert not set(CHAPLAIN_WORDS) & set(words.get("word", ()))

    study.set_min_cell(1)
    opened = render_markdown(collect_report(study.store, by="role", n_boot=0, figures=False),
                             tmp_path / "open.md").read_text(encoding="utf-8")
    assert "No minimum cell size was applied (it is set to 1)" in opened and "chaplain: speakers" in opened
    # The workbook's prevalence follows the study's rule too (a stranger's showed the one manager the app hid);
    # its codings sheet, the researchers' own records, stays complete.
    study.set_min_cell(3)
    workbook = study.export(tmp_path / "tables.xlsx", by="role")
    sheet = pd.read_excel(workbook, sheet_name="prevalence")
    assert set(sheet["group"]) == {OTHER, "resident"}
    about = dict(pd.read_excel(workbook, sheet_name="about").values.tolist())
    assert about["smallest group shown in prevalence"] == "3 people"
    assert about["small groups"].startswith("role: attending and chaplain each have fewer than 3 people")
    assert "Cyprian" in set(pd.read_excel(workbook, sheet_name="codings")["speaker"])


def test_report_cli_takes_min_cell_for_one_run(study, tmp_path):
    from qualkit.cli import app

    db = str(study.store.engine.url.database)
    out = tmp_path / "r.md"
    result = CliRunner().invoke(app, ["report", str(out), "--db", db, "--by", "role", "--no-figures",
                                      "--n-boot", "0", "--min-cell", "1", "--user", "ana"])
    assert result.exit_code == 0, result.output
    assert "chaplain: speakers" in out.read_text(encoding="utf-8")


def test_min_cell_must_be_a_whole_number_of_people(study):
    assert check_min_cell(5) == 5
    for bad in (0, -1, 2.5, "three", None):
        with pytest.raises(InvalidInput, match="whole number of people"):
            check_min_cell(bad)
    with pytest.raises(InvalidInput):
        study.set_min_cell(0)
    assert study.min_cell == 3


def test_a_merged_group_counts_distinct_people_not_rows():
    # Two small groups that share their only person (by session, say) are one person together: c joins them.
    guard = guard_groups(pd.Series(["a", "b", "c", "c", "c"]), pd.Series(["P1", "P1", "P2", "P3", "P4"]),
                         min_cell=2, by="session")
    assert guard.merged == ("a", "b") and guard.joined == ("c",) and not guard.suppressed


def test_export_groups_the_prevalence_sheet_by_the_attribute_asked_for(study, tmp_path):
    """The workbook was always by role; F compares sites. The study's minimum cell size still holds."""
    from qualkit.cli import app

    db = str(study.store.engine.url.database)
    out = tmp_path / "by_site.xlsx"
    result = CliRunner().invoke(app, ["export", str(out), "--db", db, "--by", "site", "--user", "ana"])
    assert result.exit_code == 0, result.output
    assert f"writing {out}" in result.output  # said before the seconds of writing (and only then: see the typo)
    about = dict(pd.read_excel(out, sheet_name="about").values.tolist())
    assert about["prevalence by"] == "site"
    assert about["small groups"].startswith("site: St Mary's")  # one person: left out, not shown as "1/1"
    groups = set(pd.read_excel(out, sheet_name="prevalence")["group"])
    assert groups == set(study.prevalence(by="site").table["group"]) and "St Mary's" not in groups
    plain = tmp_path / "plain.xlsx"
    assert CliRunner().invoke(app, ["export", str(plain), "--db", db, "--user", "ana"]).exit_code == 0
    assert dict(pd.read_excel(plain, sheet_name="about").values.tolist())["prevalence by"] == "role"  # as before
    typo = CliRunner().invoke(app, ["export", str(tmp_path / "t.xlsx"), "--db", db, "--by", "sites", "--user", "ana"])
    assert typo.exit_code != 0 and "no participant attribute 'sites'" in str(typo.exception)
    assert "use one of participant, role, site," in str(typo.exception)
    assert "writing" not in typo.output  # refused before it said it was writing
    qdpx = CliRunner().invoke(app, ["export", str(tmp_path / "s.qdpx"), "--db", db, "--by", "site", "--user", "ana"])
    assert qdpx.exit_code != 0 and "no prevalence table" in str(qdpx.exception)
    with pytest.raises(InvalidInput, match="no participant attribute 'ward'"):
        study.export(tmp_path / "w.xlsx", by="ward")  # a typo is no silent "all participants"
    everyone = study.export(tmp_path / "all", by=None)
    assert set(pd.read_csv(everyone / "prevalence.csv")["group"]) == {"all"}
