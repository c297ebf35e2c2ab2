"""The review queue is safe under change: new rankings never swap cards, keys decide the card on screen, undo.

The test plays the worker process itself (a heartbeat row says a worker is alive, so the app starts
none; rankings are stored with ``jobs.save_ranking`` exactly when the test wants), so every ranking
change between two reruns is deterministic.
"""

from __future__ import annotations

import re

import pytest

from qualkit.store import jobs


@pytest.fixture
def queue_study(study):
    """The mini study with a stand-in worker: the app queues jobs, the test decides when rankings change."""
    jobs.touch_worker(study.store, "test-worker:1", 1)
    yield study
    while (job := jobs.claim_job(study.store, "test-worker:1")) is not None:  # drain what the app queued
        jobs.finish_job(study.store, job.id, "test-worker:1", result={})


NEW_ORDER = "would show other cards here"


def cards(at) -> list[int]:
    """Card ids on the page, in order (the decision buttons of cards that can still be decided)."""
    return [int(b.key.split("_")[1]) for b in at.button if b.key.startswith("acc_")]


def keyed(at, key: str) -> str:
    """The key of the button that has keyboard shortcut ``key`` (what pressing it would click)."""
    [button] = [b for b in at.button if b.proto.shortcut.lower() == key.lower()]
    return button.key


def messages(at) -> list[str]:
    return [str(e.value) for kind in ("success", "warning", "error") for e in getattr(at, kind)] + [
        str(e.value) for e in at.info if NEW_ORDER not in str(e.value)]


def count(at) -> int:
    return int(re.search(r"(\d+) suggestions? to review", "\n".join(str(c.value) for c in at.caption)).group(1))


def test_new_rankings_never_swap_cards_and_keys_decide_the_card_on_screen(queue_study, apptest, helpers):
    store = queue_study.store
    pending = sorted(int(i) for i in store.codings_df(status="suggested")["id"])
    jobs.save_ranking(store, {i: 1.0 - n / 10 for n, i in enumerate(pending)})  # ascending ids first
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    shown = cards(at)
    assert shown == pending and keyed(at, "A") == f"acc_{shown[0]}" and count(at) == 8

    # The worker re-ranks (reverse order) between two reruns: the cards stay, the new order is offered.
    jobs.touch_worker(store, "test-worker:1", 1)
    jobs.save_ranking(store, {i: 1.0 - n / 10 for n, i in enumerate(reversed(pending))})
    at.run()
    assert cards(at) == shown and NEW_ORDER in helpers.texts(at)

    # "A" clicks the accept button of the card on screen, with that card's id and version.
    at.button(key=keyed(at, "A")).click().run()
    helpers.assert_ok(at)
    assert store.coding(shown[0]).status == "accepted" and store.coding(shown[0]).version == 2
    assert len(messages(at)) == 1 and "Accepted" in messages(at)[0]  # one message per action
    assert cards(at) == shown[1:] and keyed(at, "X") == f"rej_{shown[1]}" and count(at) == 7

    # Ben decides ana's next card meanwhile: her stale click is refused and decides nothing else.
    store.decide(shown[1], "accept", user="ben")
    stale = at.button(key=f"rej_{shown[1]}")
    stale.click().run()
    helpers.assert_ok(at)
    assert (store.coding(shown[1]).status, store.coding(shown[1]).decided_by) == ("accepted", "ben")
    assert len(messages(at)) == 1 and messages(at)[0].startswith("Your reject was not applied: ben accepted ")
    decided_by_ana = store.codings_df(status=["accepted", "rejected"])
    assert set(decided_by_ana.loc[decided_by_ana["decided_by"] == "ana", "id"]) == {shown[0]}
    assert "Decided meanwhile by ben" in helpers.texts(at)
    assert shown[1] not in cards(at) and keyed(at, "A") == "q_hold_a"  # the ▶ moved past it by itself: held
    at.button(key=keyed(at, "A")).click().run()
    assert store.coding(shown[2]).status == "suggested" and keyed(at, "A") == f"acc_{shown[2]}"
    assert count(at) == 7  # only ana's own decisions moved her count before she refreshes

    # The reviewer asks for the new order.
    at.button(key="q_refresh").click().run()
    helpers.assert_ok(at)
    still = [i for i in reversed(pending) if store.coding(i).status == "suggested"]
    assert cards(at) == still and count(at) == len(still) == 6


