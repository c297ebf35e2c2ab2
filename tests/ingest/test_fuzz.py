"""Seeded fuzzing of every registered reader: hostile files end in a Source or in qualkit's own one-line error.

The generator lives in ``bench/fuzz.py`` (``python -m bench.fuzz`` runs thousands of cases and reports
the slowest step and peak memory); here 220 cases run in CI.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from qualkit.ingest.readers import READERS

_SPEC = importlib.util.spec_from_file_location("qualkit_bench_fuzz", Path(__file__).parents[2] / "bench" / "fuzz.py")
fuzz = sys.modules.setdefault("qualkit_bench_fuzz", importlib.util.module_from_spec(_SPEC))
_SPEC.loader.exec_module(fuzz)  # registered first: its dataclasses look their module up


def test_fuzz_samples_are_registered_readers():
    """Built-in formats have their own valid sample; a new reader without one is fuzzed from the text sample."""
    assert set(fuzz.SAMPLES) <= set(READERS)
    assert {"txt", "docx", "xlsx", "vtt", "srt", "csv"} <= set(fuzz.SAMPLES)


@pytest.mark.parametrize("seed", [16, 17])
def test_fuzzed_files_give_a_source_or_a_one_line_qualkit_error(seed):
    outcomes: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    bugs = []
    for case in fuzz.cases(110, seed=seed):
        outcome, detail = fuzz.check(case)
        outcomes[outcome] += 1
        formats[case.format] += 1
        if outcome == "bug":
            bugs.append((case.name, case.mutation, detail))
    assert bugs == []
    assert set(formats) == set(READERS)  # every reader was fuzzed
    assert outcomes["ok"] > 0 and outcomes["refused"] > 0  # the generator makes both kinds of file
