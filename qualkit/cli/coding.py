"""Coding commands: ``qualkit autocode`` (batch suggestions), ``qualkit evaluate`` and ``qualkit codebook``.

The batch contract other tools rely on:

    qualkit autocode --codebook CB --input IN --output OUT [--train LABELED] [--top-k K | --threshold T]

CB is a shipped codebook name or a YAML/CSV/Excel/.qdc file; IN is JSONL (or CSV) of ``{"id", "text"}``
plus optional ``speaker``, ``group`` and ``role``; LABELED rows add ``"codes": [...]``; OUT is JSONL of
``{"id", "codes", "scores"}`` in input order. Moderator rows (``role`` "moderator", or a moderator speaker
label such as "Moderator", "Interviewer 2" or "I") are not coded unless ``--code-moderators`` is given, and
non-speech marks such as "(laughs)" or "[crosstalk]" are blanked before coding, so a row of marks only
gets no codes.

Example:
    $ qualkit autocode --codebook burnout --input turns.jsonl --output coded.jsonl
    $ qualkit evaluate --gold gold.jsonl --pred coded.jsonl --output metrics.csv
    $ qualkit codebook check my_codebook.yaml
    $ qualkit codebook set my_codebook.yaml --note "agreed at the March meeting" --db study.qualkit.db
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from qualkit.cli.options import DbOption, ProjectNameOption, UserOption, open_project

codebook_app = typer.Typer(help="List, check and convert codebooks; give a study its codebook (or a new version).",
                           no_args_is_help=True)


def autocode(
    codebook: Annotated[str, typer.Option("--codebook", help="Shipped codebook name or a .yaml/.csv/.xlsx/.qdc file.")],
    input: Annotated[Path, typer.Option("--input", help="JSONL or CSV rows with id and text (a CSV's 'Respondent', 'Answer' and the like are guessed, with a warning).")],
    output: Annotated[Path, typer.Option("--output", help="JSONL to write: id, codes, scores ('-' for stdout).")],
    train: Annotated[Path | None, typer.Option("--train", help="Labelled JSONL/CSV rows (id, text, codes) to learn from.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="Give each row its K best codes.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0,
                                                    help="One score threshold for every code (default: per-code thresholds).")] = None,
    embedder: Annotated[str, typer.Option("--embedder", help="auto (MiniLM if installed, else LSA), minilm, static "
                                          "(fast, distilled from MiniLM), lsa, or a sentence-transformers folder.")] = "auto",
    fine_tune: Annotated[bool | None, typer.Option("--fine-tune/--no-fine-tune", help="Fine-tune the encoder on --train "
                                                    "and the codebook first (CPU, a few minutes; kept in $QUALKIT_MODEL_DIR). "
                                                    "Default: when MiniLM codes and --train has 100 rows or more.",
                                                    show_default=False)] = None,
    tuning_runs: Annotated[int, typer.Option("--tuning-runs", min=1, help="Fine-tuning runs (seeded) averaged weight "
                                             "by weight: 2 is steadier, for twice the time.")] = 1,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar with ETA on stderr.")] = True,
    code_moderators: Annotated[bool, typer.Option("--code-moderators", help="Code moderator rows too.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from OUTPUT.partial.")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Rows coded and written at a time.")] = 2048,
    fit_rows: Annotated[int, typer.Option("--fit-rows", min=0, help="Input rows (from the top) the coder also learns "
                                          "its text space from; the rest is streamed.")] = 5000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes coding chunks in parallel (forked "
                                         "after fitting; one per core).")] = 1,
) -> None:
    """Suggest codes for every row of a JSONL/CSV file and write them as JSONL, in input order.

    The input is streamed in chunks (bounded memory whatever its size) and each chunk's lines are written as
    soon as they are coded, to OUTPUT.partial, renamed to OUTPUT when every row is done. A run that was
    interrupted continues with ``--resume``: the rows already written are skipped (a torn last line is
    rewritten), so every row is coded exactly once. Bad input is found before anything is written.
    """
    from qualkit.codebook import load_codebook
    from qualkit.coding.io import iter_rows, partial_output, read_rows
    from qualkit.errors import InvalidInput

    if top_k is not None and threshold is not None:
        raise InvalidInput("--top-k and --threshold exclude each other", fix="pass only one of them")
    book = load_codebook(codebook)
    codable = [c.id for c in book.codable_codes]
    categories = [c.id for c in book.codes if not c.codable]
    labelled = read_rows(train, labeled=True, codes=codable, categories=categories) if train is not None else []
    # One checking pass first: a bad row is a one-line error before anything is written, and the count
    # gives the progress bar its total (rows are not kept).
    total = sum(1 for _ in iter_rows(input))
    to_stdout = str(output) == "-"
    partial = output.with_name(output.name + ".partial")
    state_file = output.with_name(output.name + ".partial.json")
    state = {"codebook": codebook, "codebook_version": book.version, "input": str(input.resolve()), "rows": total,
             "train": str(train.resolve()) if train else None, "top_k": top_k, "threshold": threshold,
             "embedder": embedder, "fine_tune": fine_tune, "code_moderators": code_moderators, "fit_rows": fit_rows}
    if tuning_runs > 1:  # only then: a run interrupted before this option existed still resumes
        state["tuning_runs"] = tuning_runs
    done_ids: list[str] = []
    if to_stdout and resume:
        raise InvalidInput("--resume needs an --output file", fix="write to a file, not '-'")
    if not to_stdout:
        if resume:
            if not partial.exists() or not state_file.exists():
                raise InvalidInput(f"no interrupted run to resume at {partial}", path=partial,
                                   fix="run without --resume")
            saved = json.loads(state_file.read_text(encoding="utf-8"))
            changed = [k for k in dict.fromkeys([*state, *saved]) if saved.get(k) != state.get(k)]
            if changed:
                raise InvalidInput(f"the interrupted run used other settings ({', '.join(changed)})", path=state_file,
                                   fix="resume with the same options and input, or delete the .partial files")
            done_ids = partial_output(partial)
        elif partial.exists():
            raise InvalidInput(f"an interrupted run left {partial}", path=partial,
                               fix="pass --resume to continue it, or delete it to start again")

    coder, segment = _fitted_coder(book, input, labelled, embedder, fine_tune, progress, code_moderators, fit_rows,
                                   total, tuning_runs=tuning_runs)
    if getattr(coder, "exclusive_", False):  # say so: it changes what every row gets
        typer.echo(f"one code per row: each of the {len(labelled)} training rows has exactly one code, so each row "
                   "gets its single most likely code (or none when no code is likely enough)", err=True)
    if not to_stdout and not resume:
        state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
        partial.write_text("", encoding="utf-8")
    from qualkit.embeddings import embedder_kind

    if workers > 1 and embedder_kind(getattr(coder, "embedder_", None)) in ("minilm", "local"):
        # torch already encodes on every core, and its thread pool is not safe to use in a forked child
        typer.echo("--workers is for the static and lsa tiers; with a torch encoder one process codes", err=True)
        workers = 1
    options = {"done_ids": done_ids, "total": total, "chunk_size": chunk_size, "top_k": top_k, "threshold": threshold,
               "progress": progress, "path": input, "workers": workers}
    if to_stdout:
        coded = _code_stream(coder, codable, iter_rows(input, warn=False), segment, sys.stdout, **options)
    else:
        with open(partial, "a", encoding="utf-8", newline="\n") as handle:
            coded = _code_stream(coder, codable, iter_rows(input, warn=False), segment, handle, **options)
        os.replace(partial, output)
        state_file.unlink(missing_ok=True)
    before = f"; {len(done_ids)} were coded before resuming" if done_ids else ""
    typer.echo(f"wrote {total} rows ({coded} of the {total - len(done_ids)} coded now have codes{before}) to {output}",
               err=True)


def _fitted_coder(book, input: Path, labelled, embedder: str, fine_tune: bool | None, progress: bool,
                  code_moderators: bool, fit_rows: int, total: int, *, tuning_runs: int = 1):
    """The AutoCoder fitted on the labelled rows and the first ``fit_rows`` input rows, and the row → Segment maker."""
    from itertools import islice

    from qualkit.coding._base import Batch
    from qualkit.coding.ensemble import AutoCoder
    from qualkit.coding.io import iter_rows
    from qualkit.embeddings import resolve_tier
    from qualkit.ingest.marks import find_marks
    from qualkit.ingest.speakers import is_moderator_label
    from qualkit.model import Segment
    from qualkit.nlp import load_nlp

    source = str(input.name)

    def segment(row) -> Segment:
        moderator = (row.role or "").strip().lower() == "moderator" or is_moderator_label(row.speaker or "")
        return Segment(source=source, start=0, end=len(row.text), text=row.text, speaker=row.speaker,
                       role="moderator" if moderator else "participant", marks=find_marks(row.text))

    nlp = load_nlp()
    sample = [segment(r) for r in islice(iter_rows(input, warn=False), fit_rows)]
    train_items = [segment(r) for r in labelled]
    fit_batch = Batch.build(train_items + sample, nlp=nlp, code_moderators=code_moderators)
    labels = [r.codes for r in labelled] + [None] * len(sample)
    chosen: object = embedder
    if fine_tune is None:
        from qualkit.coding.finetune import auto_tune_due, tuning_applies

        fine_tune = tuning_applies(embedder) and auto_tune_due(len(labelled))
    if fine_tune:
        chosen = _tuned_embedder(book, labelled, progress, runs=tuning_runs)
    elif resolve_tier(embedder) not in ("lsa", "auto"):
        from qualkit.embeddings import resolve_embedder

        # Resolved here so that its in-memory cache is bounded: a million rows must not keep a million vectors.
        chosen = resolve_embedder(embedder, job="coding", max_items=200_000)
    coder = AutoCoder(book, embedder=chosen, nlp=nlp, code_moderators=code_moderators)
    typer.echo(f"fitting on {len(labelled)} labelled rows and {len(sample)} of {total} input rows", err=True)
    coder.fit(fit_batch, labels if labelled else None)
    cache = getattr(coder, "embedder_", None)
    if hasattr(cache, "max_items") and cache.max_items is None:
        cache.max_items = 200_000
    from qualkit.embeddings import describe_embedder

    used = describe_embedder(getattr(coder, "embedder_", None))
    typer.echo(f"embedder: {used['name']} ({used['kind']} tier)", err=True)
    return coder, segment


_WORKER: dict[str, object] = {}  # the fitted coder a forked worker process inherits


def _code_chunk(chunk: list) -> tuple[str, int]:
    """Code one chunk of rows with the coder in ``_WORKER``: its output lines and how many got a code."""
    import numpy as np

    from qualkit.coding.io import prediction_line

    coder, codable, segment = _WORKER["coder"], _WORKER["codable"], _WORKER["segment"]
    values = coder.predict_scores([segment(r) for r in chunk]).to_numpy()
    chosen = coder.decide(values, threshold=_WORKER["threshold"], top_k=_WORKER["top_k"])
    order = np.argsort(-values, axis=1, kind="stable")
    lines, coded = [], 0
    for i, row in enumerate(chunk):
        codes = [codable[j] for j in order[i] if chosen[i, j]]
        coded += bool(codes)
        lines.append(prediction_line(row.id, codes, {c: round(float(v), 4) for c, v in zip(codable, values[i],
                                                                                         strict=True)}, row.extra))
    return "".join(lines), coded


def _code_stream(coder, codable: list[str], rows, segment, handle, *, done_ids: list[str], total: int,
                 chunk_size: int, top_k: int | None, threshold: float | None, progress: bool, path: Path,
                 workers: int = 1) -> int:
    """Code ``rows`` chunk by chunk, writing each chunk's lines in input order and flushing; skip ``done_ids``.

    With ``workers`` > 1, chunks are coded by that many forked processes sharing the fitted coder, at most
    two chunks per worker in flight (memory stays bounded); the parent writes them in order.
    """
    from collections import deque
    from itertools import islice

    from tqdm.auto import tqdm

    from qualkit.errors import InvalidInput

    rows = iter(rows)
    for expected in done_ids:
        row = next(rows, None)
        if row is None or row.id != expected:
            raise InvalidInput(f"the partial output does not match the input (row {expected!r})", path=path,
                               fix="delete the .partial files and run again")
    _WORKER.update(coder=coder, codable=codable, segment=segment, top_k=top_k, threshold=threshold)
    chunks = iter(lambda: list(islice(rows, chunk_size)), [])
    coded = 0
    with tqdm(total=total, initial=len(done_ids), desc="auto-coding", unit="row", file=sys.stderr,
              disable=not progress, smoothing=0.1) as bar:

        def write(text: str, n_coded: int, n_rows: int) -> None:
            nonlocal coded
            handle.write(text)
            handle.flush()
            coded += n_coded
            bar.update(n_rows)

        if workers <= 1:
            for chunk in chunks:
                write(*_code_chunk(chunk), len(chunk))
            return coded
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending: deque = deque()
            for chunk in chunks:
                pending.append((pool.apply_async(_code_chunk, (chunk,)), len(chunk)))
                if len(pending) >= 2 * workers:
                    result, n = pending.popleft()
                    write(*result.get(), n)
            while pending:
                result, n = pending.popleft()
                write(*result.get(), n)
    return coded


def _tuned_embedder(book, labelled, progress: bool, *, runs: int = 1):
    """MiniLM fine-tuned on the labelled rows and the codebook (reused when the same material was tuned before)."""
    import os
    from pathlib import Path

    from qualkit.coding.finetune import tune_on, tuning_method
    from qualkit.embeddings import CachedEmbedder

    folder = Path(os.environ.get("QUALKIT_MODEL_DIR", Path.home() / ".cache" / "qualkit" / "models")) / "cli"

    def report(done: int, total: int, message: str) -> None:
        if progress and (done == total or done % 20 == 0):
            typer.echo(message, err=True)

    tuned = tune_on(book, [r.text for r in labelled], [r.codes for r in labelled], folder, progress=report, runs=runs)
    typer.echo(f"fine-tuned encoder {tuned.key[:12]} ({tuning_method(tuned.info)}, "
               f"{tuned.info.get('examples') or tuned.info.get('pairs')} examples) in {tuned.path}", err=True)
    return CachedEmbedder(tuned.embedder())


def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Gold JSONL/CSV: id (or source + turn/start/end) and codes. Only the items it lists are scored: list an uncoded turn with no codes.")],
    pred: Annotated[Path, typer.Option("--pred", help="Predicted JSONL/CSV in the same shape (e.g. autocode output).")],
    output: Annotated[Path | None, typer.Option("--output", help="CSV to write (default: PRED with .metrics.csv).")] = None,
    codebook: Annotated[str | None, typer.Option("--codebook", help="Score exactly the codable codes of this codebook.")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for 95% intervals (0: none).")] = 0,
) -> None:
    """Per-code precision, recall, F1, support, Cohen's kappa, Krippendorff's alpha and Gwet's AC1; table and CSV."""
    from qualkit.codebook import load_codebook
    from qualkit.coding.evaluate import evaluate_codes, format_table
    from qualkit.coding.io import read_codes
    from qualkit.errors import InvalidInput

    gold_codes = read_codes(gold)
    pred_codes = read_codes(pred)
    if gold_codes and not set(gold_codes) & set(pred_codes):
        # predictions named by id, a gold file by source and turn (or span): match on what both have
        for kind in ("turn", "span"):
            try:
                again = read_codes(gold, kind), read_codes(pred, kind)
            except InvalidInput:
                continue
            if set(again[0]) & set(again[1]):
                gold_codes, pred_codes = again
                break
    codes = [c.id for c in load_codebook(codebook).codable_codes] if codebook else None
    missing = sum(1 for key in gold_codes if key not in pred_codes)
    if gold_codes and missing == len(gold_codes):  # two unrelated files scored F1 0 and AC1 0.84, exit 0
        raise InvalidInput(f"none of the {len(gold_codes)} gold items is in {pred.name} (e.g. gold "
                           f"{next(iter(gold_codes))!r}, predicted {next(iter(pred_codes), 'nothing')!r})", path=pred,
                           fix="score predictions of the same rows: the same ids, or source with turn or start-end")
    table = evaluate_codes(gold_codes, pred_codes, codes=codes, n_boot=n_boot)
    typer.echo(format_table(table))
    if missing:
        typer.echo(f"note: {missing} of {len(gold_codes)} gold items have no prediction (counted as no codes)", err=True)
    target = output or pred.with_name(pred.stem + ".metrics.csv")
    from qualkit.export.tables import write_csv

    write_csv(table.reset_index(drop=True), target)
    typer.echo(f"wrote {target}", err=True)


