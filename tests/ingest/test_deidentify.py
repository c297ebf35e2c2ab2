"""De-identification: roster names and aliases, other names, contact details; offsets stay valid."""

from __future__ import annotations

import json
import re

import pytest

import qualkit as qk
from qualkit.ingest.deidentify import Deidentifier


@pytest.fixture
def transcript(tmp_path):
    path = tmp_path / "fg.txt"
    path.write_text(
        "Focus group with Jill Smith and colleagues\n"
        "Moderator: Welcome. Jill, you start?\n"
        "Jill Smith, MD: Sure. Dr Smith here (laughs). Call me on +1 617-555-0143 or jill.smith@mgh.org.\n"
        "Dr Smith: Also see https://example.org/wellness. Dr. Raj Patel runs it; ask Sarah Jones.\n"
        "Moderator: Thanks. Raj, Sarah and Nurse Kim are not here today.\n"
        "Ben Ode: In 2019-2020 we had 12 beds. Ben again.\n", encoding="utf-8")
    return path


def test_deidentify_replaces_consistently_and_keeps_offsets(transcript, assert_accounted):
    roster = [qk.Participant("R01", pseudonym="Jill Smith, MD"), qk.Participant("M1", pseudonym="Moderator")]
    source = qk.read_transcript(transcript, participants=roster)
    result = qk.deidentify(source, participants=roster, ner=False)
    text = result.source.text
    for secret in ("Jill", "Smith", "617-555", "jill.smith", "example.org", "Raj", "Patel", "Sarah", "Jones",
                   "Kim", "Ben Ode"):
        assert secret not in text, secret
    assert "[R01]: Sure. [R01] here (laughs). Call me on [PHONE-1] or [EMAIL-1]." in text
    assert "[R01]: Also see [URL-1]. [PERSON-1] runs it; ask [PERSON-2]." in text
    assert "2019-2020 we had 12 beds" in text and "Moderator: Welcome." in text
    assert {s.label for s in result.source.speakers} == {"Moderator", "[R01]", "[P01]"}
    assert result.source.import_report.speakers == {"Moderator": 2, "[R01]": 2, "[P01]": 1}
    assert result.source.raw is None and result.source.metadata["deidentified"] is True
    assert_accounted(result.source)
    for old, new in zip(source.segments, result.source.segments, strict=True):
        assert (old.kind, old.turn, len(old.marks)) == (new.kind, new.turn, len(new.marks))
    laugh = next(m for s in result.source.segments for m in s.marks)
    assert text[laugh.start:laugh.end] == "(laughs)"
    key = result.key
    assert key["[R01]"]["participant"] == "R01" and "Dr Smith" in key["[R01]"]["originals"]
    assert set(key["[PERSON-1]"]["originals"]) >= {"Dr. Raj Patel"}
    report = result.report()
    assert len(report) == len(result.replacements) and set(report["kind"]) >= {"participant", "person", "email",
                                                                              "phone", "url"}
    row = report[report["original"] == "jill.smith@mgh.org"].iloc[0]
    assert text[row["new_start"]:row["new_end"]] == "[EMAIL-1]"
    assert source.text[row["start"]:row["end"]] == "jill.smith@mgh.org"


