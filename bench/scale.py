"""Encoding at scale: speed and agreement per embedding tier, planted themes per tier, autocode on a million rows.

One run prints, side by side:

1. ``speed``: texts/s of each tier (minilm, static, lsa) on NHS comments and demo turns, and the ratio to MiniLM
   (the static tier is built once from the packaged MiniLM first if missing; that build time is printed too).
2. ``agreement``: per tier, zero-shot (cosine to each code's name + definition, top-1) and few-shot (frozen
   vectors + logistic regression; and qualkit's default coder on that tier) on the demo gold (leave one
   session out) and on the NHS comments (random 80/20, seed 0): macro-F1 and mean per-code kappa.
3. ``themes``: planted-theme ARI per tier at 2k/10k/50k sentences (``qualkit.themes.synthetic``), with encode
   and fit seconds; the end-to-end theme time at 50k is the ``total_s`` of the static row.
4. ``autocode``: ``qualkit autocode`` (a child process) on N synthetic survey answers built from the NHS
   comments' sentences, with the NHS theme codebook and 20 labelled comments per theme: seconds, rows/s and
   the child's peak memory, and a check that every row was written exactly once.

Usage:
    python -m bench.scale                      # everything, N=1,000,000 (long: see the figures in the note)
    python -m bench.scale --rows 20000 --sizes 2000 --parts speed agreement themes autocode
    python -m bench.scale --parts autocode --rows 1000000 --autocode-embedder static --autocode-workers 2
    python -m bench.scale --minilm-sizes 2000 --rows 50000   # what fits in an hour on a shared, loaded machine

Figures go to ``bench/results/scale.json``. Run it on a quiet machine: every figure is wall-clock.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import max_rss_mb, save, table

TIERS = ("minilm", "static", "lsa")
SIZES = (2_000, 10_000, 50_000)
PARTS = ("speed", "agreement", "themes", "autocode")


def _limit_threads() -> None:
    from bench.coding import _limit_threads as limit

    limit()


def _tier(tier: str, corpus: list[str] | None = None) -> Any:
    """A fresh, cached embedder of a tier (LSA fitted on ``corpus``)."""
    from qualkit.embeddings import resolve_embedder

    return resolve_embedder(tier, job="coding", corpus=corpus or [])


# ------------------------------------------------------------------------------------------------ speed
def speed(tiers: list[str], minilm_texts: int = 1500) -> list[dict[str, Any]]:
    """Texts per second per tier on NHS comments + demo turns (MiniLM on the first ``minilm_texts``)."""
    from bench.coding import _gold, load_nhs
    from qualkit.embeddings import StaticEmbedder, describe_embedder, static_model_dir

    texts = list(dict.fromkeys(load_nhs()[0] + [g["text"] for g in _gold()]))
    rows = []
    if "static" in tiers:
        started = time.perf_counter()
        folder = static_model_dir()
        rows.append({"tier": "static (build once)", "texts": 0, "seconds": round(time.perf_counter() - started, 1),
                     "texts_per_s": None, "note": str(folder)})
        StaticEmbedder().encode(["warm up"])
    for tier in tiers:
        sample = texts[:minilm_texts] if tier == "minilm" else texts
        embedder = _tier(tier, sample if tier == "lsa" else None).embedder
        embedder.encode(["warm up the model"])
        started = time.perf_counter()
        embedder.encode(sample)
        seconds = time.perf_counter() - started
        info = describe_embedder(embedder)
        rows.append({"tier": tier, "texts": len(sample), "seconds": round(seconds, 2),
                     "texts_per_s": round(len(sample) / seconds, 1), "name": info["name"], "dim": info["dim"]})
    base = next((r["texts_per_s"] for r in rows if r["tier"] == "minilm"), None)
    for row in rows:
        if base and row["texts_per_s"]:
            row["x_minilm"] = round(row["texts_per_s"] / base, 1)
    return rows


# ------------------------------------------------------------------------------------------------ agreement
def agreement(tiers: list[str]) -> list[dict[str, Any]]:
    """Zero-shot and few-shot agreement per tier on the demo gold and the NHS comments."""
    from bench.coding import (
        baseline_cosine,
        baseline_minilm_lr,
        demo_splits,
        nhs_splits,
        qualkit_default,
        score,
    )

    def _frozen(fn):  # tiers are compared on their own vectors: no fine-tuning of MiniLM here
        return functools.partial(fn, fine_tune=False) if fn is qualkit_default else fn

    demo = demo_splits()
    cases = {"demo": (demo["zero-shot"], demo["3 sessions -> 1"]),
             "nhs": (None, nhs_splits([0])["random 80/20"])}
    rows = []
    for tier in tiers:
        for case, (zero, trained) in cases.items():
            splits = trained
            corpus = sorted({t for s in splits for t in s.train_texts + s.test_texts})
            embedder = _tier(tier, corpus)
            methods = {"zero-shot cosine": (baseline_cosine, zero or trained),
                       "few-shot vectors + LR": (baseline_minilm_lr, trained),
                       "qualkit default (trained)": (qualkit_default, trained)}
            for method, (fn, chosen) in methods.items():
                started = time.perf_counter()
                figures = [score(s, _frozen(fn)(s, embedder if tier != "lsa" or fn is not qualkit_default else "lsa"))
                           for s in chosen]
                rows.append({"tier": tier, "case": case, "method": method,
                             "macro_f1": round(float(np.mean([f["macro_f1"] for f in figures])), 3),
                             "kappa_per_code": round(float(np.mean([f["kappa_per_code"] for f in figures])), 3),
                             "splits": len(chosen), "seconds": round(time.perf_counter() - started, 1)})
            print(table(rows[-3:]), flush=True)
    return rows


# ------------------------------------------------------------------------------------------------ themes
def themes_one(size: int, tier: str, engine: str = "auto") -> dict[str, Any]:
    """One planted corpus, one tier: encode + discover with the default settings; ARI to the planted themes."""
    from sklearn.metrics import adjusted_rand_score

    from bench.topics import _recovered, _warm_up
    from qualkit.embeddings import resolve_embedder
    from qualkit.themes.discover import discover_themes
    from qualkit.themes.prepare import documents_from_segments
    from qualkit.themes.synthetic import planted_corpus

    corpus = planted_corpus(size, seed=0)
    _warm_up(engine)
    texts = documents_from_segments(corpus.segments)["text"].tolist()
    started = time.perf_counter()
    embedder = resolve_embedder(tier, job="themes", corpus=texts)
    embedder.encode(["warm up the model"])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    embedder.encode(texts)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    result = discover_themes(corpus.segments, embedder=embedder, engine=engine)
    fit_s = time.perf_counter() - started
    planted = corpus.labels[result.documents["segment_index"].to_numpy()]
    recovered, _ = _recovered(planted, result.documents["theme"].to_numpy())
    return {"corpus": f"planted {size:,}", "tier": tier, "embedder": result.settings["embedder"],
            "engine": result.settings["engine"], "reduction": result.settings["reduction"],
            "documents": len(result.documents), "load_s": round(load_s, 1), "encode_s": round(encode_s, 1),
            "fit_s": round(fit_s, 1), "total_s": round(encode_s + fit_s, 1),
            "ari": round(adjusted_rand_score(planted, result.documents["theme"]), 3),
            "planted_recovered": round(recovered, 3), "themes": len(result.active),
            "peak_rss_mb": round(max_rss_mb())}


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.scale", "--one", *args], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed", "args": args}
    return json.loads(done.stdout.strip().splitlines()[-1])


def themes(tiers: list[str], sizes: list[int], engine: str, minilm_sizes: list[int] | None = None) -> list[dict[str, Any]]:
    """Planted-theme runs per tier and size, each in a fresh process (clean memory peak)."""
    rows = []
    for size in sizes:
        for tier in tiers:
            if tier == "minilm" and minilm_sizes is not None and size not in minilm_sizes:
                continue
            rows.append(_child("themes", str(size), tier, engine))
            print(table(rows[-1:]), flush=True)
    return rows


# ------------------------------------------------------------------------------------------------ autocode
def survey_answers(path: Path, n: int, seed: int = 0) -> int:
    """Write ``n`` synthetic survey answers (JSONL) made of 1-3 sentences of the NHS comments; return distinct texts."""
    from bench.coding import load_nhs

    sentences = [s.strip() for text in load_nhs()[0] for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
    rng = random.Random(seed)
    distinct: set[int] = set()
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(rng.choice(sentences) for _ in range(rng.choice((1, 1, 2, 2, 3))))
            if len(distinct) < 2_000_000:
                distinct.add(hash(text))
            handle.write(json.dumps({"id": f"a{i:07d}", "text": text}, ensure_ascii=False) + "\n")
    return len(distinct)


def nhs_material(folder: Path, per_theme: int = 20, seed: int = 0) -> tuple[Path, Path]:
    """The NHS theme codebook (CSV) and ``per_theme`` labelled comments per theme (JSONL) in ``folder``."""
    import csv

    from bench.coding import load_nhs

    texts, Y, themes = load_nhs()
    book = folder / "nhs_themes.csv"
    with open(book, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name"])
        for theme in themes:
            writer.writerow([re.sub(r"[^a-z0-9]+", "_", theme.lower()).strip("_"), theme])
    ids = [re.sub(r"[^a-z0-9]+", "_", t.lower()).strip("_") for t in themes]
    rng = np.random.RandomState(seed)
    picked: list[int] = []
    for j in range(len(themes)):
        rows = [i for i in np.flatnonzero(Y[:, j]) if i not in picked]
        picked += rng.choice(rows, size=min(per_theme, len(rows)), replace=False).tolist()
    train = folder / "train.jsonl"
    with open(train, "w", encoding="utf-8") as handle:
        for i in picked:
            handle.write(json.dumps({"id": f"t{i}", "text": texts[i],
                                     "codes": [ids[j] for j in np.flatnonzero(Y[i])]}) + "\n")
    return book, train


def autocode(rows: int, embedder: str, chunk_size: int = 2048, workers: int = 2) -> dict[str, Any]:
    """``qualkit autocode`` on ``rows`` synthetic answers in a child process: time, rows/s, peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        source = folder / "answers.jsonl"
        distinct = survey_answers(source, rows)
        build_s = time.perf_counter() - started
        book, train = nhs_material(folder)
        out = folder / "coded.jsonl"
        command = [sys.executable, "-m", "qualkit.cli", "autocode", "--codebook", str(book), "--input", str(source),
                   "--output", str(out), "--train", str(train), "--embedder", embedder,
                   "--chunk-size", str(chunk_size), "--workers", str(workers)]
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
        seconds = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak, cpu_s = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
        if done.returncode != 0:
            return {"rows": rows, "embedder": embedder, "error": done.stderr.strip().splitlines()[-1]}
        written, unique, coded = 0, set(), 0
        with open(out, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                written += 1
                unique.add(record["id"])
                coded += bool(record["codes"])
        notes = [line for line in done.stderr.splitlines() if line.startswith(("embedder:", "fitting", "wrote"))]
        return {"rows": rows, "distinct_texts": distinct, "embedder": embedder, "workers": workers,
                "input_build_s": round(build_s, 1),
                "seconds": round(seconds, 1), "minutes": round(seconds / 60, 1), "rows_per_s": round(rows / seconds),
                # CPU seconds of the run (all its processes): on a shared machine the fair measure of its cost
                "cpu_s": round(cpu_s, 1), "rows_per_cpu_s": round(rows / cpu_s) if cpu_s else None,
                "peak_rss_mb": round(max(peak, before) / 1024) if peak > before else None,
                "written": written, "each_once": written == rows == len(unique), "with_codes": coded,
                "log": " | ".join(notes)}


# ------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts, print their tables and write ``bench/results/scale.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=PARTS)
    parser.add_argument("--tiers", nargs="*", default=list(TIERS), choices=TIERS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES), help="planted corpus sizes")
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic survey answers for autocode")
    parser.add_argument("--autocode-embedder", default="static", help="tier for the autocode run")
    parser.add_argument("--autocode-workers", type=int, default=2, help="--workers of the autocode run")
    parser.add_argument("--minilm-texts", type=int, default=1500, help="texts MiniLM's speed is measured on")
    parser.add_argument("--minilm-sizes", type=int, nargs="*", help="planted sizes MiniLM runs (default: all)")
    parser.add_argument("--engine", default="auto", choices=("auto", "bertopic", "sklearn"))
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _limit_threads()
    if args.one:  # inside a child process: one configuration, one JSON line
        _, size, tier, engine = args.one
        print(json.dumps(themes_one(int(size), tier, engine)))
        return 0
    figures: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    if "speed" in args.parts:
        figures["speed"] = speed(args.tiers, args.minilm_texts)
        print("\n== texts/s per tier\n" + table(figures["speed"]), flush=True)
    if "agreement" in args.parts:
        figures["agreement"] = agreement(args.tiers)
        print("\n== agreement per tier\n" + table(figures["agreement"]), flush=True)
    if "themes" in args.parts:
        figures["themes"] = themes(args.tiers, args.sizes, args.engine, args.minilm_sizes)
        print("\n== planted themes per tier\n" + table(figures["themes"]), flush=True)
    if "autocode" in args.parts:
        figures["autocode"] = [autocode(args.rows, args.autocode_embedder, workers=args.autocode_workers)]
        print("\n== qualkit autocode\n" + table(figures["autocode"]), flush=True)
    figures["load_average_at_end"] = os.getloadavg()
    path = save("scale", figures)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
