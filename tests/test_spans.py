"""Span arithmetic on stored text: passages and words as exact code-point offsets."""

from __future__ import annotations

import pytest

from qualkit.errors import InvalidInput
from qualkit.spans import locate_passage, word_spans


def test_locate_passage():
    text = "The paperwork,\r\nthe paperwork never ends."
    assert locate_passage(text, 10, "paperwork") == (14, 23)
    assert locate_passage(text, 10, "paperwork", occurrence=2) == (30, 39)
    assert locate_passage(text, 0, "paperwork, the paperwork") == (4, 29)  # CRLF collapsed by a browser
    with pytest.raises(InvalidInput, match="not in this segment"):
        locate_passage(text, 0, "EHR")
    with pytest.raises(InvalidInput, match="occurs 2 times"):
        locate_passage(text, 0, "paperwork", occurrence=3)


def test_an_empty_passage_is_refused():
    with pytest.raises(InvalidInput, match="empty"):
        locate_passage("some words", 0, "   ")


def test_word_spans_are_absolute_and_keep_non_ascii():
    text = "Béla:\r\n  naïve   idea"
    spans = word_spans(text, 100)
    assert [text[a - 100:b - 100] for a, b in spans] == ["Béla:", "naïve", "idea"]
    assert spans[0] == (100, 105) and word_spans("", 5) == []
