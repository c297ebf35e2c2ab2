"""Small helpers shared by the benchmarks: timing, peak memory, result files, tables."""

from __future__ import annotations

import json
import platform
import resource
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results")


@contextmanager
def measure() -> Any:
    """Measure the wall time of a block: ``with measure() as m: ...; m['seconds']``.

    Memory is :func:`max_rss_mb`, read after the work: tracing Python allocations (``tracemalloc``)
    made the coding benchmark three times slower (521 against 1,400-2,100 rules-only segments/s), so
    no timed block runs under it.
    """
    figures: dict[str, float] = {}
    started = time.perf_counter()
    try:
        yield figures
    finally:
        figures["seconds"] = time.perf_counter() - started


def max_rss_mb() -> float:
    """Peak resident memory of this process so far (MB): Linux's ``VmHWM``, its own peak.

    ``ru_maxrss`` is the fallback where ``/proc`` is missing; on Linux it keeps the parent's peak across
    fork and exec, so a benchmark run in a child process would report its parent's memory.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now (MB): Linux's ``VmRSS`` (0 where ``/proc`` is missing)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


@contextmanager
def peak_rss(interval: float = 0.2) -> Any:
    """The peak resident memory *during* a block, sampled by a thread: ``with peak_rss() as m: ...``.

    ``m`` gets ``before_mb`` (at the start), ``peak_mb`` (highest sample) and ``added_mb`` (their difference),
    so a step's own memory shows even when the process peaked earlier (``VmHWM`` never goes down).
    """
    import threading

    figures = {"before_mb": rss_mb()}
    highest = [figures["before_mb"]]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval):
            highest[0] = max(highest[0], rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield figures
    finally:
        stop.set()
        thread.join()
        figures["peak_mb"] = max(highest[0], rss_mb())
        figures["added_mb"] = figures["peak_mb"] - figures["before_mb"]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` and return (result, seconds)."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def save(area: str, figures: dict[str, Any]) -> Path:
    """Write ``bench/results/<area>.json`` with the machine description."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{area}.json"
    payload = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
               "figures": figures}
    path.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return path


def table(rows: list[dict[str, Any]]) -> str:
    """Render rows as a plain-text table."""
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[_fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
