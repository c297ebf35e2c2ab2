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
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

codebook_app = typer.Typer(help="List, check and convert codebooks.", no_args_is_help=True)


def autocode(
    codebook: Annotated[str, typer.Option("--codebook", help="Shipped codebook name or a .yaml/.csv/.xlsx/.qdc file.")],
    input: Annotated[Path, typer.Option("--input", help="JSONL or CSV rows with id and text.")],
    output: Annotated[Path, typer.Option("--output", help="JSONL to write: id, codes, scores ('-' for stdout).")],
    train: Annotated[Path | None, typer.Option("--train", help="Labelled JSONL/CSV rows (id, text, codes) to learn from.")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="Give each row its K best codes.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", min=0.0, max=1.0,
                                                    help="One score threshold for every code (default: per-code thresholds).")] = None,
    embedder: Annotated[str, typer.Option("--embedder", help="auto (MiniLM if installed), minilm or lsa.")] = "auto",
    fine_tune: Annotated[bool, typer.Option("--fine-tune", help="Fine-tune the encoder on --train and the codebook "
                                             "first (CPU, a few minutes; kept in $QUALKIT_MODEL_DIR).")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")] = True,
    code_moderators: Annotated[bool, typer.Option("--code-moderators", help="Code moderator rows too.")] = False,
) -> None:
    """Suggest codes for every row of a JSONL/CSV file and write them as JSONL, in input order."""
    from tqdm.auto import tqdm

    from qualkit.codebook import load_codebook
    from qualkit.coding._base import Batch
    from qualkit.coding.ensemble import AutoCoder
    from qualkit.coding.io import read_rows, write_predictions
    from qualkit.errors import InvalidInput
    from qualkit.ingest.marks import find_marks
    from qualkit.ingest.speakers import is_moderator_label
    from qualkit.model import Segment
    from qualkit.nlp import load_nlp

    if top_k is not None and threshold is not None:
        raise InvalidInput("--top-k and --threshold exclude each other", fix="pass only one of them")
    book = load_codebook(codebook)
    codable = [c.id for c in book.codable_codes]
    rows = read_rows(input)
    categories = [c.id for c in book.codes if not c.codable]
    labelled = read_rows(train, labeled=True, codes=codable, categories=categories) if train is not None else []

    def segment(row) -> Segment:
        moderator = (row.role or "").strip().lower() == "moderator" or is_moderator_label(row.speaker or "")
        return Segment(source=str(input.name), start=0, end=len(row.text), text=row.text, speaker=row.speaker,
                       role="moderator" if moderator else "participant", marks=find_marks(row.text))

    nlp = load_nlp()
    items = [segment(r) for r in rows]
    train_items = [segment(r) for r in labelled]
    fit_batch = Batch.build(train_items + items, nlp=nlp, code_moderators=code_moderators)
    labels = [r.codes for r in labelled] + [None] * len(items)
    chosen_embedder: object = embedder
    if fine_tune:
        chosen_embedder = _tuned_embedder(book, labelled, progress)
    coder = AutoCoder(book, embedder=chosen_embedder, nlp=nlp, code_moderators=code_moderators)
    typer.echo(f"fitting on {len(labelled)} labelled rows and {len(rows)} input rows", err=True)
    coder.fit(fit_batch, labels if labelled else None)
    codes: list[list[str]] = []
    scores: list[dict[str, float]] = []
    chunk = 256
    with tqdm(total=len(items), desc="auto-coding", unit="row", file=sys.stderr, disable=not progress) as bar:
        for start in range(0, len(items), chunk):
            frame = coder.predict_scores(items[start:start + chunk])
            values = frame.to_numpy()
            chosen = coder.decide(values, threshold=threshold, top_k=top_k)
            for i in range(len(values)):
                order = sorted(range(len(codable)), key=lambda j, i=i: -values[i, j])
                codes.append([codable[j] for j in order if chosen[i, j]])
                scores.append({codable[j]: round(float(values[i, j]), 4) for j in range(len(codable))})
            bar.update(len(values))
    write_predictions(output, [r.id for r in rows], codes, scores)
    coded = sum(1 for c in codes if c)
    typer.echo(f"wrote {len(rows)} rows ({coded} with codes) to {output}", err=True)


