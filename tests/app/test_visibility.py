"""Blind double-coding: while two coders code a transcript, neither sees the other's decisions anywhere.

Every surface that shows decisions goes through the one rule in qualkit.review (TeamView.hidden_map):
the review card's history, the History page, memos on the Transcript page, the codings CSV and project
exports, analyses, the Reliability page, and the Codebook page's examples and counts.
"""

from __future__ import annotations

import pytest

from qualkit.review import decisions, double_coding
from qualkit.users import Role, User

ADMIN, ANA, BEN = User("admin", Role.ADMIN), User("ana"), User("ben")


@pytest.fixture
def blind(quiet_study):
    """group1.txt assigned blind to ana and ben; ben accepted peer support, wrote a memo; ana rejected it."""
    store = quiet_study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    peer = quiet_study.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(store, int(peer.id), "accept", actor=BEN)
    decisions.decide(store, int(peer.id), "reject", actor=ANA)
    decisions.write_memo(store, "BEN-SECRET-MEMO", actor=BEN, segment_id=int(peer.segment_id))
    quiet_study.peer = peer
    return quiet_study


def test_card_history_hides_the_other_coder(blind, apptest, helpers):
    at = apptest("ana", "queue")
    at.selectbox(key="q_source").select("group1.txt").run()
    # ana already judged peer support, so show another card's history, then check the peer card via ben
    ben = apptest("ben", "queue")
    ben.selectbox(key="q_source").select("group1.txt").run()
    cid = next(int(b.key.split("_")[1]) for b in ben.button if b.key.startswith("acc_"))
    decisions.decide(blind.store, cid, "accept", actor=ANA)
    ben.toggle(key=f"more_{cid}").set_value(True).run()  # the card's panel: span, missing code, history
    ben.toggle(key=f"hist_{cid}").set_value(True).run()
    helpers.assert_ok(ben)
    tables = [d.value for d in ben.dataframe if "action" in d.value.columns]
    assert tables and "ana" not in set(tables[0]["user"]) and "suggest" in set(tables[0]["action"])


def test_a_blind_coders_own_decision_is_what_their_transcript_shows(blind, apptest, helpers):
    """Seen by a team: after ben rejected a card blind, his Transcript page still showed it pending ('?')."""
    from qualkit.app.components.apptest import component_data

    at = apptest("ben", "transcript")
    at.multiselect(key="tx_status").select("rejected").run()
    helpers.assert_ok(at)
    chips = component_data(at, "tx_text")["highlights"]
    assert int(blind.peer.id) not in {h["id"] for h in chips}  # the suggestion he judged is not pending for him
    [own] = [h for h in chips if h["name"] == "Peer support"]
    assert (own["status"], own["detail"]) == ("accepted", "by ben")  # his own row: accepted (ana's rejection stays hidden from him)


def test_history_page_hides_the_other_coder(blind, apptest, helpers):
    at = apptest("ana", "history")
    helpers.assert_ok(at)
    table = at.dataframe[0].value
    assert "ben" not in set(table.loc[table["entity"].isin(["coding", "memo"]), "user"])
    assert "BEN-SECRET-MEMO" not in table.to_string()
    assert "not listed" in helpers.texts(at)
    admin = apptest("admin", "history")
    assert "ben" in set(admin.dataframe[0].value["user"])


def test_transcript_memos_hide_the_other_coder(blind, apptest, helpers):
    at = apptest("ana", "transcript")
    at.selectbox(key="tx_segment").select(int(blind.peer.segment_id)).run()
    helpers.assert_ok(at)
    assert "BEN-SECRET-MEMO" not in helpers.texts(at)
    admin = apptest("admin", "transcript")
    admin.selectbox(key="tx_segment").select(int(blind.peer.segment_id)).run()
    assert "BEN-SECRET-MEMO" in helpers.texts(admin)


