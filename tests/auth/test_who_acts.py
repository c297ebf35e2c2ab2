"""Who acts when nobody registered is named: a local SQLite file's owner; on PostgreSQL nobody may write."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.access import Access
from qualkit.errors import PermissionDenied
from qualkit.users import add_user


@pytest.fixture(autouse=True)
def _no_env_user(monkeypatch):
    monkeypatch.delenv("QUALKIT_USER", raising=False)


def _team(url):
    project = qk.Project.create(url, "team", codebook=None, user="setup")
    add_user(project.store, "admin", "admin-password", "admin", rounds=4)
    add_user(project.store, "vic", "vic-password", "viewer", rounds=4)
    return project


def test_local_file_without_a_registered_user_acts_as_its_owner(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.qualkit.db'}"
    _team(url).store.engine.dispose()
    owner = qk.Project.open(url)
    assert owner.access.user().role.value == "admin" and not owner.access.user().registered
    owner.set_codebook("burnout")  # a write, as the file's owner
    vic = qk.Project.open(url, user="vic")  # a registered name keeps its role, even on a local file
    with pytest.raises(PermissionDenied, match="vic is a viewer"):
        vic.set_codebook("burnout")


def test_qualkit_user_names_the_actor(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'p.qualkit.db'}"
    _team(url).store.engine.dispose()
    monkeypatch.setenv("QUALKIT_USER", "vic")
    project = qk.Project.open(url)
    assert project.user == "vic"
    with pytest.raises(PermissionDenied):
        project.set_codebook("burnout")


@pytest.mark.postgres
def test_shared_database_needs_a_named_registered_user_to_write(postgres_url):
    _team(postgres_url).store.engine.dispose()
    nobody = qk.Project.open(postgres_url)
    assert nobody.codings().empty  # reading is fine
    with pytest.raises(PermissionDenied, match="read-only without a named user") as caught:
        nobody.set_codebook("burnout")
    assert "--user" in caught.value.render("cli") and "user=" in str(caught.value)
    stranger = qk.Project.open(postgres_url, user="mallory")
    with pytest.raises(PermissionDenied, match="not a user of this database"):
        stranger.set_codebook("burnout")
    admin = qk.Project.open(postgres_url, user="admin")
    assert admin.set_codebook("burnout") >= 1
    machine = qk.Project.open(postgres_url, user="auto")  # the app's background retraining
    machine.access.require("run_analyses")
    with pytest.raises(PermissionDenied, match="machine coder"):
        machine.set_codebook("burnout")


@pytest.mark.postgres
def test_a_new_shared_database_lets_its_first_named_user_set_it_up(postgres_url):
    project = qk.Project.create(postgres_url, "fresh", codebook="burnout", user="ana")
    assert project.access.user().role.value == "admin"
    unnamed = Access(project.store, None)  # QUALKIT_USER is cleared: nobody named
    assert unnamed.user().role.value == "viewer"
    with pytest.raises(PermissionDenied, match="read-only without a named user"):
        unnamed.require("code")
