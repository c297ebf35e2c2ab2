"""docs/cli.md is generated from the real CLI (scripts/cli_reference.py) and must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_cli_md_is_what_the_cli_says():
    script = _script()
    expected = script.render()
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is stale: run python scripts/cli_reference.py and commit it"
    assert script.main(["--check"]) == 0


def test_the_reference_names_every_command_and_option():
    import typer

    from qualkit.cli import app

    text = _script().render()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert f"`qualkit {name}`" in text
        context = command.context_class(command, info_name=name)
        for param in command.get_params(context):
            if param.param_type_name == "option" and param.name != "help":
                assert f"`{param.opts[0]}`" in text, (name, param.opts)
