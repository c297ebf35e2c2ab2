"""Issue 16 finding 8: an error's hint names the syntax of the surface it is shown on."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.cli import main
from qualkit.errors import ProjectNotFound


@pytest.fixture
def two_projects(tmp_path):
    path = tmp_path / "two.qualkit.db"
    qk.Project.create(path, name="alpha", codebook=None, user="ana").store.engine.dispose()
    qk.Project.create(path, name="beta", codebook=None, user="ana").store.engine.dispose()
    return path


def test_python_hint_says_name(two_projects):
    with pytest.raises(ProjectNotFound) as caught:
        qk.Project.open(two_projects)
    assert "pass name= to choose one" in str(caught.value) and "--project" not in str(caught.value)


@pytest.mark.parametrize("command", [["info"], ["analyze", "prevalence"], ["export", "x.xlsx"],
                                     ["assign", "list"]])
def test_cli_hint_says_project(two_projects, command, capsys):
    with pytest.raises(SystemExit) as caught:
        main([*command, "--db", str(two_projects)])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert "the database holds 2 projects (alpha, beta)" in err
    assert "--project NAME" in err and "name=" not in err


def test_cli_report_hint_says_format(tmp_path, capsys):
    path = tmp_path / "p.qualkit.db"
    qk.Project.create(path, name="p", codebook=None, user="ana").store.engine.dispose()
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path / "r.txt"), "--db", str(path)])
    err = capsys.readouterr().err
    assert "--format md|html|docx" in err and "format='md'" not in err
    with pytest.raises(qk.errors.InvalidInput, match="format='md'"):
        qk.Project.open(path).report(tmp_path / "r.txt")
