"""Team commands: ``qualkit users add/remove/role/passwd/list`` and ``qualkit assign ...`` (double-coding).

Whoever acts is ``--user`` (or ``$QUALKIT_USER``) with the role the database gives them
(:mod:`qualkit.access`): only administrators manage users and roles, and nobody raises their own role.
Without a named user a local SQLite file acts as its owner; a shared database needs ``--user``. Passwords
are prompted for (hidden, twice) or read from standard input with ``--password-stdin``; they are stored
only as salted bcrypt hashes.

Example:
    $ qualkit users add ana --role coder --db study.qualkit.db
    $ qualkit assign add focus_group_1.txt ana ben --db study.qualkit.db
    $ qualkit assign disagreements focus_group_1.txt --db study.qualkit.db
    $ qualkit assign settle focus_group_1.txt 3 workload --applies --note "both meant shifts" --db study.qualkit.db
    $ qualkit assign unsettle 45@2 --db study.qualkit.db
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

users_app = typer.Typer(help="Manage the review app's users (roles: admin, coder, viewer).", no_args_is_help=True)
assign_app = typer.Typer(help="Assign transcripts to coders for (blind) double-coding; settle their disagreements.",
                         no_args_is_help=True)


def _engine(db: str | None):
    from qualkit.store.engine import project_engine

    return project_engine(db)


def _manager(engine, user: str | None, name: str | None = None, role: str | None = None) -> str:
    """The acting user's name, once the one rule says they may make this change to the team."""
    from qualkit.access import Access, check_user_change

    access = Access(engine, user)
    check_user_change(engine, access.require("manage_users"), name, role)
    return access.name


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Log-in name (no spaces).")],
    role: Annotated[str, typer.Option(help="admin, coder or viewer.")] = "coder",
    display_name: Annotated[str | None, typer.Option(help="Name shown in the app.")] = None,
    codebook: Annotated[bool, typer.Option("--codebook/--no-codebook",
                                           help="Allow a coder to edit the codebook.")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Add a user (you are asked for their password)."""
    from qualkit.users import add_user

    engine = _engine(db)
    acting = _manager(engine, user, name, role)
    added = add_user(engine, name, _password(password_stdin), role, display_name=display_name,
                     can_edit_codebook=codebook, actor=acting)
    typer.echo(f"added {added.name} ({added.role.value})")


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="Log-in name.")], db: DbOption = None,
                 user: UserOption = None) -> None:
    """Remove a user's access (their decisions and history stay)."""
    from qualkit.users import remove_user

    engine = _engine(db)
    remove_user(engine, name, actor=_manager(engine, user))
    typer.echo(f"removed {name}")


@users_app.command("role")
def users_role(
    name: Annotated[str, typer.Argument(help="Log-in name.")],
    role: Annotated[str, typer.Argument(help="admin, coder or viewer.")],
    codebook: Annotated[bool | None, typer.Option("--codebook/--no-codebook",
                                                  help="Allow (or stop) a coder editing the codebook.")] = None,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Change a user's role."""
    from qualkit.users import set_role

    engine = _engine(db)
    acting = _manager(engine, user, name, role)
    if codebook and name == acting:  # allowing oneself to edit the codebook is raising one's own rights
        from qualkit.access import Access, check_user_change

        check_user_change(engine, Access(engine, user).user(), name, "admin")
    changed = set_role(engine, name, role, can_edit_codebook=codebook, actor=acting)
    extra = " (may edit the codebook)" if changed.codebook_editor and changed.role.value == "coder" else ""
    typer.echo(f"{changed.name} is now {changed.role.value}{extra}")


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="Log-in name.")],
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    db: DbOption = None,
    user: UserOption = None,
) -> None:
    """Set a new password for a user (administrators; anyone for their own)."""
    from qualkit.access import Access
    from qualkit.users import set_password

    engine = _engine(db)
    acting = Access(engine, user)
    if name != acting.name or not acting.user().registered:  # one's own password is one's own business
        _manager(engine, user)
    set_password(engine, name, _password(password_stdin), actor=acting.name)
    typer.echo(f"new password set for {name}")


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List the users and their roles."""
    from qualkit.users import list_users

    frame = list_users(_engine(db))
    if frame.empty:
        typer.echo("no users yet; add one with `qualkit users add NAME --role admin`")
        return
    for row in frame.itertuples():
        extra = " +codebook" if row.can_edit_codebook and row.role == "coder" else ""
        shown = f" ({row.display_name})" if isinstance(row.display_name, str) and row.display_name.strip() else ""
        typer.echo(f"{row.name}{shown}: {row.role}{extra}")



@assign_app.command("add")
def assign_add(
    source: Annotated[str, typer.Argument(help="Transcript name as imported (see `qualkit info`).")],
    coders: Annotated[list[str], typer.Argument(help="Coders to assign (two for blind double-coding).")],
    blind: Annotated[bool, typer.Option("--blind/--no-blind",
                                        help="Coders cannot see each other's decisions until both are done.")] = True,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Assign a transcript to coders."""
    from qualkit.review.double_coding import blind_note

    project = open_project(db, project_name, user)
    added = project.assign(source, coders, blind=blind)
    note = blind_note(project.store, source, coders, assigner=project.user) if blind else ""
    typer.echo(f"assigned {source} to {', '.join(coders)}{' (blind)' if blind else ''}: {added} new.{note}")


