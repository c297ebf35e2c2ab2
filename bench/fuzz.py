"""Fuzzing every transcript reader: hostile files must end in a Source or in qualkit's own one-line error.

A seeded generator (no Hypothesis, so a case is reproducible from its seed alone) builds a valid sample
of every format in the reader registry (``qualkit.ingest.readers.READERS``) and mutates it: flipped,
inserted and deleted bytes, truncation, NULs, byte-order marks with lone surrogates, long lines, many
speakers, many columns, many cues, and for zip formats (.docx, .xlsx) headers that lie about sizes,
versions, compression and encryption. Each case is read with ``read_transcript``; the outcome is
``ok`` (a Source whose offsets and accounting hold), ``refused`` (a :class:`~qualkit.errors.QualkitError`
whose message is one line of at most 600 characters) or a ``bug`` (anything else). The test
``tests/ingest/test_fuzz.py`` runs a few hundred cases; this benchmark runs thousands and reports the
slowest step and the peak memory of one step (``tracemalloc``, so steps run slower than without it).

    python -m bench.fuzz                       # 3,000 cases, seed 16
    python -m bench.fuzz --cases 500 --seed 7  # quick look
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import time
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

WORDS = ["nights", "staffing", "burnout", "tired", "inbox", "patients", "shift", "coffee", "team", "manager", "café", "naïve", "épuisée", "Müde", "中文", "жизнь", "(laughs)", "[crosstalk]", "honestly", "really", "always", "never"]
SPEAKERS = ["Moderator", "Ann", "Dr Okafor", "Jill Smith, MD", "P3", "I1", "Zoë", "李雷", "SAM RIVERA"]


@dataclass(frozen=True, slots=True)
class Case:
    """One fuzz input: the file name it is read under (its suffix picks the reader) and its bytes."""

    name: str
    format: str
    data: bytes
    mutation: str


def _turns(rng: random.Random, count: int, speakers: list[str] | None = None) -> list[tuple[str, str]]:
    speakers = speakers or SPEAKERS
    return [(rng.choice(speakers), " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) + ".")
            for _ in range(count)]


def _text(turns: list[tuple[str, str]], rng: random.Random) -> bytes:
    ending = rng.choice(["\n", "\r\n", "\r"])
    style = rng.choice(["{s}: {w}", "**{s}:** {w}", "[{s}] {w}", "*0:{i} = {s}: {w}", "00:00:{i:02d} {s}: {w}"])
    lines = [style.format(s=s, w=w, i=i % 60) for i, (s, w) in enumerate(turns)]
    if rng.random() < 0.3:
        lines.append("")
        lines.append("Disclosure Statement: none.")
    return ending.join(lines).encode(rng.choice(["utf-8", "utf-8-sig", "utf-16", "cp1252"]), "replace")


def _cues(turns: list[tuple[str, str]], srt: bool) -> bytes:
    sep = "," if srt else "."
    blocks = []
    for i, (s, w) in enumerate(turns):
        head = f"{i + 1}\n" if srt else ""
        blocks.append(f"{head}00:{i // 60 % 60:02d}:{i % 60:02d}{sep}000 --> 00:{i // 60 % 60:02d}:{i % 60:02d}"
                      f"{sep}900\n<v {s}>{w}" if not srt else
                      f"{head}00:{i // 60 % 60:02d}:{i % 60:02d}{sep}000 --> 00:{i // 60 % 60:02d}:{i % 60:02d}"
                      f"{sep}900\n{s}: {w}")
    return (("" if srt else "WEBVTT\n\n") + "\n\n".join(blocks) + "\n").encode()


def _csv(turns: list[tuple[str, str]], columns: int = 2) -> bytes:
    extra = [f"c{i}" for i in range(max(columns - 2, 0))]
    header = ",".join(["speaker", "text", *extra])
    rows = [",".join([s.replace(",", ""), f'"{w}"', *("1" for _ in extra)]) for s, w in turns]
    return ("\n".join([header, *rows]) + "\n").encode()


def _docx(turns: list[tuple[str, str]]) -> bytes:
    import docx

    document = docx.Document()
    for speaker, words in turns:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{speaker}:").bold = True
        paragraph.add_run(f" {words}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xlsx(turns: list[tuple[str, str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["speaker", "text"])
    for row in turns:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# A valid sample per registry entry (a new format adds one line).
SAMPLES: dict[str, Callable[[random.Random, int], bytes]] = {
    "txt": lambda rng, n: _text(_turns(rng, n), rng),
    "md": lambda rng, n: b"# Interview\n\n" + _text(_turns(rng, n), rng),
    "docx": lambda rng, n: _docx(_turns(rng, n)),
    "vtt": lambda rng, n: _cues(_turns(rng, n), srt=False),
    "srt": lambda rng, n: _cues(_turns(rng, n), srt=True),
    "csv": lambda rng, n: _csv(_turns(rng, n)),
    "xlsx": lambda rng, n: _xlsx(_turns(rng, n)),
}


# ---------------------------------------------------------------- mutations
def _flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _insert(rng: random.Random, data: bytes) -> bytes:
    junk = rng.choice([b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\xd8\x00", b"-->", b"<v ",
                       b"\r", b"PK\x03\x04", bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))])
    at = rng.randrange(len(data) + 1)
    return data[:at] + junk * rng.randint(1, 50) + data[at:]


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _duplicate(rng: random.Random, data: bytes) -> bytes:
    a = rng.randrange(len(data) + 1)
    b = min(len(data), a + rng.randint(1, 4096))
    return data[:b] + data[a:b] * rng.randint(2, 30) + data[b:]


def _nul_late(rng: random.Random, data: bytes) -> bytes:
    return data + b"\nAnn: " + b"x" * 70_000 + b"\x00 after 64 KB\n"


def _utf16_lone_surrogate(rng: random.Random, data: bytes) -> bytes:
    body = "Ann: hi\nBo: yo\nAnn: ok\n".encode("utf-16-le")
    return b"\xff\xfe" + body + b"\x00\xd8" + "Bo: more\n".encode("utf-16-le")


def _long_line(rng: random.Random, data: bytes) -> bytes:
    return data + b"\nAnn: " + (b"<a" if rng.random() < 0.5 else b"1:11") * rng.randint(10_000, 300_000) + b"\n"


def _zip_header(rng: random.Random, data: bytes) -> bytes:
    """Lie in a zip's headers: version needed, sizes, compression method, flags (local or central)."""
    out = bytearray(data)
    central = [i for i in range(len(out) - 4) if out[i:i + 4] == b"PK\x01\x02"]
    local = [i for i in range(len(out) - 4) if out[i:i + 4] == b"PK\x03\x04"]
    choice = rng.choice(["version", "size", "method", "flags", "local_size"])
    if choice == "local_size" and local:
        at = rng.choice(local)
        struct.pack_into("<I", out, at + 22, rng.choice([1, 10**9, 0xFFFFFFFF]))
    elif central:
        at = rng.choice(central)
        if choice == "version":
            struct.pack_into("<H", out, at + 6, rng.choice([134, 63, 255, 999]))
        elif choice == "size":
            struct.pack_into("<I", out, at + 24, rng.choice([1, 10, 10**6, 4 * 10**9]))
        elif choice == "method":
            struct.pack_into("<H", out, at + 10, rng.choice([1, 9, 12, 14, 99]))
        else:
            struct.pack_into("<H", out, at + 8, rng.choice([1, 0x41, 0xFFFF]))
    return bytes(out)


