"""Ingestion commands: ``qualkit import`` (transcripts into a project) and ``qualkit deidentify``.

Example:
    $ qualkit import corpora/burnout_focus_groups/transcripts --db study.qualkit.db \\
          --participants corpora/burnout_focus_groups/participants.csv
    $ qualkit import interview.docx --dry-run
    $ qualkit deidentify raw/*.txt --participants roster.csv --out deidentified/ --key ~/secure/key.json
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

PathsArgument = Annotated[list[Path], typer.Argument(help="Transcript files, or folders of them.")]
ParticipantsOption = Annotated[
    Path | None, typer.Option("--participants", help="participants.csv (or .xlsx): id, pseudonym, attributes.")]
AliasesOption = Annotated[
    str | None, typer.Option("--aliases", help='JSON file or inline JSON mapping label -> speaker, e.g. '
                                               '\'{"Dr Smith": "Jill Smith, MD"}\'.')]


def _format_names() -> list[str]:
    from qualkit.ingest.readers import format_names

    return format_names()


def _aliases(value: str | None) -> dict[str, str] | None:
    from qualkit.errors import InvalidInput

    if value is None:
        return None
    text = value if value.lstrip().startswith("{") else None
    where = None
    if text is None:
        where = value
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"the aliases file cannot be read ({exc.strerror})", path=value,
                               fix="pass a JSON file or inline JSON such as '{\"Dr Smith\": \"Jill Smith\"}'") from None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the aliases are not valid JSON ({exc.msg})", path=where, line=exc.lineno,
                           fix='write them as {"label as written": "speaker"}') from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise InvalidInput("the aliases must be one JSON object of label -> speaker strings", path=where,
                           fix='write them as {"label as written": "speaker"}')
    return mapping


def _print_report(report: Any) -> None:
    typer.echo(report.summary())
    if getattr(report, "skipped", None):
        return
    if report.label_style:
        typer.echo(f"  label style: {report.label_style}")
    typer.echo(f"  moderators: {', '.join(report.moderators) if report.moderators else 'none detected'}")
    if report.marks:
        typer.echo(f"  non-speech marks: {report.marks}")


def _print_skipped(reports: Any) -> None:
    """Print the files of a folder that were not imported: one line each, and those qualkit cannot read in one."""
    from qualkit.ingest.folders import UNREADABLE, unreadable_note

    for report in reports:
        if not (report.skipped or "").startswith(UNREADABLE):
            _print_report(report)
    note = unreadable_note(reports)
    if note:
        typer.echo(note)


def import_(
    paths: PathsArgument,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    participants: ParticipantsOption = None,
    aliases: AliasesOption = None,
    segment_by: Annotated[str, typer.Option("--segment-by", help="turn, sentence or window.")] = "turn",
    window: Annotated[int, typer.Option(help="Sentences per window (with --segment-by window).")] = 3,
    encoding: Annotated[str | None, typer.Option(help="Text encoding, instead of detecting it.")] = None,
    format: Annotated[str | None, typer.Option("--format", help="Reader to use instead of the extension: "
                                                                + ", ".join(_format_names()) + ".")] = None,
    text_column: Annotated[str | None, typer.Option(help="CSV/Excel: the column holding the text.")] = None,
    max_mb: Annotated[float, typer.Option(help="Refuse files larger than this (MB).")] = 50.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only read and report; store nothing.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    suggest: Annotated[bool, typer.Option("--suggest", help="Then suggest codes for the study (see qualkit "
                                                             "suggest).")] = False,
) -> None:
    """Import transcripts into a project and print what was understood of each file."""
    from qualkit.errors import ImportFailed, InvalidInput
    from qualkit.ingest.folders import select_transcripts

    chosen = select_transcripts(paths, participants=participants)
    files = chosen.files
    if not files:
        _print_skipped(chosen.skipped)
        from qualkit.ingest.readers import suffixes

        raise InvalidInput("no transcript files found", fix=f"pass files or folders holding {' '.join(suffixes())} files")
    options: dict[str, Any] = {"max_bytes": int(max_mb * 1_000_000), "window": window}
    if encoding:
        options["encoding"] = encoding
    if format:
        options["format"] = format
    if text_column:
        options["columns"] = {"text": text_column}
    alias_map = _aliases(aliases)
    if dry_run:
        from qualkit.ingest import read_participants, read_transcript

        roster = read_participants(participants) if participants else None
        _print_skipped(chosen.skipped)
        failures = []
        for path in files:
            try:
                source = read_transcript(path, participants=roster, aliases=alias_map, segment_by=segment_by,
                                         **options)
            except Exception as error:  # as in a real import: every file is tried, failures listed at the end
                from qualkit.errors import QualkitError
                from qualkit.ingest.batch import unexpected_reason

                reason = error.render("cli") if isinstance(error, QualkitError) else unexpected_reason(error, path)
                failures.append((str(path), reason))
                continue
            _print_report(source.import_report)
        if failures:
            raise ImportFailed(failures, total=len(files))
        return
    from qualkit.project import Project

    project = Project.open(db, project_name, user=user)
    try:
        with warnings.catch_warnings():  # the files qualkit cannot read are printed below, in one line
            warnings.filterwarnings("ignore", message="skipped .* qualkit cannot read")
            reports = project.import_transcripts(paths, participants=participants, aliases=alias_map,
                                                 segment_by=segment_by, progress=progress, **options)
    except ImportFailed as error:
        _print_skipped([report for report in error.reports if report.skipped])
        for report in error.reports:
            if not report.skipped:
                _print_report(report)
        raise
    _print_skipped([report for report in reports if report.skipped])
    for report in reports:
        if not report.skipped:
            _print_report(report)
    again = sum(1 for report in reports if (getattr(report, "skipped", None) or "").startswith("already imported"))
    passed_over = sum(1 for report in reports if getattr(report, "skipped", None)) - again
    note = f"; {again} already imported, skipped" if again else ""
    note += f"; {passed_over} other file(s) of the folders not imported (see above)" if passed_over else ""
    typer.echo(f"imported {len(reports) - again - passed_over} file(s) into project {project.name!r}{note}")
    if suggest:
        from qualkit.cli.suggest import run_suggest

        run_suggest(project, progress=progress)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies somewhere under it (both resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def deidentify(
    paths: PathsArgument,
    out: Annotated[Path, typer.Option("--out", help="Folder for the de-identified transcripts (.deid.txt).")],
    key: Annotated[Path, typer.Option("--key", help="Key file (JSON), kept apart from the data; reused if it "
                                                    "exists so pseudonyms stay the same across runs.")],
    participants: ParticipantsOption = None,
    aliases: AliasesOption = None,
    names: Annotated[Path | None, typer.Option(help="Extra names to replace, one per line.")] = None,
    report: Annotated[Path | None, typer.Option(help="CSV listing every replacement with its original and context, "
                                                      "so as secret as the key (default: beside the key, "
                                                      "KEY.report.csv; never inside OUT).")] = None,
    ner: Annotated[bool, typer.Option(help="Also use spaCy NER when a trained pipeline is installed.")] = True,
) -> None:
    """Replace names, emails, phone numbers and URLs with consistent pseudonyms ([P01], [PERSON-2]).

    All or nothing: every file is read and de-identified first; only then are the key, the report and
    the outputs written, so a file that fails leaves no output without its key.
    """
    import pandas as pd

    from qualkit.errors import InvalidInput
    from qualkit.export.tables import write_csv
    from qualkit.ingest import read_transcript
    from qualkit.ingest.deidentify import Deidentifier
    from qualkit.ingest.readers import transcript_files

    files = transcript_files(paths)
    if not files:
        raise InvalidInput("no transcript files found", fix="pass files or folders of transcripts")
    report_path = report or key.with_name(f"{key.stem}.report.csv")
    for what, path in (("key", key), ("replacement report", report_path)):
        if _inside(path.parent, out):
            raise InvalidInput(f"the {what} would sit in the same folder as the de-identified data", path=path,
                               fix=f"write the {what} somewhere else, e.g. --key ~/secure/key.json "
                                   "(the report goes beside the key)")
    if report_path.resolve() == key.resolve():
        raise InvalidInput("the report and the key are the same file", path=key, fix="give --report another name")
    extra: list[str] = []
    if names is not None:
        try:
            extra = Path(names).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"the names file cannot be read ({exc})", path=names,
                               fix="pass a UTF-8 text file with one name per line") from None
    deidentifier = Deidentifier(participants=participants, aliases=_aliases(aliases), names=extra,
                                ner="auto" if ner else False, key=key)
    targets: dict[Path, Path] = {}
    results = []
    for path in files:
        target = out / f"{path.stem}.deid.txt"
        if target in targets:
            raise InvalidInput(f"{targets[target]} and {path} would both be written to {target}", path=path,
                               fix="rename one of the two files, or de-identify them into different --out folders")
        targets[target] = path
        source = read_transcript(path, participants=deidentifier.participants or None,
                                 aliases=deidentifier.aliases or None)
        results.append((path, target, deidentifier.deidentify(source)))
    # Everything was read: write the secrets first, then the data.
    key.parent.mkdir(parents=True, exist_ok=True)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    deidentifier.write_key(key)
    write_csv(pd.concat([result.report() for _, _, result in results], ignore_index=True), report_path)
    out.mkdir(parents=True, exist_ok=True)
    for path, target, result in results:
        replaced = " (replaced the earlier output)" if target.exists() else ""
        target.write_text(result.source.text, encoding="utf-8")
        typer.echo(f"{path} -> {target}: {len(result.replacements)} replacement(s){replaced}")
    roster = deidentifier.participants_table()
    if len(roster):  # with the original list the [P01]s matched nobody: group figures lost every role (a stranger)
        roster_path = out / "participants.deid.csv"
        write_csv(roster, roster_path)
        typer.echo(f"{roster_path}: the participants by pseudonym, without names (read its columns before sharing); "
                   f"import with: qualkit import {out} --participants {roster_path}")
    typer.echo(f"review every replacement in {report_path}; the key is in {key} (keep both apart from the data)")
    if ner and not deidentifier.ner_used:  # a researcher took the output for de-identified; names no list held stayed
        typer.echo("note: no trained spaCy pipeline is installed, so names were found only from the participants, "
                   "aliases and names files, speaker labels, titles (Dr, Nurse ...) and a list of common first names; "
                   "read the output for other people's names and places before sharing it", err=True)


def remove_transcript(
    name: Annotated[str, typer.Argument(help="The transcript's name in the study (its file name).")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Remove a transcript imported by mistake (refused once anyone has decided on it)."""
    from qualkit.project import Project

    project = Project.open(db, project_name, user=user)
    project.remove_transcript(name)
    typer.echo(f"removed {name} from project {project.name!r} (importing the file again brings it back)")