@codebook_app.command("list")
def codebook_list() -> None:
    """The codebooks shipped with qualkit."""
    from qualkit.codebook import list_codebooks, load_codebook

    for name in list_codebooks():
        book = load_codebook(name)
        typer.echo(f"{name}\tversion {book.version}\t{len(book.codable_codes)} codable codes of {len(book)}")


@codebook_app.command("check")
def codebook_check(path: Annotated[str, typer.Argument(help="Codebook file or shipped name.")]) -> None:
    """Validate a codebook; list every problem with its file, line and fix."""
    from qualkit.codebook import load_codebook
    from qualkit.display import counted
    from qualkit.errors import InvalidCodebook

    try:
        book = load_codebook(path)
    except InvalidCodebook as error:
        for problem in getattr(error, "problems", [error]):
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    typer.echo(f"{path}: ok ({counted(len(book), 'code')}, {len(book.codable_codes)} codable, version {book.version})")
    from qualkit.codebook import undefined_codes
    from qualkit.coding.rules import broad_cues

    for warning in [*undefined_codes(book), *broad_cues(book)]:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)


@codebook_app.command("convert")
def codebook_convert(
    source: Annotated[str, typer.Argument(help="Codebook file or shipped name.")],
    target: Annotated[Path, typer.Argument(help="File to write: .yaml, .csv, .xlsx or .qdc.")],
) -> None:
    """Convert a codebook between YAML, CSV, Excel and REFI-QDA .qdc."""
    from qualkit.codebook import load_codebook, save_codebook

    save_codebook(load_codebook(source), target)
    typer.echo(f"wrote {target}")


