"""Theme commands: ``qualkit themes discover|show|runs|promote|merge|split|rename|discard|figure``.

A thin layer over ``Project`` (``qualkit.project``) and ``qualkit.figures.themes``; every run and edit is
saved in the project, with the acting user in the event log.

Example:
    $ qualkit themes discover --db demo.qualkit.db
    $ qualkit themes discover --db demo.qualkit.db --by session --by role --max-outlier-share 0.1
    $ qualkit themes show --db demo.qualkit.db
    $ qualkit themes promote 4 --db demo.qualkit.db --name "Parking and commute"
    $ qualkit themes figure map theme_map.png --db demo.qualkit.db
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

themes_app = typer.Typer(help="Discover emergent themes, review and edit them, make codes of them.",
                         no_args_is_help=True)
RunOption = Annotated[int | None, typer.Option("--run", help="Theme run id (default: the latest).")]
FIGURES = ("map", "words", "prevalence", "hierarchy")



def _print(result: Any, *, limit: int = 40) -> None:
    typer.echo(repr(result))
    for theme in result.active[:limit]:
        code = theme.matched_code or (f"new? {theme.candidate['id']}" if theme.candidate else "")
        typer.echo(f"  {theme.id:>3}  {theme.size:>5}  {theme.label[:50]:<50}  {code}")
    if len(result.active) > limit:
        typer.echo(f"  ... and {len(result.active) - limit} more")


@themes_app.command()
def discover(
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
    name: Annotated[str, typer.Option(help="A name for this run.")] = "",
    level: Annotated[str, typer.Option(help="sentence, window or turn.")] = "sentence",
    window: Annotated[int, typer.Option(help="Sentences per window with --level window.")] = 3,
    min_words: Annotated[int, typer.Option(help="Leave out shorter sentences (\"Yeah, exactly.\").")] = 4,
    by: Annotated[list[str] | None, typer.Option(
        "--by", help="Attribute to compute prevalence by (repeat it; default: group-like attributes).")] = None,
    max_outlier_share: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Leave at most this share of sentences unassigned.")] = 0.15,
    min_cluster_size: Annotated[int | None, typer.Option(help="Smallest theme (default: from corpus size).")] = None,
    n_themes: Annotated[int | None, typer.Option(help="Fix the number of themes (KMeans).")] = None,
    codebook: Annotated[bool, typer.Option("--codebook/--no-codebook", help="Relate themes to the codebook.")] = True,
    engine: Annotated[str, typer.Option(help="auto, bertopic or sklearn.")] = "auto",
    embedder: Annotated[str, typer.Option(help="auto (static from 5,000 sentences, else MiniLM; LSA without "
                                               "extras), minilm, static, lsa or a model folder.")] = "auto",
    reduction: Annotated[str, typer.Option(help="auto (PCA), pca or umap.")] = "auto",
    seed: Annotated[int, typer.Option(help="Random state (same seed, same themes).")] = 0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress",
                                           help="Name each step on stderr as it starts.")] = True,
) -> None:
    """Find emergent themes in participant talk and save the run in the project."""
    from qualkit.embeddings import resolve_tier

    resolve_tier(embedder)  # an unknown name is a one-line error before the project is opened
    project = open_project(db, project_name, user)
    result = project.discover_themes(codebook=codebook, name=name, level=level, window=window, min_words=min_words,
                                     by=by or None, max_outlier_share=max_outlier_share,
                                     min_cluster_size=min_cluster_size, n_themes=n_themes, engine=engine,
                                     reduction=reduction, random_state=seed,
                                     embedder=None if embedder == "auto" else embedder,
                                     progress=step_printer() if progress else False)
    _print(result)


def step_printer() -> Callable[[int, int, str], None]:
    """A progress callback printing one line per step on stderr, with the seconds so far.

    A bar would sit still through a step of a minute; a line per step says what is running.

    Example:
        >>> step_printer()(2, 6, "embedding 200 sentences")  # doctest: +SKIP
        [    0 s] step 3 of 6: embedding 200 sentences
    """
    started = time.monotonic()

    def step(done: int, total: int, message: str) -> None:
        where = "starting" if not total else "done" if done >= total else f"step {done + 1} of {total}"
        typer.echo(f"[{time.monotonic() - started:5.0f} s] {where}: {message}", err=True)

    return step


@themes_app.command()
def show(db: DbOption = None, project_name: ProjectNameOption = None, run: RunOption = None,
         theme: Annotated[int | None, typer.Option(help="Show one theme in full.")] = None) -> None:
    """Show a saved run's themes, or one theme with its words, codes, quotes and prevalence."""
    result = open_project(db, project_name, None).themes(run)
    if theme is None:
        _print(result, limit=200)
        return
    t = result.theme(theme)
    typer.echo(f"theme {t.id}: {t.label} ({t.size} excerpts, {t.share:.0%}) [{t.status}]")
    typer.echo(f"  words: {', '.join(t.words)}")
    for code in t.codes:
        typer.echo(f"  code {code['code_id']}: similarity {code['similarity']:.2f}")
    if t.candidate:
        typer.echo(f"  candidate code {t.candidate['id']!r} ({t.candidate['name']}): {t.candidate['definition']}")
    for quote in t.quotes:
        typer.echo(f"  \"{quote['text']}\" ({quote['speaker']}, {quote['group']})")
    for attribute, shares in t.prevalence.items():
        typer.echo(f"  by {attribute}: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
    for line in t.history:
        typer.echo(f"  history: {line}")


@themes_app.command()
def runs(db: DbOption = None, project_name: ProjectNameOption = None) -> None:
    """List the saved theme runs."""
    frame = open_project(db, project_name, None).theme_runs()
    typer.echo(frame.drop(columns=["created_at"]).to_string(index=False) if not frame.empty else "no theme runs yet")


@themes_app.command()
def promote(
    theme_id: Annotated[int, typer.Argument(help="The theme to make a code of.")],
    db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None, run: RunOption = None,
    code_id: Annotated[str | None, typer.Option(help="Code id (default: the candidate's).")] = None,
    name: Annotated[str | None, typer.Option(help="Code name (default: the candidate's).")] = None,
    parent: Annotated[str | None, typer.Option(help="Parent code id.")] = None,
) -> None:
    """Add a theme to the codebook (new version) and suggest it on the theme's segments."""
    project = open_project(db, project_name, user)
    code = project.promote_theme(theme_id, code_id=code_id, name=name, parent=parent, run_id=run)
    typer.echo(f"added code {code.id!r} ({code.name}) to codebook version {project.codebook.version}; "
               f"the theme's excerpts are suggested codings to review")


@themes_app.command()
def merge(theme_ids: Annotated[list[int], typer.Argument(help="Themes to merge (into the first).")],
          db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None,
          run: RunOption = None, label: Annotated[str | None, typer.Option(help="Label of the merged theme.")] = None,
          ) -> None:
    """Merge themes of a saved run."""
    _print(open_project(db, project_name, user).merge_themes(theme_ids, label=label, run_id=run))


@themes_app.command()
def split(theme_id: Annotated[int, typer.Argument(help="The theme to split.")],
          db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None,
          run: RunOption = None, n: Annotated[int | None, typer.Option(help="Number of parts.")] = None) -> None:
    """Split a theme by re-fitting its excerpts alone."""
    _print(open_project(db, project_name, user).split_theme(theme_id, n=n, run_id=run))


@themes_app.command()
def rename(theme_id: Annotated[int, typer.Argument()], label: Annotated[str, typer.Argument()],
           db: DbOption = None, project_name: ProjectNameOption = None, user: UserOption = None,
           run: RunOption = None) -> None:
    """Give a theme a label of your own."""
    _print(open_project(db, project_name, user).rename_theme(theme_id, label, run_id=run))


@themes_app.command()
def discard(theme_id: Annotated[int, typer.Argument()], db: DbOption = None, project_name: ProjectNameOption = None,
            user: UserOption = None, run: RunOption = None) -> None:
    """Discard a theme as noise (its excerpts become unassigned; the theme stays on record)."""
    _print(open_project(db, project_name, user).discard_theme(theme_id, run_id=run))


@themes_app.command()
def figure(kind: Annotated[str, typer.Argument(help="map, words, prevalence or hierarchy.")],
           output: Annotated[Path, typer.Argument(help="File to write: .png, .svg or .html.")],
           db: DbOption = None, project_name: ProjectNameOption = None, run: RunOption = None,
           by: Annotated[str | None, typer.Option(help="Attribute for the prevalence heatmap.")] = None) -> None:
    """Draw a figure of a saved run to a PNG, SVG or HTML file."""
    from qualkit.errors import InvalidInput
    from qualkit.figures import themes as figures

    if kind not in FIGURES:
        raise InvalidInput(f"unknown figure {kind!r}", fix=f"use one of {', '.join(FIGURES)}")
    from qualkit.export.format import check_folder

    check_folder(output)  # a missing folder came as a bare "No such file or directory"
    result = open_project(db, project_name, None).themes(run)
    chart = {"map": figures.theme_map, "words": figures.theme_words_chart,
             "hierarchy": figures.theme_hierarchy_chart}.get(kind)
    chart = chart(result) if chart else figures.theme_prevalence_heatmap(result, by=by)
    suffix = output.suffix.lower()
    from qualkit.figures.analysis import to_html, to_png, to_svg

    if suffix == ".html":
        output.write_text(to_html(chart), encoding="utf-8")  # JavaScript inline: opens offline, calls no CDN
    elif suffix in (".png", ".svg"):
        if suffix == ".png":
            output.write_bytes(to_png(chart))
        else:
            output.write_text(to_svg(chart), encoding="utf-8")
    else:
        raise InvalidInput(f"cannot write a figure to {output.name}", fix="end the file name in .png, .svg or .html")
    typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add the ``themes`` command group."""
    app.add_typer(themes_app, name="themes")
