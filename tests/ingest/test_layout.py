"""Transcript layouts strangers imported that qualkit misread (qualkit.ingest.layout and speakers).

Each test writes the file as the stranger's tool did (CRLF, an emoji in the talk) and checks speakers, talk,
times, where the label and non-talk characters went, and the no-text-lost accounting.
"""

from __future__ import annotations

import pytest

import qualkit as qk


def read(tmp_path, text: str, **options):
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8"))
    return qk.read_transcript(path, **options)


def turns(source):
    return [(s.speaker, s.text, s.time_start) for s in source.segments if s.kind == "turn"]


def labels(source):
    return [source.text[a:b] for a, b in source.metadata["label_spans"]]


# ---------------------------------------------------------------- 1. the label on a line of its own
OWN_LINE = ("Night shift study, interview 4\r\n\r\n"
            "INTERVIEWER\r\nHow was the night shift?\r\n\r\n"
            "P1\r\nLong. Nobody came. 😞\r\n\r\nThe bell rang and rang.\r\n\r\n"
            "INTERVIEWER\r\nWhy?\r\n\r\n"
            "P1\r\nStaff. 👩‍⚕️\r\nToo few of us.\r\n\r\n"
            "P2\r\nSame on my ward.\r\n\r\n"
            "INTERVIEWER\r\nThank you both.\r\n")


def test_a_label_on_its_own_line_above_the_talk_starts_a_turn(tmp_path, assert_accounted):
    """A stranger's "INTERVIEWER" above each question: every line came back unattributed, no turns at all."""
    source = read(tmp_path, OWN_LINE)
    assert turns(source) == [
        ("INTERVIEWER", "How was the night shift?", None),
        ("P1", "Long. Nobody came. 😞\r\n\r\nThe bell rang and rang.", None),
        ("INTERVIEWER", "Why?", None),
        ("P1", "Staff. 👩‍⚕️\r\nToo few of us.", None),
        ("P2", "Same on my ward.", None),  # seen once, but a role among roles, opening its paragraph
        ("INTERVIEWER", "Thank you both.", None)]
    assert labels(source) == ["INTERVIEWER", "P1", "INTERVIEWER", "P1", "P2", "INTERVIEWER"]
    assert [s.text for s in source.segments if s.kind == "unattributed"] == ["Night shift study, interview 4"]
    assert source.import_report.moderators == ["INTERVIEWER"]
    assert source.import_report.label_style == "Name (own line, talk below) (6)"
    assert_accounted(source)


def test_two_roles_each_on_their_own_line_read_as_an_interview(tmp_path, assert_accounted):
    source = read(tmp_path, "INTERVIEWER\r\nHow was the night shift?\r\n\r\nP1\r\nLong. Nobody came.\r\n")
    assert turns(source) == [("INTERVIEWER", "How was the night shift?", None), ("P1", "Long. Nobody came.", None)]
    assert_accounted(source)


def test_names_on_their_own_line_that_do_not_recur_are_reported_not_guessed(tmp_path, assert_accounted):
    text = "Ann Okafor\nHow was the night shift?\n\nBo\nLong. Nobody came.\n"
    source = read(tmp_path, text)
    assert turns(source) == []
    assert any("line 1: 'Ann Okafor'" in w and "line 4: 'Bo'" in w and "own" in w
               for w in source.import_report.warnings)
    named = read(tmp_path, text, aliases={"Bo": "Bo"})  # the user confirms: Bo is a speaker
    assert [s for s, _, _ in turns(named)] == ["Ann Okafor", "Bo"]
    assert_accounted(named)


def test_a_word_on_its_own_line_inside_a_turn_stays_talk_and_is_reported(tmp_path, assert_accounted):
    text = OWN_LINE.replace("The bell rang and rang.", "Long\r\nnights and long weeks.")
    source = read(tmp_path, text)
    assert turns(source)[1] == ("P1", "Long. Nobody came. 😞\r\n\r\nLong\r\nnights and long weeks.", None)
    assert any("'Long'" in w and "kept as text" in w for w in source.import_report.warnings)
    assert_accounted(source)


def test_own_line_labels_in_a_word_file(make_docx, assert_accounted):
    path = make_docx("g.docx", ["INTERVIEWER", "How was the night shift?", "P1", "Long.", "INTERVIEWER", "Why?",
                                "P1", "Staff."])
    source = qk.read_transcript(path)
    assert turns(source) == [("INTERVIEWER", "How was the night shift?", None), ("P1", "Long.", None),
                             ("INTERVIEWER", "Why?", None), ("P1", "Staff.", None)]
    assert_accounted(source)


@pytest.mark.parametrize("text", [
    # one-line paragraphs of prose: sentences, not labels
    "The night shift was long.\n\nNobody came.\n\nThe bell rang.\n\nWe waited.\n",
    # a name recurring on its own line in notes, not opening every paragraph, and no one else
    "Ann\nsaid the ward was short.\n\nThat was in May.\n\nAnn\nsaid it again later.\n\nNothing changed.\n",
    # short headings over paragraphs of a report
    "Staffing\nThe wards were short.\n\nOutcomes\nNo one was harmed.\n\nStaffing\nSee above.\n",
])
def test_ordinary_one_line_paragraphs_are_not_taken_for_labels(tmp_path, text):
    assert turns(read(tmp_path, text)) == []


