"""The ``qualkit`` command line: help everywhere, init/info, one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from qualkit.cli import app

runner = CliRunner()


def _qualkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qualkit.cli", *args], capture_output=True, text=True, timeout=300)


def test_every_command_has_help():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    commands += [g.name for g in app.registered_groups]
    assert {"init", "info", "demo"} <= set(commands)
    for command in commands:
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, (command, sub.output)
        assert "Usage" in sub.output


def test_init_then_info(tmp_path):
    path = tmp_path / "study.qualkit.db"
    created = runner.invoke(app, ["init", str(path), "--codebook", "none", "--name", "pilot"])
    assert created.exit_code == 0, created.output
    assert path.exists()
    info = runner.invoke(app, ["info", str(path)])
    assert info.exit_code == 0
    assert "project 'pilot': 0 sources, 0 segments" in info.output


def test_init_says_which_codebook_the_new_project_has(tmp_path):
    """A stranger's `qualkit init` started their study on the clinician-burnout codebook without a word."""
    created = runner.invoke(app, ["init", str(tmp_path / "study.qualkit.db")])
    assert created.exit_code == 0, created.output
    assert "codebook: 'burnout' (24 codes); give the study your own with `qualkit codebook set FILE`" in created.output


def test_init_refuses_to_overwrite(tmp_path):
    path = tmp_path / "study.qualkit.db"
    assert _qualkit("init", str(path), "--codebook", "none").returncode == 0
    again = _qualkit("init", str(path), "--codebook", "none")
    assert again.returncode == 2
    assert "already holds the project 'study'" in again.stderr
    assert "Traceback" not in again.stderr
    named = _qualkit("init", str(path), "--codebook", "none", "--name", "study")
    assert named.returncode == 2 and "a project named 'study' already exists" in named.stderr


def test_init_or_create_without_a_name_does_not_add_a_second_study_to_a_file(tmp_path):
    """A re-run notebook cell added a project 'abuse' beside 'Frontline abuse 2025', and every command then asked
    which of the two was meant."""
    import qualkit as qk
    from qualkit.errors import StoreError

    path = tmp_path / "abuse.qualkit.db"
    assert runner.invoke(app, ["init", str(path), "--codebook", "none", "--name", "Frontline abuse 2025"]).exit_code == 0
    again = _qualkit("init", str(path), "--codebook", "none")
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "already holds the project 'Frontline abuse 2025'; nothing was created" in again.stderr
    with pytest.raises(StoreError, match=r"already holds the project 'Frontline abuse 2025'.*Project.open"):
        qk.Project.create(path, codebook=None)
    project = qk.Project.open(path)  # still the one study: no --project needed
    assert project.name == "Frontline abuse 2025"
    project.store.engine.dispose()
    second = qk.Project.create(path, "Pilot 2", codebook=None)  # named: a second study is meant
    assert second.name == "Pilot 2"
    second.store.engine.dispose()
    third = _qualkit("init", str(path), "--codebook", "none", "--name", "Oops")  # said, since it changes every command
    assert third.returncode == 0
    assert ("note: this database already held 'Frontline abuse 2025', 'Pilot 2'; 'Oops' is a further study beside "
            "it, so every command now needs --project NAME") in third.stderr


def test_a_failed_init_leaves_nothing_behind(tmp_path, monkeypatch):
    import qualkit as qk
    from qualkit.store.repository import Store

    path = tmp_path / "study.qualkit.db"
    bad = tmp_path / "codes.yaml"
    bad.write_text("name: mine\ncodes:\n  - id: a\n    name: A\n  - id: a\n    name: A again\n", encoding="utf-8")
    result = _qualkit("init", str(path), "--codebook", str(bad))
    assert result.returncode == 2 and "duplicate code id 'a'" in result.stderr
    assert not path.exists()  # no project without its codebook: the corrected command works at once
    assert runner.invoke(app, ["init", str(path), "--codebook", "burnout"]).exit_code == 0

    # A failure after the file was made (here: storing the codebook) removes the new file too.
    again = tmp_path / "again.qualkit.db"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Store, "save_codebook", broken)
    with pytest.raises(OSError, match="disk full"):
        qk.Project.create(again, codebook="burnout")
    assert not again.exists()


def test_missing_project_is_one_line_error(tmp_path):
    result = _qualkit("info", str(tmp_path / "nope.qualkit.db"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "qualkit init" in result.stderr


@pytest.mark.postgres
def test_init_on_postgres_url(postgres_url):
    result = runner.invoke(app, ["init", "--db", postgres_url, "--codebook", "none", "--name", "team"])
    assert result.exit_code == 0, result.output
    info = runner.invoke(app, ["info", "--db", postgres_url])
    assert "project 'team'" in info.output


@pytest.mark.parametrize("args", [["users", "add", "zoe", "--bogus"], ["no-such-command"],
                                  ["autocode", "--codebook", "burnout"]])
def test_usage_errors_show_usage_not_a_traceback(args):
    result = _qualkit(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Usage" in result.stderr or "--help" in result.stderr


def test_unreadable_path_is_one_line_error(tmp_path):
    result = _qualkit("info", str(tmp_path))  # a folder, not a project file
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_users_list_shows_no_nan_for_a_user_without_a_display_name(tmp_path):
    from qualkit.store.repository import Store
    from qualkit.users import add_user

    db = tmp_path / "u.qualkit.db"
    store = Store.create(db, name="u")
    add_user(store, "cole", "a long secret here", "coder", rounds=4)
    add_user(store, "cora", "a long secret here", "coder", display_name="Cora Diaz", rounds=4)
    store.engine.dispose()
    result = runner.invoke(app, ["users", "list", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "cole: coder" in result.output and "cora (Cora Diaz): coder" in result.output and "nan" not in result.output
