"""A researcher's own study in the app: suggest codes, import with fresh counts, new speakers' rows, ?study= in the URL."""

from __future__ import annotations

import pytest


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("user", ["admin", "ana"])
def test_suggest_codes_for_the_study_and_a_transcript(quiet_study, apptest, helpers, user):
    store = quiet_study.store
    decided = store.codings_df().iloc[0]
    store.decide(int(decided["id"]), "accept", user="ana")
    at = apptest(user, "study")
    helpers.assert_ok(at)
    at.button(key="study_suggest").click().run(timeout=120)
    helpers.assert_ok(at)
    frame = store.codings_df()
    pending = frame[frame["status"] == "suggested"]
    assert "suggestions for 8 participant passages of the study await review" in helpers.texts(at)
    assert f"{len(pending)} suggestions" in helpers.texts(at)
    assert _metric(at, "Suggested") == str(len(pending))  # the counts show them at once
    kept = frame.set_index("id").loc[int(decided["id"])]
    assert kept["status"] == "accepted" and kept["decided_by"] == "ana"  # a human decision is never touched
    events = store.events_df()
    assert user in set(events.loc[events["action"].isin(["suggest", "rescore", "replace"]), "user"])

    tx = apptest(user, "transcript")
    tx.selectbox(key="tx_source").select("group2.txt").run()
    tx.button(key="tx_suggest").click().run(timeout=120)
    helpers.assert_ok(tx)
    assert "participant passages of group2.txt await review" in helpers.texts(tx)


def test_viewer_sees_no_suggest_button(quiet_study, apptest):
    for page in ("study", "transcript"):
        at = apptest("vic", page)
        assert not [b for b in at.button if (b.key or "").endswith("_suggest")], page


