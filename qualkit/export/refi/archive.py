"""The ``.qdpx`` zip archive: open one safely (every member checked before anything is read) and pack one.

Members are checked before reading: no absolute paths, no ``..``, no drive letters, a bounded number
of members, declared sizes under the limits, no zip-bomb compression ratios, and a member is never
read past its declared size (a lying header cannot make us inflate more). ``project.qde`` is parsed
with ``defusedxml`` with DTDs, entities and external references forbidden. Every problem is one
:class:`~qualkit.errors.InvalidProjectFile` naming the file.

Example:
    >>> import io, zipfile
    >>> data = pack(b"<?xml version='1.0'?><Project xmlns='urn:QDA-XML:project:1.0'/>", {})
    >>> zipfile.ZipFile(io.BytesIO(data)).namelist()
    ['project.qde']
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidProjectFile

MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200


def safe_members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Check every member's name and size before reading anything; return name -> info.

    Example:
        >>> import io, zipfile
        >>> archive = zipfile.ZipFile(io.BytesIO(pack(b"<x/>", {"sources/a.txt": b"hi"})))
        >>> sorted(safe_members(archive, Path("p.qdpx")))
        ['project.qde', 'sources/a.txt']
    """
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InvalidProjectFile(f"the archive holds {len(infos)} files (limit {MAX_MEMBERS})", path=path,
                                 fix="this is not a normal .qdpx project; export it again")
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ".." in parts
                or re.match(r"^[A-Za-z]:", name) or posixpath.normpath(name).startswith("..")):
            raise InvalidProjectFile(f"unsafe path {name!r} in the archive (path traversal)", path=path,
                                     fix="only open .qdpx files from a trusted QDA program; export it again")
        if info.file_size > MAX_MEMBER_BYTES:
            raise InvalidProjectFile(f"{name} would unpack to {info.file_size} bytes (limit {MAX_MEMBER_BYTES})",
                                     path=path, fix="split the project or remove large media sources")
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InvalidProjectFile(f"{name} is compressed {info.file_size // max(info.compress_size, 1)}:1, "
                                     "like a zip bomb", path=path, fix="export the project again")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InvalidProjectFile(f"the archive would unpack to more than {MAX_TOTAL_BYTES} bytes", path=path,
                                     fix="remove large media sources before exporting")
        if not name.endswith("/"):
            members[name] = info
    return members


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """Read a member, never more than its declared size (a lying header cannot make us read more).

    Example:
        >>> import io, zipfile
        >>> archive = zipfile.ZipFile(io.BytesIO(pack(b"<x/>", {})))
        >>> read_member(archive, archive.getinfo("project.qde"), Path("p.qdpx"))
        b'<x/>'
    """
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise InvalidProjectFile(f"{info.filename} cannot be read ({error})", path=path,
                                 fix="the archive is damaged or crafted; export it again") from None
    if len(data) > info.file_size:
        raise InvalidProjectFile(f"{info.filename} is larger than its header says", path=path,
                                 fix="the archive is damaged or crafted; export it again")
    return data


def parse_xml(data: bytes, path: Path, member: str) -> Any:
    """Parse XML with DTDs, entities and external references refused; errors name the file and line.

    Example:
        >>> parse_xml(b"<a><b/></a>", Path("p.qdpx"), "project.qde").tag
        'a'
    """
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InvalidProjectFile(f"{member}: unsafe XML refused ({type(error).__name__}: DTDs and entities are "
                                 "not allowed)", path=path, fix="export the project again from the QDA program") from None
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise InvalidProjectFile(f"{member} is not well-formed XML ({error})", path=path, line=line,
                                 fix="export the project again") from None


@contextmanager
def open_qdpx(path: str | os.PathLike[str]) -> Iterator[tuple[Any, Callable[[str], bytes]]]:
    """Open a ``.qdpx`` safely: yields (the parsed ``project.qde`` root, a reader of source files by reference).

    The reader takes a ``plainTextPath`` (``internal://<GUID>.txt`` or a member name) and returns its
    bytes; it is valid inside the ``with`` block only.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "p.qdpx"
        >>> _ = out.write_bytes(pack(b"<Project name='p'/>", {"sources/A.txt": b"hi"}))
        >>> with open_qdpx(out) as (root, read_source):
        ...     root.get("name"), read_source("internal://A.txt")
        ('p', b'hi')
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidProjectFile("no such file", path=path, fix="check the path")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InvalidProjectFile("not a .qdpx file (not a zip archive)", path=path,
                                 fix="export the project from the QDA program as REFI-QDA project (.qdpx)") from None
    with archive:
        members = safe_members(archive, path)
        by_lower = {name.lower(): info for name, info in members.items()}
        qde = by_lower.get("project.qde")
        if qde is None:
            raise InvalidProjectFile("the archive has no project.qde", path=path,
                                     fix="export the project again as a REFI-QDA project (.qdpx)")
        root = parse_xml(read_member(archive, qde, path), path, "project.qde")

        def read_source_file(reference: str) -> bytes:
            target = reference.split("://", 1)[1] if "://" in reference else reference
            target = target.lstrip("/")
            for candidate in (f"sources/{target}", target):
                info = by_lower.get(candidate.lower())
                if info is not None:
                    return read_member(archive, info, path)
            raise InvalidProjectFile(f"source file {reference!r} is not in the archive", path=path,
                                     fix="export the project again with its sources")

        yield root, read_source_file


def pack(project_qde: bytes, files: dict[str, bytes]) -> bytes:
    """A ``.qdpx`` archive (deflated zip) of ``project.qde`` and the given members, in name order.

    Example:
        >>> import io, zipfile
        >>> zipfile.ZipFile(io.BytesIO(pack(b"<x/>", {"sources/b.txt": b"", "sources/a.txt": b""}))).namelist()
        ['project.qde', 'sources/a.txt', 'sources/b.txt']
    """
    buffer = io.BytesIO()
    now = time.localtime()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("project.qde", project_qde), *sorted(files.items())]:
            info = zipfile.ZipInfo(name, date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable by the team once unpacked (writestr's default is 0600)
            archive.writestr(info, data)
    return buffer.getvalue()
