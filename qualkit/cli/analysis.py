"""Analysis and exchange commands: ``qualkit analyze``, ``reliability``, ``export``, ``report``, ``import-qdpx``.

Example:
    $ qualkit analyze prevalence --db study.qualkit.db --by role
    $ qualkit analyze quotes --db study.qualkit.db --code workload --n 3
    $ qualkit reliability --db study.qualkit.db --coder ana --coder ben --disagreements to_adjudicate.csv
    $ qualkit export study.qdpx --db study.qualkit.db
    $ qualkit report study.docx --db study.qualkit.db --by role
    $ qualkit import-qdpx from_nvivo.qdpx --db imported.qualkit.db
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

MinCellOption = Annotated[int | None, typer.Option(
    min=1, help="Minimum cell size for this run: a group of fewer people is merged into 'Other' or left out "
                "(default: the study's setting, 3 unless changed; 1 shows every group).")]


class Analysis(StrEnum):
    """What ``qualkit analyze`` computes."""

    prevalence = "prevalence"
    cooccurrence = "cooccurrence"
    distinctive = "distinctive"
    saturation = "saturation"
    quotes = "quotes"



def _check_outputs(*paths: Path | None) -> None:
    """Refuse an output file in a folder that does not exist, before any work ("No such file or directory" came
    bare, and after the whole computation)."""
    from qualkit.errors import InvalidInput
    from qualkit.export.format import check_folder

    given = [path for path in paths if path is not None]
    for path in given:
        check_folder(path)
    if len({path.resolve() for path in given}) < len(given):
        raise InvalidInput(f"{given[0]} is named for two outputs; the second would replace the first",
                           fix="give --out and --disagreements different file names")


def _write(frame, out: Path | None, *, index: bool = False) -> None:
    """Print a table, or write it (formula-escaped) as CSV or Excel by the extension of ``out``."""
    import pandas as pd

    from qualkit.export.tables import write_csv, write_workbook

    if out is None:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 160,
                               "display.max_colwidth", 80):
            typer.echo(frame.to_string(index=index))
        return
    replacing = out.exists()
    if out.suffix.lower() == ".xlsx":
        write_workbook(out, {out.stem: frame if index else frame.reset_index(drop=True)})
    else:
        write_csv(frame if index else frame.reset_index(drop=True), out)
    typer.echo(f"wrote {out}" + (" (replaced the file that was there)" if replacing else ""))


def analyze(
    what: Annotated[Analysis, typer.Argument(help="prevalence, cooccurrence, distinctive, saturation or quotes.")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    by: Annotated[str, typer.Option(help="Attribute to compare groups by ('auto': role where the study records it; "
                                         "'none': all together).")] = "auto",
    code: Annotated[str | None, typer.Option(help="The code (quotes; distinctive words within one code).")] = None,
    n: Annotated[int, typer.Option(min=1, help="How many quotes (or words per group).")] = 5,
    window: Annotated[int, typer.Option(min=0, help="Co-occurrence within this many turns (0: same segment).")] = 0,
    include_suggested: Annotated[bool, typer.Option(help="Also count suggestions not yet reviewed.")] = False,
    include_moderator: Annotated[bool, typer.Option(help="Count the moderator's talk too.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write a .csv or .xlsx file instead of printing.")] = None,
    min_cell: MinCellOption = None,
) -> None:
    """Compute one analysis over the project and print it (or write it with --out)."""
    _check_outputs(out)
    from qualkit.errors import InvalidInput

    project = open_project(db, project_name, user)
    group = None if by.lower() == "none" else by
    if by.lower() == "auto":  # as the report: a survey with no roles was refused "no attribute 'role'"
        group = "role" if "role" in project.segments().columns else None
    common = {"include_suggested": include_suggested, "include_moderator": include_moderator}
    guarded = {} if min_cell is None else {"min_cell": min_cell}  # else the study's own minimum cell size
    if what is Analysis.prevalence:
        result = project.prevalence(by=group, **common, **guarded)
        _write(result.table, out)
        if out is None and group is not None and not result.tests.empty:
            typer.echo("\nTests per code (Fisher 2x2; chi-square, or Fisher-Freeman-Halton by Monte Carlo when sparse; Holm-adjusted):")
            typer.echo(result.tests.to_string(index=False))
        _notes(result.notes, out)
    elif what is Analysis.cooccurrence:
        _write(project.cooccurrence(window=window, **common), out, index=True)
    elif what is Analysis.distinctive:
        if group is None:
            raise InvalidInput("distinctive words compare groups", fix="pass --by role (or another attribute)")
        words = project.distinctive_words(by=group, top=n, code=code, include_moderator=include_moderator,
                                          include_suggested=include_suggested, **guarded)
        _write(words, out)
        _notes(words.attrs.get("notes", []), out)
    elif what is Analysis.saturation:
        _write(project.saturation(**common), out)
    elif what is Analysis.quotes:
        if not code:
            raise InvalidInput("quotes need a code", fix="pass --code CODE_ID")
        found = project.quotes(code, n=n, by=group, **common, **guarded)
        _write(found, out)
        _notes(found.attrs.get("notes", []), out)


def _notes(notes: list[str], out: Path | None) -> None:
    """Print what a reader of the figures should know (to stderr when the figures went to a file)."""
    for note in notes:
        typer.echo(f"Note: {note}", err=out is not None)


def reliability(
    coder: Annotated[list[str], typer.Option("--coder", help="A coder: user name, machine:NAME or origin:ORIGIN "
                                                             "(give two or more).")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    uncoded: Annotated[str, typer.Option(help="Segments no coder coded: exclude (default) or include.")] = "exclude",
    source: Annotated[list[str] | None, typer.Option("--source", help="Limit to these transcripts (repeatable).")] = None,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the 95% intervals (0: none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the per-code table (.csv or .xlsx).")] = None,
    disagreements: Annotated[Path | None, typer.Option(help="Write the disagreements for adjudication (.csv/.xlsx).")] = None,
) -> None:
    """Inter-coder reliability per code and pooled (agreement, Cohen, Fleiss, Krippendorff) with 95% intervals."""
    _check_outputs(out, disagreements)  # before a thousand bootstrap resamples, not after
    project = open_project(db, project_name, user)
    result = project.reliability(coder, uncoded=uncoded, sources=source or None, n_boot=n_boot, seed=seed)
    typer.echo(result.summary())
    typer.echo("")
    _write(_with_intervals(result.per_code) if out is None else result.per_code, out)
    if disagreements is not None:
        _write(result.disagreements, disagreements)
    else:
        typer.echo(f"\n{len(result.disagreements)} disagreements (write them with --disagreements FILE.csv)")
    if len(result.disagreements):  # the figures compare the coders; what the team agreed since is said apart
        from qualkit.analysis.reliability import unsettled

        still_open = len(unsettled(result.disagreements, project.codings()))
        typer.echo(f"settled: {len(result.disagreements) - still_open}, open: {still_open} (settling changes the "
                   "counts of coded passages, not these figures; settle with: qualkit assign settle)")


def _with_intervals(per_code):
    """The per-code table for the terminal: each statistic as ``value [low, high]`` (95% bootstrap interval)."""
    import math

    def fmt(value: float, low: float, high: float) -> str:
        if value is None or not math.isfinite(value):
            return "n/a"
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return f"{value:.3f}"
        return f"{value:.3f} [{low:.3f}, {high:.3f}]"

    frame = per_code[[c for c in per_code.columns if not c.endswith(("_low", "_high"))]].copy()
    for stat in ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1"):
        if stat in frame:
            frame[stat] = [fmt(v, lo, hi) for v, lo, hi in zip(per_code[stat], per_code[f"{stat}_low"],
                                                               per_code[f"{stat}_high"], strict=True)]
    return frame


def _export_choices() -> tuple[str, str]:
    """Help texts listing every registered export: (file kinds, format names)."""
    from qualkit.export.registry import EXPORTS

    files = ", ".join(entry.suffixes[0] for entry in EXPORTS if entry.suffixes)
    return files, ", ".join(entry.name for entry in EXPORTS)


EXPORT_FILES, EXPORT_NAMES = _export_choices()


def export(
    path: Annotated[Path, typer.Argument(help=f"File to write: {EXPORT_FILES}, or a folder for CSV files.")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    format: Annotated[str | None, typer.Option(help=f"{EXPORT_NAMES} (default: from the extension).")] = None,
    include_suggested: Annotated[bool, typer.Option(help="Also export suggestions not yet reviewed.")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="ATTR", help="Participant attribute the prevalence table groups by (role, site, ...; "
                                     "'none': all participants together). Default: role where the study records "
                                     "it. Tables and reports only.", show_default=False)] = None,
) -> None:
    """Export the project in any registered format: tables (Excel, CSV), REFI-QDA (.qdpx, .qdc), reports."""
    from qualkit.errors import InvalidInput
    from qualkit.export.registry import export_for
    from qualkit.export.tables import holds_qualkit_tables

    project = open_project(db, project_name, user)
    entry = export_for(path, format)
    options = {"include_suggested": include_suggested} if "include_suggested" in entry.options else {}
    if by is not None:
        if "by" not in entry.options:
            raise InvalidInput(f"the {entry.label} has no prevalence table to group by {by!r}",
                               fix="leave out --by, or export tables (.xlsx, a CSV folder) or a report")
        from qualkit.analysis import grouping

        # Checked before "writing…" is said: a typo'd attribute wrote nothing, after saying it was writing.
        options["by"] = grouping(project.store.segments_df(), by, "group the prevalence table by")
    # A file export replaces a file of that name (the CSV folder export refuses files it did not write);
    # say so, so nobody learns it from a missing file.
    if entry.folder:
        replacing = {path} if holds_qualkit_tables(path) else set()
    else:
        replacing = {p for p in (path, *(path.with_suffix(s) for s in entry.suffixes)) if p.is_file()}
    typer.echo(f"writing {path} ({entry.label})…", err=True)  # seconds of silence read as a hang
    written = project.export(path, entry.name, **options)
    note = (" (replaced the earlier export in that folder)" if entry.folder else " (replaced the file that was there)"
            ) if Path(written) in replacing else ""
    typer.echo(f"wrote {written}{note}" + (f": {entry.contents(project.store, **options)}" if entry.contents else ""))


def report(
    path: Annotated[Path, typer.Argument(help="Report file: .md, .html or .docx.")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    format: Annotated[str | None, typer.Option(help="md, html or docx (default: from the extension).")] = None,
    by: Annotated[str, typer.Option(help="Participant attribute for prevalence and distinctive words ('auto': "
                                         "role where the study records it; 'none': everyone together).")] = "auto",
    coder: Annotated[list[str] | None, typer.Option("--coder", help="Coders for the reliability section "
                                                                    "(default: those assigned to double-code, "
                                                                    "else every human coder).")] = None,
    include_suggested: Annotated[bool, typer.Option(help="Also count suggestions not yet reviewed.")] = False,
    quotes: Annotated[int, typer.Option(min=0, help="Exemplar quotes per code.")] = 3,
    figures: Annotated[bool, typer.Option(help="Embed charts.")] = True,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for reliability intervals.")] = 1000,
    min_cell: MinCellOption = None,
) -> None:
    """Write the study report: methods, codebook, prevalence with a chart, quotes, reliability, figures."""
    project = open_project(db, project_name, user)
    replacing = path.is_file()
    typer.echo(f"writing the report {path}" + (f" (reliability intervals from {n_boot:,} resamples)" if n_boot else "")
               + "…", err=True)
    written = project.report(path, format, by=None if by.lower() == "none" else by, coders=coder or None,
                             include_suggested=include_suggested, quotes_per_code=quotes, figures=figures,
                             n_boot=n_boot, min_cell=min_cell)
    typer.echo(f"wrote {written}" + (" (replaced the file that was there)" if replacing else ""))


def import_qdpx(
    path: Annotated[Path, typer.Argument(help="A REFI-QDA project file (.qdpx) from NVivo, ATLAS.ti, MAXQDA, ...")],
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Import a .qdpx project into the project at --db, or into a new one (default: beside the file)."""
    from qualkit.errors import ProjectNotFound
    from qualkit.project import Project

    target = None
    if db is not None:
        try:
            target = Project.open(db, project_name, user=user)
        except ProjectNotFound:
            target = db
    result = Project.import_qdpx(path, target, name=project_name if not isinstance(target, Project) else None,
                                 user=user)
    typer.echo(result.import_report.summary())
    typer.echo(f"project {result.name!r} in {result.store.engine.url.render_as_string()}")


def register(app: typer.Typer) -> None:
    """Add the analysis and exchange commands to the CLI."""
    app.command()(analyze)
    app.command()(reliability)
    app.command()(export)
    app.command()(report)
    app.command("import-qdpx")(import_qdpx)
