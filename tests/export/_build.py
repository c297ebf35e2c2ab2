"""Small hand-built projects for the export tests: CRLF and non-ASCII sources, codes, codings, memos."""

from __future__ import annotations

import os
from pathlib import Path

from qualkit.model import Code, Codebook, Coding, Memo, Participant, Segment, Source

# As tests/conftest.py's SHARED: ``../shared`` beside the checkout unless QUALKIT_SHARED_DIR says otherwise.
REFI_SPEC = Path(os.environ.get("QUALKIT_SHARED_DIR") or Path(__file__).resolve().parents[2].parent / "shared") / "spec" / "refi"

CODEBOOK = Codebook("mini", [
    Code("drivers", "Systemic drivers", codable=False, definition="What the system does to clinicians."),
    Code("workload", "Workload", parent="drivers", definition="Too much work for the time.",
         inclusion="Hours, volume, pace.", exclusion="Emotional load alone.", examples=["Twelve patients, one me."],
         color="#aa3300"),
    Code("ehr", "EHR burden", parent="drivers", definition="Charting, inbox, clicks.", cues=["inbox", "charting"]),
    Code("exhaustion", "Exhaustion", definition="Feeling drained.", near_misses=["I'm tired of the menu."]),
])

PARTICIPANTS = [
    Participant("R01", pseudonym="Ann", aliases=["Ann"], attributes={"role": "resident", "group": 1,
                                                                     "years_in_role": 2, "gender": "female"}),
    Participant("S01", aliases=["Béla"], attributes={"role": "staff", "group": 1, "years_in_role": 7.5,
                                                     "on_call": True}),
    Participant("A01", aliases=["Zoë"], attributes={"role": "attending", "group": 2, "years_in_role": 12}),
]


def source_from_turns(name: str, turns: list[tuple[str, str, str]], newline: str) -> Source:
    """A source whose lines are ``Label: body``; each body is a turn segment with exact offsets."""
    text, segments = "", []
    for turn, (label, body, role) in enumerate(turns):
        line = f"{label}: {body}"
        start = len(text) + len(label) + 2
        text += line + newline
        segments.append(Segment(name, start, start + len(body), body, speaker=label, role=role, turn=turn))
    source = Source(name=name, text=text, format="txt", raw=text.encode("utf-8"), encoding="utf-8")
    source.segments = segments
    return source


def build_project(store, *, user: str = "ana") -> dict:
    """Fill ``store`` with two sources (CRLF + non-ASCII, LF + emoji), codebook, participants, codings, memos."""
    store.save_codebook(CODEBOOK, user=user, note="test")
    store.upsert_participants(PARTICIPANTS, user=user)
    g1 = source_from_turns("g1 café.txt", [
        ("Moderator", "What comes to mind?", "moderator"),
        ("Ann", "Honestly? Exhaustion (laughs). Twelve patients, one me.", "participant"),
        ("Béla", "Paperwork, the EHR, the inbox — naïve to think it ends.", "participant"),
    ], "\r\n")
    g2 = source_from_turns("g2.txt", [
        ("Moderator", "And at night?", "moderator"),
        ("Zoë", "The pager 📟 never stops; 夜 shifts are brutal.", "participant"),
        ("Ann", "Same. I chart at home 😩 after the kids sleep.", "participant"),
    ], "\n")
    store.add_sources([g1, g2], user=user)
    s = {seg.text[:8]: seg for seg in g1.segments + g2.segments}
    ann1, bela, zoe, ann2 = s["Honestly"], s["Paperwo"[:7] + "r"], s["The page"], s["Same. I "]
    exhaustion = ann1.start + ann1.text.index("Exhaustion")
    codings = [
        # A narrowed human span inside a CRLF source, after a non-ASCII character earlier in the file.
        Coding(ann1.id, "exhaustion", origin="human", status="accepted", coder="ana", start=exhaustion,
               end=exhaustion + len("Exhaustion")),
        Coding(ann1.id, "workload", origin="human", status="accepted", coder="ana"),
        # A suggestion ben accepted in place; and one still waiting; and one rejected.
        Coding(bela.id, "ehr", origin="rules", status="accepted", coder="auto", decided_by="ben", score=0.8),
        Coding(zoe.id, "workload", origin="rules", status="suggested", coder="auto", score=0.6),
        Coding(zoe.id, "exhaustion", origin="rules", status="rejected", coder="auto", decided_by="ana", score=0.3),
        # Spans after astral-plane characters (code points, not UTF-16 units).
        Coding(zoe.id, "exhaustion", origin="human", status="accepted", coder="ben",
               start=zoe.start + zoe.text.index("夜"), end=zoe.end),
        Coding(ann2.id, "ehr", origin="human", status="accepted", coder="ana",
               start=ann2.start + ann2.text.index("I chart"), end=ann2.start + ann2.text.index(" 😩")),
    ]
    store.add_codings(codings, user=user)
    memos = [
        Memo("Recurring 'one me' phrasing.\r\nCheck group 2.", author="ana", segment_id=ann1.id),
        Memo("Group 1 was late to start.", author="ben", source_id=g1.id),
        Memo("Workload vs exhaustion: keep apart.", author="ana", code_id="workload"),
        Memo("Project note: codebook v1 piloted.", author="ana"),
    ]
    for memo in memos:
        store.add_memo(memo, user=user)
    return {"sources": [g1, g2], "codings": codings, "memos": memos}


