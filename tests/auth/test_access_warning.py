"""A name a local study does not know acts as its owner, and says so once (a typo would pass the blind rules)."""

from __future__ import annotations

import warnings

import pytest

from qualkit.access import Access
from qualkit.store.repository import Store
from qualkit.users import Role, add_user


def test_an_unregistered_name_on_a_study_with_users_is_warned_about_once(tmp_path):
    store = Store.create(tmp_path / "blind.qualkit.db", name="blind")
    add_user(store, "tom", "a long secret here", rounds=4)
    with pytest.warns(UserWarning, match="'tmo' is not a registered user of this study, so it acts as the file's"):
        assert Access(store, "tmo").user().role is Role.ADMIN  # the documented rule stands: the file's owner
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Access(store, "tmo").user()  # once is enough
        Access(store, "tom").user()  # a registered name: no warning
        Access(Store.create("sqlite://", name="solo"), "anyone").user()  # a study with no users: no warning