def test_exports_and_analyses_wait(blind, apptest, helpers):
    at = apptest("ana", "export")
    at.multiselect(key="ex_status").select("rejected").run()
    at.button(key="ex_csv").click().run()
    helpers.assert_ok(at)
    csv = at.session_state["ex_csv_data"].decode()
    assert ",ana," in csv and ",ben," not in csv
    assert "open once the blind double-coding" in helpers.texts(at)
    assert "ex_run" not in [b.key for b in at.button]
    analysis = apptest("ana", "analysis")
    helpers.assert_ok(analysis)
    assert "open once the blind double-coding" in helpers.texts(analysis)
    admin = apptest("admin", "export")
    admin.button(key="ex_csv").click().run()
    assert ",ben," in admin.session_state["ex_csv_data"].decode()


def test_reliability_and_codebook_do_not_name_or_show_the_other_coder(blind, apptest, helpers):
    at = apptest("ana", "reliability")
    helpers.assert_ok(at)
    if [m for m in at.multiselect if m.key == "rel_coders"]:
        assert "ben" not in at.multiselect(key="rel_coders").options
    peer_text = blind.store.source("group1.txt").text[int(blind.peer.start):int(blind.peer.end)]
    codebook = apptest("ana", "codebook")
    codebook.selectbox(key="cb_code").select("peer_support").run()
    helpers.assert_ok(codebook)
    assert peer_text[:40] not in helpers.texts(codebook)
    table = codebook.dataframe[0].value.set_index("id")
    assert table.at["peer_support", "coded segments"] == 0  # ben's blind acceptance is not counted for ana
    admin = apptest("admin", "codebook")
    admin.selectbox(key="cb_code").select("peer_support").run()
    assert peer_text[:40] in helpers.texts(admin)


def test_everything_shows_once_both_are_done(blind, apptest, helpers):
    double_coding.mark_done(blind.store, "group1.txt", actor=ANA)
    double_coding.mark_done(blind.store, "group1.txt", actor=BEN)
    history = apptest("ana", "history").dataframe[0].value
    assert "ben" in set(history["user"])
    at = apptest("ana", "transcript")
    at.selectbox(key="tx_segment").select(int(blind.peer.segment_id)).run()
    assert "BEN-SECRET-MEMO" in helpers.texts(at)


def test_a_suggestion_decided_before_the_assignment_is_a_live_card_that_does_not_tell_the_decision(
        quiet_study, apptest, helpers):
    """A stranger's second coder saw "Decided meanwhile by helen (accepted)" with no buttons on the cards helen had
    decided before the transcript was assigned blind: her decision was told, and he could not judge them."""
    from qualkit.app.components.apptest import component_data

    store = quiet_study.store
    earlier = quiet_study.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(store, int(earlier.id), "accept", actor=ANA)
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=ADMIN)
    at = apptest("ben", "queue")
    at.selectbox(key="q_source").select("group1.txt").run()
    helpers.assert_ok(at)
    assert f"acc_{earlier.id}" in {b.key for b in at.button}
    page = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Decided meanwhile" not in page and "by ana" not in page
    chips = component_data(apptest("ben", "transcript"), "tx_text")["highlights"]
    assert any(h["id"] == int(earlier.id) and h["status"] == "suggested" for h in chips)
    # ana, who decided it before, is asked to judge it afresh too, and told what counts if she does not
    ana = apptest("ana", "double_coding")
    assert any("1 of them you decided before the transcript was assigned blind: that decision counts unless you "
               "judge it again here" in w.value for w in ana.warning)


