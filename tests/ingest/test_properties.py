"""Property tests: random labels, unicode, line endings, timestamps and encodings never lose text.

The accounting checked (see :mod:`qualkit.ingest.accounting`): every non-whitespace character of
``source.text`` lies in exactly one of a segment (turn, legend, unattributed, sentence) or a speaker
label prefix (``source.metadata["label_spans"]``, which includes the timestamps and punctuation of
the label); segments never overlap; ``source.text[s.start:s.end] == s.text``; marks lie inside their
segment. On top of that, generated turns must come back with exactly their speaker, text and time.
"""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qualkit as qk
from qualkit.ingest.accounting import accounting_problems

SYLLABLES = ["ka", "lo", "mi", "tre", "zu", "vé", "ßo", "nø", "жа", "ül", "ri", "ân", "po", "çe", "ya"]
UPPER_STARTS = ["A", "B", "Ch", "D", "É", "F", "G", "H", "J", "K", "L", "M", "N", "Ø", "P", "R", "S", "T", "V",
                "Z", "Ж", "Ł", "Ö"]
CJK = ["李雷", "王芳", "陈静", "山田", "金敏", "张伟"]
WORD_CHARS = "abcdefghijklmnoprstuvwyzéèüöäßøåçñжиπλ中文"
PUNCT = [".", ",", "!", "?", ";", "…", "'"]
MARKS = ["(laughs)", "[crosstalk]", "[inaudible 00:12:03]", "(sighs)", "[pause]"]
ENDINGS = ["\n", "\r\n", "\r"]
SHORT_ANSWERS = ["charge nurse, icu", "twelve years", "mostly nights", "agency staff", "the inbox", "ward seven"]
STYLES = ["colon", "bold", "bracket", "name_time", "time_name", "bracket_time", "star_time", "header_line"]


@st.composite
def names(draw, count):
    """``count`` distinct speaker labels sharing no word (so no automatic merge applies)."""
    starts = draw(st.permutations(UPPER_STARTS))
    labels: list[str] = []
    for i in range(count):
        kind = draw(st.sampled_from(["one", "two", "cjk", "code"]))
        if kind == "cjk":
            labels.append(CJK[i])
        elif kind == "code":
            labels.append("IRPFMS"[i] + str(draw(st.integers(1, 9))))
        else:
            syllables = [draw(st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=3)) for _ in range(2)]
            first = starts[i] + "".join(syllables[0])
            labels.append(first if kind == "one" else f"{first} {starts[i + 6]}{''.join(syllables[1])}")
    return labels


@st.composite
def sentence(draw):
    words = draw(st.lists(st.text(WORD_CHARS, min_size=1, max_size=8), min_size=1, max_size=9))
    tokens: list[str] = []
    for word in words:
        tokens.append(word)
        if draw(st.integers(0, 9)) == 0:
            tokens.append(draw(st.sampled_from(MARKS)))
        elif draw(st.integers(0, 5)) == 0:
            tokens[-1] += draw(st.sampled_from(PUNCT))
    return " ".join(tokens) + draw(st.sampled_from([".", "?", "!", "…"]))


def stamp(seconds: int, short: bool) -> str:
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{m}:{s:02d}" if short and h == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def render_label(style: str, label: str, seconds: int) -> tuple[str, bool]:
    """The label prefix as written, and whether the words start on the next line."""
    t = stamp(seconds, short=style == "star_time")
    return {
        "colon": (f"{label}: ", False), "bold": (f"**{label}:** ", False), "bracket": (f"[{label}] ", False),
        "name_time": (f"{label} ({t}): ", False), "time_name": (f"{t} {label}: ", False),
        "bracket_time": (f"[{t}] {label}: ", False), "star_time": (f"*{t} = {label}: ", False),
        "header_line": (f"{label}  {t}", True),
    }[style]


@st.composite
def transcripts(draw):
    """(text, expected turns [(speaker, text, time or None)]) for a random transcript.

    Besides speakers who talk several times there may be one-off speakers (also on the very first
    line), written in a label style the file uses at least twice, and short answers without final
    punctuation ("charge nurse, ICU") that make opening turns look like a legend block; there is
    never a legend, so every one of these lines must come back as a turn.
    """
    recurring, once = draw(st.integers(2, 4)), draw(st.integers(0, 2))
    labels = draw(names(recurring + once))
    speakers, one_off = labels[:recurring], labels[recurring:]
    order = speakers + speakers + draw(st.lists(st.sampled_from(speakers), max_size=6))
    order = list(draw(st.permutations(order)))
    mixed_endings = draw(st.booleans())
    file_ending = draw(st.sampled_from(ENDINGS))
    one_style = draw(st.booleans())
    file_style = draw(st.sampled_from(STYLES))
    styles = [file_style if one_style else draw(st.sampled_from(STYLES)) for _ in order]
    shared_styles = sorted(style for style, n in Counter(styles).items() if n >= 2)
    if one_off and shared_styles:
        first_line = draw(st.booleans())
        for index, label in enumerate(one_off):
            position = 0 if first_line and index == 0 else draw(st.integers(0, len(order)))
            order.insert(position, label)
            styles.insert(position, draw(st.sampled_from(shared_styles)))
    else:
        first_line = False

    def ending() -> str:
        return draw(st.sampled_from(ENDINGS)) if mixed_endings else file_ending

    parts: list[str] = []
    for _ in range(0 if first_line else draw(st.integers(0, 2))):
        parts.append(draw(st.sampled_from(["Focus group Ärzte — Station 4", "Burnout study, site B",
                                           "transcribed by the research team", "Interview 7"])) + ending())
        parts.append(ending())
    expected: list[tuple[str, str, int | None]] = []
    seconds = draw(st.integers(0, 3600))
    for speaker, style in zip(order, styles, strict=True):
        seconds += draw(st.integers(1, 400))
        prefix, own_line = render_label(style, speaker, seconds)
        short = style == "colon" and speaker in speakers and draw(st.integers(0, 3)) == 0
        if short:  # one line, and no blank line after it: the talk runs straight on
            body = draw(st.sampled_from(SHORT_ANSWERS))
        else:
            lines = [draw(sentence()) for _ in range(draw(st.integers(1, 3)))]
            separators = [ending() + (ending() if draw(st.integers(0, 4)) == 0 else "") for _ in lines[1:]]
            body = lines[0] + "".join(sep + line for sep, line in zip(separators, lines[1:], strict=True))
        if own_line:
            parts.append(prefix + ending())
        else:
            parts.append(prefix)
        parts.append(body + ending())
        for _ in range(0 if short else draw(st.integers(0, 2))):
            parts.append(ending())
        expected.append((speaker, body, None if style in ("colon", "bold", "bracket") else seconds))
    text = "".join(parts)
    # a CR ending followed by an LF ending reads as one CRLF: compare against what a reader sees
    return text, expected


