"""Plain-text and Markdown transcripts: label styles, legends, chrome, notes, marks, aliases, roles."""

from __future__ import annotations

import pytest

import qualkit as qk


def turns(source):
    return [(s.speaker, s.text) for s in source.segments if s.kind == "turn"]


STYLES = [
    ("Name:", "Ann: Tired.\nBo: Me too.\nAnn: Yes.\n", "Ann", "Tired."),
    ("NAME:", "ANN: Tired.\nBO: Me too.\nANN: Yes.\n", "ANN", "Tired."),
    ("Dr Name:", "Dr Okafor: Tired.\nDr Haddad: Me too.\nDr Okafor: Yes.\n", "Dr Okafor", "Tired."),
    ("Name, MD:", "Jill Smith, MD: Tired.\nBo Lee, RN: Me too.\nJill Smith, MD: Yes.\n", "Jill Smith, MD", "Tired."),
    ("[Name]", "[Ann] Tired.\n[Bo] Me too.\n[Ann] Yes.\n", "Ann", "Tired."),
    ("**Name:**", "**Ann:** Tired.\n**Bo:** Me too.\n**Ann:** Yes.\n", "Ann", "Tired."),
    ("Name (time):", "Ann (00:01:02): Tired.\nBo (00:01:09): Me too.\nAnn (00:01:15): Yes.\n", "Ann", "Tired."),
    ("time Name:", "00:01:02 Ann: Tired.\n00:01:09 Bo: Me too.\n00:01:15 Ann: Yes.\n", "Ann", "Tired."),
    ("[time] Name:", "[00:01:02] Ann: Tired.\n[00:01:09] Bo: Me too.\n[00:01:15] Ann: Yes.\n", "Ann", "Tired."),
    ("I:/R:", "I: Why?\nR: Nights.\nI: And?\nR: Days.\n", "I", "Why?"),
    ("I1:/P3:", "I1: Why?\nP3: Nights.\nI1: And?\nP3: Days.\n", "I1", "Why?"),
    ("*time = I1:", "*1:40 = I1: Why?\n*1:52 = P3: Nights.\n*2:10 = I1: And?\n", "I1", "Why?"),
    # a stranger's nurse ("R1 - ...") ran into the interviewer's turns, so every analysis lost her words
    ("R1 - ", "INT: Why?\nR1 - Nights - all of them.\nINT: And?\nR1 – Days.\n", "INT", "Why?"),
    ("(time) [Name]", "(00:00:05) [Interviewer] Why?\n(00:00:09) [Nurse A] Nights.\n(00:00:15) [Interviewer] And?\n",
     "Interviewer", "Why?"),
]


@pytest.mark.parametrize(("style", "text", "first_speaker", "first_text"), STYLES, ids=[s[0] for s in STYLES])
def test_each_label_style_gives_turns_with_text_after_the_label(tmp_path, assert_accounted, style, text,
                                                                  first_speaker, first_text):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    source = qk.read_transcript(path)
    assert turns(source)[0] == (first_speaker, first_text)
    assert len(turns(source)) == text.count("\n")
    assert_accounted(source)


@pytest.mark.parametrize(("text", "reported"), [
    ("00:01:02 Ann: Tired.\n00:01:09 Bo: Me too.\n00:01:15 Ann: Yes.\n", "00:01:02 Name: (3)"),
    ("[00:01:02] Ann: Tired.\n[00:01:09] Bo: Me too.\n[00:01:15] Ann: Yes.\n", "[00:01:02] Name: (3)"),
    ("(00:01:02) Ann: Tired.\n(00:01:09) Bo: Me too.\n(00:01:15) Ann: Yes.\n", "(00:01:02) Name: (3)"),
])
def test_the_report_names_the_timestamp_style_as_written(tmp_path, text, reported):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    assert qk.read_transcript(path).import_report.label_style == reported


