"""Write gold_codings.jsonl from the four transcripts and build/annotations.yaml, and check both.

    python corpora/burnout_focus_groups/build/make_gold.py

Every participant turn (moderator turns excluded) becomes one JSON line:

    {"source": "fg1_residents.txt", "turn": 12, "speaker": "Maya", "start": 1234, "end": 1301,
     "text": "...", "codes": ["workload", "moral_injury"]}

``start``/``end`` are code-point offsets (Python str indices, end exclusive) into the source's canonical
text, the text qualkit's readers render:

* ``.txt``  the file decoded as UTF-8, unchanged. A turn is a line ``Name: text`` (fg2 puts
  ``[hh:mm:ss] `` in front); its text runs from after ``Name: `` to the end of the line. Lines before
  the first turn are a header that belongs to no speaker.
* ``.docx`` the body paragraphs' texts (python-docx ``paragraph.text``) joined with ``"\\n"``. A turn
  is a paragraph whose first run is the bold label ``Name:``; its text starts after ``Name: ``.
* ``.vtt``  consecutive cues of one voice merge into one turn; each turn is rendered as
  ``f"{speaker}: {' '.join(cue_texts)}"`` (cue payloads without the ``<v ...>``/``</v>`` tags,
  newlines inside a payload replaced by a space, stripped) and the turns are joined with ``"\\n"``.

Turn indices count all turns, moderators included, in file order, from 0.
"""

from __future__ import annotations

import collections
import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from docx import Document

BUILD = Path(__file__).resolve().parent
CORPUS = BUILD.parent
TRANSCRIPTS = CORPUS / "transcripts"

# The 24 code ids of qualkit's default `burnout` codebook (shared/spec/burnout_taxonomy.md).
TAXONOMY = (
    "emotional_exhaustion", "depersonalization", "reduced_efficacy",
    "disconnection", "isolation", "division", "connection_and_community",
    "moral_injury", "hierarchy", "lack_of_autonomy", "workload", "administrative_burden", "toxic_culture",
    "compassion_fatigue", "compassionate_presence", "trauma", "self_compassion", "stoicism_and_self_neglect",
    "peer_support", "wellness_program_critique", "individual_coping", "organizational_change",
    "meaning_and_purpose",
    "metaphor_imagery",
)  # fmt: skip
SOURCES = {  # file name -> session
    "fg1_residents.txt": "fg1",
    "fg2_residents.txt": "fg2",
    "fg3_faculty.docx": "fg3",
    "fg4_staff.vtt": "fg4",
}
GROUP_ORDER = ("residents", "faculty", "staff")
MIN_RECORDS = 300
MIN_PER_CODE = 5
MIN_PARTICIPANT_TURNS_PER_FILE = 80
WORD_RANGE = (4000, 5000)

TXT_TURN = re.compile(r"^(?:\[\d{2}:\d{2}:\d{2}\] )?(?P<speaker>[^:\n\[\]]{1,40}): (?=\S)")
CUE_TIMING = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}")
VOICE = re.compile(r"^<v(?:\.[^ >]+)* (?P<speaker>[^>]+)>(?P<text>.*?)(?:</v>)?$", re.S)


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: int
    end: int


@dataclass(frozen=True)
class Participant:
    pseudonym: str
    role: str
    group: str


