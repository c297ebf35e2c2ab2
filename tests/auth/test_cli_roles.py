"""Issue 16 findings 1 and 2 on the command line: every CLI command as a viewer (vic) and as a blind coder (ana),
acting through ``QUALKIT_USER`` (and ``--user``), against a table — on SQLite and PostgreSQL.

``OK`` means the one rule let the command through (it ran, or stopped on a data error of its own);
``DENIED`` means :class:`PermissionDenied` and nothing written. Commands that open no project (they read
and write files only) are listed apart; the table must name every command the CLI has.
"""

from __future__ import annotations

import io
import sys

import pytest

from qualkit.cli import app, main
from qualkit.errors import PermissionDenied, QualkitError

OK, DENIED = "ok", "denied"
# Commands that open no project: nothing of a project to protect.
NO_PROJECT = {"init", "demo", "deidentify", "autocode", "evaluate", "codebook list", "codebook check",
              "codebook convert",
              # the app's background service: it acts as the machine coder ``auto``, which may only store
              # suggestions (tests/auth/test_who_acts.py), never as the person running it
              "worker"}

# command -> (arguments after the command, viewer outcome, blind coder outcome); {db} {p} {tmp} filled in.
TABLE = {
    "info": (["--db", "{db}", "--project", "{p}"], OK, OK),
    "show": (["group1.txt", "--db", "{db}", "--project", "{p}"], OK, OK),
    "import": (["{tmp}/new.txt", "--db", "{db}", "--project", "{p}", "--no-progress"], DENIED, DENIED),
    "analyze": (["prevalence", "--db", "{db}", "--project", "{p}", "--by", "none"], OK, DENIED),
    "reliability": (["--coder", "ana", "--coder", "ben", "--db", "{db}", "--project", "{p}", "--n-boot", "0"],
                    OK, DENIED),
    "export": (["{tmp}/out.xlsx", "--db", "{db}", "--project", "{p}"], OK, DENIED),
    "report": (["{tmp}/out.md", "--db", "{db}", "--project", "{p}", "--no-figures", "--n-boot", "0"], OK, DENIED),
    "suggest": (["--db", "{db}", "--project", "{p}", "--source", "group2.txt"], DENIED, OK),
    "import-qdpx": (["{tmp}/missing.qdpx", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "remove-transcript": (["group2.txt", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "redact": (["group2.txt", "patients", "--yes", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "withdraw": (["Dee", "--reason", "consent withdrawn", "--yes", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "themes discover": (["--db", "{db}", "--project", "{p}"], DENIED, OK),
    "themes show": (["--db", "{db}", "--project", "{p}"], OK, OK),
    "themes runs": (["--db", "{db}", "--project", "{p}"], OK, OK),
    "themes promote": (["1", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "themes merge": (["1", "2", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "themes split": (["1", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "themes rename": (["1", "x", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "themes discard": (["1", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "themes figure": (["map", "{tmp}/map.html", "--db", "{db}", "--project", "{p}"], OK, OK),
    "users add": (["eve", "--role", "admin", "--password-stdin", "--db", "{db}"], DENIED, DENIED),
    "users remove": (["ben", "--db", "{db}"], DENIED, DENIED),
    "users role": (["{who}", "admin", "--db", "{db}"], DENIED, DENIED),
    "users passwd": (["ben", "--password-stdin", "--db", "{db}"], DENIED, DENIED),
    "users list": (["--db", "{db}"], OK, OK),
    "assign add": (["group2.txt", "ana", "ben", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "assign remove": (["group1.txt", "ben", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "assign done": (["group1.txt", "--anyway", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "assign list": (["--db", "{db}", "--project", "{p}"], OK, OK),
    "review queue": (["--db", "{db}", "--project", "{p}"], OK, OK),
    "review accept": (["999999@1", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "review reject": (["999999@1", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    "review change": (["999999@1", "workload", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    # ana's newest decision is on the transcript she marked done: taking it back is refused, as in the app
    "review undo": (["--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    # after "review undo": ana's hand code is then her newest decision (on group2.txt, not assigned)
    "review code": (["group2.txt", "3", "individual_coping", "--db", "{db}", "--project", "{p}"], DENIED, OK),
    # a coder the administrator did not allow to edit the codebook may not, whatever the file holds
    "codebook set": (["burnout", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "memo add": (["a thought", "--transcript", "group2.txt", "--turn", "1", "--db", "{db}", "--project", "{p}"],
                 DENIED, OK),
    "memo list": (["--db", "{db}", "--project", "{p}"], OK, OK),
    # ben is not done with group1.txt: ana may not compare or settle it yet (she will, as its coder, once he is)
    "assign disagreements": (["group1.txt", "--db", "{db}", "--project", "{p}"], DENIED, DENIED),
    "assign settle": (["group1.txt", "4", "peer_support", "--applies", "--db", "{db}", "--project", "{p}"],
                      DENIED, DENIED),
    "assign unsettle": (["999999@1", "--db", "{db}", "--project", "{p}"], DENIED, OK),
}


def _commands(group, prefix: str = "") -> set[str]:
    names = set()
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            names |= _commands(command, f"{prefix}{name} ")
        else:
            names.add(f"{prefix}{name}")
    return names


def test_the_table_names_every_cli_command():
    import typer.main

    assert _commands(typer.main.get_command(app)) == set(TABLE) | NO_PROJECT


def _invoke(argv: list[str], monkeypatch) -> tuple[str, object]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long new password\n"))
    try:
        app(args=argv, prog_name="qualkit", standalone_mode=False)
    except PermissionDenied as error:
        return DENIED, error
    except QualkitError as error:  # let through by the rule, stopped by the data (e.g. no theme run yet)
        return OK, error
    return OK, None


@pytest.mark.parametrize("who", ["vic", "ana"])
def test_every_cli_command_as_viewer_and_blind_coder(blind_study, stub_models, tmp_path, monkeypatch, who):
    (tmp_path / "new.txt").write_text("Ann: a new transcript.\nBob: yes.\n", encoding="utf-8")
    monkeypatch.setenv("QUALKIT_USER", who)
    fill = {"{db}": blind_study.url, "{p}": blind_study.project.name, "{tmp}": str(tmp_path), "{who}": who}
    wrong = []
    for command, (arguments, viewer, blind) in TABLE.items():
        argv = command.split() + [_fill(a, fill) for a in arguments]
        expected = viewer if who == "vic" else blind
        before = len(blind_study.store.events_df()), len(_users(blind_study))
        outcome, error = _invoke(argv, monkeypatch)
        if outcome != expected:
            wrong.append(f"{command}: expected {expected}, got {outcome} ({error})")
        elif expected == DENIED and (len(blind_study.store.events_df()), len(_users(blind_study))) != before:
            wrong.append(f"{command}: refused but wrote something")
    assert not wrong, wrong


def _fill(argument: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        argument = argument.replace(key, value)
    return argument


def _users(study):
    from qualkit.users import list_users

    return list_users(study.store)


def test_nobody_raises_their_own_role(blind_study, monkeypatch, capsys):
    """The attack of finding 1: vic (a viewer) makes vic an admin, or adds an admin, naming himself."""
    monkeypatch.delenv("QUALKIT_USER", raising=False)
    db = blind_study.url
    for argv in (["users", "role", "vic", "admin", "--user", "vic", "--db", db],
                 ["users", "add", "eve", "--role", "admin", "--password-stdin", "--user", "vic", "--db", db],
                 ["users", "role", "ana", "coder", "--codebook", "--user", "ana", "--db", db]):
        monkeypatch.setattr(sys, "stdin", io.StringIO("a long new password\n"))
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2, argv
        assert "may not" in capsys.readouterr().err
    from qualkit.users import get_user

    assert get_user(blind_study.store, "vic").role.value == "viewer"
    assert get_user(blind_study.store, "eve") is None
    assert not get_user(blind_study.store, "ana").codebook_editor
    # an administrator may
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long new password\n"))
    with pytest.raises(SystemExit) as caught:
        main(["users", "add", "eve", "--role", "coder", "--password-stdin", "--user", "admin", "--db", db])
    assert caught.value.code == 0 and get_user(blind_study.store, "eve").role.value == "coder"


def test_a_coder_may_change_their_own_password(blind_study, monkeypatch):
    monkeypatch.setenv("QUALKIT_USER", "ana")
    outcome, error = _invoke(["users", "passwd", "ana", "--password-stdin", "--db", blind_study.url], monkeypatch)
    from qualkit.users import check_password

    assert outcome == OK and error is None
    assert check_password(blind_study.store, "ana", "a long new password")


def test_blind_coder_cli_reads_hide_the_other_coder(blind_study, monkeypatch, capsys):
    """``qualkit info`` as ana counts no decision of ben's on the blind transcript; as admin it does."""
    monkeypatch.setenv("QUALKIT_USER", "ana")
    with pytest.raises(SystemExit):
        main(["info", "--db", blind_study.url])
    as_ana = capsys.readouterr().out
    monkeypatch.setenv("QUALKIT_USER", "admin")
    with pytest.raises(SystemExit):
        main(["info", "--db", blind_study.url])
    as_admin = capsys.readouterr().out
    assert as_ana != as_admin and "accepted: 1 coding" in as_admin and "accepted" not in as_ana
    monkeypatch.delenv("QUALKIT_USER")
    with pytest.raises(SystemExit):
        main(["info", "--db", blind_study.url, "--user", "ana"])
    assert capsys.readouterr().out == as_ana
