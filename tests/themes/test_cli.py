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


def test_discover_names_each_step_as_it_starts(study, capsys):
    """A stranger's `qualkit themes discover` printed nothing for 77-135 s: now each step is named on stderr."""
    fast = ["--db", study, "--embedder", "lsa", "--reduction", "pca", "--engine", "sklearn"]
    with pytest.raises(SystemExit) as exit_info:
        main(["themes", "discover", *fast])
    assert exit_info.value.code == 0
    lines = capsys.readouterr().err.splitlines()
    assert "starting: loading the clustering tools" in lines[0]
    steps = [line.split("] ", 1)[1].split(":", 1)[0] for line in lines[1:]]
    assert steps == [f"step {n} of 6" for n in range(1, 7)] + ["done"]
    assert any("clustering" in line for line in lines)
    assert lines[-1].endswith("saved as run 1")
    with pytest.raises(SystemExit):
        main(["themes", "discover", *fast, "--no-progress"])
    assert capsys.readouterr().err == ""


def test_discover_themes_reports_its_steps_to_a_callback(study):
    seen = []
    project = qk.Project.open(study, user="ana")
    project.discover_themes(embedder="lsa", engine="sklearn", reduction="pca",
                            progress=lambda done, total, message: seen.append((done, total, message)))
    project.store.engine.dispose()
    assert [done for done, _, _ in seen] == [0, 0, 1, 2, 3, 4, 5, 6]
    assert {total for _, total, _ in seen[1:]} == {6}
    assert seen[-1][2] == "saved as run 1"
