"""Every docstring example in the library runs and shows what it says (the app and migrations aside)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import qualkit

SKIP = ("qualkit.app", "qualkit.store.migrations", "qualkit.__main__", "qualkit.cli.__main__")
MODULES = sorted(m.name for m in pkgutil.walk_packages(qualkit.__path__, "qualkit.")
                 if not m.name.startswith(SKIP))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (run with -s to see)"
