"""Encodings, line endings, and bad input: each failure names the file (and line) and says how to fix it."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.errors import InvalidTranscript
from qualkit.ingest.encoding import decode_bytes, split_lines

EXPECTED_TURNS = [("Moderator", "Wie geht’s? What does burnout feel like?"),
                  ("Zoë", "Müde. Épuisée — exhausted (laughs)."),
                  ("Moderator", "And the “system”?"),
                  ("Zoë", "Naïve hopes, café breaks… gone.")]


@pytest.mark.parametrize(("name", "encoding", "ending"), [
    ("cp1252_crlf.txt", "cp1252", "\r\n"),
    ("utf8_bom_crlf.txt", "utf-8", "\r\n"),
    ("utf16le_bom.txt", "utf-16", "\r\n"),
    ("utf16be_bom.txt", "utf-16", "\r\n"),
    ("utf16le_nobom.txt", "utf-16-le", "\r\n"),
    ("cr_only.txt", "utf-8", "\r"),
])
def test_encodings_and_line_endings_keep_text_and_offsets_exact(data, assert_accounted, name, encoding, ending):
    source = qk.read_transcript(data / name)
    assert source.encoding == encoding
    assert source.raw == (data / name).read_bytes()
    assert not source.text.startswith("\ufeff")
    assert source.text.count(ending) == 5 and (ending == "\r\n" or "\n" not in source.text)
    assert [(s.speaker, s.text) for s in source.segments if s.kind == "turn"] == EXPECTED_TURNS
    assert source.segments[0].text == "Focus group — Pflege, Station 4"
    assert_accounted(source)


def test_legacy_encoding_is_reported_as_a_warning(data):
    warnings = qk.read_transcript(data / "cp1252_crlf.txt").import_report.warnings
    assert any("cp1252" in w and "line 1" in w for w in warnings)


def test_explicit_encoding_wins_and_a_wrong_one_names_the_line(data):
    assert qk.read_transcript(data / "cp1252_crlf.txt", encoding="latin-1").encoding == "latin-1"
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(data / "cp1252_crlf.txt", encoding="utf-8")
    assert caught.value.line == 1 and "cp1252_crlf.txt:1:" in str(caught.value) and "Fix:" in str(caught.value)


def test_mixed_line_endings_are_kept_exactly(data, assert_accounted):
    source = qk.read_transcript(data / "mixed_endings.txt")
    assert source.text == (data / "mixed_endings.txt").read_bytes().decode("utf-8")
    assert [s.speaker for s in source.segments if s.kind == "turn"] == ["Moderator", "Zoë", "Moderator", "Zoë"]
    assert_accounted(source)


def test_split_lines_breaks_only_at_cr_lf_crlf():
    assert split_lines("a\u2028b\x0cc\r\nd\re\nf") == [(0, 5), (7, 8), (9, 10), (11, 12)]


def test_decode_rejects_unknown_codec():
    with pytest.raises(InvalidTranscript, match="unknown encoding"):
        decode_bytes(b"abc", "a.txt", encoding="no-such-codec")


@pytest.mark.parametrize(("name", "message"), [
    ("empty.txt", "the file is empty"),
    ("blank.txt", "the file is empty"),
    ("binary.txt", "looks binary"),
    ("no_text.csv", "no text column"),
    ("malformed.srt", "malformed cue timing"),
    ("malformed_timing.vtt", "malformed cue timing"),
    ("stray_text.vtt", "text without a cue timing line"),
])
def test_bad_input_names_the_file_and_a_fix(data, name, message):
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(data / name)
    text = str(caught.value)
    assert message in text and name in text and "Fix: " in text
    assert "\n" not in text


@pytest.mark.parametrize(("name", "line"), [("malformed.srt", 6), ("malformed_timing.vtt", 4),
                                            ("stray_text.vtt", 6), ("no_text.csv", 1)])
def test_bad_input_names_the_line(data, name, line):
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(data / name)
    assert caught.value.line == line


def test_over_size_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("Ann: words\n" * 2000, encoding="utf-8")
    with pytest.raises(InvalidTranscript, match=r"the file is 22 KB, over the limit of 10 KB") as caught:
        qk.read_transcript(path, max_bytes=10_000)
    assert "raise the size limit (--max-mb" in str(caught.value)
    with pytest.raises(InvalidTranscript, match=r"the file is 22 KB, over the limit of 100 bytes"):
        qk.read_transcript(path, max_bytes=100)
    with pytest.raises(InvalidTranscript, match=r"the file is 22,000 bytes, over the limit of 22 KB"):
        qk.read_transcript(path, max_bytes=21_999)
    assert qk.read_transcript(path, max_bytes=100_000).import_report.speakers == {"Ann": 2000}


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.7\n...", "a PDF file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Word/Excel"),
    (b"{\\rtf1\\ansi hello}", "RTF"),
    (b"PK\x03\x04zipdata", "zip archive"),
])
def test_other_file_types_disguised_as_text_are_named(tmp_path, content, message):
    path = tmp_path / "transcript.txt"
    path.write_bytes(content)
    with pytest.raises(InvalidTranscript, match=message):
        qk.read_transcript(path)


def test_missing_file_and_folder_and_unsupported_extensions(tmp_path):
    with pytest.raises(InvalidTranscript, match="does not exist"):
        qk.read_transcript(tmp_path / "nope.txt")
    with pytest.raises(InvalidTranscript, match="is not a file"):
        qk.read_transcript(tmp_path)
    old = tmp_path / "old.doc"
    old.write_bytes(b"x")
    with pytest.raises(InvalidTranscript, match=r"save it as \.docx"):
        qk.read_transcript(old)
    with pytest.raises(InvalidTranscript, match="unknown format"):
        qk.read_transcript(old, format="pdf")


def test_unknown_extension_is_sniffed(tmp_path):
    path = tmp_path / "captions.data"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hi</v>\n", encoding="utf-8")
    assert qk.read_transcript(path).format == "vtt"


def test_short_cp1252_and_longer_cp1251_are_told_apart(tmp_path):
    short = tmp_path / "short.txt"
    short.write_bytes("Ann: café\r\nBo: naïve\r\nAnn: ok\r\n".encode("cp1252"))
    assert qk.read_transcript(short).text == "Ann: café\r\nBo: naïve\r\nAnn: ok\r\n"
    cyrillic = "Анна: Я очень устала после ночной смены.\nБорис: Да, это выгорание, и все молчат.\n" * 4
    path = tmp_path / "ru.txt"
    path.write_bytes(cyrillic.encode("cp1251"))
    source = qk.read_transcript(path)
    assert source.text == cyrillic and source.encoding == "cp1251"
    assert source.import_report.speakers == {"Анна": 4, "Борис": 4}


@pytest.mark.parametrize(("text", "encoding"), [
    ("Moderator: Jak się czujesz po dyżurze?\r\nAnna: Zażółć gęślą jaźń. Ciągle nocki, Łukasz też.\r\n"
     "Moderator: Dlaczego?\r\nAnna: Brakuje pielęgniarek.\r\n", "cp1250"),
    ("Zażółć gęślą jaźń", "cp1250"),
    ("Ann: café crème, naïve hopes… gone.\nBo: Señor, ¿qué?\nAnn: Très fatiguée.\n", "cp1252"),
    # A stranger's Windows "Save as text": curly quotes, a dash and a euro sign read as Baltic cp775 before.
    ("Interviewer: How was the go-live?\r\nSiobhán: It was “awful” – nine clicks per order. I’m exhausted.\r\n"
     "Interviewer: And the café?\r\nSiobhán: Closed. €4 for a coffee.\r\n", "cp1252"),
])
def test_central_european_text_keeps_its_code_page_and_western_text_gets_cp1252(tmp_path, text, encoding):
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode(encoding))
    decoded = decode_bytes(path.read_bytes(), path)
    assert (decoded.encoding, decoded.text) == (encoding, text)
    assert any(encoding in w for w in decoded.warnings)


def test_a_utf8_file_read_with_a_wrong_explicit_encoding_is_refused_with_the_mojibake_shown(tmp_path):
    path = tmp_path / "fg2.txt"
    path.write_text("Facilitator: Welcome.\nZoë: Nights are long.\nFacilitator: And days?\nZoë: Worse.\n",
                    encoding="utf-8")
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(path, encoding="latin-1")
    error = caught.value
    assert (str(error.path), error.line) == (str(path), 2)
    assert "'Zoë:' would become 'ZoÃ«:'" in error.message and "leave encoding= out" in error.render("python")
    assert "leave --encoding out" in error.render("cli")
    assert qk.read_transcript(path, encoding="utf-8").import_report.speakers == {"Facilitator": 2, "Zoë": 2}
    plain = tmp_path / "ascii.txt"
    plain.write_text("Ann: hi\nBo: hey\n", encoding="utf-8")
    assert qk.read_transcript(plain, encoding="latin-1").encoding == "latin-1"  # nothing to garble: as asked
