"""Running the command line in a test: the exit code and what it printed."""

from __future__ import annotations

from qualkit.cli import main


def run(argv, capsys):
    """Run ``qualkit argv``; returns ``(exit code, stdout, stderr)``."""
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
