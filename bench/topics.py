"""Theme discovery benchmark: speed and memory by corpus size, planted-theme recovery, the demo study.

Each configuration runs in a fresh subprocess, so ``peak_rss_mb`` (the process's peak resident memory:
Python, numpy, torch and the models, read from ``VmHWM``: ``ru_maxrss`` would report the parent's peak,
since Linux keeps it across fork and exec) belongs to that configuration alone. On generated corpora
with planted themes (``qualkit.themes.synthetic``) it reports the adjusted Rand index of the themes
against the planted labels (chatter counts as its own label) and the share of planted themes recovered
(some theme has F1 >= 0.5 against the planted theme's sentences). On the demo study it reports how many
of the codebook's codable codes have a matching theme (``codes_matched``), how many of those matches
the gold coding supports (``codes_supported``: at least a third of the theme's sentences lie in turns
the gold coder gave that code), how many themes were built from a code's definition (``guided``), and
what has no theme: ``outlier_share`` of the sentences fitted, ``unthemed_share`` of all participant
sentences (with those too short to fit, ``fitted_share`` being the rest).

Every configuration runs with the default reduction and with the other one (PCA / UMAP), reported in
that order, so the first row's memory peak is the default's; the demo also runs without codebook
guidance (``guided=False``: the codebook is used for matching only).
Times are wall-clock seconds: ``encode_s`` embeds the sentences (MiniLM on the CPU, or fitting TF-IDF/LSA),
``fit_s`` is everything else in ``discover_themes`` (reduction, clustering, outliers, labels, codes),
with the embeddings already computed and after a warm-up on a small corpus (imports, UMAP's compiling).

Example:
    $ python -m bench.topics                       # 2k/10k/50k x LSA/MiniLM + demo (about ten minutes)
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


def _other(reduction: str) -> str:
    return "umap" if reduction == "pca" else "pca"


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


def _warm_up(engine: str) -> None:
    """Import BERTopic/UMAP/spaCy and compile UMAP's numba code on a small corpus first, so that ``fit_s``
    times the fit itself (the first call in a process adds about 5 s of imports, and UMAP about 10 s of
    compiling, whatever the corpus size)."""
    from qualkit.embeddings import LsaEmbedder
    from qualkit.themes.discover import discover_themes
    from qualkit.themes.synthetic import planted_corpus

    small = planted_corpus(300, seed=99).segments
    for reduction in ("pca", "umap"):
        discover_themes(small, engine=engine, reduction=reduction, embedder=LsaEmbedder(n_components=64))


def run_planted(size: int, embedder_name: str, engine: str = "auto") -> list[dict[str, Any]]:
    """Planted-corpus runs with the default reduction and with PCA, sharing one encoding (call it in a
    fresh process for a clean memory peak)."""
    from sklearn.metrics import adjusted_rand_score

    from qualkit.embeddings import CachedEmbedder, LsaEmbedder, MiniLMEmbedder
    from qualkit.themes.discover import discover_themes
    from qualkit.themes.fit import default_settings
    from qualkit.themes.prepare import documents_from_segments
    from qualkit.themes.synthetic import planted_corpus

    corpus = planted_corpus(size, seed=0)
    _warm_up(engine)
    texts = documents_from_segments(corpus.segments)["text"].tolist()
    started = time.perf_counter()
    inner = MiniLMEmbedder() if embedder_name == "minilm" else LsaEmbedder()
    cached = CachedEmbedder(inner.fit(texts) if isinstance(inner, LsaEmbedder) else inner)
    cached.encode(texts)
    encode_s = time.perf_counter() - started
    rows = []
    default = default_settings(len(texts))["reduction"]
    for reduction in (default, _other(default)):
        started = time.perf_counter()
        result = discover_themes(corpus.segments, embedder=cached, engine=engine, reduction=reduction)
        fit_s = time.perf_counter() - started
        planted = corpus.labels[result.documents["segment_index"].to_numpy()]
        recovered, best_f1 = _recovered(planted, result.documents["theme"].to_numpy())
        rows.append({
            "corpus": f"planted {size:,}", "embedder": embedder_name, "engine": result.settings["engine"],
            "reduction": result.settings["reduction"] + (" (default)" if reduction == default else ""),
            "clustering": result.settings["clustering"],
            "documents": len(result.documents), "encode_s": round(encode_s, 1), "fit_s": round(fit_s, 1),
            "total_s": round(encode_s + fit_s, 1), "peak_rss_mb": round(max_rss_mb()),
            "themes": len(result.active), "outlier_share": round(result.outlier_share, 3),
            "ari": round(adjusted_rand_score(planted, result.documents["theme"]), 3),
            "planted_recovered": round(recovered, 3), "mean_best_f1": round(best_f1, 3)})
    return rows


def run_demo(embedder_name: str) -> list[dict[str, Any]]:
    """Discover themes in the demo study with its codebook (as ``project.discover_themes`` does): the default
    reduction, the other one, and the default without codebook guidance; scored against the gold coding."""
    from qualkit.coding.records import match_records, read_coding_records
    from qualkit.demo import build_demo, find_demo_corpus
    from qualkit.embeddings import CachedEmbedder, LsaEmbedder, MiniLMEmbedder
    from qualkit.project import Project
    from qualkit.themes.fit import DEFAULT_REDUCTION

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.qualkit.db"
        build_demo(path, autocode=False, echo=lambda _: None)
        project = Project.open(path, user="bench")
        codable = {c.id for c in project.codebook.codable_codes}
        gold, _ = match_records(project.segments(), read_coding_records(find_demo_corpus() / "gold_codings.jsonl"))
        # MiniLM vectors are cached in the project, as the app does, so only the first run pays for them
        cached = CachedEmbedder(MiniLMEmbedder(), store=project.store) if embedder_name == "minilm" else None
        rows = []
        for reduction, guided in ((DEFAULT_REDUCTION, True), (_other(DEFAULT_REDUCTION), True),
                                  (DEFAULT_REDUCTION, False)):
            started = time.perf_counter()
            result = project.discover_themes(embedder=cached or LsaEmbedder(), reduction=reduction, guided=guided)
            seconds = time.perf_counter() - started
            matched, supported = _demo_matches(result, codable, gold)
            summary = result.summary()
            rows.append({
                "corpus": "demo study" + ("" if guided else " (unguided)"), "embedder": embedder_name,
                "engine": result.settings["engine"],
                "reduction": reduction + (" (default)" if reduction == DEFAULT_REDUCTION else ""),
                "clustering": result.settings["clustering"], "documents": len(result.documents),
                "total_s": round(seconds, 1), "peak_rss_mb": round(max_rss_mb()), "themes": len(result.active),
                "guided": len(result.settings["guided"]), "outlier_share": summary["outlier_share"],
                "fitted_share": summary["fitted_share"], "unthemed_share": summary["unthemed_share"],
                "codes_matched": f"{len(matched)}/{len(codable)}",
                "codes_supported": f"{len(supported)}/{len(codable)}", "candidates": len(result.candidates),
                "matched": sorted(matched), "supported": sorted(supported)})
        project.store.engine.dispose()
    return rows


def _demo_matches(result: Any, codable: set[str], gold: dict[int, list[str]]) -> tuple[set[str], set[str]]:
    """Codes some theme is matched to, and those where the gold coding supports a match: at least a third
    of the theme's sentences lie in turns the gold coder gave that code."""
    matched, supported = set(), set()
    for theme in result.active:
        if theme.matched_code not in codable:
            continue
        matched.add(theme.matched_code)
        segments = result.theme_documents(theme.id)["segment_id"]
        share = sum(theme.matched_code in gold.get(int(s), []) for s in segments) / max(len(segments), 1)
        if share >= 1 / 3:
            supported.add(theme.matched_code)
    return matched, supported


def _subprocess(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "bench.topics", "--one", *args], capture_output=True, text=True,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    if done.returncode != 0 or not lines:
        return [{"corpus": " ".join(args), "error": (done.stderr.strip().splitlines() or ["failed"])[-1]}]
    return json.loads(lines[-1])


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("matched", "supported")}


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
            print(table([_brief(r) for r in rows[-3:]]), flush=True)
    print()
    print(table([_brief(r) for r in rows]))
    path = save("topics", {"rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
