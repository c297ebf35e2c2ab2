"""The layer contract of CONTRIBUTING, read from the source (AST, every import including those inside functions).

model, errors <- nlp, embeddings, ingest, codebook, store <- coding, themes, analysis, users, access, review <- export,
figures <- project, worker <- cli, app. Nothing imports upward; only ``qualkit/app`` imports Streamlit; only
``qualkit/store`` imports SQLAlchemy or Alembic; no import cycle among qualkit's modules; no ``_private`` name
of one module is used by another (imported, or called as an attribute).
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qualkit"

# Lowest first; a module may import its own layer (sideways) and those below, never a later one.
LAYERS = (
    ("qualkit.model", "qualkit.errors", "qualkit.version", "qualkit.checks", "qualkit.progress"),
    ("qualkit.nlp", "qualkit.embeddings", "qualkit.ingest", "qualkit.codebook", "qualkit.store", "qualkit.spans"),
    ("qualkit.coding", "qualkit.themes", "qualkit.analysis", "qualkit.users", "qualkit.access", "qualkit.review",
     "qualkit.display"),
    ("qualkit.export", "qualkit.figures"),
    ("qualkit.project", "qualkit.worker", "qualkit.demo"),
    ("qualkit.cli", "qualkit.app", "qualkit.__main__"),
)
ONLY_IN = {"streamlit": "qualkit.app", "sqlalchemy": "qualkit.store", "alembic": "qualkit.store"}
# Private names that are a third party's protocol, not another qualkit module's internals.
PROTOCOL_NAMES = {"_parameter_constraints"}  # scikit-learn's declared parameter checks (sklearn/base.py)

# Known breaches owned by work in progress on other branches; each names where it is being fixed.
# A breach listed here is tolerated (a warning when it is gone, so the entry can be removed); any other fails.
KNOWN: dict[tuple[str, ...], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _owner(target: str) -> str:
    """The qualkit module a dotted import target lives in (``qualkit.codebook.load_codebook`` -> the package)."""
    modules = _modules()
    while target not in modules and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


@cache
def _imports() -> list[tuple[str, str, str | None]]:
    """(importing module, imported module or third-party top name, imported name or None) for every import."""
    found = []
    for name, tree in _modules().items():
        is_package = (PACKAGE.parent / Path(*name.split("."))).is_dir()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((name, alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = name.split(".") if is_package else name.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    whole = f"{base}.{alias.name}"
                    found.append((name, whole, None) if whole in _modules() else (name, base, alias.name))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target, _ in _imports():
        if target.split(".")[0] == "qualkit":
            graph[source].add(_owner(target))
    return graph


def _layer(module: str) -> int | None:
    found = None
    for index, group in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in group):
            found = index
    return found


def _breaches(found: list[tuple], kind: str) -> list[tuple]:
    """The breaches not in KNOWN (and a warning for KNOWN entries of this kind that no longer occur)."""
    gone = [key for key in KNOWN if key[0] == kind and key not in found]
    if gone:
        warnings.warn(f"fixed, remove from KNOWN: {gone}", stacklevel=2)
    return [key for key in found if key not in KNOWN]


def test_every_module_has_a_layer():
    assert [m for m in _modules() if m != "qualkit" and _layer(m) is None] == []


def test_nothing_imports_upward_or_the_package_facade():
    upward = sorted((source, target) for source, targets in _graph().items() for target in targets
                    if source != "qualkit" and (target == "qualkit" or _layer(target) > _layer(source)))
    assert upward == [], "a lower layer imports a higher one (or the qualkit facade): " + repr(upward)


def test_streamlit_only_in_the_app_and_the_database_only_in_the_store():
    found = sorted({("third-party", source, target.split(".")[0]) for source, target, _ in _imports()
                    if target.split(".")[0] in ONLY_IN
                    and not (source + ".").startswith(ONLY_IN[target.split(".")[0]] + ".")})
    assert _breaches(found, "third-party") == []


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[tuple] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(("cycle", *sorted(component)))

    for module in sorted(_modules()):
        if module not in index:
            visit(module)
    assert _breaches(sorted(cycles), "cycle") == []


def _private_definitions() -> dict[str, set[str]]:
    """Private name -> the qualkit modules that define it (functions, methods, classes, assignments)."""
    defined: dict[str, set[str]] = defaultdict(set)
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = [node.name]
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    defined[name].add(module)
    return defined


def test_no_private_name_is_used_from_another_module():
    defined = _private_definitions()
    found = set()
    for source, target, name in _imports():
        private = bool(name) and name.startswith("_") and not name.startswith("__")
        if private and target.startswith("qualkit") and _owner(target) != source:
            found.add(("private", source, name))
    for module, tree in _modules().items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            where = defined.get(node.attr, set())
            if node.attr not in PROTOCOL_NAMES and where and module not in where:
                found.add(("private", module, node.attr))
    assert _breaches(sorted(found), "private") == []


@pytest.mark.parametrize("rule", ["upward", "cycle", "private"])
def test_the_checks_catch_a_breach(rule, tmp_path, monkeypatch):
    """Each check fails on a planted breach (so a passing run means something)."""
    planted = {
        "upward": ("qualkit.model", "from qualkit.project import Project\n"),
        "cycle": ("qualkit.errors", "import qualkit.model\n"),  # model imports errors
        "private": ("qualkit.spans", "from qualkit.project import _default_user\n"),
    }[rule]
    real = _modules()
    fake = dict(real)
    fake[planted[0]] = ast.parse(planted[1])
    if rule == "cycle":
        fake["qualkit.model"] = ast.parse("import qualkit.errors\n")
    monkeypatch.setitem(globals(), "_modules", lambda: fake)
    monkeypatch.setitem(globals(), "_imports", _imports.__wrapped__)
    check = {"upward": test_nothing_imports_upward_or_the_package_facade, "cycle": test_no_import_cycles,
             "private": test_no_private_name_is_used_from_another_module}[rule]
    with pytest.raises(AssertionError):
        check()
