"""Import speed: words per second reading + segmenting transcripts, and including storing them in SQLite.

A deterministic corpus of generated focus-group transcripts (default 100 files × 10,000 words; label
styles, timestamps, non-speech marks, title blocks and CRLF vary by file) is written to a temporary
folder. Measured: ``read_transcript`` with turn segmentation; with sentence segmentation (one shared
spaCy sentencizer); and ``Project.import_transcripts`` into a fresh SQLite file (turn segments,
one transaction per file). Words are whitespace-separated tokens of the files. Smaller extra rows
show the WebVTT and Word readers on the same kind of text.

    python -m bench.ingest                 # full run, writes bench/results/ingest.json
    python -m bench.ingest --files 10      # quick look
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import max_rss_mb, save, table

_VOCABULARY = ("the a and to of I it was that you we in for on is but just like so they with not at my our this "
         "shift night patients nurse charting inbox tired exhausted burnout team program wellness time "
         "hours weekend pager call notes documentation EHR manager staffing support colleagues family "
         "sleep coffee week month year honestly really always never again everyone nobody system "
         "resilience workload moral injury care feel felt think know mean said told asked home work")
WORDS = _VOCABULARY.split(" ")
NAMES = ["Maya", "Tomás", "Aisha", "Kevin", "Dr Okafor", "Lauren", "Jun", "Priya", "Olga Petrova", "Emeka"]
MARKS = ["(laughs)", "[crosstalk]", "[inaudible 00:12:03]", "(sighs)", "[pause]"]


def _turns(rng: random.Random, words: int) -> list[tuple[str, str]]:
    speakers = ["Moderator", *rng.sample(NAMES, 6)]
    turns: list[tuple[str, str]] = []
    total = 0
    while total < words:
        speaker = "Moderator" if rng.random() < 0.2 else rng.choice(speakers[1:])
        n = rng.randint(5, 25) if speaker == "Moderator" else rng.randint(10, 140)
        tokens = [rng.choice(WORDS) for _ in range(n)]
        for i in range(7, n, rng.randint(8, 15)):
            tokens[i] += rng.choice([".", ",", "?", "."])
        if rng.random() < 0.15:
            tokens.insert(rng.randrange(len(tokens)), rng.choice(MARKS))
        text = " ".join(tokens) + "."
        turns.append((speaker, text))
        total += n + 1
    return turns


def make_corpus(folder: Path, files: int, words: int, seed: int = 7) -> int:
    """Write ``files`` text transcripts of about ``words`` words each; return the total word count."""
    rng = random.Random(seed)
    total = 0
    for index in range(files):
        style = index % 3
        ending = "\r\n" if index % 4 == 0 else "\n"
        lines = [f"Focus group {index + 1} — generated for the ingestion benchmark", ""]
        seconds = 0
        for speaker, text in _turns(rng, words):
            seconds += rng.randint(3, 40)
            stamp = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            label = {0: f"{speaker}:", 1: f"[{stamp}] {speaker}:", 2: f"**{speaker}:**"}[style]
            lines += [f"{label} {text}", ""]
        content = ending.join(lines)
        (folder / f"fg{index + 1:03d}.txt").write_text(content, encoding="utf-8", newline="")
        total += len(content.split())
    return total


def make_vtt_and_docx(folder: Path, files: int, words: int, seed: int = 11) -> tuple[int, int]:
    """Write ``files`` WebVTT and ``files`` Word transcripts; return their word counts."""
    import docx

    rng = random.Random(seed)
    vtt_words = docx_words = 0
    for index in range(files):
        turns = _turns(rng, words)
        blocks, t = ["WEBVTT"], 0.0
        for number, (speaker, text) in enumerate(turns, start=1):
            duration = len(text.split()) / 2.5
            start = f"{int(t // 3600):02d}:{int(t // 60 % 60):02d}:{t % 60:06.3f}"
            t += duration
            end = f"{int(t // 3600):02d}:{int(t // 60 % 60):02d}:{t % 60:06.3f}"
            blocks.append(f"{number}\n{start} --> {end}\n<v {speaker}>{text}</v>")
        content = "\n\n".join(blocks) + "\n"
        (folder / f"meeting{index + 1:03d}.vtt").write_text(content, encoding="utf-8")
        vtt_words += sum(len(text.split()) + len(speaker.split()) for speaker, text in turns)
        document = docx.Document()
        document.add_paragraph(f"Focus group {index + 1}")
        for speaker, text in turns:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{speaker}:").bold = True
            paragraph.add_run(f" {text}")
        buffer = io.BytesIO()
        document.save(buffer)
        (folder / f"group{index + 1:03d}.docx").write_bytes(buffer.getvalue())
        docx_words += 2 + sum(len(text.split()) + len(speaker.split()) for speaker, text in turns)
    return vtt_words, docx_words


def _run(label: str, words: int, files: int, fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    return {"measure": label, "files": files, "words": words, "seconds": round(seconds, 3),
            "words_per_second": round(words / seconds)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the ingestion benchmark, print a table, write ``bench/results/ingest.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100, help="number of text transcripts (default 100)")
    parser.add_argument("--words", type=int, default=10_000, help="words per transcript (default 10,000)")
    parser.add_argument("--format-files", type=int, default=20, help="WebVTT and Word files for the extra rows")
    args = parser.parse_args(argv)

    from qualkit.ingest import read_transcript
    from qualkit.ingest.segment import _nlp_for_sentences
    from qualkit.project import Project

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="qualkit-bench-ingest-") as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        words = make_corpus(folder, args.files, args.words)
        paths = sorted(folder.glob("*.txt"))
        segments = {"n": 0}

        read_transcript(paths[0])  # warm up: imports and compiled patterns are not what we measure

        def read_turns() -> None:
            for path in paths:
                segments["n"] += len(read_transcript(path).segments)

        rows.append(_run("read + turn segments (.txt)", words, len(paths), read_turns))
        nlp = _nlp_for_sentences()
        rows.append(_run("read + sentence segments (.txt)", words, len(paths),
                         lambda: [read_transcript(p, segment_by="sentence", nlp=nlp) for p in paths]))
        database = Path(tmp) / "bench.qualkit.db"
        project = Project.create(database, codebook=None, user="bench")
        rows.append(_run("read + turns + store in SQLite (.txt)", words, len(paths),
                         lambda: project.import_transcripts(paths, progress=False)))
        stored = int(project.sources()["segments"].sum())
        project.store.engine.dispose()
        if args.format_files:
            other = Path(tmp) / "formats"
            other.mkdir()
            vtt_words, docx_words = make_vtt_and_docx(other, args.format_files, args.words)
            vtts, docxs = sorted(other.glob("*.vtt")), sorted(other.glob("*.docx"))
            rows.append(_run("read + turn segments (.vtt)", vtt_words, len(vtts),
                             lambda: [read_transcript(p) for p in vtts]))
            rows.append(_run("read + turn segments (.docx)", docx_words, len(docxs),
                             lambda: [read_transcript(p) for p in docxs]))
    print(table(rows))
    print(f"({segments['n']} turn/unattributed segments read; {stored} stored; peak RSS {max_rss_mb():.0f} MB)")
    figures = {"corpus": {"files": args.files, "words_per_file": args.words, "total_words": words},
               "rows": rows, "segments_stored": stored, "peak_rss_mb": round(max_rss_mb())}
    path = save("ingest", figures)
    print(f"saved {path}")
    return figures


if __name__ == "__main__":
    main()
