"""The report's exemplar quotes name nobody: no speaker's or participant's name, no transcript file name.

A stranger's report printed "“Łukasz, FY2, on geriatrics…”" (Łukasz: the participant's label in
participants.csv) right under "attributed by role, never by name", and attributed a speaker not linked to a
participant by the file name: "— Participant, fg05 Zoë & Łukasz (final).txt".
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _build import source_from_turns

from qualkit.export.report import collect_report
from qualkit.model import Code, Codebook, Coding, Participant
from qualkit.store.repository import Store

FILE = "fg05 Zoë & Łukasz (final).txt"


def _study() -> Store:
    store = Store.create("sqlite://", name="Rota")
    store.save_codebook(Codebook("rota", [Code("rota", "Rota pressure")]), user="ana")
    store.upsert_participants([Participant("Łukasz", aliases=["Łukasz"], attributes={"role": "FY2"}),
                               Participant("P7", pseudonym="Marta Nowak", attributes={"role": "FY1", "group": 2})],
                              user="ana")
    source = source_from_turns(FILE, [
        ("Moderator", "How is the rota?", "moderator"),
        ("Łukasz", "Łukasz, FY2, on geriatrics: the rota is brutal and Zoë covers my nights.", "participant"),
        ("Zoë", "Honestly the rota breaks us; ask Łukasz, or Nowak, or Marta, they will tell you.", "participant"),
        ("Marta Nowak", "The rota changed twice this week and nobody told Zoë or me.", "participant"),
    ], "\n")
    store.add_source(source, user="ana")
    store.add_codings([Coding(s.id, "rota", origin="human", status="accepted", coder="ana")
                       for s in source.segments[1:]], user="ana")
    return store


def test_report_quotes_mask_names_and_attribute_unlinked_speakers_by_transcript_number():
    store = _study()
    report = collect_report(store, n_boot=0, figures=False, min_cell=1)  # one person per role: names only here
    quoted = [b for b in report.blocks if b.kind == "quote"]
    assert len(quoted) == 3
    for block in quoted:
        for name in ("Łukasz", "Zoë", "Marta", "Nowak", ".txt", "fg05"):
            assert name not in block.text and name not in block.attribution, (name, block)
    texts = {b.text for b in quoted}
    assert "[name], FY2, on geriatrics: the rota is brutal and [name] covers my nights." in texts
    assert "Participant, transcript 1" in {b.attribution for b in quoted}  # Zoë: no participant of the study
    assert "FY1, group 2" in {b.attribution for b in quoted}
    # The library's quotes keep the words and the source for the researchers themselves.
    assert FILE in set(store.segments_df()["source"])


def test_name_labels_leave_role_labels_alone():
    from qualkit.analysis.quotes import mask_names, name_labels

    names = name_labels(["Moderator", "P3", "R01", "FY2", "Interviewer", "Jill Smith, MD", "Bo"])
    assert names == ["Jill Smith, MD", "Jill Smith", "Smith", "Jill", "Bo"]
    assert mask_names("P3 told Moderator that Jill was off; will Bo?", names) == \
        "P3 told Moderator that [name] was off; will [name]?"