CORPUS = Path(__file__).resolve().parents[2] / "corpora" / "burnout_focus_groups"


def build_demo_project(path, *, second_coder: bool = True):
    """The demo study with its gold codings as coder ``gold`` (and a noisy second coder ``ana``)."""
    import json
    import random

    import qualkit as qk

    project = qk.Project.create(path, name="Burnout focus groups", codebook="burnout", user="gold")
    project.import_transcripts(sorted((CORPUS / "transcripts").iterdir()), participants=CORPUS / "participants.csv")
    segments = project.segments()
    key = {(s, a, b): i for s, a, b, i in zip(segments["source"], segments["start"], segments["end"], segments["id"],
                                              strict=True)}
    rng = random.Random(0)
    codings, second = [], []
    for line in (CORPUS / "gold_codings.jsonl").read_text(encoding="utf-8").splitlines():
        gold = json.loads(line)
        segment_id = key[(gold["source"], gold["start"], gold["end"])]
        for code in gold["codes"]:
            codings.append(Coding(segment_id, code, status="accepted", coder="gold"))
            if second_coder and rng.random() < 0.85:  # a second coder who misses some codes
                second.append(Coding(segment_id, code, status="accepted", coder="ana"))
    project.store.add_codings(codings, user="gold")
    project.store.add_codings(second, user="ana")  # each coder's rows are decided by that coder
    return project


QDPX_TAGS = ("TextSource", "Code", "PlainTextSelection", "Coding", "Case", "User", "Variable", "Note")


def qdpx_identities(path) -> dict[str, list[tuple[str, str]]]:
    """(guid, name) of every element of each kind in a .qdpx file, to compare two exports."""
    import zipfile

    import defusedxml.ElementTree as SafeET

    from qualkit.export.refi import PROJECT_NS

    with zipfile.ZipFile(path) as archive:
        root = SafeET.fromstring(archive.read("project.qde"))
    return {tag: sorted((e.get("guid"), e.get("name") or "") for e in root.iter(f"{{{PROJECT_NS}}}{tag}"))
            for tag in QDPX_TAGS}


def runnable_formula(cell) -> bool:
    """A text cell a spreadsheet could run (a CSV's negative numbers, such as "-1", are numbers)."""
    from qualkit.export.tables import starts_like_formula

    if not isinstance(cell, str) or not starts_like_formula(cell):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


def live_in_excel(cell) -> bool:
    """A workbook cell Excel could run: a formula, or text that starts like one without the quote prefix that
    keeps it text when someone edits the cell (qualkit writes such text unchanged, as a string cell)."""
    return cell.data_type == "f" or (runnable_formula(cell.value) and not (cell.data_type == "s" and cell.quotePrefix))
