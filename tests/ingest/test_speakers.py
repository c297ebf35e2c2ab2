"""Label shapes, merges, alias resolution and participants matching (unit level)."""

from __future__ import annotations

import pandas as pd
import pytest

import qualkit as qk
from qualkit.errors import InvalidInput
from qualkit.ingest.layout import is_chrome, parse_legend_line
from qualkit.ingest.participants import ParticipantIndex
from qualkit.ingest.speakers import (
    find_candidate,
    is_moderator_label,
    label_shape,
    name_key,
    propose_merges,
    resolve_speakers,
)


@pytest.mark.parametrize(("label", "shape"), [
    ("Ann", "name"), ("JILL SMITH", "name"), ("Dr. Ana de la Cruz", "name"), ("Jill Smith, MD, PhD", "name"),
    ("Søren Ærø", "name"), ("李雷", "name"), ("Mary-Jane O'Neil", "name"),
    ("I", "role"), ("I1", "role"), ("P3", "role"), ("Speaker 2", "role"), ("Interviewer", "role"),
    ("Participant 12", "role"), ("Moderator", "role"),
    ("Note", None), ("Section 2", None), ("Question 4", None), ("honestly", None), ("Crosstalk", None),
    ("Date", None), ("So my answer", None), ("A very long label that goes on and on", None),
])
def test_label_shape(label, shape):
    assert label_shape(label) == shape


def test_find_candidate_reports_style_time_and_prefix():
    line = "*1:40 = I1: text"
    candidate = find_candidate(line)
    assert (candidate.style, candidate.label, candidate.time, line[candidate.prefix_end:]) == ("star_time", "I1",
                                                                                             100.0, "text")
    assert find_candidate("http://example.org: x") is None
    assert find_candidate("10:30 we met") is None


def test_moderator_labels():
    assert all(is_moderator_label(x) for x in ("Moderator", "Interviewer 2", "I", "I1", "Facilitator", "Host"))
    assert not any(is_moderator_label(x) for x in ("R", "P1", "Respondent", "Ann"))


def test_merges_by_surname_initials_and_first_name_only_when_unique():
    assert propose_merges(["Jill Smith", "J. Smith", "Smith", "Jill"]) == {
        "J. Smith": "Jill Smith", "Smith": "Jill Smith", "Jill": "Jill Smith"}
    assert propose_merges(["Jill Smith", "Tom Smith", "Smith"]) == {}
    assert propose_merges(["Moderator", "Mod"]) == {}
    assert name_key("Prof. José  Núñez, PhD") == "jose nunez"
    # one person typed on two keyboards: a curly and a straight apostrophe stayed two speakers
    assert propose_merges(["Mary O’Neil", "Mary O'Neil"]) == {"Mary O'Neil": "Mary O’Neil"}


def test_resolution_never_joins_two_participants():
    resolution = resolve_speakers(["Sam Lee", "Lee"], participant_of={"Sam Lee": "P1", "Lee": "P2"})
    assert resolution.canonical == {"Sam Lee": "Sam Lee", "Lee": "Lee"}
    same = resolve_speakers(["DR ANA RUIZ", "Ana"], participant_of={"DR ANA RUIZ": "P1", "Ana": "P1"},
                            preferred={"P1": "Ana"})
    assert same.canonical == {"DR ANA RUIZ": "Ana", "Ana": "Ana"}


def test_legend_lines_and_chrome():
    assert parse_legend_line("P2 = nurse, 12 years") == [("P2", "nurse, 12 years")]
    assert parse_legend_line("Key: I = interviewer; R = respondent") == [("I", "interviewer"), ("R", "respondent")]
    assert parse_legend_line("x = y = z") is None
    assert is_chrome("Accept all cookies") and is_chrome("INTRODUCTION") and is_chrome("Question 4: Coping")
    assert not is_chrome("I subscribe to that view.") and not is_chrome("Note: recorded later.")