def redact(
    name: Annotated[str, typer.Argument(help="The transcript's name in the study (its file name).")],
    words: Annotated[str, typer.Argument(help="The words to take out, e.g. a name, as they are written.")],
    replacement: Annotated[str, typer.Option("--with", help="What stands in their place.")] = "[redacted]",
    case_sensitive: Annotated[bool, typer.Option(help="Match upper and lower case exactly.")] = False,
    part_words: Annotated[bool, typer.Option(help="Also inside longer words (Ann in Anne).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Replace without asking (the places are listed first).")] = False,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Take words out of a coded transcript (e.g. a name an ethics board asks removed); codings keep their words.

    Lists every place first and asks before replacing. It cannot be undone: export the study first to keep
    a copy. Memos are not changed.
    """
    project = open_project(db, project_name, user)
    options = {"whole_words": not part_words, "case_sensitive": case_sensitive}
    places = project.redaction_preview(name, words, **options)
    if places.empty:
        project.redact(name, words, replacement, **options)  # says that the words do not occur, and how to fix it
    typer.echo(f"{len(places)} place{'s' if len(places) != 1 else ''} in {name}:")
    for place in places.itertuples():
        typer.echo(f"  {place.where}: {place.context}")
    if not yes and not typer.confirm(f"Replace {'them' if len(places) != 1 else 'it'} with {replacement!r}? "
                                     "This cannot be undone", default=False):
        typer.echo("nothing was replaced")
        raise typer.Exit(1)
    counts = project.redact(name, words, replacement, expected=len(places), **options)
    typer.echo(f"replaced {counts['passages']} in {name}; {counts['codings']} codings kept their words "
               f"({counts['theme_runs']} saved theme runs updated)")


def withdraw(
    participant: Annotated[str, typer.Argument(help="The participant's id (or a speaker's name) in the study.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record (e.g. consent withdrawn by email).")],
    yes: Annotated[bool, typer.Option("--yes", help="Withdraw without asking (the turns are listed first).")] = False,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Take a participant who withdrew consent out of the study: their turns, codings and attributes.

    Lists every turn of theirs per transcript (with the codings on it and the memos written on it, in full)
    first and asks before withdrawing. It cannot be undone: their words become [withdrawn] and leave the
    database, their name leaves their speaker labels, and the memos on their turns are deleted.
    """
    from qualkit.review.withdrawal import IRREVERSIBLE

    project = open_project(db, project_name, user)
    turns = project.withdrawal_preview(participant)
    label = turns["participant"].iloc[0] if len(turns) else participant
    typer.echo(f"{_counted(len(turns), 'turn')} of {label} in {_counted(turns['source'].nunique(), 'transcript')}, "
               f"{_counted(int(turns['codings'].sum()), 'coding')} on them, "
               f"{_counted(int(turns['memos'].sum()), 'memo')} written on them (deleted with them):")
    for source, theirs in turns.groupby("source", sort=False):
        typer.echo(f"  {source}:")
        for turn in theirs.itertuples():
            where = f"turn {turn.turn}" if turn.turn is not None and turn.turn == turn.turn else "a passage"
            excerpt = turn.text if len(turn.text) <= 60 else turn.text[:59] + "…"
            typer.echo(f"    {where} ({turn.speaker}): {_counted(turn.codings, 'coding')}, "
                       f"{_counted(turn.memos, 'memo')}: {' '.join(excerpt.split())}")
            for note in turn.memo_notes:
                earlier = ", deleted earlier" if note["deleted"] else ""
                typer.echo(f"      memo {note['id']} by {note['author'] or 'nobody named'}{earlier}: "
                           f"{' '.join(str(note['text']).split())}")
    typer.echo(IRREVERSIBLE)
    if not yes and not typer.confirm(f"Withdraw {label}?", default=False):
        typer.echo("nothing was withdrawn")
        raise typer.Exit(1)
    counts = project.withdraw_participant(participant, reason=reason, expected=len(turns))
    typer.echo(f"withdrew {counts['participant']}: {_counted(counts['turns'], 'turn')} in "
               f"{_counted(counts['transcripts'], 'transcript')} replaced by [withdrawn], "
               f"{_counted(counts['codings'], 'coding')} removed, {_counted(counts['memos'], 'memo')} on them "
               f"deleted ({counts['theme_runs']} saved theme runs updated)")


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def register(app: typer.Typer) -> None:
    """Add the ingestion commands (``import``, ``remove-transcript``, ``redact``, ``withdraw``, ``deidentify``)."""
    app.command("import")(import_)
    app.command("remove-transcript")(remove_transcript)
    app.command("redact")(redact)
    app.command("withdraw")(withdraw)
    app.command("deidentify")(deidentify)
