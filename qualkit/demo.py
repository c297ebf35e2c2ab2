"""Build the bundled demo study (four burnout focus groups) into a project file.

The build writes to a temporary file and renames it into place only when everything succeeded, so
a failed build never leaves a half-made demo behind; an existing demo is reused, or with
``force=True`` kept as ``.bak`` before a rebuild.

Example:
    >>> build_demo("demo.qualkit.db")  # doctest: +SKIP
    'built demo project in demo.qualkit.db: 4 transcripts, 539 segments, 238 suggestions'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from qualkit.errors import QualkitError

DEMO_NAME = "Burnout focus groups"
DEMO_CORPUS = "burnout_focus_groups"
DEMO_USER = "qualkit-demo"
REVIEWER = "ana"
REVIEWED_SESSIONS = ["fg1_residents.txt", "fg3_faculty.docx", "fg4_staff.vtt"]
DOUBLE_CODED = "fg1_residents.txt"  # coded by both coders, blind, and marked done by both
SECOND_CODER = "ben"


def find_demo_corpus(corpus: str | os.PathLike[str] | None = None) -> Path:
    """Locate the demo study folder: the argument, ``$QUALKIT_DEMO_CORPUS``, ./corpora, or the source checkout.

    Example:
        >>> find_demo_corpus().name  # doctest: +SKIP
        'burnout_focus_groups'
    """
    candidates = [corpus, os.environ.get("QUALKIT_DEMO_CORPUS"), Path.cwd() / "corpora" / DEMO_CORPUS,
                  Path(__file__).resolve().parents[1] / "corpora" / DEMO_CORPUS]
    for candidate in candidates:
        if candidate and (Path(candidate) / "transcripts").is_dir():
            return Path(candidate)
    raise QualkitError("the demo study folder was not found",
                       fix="run from the qualkit checkout, or pass --corpus corpora/burnout_focus_groups")


def build_demo(
    path: str | os.PathLike[str] = "demo.qualkit.db",
    *,
    corpus: str | os.PathLike[str] | None = None,
    autocode: bool = True,
    force: bool = False,
    echo: Callable[[str], object] = print,
) -> str:
    """Import the demo transcripts, participants and the burnout codebook; suggest codes; return a summary.

    With ``autocode`` the study is left mid-review, as a team would have it: the machine's suggestions
    for sessions fg1, fg3 and fg4 (one per role) reviewed by coder ``ana`` (our gold coding, recorded as her
    decisions), and fresh suggestions for fg2 from the coder that learned from her, waiting in the queue.
    fg1 was double-coded blind: coder ``ben`` coded it too (:func:`second_coder_records`: the gold coding
    with seeded, plausible differences) and both marked it done, so the Reliability and Double coding pages
    show agreement, intervals and disagreements from the first visit.
    """
    from qualkit.project import Project

    path = Path(path)
    if path.exists() and not force:
        return f"using the existing demo project in {path}"
    folder = find_demo_corpus(corpus)
    partial = path.with_name(path.name + ".partial")
    leftovers = (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    project = Project.create(partial, DEMO_NAME, codebook="burnout", user=DEMO_USER,
                             description="Four focus groups on clinician burnout (fictional, written by the qualkit authors).")
    transcripts = sorted(p for p in (folder / "transcripts").iterdir() if not p.name.startswith("."))
    try:
        suggestions, segments = _fill(project, folder, transcripts, autocode=autocode, echo=echo)
    except BaseException:
        project.store.engine.dispose()
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise
    project.store.engine.dispose()
    if path.exists():
        backup = path.with_name(path.name + ".bak")
        path.replace(backup)
        echo(f"kept the previous demo as {backup}")
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.replace(path)
    return (f"built demo project in {path}: {len(transcripts)} transcripts, {segments} segments, "
            f"{suggestions} suggestions")


def _fill(project, folder: Path, transcripts: list[Path], *, autocode: bool,
          echo: Callable[[str], object]) -> tuple[int, int]:
    """Import, create the demo users and (with ``autocode``) suggest and review; returns (suggestions, segments)."""
    echo(f"importing {len(transcripts)} transcripts from {folder}")
    project.import_transcripts(transcripts, participants=folder / "participants.csv")
    project.add_demo_users()  # admin + two coders; the app's log-in page shows their demo passwords
    suggestions = 0
    if autocode:
        echo("suggesting codes (first run only)")
        project.autocode(fine_tune=False)
        # The study is under way: coder ana has reviewed three sessions (our gold coding), so analyses and
        # reports have material and the learned coder improves the suggestions for the last one.
        echo(f"recording ana's review of {' and '.join(REVIEWED_SESSIONS)}")
        project.assign(DOUBLE_CODED, [REVIEWER, SECOND_CODER], blind=True)
        gold = folder / "gold_codings.jsonl"
        project.import_codings(gold, coder=REVIEWER, sources=REVIEWED_SESSIONS)
        echo(f"recording {SECOND_CODER}'s blind coding of {DOUBLE_CODED}; both mark it done")
        from qualkit.coding.records import read_coding_records

        second = second_coder_records(read_coding_records(gold), project.codebook, source=DOUBLE_CODED)
        project.import_codings(second, coder=SECOND_CODER, sources=[DOUBLE_CODED])
        for coder in (REVIEWER, SECOND_CODER):
            project.mark_done(DOUBLE_CODED, coder=coder)
        segments = project.segments()
        to_review = segments.loc[~segments["source"].isin(REVIEWED_SESSIONS), "id"]
        # Tuning the encoder takes minutes: the app's model worker does it in the background instead.
        suggestions = len(project.autocode(segment_ids=[int(i) for i in to_review], fine_tune=False))
    return suggestions, len(project.segments())


def second_coder_records(records: list[dict], codebook, *, source: str, seed: int = 7) -> list[dict]:
    """A second coder's coding of ``source``: the gold records with seeded differences a real coder makes.

    About one code in seven is left out, one in ten is swapped for a sibling under the same theme, and
    a few uncoded turns get a code used elsewhere in the session, so agreement is good but not perfect.

    Example:
        >>> from qualkit.codebook import load_codebook
        >>> rows = [{"source": "a.txt", "turn": i, "codes": ["workload"]} for i in range(40)]
        >>> out = second_coder_records(rows, load_codebook("burnout"), source="a.txt")
        >>> len(out), 0 < sum(r["codes"] != ["workload"] for r in out) < 20
        (40, True)
    """
    import random

    rng = random.Random(seed)
    codable = {c.id for c in codebook.codable_codes}
    siblings: dict[str | None, list[str]] = {}
    for code in codebook.codable_codes:
        siblings.setdefault(code.parent, []).append(code.id)
    mine = [dict(r) for r in records if r.get("source") == source]
    used = sorted({c for r in mine for c in r.get("codes", []) if c in codable})
    for record in mine:
        codes = []
        for code in record.get("codes", []):
            roll = rng.random()
            if roll < 0.14:
                continue
            if roll < 0.24:
                others = [c for c in siblings.get(codebook[code].parent if code in codebook else None, []) if c != code]
                code = rng.choice(others) if others else code
            codes.append(code)
        if not record.get("codes") and used and rng.random() < 0.05:
            codes.append(rng.choice(used))
        record["codes"] = list(dict.fromkeys(codes))
    return mine
