"""Exports never overwrite a stranger's own files unasked.

A stranger ran ``qualkit export . --db rota.qualkit.db`` in their study folder: the CSV folder export wrote
over their own codebook.csv and participants.csv (rc 0). ``qualkit export newthing.csv`` made a directory
called newthing.csv, and ``qualkit export my_codebook.csv`` on an existing file ended in a bare
"File exists" with no fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

import qualkit as qk
from qualkit.cli import main


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    p = qk.Project.create(tmp_path_factory.mktemp("overwrite") / "p.qualkit.db", name="Pilot", codebook=None,
                          user="ana")
    build_project(p.store)
    yield p
    p.store.engine.dispose()


def cli(project, capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", *args, "--db", str(project.store.engine.url.database)])
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_a_csv_export_refuses_a_folder_holding_files_of_the_same_names(project, tmp_path, capsys):
    study = tmp_path / "study"
    study.mkdir()
    (study / "codebook.csv").write_text("code,my own column\nw,kept\n", encoding="utf-8")
    (study / "participants.csv").write_text("participant,site\nR01,north\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in study.iterdir()}
    with pytest.raises(qk.InvalidInput, match=r"codebook\.csv, participants\.csv") as refused:
        project.export(study)
    assert "nothing was written" in str(refused.value) and "new folder" in refused.value.fix
    code, _, err = cli(project, capsys, str(study))
    assert code == 2 and "codebook.csv, participants.csv" in err and "Fix:" in err
    assert {p.name: p.read_bytes() for p in study.iterdir()} == before  # the originals, and nothing else


def test_a_csv_export_replaces_an_earlier_qualkit_export_and_says_so(project, tmp_path, capsys):
    from qualkit.export.tables import TABLE_NAMES, holds_qualkit_tables

    folder = tmp_path / "tables"
    project.export(folder)
    assert holds_qualkit_tables(folder) and {p.name for p in folder.iterdir()} == {f"{n}.csv" for n in TABLE_NAMES}
    (folder / "codings.csv").write_text("stale", encoding="utf-8")
    code, out, _ = cli(project, capsys, str(folder))
    assert code == 0 and "replaced the earlier export" in out
    assert (folder / "codings.csv").read_text(encoding="utf-8-sig").startswith("coding_id,")
    fresh = tmp_path / "fresh"
    code, out, _ = cli(project, capsys, str(fresh))
    assert code == 0 and "replaced" not in out and (fresh / "about.csv").is_file()


@pytest.mark.parametrize("existing", [False, True], ids=["new name", "existing file"])
def test_a_csv_file_name_is_refused_with_a_fix_and_no_directory_is_made(existing, project, tmp_path, capsys):
    target = tmp_path / "my_codebook.csv"
    if existing:
        target.write_text("code\nmine\n", encoding="utf-8")
    with pytest.raises(qk.InvalidInput, match="writes a folder of files") as refused:
        project.export(target)
    assert "my_codebook_tables" in refused.value.fix and ".xlsx" in refused.value.fix
    code, _, err = cli(project, capsys, str(target))
    assert code == 2 and "my_codebook.csv" in err and "Fix:" in err and "File exists" not in err
    assert target.is_file() if existing else not target.exists()
    if existing:
        assert target.read_text(encoding="utf-8") == "code\nmine\n"


@pytest.mark.parametrize("name", ["study.xlsx", "study.qdpx", "codebook.qdc", "report.md"])
def test_a_file_export_says_when_it_replaced_a_file(name, project, tmp_path, capsys):
    target = tmp_path / name
    code, out, _ = cli(project, capsys, str(target))
    assert code == 0 and "replaced" not in out
    code, out, _ = cli(project, capsys, str(target))
    assert code == 0 and f"wrote {target} (replaced the file that was there)" in out


def test_the_report_command_says_when_it_replaced_a_file(project, tmp_path, capsys):
    target = tmp_path / "report.html"
    target.write_text("<p>an older draft</p>", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(target), "--db", str(project.store.engine.url.database), "--n-boot", "0",
              "--no-figures"])
    assert exit_info.value.code == 0
    assert f"wrote {target} (replaced the file that was there)" in capsys.readouterr().out
