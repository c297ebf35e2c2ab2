"""The transcript reader registry: every entry reads its format from a path, bytes, a file and (text formats) text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import qualkit as qk
from qualkit.errors import InvalidTranscript
from qualkit.ingest.readers import READERS, describe, detect_format, format_names, reader_for, suffixes

TURNS = [("Moderator", "What drains you most?"), ("Ann", "Nights, honestly."), ("Moderator", "And then?"),
         ("Ann", "The inbox.")]


def _docx() -> bytes:
    import docx

    document = docx.Document()
    for speaker, words in TURNS:
        document.add_paragraph(f"{speaker}: {words}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["speaker", "text"])
    for row in TURNS:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cues(comma: bool) -> str:
    sep = "," if comma else "."
    blocks = [f"{i + 1}\n00:00:0{i}{sep}000 --> 00:00:0{i + 1}{sep}000\n{s}: {w}" for i, (s, w) in enumerate(TURNS)]
    return "\n\n".join(blocks) + "\n"


# One sample per registry entry (a new format adds one line here).
SAMPLES = {
    "txt": lambda: "\n".join(f"{s}: {w}" for s, w in TURNS).encode(),
    "md": lambda: ("# Interview\n\n" + "\n\n".join(f"**{s}:** {w}" for s, w in TURNS)).encode(),
    "docx": _docx,
    "vtt": lambda: ("WEBVTT\n\n" + _cues(comma=False)).encode(),
    "srt": lambda: _cues(comma=True).encode(),
    "csv": lambda: ("speaker,text\n" + "\n".join(f'{s},"{w}"' for s, w in TURNS)).encode(),
    "xlsx": _xlsx,
}
TSV = ("speaker\ttext\n" + "\n".join(f"{s}\t{w}" for s, w in TURNS)).encode()


def test_every_registry_entry_has_a_sample():
    assert set(SAMPLES) == set(READERS)


def _check(source, name: str) -> None:
    from qualkit.ingest.accounting import accounting_problems

    assert source.format == name
    turns = [(s.speaker, s.text) for s in source.segments if s.kind == "turn"]
    assert turns == TURNS
    assert accounting_problems(source) == []
    assert source.import_report.moderators == ["Moderator"]


@pytest.mark.parametrize("name", list(READERS))
def test_every_reader_reads_a_path_bytes_and_a_file(name, tmp_path):
    reader = READERS[name]
    raw = SAMPLES[name]()
    for suffix in reader.suffixes:
        path = tmp_path / f"g1{suffix}"
        path.write_bytes(TSV if suffix == ".tsv" else raw)
        assert detect_format(path) == name
        source = qk.read_transcript(path)
        _check(source, name)
        assert source.name == path.name
    _check(qk.read_transcript(raw, format=name), name)
    _check(qk.read_transcript(raw, name=f"x{reader.suffixes[0]}"), name)
    with (tmp_path / f"g1{reader.suffixes[0]}").open("rb") as handle:
        source = qk.read_transcript(handle)
    _check(source, name)
    assert source.name == f"g1{reader.suffixes[0]}"
    if reader.binary:
        with pytest.raises(InvalidTranscript, match="cannot be given as text"):
            qk.read_transcript(text="Ann: hi", format=name)
    else:
        text = raw.decode("utf-8")
        _check(qk.read_transcript(text=text, format=name, name="pasted"), name)
        _check(qk.read_transcript(io.StringIO(text), format=name), name)


@pytest.mark.parametrize("name", list(READERS))
def test_registry_entries_are_found_by_name_alias_and_suffix_and_listed(name):
    reader = READERS[name]
    assert reader_for(name) is reader
    for alias in reader.aliases:
        assert reader_for(alias.upper()) is reader
    for suffix in reader.suffixes:
        assert reader_for(suffix) is reader
        assert suffix in suffixes()
        assert suffix in describe()
        assert suffix in qk.Project.transcript_formats()[name]
    assert callable(reader.load())
    assert name in format_names()


def test_content_sniffing_without_a_suffix():
    assert detect_format("notes", SAMPLES["vtt"]()) == "vtt"
    assert detect_format("notes", SAMPLES["srt"]()) == "srt"
    assert detect_format("notes", SAMPLES["docx"]()) == "docx"
    assert detect_format("notes", SAMPLES["xlsx"]()) == "xlsx"
    assert detect_format("notes", b"Ann: hi") == "txt"


def test_unknown_format_and_options_are_one_line_errors(tmp_path):
    with pytest.raises(InvalidTranscript, match=r"unknown format 'pdfx'.*use one of txt, md, docx"):
        qk.read_transcript(b"Ann: hi", format="pdfx")
    with pytest.raises(InvalidTranscript, match=r"unknown option.*sheet.*takes no options"):
        qk.read_transcript(text="Ann: hi\nBo: yo\n", sheet=2)
    with pytest.raises(InvalidTranscript, match="either a transcript"):
        qk.read_transcript()
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InvalidTranscript, match=r"\.doc files cannot be read"):
        qk.read_transcript(path)


def test_a_folder_import_lists_every_registered_suffix(tmp_path):
    from qualkit.ingest.readers import transcript_files

    for suffix in suffixes():
        (tmp_path / f"a{suffix}").write_bytes(b"x")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    assert sorted(p.suffix for p in transcript_files([tmp_path])) == sorted(suffixes())
    assert all(isinstance(p, Path) for p in transcript_files([tmp_path]))