def _lying_zip(rng: random.Random, data: bytes) -> bytes:
    """A real Word/Excel file plus a member that inflates far past the size its header declares."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        out.writestr("word/media/zeros.bin", b"\x00" * rng.choice([10**6, 20 * 10**6]))
    raw = bytearray(buffer.getvalue())
    marker = b"word/media/zeros.bin"
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = 0
        while True:
            at = raw.find(signature, at)
            if at < 0:
                break
            name_at = at + (46 if signature == b"PK\x01\x02" else 30)
            if raw[name_at:name_at + len(marker)] == marker:
                struct.pack_into("<I", raw, at + offset, 1000)  # "1,000 bytes", says the header
            at += 4
    return bytes(raw)


def _many_speakers(rng: random.Random, n: int) -> bytes:
    return "\n".join(f"Person{i} Test{i}: words {i}." for i in range(n)).encode()


def _wide_csv(rng: random.Random, columns: int) -> bytes:
    return _csv(_turns(rng, 3), columns=columns)


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip, "insert": _insert, "truncate": _truncate, "duplicate": _duplicate, "nul_late": _nul_late,
    "utf16_lone_surrogate": _utf16_lone_surrogate, "long_line": _long_line, "none": lambda rng, data: data,
}
ZIP_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {"zip_header": _zip_header,
                                                                     "lying_zip": _lying_zip}


def cases(count: int, seed: int = 16, *, big: bool = False) -> Iterator[Case]:
    """``count`` reproducible fuzz cases over every registered reader (``big`` adds inputs near the limits).

    Example:
        >>> [c.format for c in cases(3, seed=1)] == [c.format for c in cases(3, seed=1)]
        True
    """
    from qualkit.ingest.readers import READERS

    rng = random.Random(seed)
    formats = list(READERS)
    for index in range(count):
        fmt = formats[index % len(formats)]
        reader = READERS[fmt]
        sample = SAMPLES.get(fmt, SAMPLES["txt"])
        size = rng.choice([1, 3, 20, 200]) if not big else rng.choice([20, 2_000, 20_000])
        data = sample(rng, size)
        kinds = list(MUTATIONS) + (list(ZIP_MUTATIONS) * 3 if reader.binary else [])
        kind = rng.choice(kinds)
        if kind == "lying_zip" and fmt != "docx":
            kind = "zip_header"
        mutate = {**MUTATIONS, **ZIP_MUTATIONS}[kind]
        if index % 23 == 0 and fmt in ("txt", "csv"):
            kind, data = ("many_speakers", _many_speakers(rng, 30_000 if big else 2_000)) if fmt == "txt" else \
                ("wide_csv", _wide_csv(rng, 1_000_000 if big else 5_000))
        else:
            data = mutate(rng, data)
        yield Case(f"case{index}{reader.suffixes[0]}", fmt, data, kind)


def check(case: Case) -> tuple[str, str]:
    """``("ok" | "refused" | "bug", detail)`` for one case (see the module docstring).

    Example:
        >>> check(Case("a.txt", "txt", b"Ann: hi\\nBo: yo\\n", "none"))[0]
        'ok'
    """
    import qualkit as qk
    from qualkit.errors import QualkitError
    from qualkit.ingest.accounting import accounting_problems

    try:
        source = qk.read_transcript(case.data, name=case.name)
    except QualkitError as error:
        message = str(error)
        if "\n" in message or len(message) > 600:
            return "bug", f"message of {len(message)} characters / {message.count(chr(10)) + 1} lines"
        if case.name not in message:
            return "bug", f"message does not name the file: {message[:100]}"
        return "refused", message[:100]
    except Exception as error:  # anything else is a bug this harness exists to find
        return "bug", f"{type(error).__name__}: {str(error)[:200]}"
    problems = accounting_problems(source, limit=2)
    if problems:
        return "bug", f"accounting: {problems}"
    if "\x00" in source.text:
        return "bug", "NUL in the text"
    return "ok", f"{len(source.segments)} segments"


def main(argv: list[str] | None = None) -> int:
    from bench._util import save, table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--big", action="store_true", help="inputs near the limits (slower)")
    args = parser.parse_args(argv)
    outcomes: Counter[str] = Counter()
    slowest: tuple[float, str] = (0.0, "")
    slowest_cpu: tuple[float, str] = (0.0, "")  # CPU time: on a shared machine wall time mostly measures the others
    heaviest: tuple[float, str] = (0.0, "")
    bugs: list[dict[str, Any]] = []
    by_kind: Counter[str] = Counter()
    from qualkit.ingest.readers import READERS

    for fmt, sample in SAMPLES.items():  # warm up: imports (python-docx, openpyxl, pandas) are not a step's cost
        check(Case(f"warmup{READERS[fmt].suffixes[0]}", fmt, sample(random.Random(0), 3), "none"))
    started = time.perf_counter()
    for case in cases(args.cases, args.seed, big=args.big):
        tracemalloc.start()
        step, cpu = time.perf_counter(), time.process_time()
        outcome, detail = check(case)
        seconds = time.perf_counter() - step
        cpu_seconds = time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        outcomes[outcome] += 1
        by_kind[case.mutation] += 1
        label = f"{case.name} ({case.mutation}, {len(case.data):,} bytes)"
        slowest = max(slowest, (seconds, label))
        slowest_cpu = max(slowest_cpu, (cpu_seconds, label))
        heaviest = max(heaviest, (peak, label))
        if outcome == "bug":
            bugs.append({"case": case.name, "mutation": case.mutation, "detail": detail})
    figures = {
        "cases": args.cases, "seed": args.seed, "big": args.big, **{k: outcomes[k] for k in ("ok", "refused", "bug")},
        "max_step_seconds": round(slowest[0], 2), "slowest_case": slowest[1],
        "max_step_cpu_seconds": round(slowest_cpu[0], 2), "slowest_cpu_case": slowest_cpu[1],
        "peak_step_memory_mb": round(heaviest[0], 1), "heaviest_case": heaviest[1],
        "total_seconds": round(time.perf_counter() - started, 1), "mutations": dict(by_kind), "bugs": bugs[:20],
    }
    print(table([{k: v for k, v in figures.items() if k not in ("mutations", "bugs")}]))
    for bug in bugs[:20]:
        print("BUG", bug)
    save("fuzz", figures)
    return 1 if bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
