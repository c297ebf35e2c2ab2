"""``qualkit suggest``: suggest codes for the transcripts of a study stored in a project database.

The machine coder trains on the team's decisions so far and proposes codes for every participant
turn (or one transcript's); the suggestions wait in the review queue. Running it again (after a
codebook edit or new decisions) refreshes only the suggestions nobody decided yet.

Example:
    $ qualkit init study.qualkit.db --name "Burnout pilot"
    $ qualkit import transcripts/ --db study.qualkit.db --suggest
    $ qualkit suggest --db study.qualkit.db --source group2.txt
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, source_ref

SourceOption = Annotated[str | None, typer.Option("--source", help="Only this transcript (its name or id).")]


def run_suggest(project: Any, source: str | None = None, *, progress: bool = True) -> dict[str, int]:
    """Suggest codes for ``project`` (or one transcript) with a progress bar on stderr; prints a summary line.

    Example:
        >>> run_suggest(project, "group1.txt", progress=False)  # doctest: +SKIP
        {'segments': 12, 'suggestions': 17}
    """
    from tqdm.auto import tqdm

    target = source_ref(project, source)
    with tqdm(total=0, desc="suggesting codes", unit="seg", file=sys.stderr, disable=not progress,
              leave=False) as bar:
        def report(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = project.suggest(target, progress=report)
    where = f"transcript {source!r}" if source is not None else f"project {project.name!r}"
    typer.echo(f"{result['suggestions']} suggestions await review on {result['segments']} participant "
               f"segments of {where}", err=True)
    return result


def suggest(
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    source: SourceOption = None,
    user: UserOption = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")] = True,
) -> None:
    """Suggest codes for a study's transcripts (the review queue then holds them); human decisions stay."""
    from qualkit.project import Project

    project = Project.open(db, project_name, user=user)
    run_suggest(project, source, progress=progress)


def register(app: typer.Typer) -> None:
    """Add ``qualkit suggest``."""
    app.command("suggest")(suggest)
