"""Checks on zip-based files (.docx, .xlsx) before any library opens them: no zip bombs, no junk.

A .docx or .xlsx is a zip archive. The declared sizes are checked first (too many members, too much
declared text in total, or a member that expands by more than :data:`MAX_RATIO` and is large); then
every member is inflated in small steps, never past its declared size, into a verified copy that is
all python-docx and openpyxl ever open. (Python's ``zipfile`` cuts a member at its declared size, but
``read()`` first inflates one whole compressed block, so a header that lies costs gigabytes.)

Example:
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as z:
    ...     z.writestr("word/document.xml", "<w:document/>")
    >>> copy = check_archive(buffer.getvalue(), "a.docx", required="word/document.xml")
    >>> zipfile.ZipFile(io.BytesIO(copy)).read("word/document.xml")
    b'<w:document/>'
"""

from __future__ import annotations

import io
import os
import zipfile

from qualkit.errors import InvalidTranscript
from qualkit.ingest.encoding import human_size
from qualkit.ingest.limits import describe_exception

MAX_MEMBERS = 5_000
MAX_RATIO = 100
RATIO_FLOOR = 5_000_000  # members smaller than this (uncompressed) may compress as well as they like


MAX_XML_BYTES = 64_000_000  # declared size of all XML parts together: what lxml would hold in memory
_CHUNK = 1 << 16


def _damaged(kind: str, path: str | os.PathLike[str], why: str) -> InvalidTranscript:
    extension = {"Word": ".docx", "Excel": ".xlsx"}.get(kind, "")
    return InvalidTranscript(f"the file is a damaged {kind} file ({why})", path=path,
                             fix=f"open it in {kind} and save it again as {extension}")


def check_archive(raw: bytes, path: str | os.PathLike[str], *, required: str, max_bytes: int = 50_000_000,
                  kind: str = "Word") -> bytes:
    """Refuse ``raw`` unless it is a sane zip archive holding ``required``; return a verified copy of it.

    Checked before anything is inflated: the members' count, their declared sizes (in total at most
    ``4 * max_bytes``, XML parts at most :data:`MAX_XML_BYTES`), no member above 5 MB expanding more
    than 100-fold, only stored or deflated members, no encryption. Then every member is inflated in
    64 KB steps, never past its declared size, and its CRC checked, into a new archive: python-docx and
    openpyxl only ever see that copy, so headers that lie about sizes cost no memory beyond the limits.

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
    except Exception as exc:  # BadZipFile, NotImplementedError (zip version), struct/Unicode errors...
        raise _damaged(kind, path, describe_exception(exc)) from None
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
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    if xml > MAX_XML_BYTES:
        raise InvalidTranscript(
            f"its text parts would expand to {human_size(xml)} (limit {human_size(MAX_XML_BYTES)})", path=path,
            fix="split the transcript into several files")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise InvalidTranscript(
                f"part {member.filename[:80]!r} expands {ratio:.0f}-fold to {human_size(member.file_size)}; "
                "it may be a zip bomb", path=path, fix="do not import it; ask for the original file")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _damaged(kind, path, f"part {member.filename[:80]!r} uses an unusual compression")
        if member.flag_bits & 0x1:
            raise InvalidTranscript(f"the {kind} file is encrypted (password-protected)", path=path,
                                    fix=f"remove the password in {kind} and save it again")
    names = {member.filename for member in members}
    if required not in names:
        raise InvalidTranscript(f"the archive has no {required}, so it is not a {kind} file", path=path,
                                fix=f"open it in {kind} and save it again as {extension}")
    copy = io.BytesIO()
    try:
        with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
            for member in members:
                if member.is_dir():
                    continue
                out.writestr(member.filename, _inflate(archive, member, path, kind))
    except InvalidTranscript:
        raise
    except Exception as exc:  # bad CRC, truncated stream, lying local header, unsupported version...
        raise _damaged(kind, path, describe_exception(exc)) from None
    return copy.getvalue()


def _inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: str | os.PathLike[str], kind: str) -> bytes:
    """A member's bytes, read in bounded steps; never more than its declared size (zipfile stops there)."""
    parts: list[bytes] = []
    size = 0
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > member.file_size:
                raise _damaged(kind, path, f"part {member.filename[:80]!r} is larger than its header says")
            parts.append(chunk)
    if size != member.file_size:
        raise _damaged(kind, path, f"part {member.filename[:80]!r} is shorter than its header says")
    return b"".join(parts)