def test_a_new_ranking_that_keeps_the_cards_on_screen_is_taken_in_without_a_word(queue_study, apptest, helpers):
    """A stranger saw "N suggestions re-ranked — refresh" after every decision, though the cards stayed the same."""
    store = queue_study.store
    pending = sorted(int(i) for i in store.codings_df(status="suggested")["id"])
    jobs.save_ranking(store, {i: 1.0 - n / 10 for n, i in enumerate(pending)})
    at = apptest("ana", "queue")
    at.button(key=keyed(at, "A")).click().run()  # a decision; the retrained coder keeps the order of the rest
    jobs.touch_worker(store, "test-worker:1", 1)
    jobs.save_ranking(store, {i: 1.0 - n / 10 for n, i in enumerate(pending[1:])})
    at.run()
    helpers.assert_ok(at)
    assert cards(at) == pending[1:] and NEW_ORDER not in helpers.texts(at)
    assert "q_refresh" not in [b.key for b in at.button]
    jobs.save_ranking(store, {i: 1.0 - n / 10 for n, i in enumerate([pending[2], pending[1], *pending[3:]])})
    at.run()
    assert cards(at) == pending[1:] and NEW_ORDER in helpers.texts(at)  # two cards swap places: offered


def test_pressing_accept_twice_is_not_a_conflict_with_yourself(queue_study, apptest, helpers):
    """Seen by a team: A pressed twice quickly saved the accept, then said 'Not saved: ... changed by ana'."""
    store = queue_study.store
    at = apptest("ana", "queue")
    first = cards(at)[0]
    store.decide(first, "accept", user="ana")  # the first press, landed before the page redrew
    at.button(key=f"acc_{first}").click().run()  # the second press, on the card as it was drawn
    helpers.assert_ok(at)
    assert [m for m in messages(at) if "Not saved" in m] == []
    assert any(m.startswith("Already accepted") for m in messages(at)) and first not in cards(at)
    assert (store.coding(first).status, store.coding(first).version) == ("accepted", 2)  # decided once