def test_a_dash_after_a_role_code_is_a_label_but_a_stammer_or_a_word_is_talk(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("INT: Why?\nR1 - Nights.\nINT: And?\nR1 - I - I mean, days.\nWell - no.\nI - I said so.\n",
                    encoding="utf-8")
    assert turns(qk.read_transcript(path)) == [("INT", "Why?"), ("R1", "Nights."), ("INT", "And?"),
                                               ("R1", "I - I mean, days.\nWell - no.\nI - I said so.")]


def test_timestamps_become_turn_times(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("[00:01:02] Ann: Tired.\n[01:00:09.5] Bo: Me too.\n[01:01:15] Ann: Yes.\n", encoding="utf-8")
    times = [s.time_start for s in qk.read_transcript(path).segments]
    assert times == [62.0, 3609.5, 3675.0]


def test_a_timestamp_on_its_own_line_dates_the_turn_below_it(tmp_path, assert_accounted):
    """A transcription service's "[00:00:05]" above each turn: the first became an unattributed segment and the
    others ran into the turn before it, shown in its quotes."""
    path = tmp_path / "t.txt"
    path.write_bytes(b"[00:00:05]\r\nInterviewer: How are the nights?\r\n\r\n(00:01:10)\r\n\r\n"
                     b"P07: Exhausting [00:01:12] really.\r\nAnd more.\r\n")
    source = qk.read_transcript(path)
    assert [(s.speaker, s.text, s.time_start) for s in source.segments] == [
        ("Interviewer", "How are the nights?", 5.0), ("P07", "Exhausting [00:01:12] really.\r\nAnd more.", 70.0)]
    assert source.import_report.unattributed == 0
    assert_accounted(source)


def test_a_footnote_after_the_last_turn_is_not_the_last_speakers_talk(tmp_path, assert_accounted):
    """A stranger's transcript ended with "¹ Transcribed verbatim; ...", counted as the nurse's words."""
    path = tmp_path / "t.txt"
    path.write_text("I: Thank you.\nR: Thank you for asking.\nNobody does.\n\n¹ Transcribed verbatim; names removed.\n",
                    encoding="utf-8")
    source = qk.read_transcript(path)
    assert turns(source)[-1] == ("R", "Thank you for asking.\nNobody does.")
    assert [s.text for s in source.segments if s.kind == "unattributed"] == ["¹ Transcribed verbatim; names removed."]
    assert_accounted(source)


def test_podcast_webpage_keeps_boilerplate_unattributed_and_follows_the_style_change(data, assert_accounted):
    source = qk.read_transcript(data / "podcast_webpage.txt")
    report = source.import_report
    assert set(report.speakers) == {"Jordan Lee", "Maya Patel", "Sam Rivera"}
    assert report.speakers == {"Jordan Lee": 6, "Maya Patel": 4, "Sam Rivera": 4}
    assert report.proposed_merges == {"SAM RIVERA": "Sam Rivera"}
    assert report.moderators == ["Jordan Lee"]
    unattributed = [s.text for s in source.segments if s.kind == "unattributed"]
    for chrome in ("Skip to main content", "Accept all cookies", "Transcript", "Advertisement",
                   "Subscribe to The Night Shift wherever you get your podcasts.", "Share this episode",
                   "© 2024 Night Shift Media. All rights reserved.", "Privacy Policy | Terms of Use"):
        assert chrome in unattributed
    assert report.unattributed == len(unattributed) == 20
    assert report.unattributed_examples[0] == "Skip to main content"
    # "Note:" inside a turn is not a new speaker; the turn runs on over it
    maya = [s for s in source.segments if s.speaker == "Maya Patel"][1]
    assert maya.text.startswith("Honestly?") and "Note: the next part" in maya.text and maya.text.endswith("station.")
    # the second half uses "Name (00:14:02):" labels with times
    assert [s.time_start for s in source.segments if s.kind == "turn"][-6:] == [842.0, 850.0, 901.0, 920.0, 930.0,
                                                                                 962.0]
    assert "Name (00:01:02):" in report.label_style and "**Name:**" in report.label_style
    assert_accounted(source)


def test_interview_with_legend_block_and_note_line(data, assert_accounted):
    source = qk.read_transcript(data / "interview_ir.txt")
    legend = [s for s in source.segments if s.kind == "legend"]
    assert [s.text for s in legend] == ["I: Interviewer", "R: Respondent, ICU nurse, 12 years"]
    assert source.metadata["legend"] == {"I": "Interviewer", "R": "Respondent, ICU nurse, 12 years"}
    speakers = {s.label: s for s in source.speakers}
    assert speakers["I"].role == "moderator" and speakers["R"].role == "participant"
    assert speakers["R"].attributes["legend"] == "Respondent, ICU nurse, 12 years"
    assert source.import_report.speakers == {"I": 5, "R": 5}
    second = [s for s in source.segments if s.speaker == "R"][1]
    assert second.text.endswith("Note: the respondent asked that the unit name not be recorded.")
    assert [s.turn for s in source.segments if s.kind == "turn"] == list(range(10))
    assert_accounted(source)


def test_equals_legend_and_star_timestamps(data, assert_accounted):
    source = qk.read_transcript(data / "legend_timestamps.txt")
    assert source.metadata["legend"]["P2"] == "physician, 3 years, female"
    assert sorted(source.import_report.moderators) == ["I1", "I2"]
    first = next(s for s in source.segments if s.kind == "turn")
    assert (first.speaker, first.time_start, first.text[:5]) == ("I1", 12.0, "Okay,")
    assert {s.label: s.attributes.get("legend") for s in source.speakers}["P3"] == "porter"
    assert_accounted(source)


def test_otter_header_lines_with_words_on_following_lines(data, assert_accounted):
    source = qk.read_transcript(data / "otter_export.txt")
    assert turns(source)[1] == ("Speaker 2", "Mixed, honestly. The protected lunch hour worked for about two weeks.\n"
                                             "Then census went up and it disappeared.")
    assert [s.time_start for s in source.segments if s.kind == "turn"] == [3.0, 11.0, 42.0, 65.0, 69.0, 90.0]
    assert_accounted(source)


def test_markdown_headings_and_page_furniture_are_unattributed(data, assert_accounted):
    source = qk.read_transcript(data / "rev_export.md")
    assert source.format == "md"
    assert [s.text for s in source.segments if s.kind == "unattributed"] == [
        "# Interview with a hospitalist", "## Part 1: Background", "## Part 2: Workload", "---", "Page 2 of 2"]
    assert source.import_report.moderators == ["Interviewer"]
    assert turns(source)[-1][1] == "The inbox. Messages, prior auths, forms. (sighs)\nIt's a second job after the first job."
    assert_accounted(source)


def test_aliases_case_title_and_bracket_variants_merge(data, assert_accounted):
    source = qk.read_transcript(data / "aliases.txt")
    report = source.import_report
    assert report.proposed_merges == {"MODERATOR": "Moderator", "BEN ODE": "Ben Ode", "Dr Smith": "Jill Smith, MD"}
    assert report.speakers == {"Moderator": 3, "Jill Smith, MD": 4, "Ben Ode": 3, "Tomás Núñez": 1}
    jill = next(s for s in source.speakers if s.label == "Jill Smith, MD")
    assert jill.aliases == ["Dr Smith"]
    assert_accounted(source)


def test_alias_map_overrides_and_can_keep_a_proposed_merge_apart(data):
    kept = qk.read_transcript(data / "aliases.txt", aliases={"Dr Smith": "Dr Smith"})
    assert "Dr Smith" in kept.import_report.speakers
    renamed = qk.read_transcript(data / "aliases.txt", aliases={"Dr Smith": "Jill S.", "Jill Smith, MD": "Jill S."})
    assert renamed.import_report.speakers["Jill S."] == 4


def test_merge_speakers_false_only_proposes(data):
    source = qk.read_transcript(data / "aliases.txt", merge_speakers=False)
    assert "Dr Smith" in source.import_report.speakers
    assert source.import_report.proposed_merges["Dr Smith"] == "Jill Smith, MD"


def test_label_like_words_inside_turns_are_not_speakers(tmp_path, assert_accounted):
    text = ("Moderator: What gets in the way?\n"
            "Ann: The EHR. Honestly: it never ends.\n"
            "Note: this is a transcriber note.\n"
            "So my answer: no.\n"
            "Moderator: Thanks. Anything else?\n"
            "Ann: Section 2: nothing.\n")
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    source = qk.read_transcript(path)
    assert source.import_report.speakers == {"Moderator": 2, "Ann": 2}
    assert turns(source)[1][1] == ("The EHR. Honestly: it never ends.\nNote: this is a transcriber note.\n"
                                   "So my answer: no.")
    assert_accounted(source)


def test_label_seen_once_is_kept_as_text_with_a_warning_unless_it_is_a_name(tmp_path):
    text = ("Moderator: Why?\nAnn: Nights.\nHonestly: yes.\nModerator: And you, Dana?\nAnn: Days.\n"
            "Dana: Weekends, and I mean it honestly.\n")
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    source = qk.read_transcript(path)
    assert source.import_report.speakers == {"Moderator": 2, "Ann": 2, "Dana": 1}
    lone = "Exhausted: yes, always exhausted."
    path.write_text(text.replace("Honestly: yes.", lone), encoding="utf-8")
    source = qk.read_transcript(path)
    assert "Exhausted" not in source.import_report.speakers
    assert any("'Exhausted'" in w for w in source.import_report.warnings)


def test_known_participant_labels_are_speakers_even_when_seen_once(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Moderator: Why?\nAnn: Nights.\nModerator: And?\nAnn: Days, sunny ones.\nSunny: fine.\n",
                    encoding="utf-8")
    assert "Sunny" not in qk.read_transcript(path).import_report.speakers
    roster = [qk.Participant("X1", pseudonym="Sunny")]
    assert qk.read_transcript(path, participants=roster).import_report.speakers["Sunny"] == 1


def test_non_speech_marks_are_kept_in_text_and_marked(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Ann: Yes (laughs) and [inaudible 00:12:03] then [crosstalk].\nK: (K griner) ja.\n"
                    "Ann: Ok.\nK: Ja.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    first = source.segments[0]
    assert [(first.text[m.start - first.start:m.end - first.start], m.kind) for m in first.marks] == [
        ("(laughs)", "laughter"), ("[inaudible 00:12:03]", "inaudible"), ("[crosstalk]", "crosstalk")]
    assert first.clean_text == "Yes          and                      then            ."
    assert source.segments[1].marks[0].kind == "laughter"
    assert source.import_report.marks == 4


def test_moderator_found_by_questions_when_no_label_says_so(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Priya: How are you?\nAnn: Tired.\nPriya: Why is that?\nBo: Nights.\nPriya: And weekends?\n"
                    "Ann: Those too.\nPriya: Anything else?\nBo: No.\n", encoding="utf-8")
    assert qk.read_transcript(path).import_report.moderators == ["Priya"]
    assert qk.read_transcript(path, moderators=["Ann"]).import_report.moderators == ["Ann"]


def test_no_labels_at_all_gives_unattributed_lines_and_a_warning(tmp_path, assert_accounted):
    path = tmp_path / "t.txt"
    path.write_text("just some notes\nwithout any speakers\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert [s.kind for s in source.segments] == ["unattributed", "unattributed"]
    assert any("no speaker turns" in w for w in source.import_report.warnings)
    assert_accounted(source)


def test_label_on_its_own_line_takes_the_following_lines(tmp_path, assert_accounted):
    path = tmp_path / "t.txt"
    path.write_text("Moderator:\nWhat drains you?\n\nAnn:\nThe inbox.\nEvery night.\n\nModerator:\nThanks.\n",
                    encoding="utf-8")
    source = qk.read_transcript(path)
    assert turns(source) == [("Moderator", "What drains you?"), ("Ann", "The inbox.\nEvery night."),
                             ("Moderator", "Thanks.")]
    assert_accounted(source)


def test_heading_inside_a_turn_splits_it_into_two_pieces_of_the_same_turn(tmp_path, assert_accounted):
    path = tmp_path / "t.md"
    path.write_text("Moderator: Go on.\nAnn: First part.\n\n## Part 2\n\nSecond part, same speaker.\n"
                    "Moderator: Thanks.\nAnn: Ok.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    got = [(s.kind, s.speaker, s.turn, s.text) for s in source.segments]
    assert got == [("turn", "Moderator", 0, "Go on."), ("turn", "Ann", 1, "First part."),
                   ("unattributed", None, None, "## Part 2"), ("turn", "Ann", 1, "Second part, same speaker."),
                   ("turn", "Moderator", 2, "Thanks."), ("turn", "Ann", 3, "Ok.")]
    assert source.import_report.speakers == {"Moderator": 2, "Ann": 2}
    assert_accounted(source)


def read_text(tmp_path, text, **options):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    return qk.read_transcript(path, **options)


def test_opening_turns_that_run_on_into_the_talk_are_not_a_legend(tmp_path, assert_accounted):
    text = ("Interview 3, ward 7\n"
            "Interviewer: Your current role\nNurse: Charge nurse, ICU\n"
            "Interviewer: And how many years in post?\nNurse: Twelve years.\n")
    source = read_text(tmp_path, text)
    assert not [s for s in source.segments if s.kind == "legend"] and "legend" not in source.metadata
    assert turns(source) == [("Interviewer", "Your current role"), ("Nurse", "Charge nurse, ICU"),
                             ("Interviewer", "And how many years in post?"), ("Nurse", "Twelve years.")]
    assert source.import_report.speakers == {"Interviewer": 2, "Nurse": 2}
    assert_accounted(source)


@pytest.mark.parametrize(("text", "legend"), [
    ("I1: Interviewer 1\nP1: Participant 1\n\nI1: How was the week?\nP1: Long.\nI1: Why?\nP1: Nights.\n",
     {"I1": "Interviewer 1", "P1": "Participant 1"}),
    ("M: Man\nW: Woman\n\nM: I do nights.\nW: I do days.\nM: Always.\nW: Never.\n", {"M": "Man", "W": "Woman"}),
    ("P2 = nurse, 12 years\nI = interviewer\nI: Why?\nP2: Nights.\nI: And?\nP2: Days.\n",
     {"P2": "nurse, 12 years", "I": "interviewer"}),
])
def test_legends_without_a_heading_are_still_legends(tmp_path, assert_accounted, text, legend):
    source = read_text(tmp_path, text)
    assert source.metadata["legend"] == legend
    assert len([s for s in source.segments if s.kind == "legend"]) == len(legend)
    assert len(turns(source)) == 4
    assert_accounted(source)


def test_a_block_that_might_be_a_legend_is_read_as_turns_with_a_warning(tmp_path):
    source = read_text(tmp_path, "I: Your current role\nR: Charge nurse, ICU\nI: And how long?\nR: Twelve years.\n")
    assert [s.speaker for s in source.segments] == ["I", "R", "I", "R"]
    assert any("lines 1-2 could be a speaker key" in w for w in source.import_report.warnings)


@pytest.mark.parametrize("opener", ["Dr Okafor", "Moderator"])
def test_a_speaker_who_talks_once_before_the_others_is_a_speaker(tmp_path, assert_accounted, opener):
    text = (f"{opener}: Welcome everyone, thanks for coming. Let's go round the table.\n"
            "Ann: I'm Ann, ward nurse.\nBob: Bob, porter.\nAnn: Nights, mostly.\nBob: Days for me.\n")
    source = read_text(tmp_path, text)
    assert turns(source)[0] == (opener, "Welcome everyone, thanks for coming. Let's go round the table.")
    assert source.import_report.speakers == {opener: 1, "Ann": 2, "Bob": 2}
    assert source.import_report.unattributed == 0
    assert_accounted(source)


def test_metadata_lines_above_the_talk_stay_text_and_are_reported(tmp_path, assert_accounted):
    text = ("Host: Jordan Lee\n\nMaya Patel: Thanks for having me.\nSam Rivera: Glad to be here.\n"
            "Maya Patel: Shall we start?\nSam Rivera: Sure.\n")
    source = read_text(tmp_path, text)
    assert [s.text for s in source.segments if s.kind == "unattributed"] == ["Host: Jordan Lee"]
    assert any("line 1: 'Host'" in w for w in source.import_report.warnings)
    assert_accounted(source)


def test_weekdays_and_months_inside_a_turn_are_not_speakers(tmp_path, assert_accounted):
    text = ("Moderator: How is your rota?\n"
            "Ann: Monday: nights.\nTuesday: days.\nMay: off, if I am lucky.\n"
            "Moderator: And next month?\n"
            "Ann: Monday: nights.\nTuesday: days.\nMay: the same again.\n")
    source = read_text(tmp_path, text)
    assert source.import_report.speakers == {"Moderator": 2, "Ann": 2}
    assert turns(source)[1][1] == "Monday: nights.\nTuesday: days.\nMay: off, if I am lucky."
    assert_accounted(source)
    roster = [qk.Participant("P1", pseudonym="May")]
    named = read_text(tmp_path, "Moderator: Hi May.\nMay: Hi.\nModerator: Ready?\nMay: Yes.\n", participants=roster)
    assert named.import_report.speakers == {"Moderator": 2, "May": 2}


def test_a_name_written_in_lower_case_or_with_a_note_in_brackets_is_still_its_speaker(tmp_path, assert_accounted):
    """A stranger's focus group wrote "helen:", "łukasz :" and "Helen (facilitator):" beside "Helen:": 79 of 238
    turns ran into the turn before, so their words were credited to someone else (or to the moderator)."""
    text = ("Helen: Welcome, everyone.\r\nKwame: Thanks.\r\nŁukasz: Nights are hard.\r\n"
            "helen: Why nights?\r\nkwame: No cover.\r\nłukasz : Me too 😩.\r\n"
            "Helen (facilitator): Anything else?\r\nKwame: No.\r\nnote: the rota changed in May\r\n")
    source = read_text(tmp_path, text)
    said = turns(source)
    assert [speaker for speaker, _ in said] == ["Helen", "Kwame", "Łukasz", "Helen", "Kwame", "Łukasz", "Helen",
                                                "Kwame"]
    assert said[5][1] == "Me too 😩." and said[6][1] == "Anything else?"
    assert said[-1][1] == "No.\r\nnote: the rota changed in May"  # a lower-case word nobody is called stays text
    assert_accounted(source)
