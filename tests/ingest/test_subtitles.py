"""WebVTT and SRT: voice tags, cue labels, merged turns, cue times, malformed files."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.errors import InvalidTranscript


def test_teams_vtt_voice_tags_merge_and_split(data, assert_accounted):
    source = qk.read_transcript(data / "teams.vtt")
    assert source.text == ("Nadia Haddad: Hi all, thanks for joining. Let's start with names.\n"
                           "Luis Ortega: Luis, unit clerk.\nOlga Petrova: Olga, scheduler.\n"
                           "Luis Ortega: Sorry, I'm on my phone in the car.\n(laughter)")
    got = [(s.kind, s.speaker, s.turn, s.time_start, s.time_end) for s in source.segments]
    assert got == [("turn", "Nadia Haddad", 0, 1.0, 7.5), ("turn", "Luis Ortega", 1, 8.0, 10.0),
                   ("turn", "Olga Petrova", 2, 8.0, 10.0), ("turn", "Luis Ortega", 3, 10.5, 13.0),
                   ("unattributed", None, None, 13.2, 14.0)]
    assert source.metadata["cues"]["0"] == [[1.0, 4.0], [4.0, 7.5]]
    assert source.import_report.label_style == "<v Name> (4)"
    assert_accounted(source)


def test_zoom_vtt_labels_in_cue_text_entities_and_tags(data, assert_accounted):
    source = qk.read_transcript(data / "zoom.vtt")
    assert source.text.split("\n") == [
        "Facilitator: Can everyone hear me? Great. So today is about workload and what gets in the way.",
        "Dana Kim: For me it's the inbox & the phone. I answer messages at 11 pm.",
        "Ravi Shah: Same. [crosstalk]",
        "Facilitator: Ravi, what would change that?",
        "Ravi Shah: Protected admin time. Real protected time.",
    ]
    assert source.segments[0].time_start == pytest.approx(2.12)
    assert source.import_report.moderators == ["Facilitator"]
    assert source.segments[2].marks[0].kind == "crosstalk"
    assert_accounted(source)


def test_srt_labels_tags_and_blank_line_inside_a_cue(data, assert_accounted):
    source = qk.read_transcript(data / "meeting.srt")
    assert source.text.split("\n") == [
        "MODERATOR: Okay, we're recording. What drains you most at work?",
        "PRIYA: The pager. It never stops. Even on my day off I hear it. Sometimes in my sleep.",
        "MARCUS: Charting. Hours of it.",
    ]
    assert [(s.speaker, s.time_start, s.time_end) for s in source.segments] == [
        ("MODERATOR", 1.0, 8.0), ("PRIYA", 8.4, 15.5), ("MARCUS", 16.0, 19.0)]
    assert any("line 17" in w for w in source.import_report.warnings)
    assert_accounted(source)


def test_vtt_without_speakers_is_unattributed_with_a_warning(tmp_path, assert_accounted):
    path = tmp_path / "auto.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello there\n\n"
                    "00:00:02.000 --> 00:00:03.000\nsecond line\nwraps here\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert source.text == "hello there\nsecond line wraps here"
    assert [s.kind for s in source.segments] == ["unattributed", "unattributed"]
    assert any("no cue names a speaker" in w for w in source.import_report.warnings)
    assert_accounted(source)


@pytest.mark.parametrize(("name", "content", "line", "message"), [
    ("a.vtt", "not a vtt\n\n00:00:01.000 --> 00:00:02.000\nHi\n", 1, "must start with the line WEBVTT"),
    ("b.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n00:00:02.000 --> 00:00:03.000\nYo\n", 5,
     "two timing lines"),
    ("c.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\nno timing here\n", 6, "has no timing line"),
    ("d.srt", "hello\n\n1\n00:00:01,000 --> 00:00:02,000\nHi\n", 1, "text before the first cue"),
    ("e.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:01 --> 00:00:02\nYo\n", 6, "malformed cue timing"),
    ("f.vtt", "WEBVTT\n\n", 1, "no subtitle cues found"),
    ("g.vtt", "WEBVTT - Zoom export\n\nNOTE recording stopped before anyone spoke\n", 1, "no subtitle cues found"),
    ("h.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann></v>\n", 1, "cues hold no text"),
    ("i.srt", "1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n", 1, "cues hold no text"),
])
def test_malformed_subtitles_name_the_line(tmp_path, name, content, line, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidTranscript, match=message) as caught:
        qk.read_transcript(path)
    assert caught.value.line == line and f"{name}:{line}:" in str(caught.value)


def test_sentences_of_a_merged_turn_carry_their_own_cue_times(tmp_path, assert_accounted):
    path = tmp_path / "zoom.vtt"
    path.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Nadia Haddad>Hi all, thanks for joining.</v>\n\n"
                    "00:00:04.000 --> 00:00:07.500\n<v Nadia Haddad>Let's start with names. I'm on nights,</v>\n\n"
                    "00:00:07.500 --> 00:00:09.000\n<v Nadia Haddad>mostly.</v>\n\n"
                    "00:00:09.200 --> 00:00:11.000\n<v Luis Ortega>Luis, unit clerk.</v>\n", encoding="utf-8")
    source = qk.read_transcript(path, segment_by="sentence")
    got = [(s.speaker, s.text, s.time_start, s.time_end) for s in source.segments]
    assert got == [("Nadia Haddad", "Hi all, thanks for joining.", 1.0, 4.0),
                   ("Nadia Haddad", "Let's start with names.", 4.0, 7.5),
                   ("Nadia Haddad", "I'm on nights, mostly.", 4.0, 9.0),
                   ("Luis Ortega", "Luis, unit clerk.", 9.2, 11.0)]
    assert [s.turn for s in source.segments] == [0, 0, 0, 1]
    assert_accounted(source)
    result = qk.deidentify(source, ner=False)
    offsets = result.source.metadata["cue_offsets"]["1"]
    assert [result.source.text[a:b] for a, b in offsets] == ["[P02], unit clerk."]


def test_labels_seen_once_in_every_cue_are_speakers_as_in_a_text_file(tmp_path):
    """A stranger's MODERATOR: and ZOE:, once each and in every cue, were left unattributed (and out of every
    count), where the same lines in a .txt are speakers."""
    path = tmp_path / "once.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nFacilitator: Welcome everyone, thanks for coming.\n\n"
                    "2\n00:00:04,000 --> 00:00:06,000\nP1: I have been on nights for a month.\n\n"
                    "3\n00:00:07,000 --> 00:00:09,000\nSarah: We never get a break on the ward.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert [s.speaker for s in source.segments] == ["Facilitator", "P1", "Sarah"]
    assert source.segments[2].text == "We never get a break on the ward."
    assert not source.import_report.warnings


def test_labels_seen_once_are_named_in_the_warning(tmp_path):
    """Seen by a new researcher: 'Facilitator:', 'P1:', 'Sarah:' once each, and the warning said no labels exist.
    (With a cue that has no label among them, a once-seen label may be words: they stay unattributed.)"""
    path = tmp_path / "once.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nFacilitator: Welcome everyone, thanks for coming.\n\n"
                    "2\n00:00:04,000 --> 00:00:06,000\nP1: I have been on nights for a month.\n\n"
                    "3\n00:00:07,000 --> 00:00:09,000\nSarah: We never get a break on the ward.\n\n"
                    "4\n00:00:10,000 --> 00:00:12,000\nAnd nobody asks how we are.\n", encoding="utf-8")
    [warning] = [w for w in qk.read_transcript(path).import_report.warnings if "seen only once" in w]
    assert "3 cue(s) begin with a 'Name:' label seen only once ('Facilitator', 'P1', 'Sarah')" in warning
    assert "participants file" in warning and "no cue names a speaker" not in warning
