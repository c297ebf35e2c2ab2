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


def test_a_registered_name_but_for_case_or_spaces_is_refused_not_a_new_owner(tmp_path):
    """'Ana ' coded as a separate coder with the owner's rights; it is refused, naming the registered user."""
    from qualkit.errors import InvalidInput

    store = Store.create(tmp_path / "team.qualkit.db", name="team")
    add_user(store, "ana", "a long secret here", rounds=4)
    for typo in ("Ana ", "ANA", " ana"):
        with pytest.raises(InvalidInput, match=f"{typo!r} is not a user of this study; 'ana' is"):
            Access(store, typo).user()
    assert Access(store, "ana").user().name == "ana"


def test_the_command_line_prints_a_warning_as_one_plain_line(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "team.qualkit.db"
    store = Store.create(db, name="team")
    add_user(store, "ana", "a long secret here", rounds=4)
    store.engine.dispose()
    done = subprocess.run([sys.executable, "-m", "qualkit", "export", str(tmp_path / "out.xlsx"), "--db", str(db),
                           "--user", "zed"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warning: 'zed' is not a registered user" in done.stderr
    assert "access.py" not in done.stderr and "UserWarning" not in done.stderr


def test_a_coder_removing_a_transcript_is_told_what_they_may_not_do(tmp_path):
    """'may not import' puzzled a coder who had asked to remove a transcript."""
    from qualkit.errors import PermissionDenied
    from qualkit.users import User

    with pytest.raises(PermissionDenied, match="ana is a coder and may not import or remove transcripts"):
        User("ana", Role.CODER).require("import")
