"""Every error qualkit raises on purpose, in one place.

Each error says what is wrong, where (file and line when there is one) and how to fix it, in a single
line a researcher can act on. The CLI and the app print ``str(error)`` and never a traceback.

Example:
    >>> err = InvalidTranscript("no text column", path="answers.csv", line=1, fix="pass text_column=")
    >>> str(err)
    'answers.csv:1: no text column. Fix: pass text_column='
"""

from __future__ import annotations

from os import PathLike
from typing import Any


class QualkitError(Exception):
    """Base class of every deliberate qualkit error.

    ``fix`` speaks Python (``name=``); ``cli_fix``, when the fix differs on the command line, speaks the
    CLI's options (``--project NAME``); ``app_fix`` the review app's controls. ``str(error)`` is the Python
    text; :meth:`render` picks the surface's own (the CLI prints ``render("cli")``, the app
    ``render("app")``), so a hint never names another surface's syntax.

    Example:
        >>> str(QualkitError("something broke", fix="try again"))
        'something broke. Fix: try again'
        >>> QualkitError("2 projects", fix="pass name=", cli_fix="pass --project NAME").render("cli")
        '2 projects. Fix: pass --project NAME'
    """

    cli_fix: str | None = None
    app_fix: str | None = None
    max_message: int | None = None  # errors about a user's file keep to one short line (see InvalidTranscript)

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        fix: str | None = None,
        cli_fix: str | None = None,
        app_fix: str | None = None,
    ) -> None:
        if self.max_message is not None:
            message = _one_line(message, self.max_message)
            fix = _one_line(fix, self.max_message) if fix is not None else None
            cli_fix = _one_line(cli_fix, self.max_message) if cli_fix is not None else None
            app_fix = _one_line(app_fix, self.max_message) if app_fix is not None else None
            path = _one_line(str(path), self.max_message) if path is not None else None
        self.message = message.rstrip(".")
        self.path = str(path) if path is not None else None
        self.line = line
        self.fix = fix
        self.cli_fix = cli_fix
        self.app_fix = app_fix
        super().__init__(str(self))

    def render(self, surface: str = "python") -> str:
        """The one-line message for a surface: ``python``, ``cli`` or ``app`` (each falls back to ``fix``).

        Example:
            >>> QualkitError("no", fix="pass user=", cli_fix="pass --user NAME").render()
            'no. Fix: pass user='
            >>> QualkitError("no", fix="pass user=", app_fix="log in first").render("app")
            'no. Fix: log in first'
        """
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = f"{where}{self.message}"
        fix = {"cli": self.cli_fix, "app": self.app_fix}.get(surface) or self.fix
        if fix:
            text += f". Fix: {fix}"
        return text

    def __str__(self) -> str:
        return self.render("python")


class InvalidTranscript(QualkitError, ValueError):
    """A transcript cannot be read: empty, binary, too large, malformed, or missing a text column.

    Its message, fix and path are one line each, at most 400 characters: whatever a reader puts in
    (a header of a million columns, a zip header's bytes), the error stays readable.

    Example:
        >>> len(str(InvalidTranscript("no text column among " + "x," * 10**6, path="wide.csv"))) < 500
        True
    """

    max_message = 400


class ImportFailed(QualkitError):
    """Some files of a batch import failed; the others were stored (each file is all-or-nothing).

    ``failures`` lists ``(path, one-line reason)``; ``reports`` holds the import reports of the stored files.

    Example:
        >>> err = ImportFailed([("b.docx", "b.docx: the file is empty. Fix: re-export it")], reports=[], total=2)
        >>> str(err)
        '1 of 2 files failed and were not imported: b.docx: the file is empty. Fix: re-export it'
    """

    def __init__(self, failures: list[tuple[str, str]], *, reports: list[Any] | None = None,
                 total: int | None = None) -> None:
        self.failures = list(failures)
        self.reports = list(reports or [])
        total = total if total is not None else len(self.failures) + len(self.reports)
        reasons = " | ".join(reason for _, reason in self.failures)
        super().__init__(f"{len(self.failures)} of {total} files failed and were not imported: {reasons}")


class InvalidCodebook(QualkitError, ValueError):
    """A codebook is invalid: duplicate ids, unknown parents, cycles, empty names or bad patterns."""


class InvalidInput(QualkitError, ValueError):
    """Input rows (JSONL/CSV for the CLI, labels for training) are malformed or name unknown codes."""

    max_message = 400


class InvalidProjectFile(QualkitError, ValueError):
    """An exchange file (.qdpx, .qdc) is unsafe or does not follow its schema."""


class StoreError(QualkitError):
    """The project store cannot do what was asked (missing project, wrong schema, ...)."""


class ProjectNotFound(StoreError):
    """No qualkit project exists at the given path or database URL."""


class SuggestionWithdrawn(StoreError):
    """The machine coder withdrew this suggestion when it retrained (nobody had decided on it).

    Example:
        >>> isinstance(SuggestionWithdrawn("suggestion 5 is no longer there"), StoreError)
        True
    """


class ConflictError(StoreError):
    """Someone else changed a record since you read it; nothing was overwritten.

    ``current`` holds the record's current values so the caller can show them.

    Example:
        >>> err = ConflictError("coding 7 was changed by bob", current={"status": "rejected"})
        >>> err.current["status"]
        'rejected'
    """

    def __init__(self, message: str, *, current: dict[str, Any] | None = None, fix: str | None = None) -> None:
        self.current = current or {}
        super().__init__(message, fix=fix or "reload to see the current value, then decide again",
                         cli_fix=None if fix else "see its current ID@VERSION with `qualkit review queue` or `qualkit show "
                                                  "TRANSCRIPT`, then decide again")


class PermissionDenied(QualkitError, PermissionError):
    """The user's role does not allow this action."""


class MissingDependency(QualkitError, ImportError):
    """An optional extra is needed for this feature and is not installed.

    Example:
        >>> str(MissingDependency("bertopic", extra="topics"))
        "the optional package 'bertopic' is not installed. Fix: pip install 'qualkit[topics]'"
    """

    def __init__(self, package: str, *, extra: str | None = None, pip: str | None = None) -> None:
        self.package = package
        command = pip or (f"pip install 'qualkit[{extra}]'" if extra else f"pip install {package}")
        super().__init__(f"the optional package {package!r} is not installed", fix=command)


__all__ = [
    "ConflictError",
    "ImportFailed",
    "InvalidCodebook",
    "InvalidInput",
    "InvalidProjectFile",
    "InvalidTranscript",
    "MissingDependency",
    "PermissionDenied",
    "ProjectNotFound",
    "QualkitError",
    "StoreError",
    "SuggestionWithdrawn",
]


def _one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of whitespace as one space), cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(value: Any, choices: Any) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices``, or ``""``: the start of an error's fix.

    Example:
        >>> did_you_mean("workluad", ["workload", "isolation"])
        "did you mean 'workload'? "
        >>> did_you_mean("nonexistent", ["turnover_intent"])
        ''
    """
    import difflib

    # At difflib's default cutoff (0.6) 'nonexistent' was "meant" as 'turnover_intent': a guess that misleads.
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.75)
    return f"did you mean {close[0]!r}? " if close else ""
