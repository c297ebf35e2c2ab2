"""``qualkit worker``: the process that retrains the learned coder and ranks the review queue for the app.

The app starts one by itself when it needs one (and none is alive); run it yourself to keep models
loaded between sessions or to put the work on another machine that reaches the same database.

Example:
    $ qualkit worker --db study.qualkit.db --project "Burnout focus groups" --idle-exit 600
"""

from __future__ import annotations

from typing import Annotated

import typer

from qualkit.cli.options import DbOption, ProjectNameOption


def register(app: typer.Typer) -> None:
    """Add the ``worker`` command."""

    @app.command("worker")
    def worker(
        db: DbOption = None,
        project: ProjectNameOption = None,
        idle_exit: Annotated[float | None, typer.Option(help="Stop after this many seconds without a job.")] = None,
        parent_pid: Annotated[int | None, typer.Option(help="Stop when this process (the app) is gone.")] = None,
    ) -> None:
        """Run background model jobs (retrain, rank, finetune) for a project until stopped."""
        from qualkit.store.engine import database_url
        from qualkit.worker import serve

        done = serve(database_url(db), project, idle_exit=idle_exit, parent_pid=parent_pid,
                     log=lambda message: typer.echo(message, err=True))
        typer.echo(f"{done} job(s) run", err=True)