def test_read_participants_from_csv_and_frame(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("participant_id,pseudonym,aliases,role,years_in_role,score\n"
                    "R01,Ana Ruiz,Dr Ruiz;Ana,resident,3,2.5\nM1,Moderator,,moderator,,\n\n", encoding="utf-8")
    people = qk.read_participants(path)
    assert people[0] == qk.Participant("R01", pseudonym="Ana Ruiz", aliases=["Dr Ruiz", "Ana"],
                                       attributes={"role": "resident", "years_in_role": 3, "score": 2.5})
    assert people[1].attributes == {"role": "moderator"}
    frame = pd.DataFrame({"id": ["A", "B"], "name": ["Ann", "Bo"], "group": ["x", None]})
    assert [p.pseudonym for p in qk.read_participants(frame)] == ["Ann", "Bo"]
    # A stranger's "Role" column became an attribute of its own: the report grouped nobody by role and
    # credited every quote to "Participant".
    capital = pd.DataFrame({"Participant ID": ["P1"], "Role": ["Pharmacist"], "Site": ["North"], " GROUP": ["A"]})
    assert qk.read_participants(capital)[0].attributes == {"role": "Pharmacist", "site": "North", "group": "A"}


def test_participants_headers_are_read_as_the_codebook_reads_them_and_attributes_named_in_lower_case(tmp_path):
    # "Speaker label" (with a space) was not the label column, and "Grade"/"Site" kept their capitals while
    # role/session were lower-cased, so --by grade found nothing.
    path = tmp_path / "participants.csv"
    path.write_text("Participant ID,Speaker label,Grade,Site,Session,Years In Role\nP7,Zoe Hart,FY2,North,int01,2\n",
                    encoding="utf-8")
    person = qk.read_participants(path)[0]
    assert (person.id, person.pseudonym) == ("P7", "Zoe Hart")
    assert person.attributes == {"grade": "FY2", "site": "North", "session": "int01", "years in role": 2}
    transcript = tmp_path / "int01.txt"
    transcript.write_text("Interviewer: Your grade?\nZoe Hart: FY2.\n", encoding="utf-8")
    turn = next(s for s in qk.read_transcript(transcript, participants=[person]).segments if s.speaker == "Zoe Hart")
    assert turn.participant == "P7" and turn.attributes["grade"] == "FY2"


@pytest.mark.parametrize(("content", "message", "line"), [
    ("site,score\nN,3\n", "no participant id column", 1),
    ("participant_id,pseudonym\nR1,Ann\nR1,Bo\n", "appears twice", 3),
    ("participant_id,pseudonym\n,Ann\n", "has no id", 2),
    # A stranger's typo: the ids became an attribute and every pseudonym a new participant id, silently.
    ("partcipant,pseudonym,role\nx1,Zofia,nurse\n", "'partcipant' looks like a misspelt 'participant'", 1),
    # pandas said "ParserError: unexpected end of data", with no line
    ('participant_id,pseudonym,notes\nR1,Ann,ok\nR2,Bo,"unsure\nR3,Cy,ok\n', "quote opened in this row is never closed", 3),
])
def test_participants_errors_name_the_line(tmp_path, content, message, line):
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message) as caught:
        qk.read_participants(path)
    assert caught.value.line == line


def test_participant_index_prefers_the_session_named_in_the_file_name():
    people = [qk.Participant("fg1_mod", pseudonym="Moderator", attributes={"session": "fg1"}),
              qk.Participant("fg3_mod", pseudonym="Moderator", attributes={"session": "fg3"})]
    index = ParticipantIndex(people)
    assert index.match("Moderator", source_name="fg3_faculty.docx").id == "fg3_mod"
    assert index.match("Moderator", source_name="other.txt") is None
    assert [p.id for p in index.ambiguous("Moderator", "other.txt")] == ["fg1_mod", "fg3_mod"]


def test_participants_attach_attributes_roles_and_link_by_loose_name(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Facilitator: Why?\nDR. ANA RUIZ: Nights.\nFacilitator: And?\nDR. ANA RUIZ: Days.\n"
                    "Stranger: Hello.\nStranger: Bye.\n", encoding="utf-8")
    roster = [qk.Participant("R01", pseudonym="Ana Ruiz", attributes={"role": "resident", "years_in_role": 2}),
              qk.Participant("F1", pseudonym="Facilitator", attributes={"role": "moderator"})]
    source = qk.read_transcript(path, participants=roster)
    ana = next(s for s in source.speakers if s.participant == "R01")
    assert ana.attributes == {"role": "resident", "years_in_role": 2} and ana.role == "participant"
    segment = next(s for s in source.segments if s.participant == "R01")
    assert segment.attributes["years_in_role"] == 2
    assert source.import_report.moderators == ["Facilitator"]
    assert any("Stranger" in w and "match no participant" in w for w in source.import_report.warnings)
    # A moderator with no participant row is not warned of (a stranger read "(Moderator)" there as a fault).
    lone = tmp_path / "m.txt"
    lone.write_text("Moderator: Why?\nDR. ANA RUIZ: Nights.\nModerator: And?\nDR. ANA RUIZ: Days.\n", encoding="utf-8")
    assert not [w for w in qk.read_transcript(lone, participants=roster).import_report.warnings
                if "match no participant" in w]


def test_a_name_in_decomposed_unicode_is_a_speaker_not_talk_of_the_previous_one(tmp_path):
    import unicodedata

    text = "".join(f"Facilitator: Question {i}?\nJosé: Answer {i}.\nP2: Other {i}.\n" for i in range(5))
    path = tmp_path / "mac.txt"
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")  # "Jose" + combining acute accent
    source = qk.read_transcript(path)
    decomposed = unicodedata.normalize("NFD", "José")
    assert {s.speaker for s in source.segments} == {"Facilitator", decomposed, "P2"}
    answers = [s for s in source.segments if s.speaker == decomposed]
    assert [s.text for s in answers] == [f"Answer {i}." for i in range(5)]
    assert all(source.text[s.start:s.end] == s.text for s in source.segments)  # offsets into the file as it is