def test_own_line_labels_and_a_closing_note(tmp_path, assert_accounted):
    source = read(tmp_path, OWN_LINE + "\r\n[END OF RECORDING]\r\n")
    assert turns(source)[-1] == ("INTERVIEWER", "Thank you both.", None)
    assert source.segments[-1].text == "[END OF RECORDING]" and source.segments[-1].kind == "unattributed"
    assert_accounted(source)


# ---------------------------------------------------------------- 2. a word with a colon inside a turn
def test_a_capitalised_word_with_a_colon_inside_a_turn_is_talk_not_a_speaker(tmp_path, assert_accounted):
    """A stranger's "URGENT: call back now" on the line below the start of P2's turn became a speaker URGENT."""
    text = ("P1: What happened on the ward? 🙂\r\nP2: We had a page that said\r\n"
            "URGENT: call back now, and nobody did.\r\nP1: Why not?\r\nP2: Nobody was free.\r\n")
    source = read(tmp_path, text)
    assert turns(source) == [
        ("P1", "What happened on the ward? 🙂", None),
        ("P2", "We had a page that said\r\nURGENT: call back now, and nobody did.", None),
        ("P1", "Why not?", None), ("P2", "Nobody was free.", None)]
    assert "URGENT" not in source.import_report.speakers
    assert any("'URGENT'" in w and "kept as text" in w for w in source.import_report.warnings)
    assert_accounted(source)


def test_a_colon_word_mid_line_never_splits_a_turn(tmp_path, assert_accounted):
    text = "P1: Hi.\nP2: We had a page that said URGENT: call back now, and nobody did.\nP1: Oh.\nP2: Yes.\n"
    source = read(tmp_path, text)
    assert [s for s, _, _ in turns(source)] == ["P1", "P2", "P1", "P2"]
    assert_accounted(source)


def test_a_one_off_speaker_written_like_the_others_still_gets_a_turn(tmp_path, assert_accounted):
    """Tightening the colon rule must not swallow a participant who speaks once (P3 below an unfinished line)."""
    source = read(tmp_path, "P1: Hi.\nP2: We had a page that said\nP3: Me too.\nP1: Oh.\nP2: Yes.\n")
    assert [s for s, _, _ in turns(source)] == ["P1", "P2", "P3", "P1", "P2"]
    assert_accounted(source)


def test_a_capitalised_one_off_named_as_a_participant_is_a_speaker(tmp_path, assert_accounted):
    text = "P1: Hi.\nP2: We had a page that said\nURGENT: call back now.\nP1: Oh.\nP2: Yes.\n"
    source = read(tmp_path, text, aliases={"URGENT": "URGENT"})
    assert [s for s, _, _ in turns(source)] == ["P1", "P2", "URGENT", "P1", "P2"]
    assert_accounted(source)


# ---------------------------------------------------------------- 3. Rev-style times after the name
REV = [
    ("Name: (00:03)", "Ann: (00:03)\r\nTired. 😴\r\n\r\nBo: (00:09)\r\nMe too.\r\n\r\nAnn: (01:00:15)\r\nYes.\r\n",
     ["Ann: (00:03)", "Bo: (00:09)", "Ann: (01:00:15)"]),
    ("Name: (00:03) words", "Ann: (00:03) Tired. 😴\r\nBo: [00:09] Me too.\r\nAnn: (01:00:15) Yes.\r\n",
     ["Ann: (00:03)", "Bo: [00:09]", "Ann: (01:00:15)"]),
    ("Name (00:03):", "Ann (00:03):\r\nTired. 😴\r\n\r\nBo (00:09):\r\nMe too.\r\n\r\nAnn (01:00:15):\r\nYes.\r\n",
     ["Ann (00:03):", "Bo (00:09):", "Ann (01:00:15):"]),
    ("Name 00:00:03", "Ann 00:00:03\r\nTired. 😴\r\n\r\nBo 00:00:09\r\nMe too.\r\n\r\nAnn 01:00:15\r\nYes.\r\n",
     ["Ann 00:00:03", "Bo 00:00:09", "Ann 01:00:15"]),
    ("Name 00:00:03 words", "Ann 00:00:03 Tired. 😴\r\nBo 00:00:09 Me too.\r\nAnn 01:00:15 Yes.\r\n",
     ["Ann 00:00:03", "Bo 00:00:09", "Ann 01:00:15"]),
]


@pytest.mark.parametrize(("style", "text", "label_texts"), REV, ids=[r[0] for r in REV])
def test_a_time_after_the_name_is_the_turn_time_not_talk(tmp_path, assert_accounted, style, text, label_texts):
    """Rev's "Ann: (00:03)" left "(00:03)" at the start of every quote and the turn without a time."""
    source = read(tmp_path, text)
    assert turns(source) == [("Ann", "Tired. 😴", 3.0), ("Bo", "Me too.", 9.0), ("Ann", "Yes.", 3615.0)]
    assert labels(source) == label_texts
    assert_accounted(source)


