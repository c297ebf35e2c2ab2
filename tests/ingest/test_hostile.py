"""Hostile transcripts (issue 16 findings 3 and 6): each refused in one line naming the file, or read in linear time."""

from __future__ import annotations

import codecs
import io
import struct
import sys
import zipfile

import pytest

import qualkit as qk
from qualkit.errors import InvalidInput, InvalidTranscript
from qualkit.ingest.limits import Limits


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _one_line(error: Exception, name: str) -> str:
    message = str(error)
    assert "\n" not in message and len(message) < 500, message[:300]
    assert name in message
    return message


def test_wide_csv_is_refused_at_import_in_one_short_line(tmp_path, store):
    """1,000,000 columns: refused before any participant/segment attribute exists (was: exit 0, then 6.7 GB)."""
    path = tmp_path / "wide.csv"
    header = ",".join(["speaker", "text", *(f"c{i}" for i in range(1_000_000))])
    path.write_text(header + "\nAnn,I am tired all the time," + ",".join("1" * 1) + "\n", encoding="utf-8")
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(path)
    message = _one_line(caught.value, "wide.csv")  # its header line is over the line limit already
    assert "over the limit of 1,000,000" in message
    narrower = tmp_path / "narrower.csv"
    narrower.write_text(",".join(["speaker", "text", *(f"c{i}" for i in range(5_000))]) + "\nAnn,tired,1\n",
                        encoding="utf-8")
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(narrower)
    assert "5,002 columns, over the limit of 1,000" in _one_line(caught.value, "narrower.csv")
    from qualkit.errors import ImportFailed
    from qualkit.ingest.batch import import_transcripts

    with pytest.raises(ImportFailed) as failed:
        import_transcripts(store, [path], progress=False)
    assert len(str(failed.value)) < 600
    assert store.sources_df().empty and store.segments_df().empty


def test_wide_participants_file_and_too_many_attributes_are_refused(tmp_path):
    wide = tmp_path / "participants.csv"
    wide.write_text("id," + ",".join(f"a{i}" for i in range(5_000)) + "\nR1," + ",".join("1" * 5_000) + "\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput, match="5,001 columns, over the limit of 1,000"):
        qk.read_participants(wide)
    many = tmp_path / "many.csv"
    many.write_text("id," + ",".join(f"a{i}" for i in range(300)) + "\nR1," + ",".join("x" * 300) + "\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        qk.read_participants(many)
    assert "300 attributes per participant, over the limit of 200" in _one_line(caught.value, "many.csv")
    assert len(qk.read_participants(many, limits=Limits(attributes=300))[0].attributes) == 300


def test_other_columns_of_a_table_count_as_attributes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("speaker,text," + ",".join(f"m{i}" for i in range(250)) + "\nAnn,tired of it all,"
                    + ",".join("1" * 250) + "\n", encoding="utf-8")
    with pytest.raises(InvalidTranscript, match="250 columns besides the text"):
        qk.read_transcript(path)


def _lying_docx(spoof_crc: bool) -> bytes:
    """A Word file with a member declared as 1,000 bytes that really inflates to 20 MB of zeros."""
    import zlib

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx(["Ann: hi", "Bo: yo", "Ann: ok"]))) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        out.writestr("word/media/zeros.bin", b"\x00" * 20_000_000)
    raw = bytearray(buffer.getvalue())
    for signature, size_at, crc_at, name_at in ((b"PK\x01\x02", 24, 16, 46), (b"PK\x03\x04", 22, 14, 30)):
        at = raw.find(signature)
        while at >= 0:
            if raw[at + name_at:at + name_at + 20] == b"word/media/zeros.bin":
                struct.pack_into("<I", raw, at + size_at, 1000)
                if spoof_crc:  # the checksum of what the header claims, so nothing looks wrong
                    struct.pack_into("<I", raw, at + crc_at, zlib.crc32(b"\x00" * 1000))
            at = raw.find(signature, at + 4)
    return bytes(raw)


@pytest.mark.parametrize("spoof_crc", [False, True])
def test_lying_zip_costs_no_memory_past_the_declared_sizes(tmp_path, spoof_crc):
    """Finding 6: a .docx whose headers lie about sizes cost 2.0 GB before its error. Members are now inflated
    in 64 KB steps, never past their declared size, into the copy python-docx opens."""
    import tracemalloc

    path = tmp_path / "lying.docx"
    path.write_bytes(_lying_docx(spoof_crc))
    qk.read_transcript(_docx(["Ann: warm up the imports"]), format="docx")  # imports are not the file's cost
    tracemalloc.start()
    try:
        source = qk.read_transcript(path)
    except InvalidTranscript as error:
        assert not spoof_crc
        assert "damaged Word file" in _one_line(error, "lying.docx")
    else:
        assert spoof_crc and [s.speaker for s in source.segments] == ["Ann", "Bo", "Ann"]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10_000_000, peak  # nothing near the 20 MB the member holds (zipfile's read() alone: >20 MB)


def test_zip_version_and_byte_flips_are_invalid_transcript(tmp_path):
    """'NotImplementedError: zip file version 13.4' becomes a one-line InvalidTranscript."""
    raw = bytearray(_docx(["Ann: hi", "Bo: yo"]))
    at = raw.find(b"PK\x01\x02")
    struct.pack_into("<H", raw, at + 6, 134)  # "version needed to extract: 13.4"
    path = tmp_path / "flipped.docx"
    path.write_bytes(bytes(raw))
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(path)
    assert "damaged Word file" in _one_line(caught.value, "flipped.docx")


