"""No silent lost updates in the app: two editors of the participants table (the library's checks are in tests/review)."""

from __future__ import annotations

from qualkit.model import Participant


def test_participants_editor_tells_the_second_editor(quiet_study, apptest, helpers):
    store = quiet_study.store
    store.upsert_participants([Participant("P1", pseudonym="Ana", attributes={"role": "resident"})], user="setup")
    first, second = apptest("admin", "study"), apptest("admin", "study")
    for at, role in ((first, "attending"), (second, "staff")):
        at.session_state["participants_editor"] = {"edited_rows": {0: {"role": role}}, "added_rows": [],
                                                   "deleted_rows": []}
    first.run()
    first.button(key="participants_save").click().run()
    helpers.assert_ok(first)
    assert store.participants_df()["role"].tolist() == ["attending"]
    second.run()
    second.button(key="participants_save").click().run()
    helpers.assert_ok(second)
    assert store.participants_df()["role"].tolist() == ["attending"]  # the first change is not lost
    warning = " ".join(str(w.value) for w in second.warning)
    assert "Not saved" in warning and "attending" in warning
