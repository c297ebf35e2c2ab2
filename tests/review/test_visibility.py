"""The one visibility rule of blind double-coding (TeamView.hidden_map) and the filters every surface uses.
"""

from __future__ import annotations

from qualkit.review import decisions, visibility
from qualkit.users import Role, User

ADMIN, ANA, BEN, VIC = User("admin", Role.ADMIN), User("ana"), User("ben"), User("vic", Role.VIEWER)


def test_the_rule_itself(blind):
    view = visibility.TeamView.load(blind.store)
    source = int(blind.peer.source_id)
    assert view.hidden_map("ana") == {source: {"ben"}} and view.hidden_map("admin") == {}
    assert not visibility.sees_everything("ana", view) and visibility.sees_everything("admin", view)
    history = decisions.coding_history(blind.store, int(blind.peer.id), viewer="ana")
    assert "ben" not in set(history["user"]) and "ana" in set(history["user"])
    assert "ben" in set(decisions.coding_history(blind.store, int(blind.peer.id), viewer="admin")["user"])
    events = visibility.visible_events(blind.store, blind.store.events_df(), "ana", view)
    assert not ((events["user"] == "ben") & events["entity"].isin(["coding", "memo"])).any()
    memos = visibility.visible_memos(blind.store, blind.store.memos_df(), "ana", view)
    assert memos.empty and len(visibility.visible_memos(blind.store, blind.store.memos_df(), "admin", view)) == 1


def test_counts_examples_and_hidden_coders_follow_the_rule(blind):
    store = blind.store
    view = visibility.TeamView.load(store)
    assert visibility.hidden_coders_anywhere("ana", view) == {"ben"} and visibility.hidden_coders_anywhere("vic", view) == set()
    assert view.blind_sources() == {int(blind.peer.source_id)} and view.coders(int(blind.peer.source_id)) == ["ana", "ben"]
    assert view.own_row_sources("ana") == {int(blind.peer.source_id)} and view.queue_hidden_sources("vic") == view.blind_sources()
    hidden_from_ana = visibility.code_counts(store, viewer="ana").set_index("code_id")
    for_admin = visibility.code_counts(store, viewer="admin").set_index("code_id")
    assert for_admin.at["peer_support", "accepted"] == 1 and hidden_from_ana.at["peer_support", "accepted"] == 0
    assert visibility.code_examples(store, "peer_support", viewer="admin") == [blind.peer.segment_text]
    assert visibility.code_examples(store, "peer_support", viewer="ana") == []
    visible = visibility.visible_codings(store.codings_df(source="group1.txt"), "ana", view)
    assert "ben" not in set(visible["coder"])


def test_everything_shows_once_both_coders_are_done(blind):
    from qualkit.review import double_coding

    double_coding.mark_done(blind.store, "group1.txt", actor=ANA)
    double_coding.mark_done(blind.store, "group1.txt", actor=BEN)
    view = visibility.TeamView.load(blind.store)
    assert view.hidden_map("ana") == {} and visibility.sees_everything("ana", view)
    assert view.is_complete(int(blind.peer.source_id)) and not view.in_blind_period(int(blind.peer.source_id))
    assert len(visibility.visible_memos(blind.store, blind.store.memos_df(), "ana", view)) == 1
