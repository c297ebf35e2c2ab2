"""The tutorial notebooks stay true: CI executes every one of them on the demo study.

Each notebook runs in its own folder (a copy of the demo project there, ``corpora`` beside it, as in
the checkout), in a fresh kernel, so what they write never lands in the repository.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TUTORIAL = ["01_quickstart", "02_your_own_codebook", "03_themes", "04_reliability_and_reporting"]

# One worker builds the demo study (demo_db, about 30 s) for this module and the other that reads it.
pytestmark = pytest.mark.xdist_group("demo-db")


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def test_the_tutorial_is_complete_and_stripped():
    assert [p.stem for p in NOTEBOOKS] == TUTORIAL
    for path in NOTEBOOKS:
        notebook = _read(path)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"
        assert "import qualkit as qk" in code[0].source
        for cell in code:  # notebooks use qualkit; they define no logic of their own
            defined = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
            assert not defined, f"{path.name} defines {[n.name for n in defined]}"


@pytest.mark.notebooks
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_cleanly(path, demo_db, tmp_path):
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    folder = tmp_path / "notebooks"
    folder.mkdir()
    (tmp_path / "corpora").symlink_to(ROOT / "corpora")
    shutil.copy(demo_db, folder / "demo.qualkit.db")
    notebook = _read(path)
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(notebook, km=kernel, timeout=900, resources={"metadata": {"path": str(folder)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr[-2000:]
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert html, "qualkit objects and tables render as HTML"
    if path.stem in ("01_quickstart", "03_themes"):
        assert any("image/svg+xml" in o.get("data", {}) for o in outputs), "charts render inline, offline"