def test_a_span_moved_by_a_retrain_keeps_the_card_decidable_as_it_is_now(queue_study, apptest, helpers):
    """A retrain that moves a suggestion's span (version + 1) between reruns: the card shows the new span
    and its buttons carry the new version; it is not reported as decided by someone."""
    from qualkit.model import Coding

    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    first = store.coding(shown[0])
    segment = store.segments_df().set_index("id").loc[first.segment_id]
    new_end = int(segment["start"]) + max(1, (int(first.end) - int(segment["start"])) // 2)
    moved = Coding(first.segment_id, first.code_id, first.origin, score=0.9, start=int(first.start), end=new_end,
                   coder=first.coder)
    store.replace_suggestions([moved], segment_ids=[first.segment_id])
    assert store.coding(shown[0]).version == first.version + 1
    at.run()
    helpers.assert_ok(at)
    assert cards(at) == shown and keyed(at, "A") == f"acc_{shown[0]}"
    assert "moved this suggestion's span meanwhile" in helpers.texts(at)
    assert "Decided meanwhile" not in helpers.texts(at)
    at.button(key=keyed(at, "A")).click().run()
    helpers.assert_ok(at)
    now = store.coding(shown[0])
    assert (now.status, now.decided_by, now.end) == ("accepted", "ana", new_end)
    assert len(messages(at)) == 1 and "Accepted" in messages(at)[0]


def test_undo_takes_back_decisions_newest_first_and_brings_the_card_back(queue_study, apptest, helpers):
    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    at.button(key=keyed(at, "A")).click().run()
    at.button(key=keyed(at, "X")).click().run()
    assert [store.coding(i).status for i in shown[:2]] == ["accepted", "rejected"]
    assert at.button(key="q_undo").proto.shortcut.lower() == "u"
    at.button(key="q_undo").click().run()  # U (or Ctrl+Z): the newest decision first
    helpers.assert_ok(at)
    assert [store.coding(i).status for i in shown[:2]] == ["accepted", "suggested"]
    assert cards(at)[0] == shown[1] and keyed(at, "A") == f"acc_{shown[1]}"  # the card is back, on top
    assert len(messages(at)) == 1 and messages(at)[0].startswith("Undone: Rejected")
    at.button(key="q_undo").click().run()
    assert store.coding(shown[0]).status == "suggested" and cards(at)[:2] == [shown[0], shown[1]]
    assert count(at) == 8
    events = store.events_df("coding")
    assert (events["action"] == "revert").sum() == 2 and set(events.loc[events["action"] == "revert", "user"]) == {"ana"}
    assert "q_undo" not in [b.key for b in at.button]  # nothing left to undo in this tab


def test_a_viewer_gets_no_undo_and_no_decisions(queue_study, apptest):
    at = apptest("vic", "queue")
    assert not cards(at) and "q_undo" not in [b.key for b in at.button]
    assert not [b for b in at.button if b.proto.shortcut]


def test_transcript_reverts_a_rejected_coding_from_its_chip(queue_study, apptest, helpers):
    from qualkit.app.components.apptest import component_data, send_action

    store = queue_study.store
    s = queue_study.suggestion("group1.txt", 1, "administrative_burden")
    rejected = store.decide(int(s.id), "reject", user="ana")
    at = apptest("ana", "transcript")
    at.multiselect(key="tx_status").select("rejected").run()
    chip = next(h for h in component_data(at, "tx_text")["highlights"] if h["id"] == int(s.id))
    assert chip["status"] == "rejected" and chip["actions"] == ["accept", "revert"]  # the ✗ chip has actions
    send_action(at, "tx_text", {"kind": "revert", "highlight": int(s.id), "version": rejected.version})
    helpers.assert_ok(at)
    assert store.coding(int(s.id)).status == "suggested" and "Reverted" in helpers.texts(at)
    assert store.events_df("coding", int(s.id))["action"].tolist()[:2] == ["revert", "reject"]


def test_u_in_a_new_tab_offers_the_users_last_decision_by_name(queue_study, apptest, helpers):
    """Found by a stranger: after a reload or a server restart, U did nothing and said nothing."""
    from qualkit.review import decisions
    from qualkit.users import User

    s = queue_study.suggestion("group1.txt", 1, "administrative_burden")
    decisions.decide(queue_study.store, int(s.id), "accept", actor=User("ana"))  # in an earlier tab
    at = apptest("ana", "queue")
    undo = at.button(key="q_undo")
    assert undo.label.startswith("Undo your last decision: accepted ") and "group1.txt" in undo.label
    assert keyed(at, "u") == "q_undo"
    undo.click().run()
    helpers.assert_ok(at)
    assert queue_study.store.coding(int(s.id)).status == "suggested"
    assert any(m.startswith("Undone: accepted ") and m.endswith("The card is back on top.") for m in messages(at))


def test_u_in_a_new_tab_on_a_hand_code_names_it_and_withdraws_it(queue_study, apptest, helpers):
    """A stranger's U in a fresh tab said "Undone: accepted Leaving intentions ... The card is back on top." of a
    passage coded by hand, which came back as a card to accept."""
    from qualkit.review import decisions
    from qualkit.users import User

    store = queue_study.store
    seg = store.segments_df(source="group2.txt")
    seg = seg[seg["speaker_role"] == "participant"].iloc[0]
    hand = decisions.add_code(store, int(seg["id"]), "workload", actor=User("ana"))
    at = apptest("ana", "queue")
    undo = at.button(key="q_undo")
    assert undo.label.startswith("Undo your last decision: coded by hand: ")
    undo.click().run()
    helpers.assert_ok(at)
    assert store.coding(int(hand.id)).status == "rejected" and int(hand.id) not in cards(at)
    said = [m for m in messages(at) if m.startswith("Undone: coded by hand: ")]
    assert said and not said[0].endswith("The card is back on top.")


def test_a_card_decided_meanwhile_offers_the_refresh_its_message_asks_for(queue_study, apptest, helpers):
    """"Decided meanwhile by ben; refresh the queue to drop it" — and no button to refresh with (a stranger)."""
    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    store.decide(shown[0], "accept", user="ben")
    at.run()
    assert "Decided meanwhile by ben" in " ".join(str(c.value) for c in at.caption)
    at.button(key=f"q_refresh_{shown[0]}").click().run()
    helpers.assert_ok(at)
    assert cards(at) == shown[1:] and not [b for b in at.button if b.key.startswith("q_refresh_")]


def test_a_bulk_accept_says_which_it_left_and_why(quiet_study, apptest, helpers):
    """A stranger's "Accept these 77" accepted 76, rightly leaving one the other coder had just rejected, without a word."""
    from qualkit.review import decisions
    from qualkit.users import User

    at = apptest("ana", "queue")
    at.toggle(key="bulk_on").set_value(True).run()
    at.slider(key="bulk_min").set_value(0.5).run()
    shown = at.dataframe[-1].value
    assert len(shown) >= 2
    pending = quiet_study.store.codings_df(status="suggested").set_index("id")
    taken = next(int(i) for i in pending.index if pending.at[i, "score"] >= 0.5)
    decisions.decide(quiet_study.store, taken, "reject", actor=User("ben"))  # meanwhile, in another tab
    at.button(key="bulk_go").click().run()
    helpers.assert_ok(at)
    said = " ".join(w.value for w in at.warning)
    assert "1 left as they are: someone decided them meanwhile" in said and "accepted" in said
    assert quiet_study.store.coding(taken).status == "rejected"


def test_a_tab_opened_after_a_bulk_accept_undoes_the_whole_bulk(quiet_study, apptest, helpers):
    """In a fresh tab, U offered one suggestion of a stranger's bulk accept of 76, as if it were the whole."""
    from qualkit.review import decisions
    from qualkit.users import User

    pending = quiet_study.store.codings_df(status="suggested")
    items = [(int(i), int(v)) for i, v in zip(pending["id"][:3], pending["version"][:3], strict=True)]
    assert decisions.accept_many(quiet_study.store, items, actor=User("ana")) == dict.fromkeys(
        [i for i, _ in items], "accepted")
    at = apptest("ana", "queue")  # a new tab: it remembers no decision of its own
    button = at.button(key="q_undo")
    assert button.label == "Undo your last decision: bulk accept of 3 suggestions (U / Ctrl+Z)"
    button.click().run()
    helpers.assert_ok(at)
    assert {quiet_study.store.coding(i).status for i, _ in items} == {"suggested"}
    assert "Undone: bulk accept of 3 suggestions." in helpers.texts(at)


def test_ctrl_z_is_listened_for_when_nothing_is_left_to_review(queue_study, apptest, helpers):
    """The Undo button said "(U / Ctrl+Z)" with the queue done, but Ctrl+Z did nothing: the keys' script was
    drawn only beside cards."""
    from qualkit.review import decisions
    from qualkit.users import User

    ana = User("ana")
    pending, _ = decisions.review_queue(queue_study.store, actor=ana, limit=500)
    decisions.accept_many(queue_study.store, [(int(r.id), int(r.version)) for r in pending.itertuples()], actor=ana)
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    assert "Nothing left to review here." in helpers.texts(at)
    assert "Ctrl+Z" in at.button(key="q_undo").label
    assert any("qualkitQueueKeys" in str(element.proto) for element in at.get("html"))


def test_accept_on_a_card_the_retrain_withdrew_meanwhile_codes_the_words_the_card_showed(queue_study, apptest,
                                                                                        helpers):
    """A stranger accepted a card the retrained coder had withdrawn while she read it: nothing was saved, and the
    message pointed to "add a missing code" on the card it had just removed."""
    store = queue_study.store
    at = apptest("ana", "queue")
    first = cards(at)[0]
    shown = store.coding(first)
    store.replace_suggestions([], segment_ids=[int(shown.segment_id)])  # a retrain drops it (its code left the codebook)
    at.button(key=f"acc_{first}").click().run()
    helpers.assert_ok(at)
    mine = store.codings_df(origin="human", coder="ana")
    assert mine[["segment_id", "code_id", "start", "end", "status"]].values.tolist() == [
        [shown.segment_id, shown.code_id, shown.start, shown.end, "accepted"]]
    assert any("had withdrawn" in m and "saved as your own code on the same words" in m for m in messages(at))
    at.button(key="q_undo").click().run()  # undone as any decision
    assert store.coding(int(mine["id"].iloc[0])).status == "rejected"
    second = cards(at)[0]
    store.replace_suggestions([], segment_ids=[int(store.coding(second).segment_id)])
    at.button(key=f"rej_{second}").click().run()  # a reject of a withdrawn card needs nothing
    assert len(store.codings_df(origin="human", coder="ana")) == 1
    assert any("nothing to reject; nothing was saved" in m for m in messages(at))


def test_undoing_a_bulk_accept_takes_back_only_what_it_accepted(quiet_study, apptest, helpers):
    """A stranger's undo of a bulk accept of 9 also reverted an older decision: her own code made by changing
    one of those suggestions (its row points back to the suggestion), so an earlier remove came back unseen."""
    from qualkit.review import decisions
    from qualkit.store.decisions import restore_codings
    from qualkit.users import User

    store = quiet_study.store
    suggestion = quiet_study.suggestion("group2.txt", 2, "workload")
    mine = decisions.decide(store, int(suggestion.id), "change", actor=User("ana"), code_id="individual_coping")
    back = store.coding(int(suggestion.id))  # the suggestion pending again, her code standing (as an older undo left it)
    restore_codings(store, [(int(back.id), int(back.version), {"status": "suggested", "decided_by": None}, 0)],
                    user="ana")
    at = apptest("ana", "queue")
    at.toggle(key="bulk_on").set_value(True).run()
    at.slider(key="bulk_min").set_value(0.5).run()
    at.button(key="bulk_go").click().run()
    assert store.coding(int(suggestion.id)).status == "accepted"
    label = at.button(key="q_undo").label
    at.button(key="q_undo").click().run()
    helpers.assert_ok(at)
    assert store.coding(int(suggestion.id)).status == "suggested"
    assert store.coding(mine.id).status == "accepted"  # her own code, untouched
    accepted = int(label.split("bulk accept of ")[1].split(" ")[0])
    assert accepted == len(store.events_df("coding").query("action == 'bulk-accept'"))


def test_a_study_nothing_was_suggested_for_says_so_and_offers_to_suggest(quiet_study, apptest, helpers):
    """A new team imported their transcripts and codebook; the queue said "Nothing left to review here." in green,
    which they read as "all done", though the auto-coder had never run on the study."""
    store = quiet_study.store
    store.replace_suggestions([], segment_ids=[int(i) for i in store.segments_df()["id"]])
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    assert "Nothing left to review here." not in helpers.texts(at)
    assert any("Nothing has been suggested for this study yet" in i.value for i in at.info)
    assert at.button(key="q_suggest").label.startswith("Suggest codes")


def _run_job(store, kind: str, ranking: dict[int, float]) -> int:
    """Play the worker: run one job of ``kind`` that stores ``ranking`` (as rank_job does, naming its job)."""
    job_id = jobs.enqueue_job(store, kind, user=None)
    job = jobs.claim_job(store, "test-worker:1", [kind])
    assert job is not None and job.id == job_id
    version = jobs.save_ranking(store, ranking, job_id=job.id)
    jobs.finish_job(store, job.id, "test-worker:1", result={"ranking_version": version})
    return version


def order(at) -> str:
    return re.search(r"to review · ([^·]+) · ", "\n".join(str(c.value) for c in at.caption)).group(1).strip()


def test_the_first_ranking_of_a_new_queue_is_no_retrain_to_refresh_for(queue_study, apptest, helpers):
    """F opened the queue and, before any decision, read "The retrained coder ranks the suggestions anew and would
    show other cards here": the page's first ranking (the worker ordering a queue that had none) arrived after the
    cards were drawn. Nothing had retrained; only a retrain since the cards were drawn is offered."""
    store = queue_study.store
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    shown = cards(at)
    assert jobs.work_status(store)["queued"] == 1  # the page asked for a first ranking
    _run_job(store, "rank", {i: float(n) for n, i in enumerate(shown)})  # it would reverse the cards
    at.run()
    helpers.assert_ok(at)
    assert cards(at) == shown and NEW_ORDER not in helpers.texts(at)
    assert order(at) == "most uncertain first"  # what the cards on screen are in
    # A real retrain since the cards were drawn is offered, as before.
    _run_job(store, "retrain", {i: float(n) for n, i in enumerate(shown)})
    at.run()
    assert cards(at) == shown and NEW_ORDER in helpers.texts(at)


def test_the_order_named_is_the_order_the_cards_are_in(queue_study, apptest, helpers):
    """The label switched from "most uncertain first" to "most informative first" between reruns, by itself."""
    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    assert order(at) == "most uncertain first"
    # A retrain whose order keeps the cards on screen is taken in silently: the cards and their label stay.
    _run_job(store, "retrain", {i: 1.0 - n / 10 for n, i in enumerate(shown)})
    for _ in range(2):
        at.run()
        helpers.assert_ok(at)
        assert cards(at) == shown and order(at) == "most uncertain first"
    # A ranking that orders none of the cards (an empty one) leaves them in the uncertainty order: said so.
    jobs.save_ranking(store, {})
    fresh = apptest("ana", "queue")
    assert cards(fresh) == shown and order(fresh) == "most uncertain first"
    # Drawn with a ranking, the label says so.
    _run_job(store, "retrain", {i: float(n) for n, i in enumerate(shown)})
    fresh = apptest("ana", "queue")
    assert cards(fresh) == shown[::-1] and order(fresh) == "most informative first"


def test_a_card_judged_in_another_tab_says_so_and_the_keys_move_past_it(queue_study, apptest, helpers):
    """On a transcript she codes blind, F judged a card in another tab; in this one it kept its ▶ and buttons, and
    A and X went on acting on it (refused: "you judged suggestion … already") instead of on the next card."""
    from qualkit.review import double_coding
    from qualkit.users import Role, User

    store = queue_study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=User("admin", Role.ADMIN))
    at = apptest("ana", "queue")
    shown = cards(at)
    other = apptest("ana", "queue")  # the other tab
    assert cards(other) == shown
    other.button(key=keyed(other, "A")).click().run()
    helpers.assert_ok(other)
    mine = store.codings_df(origin="human", coder="ana")
    assert list(mine["parent_id"]) == [shown[0]] and list(mine["status"]) == ["accepted"]
    at.run()
    helpers.assert_ok(at)
    assert "You judged this suggestion meanwhile (accepted), in another tab" in helpers.texts(at)
    assert shown[0] not in cards(at) and keyed(at, "X") == "q_hold_x"  # the ▶ moved by itself: first X held
    at.button(key=keyed(at, "X")).click().run()
    assert keyed(at, "A") == f"acc_{shown[1]}" and keyed(at, "X") == f"rej_{shown[1]}"
    at.button(key=keyed(at, "X")).click().run()
    helpers.assert_ok(at)
    mine = store.codings_df(origin="human", coder="ana").set_index("parent_id")
    assert mine.loc[shown[0], "status"] == "accepted" and mine.loc[shown[1], "status"] == "rejected"


