"""Checks on zip-based files (.docx, .xlsx) before any library opens them: no zip bombs, no junk.

A .docx or .xlsx is a zip archive. Python's ``zipfile`` never inflates a member beyond the size its
header declares, so checking the declared sizes is enough to refuse a bomb before python-docx or
openpyxl touch it: too many members, too much declared text in total, or a member that expands
by more than :data:`MAX_RATIO` and is large.

Example:
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as z:
    ...     z.writestr("word/document.xml", "<w:document/>")
    >>> check_archive(buffer.getvalue(), "a.docx", required="word/document.xml")
"""

from __future__ import annotations

import io
import os
import zipfile

from qualkit.errors import InvalidTranscript
from qualkit.ingest.encoding import human_size

MAX_MEMBERS = 5_000
MAX_RATIO = 100
RATIO_FLOOR = 5_000_000  # members smaller than this (uncompressed) may compress as well as they like


def check_archive(raw: bytes, path: str | os.PathLike[str], *, required: str, max_bytes: int = 50_000_000,
                  kind: str = "Word") -> None:
    """Refuse ``raw`` unless it is a sane zip archive holding ``required`` (e.g. ``word/document.xml``).

    The declared uncompressed total may not exceed ``4 * max_bytes``, and no member above 5 MB may
    expand more than 100-fold.

    Example:
        >>> check_archive(b"not a zip", "x.docx", required="word/document.xml")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: x.docx: the file is not a valid Word file (not a zip archive). Fix: ...
    """
    extension = {"Word": ".docx", "Excel": ".xlsx"}.get(kind, "")
    if not raw.startswith(b"PK"):
        raise InvalidTranscript(f"the file is not a valid {kind} file (not a zip archive)", path=path,
                                fix=f"open it in {kind} and save it again as {extension}, "
                                    "or give it the extension that matches its content")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InvalidTranscript(f"the file is a damaged {kind} file ({exc})", path=path,
                                fix=f"open it in {kind} and save it again as {extension}") from None
    if len(members) > MAX_MEMBERS:
        raise InvalidTranscript(f"the archive holds {len(members)} parts, far more than a real {kind} file",
                                path=path, fix=f"open it in {kind} and save it again as {extension}")
    total = sum(member.file_size for member in members)
    limit = 4 * max_bytes
    if total > limit:
        raise InvalidTranscript(
            f"the file would expand to {human_size(total, than=limit)} (limit {human_size(limit)}); "
            "it may be a zip bomb",
            path=path, fix="do not import it; if it is a genuine transcript, split it or raise max_bytes= (--max-mb)")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise InvalidTranscript(
                f"part {member.filename!r} expands {ratio:.0f}-fold to {human_size(member.file_size)}; "
                "it may be a zip bomb", path=path, fix="do not import it; ask for the original file")
    names = {member.filename for member in members}
    if required not in names:
        raise InvalidTranscript(f"the archive has no {required}, so it is not a {kind} file", path=path,
                                fix=f"open it in {kind} and save it again as {extension}")
