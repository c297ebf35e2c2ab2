"""Write docs/cli.md, the CLI reference, from the real ``qualkit`` command (``--check``: fail if it is stale).

Every command and sub-command with its usage, help text, arguments and options (type, default,
environment variable), read from the typer app itself, so the reference cannot drift from the code.
``tests/test_cli_reference.py`` fails when docs/cli.md differs from what this script writes.

Example:
    $ python scripts/cli_reference.py            # rewrite docs/cli.md
    $ python scripts/cli_reference.py --check    # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import typer

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "cli.md"


# typer vendors click (typer._click), so commands and parameters are read by duck typing, not click's classes.
Command = Any


def _context(command: Command, name: str) -> Any:
    return command.context_class(command, info_name=name)


def _commands(command: Command, path: list[str]) -> Iterator[tuple[list[str], Command]]:
    yield path, command
    if hasattr(command, "commands"):
        context = _context(command, path[-1])
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                yield from _commands(sub, [*path, name])


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(param: Any) -> str:
    value = param.default
    if value is None or value in ((), [], "") or callable(value) or (getattr(param, "is_flag", False) and not value):
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | tuple):
        value = ", ".join(str(getattr(v, "value", v)) for v in value)
    if isinstance(value, Path):
        value = str(value)
    return f"`{value}`"


def _kind(param: Any, context: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    shown = param.display_type(context) if callable(getattr(param, "display_type", None)) else ""
    return _cell(str(shown).strip("<>").replace("|", " | ") or "text")


def _parameter_row(param: Any, context: Any) -> str:
    if param.param_type_name == "argument":
        names = f"`{param.name.upper()}`"
    else:
        names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    required = " (required)" if param.required else ""
    envvar = f" Environment: `{param.envvar}`." if getattr(param, "envvar", None) else ""
    help_text = _cell(getattr(param, "help", None) or "")
    return f"| {names} | {_kind(param, context)}{required} | {_default(param)} | {help_text}{envvar} |"


def _usage(command: Command, path: list[str], params: list[Any]) -> str:
    pieces = [*path, "[OPTIONS]"]
    for param in params:
        if param.param_type_name == "argument":
            name = param.name.upper() + ("..." if param.nargs == -1 else "")
            pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def render() -> str:
    """The whole reference as Markdown (deterministic: no terminal width, colours or paths of this machine).

    Example:
        >>> render().startswith("# qualkit command line")
        True
    """
    from qualkit.cli import app

    root = typer.main.get_command(app)
    lines = ["# qualkit command line", "",
             "Generated from the `qualkit` command by `python scripts/cli_reference.py`; do not edit by hand",
             "(`tests/test_cli_reference.py` fails when this file is stale).", ""]
    for path, command in _commands(root, ["qualkit"]):
        context = _context(command, " ".join(path))
        heading = "#" * min(len(path) + 1, 4)
        params = [p for p in command.get_params(context) if p.name != "help" and not getattr(p, "hidden", False)]
        lines += [f"{heading} `{' '.join(path)}`", "", "```", _usage(command, path, params), "```", ""]
        help_text = (command.help or "").strip()
        if help_text:
            lines += [help_text.split("\b")[0].strip(), ""]
        if params:
            lines += ["| Parameter | Type | Default | Help |", "|---|---|---|---|"]
            lines += [_parameter_row(p, context) for p in params]
            lines.append("")
        if hasattr(command, "commands"):
            subs = [(n, command.get_command(context, n)) for n in command.list_commands(context)]
            lines += [f"- `{' '.join([*path, n])}`: {_cell(sub.get_short_help_str(limit=100))}" for n, sub in subs
                      if sub is not None and not sub.hidden]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write docs/cli.md, or with ``--check`` say whether it is current (exit status 1 when stale)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if docs/cli.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