def test_a_survey_answer_says_whose_it_is_and_which_question_it_answers(quiet_study, apptest, helpers, tmp_path):
    """A stranger's survey cards and lines all read "unattributed": whose answer, to which question, was unknown."""
    from qualkit.app.components.apptest import component_data
    from qualkit.model import Coding

    survey = tmp_path / "survey.csv"
    survey.write_text("Response ID,What is hardest?,What would help?\nR0001,Too much paperwork after every shift,\n",
                      encoding="utf-8")
    quiet_study.project.import_transcripts(survey, progress=False)
    [answer] = quiet_study.store.segments_df(source="survey.csv").itertuples()
    quiet_study.store.add_codings([Coding(segment_id=int(answer.id), code_id="workload", origin="rules",
                                          status="suggested", score=0.6, start=int(answer.start),
                                          end=int(answer.end))], user="auto", action="suggest")
    at = apptest("ana", "queue")
    at.selectbox(key="q_source").select("survey.csv").run()
    helpers.assert_ok(at)
    shown = " ".join(m.value for m in at.markdown)
    assert "R0001 · What is hardest?" in shown, [line for line in shown.split("<small>")[1:]]
    assert "turn 0" not in shown  # an answer has no turns; its respondent says whose it is
    [suggestion] = quiet_study.store.codings_df(source="survey.csv").itertuples()
    at.button(key=f"acc_{suggestion.id}").click().run()
    helpers.assert_ok(at)
    assert "Accepted Workload (workload) on survey.csv, respondent R0001." in helpers.texts(at)
    page = apptest("ana", "transcript")
    page.selectbox(key="tx_source").select("survey.csv").run()
    helpers.assert_ok(page)
    labels = [p["label"] for p in component_data(page, "tx_text")["passages"]]
    assert labels == ["R0001 · What is hardest?"]


def test_a_surveys_own_columns_are_offered_to_compare_by(quiet_study, apptest, helpers, tmp_path):
    """A stranger's Analysis page offered only "(everyone)" for a survey with Staff group, Site and two questions."""
    survey = tmp_path / "survey.csv"
    survey.write_text("Response ID,Staff group,What is hardest?,What would help?\n"
                      "R0001,Nurse,Too much paperwork,More staff\nR0002,Porter,Lifting,Trolleys\n", encoding="utf-8")
    quiet_study.project.import_transcripts(survey, progress=False)
    decisions.decide(quiet_study.store, int(quiet_study.suggestion("group1.txt", 1, "administrative_burden").id),
                     "accept", actor=ANA)
    at = apptest("admin", "analysis")
    helpers.assert_ok(at)
    offered = at.selectbox(key="an_by").options
    assert {"Staff group", "question"} <= set(offered)
    at.selectbox(key="an_by").select("question").run()
    helpers.assert_ok(at)


def test_the_transcript_page_undoes_the_last_decision_it_names(quiet_study, apptest, helpers):
    """A stranger coded a passage by hand on the Transcript page: Ctrl+Z and U did nothing there, and no Undo."""
    segment = quiet_study.segment("group2.txt", 1)
    hand = decisions.add_code(quiet_study.store, int(segment["id"]), "workload", actor=ANA)
    at = apptest("ana", "transcript")
    helpers.assert_ok(at)
    button = at.button(key="tx_undo")
    assert button.label == "Undo your last decision: coded by hand: Workload (workload) in group2.txt, turn 1"
    button.click().run()
    helpers.assert_ok(at)
    assert quiet_study.store.coding(hand.id).status == "rejected"  # withdrawn, kept on record
    assert "Undone: coded by hand: Workload (workload) in group2.txt, turn 1." in helpers.texts(at)


