"""``qualkit review``: list the suggestions awaiting review, accept, reject or change them, code by hand, and undo.

What the Review queue page (and coding a selection on the Transcript page) does, for a team member who works
in a terminal. Every decision names the
suggestion *and the version listed* (``309@1``), so it applies to exactly what was read: a suggestion that
someone else decided, or a retrain changed, since it was listed is refused, not decided unseen.

Example:
    $ qualkit review queue --db study.qualkit.db --n 5
    $ qualkit review accept 309@1 311@1 --db study.qualkit.db
    $ qualkit review reject 310@1 --db study.qualkit.db
    $ qualkit review change 312@1 workload --db study.qualkit.db
    $ qualkit review code group1.txt 3 workload --words "double the patients" --db study.qualkit.db
    $ qualkit review undo --db study.qualkit.db
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project, source_ref
from qualkit.display import location

review_app = typer.Typer(help="Review suggestions from the terminal: queue, accept, reject, change, code by hand, "
                              "undo.",
                         no_args_is_help=True)
CardsArgument = Annotated[list[str], typer.Argument(
    help="Suggestions as ID@VERSION, as 'qualkit review queue' lists them (e.g. 309@1).", show_default=False)]
SHOWN_CHARACTERS = 160


def parse_cards(items: list[str]) -> list[tuple[int, int]]:
    """(coding id, version) pairs from ``ID@VERSION`` items; every item is checked before anything is decided.

    Example:
        >>> parse_cards(["309@1", " 12@3 "])
        [(309, 1), (12, 3)]
    """
    from qualkit.errors import InvalidInput

    cards = []
    for item in items:
        found = re.fullmatch(r"\s*(\d+)\s*@\s*(\d+)\s*", item)
        if found is None:
            raise InvalidInput(f"{item!r} is not ID@VERSION",
                               fix="write each suggestion as 'qualkit review queue' lists it, e.g. 309@1 (the "
                                   "version makes the decision apply only to the suggestion as you read it)")
        cards.append((int(found.group(1)), int(found.group(2))))
    return cards


def _coded_words(row: Any) -> str:
    start, end = int(row.start) - int(row.segment_start), int(row.end) - int(row.segment_start)
    words = " ".join(str(row.segment_text)[start:end].split())
    return words if len(words) <= SHOWN_CHARACTERS else words[: SHOWN_CHARACTERS - 1] + "…"



@review_app.command("queue")
def queue(
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    n: Annotated[int, typer.Option("--n", min=1, help="How many suggestions to list.")] = 20,
    source: Annotated[str | None, typer.Option("--source", help="Only this transcript (its name or id).")] = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this code (its id).")] = None,
) -> None:
    """List the suggestions awaiting review, the most useful to decide first, with the words each one codes."""
    project = open_project(db, project_name, user)
    frame = project.review_queue(n, source=source_ref(project, source), code_id=code)
    if frame.empty:
        typer.echo("Nothing awaits review here.")
        return
    for row in frame.itertuples(index=False):
        typer.echo(f"{row.id}@{row.version}  {row.code_id}  score {float(row.score):.2f}  {row.source} {location(row)}")
        typer.echo(f"    “{_coded_words(row)}”")
    typer.echo(f"{len(frame)} listed; decide with: qualkit review accept|reject ID@VERSION ...", err=True)


def _decide(action: str, cards: list[str], db: str | None, project_name: str | None, user: str | None,
            code_id: str | None = None) -> None:
    from qualkit.errors import PermissionDenied, QualkitError

    parsed = parse_cards(cards)
    project = open_project(db, project_name, user)
    failed = 0
    for coding_id, version in parsed:
        try:
            if action == "change":
                coding = project.change_code(coding_id, code_id, expected_version=version)
            else:
                coding = getattr(project, action)(coding_id, expected_version=version)
        except PermissionDenied:  # not this card but this person: nothing more is tried
            raise
        except QualkitError as error:  # one refused card does not stop the others, which are their own decisions
            failed += 1
            typer.secho(f"error: {coding_id}@{version}: {error.render('cli')}", fg=typer.colors.RED, err=True)
            continue
        if action == "change":
            typer.echo(f"{coding_id}@{version} rejected; its words coded {coding.code_id} instead (coding {coding.id})")
        else:
            typer.echo(f"{coding_id}@{version} {action}ed ({coding.code_id})")
    if failed:
        raise typer.Exit(2)


@review_app.command("accept")
def accept(cards: CardsArgument, db: DbOption = None, project_name: ProjectNameOption = None,
           user: UserOption = None) -> None:
    """Accept suggestions, each as the version listed (ID@VERSION); one already decided is refused, named."""
    _decide("accept", cards, db, project_name, user)


@review_app.command("reject")
def reject(cards: CardsArgument, db: DbOption = None, project_name: ProjectNameOption = None,
           user: UserOption = None) -> None:
    """Reject suggestions, each as the version listed (ID@VERSION); one already decided is refused, named."""
    _decide("reject", cards, db, project_name, user)


@review_app.command("change")
def change(
    card: Annotated[str, typer.Argument(help="The suggestion as ID@VERSION.", show_default=False)],
    code: Annotated[str, typer.Argument(help="The code (its id) the same words get instead.", show_default=False)],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Reject a suggestion and give its words another code instead (both stay on record)."""
    _decide("change", [card], db, project_name, user, code_id=code)


