"""``qualkit themes ...``: discover, show, edit, figure; errors are one line with exit status 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import qualkit as qk
from qualkit.cli import app, main
from qualkit.themes.synthetic import planted_corpus

runner = CliRunner()


@pytest.fixture
def study(tmp_path):
    path = tmp_path / "study.qualkit.db"
    project = qk.Project.create(path, codebook=None, user="ana")
    project.store.add_sources(planted_corpus(100, kind="turn", seed=5).sources, user="ana")
    project.store.engine.dispose()
    return str(path)


def test_discover_show_edit_and_draw(study, tmp_path):
    fast = ["--db", study, "--embedder", "lsa", "--reduction", "pca", "--engine", "sklearn", "--user", "bo"]
    found = runner.invoke(app, ["themes", "discover", *fast])
    assert found.exit_code == 0, found.output
    assert "themes over" in found.output and "new? " in found.output
    shown = runner.invoke(app, ["themes", "show", "--db", study, "--theme", "0"])
    assert shown.exit_code == 0 and "words:" in shown.output and "by group:" in shown.output
    renamed = runner.invoke(app, ["themes", "rename", "0", "Night shifts", "--db", study, "--user", "bo"])
    assert renamed.exit_code == 0 and "Night shifts" in renamed.output
    figure = tmp_path / "words.svg"
    drawn = runner.invoke(app, ["themes", "figure", "words", str(figure), "--db", study])
    assert drawn.exit_code == 0 and figure.read_text(encoding="utf-8").startswith("<svg")
    runs = runner.invoke(app, ["themes", "runs", "--db", study])
    assert runs.exit_code == 0 and " bo " in runs.output


def test_errors_are_one_line_with_status_2(study, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["themes", "figure", "pie", "out.png", "--db", study])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().startswith("error: unknown figure 'pie'")


def test_discover_takes_prevalence_attributes_outlier_cap_and_window(study, capsys):
    fast = ["--db", study, "--embedder", "lsa", "--reduction", "pca", "--engine", "sklearn"]
    found = runner.invoke(app, ["themes", "discover", *fast, "--by", "session", "--by", "role",
                                "--max-outlier-share", "0.05", "--level", "window", "--window", "2"])
    assert found.exit_code == 0, found.output
    project = qk.Project.open(study)
    settings = project.themes().settings
    project.store.engine.dispose()
    assert settings["by"] == ["session", "role"] and settings["max_outlier_share"] == 0.05
    assert (settings["level"], settings["window"]) == ("window", 2)
    with pytest.raises(SystemExit) as exit_info:
        main(["themes", "discover", *fast, "--by", "shoe_size"])
    assert exit_info.value.code == 2 and "no attribute 'shoe_size'" in capsys.readouterr().err
