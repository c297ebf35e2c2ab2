"""Theme discovery benchmark: speed and memory by corpus size, planted-theme recovery, the demo study.

Each configuration runs in a fresh subprocess, so ``peak_rss_mb`` (the process's peak resident memory:
Python, numpy, torch and the models) belongs to that configuration alone. On generated corpora with
planted themes (``qualkit.themes.synthetic``) it reports the adjusted Rand index of the themes against
the planted labels (chatter counts as its own label) and the share of planted themes recovered (some
theme has F1 >= 0.5 against the planted theme's sentences). On the demo study it reports how many of the
codebook's codable codes have a matching theme, and the share of sentences left unassigned.

Every configuration runs twice: with the default reduction (UMAP for 100-20,000 documents, PCA above)
and with the other one.
Times are wall-clock seconds: ``encode_s`` embeds the sentences (MiniLM on the CPU, or fitting TF-IDF/LSA),
``fit_s`` is everything else in ``discover_themes`` (reduction, clustering, outliers, labels, codes),
with the embeddings already computed.

Example:
    $ python -m bench.topics                       # 2k/10k/50k x LSA/MiniLM + demo (about half an hour)
    $ python -m bench.topics --sizes 2000 --embedders lsa --no-demo
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import max_rss_mb, save, table

SIZES = (2_000, 10_000, 50_000)
EMBEDDERS = ("lsa", "minilm")


def _recovered(planted: Any, found: Any) -> tuple[float, float]:
    """Share of planted themes with a found theme of F1 >= 0.5, and the mean best F1."""
    import numpy as np

    best = []
    for theme in sorted(set(planted.tolist()) - {-1}):
        truth = planted == theme
        scores = []
        for label in set(found.tolist()) - {-1}:
            hit = found == label
            overlap = (truth & hit).sum()
            scores.append(0.0 if overlap == 0 else 2 * overlap / (truth.sum() + hit.sum()))
        best.append(max(scores, default=0.0))
    return float(np.mean([b >= 0.5 for b in best])), float(np.mean(best))


def run_planted(size: int, embedder_name: str, engine: str = "auto") -> list[dict[str, Any]]:
    """Planted-corpus runs with the default reduction and with PCA, sharing one encoding (call it in a
    fresh process for a clean memory peak)."""
    from sklearn.metrics import adjusted_rand_score

    from qualkit.embeddings import CachedEmbedder, LsaEmbedder, MiniLMEmbedder
    from qualkit.themes.fit import default_settings
    from qualkit.themes.prepare import documents_from_segments
    from qualkit.themes.synthetic import planted_corpus
    from qualkit.topics import discover_themes

    corpus = planted_corpus(size, seed=0)
    texts = documents_from_segments(corpus.segments)["text"].tolist()
    started = time.perf_counter()
    inner = MiniLMEmbedder() if embedder_name == "minilm" else LsaEmbedder()
    cached = CachedEmbedder(inner.fit(texts) if isinstance(inner, LsaEmbedder) else inner)
    cached.encode(texts)
    encode_s = time.perf_counter() - started
    rows = []
    default = default_settings(len(texts))["reduction"]
    for reduction in (default, "pca" if default == "umap" else "umap"):
        started = time.perf_counter()
        result = discover_themes(corpus.segments, embedder=cached, engine=engine, reduction=reduction)
        fit_s = time.perf_counter() - started
        planted = corpus.labels[result.documents["segment_index"].to_numpy()]
        recovered, best_f1 = _recovered(planted, result.documents["theme"].to_numpy())
        rows.append({
            "corpus": f"planted {size:,}", "embedder": embedder_name, "engine": result.settings["engine"],
            "reduction": result.settings["reduction"] + (" (default)" if reduction == default else ""), "clustering": result.settings["clustering"],
            "documents": len(result.documents), "encode_s": round(encode_s, 1), "fit_s": round(fit_s, 1),
            "total_s": round(encode_s + fit_s, 1), "peak_rss_mb": round(max_rss_mb()),
            "themes": len(result.active), "outlier_share": round(result.outlier_share, 3),
            "ari": round(adjusted_rand_score(planted, result.documents["theme"]), 3),
            "planted_recovered": round(recovered, 3), "mean_best_f1": round(best_f1, 3)})
    return rows


def run_demo(embedder_name: str) -> list[dict[str, Any]]:
    """Discover themes in the demo study with its codebook (as ``project.discover_themes`` does), with the
    default reduction and with PCA."""
    from qualkit.demo import build_demo
    from qualkit.embeddings import LsaEmbedder, MiniLMEmbedder
    from qualkit.project import Project

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.qualkit.db"
        build_demo(path, autocode=False, echo=lambda _: None)
        project = Project.open(path, user="bench")
        codable = {c.id for c in project.codebook.codable_codes}
        rows = []
        for reduction in ("auto", "pca"):
            started = time.perf_counter()
            embedder = MiniLMEmbedder() if embedder_name == "minilm" else LsaEmbedder()
            result = project.discover_themes(embedder=embedder, reduction=reduction)
            seconds = time.perf_counter() - started
            matched = sorted({t.matched_code for t in result.active if t.matched_code in codable})
            rows.append({
                "corpus": "demo study", "embedder": embedder_name, "engine": result.settings["engine"],
                "reduction": result.settings["reduction"] + (" (default)" if reduction == "auto" else ""), "clustering": result.settings["clustering"],
                "documents": len(result.documents), "total_s": round(seconds, 1),
                "peak_rss_mb": round(max_rss_mb()), "themes": len(result.active),
                "outlier_share": round(result.outlier_share, 3), "codes_matched": f"{len(matched)}/{len(codable)}",
                "candidates": len(result.candidates), "matched": matched})
        project.store.engine.dispose()
    return rows


def _subprocess(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "bench.topics", "--one", *args], capture_output=True, text=True,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    if done.returncode != 0 or not lines:
        return [{"corpus": " ".join(args), "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}]
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and write ``bench/results/topics.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.topics", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--embedders", nargs="*", default=list(EMBEDDERS), choices=EMBEDDERS)
    parser.add_argument("--engine", default="auto", choices=("auto", "bertopic", "sklearn"))
    parser.add_argument("--no-demo", action="store_true", help="skip the demo study")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # inside a child process: one configuration, one JSON line
        kind, *rest = args.one
        row = run_demo(rest[0]) if kind == "demo" else run_planted(int(kind), rest[0], rest[1])
        print(json.dumps(row))
        return 0
    rows = []
    for embedder in args.embedders:
        for size in args.sizes:
            rows += _subprocess(str(size), embedder, args.engine)
            print(table(rows[-2:]), flush=True)
        if not args.no_demo:
            rows += _subprocess("demo", embedder)
            print(table([{k: v for k, v in r.items() if k != "matched"} for r in rows[-2:]]), flush=True)
    print()
    print(table([{k: v for k, v in r.items() if k != "matched"} for r in rows]))
    path = save("topics", {"rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
