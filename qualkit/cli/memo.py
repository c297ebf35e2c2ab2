"""``qualkit memo``: write a memo on a transcript, a turn of it or a code, and list the memos.

What the memo box of the Transcript page does, for a researcher who works in a terminal. A turn is named
as ``qualkit review queue`` lists it (its number, or a survey answer's respondent). A coder coding a
transcript blind does not see the other coder's memos on it until both are done.

Example:
    $ qualkit memo add "Nights come up in every group" --transcript group1.txt --turn 3 --db study.qualkit.db
    $ qualkit memo add "Overlaps with workload: keep apart?" --code paperwork --db study.qualkit.db
    $ qualkit memo list --db study.qualkit.db
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

memo_app = typer.Typer(help="Write memos on transcripts, turns and codes, and list them.", no_args_is_help=True)


@memo_app.command("add")
def memo_add(
    text: Annotated[str, typer.Argument(help="The memo.", show_default=False)],
    transcript: Annotated[str | None, typer.Option("--transcript", help="A memo on this transcript (its name).")] = None,
    turn: Annotated[str | None, typer.Option("--turn", help="... on this turn of it, as 'qualkit review queue' "
                                             "lists it (needs --transcript).")] = None,
    code: Annotated[str | None, typer.Option("--code", help="A memo on this code (its id).")] = None,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Write a memo on a transcript (--transcript), one turn of it (--transcript and --turn) or a code (--code)."""
    from qualkit.cli.places import place, transcript_row, turn_segments
    from qualkit.errors import InvalidInput

    if (transcript is None) == (code is None):
        raise InvalidInput("say what the memo is about: --transcript NAME (with --turn N for one turn) or "
                           "--code CODE, one of them", fix='e.g. qualkit memo add "..." --transcript group1.txt --turn 3')
    if turn is not None and transcript is None:
        raise InvalidInput("--turn needs --transcript", fix="name the transcript the turn is in with --transcript NAME")
    project = open_project(db, project_name, user)
    if code is not None:
        memo = project.memo(text, code_id=code)
        about = f"code {code}"
    elif turn is not None:
        segment = turn_segments(project, transcript, turn).iloc[0]
        memo = project.memo(text, segment_id=int(segment["id"]))
        about = place(segment, str(segment["source"]))
    else:
        source = transcript_row(project, transcript)
        memo = project.memo(text, source_id=int(source["id"]))
        about = str(source["name"])
    typer.echo(f"memo {memo.id} on {about}")


@memo_app.command("list")
def memo_list(db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None) -> None:
    """List the memos (as --user may see them), oldest first, each with what it is about and who wrote it."""
    project = open_project(db, project_name, user)
    memos = project.memos()
    if memos.empty:
        typer.echo('No memos yet; write one with: qualkit memo add "TEXT" --transcript NAME [--turn N] | --code CODE')
        return
    names = dict(zip(project.sources()["id"], project.sources()["name"], strict=True))
    segment_ids = {int(s) for s in memos["segment_id"].dropna()}
    segments = project.segments() if segment_ids else None
    if segments is not None:
        segments = segments[segments["id"].isin(segment_ids)].set_index("id")
    from qualkit.cli.places import place

    for row in memos.itertuples(index=False):
        if _given(row.segment_id) and segments is not None and int(row.segment_id) in segments.index:
            segment = segments.loc[int(row.segment_id)]
            about = place(segment, str(segment["source"]))
        elif _given(row.source_id):
            about = str(names.get(int(row.source_id), f"transcript {int(row.source_id)}"))
        elif _given(row.code_id):
            about = f"code {row.code_id}"
        else:
            about = "the study"
        when = str(row.created_at)[:16]
        typer.echo(f"memo {row.id}  {about}  by {row.author}, {when}")
        typer.echo(f"    {' '.join(str(row.text).split())}")


def _given(value: Any) -> bool:
    import pandas as pd

    return value is not None and not pd.isna(value)


def register(app: typer.Typer) -> None:
    """Add ``qualkit memo``."""
    app.add_typer(memo_app, name="memo")
