"""Auto-coding quality and speed: demo gold (no training), NHS patient comments, learning curve, throughput.

1. Demo study (``corpora/burnout_focus_groups``): import the four transcripts into a project, run
   ``project.autocode()`` with no human decisions and compare with ``gold_codings.jsonl`` (micro/macro
   F1), with MiniLM and with the TF-IDF/LSA fallback. The burnout cues were refined while looking at
   sessions fg1 and fg2, so fg3+fg4 are reported separately as the held-out part.
2. NHS Friends and Family Test comments: random 80/20 split (seed 0, plus the mean over seeds 0-2),
   themes with >= 10 examples; macro/micro F1 and the training time (CPU and wall), embeddings included.
3. Learning curve (NHS): macro F1 after 5, 10 and 20 reviewed examples per theme, choosing them at random
   or with ``suggest_next`` (rounds of one example per theme), over several seeds.
4. Throughput on 2 CPU threads (best of three runs): segments/s without embeddings (rules only, and
   rules + TF-IDF/LSA), and with MiniLM the total coding time against the model's own ``encode`` time
   for the same texts.
5. Peak memory (resident set size, VmHWM).

    python -m bench.coding                  # everything (about 6 minutes on 2 idle cores)
    python -m bench.coding --skip-curve     # without the learning curve
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import max_rss_mb, measure, save, table

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "burnout_focus_groups"
NHS = ROOT.parent / "shared" / "data" / "nhs_fft" / "nhft_comments.csv"
THREADS = 2


def _limit_threads() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(THREADS))
    try:
        import torch

        torch.set_num_threads(THREADS)
    except ImportError:  # pragma: no cover - embeddings extra missing
        pass


# ------------------------------------------------------------------------------------------------ demo
def demo_gold(embedder: str) -> dict[str, Any]:
    """Zero-training micro/macro F1 of ``project.autocode()`` against the demo gold codings."""
    import qualkit as qk
    from qualkit.coding.workflow import attach_resources

    gold = [json.loads(line) for line in (CORPUS / "gold_codings.jsonl").read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as folder:
        project = qk.Project.create(Path(folder) / "demo.qualkit.db", name="demo", codebook="burnout", user="bench")
        project.import_transcripts(sorted((CORPUS / "transcripts").iterdir()),
                                   participants=CORPUS / "participants.csv")
        if embedder == "lsa":
            attach_resources(project, embedder="lsa")
        started = time.perf_counter()
        suggestions = project.autocode(progress=False)
        seconds = time.perf_counter() - started
        figures: dict[str, Any] = {"embedder": embedder, "suggestions": len(suggestions), "autocode_s": seconds}
        for label, records in (("all", gold), ("fg1+fg2 (cues tuned)", [g for g in gold if g["source"][:3] in ("fg1", "fg2")]),
                               ("fg3+fg4 (held out)", [g for g in gold if g["source"][:3] in ("fg3", "fg4")])):
            metrics = project.evaluate(records).set_index("code")
            figures[label] = {"micro_f1": float(metrics.loc["micro", "f1"]), "macro_f1": float(metrics.loc["macro", "f1"]),
                              "micro_precision": float(metrics.loc["micro", "precision"]),
                              "micro_recall": float(metrics.loc["micro", "recall"])}
        per_code = project.evaluate(gold)
        figures["per_code_f1"] = {c: round(float(f), 3) for c, f in zip(per_code["code"], per_code["f1"], strict=True)}
        project.store.engine.dispose()
    return figures


# ------------------------------------------------------------------------------------------------ NHS
def load_nhs() -> tuple[list[str], np.ndarray, list[str]]:
    """Usable comments, their theme matrix and the themes with at least 10 examples."""
    import pandas as pd

    frame = pd.read_csv(NHS)
    themes = list(frame.columns[frame.columns.get_loc("Comment sentiment") + 1:])
    text = frame["FFT answer"].fillna("").astype(str).str.strip()
    usable = frame[(text != "") & (text.str.lower() != "did not answer")].reset_index(drop=True)
    labels = usable[themes].fillna(0).astype(float).to_numpy() > 0
    keep = [t for j, t in enumerate(themes) if labels[:, j].sum() >= 10]
    Y = usable[keep].fillna(0).astype(float).to_numpy() > 0
    return usable["FFT answer"].astype(str).str.strip().tolist(), Y, keep


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.RandomState(seed).permutation(n)
    cut = int(0.8 * n)
    return order[:cut], order[cut:]


def _macro_micro(Y_true: np.ndarray, predicted: list[list[str]], themes: list[str]) -> tuple[float, float]:
    from qualkit.coding.evaluate import evaluate_codes

    gold = {i: [themes[j] for j in np.nonzero(Y_true[i])[0]] for i in range(len(Y_true))}
    metrics = evaluate_codes(gold, dict(enumerate(predicted)), codes=themes).set_index("code")
    return float(metrics.loc["macro", "f1"]), float(metrics.loc["micro", "f1"])


def nhs(seeds: list[int]) -> dict[str, Any]:
    """Learned coder on NHS comments: F1 and training time (fresh embedding cache, so encoding counts)."""
    from qualkit.coding.ensemble import AutoCoder
    from qualkit.embeddings import CachedEmbedder, MiniLMEmbedder
    from qualkit.model import Code, Codebook
    from qualkit.nlp import load_nlp

    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    nlp = load_nlp()
    model = MiniLMEmbedder()
    model.encode(["warm up"])  # loading the model is not training
    runs = []
    for seed in seeds:
        train, test = _split(len(texts), seed)
        labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in train]
        coder = AutoCoder(codebook, embedder=CachedEmbedder(model), nlp=nlp)
        cpu, wall = time.process_time(), time.perf_counter()
        coder.fit([texts[i] for i in train], labels)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        macro, micro = _macro_micro(Y[test], coder.predict([texts[i] for i in test]), themes)
        runs.append({"seed": seed, "macro_f1": macro, "micro_f1": micro, "train_cpu_s": cpu, "train_wall_s": wall})
    return {"themes": len(themes), "comments": len(texts), "runs": runs,
            "mean_macro_f1": float(np.mean([r["macro_f1"] for r in runs])),
            "mean_micro_f1": float(np.mean([r["micro_f1"] for r in runs]))}


def _curve_point(chosen: list[int], *, codebook: Any, embedder: Any, nlp: Any, seed: int, pool_batch: Any,
                 pool_labels: list[list[str]], test_batch: Any, Y_test: np.ndarray, themes: list[str]) -> tuple[float, Any]:
    """Fit on the chosen pool items only (the rest unlabelled) and return (test macro-F1, coder)."""
    from qualkit.coding.ensemble import AutoCoder

    picked = set(chosen)
    labels = [pool_labels[i] if i in picked else None for i in range(len(pool_labels))]
    coder = AutoCoder(codebook, embedder=embedder, nlp=nlp, random_state=seed).fit(pool_batch, labels)
    return _macro_micro(Y_test, coder.predict(test_batch), themes)[0], coder


def learning_curve(seeds: list[int], steps: tuple[int, ...] = (5, 10, 20)) -> dict[str, Any]:
    """Macro F1 after k reviewed examples per theme: random choice versus ``suggest_next``."""
    from qualkit.coding._base import Batch
    from qualkit.coding.active import rank_for_review
    from qualkit.embeddings import CachedEmbedder, MiniLMEmbedder
    from qualkit.model import Code, Codebook
    from qualkit.nlp import load_nlp

    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    nlp = load_nlp()
    embedder = CachedEmbedder(MiniLMEmbedder())
    per_round = len(themes)
    results: dict[str, dict[int, list[float]]] = {"random": {k: [] for k in steps}, "suggest_next": {k: [] for k in steps}}
    for seed in seeds:
        pool, test = _split(len(texts), seed)
        pool_batch = Batch.build([texts[i] for i in pool], nlp=nlp)
        test_batch = Batch.build([texts[i] for i in test], nlp=nlp)
        pool_labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in pool]

        context = {"codebook": codebook, "embedder": embedder, "nlp": nlp, "seed": seed, "pool_batch": pool_batch,
                   "pool_labels": pool_labels, "test_batch": test_batch, "Y_test": Y[test], "themes": themes}

        def score(chosen: list[int], context: dict[str, Any] = context) -> tuple[float, Any]:
            return _curve_point(chosen, **context)

        order = [int(i) for i in np.random.RandomState(seed).permutation(len(pool))]
        for k in steps:
            results["random"][k].append(score(order[:k * per_round])[0])
        chosen = order[:per_round]  # the first round is random: nothing is known yet
        for k in range(1, max(steps) + 1):  # here `chosen` holds k examples per theme
            macro, coder = score(chosen)
            if k in steps:
                results["suggest_next"][k].append(macro)
            if k < max(steps):
                picks, _ = rank_for_review(coder, pool_batch, per_round, exclude=chosen)
                chosen = chosen + [int(p) for p in picks]
    summary = {strategy: {str(k): {"mean": float(np.mean(v)), "runs": [round(x, 3) for x in v]}
                          for k, v in curve.items()} for strategy, curve in results.items()}
    return {"seeds": seeds, "per_round": per_round, "curve": summary}


# ------------------------------------------------------------------------------------------------ speed
class _TimedEmbedder:
    """Wrap an embedder and add up the seconds spent inside ``encode``."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.seconds = 0.0

    def encode(self, texts: Any, *, progress: bool = False) -> Any:
        started = time.perf_counter()
        try:
            return self.embedder.encode(texts, progress=progress)
        finally:
            self.seconds += time.perf_counter() - started