def test_import_refreshes_counts_and_gives_new_speakers_rows_to_fill(quiet_study, apptest, helpers):
    at = apptest("admin", "study")
    assert _metric(at, "Transcripts") == "2"
    text = (b"Moderator: What helps?\nZoe: Protected time for teaching.\n"
            b"Ana: A team that notices when you are drowning.\nZoe: And fewer night shifts.\n")
    at.file_uploader(key="import_files").set_value([("group9.txt", text, "text/plain")])
    at.button(key="import_submit").click().run(timeout=120)
    helpers.assert_ok(at)
    assert _metric(at, "Transcripts") == "3" and _metric(at, "Segments") == str(len(quiet_study.store.segments_df()))
    assert "group9.txt" in "".join(str(c.value) for c in at.code)  # the file's import report
    people = quiet_study.store.participants_df()
    assert {"Zoe", "Ana"} <= set(people["participant"])  # mini study's Ana (group1) gets a row too
    assert "New speakers have participant rows" in helpers.texts(at)
    segments = quiet_study.store.segments_df(source="group9.txt")
    assert set(segments.loc[segments["speaker"] == "Zoe", "participant"]) == {"Zoe"}
    editor = at.data_editor[0].value
    assert {"role", "group"} <= set(editor.columns) and "Zoe" in set(editor["participant"])
    # Fill two participants' roles in the table editor and save.
    rows = {p: i for i, p in enumerate(editor["participant"])}
    at.session_state["participants_editor"] = {
        "edited_rows": {rows["Zoe"]: {"role": "resident", "group": "A"}, rows["Ana"]: {"role": "attending"}},
        "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="participants_save").click().run()
    helpers.assert_ok(at)
    people = quiet_study.store.participants_df().set_index("participant")
    assert people.loc["Zoe", "role"] == "resident" and people.loc["Zoe", "group"] == "A"
    assert people.loc["Ana", "role"] == "attending"
    assert "Saved 2 participants" in helpers.texts(at)


def test_open_study_survives_reload_and_dropdown_matches_heading(quiet_study, apptest, helpers):
    from qualkit.project import Project

    Project.create(quiet_study.url, "Second study", codebook=None, user="setup")
    at = apptest("admin", "study")
    at.selectbox(key="study_choice").select("Second study").run()
    helpers.assert_ok(at)
    assert at.header[0].value == "Second study" == at.selectbox(key="study_choice").value
    assert at.query_params["study"] in ("Second study", ["Second study"])
    # A reload (a new tab with the same address) opens the same study, on any page.
    from streamlit.testing.v1 import AppTest

    again = AppTest.from_file(str(helpers.APP), default_timeout=30)
    again.query_params["study"] = "Second study"
    again.session_state["qk_user"] = "admin"
    again.run()
    again.switch_page("qualkit/app/pages/study.py").run()
    helpers.assert_ok(again)
    assert again.header[0].value == "Second study" == again.selectbox(key="study_choice").value
    assert "Study: **Second study**" in helpers.texts(again)
    again.switch_page("qualkit/app/pages/transcript.py").run()
    assert "Open a study first" not in helpers.texts(again)
    assert again.query_params["study"] in ("Second study", ["Second study"])  # kept in the address on every page


def test_study_without_a_name_is_refused(quiet_study, apptest, helpers):
    at = apptest("admin", "study")
    at.text_input(key="new_project_name").input("   ")
    at.button(key="FormSubmitter:create_project-Create").click().run()
    assert "the study needs a name" in helpers.texts(at)
    assert "default" not in __import__("qualkit.store.repository", fromlist=["Store"]).Store.list_projects(
        quiet_study.store.engine)


def test_study_in_the_address_survives_the_login(quiet_study, helpers):
    from streamlit.testing.v1 import AppTest

    from qualkit.project import Project

    Project.create(quiet_study.url, "Second study", codebook=None, user="setup")
    at = AppTest.from_file(str(helpers.APP), default_timeout=30)
    at.query_params["study"] = "Second study"
    at.run()
    at.text_input(key="login_name").input("ana")
    at.text_input(key="login_password").input(helpers.PASSWORDS["ana"])
    at.button[0].click().run()
    helpers.assert_ok(at)
    assert "Study: **Second study**" in helpers.texts(at) and at.header[0].value == "Second study"


def test_fine_tuning_is_queued_for_the_worker_and_its_encoder_shown(quiet_study, apptest, helpers, monkeypatch):
    from qualkit.app import actions, resources
    from qualkit.store import jobs

    started = []

    class Worker:
        def ensure(self, store):
            started.append(store.name)

        def stop(self):
            pass

    monkeypatch.setattr(actions, "model_work_available", lambda: True)
    monkeypatch.setattr(resources, "worker_for", lambda url, name: Worker())
    store = quiet_study.store
    at = apptest("admin", "study")
    helpers.assert_ok(at)
    assert "not yet tuned to this study" in helpers.texts(at)
    at.button(key="tuning_start").click().run(timeout=60)
    helpers.assert_ok(at)
    assert "Fine-tuning queued" in helpers.texts(at) and started == [store.name]
    assert any("Fine-tuning waits for the model worker" in c.value for c in at.caption)  # said, and redrawn as it goes
    job = jobs.claim_job(store, "test-worker", ["finetune"])
    assert job is not None and job.kind == "finetune" and job.requested_by == "admin" and job.params == {"seed": 0}
    jobs.finish_job(store, job.id, "test-worker", result={})
    version = quiet_study.project.codebook.version
    store.update_settings(user="admin", encoder={"key": "abc", "path": "/nowhere", "objective": "classify",
                                                 "examples": 640, "seconds": 61.2, "codebook_version": version})
    again = apptest("admin", "study")
    assert f"Tuned on 640 examples (classify) in 61 s, for codebook v{version}: suggestions use it." in helpers.texts(again)
    again.checkbox(key="tuning_two_runs").check().run()
    again.button(key="tuning_start").click().run(timeout=60)
    job = jobs.claim_job(store, "test-worker", ["finetune"])
    assert job is not None and job.params == {"seed": 0, "runs": 2}  # the researcher asked for two runs averaged
    jobs.finish_job(store, job.id, "test-worker", result={})
    viewer = apptest("vic", "study")
    assert not [b for b in viewer.button if b.key == "tuning_start"]
    assert not [c for c in viewer.checkbox if c.key == "tuning_two_runs"]


def test_a_link_without_the_study_to_a_file_of_two_studies_offers_both(quiet_study, helpers):
    """A page opened without ?study= on a file of two studies said only "Open a study first"."""
    from streamlit.testing.v1 import AppTest

    from qualkit.project import Project

    Project.create(quiet_study.url, "Second study", codebook=None, user="setup")
    at = AppTest.from_file(str(helpers.APP), default_timeout=30)
    at.session_state["qk_user"] = "ana"
    at.query_params["study"] = "Second sutdy"  # a mistyped link
    at.run()
    at.switch_page("qualkit/app/pages/transcript.py").run()
    helpers.assert_ok(at)
    assert "no study named “Second sutdy”" in helpers.texts(at)
    chooser = at.selectbox(key="qk_pick_study")
    assert sorted(chooser.options) == sorted([quiet_study.store.name, "Second study"])
    chooser.select(quiet_study.store.name).run()
    helpers.assert_ok(at)
    assert f"Study: **{quiet_study.store.name}**" in helpers.texts(at)
    assert not [s for s in at.selectbox if s.key == "qk_pick_study"] and at.selectbox(key="tx_source").options


def test_a_participants_file_alone_is_saved_and_says_what_it_linked(quiet_study, apptest, helpers):
    """A stranger uploaded only a participants file and pressed Import: nothing happened, and nothing was said."""
    at = apptest("admin", "study")
    at.file_uploader(key="import_participants").set_value(
        [("people.csv", b"id,role\nPH01,pharmacist\nPOR01,porter\n", "text/csv")])
    at.button(key="import_submit").click().run(timeout=120)
    helpers.assert_ok(at)
    assert {"PH01", "POR01"} <= set(quiet_study.store.participants_df()["participant"])
    assert "None of its ids or names matches a speaker" in " ".join(w.value for w in at.warning)


def test_a_surveys_columns_can_be_named_on_the_import_form(quiet_study, apptest, helpers):
    """The app had no way to put right a wrong column guess: a survey's 'Comments' column was read as its answers."""
    at = apptest("admin", "study")
    table = (b"Resp #,Comments,What would help most?\n"
             b"R0001,Called in twice this week with extra notes,A proper pay rise\n"
             b"R0002,Left early again and will follow up by phone,Protected breaks\n")
    at.file_uploader(key="import_files").set_value([("staff.csv", table, "text/csv")])
    at.text_area(key="import_text_columns").input("What would help most?")
    at.text_input(key="import_id_column").input("Resp #")
    at.button(key="import_submit").click().run(timeout=120)
    helpers.assert_ok(at)
    answers = quiet_study.store.segments_df(source="staff.csv")
    assert answers["text"].tolist() == ["A proper pay rise", "Protected breaks"]
    assert answers["participant"].tolist() == ["R0001", "R0002"]
    assert "columns guessed" not in "".join(str(c.value) for c in at.code)
