"""Users of a database and their log-ins: rows, changes (logged, never the password), failures, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qualkit.errors import StoreError
from qualkit.store.events import global_events_df
from qualkit.store.users import (
    count_users,
    end_session_event,
    insert_user,
    login_failures,
    record_login,
    session_is_open,
    start_session_event,
    update_user,
    user_guids,
    user_row,
    users_df,
)

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def test_users_are_added_listed_and_counted(store):
    assert count_users(store) == 0 and user_row(store, "ana") is None
    insert_user(store, name="ana", password_hash="h1", role="coder", actor="admin", display_name="Ana M.")
    insert_user(store.engine, name="ben", password_hash="h2", role="viewer", actor="admin", can_edit_codebook=True)
    row = user_row(store, "ana")
    assert (row["role"], row["display_name"], row["password_hash"], row["active"]) == ("coder", "Ana M.", "h1", True)
    assert count_users(store) == 2
    frame = users_df(store)
    assert frame["name"].tolist() == ["ana", "ben"] and "password_hash" not in frame.columns
    assert frame.set_index("name").at["ben", "can_edit_codebook"]
    assert set(user_guids(store)) == {"ana", "ben"} and len(set(user_guids(store).values())) == 2
    with pytest.raises(StoreError, match="already exists"):
        insert_user(store, name="ana", password_hash="h3", role="admin", actor="admin")


def test_changes_are_logged_without_the_password(store):
    insert_user(store, name="ana", password_hash="secret-hash", role="coder", actor="admin")
    update_user(store, "ana", actor="admin", role="viewer")
    update_user(store, "ana", actor="ana", password_hash="new-hash")
    assert (user_row(store, "ana")["role"], user_row(store, "ana")["password_hash"]) == ("viewer", "new-hash")
    events = global_events_df(store, entity="user")
    assert events["action"].tolist() == ["password", "update", "create"]
    assert events.iloc[0]["old"] == {"password_hash": "***"} and "secret-hash" not in str(events.to_dict())
    with pytest.raises(StoreError, match="cannot change"):
        update_user(store, "ana", actor="admin", colour="red")
    with pytest.raises(StoreError, match="no user named"):
        update_user(store, "zed", actor="admin", role="coder")


def test_a_removed_user_is_hidden_and_can_come_back(store):
    insert_user(store, name="ana", password_hash="h", role="coder", actor="admin")
    update_user(store, "ana", actor="admin", active=False)
    assert count_users(store) == 0 and count_users(store, active_only=False) == 1
    assert users_df(store).empty and users_df(store, include_removed=True)["name"].tolist() == ["ana"]
    insert_user(store, name="ana", password_hash="h2", role="admin", actor="admin")
    assert user_row(store, "ana")["role"] == "admin" and count_users(store) == 1
    assert global_events_df(store, entity="user")["action"].tolist()[:2] == ["restore", "remove"]


def test_failed_logins_count_until_a_good_one(store):
    for outcome in ("denied", "denied"):
        record_login(store, "ana", outcome=outcome)
    count, newest = login_failures(store, "ana", since=LONG_AGO)
    assert count == 2 and newest is not None
    assert login_failures(store, "ana", since=datetime.now(UTC) + timedelta(hours=1)) == (0, None)
    record_login(store, "ana", outcome="ok")
    record_login(store, "ana", outcome="locked")
    assert login_failures(store, "ana", since=LONG_AGO)[0] == 1  # only what came after the good log-in
    assert login_failures(store, "ben", since=LONG_AGO) == (0, None)


def test_remembered_sessions_open_and_end(store):
    first = start_session_event(store, "ana", expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    second = start_session_event(store.engine, "ana", expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert session_is_open(store, "ana", first) and session_is_open(store, "ana", second)
    assert not session_is_open(store, "ben", first)  # a session is its user's only
    end_session_event(store, "ana", first)
    assert not session_is_open(store, "ana", first) and session_is_open(store, "ana", second)
    assert not session_is_open(store, "ana", 999_999)