@settings(max_examples=150, deadline=None)
@given(generated=transcripts(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le"]))
def test_no_text_lost_and_turns_exact(tmp_path_factory, generated, encoding):
    text, expected = generated
    path = tmp_path_factory.mktemp("prop") / "t.txt"
    path.write_bytes(text.encode(encoding))
    source = qk.read_transcript(path)
    assert source.text == text
    assert accounting_problems(source) == []
    got = [(s.speaker, s.text, s.time_start) for s in source.segments if s.kind == "turn"]
    assert got == [(speaker, body.strip(), None if t is None else float(t)) for speaker, body, t in expected]
    assert [s.turn for s in source.segments if s.kind == "turn"] == list(range(len(expected)))
    assert not [s for s in source.segments if s.kind == "legend"]
    for segment in source.segments:
        for mark in segment.marks:
            assert source.text[mark.start:mark.end] in MARKS


@settings(max_examples=30, deadline=None)
@given(generated=transcripts())
def test_sentence_segmentation_keeps_the_accounting(tmp_path_factory, generated):
    text, _ = generated
    path = tmp_path_factory.mktemp("prop") / "t.txt"
    path.write_text(text, encoding="utf-8", newline="")
    source = qk.read_transcript(path, segment_by="sentence")
    assert accounting_problems(source) == []


@st.composite
def cue_files(draw):
    speakers = draw(names(draw(st.integers(1, 3))))
    cues = []
    t = 0.0
    for _ in range(draw(st.integers(1, 8))):
        speaker = draw(st.sampled_from([*speakers, None]))
        lines = [draw(sentence()) for _ in range(draw(st.integers(1, 2)))]
        duration = draw(st.integers(1, 9))
        cues.append((speaker, lines, t, t + duration))
        t += duration
    return cues


def vtt_time(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds // 60 % 60):02d}:{seconds % 60:06.3f}"


@settings(max_examples=80, deadline=None)
@given(cues=cue_files(), ending=st.sampled_from(ENDINGS))
def test_vtt_renders_merged_turns_exactly(tmp_path_factory, cues, ending):
    blocks = ["WEBVTT"]
    for index, (speaker, lines, start, end) in enumerate(cues, start=1):
        payload = ending.join(lines)
        if speaker is not None:
            payload = f"<v {speaker}>{payload}</v>"
        blocks.append(f"{index}{ending}{vtt_time(start)} --> {vtt_time(end)}{ending}{payload}")
    path = tmp_path_factory.mktemp("prop") / "t.vtt"
    path.write_bytes((ending * 2).join(blocks).encode("utf-8"))
    source = qk.read_transcript(path)
    expected_lines = []
    for speaker, group in itertools.groupby(cues, key=lambda c: c[0]):
        texts = [" ".join(c[1]) for c in group]
        expected_lines += ([f"{speaker}: {' '.join(texts)}"] if speaker else texts)
    assert source.text == "\n".join(expected_lines)
    assert accounting_problems(source) == []


class _Counter:
    value = 0


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=transcripts())
def test_store_round_trip(db_url, tmp_path_factory, generated):
    from qualkit.store.repository import Store

    store = Store.create(db_url, name="roundtrip", exist_ok=True)
    text, _ = generated
    _Counter.value += 1
    path = tmp_path_factory.mktemp("prop") / f"t{_Counter.value}.txt"
    path.write_text(text, encoding="utf-8", newline="")
    source = qk.read_transcript(path)
    store.add_source(source)
    loaded = store.source(source.name)
    store.engine.dispose()
    assert loaded.text == source.text and loaded.raw == source.raw
    fields = ("start", "end", "text", "speaker", "role", "kind", "turn", "time_start", "time_end", "marks",
              "attributes")
    assert [tuple(getattr(s, f) for f in fields) for s in loaded.segments] == \
        [tuple(getattr(s, f) for f in fields) for s in source.segments]
    assert loaded.import_report.speakers == source.import_report.speakers
    assert loaded.metadata["label_spans"] == source.metadata["label_spans"]
