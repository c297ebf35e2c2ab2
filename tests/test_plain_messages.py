"""Messages that reach people in the app, the CLI and reports are plain language: no Python syntax in them.

A warning once told researchers to "pass aliases={label: label}". Every string literal (docstrings aside)
in the modules whose warnings, errors and report sentences the app shows is checked for keyword arguments,
dict/list literals after ``=`` and method calls.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "qualkit"
# Modules whose messages the app shows: import reports and errors, the study report, analyses, themes.
SHOWN = sorted([*ROOT.joinpath("ingest").glob("*.py"), ROOT / "export" / "report.py",
                ROOT / "analysis" / "reliability.py", ROOT / "analysis" / "prevalence.py",
                ROOT / "themes" / "runs.py", ROOT / "store" / "theme_runs.py", *ROOT.joinpath("app").rglob("*.py")])
PYTHON = re.compile(r"\b[a-z_]+=\{|\b[a-z_]+=\[|\b[a-z_]+=<|\bproject\.[a-z_]+\(|\bpass [a-z_]+=|\b[a-z_]+=(True|False)\b")


def _strings(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


@pytest.mark.parametrize("path", SHOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_python_syntax_in_messages(path):
    if path.suffix != ".py":
        return
    found = [(line, text[:100]) for line, text in _strings(path)
             if PYTHON.search(text) and "<script" not in text and "function(" not in text]
    assert not found, f"{path.name}: Python syntax in a message people read: {found}"


def test_merge_warning_is_plain(tmp_path):
    from qualkit.ingest import read_transcript

    path = tmp_path / "g.txt"
    path.write_text("Moderator: Hi.\nDr Smith: Yes.\nDr. Smith: Indeed.\nAna: Tired.\nDr Smith: ok\nAna: fine\n", encoding="utf-8")
    warnings = read_transcript(path).import_report.warnings
    assert any(w.startswith("merged 1 label variant") for w in warnings), warnings
    assert not [w for w in warnings if PYTHON.search(w) or "={" in w], warnings