def test_a_stale_press_on_a_card_decided_in_another_tab_does_not_offer_this_tabs_undo_for_it(
        queue_study, apptest, helpers):
    """The other tab accepted the card; a press here before the page redrew said "Already accepted … (your decision a
    moment ago; U or Ctrl+Z undoes it)", and U then took back this tab's own earlier decision, another card."""
    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    at.button(key=keyed(at, "A")).click().run()  # this tab's own decision, on its undo stack
    other = apptest("ana", "queue")
    assert cards(other)[0] == shown[1]
    other.button(key=keyed(other, "A")).click().run()
    at.button(key=f"acc_{shown[1]}").click().run()  # the press here, on the card as this tab drew it
    helpers.assert_ok(at)
    said = " ".join(messages(at))
    assert "in another tab" in said and "undoes it" not in said
    assert (store.coding(shown[1]).status, store.coding(shown[1]).version) == ("accepted", 2)  # decided once
    assert shown[1] not in cards(at) and keyed(at, "A") == f"acc_{shown[2]}"
    assert at.button(key="q_undo").label.startswith("Undo: Accepted")  # this tab's own decision, still on top


def test_a_card_a_teammate_withdrew_says_who_and_why_and_the_keys_move_past_it(queue_study, apptest, helpers):
    """Ben changed Workload to Emotional exhaustion on words that had a suggestion of it, which withdrew that
    suggestion; ana's card of it said "The retrained coder withdrew this suggestion". Both cards name him as people
    see him (his display name), not by his login."""
    from qualkit.review import decisions
    from qualkit.users import User, add_user

    store = queue_study.store
    add_user(store, "benl", "ben-password", "coder", display_name="Ben Lee", actor="setup", rounds=4)
    workload = int(queue_study.suggestion("group2.txt", 2, "workload").id)
    exhausted = int(queue_study.suggestion("group2.txt", 2, "emotional_exhaustion").id)
    at = apptest("ana", "queue")
    shown = cards(at)
    assert {workload, exhausted} <= set(shown)
    decisions.decide(store, workload, "change", actor=User("benl"), code_id="emotional_exhaustion")
    at.run()
    helpers.assert_ok(at)
    said = helpers.texts(at)
    assert "Withdrawn meanwhile by Ben Lee (coded the same words by a change" in said
    assert "retrained coder" not in said and "Decided meanwhile by Ben Lee (rejected)" in said
    assert exhausted not in cards(at) and workload not in cards(at)
    assert keyed(at, "A") == f"acc_{next(i for i in shown if i not in (workload, exhausted))}"


