"""From segments to documents: participant talk only, non-speech blanked, sentences with exact offsets."""

from __future__ import annotations

import pytest

from qualkit.errors import InvalidInput
from qualkit.model import Mark, Segment, Source
from qualkit.themes.prepare import as_segments, documents_from_segments

TEXT = ("Moderator: What wears you down at work?\n"
        "Ann: The inbox never ends at night. (laughs) I chart until midnight most days.\n"
        "[inaudible] some unattributed words here in a row\n"
        "Bo: Yeah.\n")


@pytest.fixture
def source():
    src = Source("g1.txt", TEXT, "txt")

    def seg(body, **kw):
        start = TEXT.index(body)
        return Segment("g1.txt", start, start + len(body), body, **kw)

    ann = "The inbox never ends at night. (laughs) I chart until midnight most days."
    laugh = TEXT.index("(laughs)")
    src.segments = [
        seg("What wears you down at work?", speaker="Moderator", role="moderator", turn=0),
        seg(ann, speaker="Ann", turn=1, marks=[Mark(laugh, laugh + 8, "laughter")], attributes={"group": "A"}),
        seg("[inaudible] some unattributed words here in a row", role=None, kind="unattributed"),
        seg("Yeah.", speaker="Bo", turn=2),
    ]
    return src


def test_only_participant_sentences_with_exact_offsets(source):
    docs = documents_from_segments(source.segments)
    assert docs["text"].tolist() == ["The inbox never ends at night.", "I chart until midnight most days."]
    for row in docs.itertuples():
        assert " ".join(source.text[row.start:row.end].split()) == row.text
    assert docs["group"].tolist() == ["A", "A"] and docs["segment_index"].tolist() == [1, 1]


def test_marks_are_blanked_and_short_backchannels_dropped(source):
    docs = documents_from_segments(source.segments, level="turn")
    assert docs["text"].tolist() == ["The inbox never ends at night. I chart until midnight most days."]


def test_windows_and_moderator_on_request(source):
    docs = documents_from_segments(source.segments, level="window", window=2, include_moderator=True, min_words=1)
    assert docs["speaker"].tolist() == ["Moderator", "Ann", "Bo"]


def test_a_segments_dataframe_works_like_segments(source):
    import pandas as pd

    frame = pd.DataFrame([{"id": i + 1, "source": s.source, "start": s.start, "end": s.end, "text": s.text,
                           "speaker": s.speaker, "speaker_role": s.role, "kind": s.kind, "turn": s.turn,
                           "marks": [[m.start, m.end, m.kind] for m in s.marks], "role": "resident"}
                          for i, s in enumerate(source.segments)])
    docs = documents_from_segments(frame)
    assert docs["segment_id"].tolist() == [2, 2] and docs["role"].tolist() == ["resident", "resident"]
    assert as_segments(frame)[1].marks[0].kind == "laughter"


def test_bad_input_is_a_clear_error(source):
    with pytest.raises(InvalidInput, match="level"):
        documents_from_segments(source.segments, level="paragraph")
    with pytest.raises(InvalidInput, match="Segment"):
        documents_from_segments(["just a string"])
