"""The notebook facade: one object that ties the project store to ingestion, coding, themes and analysis.

Methods here are thin: each delegates to the module that does the work (``qualkit.ingest``,
``qualkit.coding``, ``qualkit.themes``, ``qualkit.analysis``, ``qualkit.export``) and to the store.
Everything is done as ``self.user`` (``user=``, else ``$QUALKIT_USER``, else the operating-system user),
so the event log always says who did it, and that user's role and blind-coding visibility apply to
every read and write: each method names what it needs (``@requires``), checked by :mod:`qualkit.access`
(the one rule; :data:`qualkit.access.PROJECT_RULES` lists every method). A local SQLite file opened
without a registered user acts as its owner; a shared (PostgreSQL) database needs a named user to write.

Example:
    >>> import qualkit as qk
    >>> project = qk.Project.create("sqlite://", name="pilot", codebook=None, user="ana")
    >>> project.segments().empty
    True
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.access import Access, default_user, requires  # default_user: who acts when nobody is named
from qualkit.checks import check_code, names, one_id, one_name
from qualkit.errors import InvalidInput, StoreError, did_you_mean
from qualkit.model import Codebook, Coding, Memo, awaiting_review, withdrawn_by_author
from qualkit.store.repository import Store

_default_user = default_user  # the name other branches still call inside this module


class Project:
    """A qualkit project: transcripts, codebook, codings, memos and their history in one store.

    Example:
        >>> p = Project.create("sqlite://", codebook=None, user="ana")
        >>> p.user
        'ana'
    """

    def __init__(self, store: Store, *, user: str | None = None) -> None:
        self.store = store
        # Who acts, and the one rule of what they may do and see (role re-read on every call).
        self.access = Access(store, user)
        self.user = self.access.name
        # Loaded models and the fitted coder (qualkit.coding.workflow.CodingResources), made on first use.
        self.coding: Any = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(
        cls,
        path_or_url: str | os.PathLike[str] | None = None,
        name: str | None = None,
        *,
        codebook: str | Codebook | None = "burnout",
        description: str = "",
        user: str | None = None,
        exist_ok: bool = False,
    ) -> Project:
        """Create a project in an SQLite file (a path) or a database (a SQLAlchemy URL).

        ``codebook`` is a shipped codebook name, a file, a :class:`Codebook`, or ``None`` for none yet.
        ``name`` defaults to the file's name without its suffixes (as ``qualkit init`` names it), else "default".

        Example:
            >>> Project.create("sqlite://", codebook=None).name
            'default'
            >>> import tempfile, pathlib
            >>> Project.create(pathlib.Path(tempfile.mkdtemp()) / "nurses.qualkit.db", codebook=None).name
            'nurses'
        """
        from qualkit.store.engine import database_url, make_engine, schema_revision

        if codebook is not None and not isinstance(codebook, Codebook):
            from qualkit.codebook import load_codebook

            codebook = load_codebook(str(codebook))  # a bad codebook stops here, before any file or table exists
        plain = path_or_url is None or isinstance(path_or_url, str | os.PathLike)
        url = database_url(path_or_url) if plain else ""
        new_file = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
        named = name is not None
        if name is None:
            stem = Path(url[len("sqlite:///"):]).name.split(".")[0].strip() if url.startswith("sqlite:///") else ""
            name = stem or "default"
        new_file = new_file if new_file is not None and not new_file.exists() else None
        engine = make_engine(url) if plain else path_or_url  # else: an engine already
        existing = Store.list_projects(engine) if new_file is None else []
        if existing and not named and not (exist_ok and name in existing):
            # Re-running a notebook's first cell added a second project beside the study, and every command
            # after it was refused with "the database holds 2 projects".
            raise StoreError(f"{engine.url.render_as_string()} already holds the project "
                             f"{', '.join(repr(n) for n in existing)}; nothing was created",
                             fix="open it with Project.open(...); to add another project to the same database, "
                                 "give it a name",
                             cli_fix="use it with --db; to add another study to the same database, pass --name")
        try:
            if schema_revision(engine) is not None:  # an existing database: creating a project is an import
                Access(engine, user).require("import")
            project = cls(Store.create(engine, name, description=description, exist_ok=exist_ok), user=user)
            if codebook is not None and not project.store.settings.get("codebook"):
                project.set_codebook(codebook, note="initial codebook")
        except BaseException:
            if new_file is not None:  # nothing half-made is left behind: the next attempt starts clean
                engine.dispose()
                new_file.unlink(missing_ok=True)
            raise
        return project

    @classmethod
    def open(
        cls, path_or_url: str | os.PathLike[str] | None = None, name: str | None = None, *, user: str | None = None
    ) -> Project:
        """Open an existing project (``path_or_url`` defaults to ``$QUALKIT_DATABASE_URL``).

        Example:
            >>> Project.open("missing.qualkit.db")  # doctest: +IGNORE_EXCEPTION_DETAIL
            Traceback (most recent call last):
            qualkit.errors.ProjectNotFound: no qualkit project file at ...
        """
        return cls(Store.open(path_or_url, name), user=user)

    @property
    def name(self) -> str:
        """The project's name."""
        return self.store.name

    def __repr__(self) -> str:
        return f"<qualkit.Project {self.name!r} at {self.store.engine.url.render_as_string()}>"

    # ---- ingestion
    @requires('import')
    def import_transcripts(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        participants: Any = None,
        aliases: dict[str, str] | None = None,
        segment_by: str = "turn",
        progress: bool = True,
        **options: Any,
    ) -> list[Any]:
        """Read transcripts and store each file in its own transaction; returns their import reports.

        A folder's files that are no transcripts (the participants file, a codebook, coding records, qualkit's
        exports and reports: :func:`qualkit.ingest.folders.select_transcripts`) are not imported; each has a
        report whose ``skipped`` says what it is. A file named on its own is imported as asked. Files of a folder
        qualkit cannot read (.pdf, .doc, .rtf) each have such a report too, and a warning names them all.

        Participants (a CSV/Excel path or a DataFrame) are upserted first so segments link to them. A
        file that fails leaves nothing behind; when some fail, the others are stored and
        :class:`~qualkit.errors.ImportFailed` lists each failure (its ``.reports`` hold the stored ones).
        ``options`` go to :func:`qualkit.read_transcript` (``window``, ``encoding``, ``columns``, ...), and
        ``uploaded=True`` to :func:`qualkit.ingest.batch.import_transcripts` (the app's copies of uploads).

        Example:
            >>> Project.create("sqlite://", codebook=None).import_transcripts([], progress=False)
            []
        """
        from qualkit.errors import ImportFailed
        from qualkit.ingest.batch import import_transcripts
        from qualkit.ingest.folders import select_transcripts, unreadable_note

        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        paths = list(paths) if isinstance(paths, Iterable) and not isinstance(paths, bytes | dict) else [paths]
        odd = [p for p in paths if not isinstance(p, str | os.PathLike)]
        if odd:  # import_transcripts(42) ended in "TypeError: 'int' object is not iterable"
            raise InvalidInput(f"paths must be transcript files or folders, not {odd[0]!r}",
                               fix='give a path or a list of paths, e.g. p.import_transcripts("transcripts/")')
        # A folder holds transcripts, as on the command line (a notebook user's folder was "not a file"), and
        # often the codebook and participants list too: those are passed over, each with a report saying why.
        chosen = select_transcripts(paths, participants=participants)
        unreadable = unreadable_note(chosen.skipped)
        if unreadable:  # interviews saved as .pdf/.doc were left out without a word
            warnings.warn(unreadable, UserWarning, stacklevel=3)
        try:
            reports = import_transcripts(self.store, chosen.files, participants=participants, aliases=aliases,
                                         segment_by=segment_by, progress=progress, user=self.user, **options)
        except ImportFailed as error:
            error.reports[:0] = chosen.skipped
            raise
        return [*chosen.skipped, *reports]

    @staticmethod
    def transcript_formats() -> dict[str, tuple[str, ...]]:
        """The transcript formats :meth:`import_transcripts` reads, with their file suffixes (from the registry).

        Example:
            >>> Project.transcript_formats()["docx"]
            ('.docx',)
        """
        from qualkit.ingest.readers import READERS

        return {name: reader.suffixes for name, reader in READERS.items()}

    @requires('import')
    def remove_transcript(self, source: str | int) -> None:
        """Remove a transcript imported by mistake, with its segments and machine suggestions (logged).

        Refused once anyone has decided on it (accepted, rejected or coded by hand): those decisions
        would go with it. Importing the file again brings it back.

        Example:
            >>> project.remove_transcript("backwards.vtt")  # doctest: +SKIP
        """
        self.store.remove_source(source, user=self.user)

    @requires('import')
    def redaction_preview(self, source: str | int, words: str, *, whole_words: bool = True,
                          case_sensitive: bool = False) -> pd.DataFrame:
        """Every place ``words`` occur in a transcript (turn, speaker, context): what :meth:`redact` would replace.

        Example:
            >>> project.redaction_preview("fg1.txt", "Dr Okafor")  # doctest: +SKIP
        """
        from qualkit.review.redaction import redaction_preview

        return redaction_preview(self.store, source, one_name(words, "words"), whole_words=whole_words,
                                 case_sensitive=case_sensitive)

    @requires('import')
    def redact(self, source: str | int, words: str, replacement: str = "[redacted]", *, whole_words: bool = True,
               case_sensitive: bool = False, expected: int | None = None) -> dict[str, int]:
        """Take words out of a coded transcript (a name an ethics board asks removed); every coding keeps its words.

        Each place ``words`` occur becomes ``replacement``, in the text, the turns, speaker labels, codings'
        evidence and rationales and saved theme runs; offsets move along, so every coding covers the same
        words as before. ``expected`` (the number of places :meth:`redaction_preview` showed) guards against a
        change since. It cannot be undone: the words are gone from the database (export first to keep a copy).
        Memos are the team's own writing and are not changed. See :func:`qualkit.review.redaction.redact`.

        Example:
            >>> project.redact("fg1.txt", "Dr Okafor", "[consultant]", expected=3)  # doctest: +SKIP
            {'passages': 3, 'segments': 3, 'codings': 41, 'theme_runs': 1}
        """
        from qualkit.review.redaction import redact

        return redact(self.store, source, one_name(words, "words"), replacement, actor=self._actor(),
                      whole_words=whole_words, case_sensitive=case_sensitive, expected=expected)

    @requires('import')
    def withdrawal_preview(self, participant_or_speaker: str) -> pd.DataFrame:
        """Every turn of a participant who withdrew consent, per transcript: what :meth:`withdraw_participant` takes.

        One row per turn: ``source``, ``turn``, ``speaker``, ``codings`` on it, ``memos`` written on it, its
        ``text`` and ``memo_notes`` (each memo's ``id``, ``author`` and ``text``: the withdrawal deletes them).
        A name nobody in the study has is refused with the list of participants.

        Example:
            >>> project.withdrawal_preview("P07")  # doctest: +SKIP
        """
        from qualkit.review.withdrawal import withdrawal_preview

        return withdrawal_preview(self.store, one_name(participant_or_speaker, "participant_or_speaker"))

    @requires('import')
    def withdraw_participant(self, participant_or_speaker: str, *, reason: str,
                             expected: int | None = None) -> dict[str, Any]:
        """Take a participant who withdrew consent out of the study, after coding began; cannot be undone.

        Their turns become ``[withdrawn]`` in every transcript and their speaker labels lose their name (the
        participant's id, or ``[withdrawn]``; every other coding keeps its words), the codings, suggestions and
        evidence on those turns are deleted (so no count, quote, export, reliability figure or theme sees them),
        the memos written on those turns are deleted (rows and logged text), the participant keeps only its id
        and the date, and their words leave the database. ``expected`` (the turns :meth:`withdrawal_preview` showed) guards against a change since. The
        event log keeps who, when, how many turns and ``reason``. See :mod:`qualkit.store.withdrawal`.

        Example:
            >>> project.withdraw_participant("P07", reason="consent withdrawn by email", expected=12)  # doctest: +SKIP
            {'participant': 'P07', 'turns': 12, 'transcripts': 1, 'codings': 30, 'memos': 1, 'theme_runs': 0}
        """
        from qualkit.review.withdrawal import withdraw

        return withdraw(self.store, one_name(participant_or_speaker, "participant_or_speaker"),
                        reason=one_name(reason, "reason"), actor=self._actor(), expected=expected)

    @requires('import')
    def add_participants(self, participants: Any) -> int:
        """Add or update participants (CSV/Excel path, DataFrame or list); returns segments newly linked.

        Example:
            >>> import pandas as pd
            >>> Project.create("sqlite://", codebook=None).add_participants(pd.DataFrame({"id": ["R1"]}))
            0
        """
        from qualkit.ingest.participants import read_participants

        return self.store.upsert_participants(read_participants(participants), user=self.user)

    @requires('import')
    def add_speaker_participants(self) -> list[str]:
        """Give every speaker no participant covers yet a participant row (to fill in role, group...).

        Returns the new participants' labels; their segments are linked to them at once. See
        :func:`qualkit.ingest.participants.speaker_participants` for how a name used in two sessions is kept apart.

        Example:
            >>> Project.create("sqlite://", codebook=None).add_speaker_participants()
            []
        """
        from qualkit.ingest.participants import speaker_participants

        people = speaker_participants(self.store.segments_df(attributes=False), self.store.participants_df())
        if people:
            self.store.upsert_participants(people, user=self.user)
        return [p.id for p in people]

    # ------------------------------------------------------------------ codebook
    @property
    def codebook(self) -> Codebook:
        """The active codebook, latest version."""
        return self.store.codebook()

    @requires('edit_codebook')
    def set_codebook(self, codebook: str | os.PathLike[str] | Codebook, *, note: str = "",
                     leave_out_coded: bool = False) -> int:
        """Store a codebook (name, file or object) as a new version and make it active; returns the version.

        A codebook that leaves out codes the team has coded with is refused unless ``leave_out_coded``
        (see :func:`qualkit.review.codebook_edits.save_codebook_version`).
        """
        if not isinstance(codebook, Codebook):
            from qualkit.codebook import load_codebook

            codebook = load_codebook(str(codebook))
        if not leave_out_coded:
            from qualkit.review.codebook_edits import refuse_leaving_out_coded

            refuse_leaving_out_coded(self.store, codebook)
        return self.store.save_codebook(codebook, user=self.user, note=note)

    # ------------------------------------------------------------------ data as DataFrames
    @requires('view')
    def sources(self) -> pd.DataFrame:
        """One row per imported transcript."""
        return self.store.sources_df()

    @requires('view')
    def segments(self, *, source: str | int | None = None, participants_only: bool = False) -> pd.DataFrame:
        """Segments with speaker, offsets and participant attributes as columns (``source``: one transcript).

        Example:
            >>> Project.create("sqlite://", codebook=None).segments(source="nope.txt")  # doctest: +IGNORE_EXCEPTION_DETAIL
            Traceback (most recent call last):
            qualkit.errors.StoreError: no source 'nope.txt' in project 'default'
        """
        if source is not None:  # a mistyped name said nothing: an empty table looked like an empty transcript
            self.store.source(source, with_raw=False)
        return self.store.segments_df(source=source, participants_only=participants_only)

    @requires('view')
    def participants(self) -> pd.DataFrame:
        """Participants with their attributes."""
        return self.store.participants_df()

    @requires('view')
    def codings(self, **filters: Any) -> pd.DataFrame:
        """Codings with their segment's source, speaker and text; filters as in :meth:`Store.codings_df`.

        A coder coding a transcript blind does not get the other coders' codings on it. A filter the store does
        not have (``staus=``) is an error naming the ones it has. The ``removed`` column is true for a coding
        its own coder took back (a hand code removed, a change undone): its status stays ``rejected`` on record,
        but nobody judged the code not to apply.

        Example:
            >>> Project.create("sqlite://", user="ana").codings(status="accepted").empty
            True
        """
        import inspect

        known = [name for name in inspect.signature(self.store.codings_df).parameters if name != "self"]
        unknown = [name for name in filters if name not in known]
        if unknown:
            raise InvalidInput(f"codings() has no filter {unknown[0]!r}",
                               fix=f"{did_you_mean(unknown[0], known)}filter by {', '.join(known)}")
        frame = self.store.codings_df(**filters)
        if len(frame):  # judged on every coding: a blind coder's rejection is told from a removal by its parent
            every = self.store.codings_df() if filters else frame
            frame["removed"] = frame["id"].isin(every.loc[withdrawn_by_author(every), "id"])
        else:
            frame["removed"] = pd.Series(dtype=bool)
        return self.access.visible_codings(frame)

    @requires('view')
    def memos(self) -> pd.DataFrame:
        """All memos (but a blind co-coder's on the transcript one codes blind)."""
        return self.access.visible_memos(self.store.memos_df())

    @requires('view')
    def history(self, entity: str | None = None, entity_id: Any = None, limit: int | None = None) -> pd.DataFrame:
        """The event log (who changed what, when, from what to what), newest first.

        A coder coding a transcript blind does not get the other coders' events on it.
        """
        return self.access.visible_events(self.store.events_df(entity, entity_id, limit))

    # ------------------------------------------------------------------ human decisions
    @requires('code')
    def accept(self, coding_id: int, *, expected_version: int | None = None) -> Coding:
        """Accept a suggested coding (on a transcript one codes blind: one's own row, as in the app)."""
        from qualkit.review.decisions import decide

        return decide(self.store, one_id(coding_id, "coding_id"), "accept", actor=self._actor(),
                      expected_version=expected_version)

    @requires('code')
    def reject(self, coding_id: int, *, expected_version: int | None = None) -> Coding:
        """Reject a suggested coding (on a transcript one codes blind: one's own row, as in the app)."""
        from qualkit.review.decisions import decide

        return decide(self.store, one_id(coding_id, "coding_id"), "reject", actor=self._actor(),
                      expected_version=expected_version)

    @requires('code')
    def change_code(self, coding_id: int, code_id: str, *, expected_version: int | None = None) -> Coding:
        """Reject a coding and apply ``code_id`` to the same span instead (both stay on record)."""
        from qualkit.review.decisions import decide

        return decide(self.store, one_id(coding_id, "coding_id"), "change", actor=self._actor(),
                      expected_version=expected_version, code_id=one_name(code_id, "code_id"))

    @requires('code')
    def adjust(self, coding_id: int, start: int, end: int, *, expected_version: int | None = None) -> Coding:
        """Change the words a coding covers to ``start``-``end`` (code points in its transcript) and accept it.

        The span must lie inside the coding's segment; :meth:`undo` or :meth:`revert` takes it back.

        Example:
            >>> project.adjust(42, 1133, 1190).end  # doctest: +SKIP
            1190
        """
        from qualkit.review.decisions import decide

        return decide(self.store, one_id(coding_id, "coding_id"), "span", actor=self._actor(),
                      expected_version=expected_version, start=start, end=end)

    @requires('code')
    def revert(self, coding_id: int, *, expected_version: int | None = None) -> Coding:
        """Undo the newest decision on a coding (a new ``revert`` event; nothing is deleted).

        See :func:`qualkit.review.decisions.revert_decision`; ``expected_version`` guards against a change
        someone made since you looked.

        Example:
            >>> project.revert(42).status  # doctest: +SKIP
            'suggested'
        """
        from qualkit.review.decisions import revert_decision

        return revert_decision(self.store, one_id(coding_id, "coding_id"), expected_version=expected_version,
                               actor=self._actor())

    @requires('code')
    def undo(self) -> Coding | None:
        """Undo this user's newest decision that still stands; returns the restored coding (None: nothing to undo).

        A bulk accept is one decision, taken back whole as in the app (the last coding restored is returned).

        Example:
            >>> Project.create("sqlite://", codebook=None, user="ana").undo() is None
            True
        """
        from qualkit.review.decisions import last_bulk, last_decision, revert_decision

        actor = self._actor()
        bulk = last_bulk(self.store, actor=actor)
        restored = None
        for coding_id, version in bulk:
            restored = revert_decision(self.store, coding_id, expected_version=version, actor=actor)
        if bulk:
            return restored
        last = last_decision(self.store, actor=actor)
        if last is None:
            return None
        return revert_decision(self.store, last.coding_id, expected_version=last.version, actor=actor,
                               event_id=last.event_id)

    @requires('code')
    def code(self, segment_id: int, code_id: str, *, start: int | None = None, end: int | None = None) -> Coding:
        """Apply a code to a segment (or a span of it) by hand; the coding is accepted at once.

        ``start`` and ``end`` are character offsets into the whole transcript, as ``segments()`` gives each
        segment's (Unicode code points of the text as read with ``newline=""``: a CRLF counts as two), not into
        the segment; leave both out to code the whole segment.

        Example:
            >>> project = Project.create("sqlite://", codebook="burnout", user="ana")  # doctest: +SKIP
            >>> turn = project.segments().iloc[1]  # doctest: +SKIP
            >>> project.code(turn.id, "workload", start=turn.start, end=turn.start + 12).status  # doctest: +SKIP
            'accepted'
        """
        from qualkit.review.decisions import add_code

        if (start is None) != (end is None):  # start alone silently coded to the end of the turn
            raise InvalidInput(f"give both start and end, or neither (the whole turn); got start={start!r}, "
                               f"end={end!r}", fix="pass the end of the words too, as project.codings() shows spans")
        coding = add_code(self.store, one_id(segment_id, "segment_id"), one_name(code_id, "code_id"),
                          actor=self._actor(), start=start, end=end)
        self._warn_if_not_counted(coding.segment_id)
        return coding

    def _warn_if_not_counted(self, segment_id: int) -> None:
        """Warn that a hand code on interviewer talk or an unattributed line is kept but counted nowhere.

        A stranger coded the interviewer's turn: accepted without a word, and absent from every result.
        """
        from qualkit.analysis._common import talk_segments
        from qualkit.display import text_or
        from qualkit.store.sources import segment_source_ids

        source_id = segment_source_ids(self.store, [segment_id]).get(segment_id)
        if source_id is None:
            return
        segments = self.store.segments_df(source=source_id)
        segment = segments.loc[segments["id"] == segment_id]
        if len(segment) and talk_segments(segment).empty:
            said = segment.iloc[0]
            who = text_or(said.get("speaker"), "nobody")
            what = text_or(said.get("speaker_role"), text_or(said.get("kind")))  # NaN role: the line's kind says
            warnings.warn(f"segment {segment_id} is not participant talk (said by {who}, {what}): the code is kept, "
                          "but moderator talk and unattributed lines are left out of prevalence, quotes and every "
                          "other count", UserWarning, stacklevel=4)  # the caller of code(), past @requires

    @requires('code')
    def memo(self, text: str, *, segment_id: int | None = None, source_id: int | None = None,
             code_id: str | None = None) -> Memo:
        """Write a memo on a segment, a source or a code."""
        from qualkit.review.decisions import write_memo

        return write_memo(self.store, text, actor=self._actor(), segment_id=segment_id, source_id=source_id,
                          code_id=code_id)

    @requires('code')
    def edit_memo(self, memo_id: int, text: str, *, expected_version: int | None = None) -> dict:
        """Change the words of one of your memos; the old words stay in :meth:`history`.

        Example:
            >>> memo = project.memo("Workload in evry group.")  # doctest: +SKIP
            >>> project.edit_memo(memo.id, "Workload in every group.")["version"]  # doctest: +SKIP
            2
        """
        from qualkit.review.decisions import edit_memo

        return edit_memo(self.store, memo_id, text, actor=self._actor(), expected_version=expected_version)

    @requires('code')
    def delete_memo(self, memo_id: int, *, expected_version: int | None = None) -> dict:
        """Delete one of your memos (administrators: anyone's); :meth:`restore_memo` brings it back.

        Example:
            >>> project.delete_memo(7)["withdrawn_at"] is not None  # doctest: +SKIP
            True
        """
        from qualkit.review.decisions import delete_memo

        return delete_memo(self.store, memo_id, actor=self._actor(), expected_version=expected_version)

    @requires('code')
    def restore_memo(self, memo_id: int, *, expected_version: int | None = None) -> dict:
        """Bring back a memo deleted with :meth:`delete_memo`.

        Example:
            >>> project.restore_memo(7)["withdrawn_at"] is None  # doctest: +SKIP
            True
        """
        from qualkit.review.decisions import restore_memo

        return restore_memo(self.store, memo_id, actor=self._actor(), expected_version=expected_version)

    @requires('import')
    def import_codings(self, records: Any, *, coder: str | None = None, sources: Sequence[str] | None = None,
                       beside_others: bool = False) -> dict:
        """Bring in a coder's finished coding (JSONL/CSV of ``source``, ``start``/``end`` or ``turn``, ``codes``).

        Recorded as that coder's review: matching suggestions accepted, the others on those segments
        rejected, missing codes added; all or nothing. ``coder`` defaults to this project's user. A second
        coder's file for a reliability check goes on transcripts assigned to both for blind double coding
        (:meth:`assign`); on a transcript others have decided on, the import is refused unless ``beside_others``.

        Example:
            >>> project.import_codings("corpora/burnout_focus_groups/gold_codings.jsonl", coder="ana")  # doctest: +SKIP
            {'accepted': 120, 'rejected': 210, 'added': 480, 'segments': 440}
        """
        from qualkit.coding.records import import_coding_records

        return import_coding_records(self.store, records, coder=coder or self.user,
                                     sources=list(sources) if sources is not None else None,
                                     beside_others=beside_others)

    def ids(self, frame: pd.DataFrame) -> Sequence[int]:
        """The ``id`` column of a frame as a list of ints (handy for chaining)."""
        return [int(i) for i in frame["id"]]

    # ---- coding
    # Thin wrappers over qualkit.coding.workflow; loaded models and the fitted coder stay on this object.
    @requires('run_analyses')
    def autocode(self, *, segment_ids: Sequence[int] | None = None,
                 progress: bool | Callable[[int, int, str], None] = True,
                 fine_tune: bool | str = "auto") -> list[Coding]:
        """Train the AutoCoder on the decisions so far and store fresh suggestions for participant segments.

        Only unreviewed machine suggestions on those segments are replaced (``coder="auto"``, with the
        codebook version); human decisions are never touched and a (segment, code) pair someone already
        decided is never suggested again. ``progress`` is a bar (``True``), nothing (``False``) or a
        callback ``(done, total, message)``; segments are coded in chunks. With ``fine_tune="auto"`` the
        sentence encoder is first fine-tuned on the study (minutes of CPU) once 100 segments are judged, and
        again when they have grown by half (``$QUALKIT_AUTO_FINE_TUNE=0`` switches that off); ``False``
        never tunes, ``True`` always does.

        Example:
            >>> Project.create("sqlite://", user="ana").autocode(progress=False)
            []
        """
        from qualkit.coding.workflow import autocode_project

        return autocode_project(self, segment_ids=segment_ids, progress=progress, fine_tune=fine_tune)

    @requires('code')
    def suggest(self, source: str | int | None = None, *,
                progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        """Suggest codes for the study (or one transcript): the machine coder proposes, people decide.

        Trains on the decisions so far and refreshes only *undecided* machine suggestions: each keeps its
        id and version and gets its new score, even one below the threshold (a decision on the same code
        elsewhere can lower it; the queue's order sinks it, and it stays until a person decides it). One
        is withdrawn only when its basis is gone (its code left the codebook); new ones above the threshold
        are added, and a (segment, code) someone accepted, rejected or coded by hand is never touched nor
        suggested again. ``progress(done, total)`` is called as segments are coded. Returns counts:
        ``segments`` coded and ``suggestions`` now awaiting review on them.

        Example:
            >>> Project.create("sqlite://", name="pilot", user="ana").suggest()
            {'segments': 0, 'suggestions': 0}
        """
        from qualkit.coding.workflow import autocode_project

        source_id = None if source is None else self.store.source(source, with_raw=False).id
        segments = [int(s.id) for s in self.store.segments(source_id=source_id) if s.is_participant]
        if not segments:
            return {"segments": 0, "suggestions": 0}

        def report(done: int, total: int, message: str) -> None:
            if progress is not None and total:
                progress(done, total)

        autocode_project(self, segment_ids=segments if source is not None else None, progress=report)
        codings = self.store.codings_df(source=source_id)
        pending = codings[awaiting_review(codings) & (codings["origin"] != "human")
                          & codings["segment_id"].isin(segments)]
        return {"segments": len(segments), "suggestions": len(pending)}

    @requires('run_analyses')
    def train_coder(self) -> Any:
        """The AutoCoder fitted on this project's segments and decisions (refitted only when they change).

        Example:
            >>> Project.create("sqlite://", user="ana").train_coder().codes_[:1].tolist()
            ['emotional_exhaustion']
        """
        from qualkit.coding.workflow import train_project_coder

        return train_project_coder(self)[0]

    @requires('run_analyses')
    def fine_tune(self, *, seed: int = 0, max_pairs: int = 5000, runs: int = 1,
                  progress: bool | Callable[[int, int, str], None] = True) -> dict:
        """Fine-tune the sentence encoder on this project's decisions and codebook (CPU, offline, seeded).

        The tuned encoder is stored beside the project file (content-addressed) and used by ``autocode``
        for the current codebook version; it needs the ``embeddings`` extra (torch). ``runs=2`` averages
        two tuning runs (steadier, twice the time; see :func:`qualkit.coding.finetune.fine_tune`).

        Example:
            >>> Project.open("study.qualkit.db").fine_tune(seed=0)  # doctest: +SKIP
            {'key': '3f0c...', 'pairs': 2210, 'seconds': 61.2, 'codebook_version': 3, ...}
        """
        from qualkit.coding.workflow import fine_tune_project

        return fine_tune_project(self, seed=seed, max_pairs=max_pairs, runs=runs, progress=progress)

    @requires('view')
    def review_queue(self, n: int = 20, *, source: str | int | None = None, code_id: str | None = None) -> pd.DataFrame:
        """Pending suggestions in the order whose review teaches the coder most, with a ``priority`` column.

        Example:
            >>> Project.create("sqlite://", user="ana").review_queue().empty
            True
        """
        from qualkit.coding.workflow import review_order

        code_id = one_name(code_id, "code_id", optional=True)
        if code_id is not None:  # a code's name ("Staffing") gave an empty queue, as if nothing awaited review
            check_code(self.codebook, code_id)
        count = one_id(n, "n")
        if count < 1:  # review_queue(-1) listed suggestions as if it meant something
            raise InvalidInput(f"n must be at least 1, not {count}", fix="give how many suggestions to list, e.g. 20")
        # the columns of codings(), so a row of either reads the same; a suggestion awaiting review is never removed
        return review_order(self, count, source=source, code_id=code_id).assign(removed=False)

    @requires('see_all')
    def evaluate(self, gold: Any, *, coder: str = "machine") -> pd.DataFrame:
        """Per-code precision, recall, F1, support, kappa, alpha and AC1 of one coder's codings against gold records.

        ``gold`` is a JSONL/CSV path, a DataFrame or records with ``source``, ``start``/``end`` (or
        ``turn``) and ``codes``, like ``corpora/burnout_focus_groups/gold_codings.jsonl``. Only the segments
        the gold records name are scored: list a turn with ``"codes": []`` to count it as coded with nothing.
        ``coder="machine"`` scores what the auto-coder suggested (whether a person accepted or rejected it
        since); a user name (``"ana"``) scores what that person coded.

        Example:
            >>> project.evaluate("corpora/burnout_focus_groups/gold_codings.jsonl")  # doctest: +SKIP
            >>> project.evaluate("ana_gold.jsonl", coder="ben")  # doctest: +SKIP
        """
        from qualkit.coding.workflow import evaluate_project

        return evaluate_project(self, gold, coder=coder)

    # ---- team and review
    # Thin wrappers over qualkit.review / qualkit.users; `self.user` acts with the role qualkit.access gives it.
    def actor(self) -> Any:
        """Who acts in this project: the user with the role the database gives them now (qualkit.access).

        Example:
            >>> Project.create("sqlite://", codebook=None, user="ana").actor().name
            'ana'
        """
        return self.access.user()

    _actor = actor  # the name other branches still call inside this module

    @requires('assign')
    def assign(self, source: str | int, coders: Sequence[str], *, blind: bool = True) -> int:
        """Assign a transcript to coders (two, for blind double-coding); returns how many were added."""
        from qualkit.review.double_coding import assign

        return assign(self.store, source, coders, actor=self._actor(), blind=blind)

    @requires('view')
    def assignments(self) -> pd.DataFrame:
        """Who codes which transcript, blind or not, and whether they are done."""
        from qualkit.review.double_coding import assignments

        return assignments(self.store)

    @requires('code')
    def mark_done(self, source: str | int, *, coder: str | None = None, done: bool = True) -> None:
        """Mark an assignment done (or, as an administrator, reopen one with ``done=False``)."""
        from qualkit.review.double_coding import mark_done

        mark_done(self.store, source, actor=self._actor(), coder=coder, done=done)

    @requires('adjudicate')
    def disagreements(self, source: str | int) -> pd.DataFrame:
        """Where the coders of a finished blind transcript differ, code by code and segment by segment."""
        from qualkit.review.double_coding import disagreements

        return disagreements(self.store, source, actor=self._actor())

    @requires('adjudicate')
    def adjudicate(self, segment_id: int, code_id: str, *, apply: bool, note: str = "") -> Coding:
        """Record the agreed decision on a disagreement; both coders' original decisions stay."""
        from qualkit.review.double_coding import adjudicate

        return adjudicate(self.store, segment_id, code_id, apply=apply, note=note, actor=self._actor())

    @requires('adjudicate')
    def unsettle(self, coding_id: int, *, expected_version: int | None = None) -> Coding:
        """Take back the newest settlement of a disagreement (the ``consensus_id`` of :meth:`disagreements`).

        Example:
            >>> project.unsettle(45).status  # doctest: +SKIP
            'suggested'
        """
        from qualkit.review.double_coding import unsettle

        return unsettle(self.store, coding_id, actor=self._actor(), expected_version=expected_version)

    @requires('manage_users')
    def add_demo_users(self) -> list[tuple[str, str, str]]:
        """Create the demo study's log-ins (an admin and two coders), shown on the app's log-in page."""
        from qualkit.users import create_demo_users

        return create_demo_users(self.store)

    # ---- themes
    # Thin wrappers over qualkit.themes (discover, runs); runs and edits are saved in the store.
    @requires('run_analyses')
    def discover_themes(self, *, codebook: Codebook | bool | None = True, name: str = "", embedder: Any = None,
                        progress: bool | Callable[[int, int, str], None] = True, **options: Any) -> Any:
        """Find emergent themes in participant talk, relate them to the codebook, save the run; returns it.

        ``codebook=True`` uses the active codebook (if any); ``options`` go to
        :func:`qualkit.themes.discover.discover_themes` (``level``, ``min_cluster_size``, ``n_themes``, ``by``, ...).
        ``progress`` is a bar naming each step (``True``), nothing (``False``) or a ``(done, total, message)``
        callback: a first run can spend a minute or two on one step.

        Example:
            >>> project.discover_themes().to_frame().head()  # doctest: +SKIP
        """
        from qualkit.themes.runs import discover_and_save

        return discover_and_save(self.store, codebook=codebook, name=name, embedder=embedder, user=self.user,
                                 progress=progress, **options)

    @requires('view')
    def themes(self, run_id: int | None = None) -> Any:
        """A saved theme run (the latest by default) as a ``ThemeResult``, loaded without refitting."""
        from qualkit.themes.runs import load_run

        return load_run(self.store, run_id)

    @requires('view')
    def theme_runs(self) -> pd.DataFrame:
        """Every saved theme run with who made it, when, its version and summary counts."""
        from qualkit.themes.runs import list_runs

        return list_runs(self.store)

    @requires('edit_codebook')
    def promote_theme(self, theme_id: int, *, code_id: str | None = None, name: str | None = None,
                      parent: str | None = None, run_id: int | None = None) -> Any:
        """Add a theme to the codebook as a code (new version) and suggest it on the theme's segments."""
        from qualkit.themes.runs import promote_theme

        return promote_theme(self.store, theme_id, user=self.user, run_id=run_id, code_id=code_id, name=name,
                             parent=parent)

    @requires('run_analyses')
    def merge_themes(self, theme_ids: Sequence[int], *, label: str | None = None, run_id: int | None = None,
                     expected_version: int | None = None) -> Any:
        """Merge themes of a saved run into the first id given (saved; version-checked)."""
        from qualkit.themes.runs import edit_run

        return edit_run(self.store, "merge", user=self.user, run_id=run_id, expected_version=expected_version,
                        theme_ids=list(theme_ids), label=label)

    @requires('run_analyses')
    def split_theme(self, theme_id: int, *, n: int | None = None, run_id: int | None = None,
                    expected_version: int | None = None) -> Any:
        """Split a theme by re-fitting its documents alone (``n`` parts, or as many as HDBSCAN finds)."""
        from qualkit.themes.runs import edit_run

        return edit_run(self.store, "split", user=self.user, run_id=run_id, expected_version=expected_version,
                        theme_id=theme_id, n=n)

    @requires('run_analyses')
    def rename_theme(self, theme_id: int, label: str, *, run_id: int | None = None,
                     expected_version: int | None = None) -> Any:
        """Give a theme of a saved run a researcher's label."""
        from qualkit.themes.runs import edit_run

        return edit_run(self.store, "rename", user=self.user, run_id=run_id, expected_version=expected_version,
                        theme_id=theme_id, label=label)

    @requires('run_analyses')
    def discard_theme(self, theme_id: int, *, run_id: int | None = None, expected_version: int | None = None) -> Any:
        """Discard a theme as noise: its documents become unassigned; the theme stays on record."""
        from qualkit.themes.runs import edit_run

        return edit_run(self.store, "discard", user=self.user, run_id=run_id, expected_version=expected_version,
                        theme_id=theme_id)

    # ---- analysis and exchange
    # Thin wrappers over qualkit.analysis (pure functions over the store's frames) and qualkit.export.
    def _frames(self) -> tuple[pd.DataFrame, pd.DataFrame, Codebook | None]:
        from qualkit.errors import StoreError

        try:
            codebook = self.codebook
        except StoreError:
            codebook = None
        return self.store.segments_df(), self.store.codings_df(), codebook

    @property
    def min_cell(self) -> int:
        """The study's minimum cell size: grouped figures never show a group of fewer people as itself.

        Stored in the project's settings (default 3, :data:`qualkit.analysis.disclosure.DEFAULT_MIN_CELL`);
        :meth:`prevalence`, :meth:`quotes`, :meth:`distinctive_words` and the report follow it, and each takes
        ``min_cell=`` for one run. 1 shows every group.

        Example:
            >>> Project.create("sqlite://", codebook=None).min_cell
            3
        """
        from qualkit.analysis.disclosure import DEFAULT_MIN_CELL, SETTING, check_min_cell

        return check_min_cell(self.store.settings.get(SETTING, DEFAULT_MIN_CELL))

    @requires('import')
    def set_min_cell(self, min_cell: int) -> int:
        """Set the study's minimum cell size (logged with who and when); returns it. 1 shows every group.

        Example:
            >>> p = Project.create("sqlite://", codebook=None)
            >>> p.set_min_cell(5), p.min_cell
            (5, 5)
        """
        from qualkit.analysis.disclosure import SETTING, check_min_cell

        value = check_min_cell(min_cell)
        self.store.update_settings(user=self.user, **{SETTING: value})
        return value

    @requires('see_all')
    def prevalence(self, by: str | None = "role", **options: Any) -> Any:
        """Code prevalence by a participant attribute: segments, speakers and sessions, with tests.

        Options as in :func:`qualkit.analysis.prevalence.prevalence` (``include_suggested``, ``rollup``...).
        Codes with sub-codes also get a roll-up row ("Disconnection + sub-codes", ``rollup=False`` for
        none), and codebook codes nobody applied are rows of zeros (``all_codes=False`` leaves them out): an
        absent code is a finding too. The app's Analysis page, ``qualkit analyze prevalence`` and the study
        report show this same table. A group of fewer than :attr:`min_cell` people is merged into "Other (groups of fewer
        than N people)" or left out, and ``notes`` says which (``min_cell=1`` for one run shows every group).

        Example:
            >>> Project.create("sqlite://", codebook=None).prevalence(by=None).table.empty
            True
        """
        from qualkit.analysis.prevalence import prevalence
        from qualkit.review.double_coding import unsettled_count

        by = one_name(by, "by", optional=True)
        segments, codings, codebook = self._frames()
        options.setdefault("rollup", True)
        options.setdefault("all_codes", True)
        options.setdefault("min_cell", self.min_cell)
        result = prevalence(segments, codings, by=by, codebook=options.pop("codebook", codebook), **options)
        unsettled = unsettled_count(self.store, actor=self._actor())
        if unsettled:  # said only in the report's methods before; a count read alone hid it
            result.settings["unsettled_disagreements"] = unsettled
            result.notes.append(f"{unsettled} disagreement{'s' if unsettled != 1 else ''} between double-coders "
                                f"{'are' if unsettled != 1 else 'is'} not settled yet; until settled, a passage counts "
                                "for a code when either coder applied it (settle them on the Double coding page, or with "
                                "`qualkit assign settle`).")
        return result

    @requires('see_all')
    def passages(self, code: str, *, other: str | None = None, by: str | None = None, group: str | None = None,
                 **options: Any) -> pd.DataFrame:
        """The passages behind a count: segments coded ``code`` (and ``other``) in ``group`` of ``by``.

        Exactly what :meth:`prevalence` (a code and group) or :meth:`cooccurrence` (two codes) counted: as
        many rows as the number in the cell, attributed by role, with the ids that open the transcript
        there. ``code`` may be a roll-up (``"disconnection+"``). Options as in
        :func:`qualkit.analysis.passages.passages_behind` (``include_suggested``...).

        Example:
            >>> Project.create("sqlite://", codebook=None).passages("workload").empty
            True
        """
        from qualkit.analysis.passages import passages_behind

        segments, codings, codebook = self._frames()
        options.setdefault("min_cell", self.min_cell)  # the groups as prevalence showed them
        return passages_behind(segments, codings, code, other=other, by=by, group=group,
                               codebook=options.pop("codebook", codebook), **options)

    @requires('see_all')
    def cooccurrence(self, *, window: int = 0, **options: Any) -> pd.DataFrame:
        """Code × code co-occurrence within a segment (``window=0``) or within ``window`` turns.

        Example:
            >>> Project.create("sqlite://", codebook=None).cooccurrence().empty
            True
        """
        from qualkit.analysis.cooccurrence import cooccurrence

        segments, codings, codebook = self._frames()
        return cooccurrence(segments, codings, window=window, codebook=options.pop("codebook", codebook), **options)

    @requires('view')
    def distinctive_words(self, by: str = "role", **options: Any) -> pd.DataFrame:
        """Words each group uses more than the others (weighted log-odds, informative Dirichlet prior).

        ``code="workload"`` reads only the segments carrying that code.

        Example:
            >>> Project.create("sqlite://", codebook=None).distinctive_words(by="speaker").empty
            True
        """
        from qualkit.analysis.distinctive import distinctive_words

        if options.get("code") is not None:
            self.access.require_sees_all("distinctive words within a code")
        segments, codings, _ = self._frames()
        if "code" in options:
            options.setdefault("codings", codings)
        # Pseudonyms and aliases are not on the segments: pass them so names never become "distinctive".
        options.setdefault("names", [n for p in self.store.participants() for n in (p.pseudonym, *p.aliases) if n])
        options.setdefault("min_cell", self.min_cell)
        return distinctive_words(segments, by=by, **options)

    @requires('see_all')
    def saturation(self, **options: Any) -> pd.DataFrame:
        """New and cumulative codes per successive transcript (or ``by="session"``).

        Example:
            >>> Project.create("sqlite://", codebook=None).saturation().empty
            True
        """
        from qualkit.analysis.saturation import saturation

        segments, codings, codebook = self._frames()
        return saturation(segments, codings, codebook=options.pop("codebook", codebook), **options)

    @requires('see_all')
    def quotes(self, code: str, *, n: int = 5, **options: Any) -> pd.DataFrame:
        """Exemplar quotes for a code or theme: strongest accepted segments, diverse, attributed by role.

        With ``by="role"`` (say), no quote comes from a group of fewer than :attr:`min_cell` people that
        prevalence leaves out, and one from a group merged into "Other" is not attributed by its value.

        Example:
            >>> Project.create("sqlite://", codebook=None).quotes("workload").empty
            True
        """
        from qualkit.analysis.quotes import quotes

        code = one_name(code, "code")
        segments, codings, codebook = self._frames()
        options.setdefault("min_cell", self.min_cell)
        return quotes(segments, codings, code, n=n, codebook=options.pop("codebook", codebook), **options)

    @requires('view')
    def reliability(self, coders: Sequence[str], *, sources: str | Sequence[str] | None = None,
                    codes: Sequence[str] | None = None, uncoded: str = "exclude", include_moderator: bool = False,
                    n_boot: int = 1000, seed: int = 0, codebook: Codebook | None = None) -> Any:
        """Agreement between two or more coders (user names, ``machine:NAME`` or ``origin:ORIGIN``).

        ``sources`` limits the transcripts (one name or several; default: those the coders double-coded and
        all marked done, else those every coder worked on); the other options are those of
        :func:`qualkit.analysis.reliability.reliability`.

        Example:
            >>> Project.create("sqlite://", codebook=None).reliability(["ana", "ben"], sources="fg1.txt")  # doctest: +SKIP
        """
        from qualkit.analysis.reliability import reliability

        coders = names(coders, "coders")  # "root" is one coder, not four
        sources = [sources] if isinstance(sources, str) else sources
        view = self.access.view()  # read once: the checks and the scope below see the same assignments
        if sources is None and (double_coded := self._finished_by(coders, view)):
            # Where the coders double-coded transcripts, agreement is measured there: a transcript they shared
            # out turn by turn in ordinary team coding gave "disagreements" nobody could settle (kappa -0.08).
            sources = double_coded
        source_ids = None if sources is None else self._check_reliability_sources(list(sources), view)
        self.access.require_coders_visible(coders, source_ids=source_ids, view=view)
        segments, codings, own_codebook = self._frames()
        return reliability(segments, codings, coders, codebook=codebook or own_codebook, sources=sources, codes=codes,
                           finished=self._finished_by(coders, view), uncoded=uncoded,
                           include_moderator=include_moderator, n_boot=n_boot, seed=seed)

    @staticmethod
    def _finished_by(coders: Sequence[str], view: Any) -> list[str]:
        """Transcripts every one of ``coders`` was assigned and marked done (a coder who applied no code there
        still judged it: a methodologist saw a finished transcript drop out of the figures)."""
        names = {str(c).split(":", 1)[-1] for c in coders}
        frame = view.assignments
        if frame.empty:
            return []
        sources = dict(zip(frame["source_id"].astype(int), frame["source"], strict=False))
        return sorted(str(name) for source, name in sources.items() if all(view.is_done(c, source) for c in names))

    def _check_reliability_sources(self, sources: list[str], view: Any) -> list[int]:
        """The ids of the named transcripts; refuses a name the project lacks, or one still being coded blind.

        Agreement on a blind transcript before every coder is done counts what a coder has not reached yet
        as disagreement (a stranger got 82 % agreement with a coder who had made no decision).
        """

        known = self.store.sources_df()
        ids = dict(zip(known["name"], known["id"], strict=True))
        for name in sources:
            if name not in ids:
                raise InvalidInput(f"no transcript named {name!r} in this study",
                                   fix=f"{did_you_mean(name, ids)}see project.sources()")
        for name in sources:
            if view.in_blind_period(int(ids[name])):
                waiting = [row.coder for row in view.assignments.itertuples()
                           if int(row.source_id) == int(ids[name]) and not row.done]
                raise InvalidInput(f"{name} is still being coded blind ({', '.join(waiting)} not done yet), so its "
                                   "agreement would count what they have not coded yet as disagreement",
                                   fix="wait until every coder marked it done, or leave it out of sources")
        return [int(ids[name]) for name in sources]

    @requires('export')
    def export(self, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Any:
        """Export in any registered format (:mod:`qualkit.export.registry`): tables, REFI-QDA, reports.

        ``format`` is an export name (``xlsx``, ``csv``, ``qdpx``, ``qdc``, ``html``, ``md``, ``docx``);
        by default it follows the file's extension (a path without one means a folder of CSV files).
        ``options`` are the ones that export takes (e.g. ``include_suggested``).

        Example:
            >>> import tempfile, pathlib
            >>> p = Project.create("sqlite://", codebook=None)
            >>> p.export(pathlib.Path(tempfile.mkdtemp()) / "study.xlsx").suffix
            '.xlsx'
        """
        from pathlib import Path

        from qualkit.export.registry import export_for

        entry = export_for(path, format)
        entry.check_options(options)
        if entry.name != "qdc":  # a codebook holds no decisions; every other export holds every coder's
            self.access.require_sees_all("a project export")
        return entry.write(self.store, Path(path), **options)

    @requires('export')
    def report(self, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Any:
        """Write the study report as Markdown, HTML or Word (by extension or ``format``); returns the path.

        Example:
            >>> import tempfile, pathlib
            >>> Project.create("sqlite://", codebook=None).report(pathlib.Path(tempfile.mkdtemp()) / "r.md").name
            'r.md'
        """
        from qualkit.export.report import build_report

        self.access.require_sees_all("the report")
        return build_report(self.store, path, format, **options)

    @classmethod
    def import_qdpx(cls, path: str | os.PathLike[str], into: Project | str | os.PathLike[str] | None = None, *,
                    name: str | None = None, user: str | None = None) -> Project:
        """Import a REFI-QDA ``.qdpx`` project into an open project, or into a new one at ``into``.

        Without ``into`` the new project goes beside the file (``study.qdpx`` -> ``study.qualkit.db``).
        The returned project's ``import_report`` says what was imported and what was skipped.

        Example:
            >>> import tempfile, pathlib
            >>> folder = pathlib.Path(tempfile.mkdtemp())
            >>> out = Project.create("sqlite://", name="a", codebook=None).export(folder / "a.qdpx")
            >>> Project.import_qdpx(out, folder / "b.qualkit.db").name
            'a'
        """
        from pathlib import Path

        from qualkit.export.refi import import_into_new_project, import_qdpx

        if isinstance(into, Project):
            into.access.require("import")
            into.import_report = import_qdpx(path, into.store, user=user or into.user)
            return into
        target = into if into is not None else Path(path).with_suffix(".qualkit.db")
        store, report = import_into_new_project(path, target, name=name, user=user or _default_user())
        project = cls(store, user=user)
        project.import_report = report
        return project