def test_a_key_press_after_the_marker_moved_by_itself_applies_nothing_the_first_time(queue_study, apptest, helpers):
    """Sam read the top card; Rosa accepted it in her tab; Sam's page redrew by itself with ▶ on the next card, and
    his A said "Accepted patient safety on … turn 7", a card he had not read."""
    from qualkit.users import add_user

    store = queue_study.store
    add_user(store, "rosa", "rosa-password", "coder", display_name="Rosa Díaz", actor="setup", rounds=4)
    sam = apptest("ana", "queue")
    shown = cards(sam)
    rosa = apptest("rosa", "queue")
    assert cards(rosa)[0] == shown[0]
    rosa.button(key=keyed(rosa, "A")).click().run()
    assert (store.coding(shown[0]).status, store.coding(shown[0]).decided_by) == ("accepted", "rosa")
    sam.run()  # the page's own refresh (watch_cards)
    helpers.assert_ok(sam)
    assert shown[0] not in cards(sam)
    for key in ("A", "X", "K"):  # the first press, whichever it is, goes to the hold
        assert keyed(sam, key) == f"q_hold_{key.lower()}"
    sam.button(key=keyed(sam, "A")).click().run()
    helpers.assert_ok(sam)
    assert store.coding(shown[1]).status == "suggested"  # nothing decided
    assert store.codings_df(status=["accepted", "rejected"])["decided_by"].tolist() == ["rosa"]
    said = messages(sam)
    assert len(said) == 1 and said[0].startswith("Not applied: the card you were on was decided by Rosa Díaz")
    assert "press A again to accept it" in said[0]
    from qualkit.app import ui

    first = store.coding(shown[1])
    segment = store.segments_df().set_index("id").loc[first.segment_id]
    where = f"{ui.code_label(store.codebook(), first.code_id)} · {segment['source']} turn {int(segment['turn'])}"
    assert f"▶ is now on {where} — press A" in said[0]  # the card the ▶ is on, named
    # The second press acts on the card, as usual; the one after it too (the ▶ moved by his own decision).
    assert keyed(sam, "A") == f"acc_{shown[1]}" and keyed(sam, "X") == f"rej_{shown[1]}"
    assert not [b for b in sam.button if b.key.startswith("q_hold_")]
    sam.button(key=keyed(sam, "A")).click().run()
    helpers.assert_ok(sam)
    assert (store.coding(shown[1]).status, store.coding(shown[1]).decided_by) == ("accepted", "ana")
    assert keyed(sam, "X") == f"rej_{shown[2]}"
    sam.button(key=keyed(sam, "X")).click().run()
    assert (store.coding(shown[2]).status, store.coding(shown[2]).decided_by) == ("rejected", "ana")


