"""Project commands: ``qualkit init``, ``qualkit info``, ``qualkit show`` and ``qualkit demo``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption


def init(
    path: Annotated[str | None, typer.Argument(help="SQLite file to create, or a database URL.")] = None,
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="The study's name, as the app shows it (default: the file's "
                                                  "name, e.g. pilot for pilot.qualkit.db).")] = None,
    codebook: Annotated[str, typer.Option(help="Shipped codebook name or a codebook file; 'none' for none.")] = "burnout",
    user: UserOption = None,
) -> None:
    """Create a new, empty project (an SQLite file by default)."""
    from qualkit.project import Project

    chosen = study_name(path or db, name)  # a name the file gives is no reason to add a study beside another
    project = Project.create(path or db, chosen if name is not None else None, codebook=None if codebook == "none" else codebook, user=user)
    typer.echo(f"created project {project.name!r} in {project.store.engine.url.render_as_string()}")
    others = [other for other in project.store.list_projects(project.store.engine) if other != project.name]
    if others:  # a re-run of the README's first line added a study beside the real one without a word
        typer.echo(f"note: this database already held {', '.join(map(repr, others))}; {project.name!r} is a further "
                   "study beside it, so every command now needs --project NAME", err=True)
    if codebook != "none":  # said, so nobody codes their own study with the clinician-burnout codebook unaware
        book = project.codebook
        typer.echo(f"codebook: {book.name!r} ({len(book.codable_codes)} codes); give the study your own with "
                   "`qualkit codebook set FILE` (or on the Codebook page)" if codebook == "burnout" else
                   f"codebook: {book.name!r} ({len(book.codable_codes)} codes)")


def study_name(target: str | None, name: str | None) -> str:
    """The name of a study made on the command line: ``--name``, else the file's name without its suffixes.

    A database URL has no file name to go by, so it needs ``--name``.

    Example:
        >>> study_name("studies/burnout-pilot.qualkit.db", None)
        'burnout-pilot'
        >>> study_name("x.db", "  Nurses 2026 ")
        'Nurses 2026'
    """
    from qualkit.errors import InvalidInput
    from qualkit.store.engine import DATABASE_URL_ENV

    if name is not None and name.strip():
        return name.strip()
    if name is not None:
        raise InvalidInput("the study name is empty", fix='give one, e.g. --name "Burnout pilot"')
    target = str(target or os.environ.get(DATABASE_URL_ENV) or "")
    if target.startswith("sqlite:///"):
        target = target[len("sqlite:///"):]
    if not target or "://" in str(target):
        raise InvalidInput("a study in a database server needs a name",
                           fix='add --name "Burnout pilot" (the app lists studies by name)')
    stem = Path(target).name.split(".")[0].strip()
    if not stem:
        raise InvalidInput("cannot name the study after the file", path=target, fix='add --name "Burnout pilot"')
    return stem


def info(db: DbOption = None, project_name: ProjectNameOption = None, path: Annotated[
        str | None, typer.Argument(help="SQLite file or database URL (instead of --db).")] = None,
        user: UserOption = None) -> None:
    """Show what a project holds: sources, segments, codebook and codings by status (as --user may see them)."""
    from qualkit.project import Project

    project = Project.open(path or db, project_name, user=user)
    sources = project.sources()
    codings = project.codings()
    typer.echo(f"project {project.name!r}: {len(sources)} sources, {int(sources['segments'].sum())} segments")
    try:
        cb = project.codebook
        typer.echo(f"codebook {cb.name!r} version {cb.version}: {len(cb.codable_codes)} codes")
    except Exception as error:  # no codebook yet is a state, not a failure
        typer.echo(error.render("cli") if hasattr(error, "render") else str(error))
    # A hand code its author removed again is kept on record as rejected, but nobody judged it: the report
    # says "removed", and so does this summary (a stranger's 13 "rejected" held their own removals).
    from qualkit.model import awaiting_review, undone_judgements

    status = codings["status"].where(~codings["removed"].astype(bool), "removed by its coder")
    # A suggestion each blind coder judged in a row of their own stays "suggested" but awaits nobody (the
    # queue and the report did not count it; this summary did); a blind coder's undone judgement is her row
    # back at "suggested", no suggestion of its own.
    undone = undone_judgements(codings)
    status = status.where(~undone, "judgement undone by its blind coder")
    status = status.where(awaiting_review(codings) | (codings["status"] != "suggested") | undone,
                          "suggested, judged by the blind coders")
    for name, count in status.value_counts().sort_index().items():
        typer.echo(f"  {name}: {count} coding{'' if count == 1 else 's'}")


def demo(
    path: Annotated[Path, typer.Argument(help="SQLite file for the demo project.")] = Path("demo.qualkit.db"),
    corpus: Annotated[Path | None, typer.Option(help="Folder of the demo study (default: corpora/burnout_focus_groups).")] = None,
    autocode: Annotated[bool, typer.Option(help="Suggest codes so the review queue is not empty.")] = True,
    force: Annotated[bool, typer.Option(help="Rebuild even if the file exists (the old file is kept as .bak).")] = False,
) -> None:
    """Build the demo study project from the bundled corpus (once; reuse it afterwards)."""
    from qualkit.demo import build_demo

    result = build_demo(path, corpus=corpus, autocode=autocode, force=force, echo=typer.echo)
    typer.echo(result)


def show(
    transcript: Annotated[str, typer.Argument(help="The transcript's name in the study (see `qualkit info`).")],
    first: Annotated[int | None, typer.Option("--from", help="First turn to show.")] = None,
    last: Annotated[int | None, typer.Option("--to", help="Last turn to show.")] = None,
    codes: Annotated[bool, typer.Option(help="Show the codes on each turn (accepted, and suggestions).")] = True,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Print a transcript turn by turn, numbered as the other commands name turns, with the codes on each.

    A terminal user had to learn a turn's number from the review queue or from an error before coding it by hand.
    """
    from qualkit.cli.options import open_project
    from qualkit.cli.places import one_line, transcript_row
    from qualkit.display import clock, text_or

    project = open_project(db, project_name, user)
    source = transcript_row(project, transcript)
    segments = project.segments(source=int(source["id"])).sort_values("start")
    if first is not None:
        segments = segments.loc[segments["turn"].notna() & (segments["turn"] >= first)]
    if last is not None:
        segments = segments.loc[segments["turn"].notna() & (segments["turn"] <= last)]
    names = {}
    if codes:
        try:
            names = {c.id: c.name for c in project.codebook.codes}
        except Exception:  # no codebook yet: codes by id
            names = {}
    codings = project.codings(source=int(source["id"])) if codes else None
    if codings is not None and len(codings):
        from qualkit.model import awaiting_review

        # A blind coder's judgement is a row of her own; the suggestion it judged stays "suggested" and was
        # listed beside it as if still open ("Intention to leave (suggested)" after she rejected it).
        codings = codings.loc[((codings["status"] == "accepted") | awaiting_review(codings)) & ~codings["removed"]]
    typer.echo(f"{source['name']}: {len(segments)} segment(s)")
    for row in segments.itertuples(index=False):
        turn = "" if row.turn is None or row.turn != row.turn else int(row.turn)
        when = clock(getattr(row, "time_start", None))
        said_by = text_or(row.speaker)  # NaN where nobody spoke
        who = f"{said_by}{f' ({when})' if when else ''}: " if said_by else "(unattributed) "
        typer.echo(f"{turn!s:>5}  {who}{one_line(row.text)}")
        if codings is not None and len(codings):
            here = codings.loc[codings["segment_id"] == row.id]
            listed = [f"{names.get(c.code_id, c.code_id)} ({c.status if c.status == 'accepted' else 'suggested'})"
                      for c in here.itertuples(index=False)]
            if listed:
                typer.echo(f"{'':>5}  codes: {', '.join(dict.fromkeys(listed))}")


def register(app: typer.Typer) -> None:
    """Add the project commands."""
    app.command()(init)
    app.command()(info)
    app.command()(show)
    app.command()(demo)
