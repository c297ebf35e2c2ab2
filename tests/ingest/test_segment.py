"""Sentence and window segmentation keep speaker, role, turn, times, participant, marks and attributes."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.errors import QualkitError


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Title line\r\n[00:00:05] Moderator: How are you? Be honest.\r\n"
                    "[00:00:09] Ann: Tired (laughs). Really tired. Nights again.\r\nThen the inbox.\r\n"
                    "[00:00:20] Moderator: Thanks.\r\n[00:00:30] Ann: Ok.\r\n", encoding="utf-8")
    roster = [qk.Participant("R1", pseudonym="Ann", attributes={"role": "resident"})]
    return qk.read_transcript(path, participants=roster)


def test_sentences(source, assert_accounted):
    sentences = qk.segment(source, by="sentence")
    got = [(s.kind, s.speaker, s.turn, s.text) for s in sentences]
    assert got == [
        ("unattributed", None, None, "Title line"),
        ("sentence", "Moderator", 0, "How are you?"), ("sentence", "Moderator", 0, "Be honest."),
        ("sentence", "Ann", 1, "Tired (laughs)."), ("sentence", "Ann", 1, "Really tired."),
        ("sentence", "Ann", 1, "Nights again."), ("sentence", "Ann", 1, "Then the inbox."),
        ("sentence", "Moderator", 2, "Thanks."), ("sentence", "Ann", 3, "Ok."),
    ]
    ann = sentences[3]
    assert (ann.role, ann.participant, ann.time_start, ann.attributes["role"]) == ("participant", "R1", 9.0,
                                                                                    "resident")
    assert [(m.kind, source.text[m.start:m.end]) for m in ann.marks] == [("laughter", "(laughs)")]
    assert not sentences[4].marks
    source.segments = sentences
    assert_accounted(source)


def test_windows_stay_inside_a_turn(source, assert_accounted):
    windows = qk.segment(source, by="window", window=2)
    ann = [s.text for s in windows if s.speaker == "Ann"]
    assert ann == ["Tired (laughs). Really tired.", "Nights again.\r\nThen the inbox.", "Ok."]
    assert [s.attributes["window_index"] for s in windows if s.speaker == "Ann"] == [0, 1, 0]
    assert {s.kind for s in windows if s.speaker} == {"window"}
    source.segments = windows
    assert_accounted(source)


def test_read_transcript_can_segment_and_paragraph_breaks_split_sentences(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Ann: first paragraph without a stop\n\nsecond paragraph.\nBo: Hi.\nAnn: Ok.\n", encoding="utf-8")
    source = qk.read_transcript(path, segment_by="sentence")
    assert [s.text for s in source.segments][:2] == ["first paragraph without a stop", "second paragraph."]
    assert source.import_report.segments == len(source.segments) == 4
    assert source.import_report.speakers == {"Ann": 2, "Bo": 1}


def test_bad_segmentation_arguments(source):
    with pytest.raises(QualkitError, match="unknown segmentation"):
        qk.segment(source, by="paragraph")
    with pytest.raises(QualkitError, match="positive number"):
        qk.segment(source, by="window", window=0)
    assert qk.segment(source, by="turn") == source.segments
