"""Judged units in reliability, clean tokens and no names in distinctive words, sparse-table tests, quote diversity."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qualkit.analysis.distinctive import distinctive_words, name_words, tokenize
from qualkit.analysis.prevalence import freeman_halton, prevalence
from qualkit.analysis.quotes import quotes
from qualkit.analysis.reliability import reliability

# ----------------------------------------------------------------------------- reliability: judged units


def _segments(n: int) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, "source": "g1.txt", "speaker": f"P{i % 3}", "turn": i, "seq": i,
                          "speaker_role": "participant", "kind": "turn", "text": f"turn {i}"} for i in range(1, n + 1)])


def _coding(segment_id, code, coder, status="accepted"):
    return {"segment_id": segment_id, "code_id": code, "coder": coder, "origin": "human", "status": status,
            "decided_by": coder}


def test_a_segment_a_coder_only_rejected_is_a_judged_unit():
    # ana: yes on 1, 2; explicitly rejected "a" on 3. ben: yes on 1; rejected "b" on 4. Segment 5: nobody.
    codings = pd.DataFrame([_coding(1, "a", "ana"), _coding(2, "a", "ana"), _coding(3, "a", "ana", "rejected"),
                            _coding(1, "a", "ben"), _coding(4, "b", "ben", "rejected")])
    result = reliability(_segments(5), codings, ["ana", "ben"], n_boot=0)
    # Units 1-4 are judged (3 and 4 only by rejections); 5 is not and is the only one excluded.
    assert sorted(result.units["segment_id"]) == [1, 2, 3, 4]
    assert result.settings["excluded_uncoded"] == 1
    row = result.per_code.set_index("code_id").loc["a"]
    # code a: ana 1,1,0,0 ; ben 1,0,0,0 -> agreement 3/4; pe = (2/4)(1/4) + (2/4)(3/4) = 1/2 -> kappa 1/2.
    assert row["units"] == 4
    assert row["percent_agreement"] == pytest.approx(3 / 4)
    assert row["cohen_kappa"] == pytest.approx((3 / 4 - 1 / 2) / (1 - 1 / 2))
    assert result.settings["judged_units"] == {"ana": 3, "ben": 2}
    assert "judged (a code applied or rejected) by each coder: ana 3, ben 2" in result.statement


# ----------------------------------------------------------------------------- distinctive words


def test_tokens_keep_times_and_drop_stray_letters():
    assert tokenize("Rounds at 6 a.m., sign-out at 7 p.m.; home by 9pm.") == [
        "rounds", "at", "a.m.", "sign", "out", "at", "p.m.", "home", "by", "p.m."]
    assert "m" not in tokenize("It's 3 a.m. and I'm up") and "s" not in tokenize("It's a nurse's job")
    assert tokenize("I am here") == ["am", "here"]  # "am" the verb is a word (and a stop word)
    assert tokenize("x y", min_length=1) == ["x", "y"]


def _talk(rows):
    return pd.DataFrame([{"id": i, "text": text, "start": 0, "source": "g1", "speaker": speaker,
                          "participant": pid, "speaker_role": "participant", "kind": "turn", "role": role}
                         for i, (speaker, pid, role, text) in enumerate(rows, start=1)])


ROWS = [
    ("Luis", "S01", "staff", "Luis here. The front desk phone rings at 3 a.m. and again at 4 a.m."),
    ("Luis", "S01", "staff", "Desk phone, desk phone, Luis answers every call."),
    ("Mei", "S02", "staff", "Thanks Luis, the desk is chaos; Dr Okafor knows."),
    ("Ravi", "R01", "resident", "Pager pager pager, Mei paged me, I chart at 2 p.m. after clinic."),
    ("Ravi", "R01", "resident", "More pager alerts; Okafor wanted the notes, the pager again."),
    ("Ana", "R02", "resident", "The pager and the charting, Luis said it too."),
]


def test_a_rate_per_1000_words_counts_every_word_the_group_said():
    """Seen by a new researcher: one kept word in a 15-word turn read 1000 per 1000 words."""
    home = "We could not find a single nurse to cover the weekend shifts at home again"  # 14 words of 2+ letters
    ward = "the ward the ward the ward is busy busy busy and the ward never stops"
    segs = pd.DataFrame({"id": [1, 2], "text": [home, ward], "start": 0, "source": "g1", "speaker": ["A", "B"],
                         "speaker_role": "participant", "kind": "turn", "site": ["home", "ward"]})
    words = distinctive_words(segs, by="site", min_count=1, top=None)
    nurse = words.loc[(words["group"] == "home") & (words["word"] == "nurse")].iloc[0]
    assert len(tokenize(home)) == 14 and nurse["rate_per_1000"] == pytest.approx(1000 / 14)


def test_distinctive_words_never_list_speakers_pseudonyms_or_junk_tokens():
    talk = _talk(ROWS)
    plain = distinctive_words(talk, by="role", min_count=1, top=None, drop_names=False)
    assert "luis" in set(plain["word"])  # the names really are frequent words here
    words = distinctive_words(talk, by="role", min_count=1, top=None, names=["Dr Okafor"])
    listed = set(words["word"])
    assert not listed & {"luis", "mei", "ravi", "ana", "okafor", "dr"}
    assert not any(len(w.replace(".", "")) < 2 for w in listed)
    assert {"desk", "pager"} <= listed and "a.m." in listed
    assert words.attrs["names_dropped"] >= 5
    assert name_words(["Dr Okafor", "Jill Smith, MD"]) == {"dr", "okafor", "jill", "smith", "md"}


def test_project_distinctive_words_drop_pseudonyms_and_aliases(tmp_path):
    import qualkit as qk
    from qualkit.model import Participant, Segment, Source

    project = qk.Project.create(tmp_path / "p.qualkit.db", name="p", codebook=None, user="ana")
    project.set_min_cell(1)  # two people per role: names, not group sizes, are under test here
    text = ("S1: Bertha covers nights, Bertha never sleeps.\nR1: Pager pager, ask Kiki.\n"
            "S2: Night desk again, Bertha again.\nR2: Pager at clinic, Kiki said so.\n")
    segments, offset = [], 0
    for line in text.splitlines(keepends=True):
        label, body = line.split(": ", 1)
        start = offset + len(label) + 2
        body = body.rstrip("\n")
        segments.append(Segment("g.txt", start, start + len(body), body, speaker=label, participant=label))
        offset += len(line)
    project.store.upsert_participants([
        Participant("S1", pseudonym="Bertha", attributes={"role": "staff"}),
        Participant("S2", attributes={"role": "staff"}),
        Participant("R1", aliases=["Kiki"], attributes={"role": "resident"}),
        Participant("R2", attributes={"role": "resident"}),
    ])
    project.store.add_source(Source("g.txt", text, "txt", segments=segments))
    words = set(project.distinctive_words(by="role", min_count=1, top=None)["word"])
    assert "pager" in words and not words & {"bertha", "kiki"}
    project.store.engine.dispose()


# ----------------------------------------------------------------------------- sparse tables


def _exact_freeman_halton(coded: list[int], totals: list[int]) -> float:
    """Fisher-Freeman-Halton p by full enumeration of 2 x c tables with the same margins (math.comb)."""
    n = sum(coded)
    denominator = math.comb(sum(totals), n)

    def probability(row):
        return math.prod(math.comb(k, x) for k, x in zip(totals, row, strict=True)) / denominator

    observed = probability(coded)
    total = 0.0
    for row in itertools.product(*[range(k + 1) for k in totals]):
        if sum(row) == n and probability(row) <= observed * (1 + 1e-9):
            total += probability(row)
    return total


def _grouped(coded: list[int], totals: list[int]):
    segs, cods, next_id = [], [], 1
    for group, (c, k) in enumerate(zip(coded, totals, strict=True)):
        for i in range(k):
            segs.append({"id": next_id, "source": f"g{group}.txt", "speaker": f"P{group}{i}",
                         "participant": f"P{group}{i}", "speaker_role": "participant", "kind": "turn",
                         "site": f"site{group}"})
            if i < c:
                cods.append({"segment_id": next_id, "code_id": "a", "status": "accepted"})
            next_id += 1
    return pd.DataFrame(segs), pd.DataFrame(cods)


def test_sparse_tables_with_more_than_two_groups_get_the_exact_test_not_chi_square():
    coded, totals = [5, 0, 1], [6, 5, 7]
    segs, cods = _grouped(coded, totals)
    result = prevalence(segs, cods, by="site", n_resamples=20_000)
    row = result.tests.iloc[0]
    assert row["min_expected"] < 5 and row["test"] == "fisher-freeman-halton (monte carlo)"
    exact = _exact_freeman_halton(coded, totals)
    assert row["p_value"] == pytest.approx(exact, abs=0.01)  # Monte-Carlo error ~0.001 at 20,000 tables
    assert row["warning"] == ""
    observed = np.vstack([coded, np.array(totals) - coded])
    assert row["statistic"] == pytest.approx(stats.chi2_contingency(observed, correction=False).statistic)
    again = prevalence(segs, cods, by="site", n_resamples=20_000)
    assert again.tests.iloc[0]["p_value"] == row["p_value"]  # seeded

    forced = prevalence(segs, cods, by="site", test="chi2").tests.iloc[0]
    assert forced["test"] == "chi2" and "unreliable" in forced["warning"]
    fisher = prevalence(segs, cods, by="site", test="fisher", n_resamples=20_000).tests.iloc[0]
    assert fisher["test"].startswith("fisher-freeman-halton") and fisher["p_value"] == pytest.approx(exact, abs=0.01)


def test_large_tables_keep_chi_square_and_two_groups_keep_fisher():
    segs, cods = _grouped([20, 10, 15], [40, 40, 40])
    row = prevalence(segs, cods, by="site").tests.iloc[0]
    assert row["test"] == "chi2" and row["min_expected"] >= 5 and row["warning"] == ""
    segs, cods = _grouped([3, 0], [4, 3])
    row = prevalence(segs, cods, by="site").tests.iloc[0]
    assert row["test"] == "fisher" and row["p_value"] == pytest.approx(stats.fisher_exact([[3, 0], [1, 3]]).pvalue)


def test_freeman_halton_matches_enumeration_on_a_classic_table():
    # 2 x 3 with totals 4, 4, 4 and 3 coded in the first group: p = 12/220 by enumeration.
    assert _exact_freeman_halton([3, 0, 0], [4, 4, 4]) == pytest.approx(12 / 220)
    assert freeman_halton(np.array([[3, 0, 0], [1, 4, 4]]), n_resamples=40_000) == pytest.approx(12 / 220, abs=0.006)


# ----------------------------------------------------------------------------- quotes


def test_quotes_vary_by_session_once_groups_are_used_up():
    # Residents in sessions fg1 and fg2; the three best-scored resident quotes are all from fg1.
    rows, cods = [], []
    people = [("A", "fg1", 0.99), ("B", "fg1", 0.98), ("C", "fg1", 0.97), ("D", "fg2", 0.60), ("S", "fg3", 0.5)]
    for i, (speaker, session, score) in enumerate(people, start=1):
        role = "staff" if speaker == "S" else "resident"
        rows.append({"id": i, "source": f"{session}.txt", "speaker": speaker, "participant": speaker, "start": 0,
                     "text": f"Speaker {speaker} says the night shifts never end, honestly.", "session": session,
                     "speaker_role": "participant", "kind": "turn", "role": role, "group": role + "s"})
        cods.append({"segment_id": i, "code_id": "night", "status": "accepted", "score": score, "origin": "rules",
                     "start": 0, "end": len(rows[-1]["text"]), "evidence": []})
    chosen = quotes(pd.DataFrame(rows), pd.DataFrame(cods), "night", n=3)
    assert chosen["speaker"].tolist() == ["A", "S", "D"]  # fg2's resident beats fg1's second and third
    old_rule = quotes(pd.DataFrame(rows), pd.DataFrame(cods), "night", n=3, diverse_by=("speaker", "group"))
    assert old_rule["speaker"].tolist() == ["A", "S", "B"]


def test_a_person_compared_with_the_machine_she_reviewed_is_told_it_is_not_independent():
    """Kappa 0.83 between a researcher and the auto-coder read as a validation, though most of her codes were the
    machine's suggestions she had accepted."""
    machine = [{"segment_id": s, "code_id": "a", "coder": "auto", "origin": "rules", "status": status,
                "decided_by": "ana"} for s, status in ((1, "accepted"), (2, "accepted"), (3, "rejected"))]
    codings = pd.DataFrame([*machine, _coding(4, "a", "ana")])
    result = reliability(_segments(5), codings, ["ana", "machine:auto"], n_boot=0)
    assert "2 of ana's 3 codes here are auto's suggestions ana accepted" in result.statement
    assert "not two independent codings" in result.statement
    apart = pd.DataFrame([_coding(1, "a", "ana"), _coding(2, "a", "ana"),
                          {"segment_id": 1, "code_id": "a", "coder": "auto", "origin": "rules", "status": "suggested",
                           "decided_by": None}])
    assert "independent" not in reliability(_segments(3), apart, ["ana", "machine:auto"], n_boot=0).statement