def throughput() -> dict[str, Any]:
    """Segments per second without embeddings, and MiniLM coding time against the model's encode time."""
    from qualkit.codebook import load_codebook
    from qualkit.coding.ensemble import AutoCoder
    from qualkit.coding.rules import RuleCoder
    from qualkit.embeddings import CachedEmbedder, MiniLMEmbedder
    from qualkit.nlp import load_nlp

    codebook = load_codebook("burnout")
    gold = [json.loads(line)["text"] for line in (CORPUS / "gold_codings.jsonl").read_text(encoding="utf-8").splitlines()]
    nhs_texts, _, _ = load_nhs()
    texts = nhs_texts + gold  # real comments and focus-group turns
    n = len(texts)
    nlp = load_nlp()
    figures: dict[str, Any] = {"segments": n, "mean_chars": float(np.mean([len(t) for t in texts]))}
    # Warm up on the codebook's own examples, never on the timed texts, so no cache holds them.
    warm_up = [e for code in codebook.codable_codes for e in code.examples]
    # Each timing runs three times and the fastest counts, as timeit does: other work on a shared
    # machine only ever slows a run down.
    rules = RuleCoder(codebook, nlp=nlp).fit()
    rules.predict_scores(warm_up)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        rules.predict_scores(texts)
        runs.append(time.perf_counter() - started)
    figures["rules_only_segments_per_s"] = n / min(runs)
    figures["rules_only_runs_s"] = runs
    # Rules + LSA: fitted on one half of the texts, timed on the other half (fresh texts, empty cache).
    fit_half, timed_half = texts[::2], texts[1::2]
    runs = []
    for _ in range(3):
        lsa = AutoCoder(codebook, embedder="lsa", nlp=nlp).fit(fit_half)
        lsa.predict_codings(warm_up)
        started = time.perf_counter()
        lsa.predict_codings(timed_half)
        runs.append(time.perf_counter() - started)
    figures["rules_lsa_segments"] = len(timed_half)
    figures["rules_lsa_segments_per_s"] = len(timed_half) / min(runs)
    figures["rules_lsa_runs_s"] = runs
    model = MiniLMEmbedder()
    model.encode(["warm up"])
    sample = texts[::3]  # ~900 segments; each measurement runs twice, the faster run counts (shared machines)
    inner = _TimedEmbedder(model)
    encode_runs, coding_runs, inside_runs = [], [], []
    for _ in range(2):
        started = time.perf_counter()
        model.encode(sample)
        encode_runs.append(time.perf_counter() - started)
        coder = AutoCoder(codebook, embedder=CachedEmbedder(inner), nlp=nlp).fit()  # fresh cache
        inner.seconds = 0.0
        started = time.perf_counter()
        coder.predict_codings(sample)
        coding_runs.append(time.perf_counter() - started)
        inside_runs.append(inner.seconds)
    best = int(np.argmin(coding_runs))
    encode_s, coding_s, inside_s = min(encode_runs), coding_runs[best], inside_runs[best]
    figures.update({"minilm_segments": len(sample), "minilm_encode_s": encode_s, "minilm_coding_s": coding_s,
                    "minilm_ratio": coding_s / encode_s, "minilm_time_in_encoder_s": inside_s,
                    "minilm_overhead_outside_encoder": (coding_s - inside_s) / inside_s,
                    "minilm_segments_per_s": len(sample) / coding_s})
    return figures


