"""Development of the learned coder on NHS without looking at the reported test parts.

Each variant is scored on a *development* split carved out of a seed's training part (75 % to fit, 25 % to
score); the 20 % test part that ``bench.coding`` reports is never read here. What wins here is then run by
``python -m bench.coding`` on the reported splits, beside the default and the baselines.

    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 --train all 20
    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 --train all 20 --variants auto "auto tuned"

``auto`` is the default coder (``AutoCoder``) on frozen MiniLM, ``auto tuned`` the same on MiniLM fine-tuned on
the fit part (``fine_tune``'s default objective). Measured 2026-12-04, seed 0, dev macro-F1: auto 0.488, auto
tuned 0.506 with the SetFit pairs objective (1,923 s on a loaded machine) and 0.547 with the classify objective
(260 s idle); with 20 per theme 0.397 -> 0.475 (classify, 137 s).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.coding import THREADS, DiskCachedEmbedder, _limit_threads, _split, load_nhs


def macro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    """Macro-F1 over the columns of two boolean matrices (a column with no gold and no prediction scores 0)."""
    tp = (Y & P).sum(axis=0)
    denominator = Y.sum(axis=0) + P.sum(axis=0)
    return float(np.mean(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)))


def tuned_embedder(codebook: object, texts: list[str], labels: list[list[str]], seed: int,
                   folder: Path | None = None, **options: object) -> object:
    """MiniLM fine-tuned on the fit part (as ``Project.fine_tune`` does on decisions); prints its cost.

    ``folder`` keeps tuned encoders between variants and runs (content-addressed: the same material and
    options are tuned once); ``options`` go to ``fine_tune`` (e.g. ``epochs``).
    """
    import tempfile

    from bench._util import peak_rss
    from qualkit.coding.finetune import tune_on

    folder = folder or Path(tempfile.mkdtemp(prefix="qualkit-dev-tuned-"))
    started = time.perf_counter()
    with peak_rss() as memory:
        tuned = tune_on(codebook, texts, labels, folder, seed=seed, threads=THREADS, **options)
    print(f"  fine-tuned on {tuned.info.get('texts')} texts ({tuned.info['objective']}, {options or 'defaults'}): "
          f"{time.perf_counter() - started:.0f} s, +{memory['added_mb']:.0f} MB", flush=True)
    return DiskCachedEmbedder(tuned.embedder())


def _options(words: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """``C=1 ft.epochs=6`` -> AutoCoder parameters and fine-tuning options (``ft.`` prefix)."""
    coder, tuning = {}, {}
    for word in words:
        key, value = word.split("=")
        number = float(value)
        target = tuning if key.startswith("ft.") else coder
        target[key.removeprefix("ft.")] = int(number) if number.is_integer() and key != "C" else number
    return coder, tuning


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.coding_dev")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--train", nargs="*", default=["all", "20"], help="'all' (the whole 75 %) or k per theme")
    parser.add_argument("--variants", nargs="*", default=None,
                        help="e.g. auto, 'auto C=1', 'auto tuned', 'auto tuned ft.epochs=6 similarity_weight=0.5'")
    parser.add_argument("--tuned-dir", type=Path, default=None, help="keep tuned encoders here between variants")
    args = parser.parse_args(argv)
    _limit_threads()
    import qualkit as qk
    from bench.coding_variants import COMBINATIONS, blocks, combine
    from qualkit.embeddings import MiniLMEmbedder
    from qualkit.model import Code, Codebook

    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    embedder = DiskCachedEmbedder(MiniLMEmbedder(), args.cache)
    names = args.variants or [*COMBINATIONS, "current"]
    for seed in args.seeds:
        train, _test = _split(len(texts), seed)  # the test part is not used
        rng = np.random.RandomState(1000 + seed)
        order = rng.permutation(train)
        cut = int(0.75 * len(order))
        fit_rows, dev_rows = order[:cut], order[cut:]
        for amount in args.train:
            rows = fit_rows if amount == "all" else fit_rows[:int(amount) * len(themes)]
            fit_texts = [texts[i] for i in rows]
            fit_labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in rows]
            dev_texts = [texts[i] for i in dev_rows]
            dev_Y = Y[dev_rows]
            parts = None
            for name in names:
                started = time.perf_counter()
                if name.startswith("auto"):  # "auto" / "auto tuned": the default coder, frozen or tuned encoder
                    chosen = embedder
                    words = name.split()
                    params, tuning = _options(words[2:] if words[:2] == ["auto", "tuned"] else words[1:])
                    if words[:2] == ["auto", "tuned"]:
                        chosen = tuned_embedder(codebook, fit_texts, fit_labels, seed, args.tuned_dir, **tuning)
                    coder = qk.AutoCoder(codebook, embedder=chosen, **params).fit(fit_texts, fit_labels)
                    predicted = coder.predict(dev_texts)
                elif name.startswith("current"):  # "current C=16 embedding_weight=2": LearnedCoder parameters
                    params = {k: float(v) for k, v in (part.split("=") for part in name.split()[1:])}
                    coder = qk.LearnedCoder(codebook, embedder=embedder, **params).fit(fit_texts, fit_labels)
                    predicted = coder.predict(dev_texts)
                else:
                    if parts is None:
                        parts = blocks(codebook, embedder, fit_texts, fit_labels, dev_texts)
                    predicted = combine(parts, **COMBINATIONS[name])
                P = np.array([[t in set(p) for t in themes] for p in predicted])
                print(f"seed {seed} train {amount} ({len(rows)}) {name}: macro-F1 {macro_f1(dev_Y, P):.3f}"
                      f" ({time.perf_counter() - started:.0f} s)", flush=True)
        embedder.save()


if __name__ == "__main__":
    assert THREADS
    main()
