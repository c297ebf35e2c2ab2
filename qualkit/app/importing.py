"""Importing uploaded transcripts in a thread that a second click, or any rerun, cannot cut short.

Streamlit stops a running script at its next command when another click arrives. A double-click on
Import stopped the import after one file of four (or before the first), and the rerun, its form already
cleared, said "Choose the transcripts to import first": a researcher's study half in, with a message
saying nothing was chosen. The import now starts in the form's callback, runs in its own thread, and
every run of the page shows its progress until it has finished; a click meanwhile starts nothing.

Example:
    >>> run = ImportRun(folder=Path("."), paths=[Path("fg1.txt"), Path("fg2.txt")])
    >>> run.progress_text()
    'Importing 2 transcripts: 0 of 2 done'
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualkit.app.state import without_folder
from qualkit.errors import ImportFailed, QualkitError


@dataclass
class ImportRun:
    """One import of uploaded files: where their copies are, how far it got, and what it said of each file.

    ``options(path)`` gives the keyword options of ``Project.import_transcripts`` for one file.

    Example:
        >>> ImportRun(folder=Path("."), paths=[]).finished.is_set()
        False
    """

    folder: Path
    paths: list[Path]
    participants: Path | None = None
    options: Any = None
    done: int = 0
    imported: int = 0
    skipped: int = 0
    reports: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_people: list[str] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)

    def start(self, project: Any) -> None:
        """Import in a daemon thread (the page polls :attr:`finished`)."""
        threading.Thread(target=self.run, args=(project,), name="qualkit-import", daemon=True).start()

    def run(self, project: Any) -> None:
        """Import each file in its own transaction, noting what happened; the copies are removed at the end."""
        try:
            for path in self.paths:
                try:
                    found = project.import_transcripts([path], participants=self.participants, progress=False,
                                                       uploaded=True, **(self.options(path) if self.options else {}))
                except QualkitError as error:
                    reasons = [reason for _, reason in error.failures] if isinstance(error, ImportFailed) \
                        else [str(error)]
                    for reason in reasons:
                        text = without_folder(reason, self.folder)
                        self.errors.append(text if text.startswith(f"{path.name}:") else f"{path.name}: {text}")
                else:
                    self.skipped += sum(1 for report in found or [] if report.skipped)
                    self.imported += sum(1 for report in found or [] if not report.skipped)
                    self.reports += [report.summary() if hasattr(report, "summary") else str(report)
                                     for report in found or []]
                self.done += 1
            if self.imported:
                self.new_people = project.add_speaker_participants()
        except Exception as error:  # said on the page: an exception in a thread is otherwise lost
            self.errors.append(f"the import stopped after {self.done} of {len(self.paths)} files: {error}")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.finished.set()

    def progress_text(self) -> str:
        """What the progress bar says.

        Example:
            >>> ImportRun(folder=Path("."), paths=[Path("a.txt")], done=1).progress_text()
            'Importing 1 transcript: 1 of 1 done'
        """
        n = len(self.paths)
        return f"Importing {n} transcript{'' if n == 1 else 's'}: {self.done} of {n} done"

    def summary(self) -> tuple[str, str]:
        """The message when it has finished, and its kind (success, info or warning).

        Example:
            >>> ImportRun(folder=Path("."), paths=[Path("a.txt"), Path("b.txt")], imported=1, skipped=1).summary()
            ('Import finished: 1 of 2 transcripts. 1 was already in the study (skipped, unchanged).', 'info')
        """
        n = len(self.paths)
        message = f"Import finished: {self.imported} of {n} transcripts."
        if self.skipped:
            message += f" {self.skipped} {'was' if self.skipped == 1 else 'were'} already in the study (skipped, " \
                       "unchanged)."
        if self.new_people:
            message += (f" New speakers have participant rows: {', '.join(self.new_people)} — fill in their role and "
                        "group in the table below.")
        kind = "success" if self.imported == n else "info" if self.imported + self.skipped == n else "warning"
        return message, kind
