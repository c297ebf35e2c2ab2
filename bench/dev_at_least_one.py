"""Tried and dropped (2026-12-07): on NHS development splits, two post-hoc rules on the default coder's scores.

Both read only the development carve of each seed's training part (``bench.coding_dev._carve``); the reported
test parts are never touched.

* **At least one code per text** (every NHS comment carries a theme: 5 of 2,310 do not). A text for which no
  code reaches its threshold gets its code of highest score / threshold.
* **Thresholds scaled** by 0.7 ... 1.2 (are the out-of-fold thresholds biased on a tuned encoder, whose training
  texts it has seen?).

Dev macro-F1, seeds 0 / 1 / 2 (frozen MiniLM; ``python -m bench.dev_at_least_one frozen 0 1 2``, ~2 min)::

    setting       default                at least one           best scale (of 0.7-1.2)
    all (1,386)   0.514 / 0.531 / 0.527  0.521 / 0.535 / 0.525  x1.1 / x1.1 / x1.0: +0.005 / +0.003 / 0
    20 per theme  0.419 / 0.468 / 0.453  0.432 / 0.470 / 0.459  x1.1 / x0.9 / x1.2: +0.002 / +0.001 / +0.001

Tuned MiniLM, seed 0 (``python -m bench.dev_at_least_one tuned 0``, ~10 min with tuning): all 0.553, at least
one 0.555, scales 0.561 (x0.7) 0.563 (x0.8) 0.554 (x0.9) 0.564 (x1.1) 0.572 (x1.2); 20 per theme 0.483, at
least one 0.481, every scale 0.466-0.483. No consistent direction, gains within the seeds' spread: neither rule
is in the default.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bench.coding import DiskCachedEmbedder, _limit_threads, _split, load_nhs
from bench.coding_dev import _carve, dev_coder, macro_f1, tuned_embedder

SCALES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)


def main(argv: list[str]) -> None:
    """``frozen|tuned SEED...``: print each seed's dev macro-F1 for the default, each scale and at-least-one."""
    from qualkit.embeddings import MiniLMEmbedder
    from qualkit.model import Code, Codebook

    _limit_threads()
    mode, seeds = argv[0], [int(s) for s in argv[1:]] or [0]
    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    frozen = DiskCachedEmbedder(MiniLMEmbedder(), None)
    for seed in seeds:
        train, _ = _split(len(texts), seed)
        fit_rows, dev_rows = _carve(train, seed)
        for amount in ("all", "20"):
            rows = fit_rows if amount == "all" else fit_rows[:20 * len(themes)]
            fit_texts = [texts[i] for i in rows]
            fit_labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in rows]
            dev_texts = [texts[i] for i in dev_rows]
            started = time.perf_counter()
            embedder = tuned_embedder(codebook, fit_texts, fit_labels, seed, Path("bench/results/tuned")) \
                if mode == "tuned" else frozen
            coder = dev_coder(codebook, embedder, {}).fit(fit_texts, fit_labels)
            scores = np.asarray(coder.predict_scores(dev_texts)[themes].to_numpy())
            codes = list(coder.codes_)
            thresholds = np.array([coder.thresholds_[codes.index(t)] for t in themes])
            predicted = np.array([[t in set(p) for t in themes] for p in coder.predict(dev_texts)])
            out = [f"default {macro_f1(Y[dev_rows], predicted):.3f}"]
            out += [f"x{k} {macro_f1(Y[dev_rows], scores >= thresholds * k):.3f}" for k in SCALES]
            one = scores >= thresholds
            empty = ~one.any(axis=1)
            one[np.nonzero(empty)[0], (scores / thresholds).argmax(axis=1)[empty]] = True
            out.append(f"at least one {macro_f1(Y[dev_rows], one):.3f}")
            print(f"{mode} seed {seed} {amount}: " + " ".join(out) + f" ({time.perf_counter() - started:.0f} s)",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