def test_own_decisions_and_clicks_on_a_cards_button_are_never_held(queue_study, apptest, helpers):
    """Only a ▶ moved by itself holds a press: after the reviewer's own accept, A on the next card accepts at once,
    and a click on a card's own Accept applies to that card even while the ▶'s first key press is held."""
    store = queue_study.store
    at = apptest("ana", "queue")
    shown = cards(at)
    at.button(key=keyed(at, "A")).click().run()  # her own accept: ▶ to the next card, no hold
    assert store.coding(shown[0]).status == "accepted" and keyed(at, "A") == f"acc_{shown[1]}"
    store.decide(shown[1], "reject", user="ben")  # the ▶ card decided elsewhere
    at.run()
    assert keyed(at, "A") == "q_hold_a"  # the ▶ moved by itself to shown[2]
    at.button(key=f"acc_{shown[2]}").click().run()  # she clicks that card's own Accept: applied directly
    helpers.assert_ok(at)
    assert (store.coding(shown[2]).status, store.coding(shown[2]).decided_by) == ("accepted", "ana")
    assert len(messages(at)) == 1 and messages(at)[0].startswith("Accepted")
    assert keyed(at, "A") == f"acc_{shown[3]}"  # moved by her decision: the next A acts at once
    at.button(key=keyed(at, "A")).click().run()
    assert (store.coding(shown[3]).status, store.coding(shown[3]).decided_by) == ("accepted", "ana")


def test_a_press_that_lost_the_race_says_it_was_not_applied_and_by_whom(queue_study, apptest, helpers):
    """Both pressed X on the same card at the same moment; Sam's tab showed only "Decided meanwhile by …
    (rejected)", not that his X had not been applied."""
    from qualkit.users import add_user

    store = queue_study.store
    add_user(store, "rosa", "rosa-password", "coder", display_name="Rosa Díaz", actor="setup", rounds=4)
    sam = apptest("ana", "queue")
    shown = cards(sam)
    store.decide(shown[0], "reject", user="rosa")  # hers landed first
    sam.button(key=f"rej_{shown[0]}").click().run()  # his X, on the card as his page drew it
    helpers.assert_ok(sam)
    said = messages(sam)
    assert len(said) == 1 and said[0].startswith("Your reject was not applied: Rosa Díaz rejected ")
    assert store.coding(shown[0]).decided_by == "rosa"
    assert not len(store.codings_df(status=["accepted", "rejected"]).query("decided_by == 'ana'"))
    assert keyed(sam, "X") == "q_hold_x"  # the ▶ moved by itself: his next X is held too
