"""Bad cases seen in real files (issue 12): page footers after the talk, short star timestamps, plain warnings."""

from __future__ import annotations

import re

import pytest

import qualkit as qk

TALK = ("Jordan Lee: Welcome back. Tell me about nights.\n\n"
        "Maya Patel: Nights are hard.\n\n"
        "Jordan Lee: Why?\n\n"
        "Maya Patel: No staff.\n\n")


def _turns(source):
    return [(s.speaker, s.text) for s in source.segments if s.kind == "turn"]


def test_disclosure_statement_footer_is_not_a_speaker(tmp_path, assert_accounted):
    path = tmp_path / "podcast.txt"
    path.write_text(TALK + "Disclosure Statement: Maya Patel receives funding from the NIH.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert set(source.import_report.speakers) == {"Jordan Lee", "Maya Patel"}
    assert _turns(source)[-1] == ("Maya Patel", "No staff.")
    footer = [s.text for s in source.segments if s.kind == "unattributed"]
    assert footer == ["Disclosure Statement: Maya Patel receives funding from the NIH."]
    assert_accounted(source)


@pytest.mark.parametrize("heading", ["Editorial Standards", "Conflicts of Interest", "Author Bio", "Funding",
                                     "Show Notes"])
def test_footer_headings_after_the_talk_are_not_speakers_but_a_late_speaker_is(tmp_path, heading):
    path = tmp_path / "a.txt"
    path.write_text(TALK + f"{heading}: The author has nothing to declare.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert set(source.import_report.speakers) == {"Jordan Lee", "Maya Patel"}
    assert _turns(source)[-1] == ("Maya Patel", "No staff.")
    path.write_text(TALK + "Dr Okafor: Sorry I am late.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert _turns(source)[-1] == ("Dr Okafor", "Sorry I am late.")


def test_first_turn_with_short_star_timestamp_is_attributed(tmp_path, assert_accounted):
    path = tmp_path / "star.txt"
    path.write_text("*0:0 = I1: Welcome, how are you?\n*0:05 = R1: Fine, tired.\n"
                    "*0:10 = I1: Why tired?\n*0:15 = R1: Nights.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    segments = [(s.kind, s.speaker, s.time_start, s.text) for s in source.segments]
    assert segments[0] == ("turn", "I1", 0.0, "Welcome, how are you?")
    assert [s[1] for s in segments] == ["I1", "R1", "I1", "R1"]
    assert source.import_report.moderators == ["I1"]
    assert_accounted(source)


def test_warnings_are_plain_language(data, tmp_path):
    """No Python syntax (``aliases={label: label}``, ``columns=[...]``) in what a researcher reads."""
    merged = qk.read_transcript(data / "aliases.txt")
    note = next(w for w in merged.import_report.warnings if w.startswith("merged 3 label variant"))
    assert "'Dr Smith' as 'Jill Smith, MD'" in note
    assert "Dr Smith = Dr Smith" in note
    csv_path = tmp_path / "t.csv"
    csv_path.write_text("Speaker,Utterance\nAnn,I was tired all the time\nBo,Nights were long and hard\n",
                        encoding="utf-8")
    table = qk.read_transcript(csv_path)
    for warning in merged.import_report.warnings + table.import_report.warnings:
        assert not re.search(r"\w=\{|\w=\[|\{\w+: \w+\}", warning), warning
