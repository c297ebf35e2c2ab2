"""The demo corpus: every gold record's offsets and speaker match a turn; moderators and participants attach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qualkit as qk
from qualkit.ingest.accounting import accounting_problems

CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "burnout_focus_groups"
pytestmark = pytest.mark.skipif(not (CORPUS / "gold_codings.jsonl").exists(), reason="demo corpus not present")
MODERATORS = {"fg1_residents.txt": "Moderator", "fg2_residents.txt": "Priya", "fg3_faculty.docx": "Moderator",
              "fg4_staff.vtt": "Nadia"}


@pytest.fixture(scope="module")
def sources():
    roster = qk.read_participants(CORPUS / "participants.csv")
    return {p.name: qk.read_transcript(p, participants=roster)
            for p in sorted((CORPUS / "transcripts").iterdir()) if not p.name.startswith(".")}


def test_every_gold_record_is_a_turn_with_those_offsets_and_speaker(sources):
    gold = [json.loads(line) for line in (CORPUS / "gold_codings.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    assert len(gold) == 440
    for record in gold:
        source = sources[record["source"]]
        assert source.text[record["start"]:record["end"]] == record["text"]
        matches = [s for s in source.segments if s.kind == "turn" and (s.start, s.end) == (record["start"],
                                                                                           record["end"])]
        assert len(matches) == 1, record
        assert (matches[0].speaker, matches[0].turn) == (record["speaker"], record["turn"])


def test_moderators_participants_and_accounting(sources):
    roster = {p.id: p for p in qk.read_participants(CORPUS / "participants.csv")}
    for name, source in sources.items():
        report = source.import_report
        assert report.moderators == [MODERATORS[name]]
        assert all(s.participant is not None for s in source.speakers), name
        session = name[:3]
        for speaker in source.speakers:
            assert roster[speaker.participant].attributes["session"] == session
        turns = [s for s in source.segments if s.kind == "turn"]
        assert all(s.participant and s.attributes["session"] == session for s in turns)
        assert accounting_problems(source) == []
        assert not [w for w in report.warnings if "participant" in w]


def test_without_participants_the_moderator_is_still_found(sources):
    for name in MODERATORS:
        assert qk.read_transcript(CORPUS / "transcripts" / name).import_report.moderators == [MODERATORS[name]]
