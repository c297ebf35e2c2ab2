"""How fast the review app's busiest pages render on a large study (target: under 1.5 s each).

Generates a project with 20,000 segments in 40 transcripts and 60,000 codings (two suggestions and
one accepted coding per segment, bulk-inserted), then renders the Review queue and Transcript pages
with Streamlit's AppTest: cold (caches cleared), warm (median of several reruns), and right after a
decision (the write invalidates the cached queries, as in real use). Background model work is off, so
the figures are what a click costs.

Example:
    $ python -m bench.app_render            # the default sizes
    $ python -m bench.app_render --segments 2000 --codings 6000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import max_rss_mb, save, table

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["shift", "night", "patients", "chart", "paperwork", "team", "tired", "exhausted", "hours", "staff",
         "nurse", "resident", "attending", "pager", "inbox", "documentation", "colleagues", "support", "burnout",
         "family", "sleep", "weekend", "coffee", "rounds"]


def build_project(url: str, *, segments: int, codings: int, sources: int = 40, seed: int = 7) -> dict[str, Any]:
    """Create the large study in ``url``: sources, segments, a codebook, codings and one user."""
    from qualkit.model import Code, Codebook, Coding, Segment, Source
    from qualkit.project import Project
    from qualkit.users import add_user

    rng = random.Random(seed)
    started = time.perf_counter()
    try:
        codebook = Codebook.load("burnout")
    except Exception:  # the codebook area not installed: a small stand-in
        codebook = Codebook("bench", [Code(f"code_{i}", f"Code {i}") for i in range(24)])
    project = Project.create(url, "Bench study", codebook=codebook, user="bench")
    code_ids = [c.id for c in project.codebook.codable_codes]
    per_source = segments // sources
    batch = []
    for s in range(sources):
        lines, segs, position = [], [], 0
        for t in range(per_source):
            speaker = "Moderator" if t % 7 == 0 else f"P{s:02d}-{t % 6}"
            body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))).capitalize() + "."
            prefix = f"{speaker}: "
            segs.append((speaker, body, position + len(prefix), t))
            line = prefix + body + "\n"
            lines.append(line)
            position += len(line)
        name = f"group_{s:02d}.txt"
        source = Source(name=name, text="".join(lines), format="txt")
        source.segments = [Segment(name, start, start + len(body), body, speaker=speaker,
                                   role="moderator" if speaker == "Moderator" else "participant", turn=t)
                           for speaker, body, start, t in segs]
        batch.append(source)
    project.store.add_sources(batch, user="bench")
    seg_ids = [seg.id for source in batch for seg in source.segments]
    rows = []
    per_segment = max(1, codings // len(seg_ids))
    for seg_id in seg_ids:
        codes = rng.sample(code_ids, per_segment)
        for k, code in enumerate(codes):
            accepted = k == per_segment - 1 and per_segment > 1
            rows.append(Coding(segment_id=seg_id, code_id=code, origin="human" if accepted else "ensemble",
                               status="accepted" if accepted else "suggested", score=round(rng.random(), 3),
                               coder="bench" if accepted else "auto", rationale="generated",
                               evidence=[]))
    project.store.add_codings(rows, user="bench")
    add_user(project.store, "bench", "bench-password", "coder", rounds=4)
    return {"build_seconds": time.perf_counter() - started, "segments": len(seg_ids), "codings": len(rows),
            "sources": sources}


def _median_run(at, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_page(page: str, *, runs: int) -> dict[str, Any]:
    """Cold, warm (median) and after-a-decision render times of one page, logged in as ``bench``."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["qk_user"] = "bench"
    at.run()
    at.switch_page(f"qualkit/app/pages/{page}.py")
    st.cache_data.clear()
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page} failed: {at.exception[0].value}")
    warm = _median_run(at, runs)
    after = []
    for _ in range(runs):
        if page == "queue":
            button = next(b for b in at.button if (b.key or "").startswith("acc_"))
        else:
            button = at.button(key="tx_memo_save")
            at.text_area(key="tx_memo").input("bench memo")
        started = time.perf_counter()
        button.click().run()
        after.append(time.perf_counter() - started)
        if at.exception:
            raise RuntimeError(f"{page} failed: {at.exception[0].value}")
    return {"page": page, "cold_s": cold, "warm_median_s": warm, "after_decision_median_s": statistics.median(after),
            "runs": runs}


def main(argv: list[str] | None = None) -> int:
    """Build the study, measure both pages, print a table and write ``bench/results/app_render.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.app_render", description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--codings", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default=None, help="SQLite path or database URL (default: a temporary file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qualkit-bench-app-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.qualkit.db'}"
        previous = {k: os.environ.get(k) for k in ("QUALKIT_DATABASE_URL", "QUALKIT_APP_RETRAIN")}
        os.environ.update(QUALKIT_DATABASE_URL=url, QUALKIT_APP_RETRAIN="0")
        try:
            built = build_project(url, segments=args.segments, codings=args.codings)
            print(f"built {built['segments']} segments, {built['codings']} codings in {built['build_seconds']:.1f} s",
                  flush=True)
            rows = [measure_page(page, runs=args.runs) for page in ("queue", "transcript")]
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    print(table(rows))
    worst = max(max(r["cold_s"], r["warm_median_s"], r["after_decision_median_s"]) for r in rows)
    print(f"slowest render: {worst:.3f} s (target < 1.5 s) · peak RSS {max_rss_mb():.0f} MB")
    path = save("app_render", {**built, "pages": rows, "slowest_s": worst, "target_s": 1.5,
                               "backend": url.split(":", 1)[0]})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
