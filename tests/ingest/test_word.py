"""Word (.docx) transcripts: paragraphs, bold-run labels, transcription-service tables, zip bombs."""

from __future__ import annotations

import io
import zipfile

import pytest

import qualkit as qk
from qualkit.errors import InvalidTranscript


def test_bold_run_labels_and_canonical_paragraph_text(make_docx, assert_accounted):
    path = make_docx("fg.docx", [
        "Recorded 3 May 2024; all names are pseudonyms.",
        ("Moderator:", " Welcome. What drains you?"),
        ("Dr. Okafor:", " The inbox. (sighs)"),
        ("Rachel", ": Nights, honestly."),
        ("Moderator:", " Thanks."),
        ("Kwame:", " I only speak once."),
    ], heading="Focus group 3 — Faculty")
    source = qk.read_transcript(path)
    assert source.text == ("Focus group 3 — Faculty\nRecorded 3 May 2024; all names are pseudonyms.\n"
                           "Moderator: Welcome. What drains you?\nDr. Okafor: The inbox. (sighs)\n"
                           "Rachel: Nights, honestly.\nModerator: Thanks.\nKwame: I only speak once.")
    assert [(s.kind, s.speaker, s.text) for s in source.segments] == [
        ("unattributed", None, "Focus group 3 — Faculty"),
        ("unattributed", None, "Recorded 3 May 2024; all names are pseudonyms."),
        ("turn", "Moderator", "Welcome. What drains you?"),
        ("turn", "Dr. Okafor", "The inbox. (sighs)"),
        ("turn", "Rachel", "Nights, honestly."),
        ("turn", "Moderator", "Thanks."),
        ("turn", "Kwame", "I only speak once."),
    ]
    assert source.import_report.label_style == "bold Name: in Word (5)"
    assert source.format == "docx" and source.raw == path.read_bytes() and source.encoding is None
    assert_accounted(source)


def test_a_bold_heading_without_colon_is_not_a_label(make_docx):
    path = make_docx("h.docx", [("Introduction", ""), ("Ann:", " Hi."), ("Bo:", " Hey."), ("Ann:", " Ok.")])
    source = qk.read_transcript(path)
    assert source.segments[0].kind == "unattributed" and source.segments[0].text == "Introduction"


def test_transcription_service_table_gives_one_turn_per_row(make_docx, assert_accounted):
    rows = [["Speaker", "Time", "Text"],
            ["Interviewer", "00:00:05", "What drains you most?"],
            ["Speaker 2", "00:00:09", "Charting at home,\nafter the kids are asleep."],
            ["", "00:00:20", "Every night."],
            ["Interviewer", "00:00:31", "Thank you."]]
    path = make_docx("rev.docx", ["Transcript of interview 4"], tables=[rows])
    source = qk.read_transcript(path)
    lines = source.text.split("\n")
    assert lines[1] == "Speaker\tTime\tText"
    assert lines[3] == "Speaker 2\t00:00:09\tCharting at home, after the kids are asleep."
    got = [(s.kind, s.speaker, s.turn, s.time_start, s.text) for s in source.segments]
    assert got == [
        ("unattributed", None, None, None, "Transcript of interview 4"),
        ("unattributed", None, None, None, "Speaker\tTime\tText"),
        ("turn", "Interviewer", 0, 5.0, "What drains you most?"),
        ("turn", "Speaker 2", 1, 9.0, "Charting at home, after the kids are asleep."),
        ("turn", "Speaker 2", 1, 20.0, "Every night."),
        ("turn", "Interviewer", 2, 31.0, "Thank you."),
    ]
    assert source.import_report.moderators == ["Interviewer"]
    assert source.import_report.speakers == {"Interviewer": 2, "Speaker 2": 1}
    assert_accounted(source)