@assign_app.command("remove")
def assign_remove(
    source: Annotated[str, typer.Argument(help="Transcript name.")],
    coder: Annotated[str, typer.Argument(help="Coder to take off.")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Take a coder off a transcript (their decisions stay)."""
    from qualkit.review.double_coding import unassign

    project = open_project(db, project_name, user)
    unassign(project.store, source, coder, actor=project.actor())
    typer.echo(f"{coder} is no longer assigned to {source}")


@assign_app.command("done")
def assign_done(
    source: Annotated[str, typer.Argument(help="Transcript name.")],
    coder: Annotated[str, typer.Option(help="Whose assignment (default: --user).")] = "",
    reopen: Annotated[bool, typer.Option(help="Reopen instead of marking done.")] = False,
    anyway: Annotated[bool, typer.Option("--anyway", help="Mark done though suggestions are left unjudged.")] = False,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Mark an assignment done (or reopen it); refused while your queue holds suggestions there, unless --anyway."""
    from qualkit.display import counted
    from qualkit.errors import InvalidInput
    from qualkit.review.decisions import review_queue

    project = open_project(db, project_name, user)
    if not reopen and not anyway and (coder or project.user) == project.user:
        # Each suggestion left unjudged counts as the coder's "no" in the agreement figures (kappa fell to 0).
        source_id = int(project.store.source(source, with_raw=False).id)
        _, left = review_queue(project.store, actor=project.actor(), limit=1, source_id=source_id)
        if left:
            raise InvalidInput(f"you have not judged {counted(left, 'suggestion')} on {source} yet; marked done, "
                               "each counts as your “no” in the agreement figures; nothing was marked",
                               fix=f"review them (qualkit review queue --source {source}), or pass --anyway")
    project.mark_done(source, coder=coder or None, done=not reopen)
    typer.echo(f"{source}: {coder or project.user} {'reopened' if reopen else 'done'}")


@assign_app.command("list")
def assign_list(db: DbOption = None, project_name: ProjectNameOption = None) -> None:
    """List assignments."""
    frame = open_project(db, project_name, None).assignments()
    if frame.empty:
        typer.echo("no assignments yet")
        return
    for row in frame.itertuples():
        typer.echo(f"{row.source}: {row.coder}{' blind' if row.blind else ''} {'done' if row.done else 'open'}")


def _disagreements(project, transcript: str):
    """The transcript's row and its disagreements, each with its segment's kind and respondent (to name its place)."""
    from qualkit.cli.places import transcript_row

    source = transcript_row(project, transcript)
    frame = project.disagreements(int(source["id"]))
    segments = project.segments(source=int(source["id"]))[["id", "kind", "participant"]]
    frame = frame.merge(segments.rename(columns={"id": "segment_id"}), on="segment_id", how="left")
    return source, frame


def _settled(row: dict) -> str:
    """A disagreement's state as the list shows it: ``open``, or how it was settled with the settlement's ID@VERSION."""
    import pandas as pd

    if row["consensus"] is None or pd.isna(row["consensus"]):
        return "open"
    agreed = "applies" if row["consensus"] == "accepted" else "does not apply"
    return f"settled: {agreed} ({int(row['consensus_id'])}@{int(row['consensus_version'])})"


@assign_app.command("disagreements")
def assign_disagreements(
    transcript: Annotated[str, typer.Argument(help="Transcript name.", show_default=False)],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """List where the coders of a finished double-coded transcript differ, each open or settled (ID@VERSION)."""
    from qualkit.cli.places import one_line, place

    project = open_project(db, project_name, user)
    source, frame = _disagreements(project, transcript)
    name = str(source["name"])
    coders = project.assignments().query("source == @name")["coder"].tolist()
    if frame.empty:
        typer.echo(f"{name}: the coders agree everywhere they judged; nothing to settle")
        return
    for number, row in enumerate(frame.to_dict("records"), start=1):
        said = "  ".join(f"{coder}: {row.get(coder, '-')}" for coder in coders)
        typer.echo(f"{number}. {place(row, name)}  {row['code_id']}  {said}  {_settled(row)}")
        text = one_line(str(row["text"]))
        typer.echo(f"    “{text if len(text) <= 160 else text[:159] + '…'}”")
    still_open = int(frame["consensus"].isna().sum())
    typer.echo(f"{len(frame)} disagreements, {still_open} open (yes: applied, no: rejected, -: not judged, which "
               f"counts as no); settle with: qualkit assign settle {name} TURN CODE --applies|--does-not-apply",
               err=True)


@assign_app.command("settle")
def assign_settle(
    transcript: Annotated[str, typer.Argument(help="Transcript name.", show_default=False)],
    turn: Annotated[str, typer.Argument(help="The turn's number, as 'qualkit assign disagreements' lists it.",
                                        show_default=False)],
    code: Annotated[str, typer.Argument(help="The code (its id).", show_default=False)],
    applies: Annotated[bool, typer.Option("--applies/--does-not-apply", help="What the coders agreed: the code "
                                          "applies to the passage, or it does not.", show_default=False)],
    note: Annotated[str, typer.Option("--note", help="Why (kept with the settlement).")] = "",
    words: Annotated[str | None, typer.Option("--words", help="Words of the passage, when the turn holds several "
                                              "disagreements on the code (a study coded sentence by sentence).")
                     ] = None,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Settle one disagreement of a finished double-coded transcript; both coders' own decisions stay on record."""
    from qualkit.cli.places import find_words, place, turn_segments
    from qualkit.errors import InvalidInput

    project = open_project(db, project_name, user)
    source, frame = _disagreements(project, transcript)
    name = str(source["name"])
    segments = turn_segments(project, name, turn)
    where = place(segments.iloc[0], name)
    if words is not None:
        segments = segments[segments["id"] == int(find_words(segments, words, where=where)[0]["id"])]
    rows = frame[frame["segment_id"].isin(segments["id"].astype(int)) & (frame["code_id"] == code)]
    if rows.empty:
        raise InvalidInput(f"the coders do not disagree on {code} in {where}; nothing was settled",
                           fix=f"list the disagreements with: qualkit assign disagreements {name}")
    if len(rows) > 1:
        raise InvalidInput(f"{where} holds {len(rows)} disagreements on {code} (one per sentence); nothing was settled",
                           fix='say which with --words "words of that sentence"')
    row = rows.to_dict("records")[0]
    if _settled(row) != "open":
        card = f"{int(row['consensus_id'])}@{int(row['consensus_version'])}"
        raise InvalidInput(f"the disagreement on {code} in {where} is {_settled(row)}; nothing was changed",
                           fix=f"take it back first with: qualkit assign unsettle {card}, then settle it again")
    settled = project.adjudicate(int(row["segment_id"]), code, apply=applies, note=note)
    typer.echo(f"{settled.id}@{settled.version} settled: {code} {'applies' if applies else 'does not apply'} "
               f"to {where}")
    typer.echo(f"take it back with: qualkit assign unsettle {settled.id}@{settled.version}", err=True)


@assign_app.command("unsettle")
def assign_unsettle(
    card: Annotated[str, typer.Argument(help="The settlement as ID@VERSION, as 'qualkit assign disagreements' (or "
                                             "'settle') printed it.", show_default=False)],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Take back a settlement (kept on record): its disagreement is open again."""
    from qualkit.cli.review import parse_cards

    (coding_id, version), = parse_cards([card])
    project = open_project(db, project_name, user)
    restored = project.unsettle(coding_id, expected_version=version)
    typer.echo(f"{coding_id}@{version} taken back ({restored.code_id}; now {restored.id}@{restored.version}): "
               "the disagreement is open again")


def register(app: typer.Typer) -> None:
    """Add the ``users`` and ``assign`` command groups."""
    app.add_typer(users_app, name="users")
    app.add_typer(assign_app, name="assign")
