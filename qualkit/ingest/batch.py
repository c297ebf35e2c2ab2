"""Importing many transcripts into a project store: each file all-or-nothing, failures reported together.

Design: participants are read and upserted first (so segments link to them when stored); then each
file is read and stored in **its own transaction** (``Store.add_source``). A file whose bytes are
already in the project (same SHA-256 checksum, e.g. when a batch is run again after a crash) is not
read again: its report says "already imported, skipped" (``report.skipped``) and it is no failure; nor is
a file whose text is a stored source's once line endings, a byte-order mark, trailing spaces and Unicode
normalisation are set aside (:func:`text_fingerprint`: the same interview saved again with CRLF line endings). A file that cannot be read
or stored leaves nothing behind, and the batch goes on with the next file. At the end, if any file
failed, :class:`~qualkit.errors.ImportFailed` is raised listing each failed file with its one-line
reason and carrying ``.reports`` of the files that were stored; otherwise the reports are returned.
A participants file that cannot be read stops the batch before anything is stored.

Example:
    >>> from qualkit.store.repository import Store
    >>> import_transcripts(Store.create("sqlite://"), [], progress=False)
    []
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.errors import ImportFailed, InvalidTranscript, QualkitError, StoreError
from qualkit.ingest.participants import ParticipantsLike, read_participants
from qualkit.model import ImportReport


def import_transcripts(
    store: Any,
    paths: Sequence[str | os.PathLike[str]],
    *,
    participants: ParticipantsLike | None = None,
    aliases: Mapping[str, str] | None = None,
    segment_by: str = "turn",
    window: int = 3,
    progress: bool = True,
    user: str | None = None,
    uploaded: bool = False,
    **options: Any,
) -> list[ImportReport]:
    """Read every file and store each one in its own transaction; raise ImportFailed if some failed.

    ``participants`` are saved with the first file stored (or, when every file was imported before, at the
    end): a batch in which every file fails changes nothing.

    ``options`` go to :func:`qualkit.ingest.read_transcript` (``encoding``, ``format``, ``max_bytes``,
    ``moderators``, ``columns`` ...). A tqdm progress bar goes to stderr when ``progress`` is true.
    ``uploaded``: the files are a server's temporary copies of uploads, so their path (the source's
    ``metadata["path"]``, exported as a variable) is not recorded; the researcher's own path is unknown.

    Example:
        >>> from qualkit.store.repository import Store
        >>> import_transcripts(Store.create("sqlite://"), ["missing.txt"], progress=False)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.ImportFailed: 1 of 1 files failed and were not imported: missing.txt: ...
    """
    from qualkit.ingest.transcript import read_transcript

    roster = read_participants(participants) if participants is not None else None
    unsaved_roster = bool(roster)  # saved with the first file stored: a batch that stores nothing changes nothing
    # Without a participants file the study's own participants are read against: a participant's second interview
    # in a file its session does not name was left unlinked without a word (a stranger's follow-up interview).
    known = roster if roster is not None else (store.participants() or None)
    if segment_by != "turn" and "nlp" not in options:
        from qualkit.ingest.segment import nlp_for_sentences

        options["nlp"] = nlp_for_sentences()
    reports: list[ImportReport] = []
    failures: list[tuple[str, str]] = []
    paths = [Path(p) for p in paths]
    iterator: Any = paths
    if progress and paths:
        from tqdm import tqdm

        iterator = tqdm(paths, desc="importing", unit="file", file=sys.stderr, leave=False)
    first_of_name: dict[str, Path] = {}
    stored = _stored_checksums(store)
    texts: dict[str, str] | None = None  # text fingerprint -> source name, read when first needed
    talks: dict[str | None, str] | None = None  # talk fingerprint -> source name, likewise
    for path in iterator:
        earlier = first_of_name.setdefault(path.name, path)
        if earlier != path and earlier.resolve() != path.resolve():
            failures.append((str(path), _reason(_name_clash(path, earlier, "in this batch"), path)))
            continue
        skipped = _already_imported(path, stored, options.get("max_bytes"))
        if skipped is not None:
            reports.append(skipped)
            continue
        try:
            source = read_transcript(path, aliases=aliases, participants=known, segment_by=segment_by,
                                     window=window, **options)
            if uploaded:
                source.metadata.pop("path", None)
            if texts is None:
                texts = {text_fingerprint(text): name for name, text in store.source_texts().items()} if stored else {}
            fingerprint = text_fingerprint(source.text)
            if fingerprint in texts:
                same = "" if texts[fingerprint] == path.name else f" (as {texts[fingerprint]})"
                reports.append(ImportReport(source=path.name, format=source.format, skipped=(
                    f"already imported{same}, skipped: it differs only in line endings, encoding or trailing spaces")))
                continue
            if talks is None:
                talks = stored_talk(store) if stored else {}
            talk = talk_fingerprint((segment.speaker, segment.text) for segment in source.segments)
            if talk in talks and talks[talk] != path.name:
                # The same interview saved again as .docx (with a title line) was imported as a new session
                # and its talk counted twice.
                reports.append(ImportReport(source=path.name, format=source.format, skipped=(
                    f"already imported (as {talks[talk]}), skipped: every turn is the same, speaker and words; only "
                    "lines nobody said (a title, a heading) differ")))
                continue
            _refuse_answers_again(store, source, path)
            store.add_source(source, user=user, participants=roster if unsaved_roster else ())
            unsaved_roster = False
            texts[fingerprint] = source.name
            if talk is not None:
                talks[talk] = source.name
        except StoreError as error:
            failures.append((str(path), _reason(_stored_clash(store, path) or error, path)))
            continue
        except QualkitError as error:
            failures.append((str(path), _reason(error, path)))
            continue
        except Exception as error:  # a reader bug must not abort the batch; report it like any failure
            failures.append((str(path), unexpected_reason(error, path)))
            continue
        reports.append(source.import_report)
    if failures:
        raise ImportFailed(failures, reports=reports, total=len(paths))
    if unsaved_roster:  # every file was imported before: the participants file alone has news
        store.upsert_participants(roster, user=user)
    return reports


def text_fingerprint(text: str) -> str:
    """A checksum of a transcript's words that ignores how the file was saved: line endings (CRLF, CR), a
    byte-order mark, spaces at the ends of lines and of the file, and Unicode composition (NFC).

    Example:
        >>> text_fingerprint("\\ufeffAnn: hi  \\r\\nBo: Zoe\\u0308\\r\\n") == text_fingerprint("Ann: hi\\nBo: Zo\\u00eb")
        True
    """
    import unicodedata

    lines = unicodedata.normalize("NFC", text.lstrip("\ufeff")).replace("\r\n", "\n").replace("\r", "\n")
    normal = "\n".join(line.rstrip() for line in lines.split("\n")).rstrip("\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def talk_fingerprint(turns: Iterable[tuple[Any, str]]) -> str | None:
    """A checksum of who said what, from ``(speaker, words)`` turn by turn (read as :func:`text_fingerprint`
    reads text); ``None`` for fewer than two attributed turns, which say too little to be recognised.

    Lines nobody said (a title, a heading, a closing note; speaker ``None`` or NaN) are left out, so the same
    interview saved as .docx with a title is recognised.

    Example:
        >>> turns = [("Ann", "hi"), ("Bo", "yes")]
        >>> talk_fingerprint(turns) == talk_fingerprint([(None, "Notes"), *turns]), talk_fingerprint(turns[:1])
        (True, None)
    """
    said = [f"{speaker}\t{words}" for speaker, words in turns if isinstance(speaker, str) and speaker]
    return text_fingerprint("\n".join(said)) if len(said) >= 2 else None


def stored_talk(store: Any) -> dict[str | None, str]:
    """Each stored transcript's :func:`talk_fingerprint` -> its name (transcripts without one left out)."""
    frame = store.segments_df()
    found: dict[str | None, str] = {}
    if frame.empty or "speaker" not in frame.columns:
        return found
    for name, rows in frame.sort_values(["source_id", "start"]).groupby("source", sort=False):
        fingerprint = talk_fingerprint(zip(rows["speaker"], rows["text"], strict=True))
        if fingerprint is not None:
            found.setdefault(fingerprint, str(name))
    return found


