"""CSV and Excel: utterances with a speaker column, wide surveys, column guesses and overrides."""

from __future__ import annotations

import pytest

import qualkit as qk
from qualkit.errors import InvalidTranscript


def test_utterances_csv(data, assert_accounted):
    source = qk.read_transcript(data / "utterances.csv")
    assert source.text.split("\n") == [
        'Moderator: What comes to mind when you hear "burnout"?', "Alex: Exhaustion. The kind sleep doesn't fix.",
        "Sam: The EHR, honestly. Every evening.", "Moderator: Anything else?", "Sam: Being short-staffed. (sighs)"]
    alex = source.segments[1]
    assert (alex.kind, alex.speaker, alex.time_start, alex.attributes) == (
        "turn", "Alex", 12.0, {"row": 3, "Notes": "laughs", "Group": "FG5"})
    assert source.metadata["columns"] == {"text": ["Utterance"], "speaker": "Speaker", "time": "Start",
                                          "group": "Group"}
    warnings = source.import_report.warnings
    assert any(w.startswith("columns guessed: text from 'Utterance', speaker from 'Speaker'") for w in warnings)
    assert any("1 empty answer cell" in w for w in warnings)
    assert source.import_report.moderators == ["Moderator"]
    assert_accounted(source)


def test_a_survey_is_grouped_by_who_answered_before_where(tmp_path):
    survey = tmp_path / "staff.csv"
    survey.write_text("Resp #,Site,Staff group,What would help most?\nR1,North,Nurse,More staff.\n",
                      encoding="utf-8")
    source = qk.read_transcript(survey)
    assert source.metadata["columns"]["group"] == "Staff group"
    assert any("group from 'Staff group'" in w for w in source.import_report.warnings)


def test_wide_survey_one_line_per_answer(data, assert_accounted):
    source = qk.read_transcript(data / "survey.csv")
    got = [(s.kind, s.participant, s.attributes["question"], s.text) for s in source.segments]
    assert got == [
        ("row", "R01", "What drains you most at work?", "The inbox after clinic."),
        ("row", "R01", "What keeps you going?", "My patients"),
        ("row", "R02", "What keeps you going?", "Colleagues who cover for each other"),
        ("row", "R03", "What drains you most at work?", "Night shifts, and being short-staffed (every week)."),
        ("row", "R03", "What keeps you going?", "Not much, honestly"),
    ]
    assert source.segments[3].attributes["years_in_role"] == 7
    assert [s.turn for s in source.segments] == [0, 1, 2, 3, 4]
    assert_accounted(source)


def test_explicit_columns_and_errors(data, tmp_path):
    source = qk.read_transcript(data / "survey.csv", columns={"text": "What keeps you going?", "id": "respondent_id"})
    assert [s.text for s in source.segments] == ["My patients", "Colleagues who cover for each other",
                                                 "Not much, honestly"]
    assert not any("guessed" in w and "text=" in w and "drains" in w for w in source.import_report.warnings)
    with pytest.raises(InvalidTranscript, match="no column named 'Answer'") as caught:
        qk.read_transcript(data / "survey.csv", columns={"text": "Answer"})
    assert caught.value.line == 1
    with pytest.raises(InvalidTranscript, match="unknown column role"):
        qk.read_transcript(data / "survey.csv", columns={"words": "x"})
    with pytest.raises(InvalidTranscript, match="unknown option"):
        qk.read_transcript(data / "aliases.txt", columns={"text": "x"})
    header_only = tmp_path / "h.csv"
    header_only.write_text("speaker,text\n", encoding="utf-8")
    with pytest.raises(InvalidTranscript, match="header but no rows"):
        qk.read_transcript(header_only)


def test_an_unclosed_quote_is_an_error_not_lost_answers(tmp_path):
    """Read leniently, the open quote swallowed the next answer into this one: two answers became one."""
    survey = tmp_path / "survey.csv"
    survey.write_bytes(b'id,answer\r\n1,"Too many night shifts\r\n2,fine\r\n')
    with pytest.raises(InvalidTranscript, match="a quote opened in this row is never closed") as caught:
        qk.read_transcript(survey)
    assert caught.value.line == 2 and str(caught.value).startswith(f"{survey}:2: the CSV is malformed")


def test_an_unquoted_comma_in_an_answer_is_an_error_not_half_an_answer(tmp_path):
    """Read as is, 'I was tired, really tired' kept 'I was tired' and ' really tired' became the site."""
    survey = tmp_path / "survey.csv"
    survey.write_text("id,answer,site\nR1,I was tired, really tired,north\nR2,Fine,south\n", encoding="utf-8")
    with pytest.raises(InvalidTranscript, match="this row has 4 cells but the header names 3 columns") as caught:
        qk.read_transcript(survey)
    assert caught.value.line == 2 and "a comma in double quotes" in str(caught.value)
    survey.write_text('id,answer,site\nR1,"I was tired, really tired",north\n', encoding="utf-8")
    assert [s.text for s in qk.read_transcript(survey).segments] == ["I was tired, really tired"]


