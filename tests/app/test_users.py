"""Users, roles and passwords (qualkit.users), and the `qualkit users` / `qualkit assign` commands."""

from __future__ import annotations

import pytest

from qualkit.errors import InvalidInput, PermissionDenied
from qualkit.store.events import global_events_df
from qualkit.users import (
    Role,
    User,
    actor,
    add_user,
    authenticate,
    create_demo_users,
    demo_logins,
    get_user,
    hash_password,
    list_users,
    remove_user,
    set_password,
    set_role,
    verify_password,
)


def test_hashes_are_salted_and_verify(sqlite_store):
    first, second = hash_password("same password", rounds=4), hash_password("same password", rounds=4)
    assert first != second  # a fresh salt each time
    assert verify_password("same password", first) and verify_password("same password", second)
    assert not verify_password("other password", first)
    assert not verify_password("same password", None) and not verify_password("same password", "not-a-hash")
    with pytest.raises(InvalidInput, match="shorter"):
        hash_password("short")
    with pytest.raises(InvalidInput, match="72 bytes"):
        hash_password("é" * 40)


def test_role_permissions():
    admin, coder, viewer = Role.ADMIN, Role.CODER, Role.VIEWER
    assert [r.can_code() for r in (admin, coder, viewer)] == [True, True, False]
    assert [r.can_edit_codebook() for r in (admin, coder, viewer)] == [True, False, False]
    assert coder.can_edit_codebook(allowed=True) and not viewer.can_edit_codebook(allowed=True)
    assert [r.can_assign() for r in (admin, coder, viewer)] == [True, False, False]
    assert [r.can_manage_users() for r in (admin, coder, viewer)] == [True, False, False]
    assert all(r.can_view() and r.can_export() for r in Role)
    assert User("c", coder, codebook_editor=True).can_edit_codebook()
    with pytest.raises(PermissionDenied, match="viewer and may not code"):
        User("v", viewer).require("code")
    with pytest.raises(PermissionDenied, match="edit codebook"):
        User("c", coder).require("edit_codebook")


def test_team_management_is_logged_without_secrets(sqlite_store):
    store = sqlite_store
    add_user(store, "root", "root-password", "admin", actor="setup", rounds=4)
    add_user(store, "ana", "ana-password", "coder", actor="root", rounds=4)
    assert list_users(store)["name"].tolist() == ["ana", "root"]
    assert "password_hash" not in list_users(store).columns
    with pytest.raises(Exception, match="already exists"):
        add_user(store, "ana", "ana-password", rounds=4)
    assert set_role(store, "ana", "coder", can_edit_codebook=True, actor="root").can_edit_codebook()
    set_password(store, "ana", "new-password", actor="ana", rounds=4)
    assert authenticate(store, "ana", "new-password").name == "ana"
    with pytest.raises(PermissionDenied, match="wrong password"):
        authenticate(store, "ana", "ana-password")
    with pytest.raises(PermissionDenied, match="wrong password"):
        authenticate(store, "nobody", "whatever-password")
    with pytest.raises(InvalidInput, match="last administrator"):
        set_role(store, "root", "coder")
    with pytest.raises(InvalidInput, match="last administrator"):
        remove_user(store, "root")
    remove_user(store, "ana", actor="root")
    assert get_user(store, "ana") is None
    with pytest.raises(PermissionDenied):
        authenticate(store, "ana", "new-password")
    assert actor(store, "ana").role is Role.VIEWER  # removed: no rights
    assert actor(store, "notebook").role is Role.ADMIN  # unregistered: whoever has the database
    events = global_events_df(store)
    assert {"create", "update", "password", "remove", "login"} <= set(events["action"])
    assert set(events.loc[events["action"] == "login", "outcome"]) == {"ok", "denied"}
    assert "new-password" not in events.to_string() and "$2b$" not in events.to_string()
    add_user(store, "ana", "back-password", "viewer", actor="root", rounds=4)  # comes back
    assert get_user(store, "ana").role is Role.VIEWER


@pytest.mark.parametrize("name", ["", "two words", "consensus"])
def test_bad_names_are_refused(sqlite_store, name):
    with pytest.raises(InvalidInput):
        add_user(sqlite_store, name, "long-password", rounds=4)


def test_demo_users_are_shown_only_when_marked(sqlite_store):
    add_user(sqlite_store, "admin", "demo-admin-pass", "admin", rounds=4)
    assert demo_logins(sqlite_store) == []
    create_demo_users(sqlite_store, rounds=4)
    shown = demo_logins(sqlite_store)
    assert [name for name, _, _ in shown] == ["admin", "ana", "ben"]
    for name, password, _ in shown:
        assert authenticate(sqlite_store, name, password).name == name


def test_cli_users_and_assign(study, capsys, monkeypatch):
    import io

    from qualkit.cli import main

    db = study.url

    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            main(list(argv))
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    assert run("users", "add", "zoe", "--role", "coder", "--password-stdin", "--db", db, stdin="zoe-password\n") == 0
    assert run("users", "role", "zoe", "coder", "--codebook", "--db", db) == 0
    assert run("users", "list", "--db", db) == 0
    out = capsys.readouterr().out
    assert "zoe: coder +codebook" in out
    assert run("users", "add", "bad", "--role", "boss", "--password-stdin", "--db", db, stdin="long-enough\n") == 2
    assert "unknown role" in capsys.readouterr().err
    assert run("assign", "add", "group1.txt", "ana", "ben", "--db", db, "--user", "admin") == 0
    assert run("assign", "list", "--db", db) == 0
    assert "group1.txt: ana blind open" in capsys.readouterr().out
    # her queue holds suggestions there: each would count as her "no" in kappa (a stranger's fell to 0)
    assert run("assign", "done", "group1.txt", "--db", db, "--user", "ana") == 2
    assert "you have not judged 5 suggestions on group1.txt yet" in capsys.readouterr().err
    assert run("assign", "done", "group1.txt", "--anyway", "--db", db, "--user", "ana") == 0
    assert run("assign", "add", "group1.txt", "vic", "--db", db, "--user", "admin") == 2  # a viewer cannot code
    assert run("users", "remove", "zoe", "--db", db) == 0
    assert run("users", "remove", "zoe", "--db", db) == 2