def test_a_clock_time_at_the_start_of_talk_is_not_a_label(tmp_path):
    source = read(tmp_path, "Ann: Hi.\nBo: When?\nAnn: Early.\nAt 10:30 we met.\nBo: Ok.\nAt 10:45 we left.\n")
    assert [s for s, _, _ in turns(source)] == ["Ann", "Bo", "Ann", "Bo"]


# ---------------------------------------------------------------- 4. a bracketed note below the last turn
ENDINGS = [
    ("[END OF RECORDING]", "[END OF RECORDING]", "interruption"),
    ("[Recording ends]", "[Recording ends]", "interruption"),
    ("[inaudible]", "[inaudible]", "inaudible"),
    ("blank line, [Recording ends 00:41:07]", "\r\n[Recording ends 00:41:07]", "interruption"),
    ("[Transcriber's note: audio quality poor]", "[Transcriber's note: audio quality poor]", "nonspeech"),
]


@pytest.mark.parametrize(("case", "note", "kind"), ENDINGS, ids=[e[0] for e in ENDINGS])
def test_a_bracketed_note_below_the_last_turn_is_a_mark_not_the_last_speakers_words(tmp_path, assert_accounted,
                                                                                   case, note, kind):
    """"[END OF RECORDING]" was glued into the last speaker's turn and coded as their words."""
    text = f"Ann: Tired. 😴\r\nBo: Me too.\r\nAnn: Yes, nights.\r\n{note}\r\n"
    source = read(tmp_path, text)
    assert source.text == text  # nothing removed
    assert turns(source)[-1] == ("Ann", "Yes, nights.", None)
    last = source.segments[-1]
    assert (last.kind, last.speaker, last.text) == ("unattributed", None, note.strip())
    assert [(source.text[m.start:m.end], m.kind) for m in last.marks] == [(note.strip(), kind)]
    assert last.clean_text.strip() == ""  # a coder reads nothing there
    assert_accounted(source)


def test_after_a_note_that_the_recording_ended_nothing_is_anyones_talk(tmp_path, assert_accounted):
    text = ("Ann: Tired.\nBo: Me too.\nAnn: Yes.\n[Recording ends]\nthanks everyone, see you\n"
            "Transcribed by Rev.com\n")
    source = read(tmp_path, text)
    assert turns(source)[-1] == ("Ann", "Yes.", None)
    assert [s.text for s in source.segments if s.kind == "unattributed"] == [
        "[Recording ends]", "thanks everyone, see you", "Transcribed by Rev.com"]
    assert_accounted(source)


def test_a_note_below_the_last_label_with_talk_after_it_stays_in_the_turn(tmp_path, assert_accounted):
    text = "Ann: Tired.\nBo: Me too.\nAnn: Yes.\n[phone stops ringing]\nas I was saying, nights.\n"
    source = read(tmp_path, text)
    assert turns(source)[-1] == ("Ann", "Yes.\n[phone stops ringing]\nas I was saying, nights.", None)
    assert_accounted(source)


def test_a_bracketed_note_inside_a_turn_stays_there_as_a_mark(tmp_path, assert_accounted):
    """Between lines of one speaker the note is part of that turn's span, blanked for coders, not read as talk."""
    text = "Ann: Tired.\nBo: It was\n[Participant 3 leaves the room]\nlong.\nAnn: Yes.\n"
    source = read(tmp_path, text)
    bo = next(s for s in source.segments if s.speaker == "Bo")
    assert bo.text == "It was\n[Participant 3 leaves the room]\nlong."
    assert [(source.text[m.start:m.end], m.kind) for m in bo.marks] == [("[Participant 3 leaves the room]",
                                                                        "nonspeech")]
    assert "leaves" not in bo.clean_text
    assert_accounted(source)


def test_a_bracketed_note_below_the_last_turn_of_a_word_file(make_docx, assert_accounted):
    path = make_docx("g.docx", [("Ann:", " Tired."), ("Bo:", " Me too."), ("Ann:", " Yes."), "[END OF RECORDING]"])
    source = qk.read_transcript(path)
    assert turns(source)[-1] == ("Ann", "Yes.", None)
    assert source.segments[-1].kind == "unattributed" and source.segments[-1].marks
    assert_accounted(source)


# ---------------------------------------------------------------- 5. web-page phrases people also say
def test_talk_that_starts_like_a_web_page_phrase_stays_the_speakers(tmp_path, assert_accounted):
    """"Login takes ages" on its own line was cut out of the turn as page furniture (a property test found it)."""
    source = read(tmp_path, "Ann: The rota is a mess.\r\nLogin takes ages on the ward PCs.\r\n"
                            "Ben: Same here 😩\r\nlogin again and again, every shift.\r\n\r\n"
                            "Subscribe to our newsletter\r\n")
    assert turns(source) == [("Ann", "The rota is a mess.\r\nLogin takes ages on the ward PCs.", None),
                             ("Ben", "Same here 😩\r\nlogin again and again, every shift.", None)]
    assert [s.text for s in source.segments if s.kind == "unattributed"] == ["Subscribe to our newsletter"]
    assert_accounted(source)