def _refuse_answers_again(store: Any, source: Any, path: Path) -> None:
    """Refuse a survey file whose answers are already in the study: same respondent and same question, or the
    same respondent and the very same words (a file of one unnamed question).

    A re-downloaded export (the same 120 respondents and one new) was imported whole beside the first, so
    every answer counted twice; a byte-identical file is caught by its checksum, an updated one was not.
    """
    answers = [(s.participant, s.attributes.get("question"), s.text) for s in source.segments
               if s.kind == "row" and s.participant]
    if not answers:
        return
    stored = store.segments_df()
    if stored.empty or "participant" not in stored:
        return
    rows = stored.loc[(stored["kind"] == "row") & stored["participant"].notna()]
    questions = rows["question"] if "question" in rows else pd.Series(None, index=rows.index, dtype=object)
    asked: dict[tuple, str] = {}
    said: dict[tuple, str] = {}
    for participant, question, text, name in zip(rows["participant"], questions, rows["text"], rows["source"],
                                                 strict=True):
        if not pd.isna(question):
            asked.setdefault((participant, question), name)
        said.setdefault((participant, text), name)
    again = sorted({(participant, asked.get((participant, question)) or said.get((participant, text)))
                    for participant, question, text in answers
                    if (question is not None and (participant, question) in asked) or (participant, text) in said})
    if again:
        files = ", ".join(sorted({name for _, name in again}))
        people = ", ".join(dict.fromkeys(str(p) for p, _ in again[:3]))
        raise InvalidTranscript(
            f"{len(again)} of its {len({p for p, _, _ in answers})} respondents already answered the same "
            f"question in {files} ({people}{', ...' if len(again) > 3 else ''}); imported again their answers "
            "would count twice", path=path,
            fix="import a file of the new answers only, or remove the earlier file first (Study page, or qualkit "
                "remove-transcript)")