def test_the_transcript_undo_goes_back_step_by_step_on_one_coding(quiet_study, apptest, helpers):
    """A stranger changed a code's extent, then removed it: Undo brought it back, but the next Undo skipped the
    extent change (it offered an older decision elsewhere), so the narrower extent could not be undone. (And after
    "Set to selection", Undo read "accepted Constrained end-of-life care": the extent change is named as such.)"""
    segment = quiet_study.segment("group2.txt", 1)
    hand = decisions.add_code(quiet_study.store, int(segment["id"]), "workload", actor=ANA)
    narrower = decisions.decide(quiet_study.store, int(hand.id), "span", actor=ANA, expected_version=int(hand.version),
                                start=int(segment["start"]), end=int(segment["start"]) + 10)
    decisions.decide(quiet_study.store, int(hand.id), "reject", actor=ANA, expected_version=int(narrower.version))
    at = apptest("ana", "transcript")
    at.button(key="tx_undo").click().run()  # the remove
    helpers.assert_ok(at)
    assert at.button(key="tx_undo").label == ("Undo your last decision: changed the extent of Workload (workload) "
                                              "in group2.txt, turn 1")
    at.button(key="tx_undo").click().run()
    helpers.assert_ok(at)
    back = quiet_study.store.coding(hand.id)
    assert (back.status, back.start, back.end, back.version) == ("accepted", hand.start, hand.end,
                                                                 narrower.version + 3)
    assert at.button(key="tx_undo").label == ("Undo your last decision: coded by hand: Workload (workload) "
                                              "in group2.txt, turn 1")


def test_the_queue_filter_comes_back_after_a_run_that_forgot_it(quiet_study, apptest, helpers):
    """A reviewer's Transcript filter went back to "(all)" mid-work, and her next presses decided cards of other
    transcripts. Streamlit forgets a widget's value after any run that does not draw it; the filter is kept apart."""
    at = apptest("ana", "queue")
    at.selectbox(key="q_source").select("group1.txt").run()
    helpers.assert_ok(at)
    at.switch_page("qualkit/app/pages/study.py").run()  # a run that does not draw the filter forgets it
    at.switch_page("qualkit/app/pages/queue.py").run()
    helpers.assert_ok(at)
    assert at.selectbox(key="q_source").value == "group1.txt"
    shown = " ".join(m.value for m in at.markdown if "<small>" in m.value)
    assert "group1.txt" in shown and "group2.txt" not in shown


def test_undo_passes_over_decisions_on_a_transcript_whose_double_coding_is_finished(blind, apptest, helpers):
    """U walked into a finished double-coded transcript and was refused once per decision there, 17 times, before
    it reached one it could take back."""
    def cards(at) -> list[int]:
        return [int(b.key.split("_")[1]) for b in at.button if b.key.startswith("acc_")]

    store = blind.store
    at = apptest("ana", "queue")
    at.selectbox(key="q_source").select("group2.txt").run()
    elsewhere = cards(at)[0]
    at.button(key=f"acc_{elsewhere}").click().run()
    at.selectbox(key="q_source").select("group1.txt").run()
    for _ in range(2):
        at.button(key=f"acc_{cards(at)[0]}").click().run()
    helpers.assert_ok(at)
    for coder in ("ana", "ben"):
        double_coding.mark_done(store, "group1.txt", actor=User(coder))
    at.button(key="q_undo").click().run()
    helpers.assert_ok(at)
    assert any("2 decisions of yours on finished double-coded transcripts cannot be undone here" in i.value
               for i in at.info)
    assert store.coding(elsewhere).status == "accepted"  # not yet: one press, one message
    at.button(key="q_undo").click().run()
    assert store.coding(elsewhere).status == "suggested"  # the next press takes back the decision elsewhere


def test_the_transcript_says_what_its_status_filter_hides(quiet_study, apptest, helpers):
    """With "accepted" taken out of the Status filter the team's codes vanished without a hint; a newcomer
    thought they were lost."""
    segment = quiet_study.segment("group2.txt", 1)
    decisions.add_code(quiet_study.store, int(segment["id"]), "workload", actor=ANA)
    at = apptest("ana", "transcript")
    at.selectbox(key="tx_source").select("group2.txt").run()
    assert not any("Hidden by the Status filter" in c.value for c in at.caption)
    at.multiselect(key="tx_status").unselect("accepted").run()
    helpers.assert_ok(at)
    assert any("Hidden by the Status filter: 1 accepted code." in c.value for c in at.caption)
