"""Projects in one database: settings (logged), description and creation time, demo accounts across projects."""

from __future__ import annotations

from qualkit.store.projects import demo_user_names
from qualkit.store.repository import Store


def test_settings_merge_and_log_old_and_new(store):
    assert store.settings == {}
    assert store.update_settings(user="ana", codebook="mini", colour="blue") == {"codebook": "mini", "colour": "blue"}
    assert store.update_settings(user="ben", colour="red")["codebook"] == "mini"
    event = store.events_df("project").iloc[0]
    assert (event["user"], event["old"], event["new"]) == ("ben", {"colour": "blue"}, {"colour": "red"})


def test_description_and_creation_time(db_url):
    store = Store.create(db_url, name="described", description="Burnout focus groups")
    try:
        assert store.description == "Burnout focus groups"
        assert store.created_at is not None
        assert Store.open(store.engine, "described").description == "Burnout focus groups"
        assert Store.list_projects(store.engine) == ["described"]
    finally:
        store.engine.dispose()


def test_demo_accounts_are_named_by_any_project(store):
    other = Store.create(store.engine, name="second")
    store.update_settings(user="setup", demo_users=["admin", "ana"])
    other.update_settings(user="setup", demo_users=["ana", "ben"])
    assert demo_user_names(store) == ["admin", "ana", "ben"]
    assert demo_user_names(store.engine) == ["admin", "ana", "ben"]