@codebook_app.command("set")
def codebook_set(
    path: Annotated[str, typer.Argument(help="Codebook file (.yaml, .csv, .xlsx, .qdc) or shipped name.",
                                        show_default=False)],
    note: Annotated[str, typer.Option("--note", help="Why this version (kept in the codebook's history).")] = "",
    leave_out_coded: Annotated[bool, typer.Option("--leave-out-coded", help="Allow the new version to leave out "
                                                  "codes the team has coded with (their codings stay on record but "
                                                  "leave every analysis).")] = False,
    db: DbOption = None,
    project_name: ProjectNameOption = None,
    user: UserOption = None,
) -> None:
    """Give the study its codebook, or a new version of it; print the version made and what changed.

    A file that keeps at least half of the study codebook's codes is its next version (as on the Codebook
    page); one that does not is a codebook of its own, under its own name.
    """
    from qualkit.codebook import load_codebook
    from qualkit.errors import InvalidInput, StoreError
    from qualkit.review.codebook_edits import codebook_changes, is_next_version

    project = open_project(db, project_name, user)
    project.actor().require("edit_codebook")  # before reading the file: a viewer learns nothing of it either
    book = load_codebook(path)
    try:
        current = project.codebook
    except StoreError:  # the study's first codebook
        current = None
    if is_next_version(current, book):
        book.name = current.name
    changes = codebook_changes(current, book)
    if current is not None and not changes and book.name == current.name:
        raise InvalidInput(f"{path} holds the same codes as {current.name!r} version {current.version}, so no new "
                           "version was saved", fix="change a code in the file first, or keep the current version")
    version = project.set_codebook(book, note=note or f"set from {Path(path).name}", leave_out_coded=leave_out_coded)
    typer.echo(f"codebook {book.name!r} version {version}: {len(book.codable_codes)} codable codes")
    if current is None:
        return
    if book.name != current.name:
        typer.echo(f"it keeps fewer than half of {current.name!r}'s codes, so it is a codebook of its own, not "
                   f"{current.name!r}'s next version; it is the study's codebook now")
    for line in describe_changes(changes, against=f"{current.name!r} version {current.version}"):
        typer.echo(line)


def describe_changes(changes, *, against: str) -> list[str]:
    """What a new codebook version changed, in lines a terminal prints (see ``codebook_changes``).

    Example:
        >>> from qualkit.review.codebook_edits import CodebookChanges
        >>> describe_changes(CodebookChanges(["d"], ["x", "y"], [("b", "Beta", "Better")], []), against="version 1")
        ['against version 1:', '  added: d', '  removed: x, y', "  renamed: b 'Beta' -> 'Better'"]
    """
    if not changes:
        return [f"no code changed against {against}"]
    lines = [f"against {against}:"]
    if changes.added:
        lines.append(f"  added: {', '.join(changes.added)}")
    if changes.removed:
        lines.append(f"  removed: {', '.join(changes.removed)}")
    if changes.renamed:
        lines.append("  renamed: " + ", ".join(f"{i} {old!r} -> {new!r}" for i, old, new in changes.renamed))
    if changes.edited:
        lines.append(f"  edited (definition, cues or other fields): {', '.join(changes.edited)}")
    return lines


def register(app: typer.Typer) -> None:
    """Add the coding commands to the CLI."""
    app.command("autocode")(autocode)
    app.command("evaluate")(evaluate)
    app.add_typer(codebook_app, name="codebook")
