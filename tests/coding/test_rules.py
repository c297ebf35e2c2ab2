"""RuleCoder: lemma and lower-case cue matching, patterns, negation and hypotheticals, evidence offsets."""

from __future__ import annotations

import pytest

from qualkit.coding.rules import RuleCoder, clause_modifier
from qualkit.model import Code, Codebook, Mark, Segment


@pytest.fixture
def coder(mini_codebook, nlp):
    return RuleCoder(mini_codebook, nlp=nlp).fit()


@pytest.mark.parametrize("text", [
    "I never felt isolated, honestly.",
    "I don't feel isolated at all.",
    "Nobody here is lonely.",
    "If I were isolated I would say so.",
    "Imagine being on my own for a whole year.",
    "I never, ever felt isolated.",
    "I have not, honestly, felt isolated.",
    "I would be isolated if I worked nights.",
    "I'd be so lonely without them.",
    "Had I been isolated, I would have said so.",
    "Were I lonely I would tell you.",
    "Nobody here is lonely, ever.",
])
def test_negated_and_hypothetical_cues_do_not_code(coder, text):
    assert coder.predict([text]) == [[]]
    scores = coder.predict_scores([text])
    assert 0 < scores.loc[0, "isolation"] < 0.2  # lowered, not ignored


@pytest.mark.parametrize("text", [
    "I felt so isolated on nights.",
    "Honestly? Isolated. Totally isolated.",
    "I have never been so isolated in my life.",
    "It's not just that I'm lonely, it's everything.",
    "I feel as if I'm on my own out there.",
    "No, I was isolated.",
    "No, honestly, I was isolated.",
    "Without a doubt I was isolated.",
    "No doubt I was lonely.",
    "I'm not the only one who is isolated.",
    "I didn't realise how isolated I was.",
    "I was isolated, if I'm honest.",
    "I slept badly, I never ate, and I was isolated.",
    "Even if the team is nice, I'm lonely.",
])
def test_plain_intensified_and_as_if_cues_code(coder, text):
    assert coder.predict([text]) == [["isolation"]]


@pytest.mark.parametrize(("text", "modifier"), [
    ("I never felt isolated and lonely", "never"),  # "and" between two adjectives keeps the negation
    ("I never ate and I was lonely", None),  # "and" before a new subject ends the clause
    ("I'd be isolated if I moved", "'d"),
    ("I was isolated if I moved to nights", "if"),  # a condition after the cue, in its clause
    ("I was not, like, isolated", "not"),
])
def test_clause_scope(coder, text, modifier):
    hits = coder.hits([text])[0]["isolation"]
    assert hits[-1].modifier == modifier


def test_shipped_burned_out_patterns(burnout, nlp):
    coder = RuleCoder(burnout, nlp=nlp).fit()
    found = coder.predict(["They're all burned out.", "Everybody on the unit is burnt out.", "My burnout got worse."])
    assert all("emotional_exhaustion" in codes for codes in found)
    assert "emotional_exhaustion" not in coder.predict(["I would be burned out if I had more shifts."])[0]


def test_remove_and_ignore_negation_modes(mini_codebook, nlp):
    text = ["I never felt isolated"]
    assert RuleCoder(mini_codebook, negation="remove", nlp=nlp).fit().predict_scores(text).loc[0, "isolation"] == 0
    assert RuleCoder(mini_codebook, negation="ignore", nlp=nlp).fit().predict(text) == [["isolation"]]


def test_lemmas_and_case(coder):
    # "Exhausting" and "EXHAUSTED" reach the cue "exhausted" through the lemma "exhaust".
    assert coder.predict(["Exhausting week.", "EXHAUSTED", "Draining, all of it"]) == [
        ["exhaustion"], ["exhaustion"], ["exhaustion"]]


def test_clause_boundaries_limit_negation(nlp):
    doc = nlp.make_doc("I did not sleep, but I was isolated")
    assert clause_modifier(doc, len(doc) - 1) is None
    doc = nlp.make_doc("if I am honest , isolated")
    assert clause_modifier(doc, len(doc) - 1) is None


def test_overlapping_cues_count_once(nlp):
    book = Codebook("m", [Code("x", "X", cues=["exhausted", "exhausting", "so exhausted"])])
    coder = RuleCoder(book, nlp=nlp).fit()
    assert coder.predict_scores(["I am so exhausted"]).loc[0, "x"] == pytest.approx(0.75)
    assert coder.predict_codings(["I am so exhausted"])[0].rationale == 'cue "so exhausted"'


def test_evidence_is_the_matched_tokens_as_absolute_offsets(coder, small_source):
    text = "Béla: Charting at night, then prior auths. Exhausted (laughs)."
    start = text.index("Charting")
    segment = Segment("s.txt", start, len(text), text[start:], speaker="Béla", id=7)
    codings = {c.code_id: c for c in coder.predict_codings([segment])}
    paperwork = codings["paperwork"]
    assert paperwork.segment_id == 7 and paperwork.origin == "rules" and paperwork.status == "suggested"
    assert [text[s:e] for s, e in paperwork.evidence] == ["Charting", "prior auths"]
    assert paperwork.rationale == 'cue "charting"; pattern "prior auths"'
    assert [text[s:e] for s, e in codings["exhaustion"].evidence] == ["Exhausted"]


def test_moderators_and_marks_are_not_coded(coder, small_source, mini_codebook, nlp):
    moderator = Segment("t", 0, 14, "Feel isolated?", role="moderator", id=1)
    marked = Segment("t", 20, 39, "Yes [isolated] well", marks=[Mark(24, 34)], id=2)
    assert coder.predict([moderator, marked]) == [[], []]
    everyone = RuleCoder(mini_codebook, code_moderators=True, nlp=nlp).fit()
    assert everyone.predict([moderator]) == [["isolation"]]


def test_hits_report_cues_and_modifiers(coder):
    hits = coder.hits(["I never felt isolated but so lonely"])[0]["isolation"]
    assert {(h.label, h.modifier) for h in hits} == {("isolated", "never"), ("lonely", None)}


def test_the_reason_names_the_words_a_cue_matched_when_they_differ_from_it():
    """A stranger saw "Why: cue 'leaving'" on "technicians left in the autumn" and could not see the match."""
    from qualkit.model import Code, Codebook

    book = Codebook("m", [Code("leaving", "Leaving", cues=["leaving"])])
    coder = RuleCoder(book).fit()
    assert coder.predict_codings(["Two technicians left in the autumn"])[0].rationale == 'cue "leaving" (as "left")'
    assert coder.predict_codings(["I am leaving"])[0].rationale == 'cue "leaving"'
