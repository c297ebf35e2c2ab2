"""The export registry: every entry writes through Project.export and the CLI, and is found by name and suffix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

import qualkit as qk
from qualkit.cli import app
from qualkit.export.registry import EXPORTS, export_for, export_names

FAST = {"n_boot": 10, "figures": False}  # report options that keep the test short


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    p = qk.Project.create(folder / "p.qualkit.db", name="Pilot", codebook=None, user="ana")
    build_project(p.store)
    yield p
    p.store.engine.dispose()


def _written(path: Path) -> bool:
    return any(path.iterdir()) if path.is_dir() else path.is_file() and path.stat().st_size > 0


@pytest.mark.parametrize("entry", EXPORTS, ids=[e.name for e in EXPORTS])
def test_every_export_writes_through_the_project_by_suffix_and_by_name(entry, project, tmp_path):
    options = {k: v for k, v in FAST.items() if k in entry.options}
    by_suffix = project.export(tmp_path / entry.file_name("by_suffix"), **options)
    assert _written(Path(by_suffix)) and export_for(by_suffix) is entry
    by_name = project.export(tmp_path / "by_name.out", entry.name, **options)
    assert _written(Path(by_name))
    for suffix in entry.suffixes:
        assert export_for(f"x{suffix.upper()}") is entry


@pytest.mark.parametrize("entry", [e for e in EXPORTS if e.kind == "data"], ids=lambda e: e.name)
def test_every_data_export_writes_through_the_cli(entry, project, tmp_path):
    out = tmp_path / entry.file_name("cli")
    result = CliRunner().invoke(app, ["export", str(out), "--db", str(project.store.engine.url.database),
                                      "--format", entry.name, "--user", "ana"])
    assert result.exit_code == 0, result.output
    assert _written(out)


def test_the_registry_is_what_the_cli_and_app_offer():
    names = export_names()
    assert len(names) == len(set(names))
    suffixes = [s for e in EXPORTS for s in e.suffixes]
    assert len(suffixes) == len(set(suffixes))
    result = CliRunner().invoke(app, ["export", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert all(name in result.output for name in names), result.output
    page = (Path(qk.__file__).parent / "app" / "pages" / "export.py").read_text(encoding="utf-8")
    assert "EXPORTS" in page and "xlsx" not in page  # the page lists the registry, no format of its own


def test_an_unknown_format_or_option_is_one_clear_error(project, tmp_path):
    with pytest.raises(qk.InvalidInput, match=r"cannot export as \.pdf"):
        project.export(tmp_path / "x.pdf")
    with pytest.raises(qk.InvalidInput, match="takes no option 'include_suggested'"):
        project.export(tmp_path / "c.qdc", include_suggested=True)


def test_an_export_into_a_missing_folder_is_refused_first_in_python_and_on_the_cli(project, tmp_path, capsys):
    """A stranger's export into 'nofolder/' raised pandas' OSError; the CLI printed 'error:: Cannot save ...'."""
    for call in (lambda: project.export(tmp_path / "nofolder" / "s.xlsx"),
                 lambda: project.report(tmp_path / "nofolder" / "r.md", n_boot=10, figures=False)):
        with pytest.raises(qk.InvalidInput, match=r"no folder .*nofolder' to export into"):
            call()
    from qualkit.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["export", str(tmp_path / "nofolder" / "s.xlsx"), "--db", str(project.store.engine.url.database)])
    said = capsys.readouterr().err
    assert stop.value.code == 2 and said.startswith("error: no folder") and "Fix: create the folder" in said
    assert not (tmp_path / "nofolder").exists()
