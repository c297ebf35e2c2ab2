"""Development of theme settings per embedding tier on a planted corpus the benchmark does not report.

``python -m bench.scale`` reports planted corpora of seed 0; settings are chosen here on seed 1. Each
variant runs ``discover_themes`` with the default settings except the one named, on vectors encoded once:

- ``static`` / ``static20`` / ``static40``: the static tier with 10 (or N) PCA dimensions;
- ``minilm`` / ``minilm30``: MiniLM with 10 (or N) PCA dimensions;
- ``abtt1`` / ``abtt3``: the static tier after removing the mean and the top 1 (3) principal directions;
- a ``full`` suffix clusters every document instead of a 20,000 sample above 20,000 documents.

    python -m bench.themes_dev 10000 static static20 static30 static40 minilm minilm30
    python -m bench.themes_dev 50000 static40 static40full

What it printed (2026-12-04, ARI to the planted themes, seed 1): static with 10/20/30/40 dimensions 0.673/
0.695/0.750/0.747 at 2k, 0.647/0.746/0.751/0.804 at 10k, 0.638/0.740/0.832/0.824 at 50k (full fit) and
0.786 (30) / 0.834 (40) at 50k on a 20k sample; MiniLM with 10/30: 0.783/0.765 at 2k, 0.785/0.814 at 10k;
abtt1 0.644, abtt3 0.229 at 10k. Hence 40 dimensions for the static tier, 10 for MiniLM.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np


def _memo(embedder: Any, post: Any = None) -> Any:
    """Encode each list of texts once (variants share the vectors)."""
    cache: dict[tuple[str, ...], np.ndarray] = {}
    encode = embedder.encode

    def cached(texts: Any, progress: bool = False) -> np.ndarray:
        key = tuple(texts)
        if key not in cache:
            vectors = np.asarray(encode(list(texts)))
            cache[key] = post(vectors) if post else vectors
        return cache[key]

    embedder.encode = cached
    return embedder


def _all_but_the_top(vectors: np.ndarray, d: int) -> np.ndarray:
    centred = vectors - vectors.mean(0)
    _, _, directions = np.linalg.svd(centred[:5000], full_matrices=False)
    centred = centred - (centred @ directions[:d].T) @ directions[:d]
    return (centred / np.linalg.norm(centred, axis=1, keepdims=True)).astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    """Print the ARI of each variant named on the command line."""
    from bench.scale import _limit_threads

    _limit_threads()
    from sklearn.metrics import adjusted_rand_score

    from qualkit.embeddings import resolve_embedder
    from qualkit.themes import fit
    from qualkit.themes.discover import discover_themes
    from qualkit.themes.synthetic import planted_corpus

    args = sys.argv[1:] if argv is None else argv
    size, variants = int(args[0]), args[1:]
    corpus = planted_corpus(size, seed=1)
    shared: dict[str, Any] = {}
    default_dims, default_fit = dict(fit.PCA_DIMS_BY_KIND), fit.MAX_FIT_SIZE
    for variant in variants:
        fit.MAX_FIT_SIZE = 10**9 if variant.endswith("full") else default_fit
        name = variant.removesuffix("full")
        tier = "minilm" if name.startswith("minilm") else "static"
        digits = "".join(ch for ch in name if ch.isdigit())
        if name.startswith("abtt"):
            embedder = _memo(resolve_embedder("static", job="themes"), lambda v, d=int(digits): _all_but_the_top(v, d))
            dims = 10
        else:
            if tier not in shared:
                shared[tier] = _memo(resolve_embedder(tier, job="themes"))
            embedder, dims = shared[tier], int(digits or 10)
        fit.PCA_DIMS_BY_KIND[embedder.kind] = dims
        fit.REDUCTIONS["pca"] = dims
        started = time.perf_counter()
        result = discover_themes(corpus.segments, embedder=embedder)
        planted = corpus.labels[result.documents["segment_index"].to_numpy()]
        print(f"{variant:16s} ari={adjusted_rand_score(planted, result.documents['theme']):.3f} "
              f"themes={len(result.active)} {time.perf_counter() - started:.1f} s", flush=True)
        fit.PCA_DIMS_BY_KIND.clear()
        fit.PCA_DIMS_BY_KIND.update(default_dims)
        fit.REDUCTIONS["pca"] = 10
    fit.MAX_FIT_SIZE = default_fit


if __name__ == "__main__":
    main()