@review_app.command("code")
def code_by_hand(
    transcript: Annotated[str, typer.Argument(help="Transcript name as imported (see `qualkit info`).",
                                              show_default=False)],
    turn: Annotated[str, typer.Argument(help="The turn's number as 'qualkit review queue' lists it (turn 0 is the "
                                             "first), or a survey answer's respondent.", show_default=False)],
    code: Annotated[str, typer.Argument(help="The code (its id).", show_default=False)],
    words: Annotated[str | None, typer.Option("--words", help="Code only these words of the turn (exactly as "
                                              "they are in it; line breaks and spaces may differ). Default: the "
                                              "whole turn.")] = None,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Code a passage by hand: a whole turn, or the words of it given with --words (accepted at once)."""
    from qualkit.cli.places import find_words, one_line, place, turn_segments
    from qualkit.errors import InvalidInput

    project = open_project(db, project_name, user)
    segments = turn_segments(project, transcript, turn)
    where = place(segments.iloc[0], str(segments.iloc[0]["source"]))
    if words is not None:
        segment, start, end = find_words(segments, words, where=where)
    elif len(segments) > 1:
        raise InvalidInput(f"{where} is coded sentence by sentence in this study ({len(segments)} passages), so "
                           "a code goes on words of one of them", fix='say which with --words "the words to code"')
    else:
        segment, start, end = segments.iloc[0], None, None
    coding = project.code(int(segment["id"]), code, start=start, end=end)
    offset = int(segment["start"])
    text = str(segment["text"])
    coded = text[int(coding.start) - offset:int(coding.end) - offset] if coding.start is not None else text
    typer.echo(f"{coding.id}@{coding.version} coded {coding.code_id}: {where} “{_shortened(one_line(coded))}”")
    typer.echo("take it back with: qualkit review undo", err=True)


def _shortened(words: str) -> str:
    return words if len(words) <= SHOWN_CHARACTERS else words[: SHOWN_CHARACTERS - 1] + "…"


@review_app.command("undo")
def undo(db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None) -> None:
    """Undo your newest decision that still stands (an undo is itself kept on record; nothing is deleted)."""
    project = open_project(db, project_name, user)
    restored = project.undo()
    if restored is None:
        typer.echo("Nothing to undo: you have no decision that still stands.")
        return
    rows = [restored]
    if restored.parent_id is not None and restored.origin == "human":  # a change's new row: its suggestion is back
        rows.insert(0, project.store.coding(int(restored.parent_id)))
    typer.echo("undone: " + "; ".join(_state_in_words(row) for row in rows))


def _state_in_words(coding: Any) -> str:
    """What an undo left a coding as: a suggestion awaiting review, withdrawn, or its decision again.

    "127 (patient_expectations) is rejected again" described a change's new row, which had never been rejected.

    Example:
        >>> from qualkit.model import Coding
        >>> _state_in_words(Coding(segment_id=1, code_id="w", origin="rules", status="suggested", id=44, version=3))
        '44@3 (w) awaits review again'
        >>> _state_in_words(Coding(segment_id=1, code_id="x", origin="human", status="rejected", id=127, version=2))
        '127@2 (x) is withdrawn, kept on record'
    """
    what = f"{coding.id}@{coding.version} ({coding.code_id})"
    if coding.status == "suggested":
        return f"{what} awaits review again"
    if coding.origin == "human" and coding.status == "rejected":
        return f"{what} is withdrawn, kept on record"
    return f"{what} is {coding.status} again"


def register(app: typer.Typer) -> None:
    """Add ``qualkit review``."""
    app.add_typer(review_app, name="review")