def _tuned_embedder(book, labelled, progress: bool):
    """MiniLM fine-tuned on the labelled rows and the codebook (reused when the same material was tuned before)."""
    import os
    from pathlib import Path

    from qualkit.coding.finetune import TunedEmbedder, fine_tune, material
    from qualkit.embeddings import CachedEmbedder

    texts, codes, negatives = material(book, [r.text for r in labelled], [r.codes for r in labelled])
    folder = Path(os.environ.get("QUALKIT_MODEL_DIR", Path.home() / ".cache" / "qualkit" / "models")) / "cli"

    def report(done: int, total: int, message: str) -> None:
        if progress and (done == total or done % 20 == 0):
            typer.echo(message, err=True)

    tuned = fine_tune(texts, codes, folder, negatives=negatives, progress=report)
    typer.echo(f"fine-tuned encoder {tuned.key[:12]} ({tuned.info.get('pairs')} pairs) in {tuned.path}", err=True)
    return CachedEmbedder(TunedEmbedder(tuned.path, key=tuned.key))


def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Gold JSONL/CSV: id (or source + turn/start/end) and codes.")],
    pred: Annotated[Path, typer.Option("--pred", help="Predicted JSONL/CSV in the same shape (e.g. autocode output).")],
    output: Annotated[Path | None, typer.Option("--output", help="CSV to write (default: PRED with .metrics.csv).")] = None,
    codebook: Annotated[str | None, typer.Option("--codebook", help="Score exactly the codable codes of this codebook.")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=0, help="Bootstrap resamples for 95% intervals (0: none).")] = 0,
) -> None:
    """Per-code precision, recall, F1, support, Cohen's kappa, Krippendorff's alpha and Gwet's AC1; table and CSV."""
    from qualkit.codebook import load_codebook
    from qualkit.coding.evaluate import evaluate_codes, format_table
    from qualkit.coding.io import read_codes

    gold_codes = read_codes(gold)
    pred_codes = read_codes(pred)
    codes = [c.id for c in load_codebook(codebook).codable_codes] if codebook else None
    table = evaluate_codes(gold_codes, pred_codes, codes=codes, n_boot=n_boot)
    missing = sum(1 for key in gold_codes if key not in pred_codes)
    typer.echo(format_table(table))
    if missing:
        typer.echo(f"note: {missing} of {len(gold_codes)} gold items have no prediction (counted as no codes)", err=True)
    target = output or pred.with_name(pred.stem + ".metrics.csv")
    table.to_csv(target, index=False)
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
    from qualkit.errors import InvalidCodebook

    try:
        book = load_codebook(path)
    except InvalidCodebook as error:
        for problem in getattr(error, "problems", [error]):
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    typer.echo(f"{path}: ok ({len(book)} codes, {len(book.codable_codes)} codable, version {book.version})")


@codebook_app.command("convert")
def codebook_convert(
    source: Annotated[str, typer.Argument(help="Codebook file or shipped name.")],
    target: Annotated[Path, typer.Argument(help="File to write: .yaml, .csv, .xlsx or .qdc.")],
) -> None:
    """Convert a codebook between YAML, CSV, Excel and REFI-QDA .qdc."""
    from qualkit.codebook import load_codebook, save_codebook

    save_codebook(load_codebook(source), target)
    typer.echo(f"wrote {target}")


def register(app: typer.Typer) -> None:
    """Add the coding commands to the CLI."""
    app.command("autocode")(autocode)
    app.command("evaluate")(evaluate)
    app.add_typer(codebook_app, name="codebook")
