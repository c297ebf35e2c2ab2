"""Run every benchmark (``python -m bench``) or some (``python -m bench coding topics``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    """Benchmark modules in this folder (each has a ``main(argv=None)``)."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmarks {unknown}; available: {available()}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{name}").main([])
        print(f"(bench.{name} took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