def load_participants() -> dict[str, dict[str, Participant]]:
    sessions: dict[str, dict[str, Participant]] = collections.defaultdict(dict)
    with open(CORPUS / "participants.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert row["role"] in {"resident", "attending", "staff", "moderator"}, row
            assert row["group"] in GROUP_ORDER, row
            assert row["pseudonym"] not in sessions[row["session"]], f"duplicate speaker {row}"
            sessions[row["session"]][row["pseudonym"]] = Participant(
                row["pseudonym"], row["role"], row["group"]
            )
    return sessions


def render_txt(path: Path, known: dict[str, Participant]) -> tuple[str, list[Turn]]:
    canonical = path.read_bytes().decode("utf-8")
    turns: list[Turn] = []
    offset = 0
    for raw in canonical.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        m = TXT_TURN.match(line)
        if m and m["speaker"] in known:
            assert line == line.rstrip(), f"{path.name}: trailing whitespace in {line[:50]!r}"
            turns.append(Turn(m["speaker"], offset + m.end(), offset + len(line)))
        elif line.strip():
            assert not turns, f"{path.name}: line outside any turn after the header: {line[:60]!r}"
        offset += len(raw)
    return canonical, turns


def render_docx(path: Path, known: dict[str, Participant]) -> tuple[str, list[Turn]]:
    texts: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for para in Document(str(path)).paragraphs:
        text = para.text
        runs = para.runs
        label = runs[0].text if runs else ""
        if runs and runs[0].bold and label.endswith(":") and label[:-1] in known:
            assert text.startswith(label + " "), f"{path.name}: no space after label in {text[:50]!r}"
            turns.append(Turn(label[:-1], offset + len(label) + 1, offset + len(text)))
        else:
            assert not turns, f"{path.name}: paragraph outside any turn after the title: {text[:60]!r}"
        texts.append(text)
        offset += len(text) + 1
    return "\n".join(texts), turns


def render_vtt(path: Path, known: dict[str, Participant]) -> tuple[str, list[Turn]]:
    content = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    blocks = [b for b in re.split(r"\n{2,}", content.strip("\n")) if b.strip()]
    assert blocks[0].startswith("WEBVTT"), f"{path.name}: missing WEBVTT header"
    cues: list[tuple[str, str]] = []
    for block in blocks[1:]:
        lines = block.split("\n")
        i = next(k for k, ln in enumerate(lines) if "-->" in ln)
        assert CUE_TIMING.match(lines[i]), f"{path.name}: bad timing line {lines[i]!r}"
        m = VOICE.match("\n".join(lines[i + 1 :]))
        assert m, f"{path.name}: cue without a voice tag: {block[:60]!r}"
        cues.append((m["speaker"], m["text"].replace("\n", " ").strip()))
    merged: list[list] = []
    for speaker, text in cues:
        if merged and merged[-1][0] == speaker:
            merged[-1][1].append(text)
        else:
            merged.append([speaker, [text]])
    lines_out: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for speaker, parts in merged:
        assert speaker in known, f"{path.name}: unknown speaker {speaker!r}"
        line = f"{speaker}: {' '.join(parts)}"
        turns.append(Turn(speaker, offset + len(speaker) + 2, offset + len(line)))
        lines_out.append(line)
        offset += len(line) + 1
    return "\n".join(lines_out), turns


RENDERERS = {".txt": render_txt, ".docx": render_docx, ".vtt": render_vtt}


def main() -> int:
    participants = load_participants()
    annotations = yaml.safe_load((BUILD / "annotations.yaml").read_text(encoding="utf-8"))
    assert set(annotations) == set(SOURCES), f"annotations.yaml covers {sorted(annotations)}"
    records: list[dict] = []
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    turns_per_group: collections.Counter = collections.Counter()
    print(f"{'source':<20} {'words':>6} {'turns':>6} {'particip.':>9} {'coded':>6}")
    for name, session in SOURCES.items():
        known = participants[session]
        path = TRANSCRIPTS / name
        canonical, turns = RENDERERS[path.suffix](path, known)
        coding = {int(k): v for k, v in (annotations[name] or {}).items()}
        participant_idx = {i for i, t in enumerate(turns) if known[t.speaker].role != "moderator"}
        missing, extra = participant_idx - set(coding), set(coding) - participant_idx
        assert not missing, f"{name}: participant turns without annotation: {sorted(missing)}"
        assert not extra, f"{name}: annotations for moderator or non-existent turns: {sorted(extra)}"
        assert len(participant_idx) >= MIN_PARTICIPANT_TURNS_PER_FILE, f"{name}: too few participant turns"
        words = len(canonical.split())
        assert WORD_RANGE[0] <= words <= WORD_RANGE[1], f"{name}: {words} words"
        coded = 0
        for i in sorted(participant_idx):
            turn, codes = turns[i], coding[i]
            assert isinstance(codes, list) and len(set(codes)) == len(codes), f"{name} turn {i}: {codes!r}"
            unknown = [c for c in codes if c not in TAXONOMY]
            assert not unknown, f"{name} turn {i}: unknown code ids {unknown}"
            text = canonical[turn.start : turn.end]
            assert text and text == text.strip(), f"{name} turn {i}: empty or padded text"
            group = known[turn.speaker].group
            turns_per_group[group] += 1
            coded += bool(codes)
            for c in codes:
                counts[c][group] += 1
            records.append({
                "source": name, "turn": i, "speaker": turn.speaker,
                "start": turn.start, "end": turn.end, "text": text, "codes": list(codes),
            })  # fmt: skip
            assert canonical[records[-1]["start"] : records[-1]["end"]] == records[-1]["text"]
        print(f"{name:<20} {words:>6} {len(turns):>6} {len(participant_idx):>9} {coded:>6}")

    assert len(records) >= MIN_RECORDS, f"only {len(records)} gold records"
    too_rare = {c: sum(counts[c].values()) for c in TAXONOMY if sum(counts[c].values()) < MIN_PER_CODE}
    assert not too_rare, f"codes below {MIN_PER_CODE} gold turns: {too_rare}"

    with open(CORPUS / "gold_codings.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    print(f"\n{len(records)} participant turns written to gold_codings.jsonl")
    print(f"\n{'code':<28}" + "".join(f"{g:>10}" for g in GROUP_ORDER) + f"{'total':>8}")
    for c in TAXONOMY:
        print(
            f"{c:<28}" + "".join(f"{counts[c][g]:>10}" for g in GROUP_ORDER) + f"{sum(counts[c].values()):>8}"
        )
    print(f"{'(participant turns)':<28}" + "".join(f"{turns_per_group[g]:>10}" for g in GROUP_ORDER)
          + f"{sum(turns_per_group.values()):>8}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