def test_repeated_failed_logins_lock_the_name(sqlite_store):
    from qualkit.users import MAX_FAILED_LOGINS, lockout_remaining

    add_user(sqlite_store, "ana", "the right password", rounds=4)
    for attempt in range(MAX_FAILED_LOGINS):
        with pytest.raises(PermissionDenied) as caught:
            authenticate(sqlite_store, "ana", f"wrong guess {attempt}")
        assert "too many" not in str(caught.value)
    # The attempt that locks the name says so (a team saw only "wrong password" and learnt of it next time).
    assert f"that was the {MAX_FAILED_LOGINS}th failed attempt: this name is locked for 15 minutes" in str(caught.value)
    with pytest.raises(PermissionDenied, match="too many failed log-ins for 'ana'; try again in 15 minutes") as caught:
        authenticate(sqlite_store, "ana", "the right password")  # locked: even the right password waits
    assert "Fix: wait, or ask an administrator to reset your password (`qualkit users passwd ana`)" in str(caught.value)
    assert lockout_remaining(sqlite_store, "ana") > 14 * 60
    set_password(sqlite_store, "ana", "a fresh password", actor="admin", rounds=4)  # a reset lifts the lock
    assert authenticate(sqlite_store, "ana", "a fresh password").name == "ana"
    outcomes = global_events_df(sqlite_store, entity="user")
    outcomes = outcomes[outcomes["action"] == "login"]["outcome"].tolist()
    assert outcomes[:2] == ["ok", "locked"] and outcomes.count("denied") == MAX_FAILED_LOGINS


def test_remembered_sessions_end_with_logout_password_change_and_time(sqlite_store):
    from qualkit.users import end_session, resume_session, start_session

    ana = add_user(sqlite_store, "ana", "the right password", rounds=4)
    token = start_session(sqlite_store, ana, "secret one")
    assert resume_session(sqlite_store, token, "secret one").name == "ana"
    assert resume_session(sqlite_store, token, "another server's secret") is None  # signature checked
    # A whole signature character is changed: the last one carries unused bits, so "xx" at the end
    # once decoded to the same signature and the tampered token was (rightly) accepted.
    swapped = "A" if token[-5] != "A" else "B"
    assert resume_session(sqlite_store, token[:-5] + swapped + token[-4:], "secret one") is None  # tampered
    end_session(sqlite_store, token, "secret one")
    assert resume_session(sqlite_store, token, "secret one") is None  # logged out on the server, copies too
    second = start_session(sqlite_store, ana, "secret one")
    set_password(sqlite_store, "ana", "a new password", rounds=4)
    assert resume_session(sqlite_store, second, "secret one") is None  # a new password ends every session
    short = start_session(sqlite_store, ana, "secret one", hours=-1)
    assert resume_session(sqlite_store, short, "secret one") is None  # expired
    third = start_session(sqlite_store, ana, "secret one")
    add_user(sqlite_store, "admin", "admin password", "admin", rounds=4)
    remove_user(sqlite_store, "ana")
    assert resume_session(sqlite_store, third, "secret one") is None  # removed


def test_demo_passwords_are_shown_only_while_they_work(sqlite_store):
    create_demo_users(sqlite_store, rounds=4)
    assert [n for n, _, _ in demo_logins(sqlite_store)] == ["admin", "ana", "ben"]
    set_password(sqlite_store, "ana", "ana's own password", rounds=4)
    assert [n for n, _, _ in demo_logins(sqlite_store)] == ["admin", "ben"]


def test_login_page_locks_out_and_says_when(study, apptest, helpers):
    from qualkit.users import MAX_FAILED_LOGINS

    at = apptest()
    for attempt in range(MAX_FAILED_LOGINS):
        at.text_input(key="login_name").input("ana")
        at.text_input(key="login_password").input(f"guess number {attempt}")
        at.button[0].click().run()
    at.text_input(key="login_password").input(helpers.PASSWORDS["ana"])
    at.button[0].click().run()
    helpers.assert_ok(at)
    assert "too many failed log-ins" in helpers.texts(at) and "qk_user" not in at.session_state


def test_a_mistyped_study_path_is_named_and_no_empty_file_is_left(tmp_path, monkeypatch, apptest, helpers):
    missing = tmp_path / "studdy.qualkit.db"  # a typo for the study the researcher meant
    monkeypatch.setenv("QUALKIT_DATABASE_URL", str(missing))
    at = apptest()
    helpers.assert_ok(at)
    [error] = [e.value for e in at.error]
    assert f"no qualkit project file at {missing}" in error and "check the path in QUALKIT_DATABASE_URL" in error
    assert not missing.exists()  # connecting would have created an empty database file
    assert not at.text_input  # no log-in form on a study that is not there