def test_a_label_column_is_not_taken_for_the_speaker(tmp_path):
    """Seen by a new researcher: the survey's code-label column became 7 'speakers' called staffing, ..."""
    path = tmp_path / "survey.csv"
    path.write_text("respondent,free_text,label\nR1,We are two nurses short every night,staffing\n"
                    "R2,The charting never ends,documentation\n", encoding="utf-8")
    source = qk.read_transcript(path, columns={"text": "free_text", "id": "respondent"})
    assert {s.speaker for s in source.segments} <= {None, "R1", "R2"}
    assert [s.participant for s in source.segments] == ["R1", "R2"]


def test_longest_free_text_column_is_guessed(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("pid,remarks\nR1,the inbox takes my evenings away\nR2,nights and weekends too often\n",
                    encoding="utf-8")
    source = qk.read_transcript(path)
    assert [s.participant for s in source.segments] == ["R1", "R2"]
    assert source.metadata["columns"]["text"] == ["remarks"]


def test_excel_sheet(tmp_path, assert_accounted):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Focus group"
    sheet.append(["Speaker", "Timestamp", "Text", "Site"])
    sheet.append(["Moderator", "00:00:01", "What wears you down?", "North"])
    sheet.append(["Ana", 12.5, "Short staffing, every week.", "North"])
    sheet.append(["Ben", None, "The EHR.", "North"])
    workbook.create_sheet("Notes").append(["nothing here"])
    path = tmp_path / "fg.xlsx"
    workbook.save(path)
    source = qk.read_transcript(path)
    assert source.format == "xlsx"
    assert source.text == "Moderator: What wears you down?\nAna: Short staffing, every week.\nBen: The EHR."
    assert [s.time_start for s in source.segments] == [1.0, 12.5, None]
    assert source.segments[1].attributes["Site"] == "North"
    assert_accounted(source)
    with pytest.raises(InvalidTranscript, match="no sheet 'Missing'"):
        qk.read_transcript(path, sheet="Missing")
    with pytest.raises(InvalidTranscript, match="header but no rows"):
        qk.read_transcript(path, sheet="Notes")


@pytest.mark.parametrize("header", ["Resp #", "Respondent No", "Participant number", "resp_id"])
def test_a_survey_respondent_column_written_as_people_write_it_identifies_the_participant(tmp_path, header):
    """A stranger's 'Resp #' column stayed an attribute: quotes read "Participant, survey.csv", untraceable."""
    path = tmp_path / "survey.csv"
    path.write_text(f"{header},Answer\nS017,We are two nurses short every night\nS018,The charting never ends\n",
                    encoding="utf-8")
    assert [s.participant for s in qk.read_transcript(path).segments] == ["S017", "S018"]


def test_an_updated_survey_export_is_refused_rather_than_counting_every_answer_twice(tmp_path):
    """A stranger's re-downloaded export (the same 120 respondents and one new) was imported whole beside the first."""
    first = tmp_path / "survey.csv"
    first.write_text("Response ID,What is hard?\nR1,Too many nights in a row\nR2,No thanks from anyone\n",
                     encoding="utf-8")
    again = tmp_path / "survey_updated.csv"
    again.write_text(first.read_text(encoding="utf-8") + "R3,Parking\n", encoding="utf-8")
    project = qk.Project.create(tmp_path / "p.qualkit.db", codebook=None, user="ana")
    project.import_transcripts(first, progress=False)
    with pytest.raises(qk.QualkitError, match=r"survey_updated.csv: 2 of its 3 respondents already answered the same "
                                              r"question in survey.csv \(R1, R2\)"):
        project.import_transcripts(again, progress=False)
    assert list(project.sources()["name"]) == ["survey.csv"]
    new = tmp_path / "new_answers.csv"
    new.write_text("Response ID,What is hard?\nR3,Parking\n", encoding="utf-8")
    project.import_transcripts(new, progress=False)  # the new answers alone are welcome
    assert len(project.segments()) == 3
    project.store.engine.dispose()


def test_cells_that_say_no_answer_are_skipped_and_counted(tmp_path):
    """A stranger's 'n/a' and '-' answers were imported as answers and swelled every share's denominator."""
    path = tmp_path / "survey.csv"
    path.write_text("Response ID,What is hard?\nR1,Nights\nR2,n/a\nR3, - \nR4,N/A\nR5,No.\n", encoding="utf-8")
    source = qk.read_transcript(path)
    assert [s.text for s in source.segments] == ["Nights", "No."]
    assert "3 answer cell(s) that say no answer ('n/a', '-' and the like) skipped" in source.import_report.warnings