def _stored_checksums(store: Any) -> dict[str, str]:
    """SHA-256 checksum -> source name of every source in the project (one query per batch)."""
    try:
        frame = store.sources_df()
    except QualkitError:
        return {}
    if frame.empty or "sha256" not in frame:
        return {}
    return {str(sha): str(name) for sha, name in zip(frame["sha256"], frame["name"], strict=True)}


def _already_imported(path: Path, stored: dict[str, str], max_bytes: int | None) -> ImportReport | None:
    """A "skipped" report when the file's bytes are already a source of the project, else None."""
    if not stored:
        return None
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return None  # reading it would fail anyway: let read_transcript say why
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None  # read_transcript reports the problem
    name = stored.get(digest.hexdigest())
    if name is None:
        return None
    same = "" if name == path.name else f" (as {name})"
    from qualkit.ingest.readers import READERS, detect_format

    try:
        fmt = detect_format(path)
    except QualkitError:
        fmt = "txt"
    fmt = fmt if fmt in READERS else "txt"
    return ImportReport(source=path.name, format=fmt, skipped=f"already imported{same}, skipped")


def _name_clash(path: Path, other: str | Path, where: str, *, stored: bool = False) -> InvalidTranscript:
    rename = f"rename one of the two files, e.g. {path.parent.name or 'group2'}_{path.name}, and import it again"
    # Renaming a corrected copy of a stored transcript, as the fix said, counted the interview twice.
    corrected = ("; if it is a corrected copy of the stored transcript, do not: its coding stays on the stored text "
                 "(qualkit cannot move codes onto an edited transcript yet), or remove the stored one first "
                 "(`qualkit remove-transcript` or Project.remove_transcript, after reverting its decisions) and "
                 "import the corrected file")
    return InvalidTranscript(
        f"has the same file name as {other} ({where}), and sources are named by their file name", path=path,
        fix=(f"if it is another transcript, {rename}{corrected}" if stored else rename))


def _stored_clash(store: Any, path: Path) -> InvalidTranscript | None:
    """A clear error when a source of this name came from another file; None for the same file again."""
    try:
        existing = store.source(path.name, with_raw=False).metadata.get("path")
    except QualkitError:
        return None
    if existing is None or Path(existing).resolve() == path.resolve():
        return None
    return _name_clash(path, existing, "already in the project", stored=True)


def unexpected_reason(error: Exception, path: str | os.PathLike[str]) -> str:
    """The one-line reason for a failure that is not a qualkit error (a bug met on this file).

    Example:
        >>> unexpected_reason(KeyError("x"), "a.txt")
        "a.txt: unexpected KeyError: 'x'. Fix: please report this file to the qualkit authors"
    """
    return f"{path}: unexpected {type(error).__name__}: {error}. Fix: please report this file to the qualkit authors"


def _reason(error: QualkitError, path: Path) -> str:
    text = str(error)
    return text if str(path) in text or path.name in text else f"{path}: {text}"