def test_pseudonyms_stay_consistent_across_sources_and_runs(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Ann Lee: Hi.\nBo: Hey Ann.\nAnn Lee: Ok.\n", encoding="utf-8")
    second.write_text("Bo: Where is Ann Lee?\nCy: Gone.\nBo: Ok.\n", encoding="utf-8")
    deidentifier = Deidentifier(ner=False)
    a = qk.deidentify(first, deidentifier=deidentifier).source.text
    b = qk.deidentify(second, deidentifier=deidentifier).source.text
    assert a.startswith("[P01]: Hi.\n[P02]: Hey [P01].") and b.startswith("[P02]: Where is [P01]?")
    key_path = deidentifier.write_key(tmp_path / "key.json")
    again = Deidentifier(ner=False, key=key_path)
    assert qk.deidentify(first, deidentifier=again).source.text == a
    assert json.loads(key_path.read_text(encoding="utf-8"))["[P01]"]["originals"][0] == "Ann Lee"


def test_ner_is_used_when_a_pipeline_is_given():
    class Ent:
        def __init__(self, start, end):
            self.start_char, self.end_char, self.label_ = start, end, "PERSON"

    class Doc:
        def __init__(self, text):
            start = text.index("Okonkwo")
            self.ents = [Ent(start, start + len("Okonkwo"))]

    source = qk.Source("a.txt", "We asked Okonkwo about it.", "txt")
    result = Deidentifier(ner=True, nlp=Doc).deidentify(source)
    assert result.source.text == "We asked [PERSON-1] about it."


def test_ner_true_without_a_trained_pipeline_says_how_to_get_one(monkeypatch):
    import qualkit.nlp

    monkeypatch.setattr(qualkit.nlp, "trained_pipeline_name", lambda: None)
    with pytest.raises(qk.MissingDependency):
        Deidentifier(ner=True).deidentify(qk.Source("a.txt", "text", "txt"))
    assert Deidentifier(ner="auto").deidentify(qk.Source("a.txt", "text", "txt")).source.text == "text"


@pytest.mark.parametrize(("text", "expected"), [
    ("Ask Maria Lopez.", "Ask [PERSON-1]."),
    ("Yesterday Emma said hi.", "Yesterday [PERSON-1] said hi."),
    ("Maria said hi, then Thanks Emma.", "[PERSON-1] said hi, then Thanks [PERSON-2]."),
    ("Honestly Sean O'Neil and Emma Watson-Brown run it.", "Honestly [PERSON-1] and [PERSON-2] run it."),
    ("Then Kim's shift started.", "Then [PERSON-1]'s shift started."),
    ("Ask Dr Patel. Thanks Nurse Kim.", "Ask [PERSON-1]. Thanks [PERSON-2]."),
    ("Yesterday Tendai called.", "Yesterday [PERSON-1] called."),
])
def test_names_right_after_another_capitalised_word_are_found(text, expected):
    result = qk.deidentify(qk.Source("a.txt", text, "txt"), names=["Tendai"], ner=False)
    assert result.source.text == expected


@pytest.mark.parametrize(("text", "expected"), [
    # one person written three ways keeps one pseudonym
    ("I told Anna Maria Lopez. Later Maria Lopez called, and Dr Lopez agreed.",
     "I told [PERSON-1]. Later [PERSON-1] called, and [PERSON-1] agreed."),
    # two people with one surname stay two, and a surname alone that could be either gets its own
    ("Maria Lopez and Carlos Lopez came; Dr Lopez left.", "[PERSON-1] and [PERSON-2] came; [PERSON-3] left."),
])
def test_one_person_named_several_ways_keeps_one_pseudonym(text, expected):
    result = qk.deidentify(qk.Source("a.txt", text, "txt"), ner=False)
    assert result.source.text == expected
    assert len(result.key) == len(set(re.findall(r"\[PERSON-\d+\]", expected)))  # the key agrees


def test_roster_names_after_a_capitalised_word_and_at_sentence_start():
    roster = [qk.Participant("R01", pseudonym="Jill Smith")]
    source = qk.Source("a.txt", "Ask Jill Smith. Jill was late. Tell Smith.", "txt")
    assert qk.deidentify(source, participants=roster, ner=False).source.text == "Ask [R01]. [R01] was late. Tell [R01]."


@pytest.mark.parametrize(("text", "expected"), [
    ("Ring me on 07700 900123 after six.", "Ring me on [PHONE-1] after six."),
    ("My cell is 5551234567, anytime.", "My cell is [PHONE-1], anytime."),
    ("Or (617) 555-0143, or +44 (0)20 7946 0958.", "Or [PHONE-1], or [PHONE-2]."),
    ("The rota is on stmarys.nhs.uk/rota, updated weekly.", "The rota is on [URL-1], updated weekly."),
    ("See bbc.co.uk or https://example.org/a?b=1.", "See [URL-1] or [URL-2]."),
    ("Mail ann.o'neil@x.org or 'bo@y.org'.", "Mail [EMAIL-1] or '[EMAIL-2]'."),
])
def test_phone_numbers_urls_and_emails_in_everyday_forms(text, expected):
    assert qk.deidentify(qk.Source("a.txt", text, "txt"), ner=False).source.text == expected


def test_times_dates_years_ages_and_amounts_are_not_contact_details():
    text = ("I was there 12 years, since 2019, [inaudible 00:12:03] at 14:30 on 12.03.2019; in 2019 2020 and "
            "2019-2020 we had 1234567 visits, 10.000.000 euros, 3.14159 beds, version 1.2.3, 24/7. "
            "Done.It was fine, e.g. this, i.e. that.")
    result = qk.deidentify(qk.Source("a.txt", text, "txt"), ner=False)
    assert result.source.text == text and result.replacements == []