def test_table_without_header_is_recognised_by_its_content(make_docx, assert_accounted):
    rows = [["00:00:05", "Ann", "The pager never stops, not even at night."],
            ["00:00:12", "Bo", "Same for me, and the inbox on weekends."],
            ["00:00:20", "Ann", "We need protected time for charting."]]
    source = qk.read_transcript(make_docx("t.docx", tables=[rows]))
    assert [(s.speaker, s.time_start) for s in source.segments] == [("Ann", 5.0), ("Bo", 12.0), ("Ann", 20.0)]
    assert_accounted(source)


def test_other_tables_are_read_as_lines(make_docx, assert_accounted):
    rows = [["Site", "Beds"], ["North", "40"], ["South", "32"]]
    source = qk.read_transcript(make_docx("o.docx", [("Ann:", " Hi."), ("Bo:", " Hey.")], tables=[rows],
                                          table_first=True))
    assert source.text.startswith("Site\tBeds\nNorth\t40\nSouth\t32\nAnn: Hi.")
    assert [s.kind for s in source.segments][:3] == ["unattributed"] * 3
    assert_accounted(source)


def test_zip_bomb_disguised_as_docx_is_refused_before_python_docx_opens_it(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"0" * 20_000_000)
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 100_000
    import docx

    def never(*args, **kwargs):
        raise AssertionError("python-docx must not open a zip bomb")

    monkeypatch.setattr(docx, "Document", never)
    with pytest.raises(InvalidTranscript, match="zip bomb") as caught:
        qk.read_transcript(path)
    assert "bomb.docx" in str(caught.value) and "Fix:" in str(caught.value)
    with pytest.raises(InvalidTranscript, match="would expand to"):
        qk.read_transcript(path, max_bytes=1_000_000)


@pytest.mark.parametrize(("content", "message"), [
    (b"just text, renamed", "not a valid Word file"),
    (b"PK\x03\x04broken", "damaged Word file"),
])
def test_not_a_word_file(tmp_path, content, message):
    path = tmp_path / "x.docx"
    path.write_bytes(content)
    with pytest.raises(InvalidTranscript, match=message):
        qk.read_transcript(path)


def test_zip_without_word_document_and_empty_document(tmp_path, make_docx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    path = tmp_path / "sheet.docx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InvalidTranscript, match=r"no word/document\.xml"):
        qk.read_transcript(path)
    with pytest.raises(InvalidTranscript, match="no text"):
        qk.read_transcript(make_docx("empty.docx", []))


def test_tracked_insertions_and_nested_tables_are_read_not_dropped(make_docx, assert_accounted):
    import docx
    from docx.oxml import parse_xml

    path = make_docx("edited.docx", ["Moderator: What drains you?", "Ana: The pager.", "Moderator: And?",
                                     "Ana: Nights."], tables=[[["Site", "Notes"], ["Ward 7", "cell"]]])
    document = docx.Document(str(path))
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    second = document.paragraphs[1]._p  # the transcriber's edit, left as a tracked change
    second.append(parse_xml(f'<w:ins {w} w:id="1" w:author="T"><w:r><w:t xml:space="preserve"> And the inbox.</w:t>'
                            '</w:r></w:ins>'))
    second.append(parse_xml(f'<w:del {w} w:id="2" w:author="T"><w:r><w:delText> Scrap this.</w:delText></w:r>'
                            '</w:del>'))
    cell = document.tables[0].rows[1].cells[1]
    cell.paragraphs[0].text = "Staffing:"
    nested = cell.add_table(rows=1, cols=2)
    nested.rows[0].cells[0].text, nested.rows[0].cells[1].text = "two nurses short", "every night"
    document.save(str(path))
    source = qk.read_transcript(path)
    assert "Ana: The pager. And the inbox.\n" in source.text and "Scrap this" not in source.text
    assert "\nWard 7\tStaffing: two nurses short every night" in source.text
    ana = [s.text for s in source.segments if s.speaker == "Ana"]
    assert ana[0] == "The pager. And the inbox."
    warnings = source.import_report.warnings
    assert any("tracked changes (1 insertion(s), 1 deletion(s))" in w for w in warnings)
    assert any("1 table(s) inside table cells" in w for w in warnings)
    assert_accounted(source)
