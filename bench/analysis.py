"""Analysis, reliability and exchange speed on the demo study, plus reliability at scale.

The demo study (4 focus groups, 539 segments) is imported with its gold codings as coder ``gold`` and
a noisy second coder ``ana`` (85% of gold's codes, seeded). Timed: prevalence by role with tests,
co-occurrence within 2 turns, distinctive words, saturation, quotes for every code, reliability
(1,000 bootstrap resamples), ``.qdpx`` export and import, and the HTML and Word reports. A synthetic
row shows reliability with three coders on many units (the bootstrap is vectorised over units).

    python -m bench.analysis                # writes bench/results/analysis.json
    python -m bench.analysis --units 50000  # bigger synthetic reliability run
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from bench._util import max_rss_mb, measure, save, table

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "burnout_focus_groups"


def _demo(folder: Path) -> Any:
    import qualkit as qk
    from qualkit.model import Coding

    project = qk.Project.create(folder / "demo.qualkit.db", name="Burnout focus groups", codebook="burnout",
                                user="gold")
    project.import_transcripts(sorted((CORPUS / "transcripts").iterdir()), participants=CORPUS / "participants.csv",
                               progress=False) if _accepts_progress() else project.import_transcripts(
        sorted((CORPUS / "transcripts").iterdir()), participants=CORPUS / "participants.csv")
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
            if rng.random() < 0.85:
                second.append(Coding(segment_id, code, status="accepted", coder="ana"))
    project.store.add_codings(codings, user="gold")
    project.store.add_codings(second, user="ana")  # each coder's rows are decided by that coder
    return project


def _accepts_progress() -> bool:
    import inspect

    from qualkit.project import Project

    return "progress" in inspect.signature(Project.import_transcripts).parameters


def _synthetic_reliability(units: int, codes: int, coders: int, n_boot: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from qualkit.analysis.reliability import reliability

    rng = np.random.default_rng(0)
    segments = pd.DataFrame({"id": np.arange(1, units + 1), "source": [f"s{i % 50}" for i in range(units)],
                             "speaker": "P", "speaker_role": "participant", "kind": "turn"})
    truth = rng.random((units, codes)) < 0.08
    rows = []
    for k in range(coders):
        noisy = np.where(rng.random((units, codes)) < 0.05, ~truth, truth)
        seg, code = np.nonzero(noisy)
        rows.append(pd.DataFrame({"segment_id": seg + 1, "code_id": [f"c{c}" for c in code], "coder": f"coder{k}",
                                  "origin": "human", "status": "accepted", "decided_by": f"coder{k}"}))
    codings = pd.concat(rows, ignore_index=True)
    with measure() as m:
        result = reliability(segments, codings, [f"coder{k}" for k in range(coders)], n_boot=n_boot)
    return {"step": f"reliability, {coders} coders, {units} units x {codes} codes, {n_boot} resamples",
            "seconds": round(m["seconds"], 2),
            "result": f"alpha {result.overall.set_index('statistic').loc['krippendorff_alpha', 'value']:.3f}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.analysis", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000, help="units of the synthetic reliability run")
    parser.add_argument("--codes", type=int, default=25)
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if (CORPUS / "transcripts").is_dir():
            with measure() as m:
                project = _demo(folder)
            rows.append({"step": f"demo import + {len(project.codings()):,} codings", "seconds": round(m["seconds"], 2),
                         "result": f"{len(project.segments())} segments"})
            steps = [
                ("prevalence by role (with tests)", lambda: f"{len(project.prevalence(by='role').table)} rows"),
                ("co-occurrence within 2 turns", lambda: f"{project.cooccurrence(window=2).shape[0]} codes"),
                ("distinctive words by role", lambda: f"{len(project.distinctive_words(by='role'))} words"),
                ("saturation", lambda: f"{int(project.saturation()['cumulative_codes'].iloc[-1])} codes"),
                ("quotes for every code", lambda: f"{sum(len(project.quotes(c.id, n=3)) for c in project.codebook.codable_codes)} quotes"),
                ("reliability gold vs ana (1,000 resamples)",
                 lambda: f"pooled kappa {project.reliability(['gold', 'ana']).overall.set_index('statistic').loc['cohen_kappa_pooled', 'value']:.3f}"),
                (".qdpx export", lambda: f"{project.export(folder / 'demo.qdpx').stat().st_size // 1024} KiB"),
                (".qdpx import", lambda: type(project).import_qdpx(folder / "demo.qdpx",
                                                                  folder / "copy.qualkit.db").import_report.summary().splitlines()[0]),
                ("HTML report", lambda: f"{project.report(folder / 'r.html').stat().st_size // 1024} KiB"),
                ("Word report", lambda: f"{project.report(folder / 'r.docx').stat().st_size // 1024} KiB"),
            ]
            for name, step in steps:
                with measure() as m:
                    result = step()
                rows.append({"step": name, "seconds": round(m["seconds"], 2), "result": result})
        rows.append(_synthetic_reliability(args.units, args.codes, 3, args.boot))
    print(table(rows))
    print(f"peak resident memory: {max_rss_mb():.0f} MB")
    print(f"wrote {save('analysis', {'rows': rows, 'max_rss_mb': round(max_rss_mb(), 1)})}")


if __name__ == "__main__":  # pragma: no cover
    main()