# ------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the coding benchmarks, print the figures and write ``bench/results/coding.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.coding", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the NHS split and the learning curve")
    parser.add_argument("--skip-curve", action="store_true", help="leave out the learning curve")
    args = parser.parse_args(argv)
    _limit_threads()
    seeds = list(range(args.seeds))
    figures: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    with measure() as timing:
        result = throughput()
        figures["throughput"] = result
        rows += [{"figure": "segments/s, rules only", "value": result["rules_only_segments_per_s"], "target": ">= 1000"},
                 {"figure": "segments/s, rules + TF-IDF/LSA (no embeddings)", "value": result["rules_lsa_segments_per_s"],
                  "target": ">= 1000"},
                 {"figure": "MiniLM encode s (model alone)", "value": result["minilm_encode_s"]},
                 {"figure": "MiniLM coding s (AutoCoder, fresh cache)", "value": result["minilm_coding_s"]},
                 {"figure": "MiniLM coding / encode", "value": result["minilm_ratio"], "target": "<= 1.2"},
                 {"figure": "MiniLM coding time outside the encoder (fraction)",
                  "value": result["minilm_overhead_outside_encoder"], "target": "<= 0.2"}]
        for embedder in ("minilm", "lsa"):
            result = demo_gold(embedder)
            figures[f"demo_{embedder}"] = result
            for part in ("all", "fg1+fg2 (cues tuned)", "fg3+fg4 (held out)"):
                rows.append({"figure": f"demo zero-training micro-F1, {embedder}, {part}",
                             "value": result[part]["micro_f1"], "target": ">= 0.75" if part == "all" else ""})
            rows.append({"figure": f"demo zero-training macro-F1, {embedder}", "value": result["all"]["macro_f1"]})
        result = nhs(seeds)
        figures["nhs"] = result
        first = result["runs"][0]
        rows += [{"figure": "NHS macro-F1 (seed 0)", "value": first["macro_f1"], "target": ">= 0.60"},
                 {"figure": "NHS micro-F1 (seed 0)", "value": first["micro_f1"]},
                 {"figure": f"NHS macro-F1, mean of {len(seeds)} seeds", "value": result["mean_macro_f1"]},
                 {"figure": f"NHS micro-F1, mean of {len(seeds)} seeds", "value": result["mean_micro_f1"]},
                 {"figure": "NHS training CPU s (seed 0, incl. embeddings)", "value": first["train_cpu_s"], "target": "< 120"},
                 {"figure": "NHS training wall s (seed 0, incl. embeddings)", "value": first["train_wall_s"]}]
        if not args.skip_curve:
            result = learning_curve(seeds)
            figures["learning_curve"] = result
            for k in ("5", "10", "20"):
                rows.append({"figure": f"NHS macro-F1 after {k}/theme, random", "value": result["curve"]["random"][k]["mean"]})
                rows.append({"figure": f"NHS macro-F1 after {k}/theme, suggest_next",
                             "value": result["curve"]["suggest_next"][k]["mean"], "target": "> random"})
    figures["peak_rss_mb"] = max_rss_mb()
    figures["total_s"] = timing["seconds"]
    rows.append({"figure": "peak RSS MB", "value": figures["peak_rss_mb"]})
    print(table(rows))
    print(f"wrote {save('coding', figures)}")
    return figures


if __name__ == "__main__":
    main()
