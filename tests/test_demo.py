"""The bundled demo study: built once into an SQLite file, half reviewed, the rest waiting in the queue."""

from __future__ import annotations

import shutil

import pytest

import qualkit as qk
from qualkit.demo import DOUBLE_CODED, REVIEWED_SESSIONS, REVIEWER, SECOND_CODER, build_demo
from qualkit.errors import QualkitError

# One worker builds the demo study (demo_db, about 30 s) for this module and the other that reads it.
pytestmark = pytest.mark.xdist_group("demo-db")


@pytest.mark.slow
def test_demo_has_a_reviewed_half_and_a_queue_for_the_rest(demo_db):
    project = qk.Project.open(demo_db)
    assert project.sources()["name"].tolist() == sorted(project.sources()["name"])
    codings = project.codings()
    reviewed = codings["source"].isin(REVIEWED_SESSIONS)
    assert set(codings.loc[reviewed, "status"]) == {"accepted", "rejected"}
    assert set(codings.loc[reviewed & (codings["source"] != DOUBLE_CODED), "decided_by"]) == {REVIEWER}
    assert set(codings.loc[codings["source"] == DOUBLE_CODED, "decided_by"]) == {REVIEWER, SECOND_CODER}
    assert set(codings.loc[~reviewed, "status"]) == {"suggested"}
    assert codings.loc[~reviewed, "source"].nunique() == 1
    queue = project.review_queue(10)
    assert len(queue) == 10 and not queue["source"].isin(REVIEWED_SESSIONS).any()
    assert set(qk.Project.open(demo_db).store.settings["demo_users"]) == {"admin", "ana", "ben"}
    # fg1 is finished and double-coded: both coders marked it done, and they agree well but not perfectly.
    assignments = project.assignments()
    assert set(assignments.loc[assignments["source"] == DOUBLE_CODED, "coder"]) == {REVIEWER, SECOND_CODER}
    assert assignments.loc[assignments["source"] == DOUBLE_CODED, "done_at"].notna().all()
    agreement = project.reliability([REVIEWER, SECOND_CODER], n_boot=200)
    overall = agreement.overall.set_index("statistic")
    for statistic in ("cohen_kappa_pooled", "krippendorff_alpha", "gwet_ac1"):
        value, low, high = overall.loc[statistic, ["value", "ci_low", "ci_high"]]
        assert 0.5 < low < value < high <= 1.0, (statistic, value, low, high)
    assert len(agreement.disagreements) >= 5 and set(agreement.disagreements["source"]) == {DOUBLE_CODED}
    one = project.reliability([REVIEWER, SECOND_CODER], sources=DOUBLE_CODED, n_boot=0)  # one name, not letters
    assert one.overall["value"].tolist() == project.reliability(
        [REVIEWER, SECOND_CODER], sources=[DOUBLE_CODED], n_boot=0).overall["value"].tolist()
    prevalence = project.prevalence(by="role").table
    assert set(prevalence.loc[prevalence["segments"] > 0, "group"]) == {"resident", "attending", "staff"}


def test_an_existing_demo_is_kept_and_force_keeps_a_backup(demo_db, tmp_path):
    copy = tmp_path / "demo.qualkit.db"
    shutil.copy(demo_db, copy)
    assert build_demo(copy, echo=lambda *_: None).startswith("using the existing demo project")
    assert build_demo(copy, force=True, autocode=False, echo=lambda *_: None).startswith("built demo project")
    assert (tmp_path / "demo.qualkit.db.bak").exists()
    assert qk.Project.open(copy).codings().empty  # rebuilt without auto-coding


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    target = tmp_path / "demo.qualkit.db"
    empty = tmp_path / "corpus"
    (empty / "transcripts").mkdir(parents=True)
    (empty / "transcripts" / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(QualkitError):
        build_demo(target, corpus=empty, echo=lambda *_: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no project file, no .partial
