"""The app on the real demo study (as ``qualkit demo`` builds it), with background retraining on.

Hand-made fixtures miss what real transcripts have: unattributed lines (no speaker), .docx and .vtt
sources, hundreds of segments. Every page must render on it, and the Transcript page on every transcript.
"""

from __future__ import annotations

import pytest

PAGES = ["study", "transcript", "queue", "codebook", "double_coding", "history", "team", "themes", "analysis",
         "reliability", "export"]

pytestmark = pytest.mark.xdist_group("app-demo")  # one worker builds the demo study once


def test_every_transcript_of_the_demo_renders(demo_study, apptest, helpers):
    sources = demo_study.store.sources_df()["name"].tolist()
    segments = demo_study.store.segments_df(attributes=False)
    assert segments["speaker"].isna().any()  # the demo has unattributed segments: the case that crashed
    at = apptest("ana", "transcript")
    helpers.assert_ok(at)
    for name in sources:
        at.selectbox(key="tx_source").select(name).run()
        helpers.assert_ok(at)
        drawn = at.get("bidi_component")[0].proto.json  # the text selector's passages
        assert '"label": "(unattributed)"' in drawn or not segments.loc[
            segments["source"] == name, "speaker"].isna().head(25).any()
        labels = at.selectbox(key="tx_segment").options
        assert labels and not any(" nan:" in str(label) for label in labels)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo(demo_study, apptest, helpers, page):
    at = apptest("admin", page)
    helpers.assert_ok(at)
    assert at.title, page


def test_reviewing_the_demo_with_retraining_on(demo_study, apptest, helpers):
    """Decide on the first cards while the learned coder retrains after each click: nothing is refused."""
    at = apptest("ana", "queue")
    helpers.assert_ok(at)
    decided = []
    for _ in range(3):
        card = next(int(b.key.split("_")[1]) for b in at.button if b.key.startswith("acc_")
                    and int(b.key.split("_")[1]) not in decided)
        at.button(key=f"acc_{card}").click().run()  # clicked while the previous retraining may still run
        helpers.assert_ok(at)
        assert "Not saved" not in helpers.texts(at) and "no longer suggests" not in helpers.texts(at)
        decided.append(card)
    assert [demo_study.store.coding(i).status for i in decided] == ["accepted"] * 3
    demo_study.settle(at)
    helpers.assert_ok(at)
    suggested = demo_study.store.codings_df(status="suggested")
    assert set(suggested["source"]) == {"fg2_residents.txt"}  # finished transcripts get no new suggestions
    assert "rescore" in set(demo_study.store.events_df("coding")["action"])


@pytest.mark.parametrize("user", ["admin", "ana", "ben", "vic"])
def test_reliability_shows_agreement_on_first_open(demo_study, apptest, helpers, user):
    """The demo's fg1 is double-coded and finished: kappa, alpha and AC1 with intervals, and the disagreements."""
    from qualkit.demo import DOUBLE_CODED

    if user == "vic":
        from qualkit.users import add_user

        add_user(demo_study.store, "vic", "vic-password", "viewer", actor="setup", rounds=4)
    at = apptest(user, "reliability")
    helpers.assert_ok(at)
    assert "No finished double-coded transcript yet" not in helpers.texts(at)
    finished = at.dataframe[0].value
    assert finished["transcript"].tolist() == [DOUBLE_CODED] and finished["different judgement"].iloc[0] > 0
    # one transcript, one kappa: the table's is Project.reliability's for that transcript, not one over judged pairs
    # (which a methodologist found could not be positive in a study coded by hand)
    import qualkit as qk

    coders = finished["coders"].iloc[0].split(", ")
    pooled = qk.Project(demo_study.store, user="admin").reliability(coders, sources=DOUBLE_CODED, n_boot=0).pooled()
    assert finished["Kappa (pooled)"].iloc[0] == pytest.approx(pooled["cohen_kappa_pooled"])
    assert finished["Gwet's AC1"].iloc[0] == pytest.approx(pooled["gwet_ac1"])
    # two tables, two units: the page says which pairs the first counts, so its lower agreement is not a contradiction
    assert "that at least one coder judged" in " ".join(c.value for c in at.caption)
    # ... and the two percent agreements have two names (a stranger saw "agreement %" 69.6 and 0.9444 unexplained)
    assert "agreement % (judged pairs)" in finished.columns
    assert "Two percent agreements, two questions" in " ".join(c.value for c in at.caption)
    frames = [d.value for d in at.dataframe]
    overall = next(f for f in frames if "statistic" in f.columns).set_index("statistic")
    assert "agreement (every code × coded segment)" in overall.index
    for statistic in ("cohen_kappa_pooled", "krippendorff_alpha", "gwet_ac1"):
        low, value, high = overall.loc[statistic, ["ci_low", "value", "ci_high"]]
        assert low < value < high, statistic  # an interval, not just a number
    disagreements = next(f for f in frames if "not_applied_by" in f.columns)
    assert len(disagreements) > 0 and set(disagreements["source"]) == {DOUBLE_CODED}
    assert "Disagreements" in helpers.texts(at)


def test_the_queue_pager_counts_what_the_caption_counts(demo_study, apptest, helpers):
    """After a decision the caption said 1078 to review and the pager 1087 in all (a stranger, on one screen)."""
    import re

    at = apptest("ana", "queue")
    helpers.assert_ok(at)

    def counts(at) -> tuple[int, int]:
        captions = "\n".join(str(c.value) for c in at.caption)
        return (int(re.search(r"(\d+) suggestions? to review", captions).group(1)),
                int(re.search(r"· (\d+) in all", captions).group(1)))

    before = counts(at)
    assert before[0] == before[1] > 10
    at.button(key=next(b.key for b in at.button if b.key.startswith("acc_"))).click().run()
    helpers.assert_ok(at)
    assert counts(at) == (before[0] - 1, before[0] - 1)
