"""Generate the Word and WebVTT versions of focus groups 3 and 4 from their hand-written master texts.

    python corpora/burnout_focus_groups/build/make_formats.py

Inputs (this folder):
    fg3_faculty.txt, fg4_staff.txt   master texts: an optional title line, a blank line, then one
                                     ``Name: text`` turn per line
    ../participants.csv              every speaker label must be a pseudonym of that session

Outputs (../transcripts/):
    fg3_faculty.docx   a title paragraph, then one paragraph per turn: a bold run "Name:" and a
                       normal run " text"
    fg4_staff.vtt      WebVTT as a video-meeting tool exports it: numbered cues, <v Name> voice tags,
                       long turns split over 2-4 consecutive cues, about 2.5 words per second

The output is deterministic: the .docx gets fixed core properties and fixed zip timestamps, and the
cue timings are computed from word counts only, so re-running gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import re
import zipfile
from pathlib import Path

from docx import Document

BUILD = Path(__file__).resolve().parent
CORPUS = BUILD.parent
OUT = CORPUS / "transcripts"

TURN_RE = re.compile(r"^(?P<speaker>[^:\n]{1,40}): (?P<text>\S.*)$")
SESSION_DATES = {"fg3": dt.datetime(2023, 4, 4, 12, 0, 0), "fg4": dt.datetime(2023, 4, 18, 12, 0, 0)}
WORDS_PER_SECOND = 2.5
MAX_WORDS_PER_CUE = 32  # a turn longer than this is split over several cues
FIXED_ZIP_TIME = (2023, 4, 4, 12, 0, 0)


def speakers_of(session: str) -> set[str]:
    with open(CORPUS / "participants.csv", newline="", encoding="utf-8") as fh:
        return {row["pseudonym"] for row in csv.DictReader(fh) if row["session"] == session}


def read_master(path: Path, session: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Return (header lines, turns) of a master text; every turn is checked against participants.csv."""
    known = speakers_of(session)
    header: list[str] = []
    turns: list[tuple[str, str]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        m = TURN_RE.match(line)
        if m and m["speaker"] in known:
            text = m["text"]
            if text != text.strip() or "  " in text:
                raise ValueError(f"{path.name}:{lineno}: stray whitespace in turn")
            if turns and turns[-1][0] == m["speaker"]:
                raise ValueError(f"{path.name}:{lineno}: two consecutive turns by {m['speaker']!r}")
            turns.append((m["speaker"], text))
        elif turns:
            raise ValueError(f"{path.name}:{lineno}: not a turn of a known speaker: {line[:60]!r}")
        else:
            header.append(line)
    return header, turns


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed member timestamps so the bytes do not depend on the build time."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return buf.getvalue()


def make_docx(master: Path, out: Path) -> None:
    header, turns = read_master(master, "fg3")
    title = header[0] if header else "Focus group 3"
    doc = Document()
    doc.add_paragraph(title, style="Title")
    for speaker, text in turns:
        p = doc.add_paragraph()
        p.add_run(f"{speaker}:").bold = True
        p.add_run(f" {text}")
    cp = doc.core_properties
    when = SESSION_DATES["fg3"]
    cp.title = title
    cp.subject = "Clinician burnout focus groups (demo study bundled with qualkit)"
    cp.author = "The qualkit authors"
    cp.last_modified_by = "The qualkit authors"
    cp.keywords = "focus group; burnout; transcript; fictional"
    cp.comments = "Fictional transcript written by the qualkit authors. CC BY 4.0."
    cp.category = "transcript"
    cp.language = "en-US"
    cp.created = when
    cp.modified = when
    cp.last_printed = when
    cp.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    out.write_bytes(normalise_zip(buf.getvalue()))


def split_cues(text: str) -> list[str]:
    """Split one turn into 1-4 cue payloads at sentence ends near equal sizes (else at a word)."""
    words = text.split(" ")
    n = min(4, math.ceil(len(words) / MAX_WORDS_PER_CUE))
    if n <= 1:
        return [text]
    ends = [i + 1 for i, w in enumerate(words[:-1]) if w[-1] in ".?!" or w.endswith((".)", '."', '?"'))]
    cuts: list[int] = []
    for k in range(1, n):
        ideal = round(k * len(words) / n)
        lo = (cuts[-1] if cuts else 0) + 3
        near = [e for e in ends if lo <= e <= len(words) - 3 and abs(e - ideal) <= len(words) / n * 0.4]
        cut = min(near, key=lambda e: abs(e - ideal)) if near else max(lo, ideal)
        cuts.append(cut)
    bounds = [0, *cuts, len(words)]
    chunks = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
    assert " ".join(chunks) == text and all(chunks)
    return chunks


def stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def make_vtt(master: Path, out: Path) -> None:
    _, turns = read_master(master, "fg4")
    blocks = ["WEBVTT"]
    t = 1.0
    cue = 0
    for i, (speaker, text) in enumerate(turns):
        if any(ch in text for ch in "<>&") or "-->" in text:
            raise ValueError(f"turn {i}: characters that WebVTT would need escaped")
        for chunk in split_cues(text):
            duration = max(1.0, len(chunk.split()) / WORDS_PER_SECOND)
            cue += 1
            blocks.append(f"{cue}\n{stamp(t)} --> {stamp(t + duration)}\n<v {speaker}>{chunk}</v>")
            t += duration
        t += 0.3 + ((i * 7) % 13) / 10  # a short, varying pause between speakers
    out.write_text("\n\n".join(blocks) + "\n", encoding="utf-8", newline="\n")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    make_docx(BUILD / "fg3_faculty.txt", OUT / "fg3_faculty.docx")
    make_vtt(BUILD / "fg4_staff.txt", OUT / "fg4_staff.vtt")
    print(f"wrote {OUT / 'fg3_faculty.docx'}")
    print(f"wrote {OUT / 'fg4_staff.vtt'}")


if __name__ == "__main__":
    main()