def test_utf16_bom_with_a_lone_surrogate_is_invalid_transcript_with_line(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Ann: hi\nBo: yo\n".encode("utf-16-le") + b"\x00\xd8"
                     + "Ann: more\n".encode("utf-16-le"))
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(path)
    assert caught.value.line == 3
    with pytest.raises(InvalidTranscript, match="lone surrogate"):
        qk.read_transcript(text="Ann: hi\nBo: \ud800 yo\n", name="pasted.txt")


@pytest.mark.parametrize("where", [10, 70_000])
def test_nul_is_refused_with_its_line_before_any_write(tmp_path, store, where):
    """A NUL past 64 KB used to reach PostgreSQL ('unexpected DataError' with SQL and text in the message)."""
    from qualkit.errors import ImportFailed
    from qualkit.ingest.batch import import_transcripts

    text = "Ann: " + "x" * where + "\nBo: secret words\x00 here\nAnn: ok\n"
    path = tmp_path / "nul.txt"
    path.write_bytes(text.encode())
    with pytest.raises(InvalidTranscript) as caught:
        qk.read_transcript(path)
    message = _one_line(caught.value, "nul.txt")
    assert ("NUL" in message) and "secret" not in message
    with pytest.raises(ImportFailed) as failed:
        import_transcripts(store, [path], progress=False)
    assert "DataError" not in str(failed.value) and "secret" not in str(failed.value)
    assert store.sources_df().empty


def test_nul_in_a_participant_or_an_over_long_label_is_refused(tmp_path):
    from qualkit.model import Participant

    with pytest.raises(InvalidInput, match="NUL"):
        qk.read_participants([Participant("R1", attributes={"role": "nurse\x00"})])
    with pytest.raises(InvalidInput, match="over the limit of 200"):
        qk.read_participants([Participant("R" * 300)])
    path = tmp_path / "long.csv"
    path.write_text("speaker,text\n" + "A" * 300 + ",words and words\n" + "A" * 300 + ",more words\n",
                    encoding="utf-8")
    with pytest.raises(InvalidTranscript, match="speaker label has 300 characters"):
        qk.read_transcript(path)


def test_limits_on_lines_speakers_segments_and_cues_name_the_file_and_limit():
    with pytest.raises(InvalidTranscript, match=r"big\.txt:2: the file has a line of 101 characters"):
        qk.read_transcript(text="Ann: hi\n" + "x" * 101, name="big.txt", limits=Limits(line_chars=100))
    many = "\n".join(f"Person{i} Test: hello." for i in range(30))
    with pytest.raises(InvalidTranscript, match="30 speakers, over the limit of 20"):
        qk.read_transcript(text=many, name="m.txt", limits=Limits(speakers=20))
    with pytest.raises(InvalidTranscript, match="30 segments, over the limit of 10"):
        qk.read_transcript(text="\n".join(["Ann: a", "Bo: b"] * 15), name="s.txt", limits=Limits(segments=10))
    vtt = "WEBVTT\n\n" + "\n\n".join(f"00:00:{i:02d}.000 --> 00:00:{i:02d}.500\n<v Ann>x" for i in range(30))
    with pytest.raises(InvalidTranscript, match="30 subtitle cues, over the limit of 10"):
        qk.read_transcript(text=vtt, name="c.vtt", limits=Limits(segments=10))


def test_400000_cue_vtt_is_refused_before_parsing():
    """Finding 6: a 400,000-cue VTT took over 170 s; the cue count is checked first (one pass over the text)."""
    cue = "00:00:01.000 --> 00:00:02.000\n<v Ann>x\n\n"
    with pytest.raises(InvalidTranscript, match="400,000 subtitle cues, over the limit of 100,000"):
        qk.read_transcript(("WEBVTT\n\n" + cue * 400_000).encode(), name="huge.vtt")


def _python_lines(function, *args, **kwargs) -> int:
    """How many Python lines run (a machine-independent measure of work; no timing in unit tests)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        function(*args, **kwargs)
    finally:
        sys.settrace(None)
    return count


def _speakers_text(n: int) -> str:
    return "\n".join(f"Person{i} Tester{i % 97}: words here {i}." for i in range(n)) + "\n"


def test_speaker_handling_is_linear_in_the_number_of_speakers():
    """Finding 6: reading grew quadratically with speakers (100,000 speakers: 155 s). Work is counted, not timed:
    10 times the speakers must cost about 10 times the Python lines (quadratic would be 100 times)."""
    limits = Limits(speakers=10**6, segments=10**6)
    small = _python_lines(qk.read_transcript, text=_speakers_text(300), name="s.txt", limits=limits)
    large = _python_lines(qk.read_transcript, text=_speakers_text(3_000), name="s.txt", limits=limits)
    assert large / small < 12, (small, large)


def test_100000_speakers_are_refused_by_the_speaker_limit_in_one_pass():
    with pytest.raises(InvalidTranscript, match="100,000 speakers, over the limit of 10,000"):
        qk.read_transcript(text=_speakers_text(100_000), name="crowd.txt")
