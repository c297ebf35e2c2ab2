"""The ``qualkit`` command line: a thin typer layer over the library (the library never imports it).

Each area registers its commands from its own module (``qualkit/cli/<area>.py``, a ``register(app)``
function). Deliberate errors print one line and exit with status 2, never a traceback.

Example:
    $ qualkit --help
    $ qualkit init study.qualkit.db
"""

from __future__ import annotations

import sys
import warnings

import typer

from qualkit.cli import analysis, app_admin, coding, ingest, memo, project, review, suggest, themes, worker
from qualkit.errors import QualkitError

app = typer.Typer(
    name="qualkit",
    help="Offline qualitative analysis of focus-group and interview transcripts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (project, ingest, suggest, review, memo, coding, themes, analysis, app_admin, worker):
    _module.register(app)


def _plain_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> str:
    """A warning as the command line prints it: one line, no source path or code."""
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; qualkit's own errors and file-system errors become one line and exit status 2.

    Usage errors (unknown option, bad value) are reported by typer itself with the command's usage, also
    with exit status 2.
    """
    warnings.formatwarning = _plain_warning
    try:
        app(args=argv, prog_name="qualkit")
    except QualkitError as error:
        typer.secho(f"error: {error.render('cli')}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except OSError as error:  # a path the user gave cannot be read or written
        where = f"{error.filename}: " if error.filename else ""  # ("error:: Cannot save ..." without a file name)
        typer.secho(f"error: {where}{error.strerror or error}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
