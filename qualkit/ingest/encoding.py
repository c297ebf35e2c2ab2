"""Reading transcript bytes safely and decoding them to text: size limits, binary sniffing, encodings.

Decoding keeps the text exactly as written (CRLF stays CRLF, a lone CR stays CR) and removes only a
byte-order mark. UTF-8 (with or without BOM) and UTF-16/32 with a BOM are taken as they are; UTF-16
without a BOM is recognised by its NUL pattern; anything else is detected (charset-normalizer, with
Windows-1252 preferred among Western single-byte guesses when it reads the bytes as cleanly) and the
choice is reported as a warning.

Example:
    >>> decode_bytes("Ann: café\\r\\n".encode("cp1252"), "g1.txt").text
    'Ann: café\\r\\n'
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from qualkit.errors import InvalidTranscript

DEFAULT_MAX_BYTES = 50_000_000
_LINE_END = re.compile(r"\r\n|\r|\n")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WESTERN = {"cp1252", "windows-1252", "latin_1", "iso8859_1", "iso8859_15", "cp1250", "mac_roman", "cp850",
            "cp437", "iso8859_2", "iso8859_9", "cp1254", "cp1257", "iso8859_10", "iso8859_14"}
_CP1252_FAMILY = {"cp1252", "windows_1252", "latin_1", "iso8859_1", "iso8859_15"}
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF", "a PDF file", "copy the text into a .txt file or export the transcript as .docx"),
    (b"\xd0\xcf\x11\xe0", "an old Word/Excel file (.doc/.xls)", "open it in Word or Excel and save as .docx or .xlsx"),
    (b"{\\rtf", "an RTF file", "open it in Word and save as .docx, or save as plain text"),
    (b"\x89PNG", "an image", "transcribe it first; qualkit reads text, Word, subtitle and spreadsheet files"),
    (b"\xff\xd8\xff", "an image", "transcribe it first; qualkit reads text, Word, subtitle and spreadsheet files"),
    (b"ID3", "an audio file", "transcribe the recording first, then import the transcript"),
    (b"OggS", "an audio file", "transcribe the recording first, then import the transcript"),
    (b"fLaC", "an audio file", "transcribe the recording first, then import the transcript"),
)


@dataclass(slots=True)
class Decoded:
    """Text decoded from bytes, with the encoding used and any warnings for the import report.

    Example:
        >>> Decoded("hi", "utf-8").warnings
        []
    """

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file's bytes after checking that it exists, is a file, and is not over ``max_bytes``.

    Example:
        >>> read_bytes("missing.txt")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: missing.txt: the file does not exist. Fix: ...
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InvalidTranscript("the file does not exist", path=path, fix="check the path and the file name") from None
    except OSError as exc:
        raise InvalidTranscript(f"the file cannot be read ({exc.strerror or exc})", path=path,
                                fix="check that the file exists and that you may read it") from None
    if not path.is_file():
        raise InvalidTranscript("is not a file", path=path, fix="pass transcript files, or folders of them")
    if size > max_bytes:
        raise InvalidTranscript(
            f"the file is {human_size(size, than=max_bytes)}, over the limit of {human_size(max_bytes)}", path=path,
            fix="split the transcript into smaller files, or raise the size limit (--max-mb on the command line)")
    try:
        with path.open("rb") as handle:
            return handle.read(min(size, max_bytes) + 1)  # read(n) reserves n bytes: not the limit, the file
    except OSError as exc:
        raise InvalidTranscript(f"the file cannot be read ({exc.strerror or exc})", path=path,
                                fix="check the file's permissions") from None


def human_size(n: int | float, *, than: int | float | None = None) -> str:
    """``n`` bytes in readable units (bytes, KB, MB, GB; powers of 1000); exact when ``than`` would look equal.

    Example:
        >>> human_size(812), human_size(100), human_size(48_213), human_size(50_000_000)
        ('812 bytes', '100 bytes', '48.2 KB', '50 MB')
        >>> human_size(50_000_001, than=50_000_000)
        '50,000,001 bytes'
    """
    def units(value: float) -> str:
        for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
            if value >= size:
                return f"{value / size:.1f}".removesuffix(".0") + f" {unit}"
        return f"{value:,.0f} bytes"

    text = units(n)
    if than is not None and text == units(than):
        return f"{n:,.0f} bytes"
    return text


def sniff_binary(raw: bytes, path: str | os.PathLike[str]) -> None:
    """Raise :class:`InvalidTranscript` when ``raw`` is empty or clearly not text (PDF, image, NUL bytes).

    Example:
        >>> sniff_binary(b"Ann: hi", "a.txt") is None
        True
    """
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InvalidTranscript("the file is empty", path=path, fix="check that the transcript was saved with its text")
    for magic, what, fix in _MAGIC:
        if raw.startswith(magic):
            raise InvalidTranscript(f"the file is {what}, not a text transcript", path=path, fix=fix)
    if raw.startswith(b"PK\x03\x04"):
        suffix = Path(path).suffix.lower()
        # Read as text although its name says .docx: --format txt (or format="txt") asked for it.
        fix = (f"leave out the format option: a {suffix} file is read as {suffix}" if suffix in (".docx", ".xlsx")
               else "give it its real extension (.docx or .xlsx), or unpack it")
        raise InvalidTranscript("the file is a zip archive (Word, Excel or another packaged file), not plain text",
                                path=path, fix=fix)
    if _utf16_without_bom(raw) is None and b"\x00" in raw[:65536]:
        raise InvalidTranscript("the file looks binary (it contains NUL bytes), not like a text transcript",
                                path=path, fix="export the transcript as .txt, .docx, .vtt, .srt or .csv")


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the bytes look like BOM-less UTF-16 text, else None."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _line_of_byte(raw: bytes, position: int) -> int:
    return raw.count(b"\n", 0, position) + 1


def decode_bytes(raw: bytes, path: str | os.PathLike[str], *, encoding: str | None = None) -> Decoded:
    """Decode transcript bytes to text, keeping line endings, dropping a BOM, reporting a guessed encoding.

    Raises :class:`InvalidTranscript` (with the line of the first bad byte) when the bytes cannot be
    decoded with the given or detected encoding.

    Example:
        >>> decode_bytes(b"\\xef\\xbb\\xbfAnn: hi\\r\\n", "a.txt").text
        'Ann: hi\\r\\n'
    """
    sniff_binary(raw, path)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidTranscript(f"unknown encoding {encoding!r}", path=path,
                                    fix="use a Python codec name such as utf-8, utf-16, cp1252 or latin-1") from None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InvalidTranscript(f"the bytes are not valid {encoding} (byte {exc.start})", path=path,
                                    line=_line_of_byte(raw, exc.start),
                                    fix="leave encoding= out to detect it, or name the right encoding") from None
        refuse_mojibake(raw, text, encoding, path)
        return Decoded(text.removeprefix("\ufeff"), encoding)
    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return Decoded(raw.decode(name).removeprefix("\ufeff"), "utf-8" if name == "utf-8-sig" else name)
            except UnicodeDecodeError as exc:
                raise InvalidTranscript(f"the file starts with a {name} byte-order mark but is not valid {name}",
                                        path=path, line=_line_of_byte(raw, exc.start),
                                        fix="re-save the file as UTF-8") from None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        try:
            return Decoded(raw.decode(utf16), utf16, [f"no byte-order mark; read as {utf16}"])
        except UnicodeDecodeError:
            pass
    try:
        return Decoded(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    guess = _guess_legacy(raw)
    if guess is None:
        raise InvalidTranscript("the text encoding could not be recognised", path=path,
                                line=_line_of_byte(raw, first_bad),
                                fix="re-save the file as UTF-8, or name its encoding (--encoding on the command line)")
    text = raw.decode(guess)
    return Decoded(text, guess, [f"not UTF-8 (first non-UTF-8 byte on line {_line_of_byte(raw, first_bad)}); "
                                 f"decoded as {guess} (detected); if characters look wrong, give the file's encoding "
                                 "(Python: encoding=, CLI: --encoding)"])


def refuse_mojibake(raw: bytes, text: str, encoding: str, path: str | os.PathLike[str]) -> None:
    """Refuse a UTF-8 file read with another encoding the user named: its accents would turn into mojibake.

    Read as latin-1, "Zoë:" becomes "ZoÃ«:", so that speaker's label is not recognised and her turns run
    into the previous speaker's. Bytes that are valid UTF-8 and hold non-ASCII characters are UTF-8 but for a
    vanishingly rare coincidence; the error names the line and shows the word as it would have been read.

    Example:
        >>> refuse_mojibake("Zoë: hi".encode(), "Zoë: hi".encode().decode("latin-1"), "latin-1", "a.txt")
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: a.txt:1: the file is UTF-8, not latin-1: read as latin-1, 'Zoë:' would become 'ZoÃ«:'. Fix: leave encoding= out (the file is read as UTF-8)
    """
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") or raw.isascii():
        return
    try:
        right = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return  # not UTF-8: the encoding named may well be right
    if right == text.removeprefix("\ufeff"):
        return
    offset = next(i for i, ch in enumerate(right) if not ch.isascii())
    start = max(right.rfind(" ", 0, offset), right.rfind("\n", 0, offset)) + 1
    ends = [i for i in (right.find(" ", offset), right.find("\n", offset), right.find("\r", offset)) if i >= 0]
    word = right[start:min(ends) if ends else len(right)]
    shown = word.encode("utf-8").decode(encoding, errors="replace")
    raise InvalidTranscript(f"the file is UTF-8, not {encoding}: read as {encoding}, {word!r} would become {shown!r}",
                            path=path, line=right.count("\n", 0, offset) + 1,
                            fix="leave encoding= out (the file is read as UTF-8)",
                            cli_fix="leave --encoding out (the file is read as UTF-8)")


def _latin_only(text: str) -> bool:
    """True when every non-ASCII character is a Latin letter, a Latin-1 sign or typographic punctuation."""
    for char in text:
        code = ord(char)
        if code < 0x80 or 0xA0 <= code <= 0x17F or 0x2010 <= code <= 0x203A or char in "€™ƒˆ˜Š‹ŒŽšœžŸ":
            continue
        return False
    return True


def _guess_legacy(raw: bytes) -> str | None:
    """Pick a legacy encoding: charset-normalizer's guess, or Windows-1252 when it reads the bytes as well.

    The detector often names a Central-European code page (cp1250) for Western text with a few accents,
    where the two agree on almost every byte; Windows-1252 wins then. But where the detector's reading
    is clearly better (Polish "Zażółć gęślą jaźń" in cp1250 reads as "Za¿ó³æ gêœl¹ jaŸñ" in cp1252),
    the detected encoding is kept.
    """
    try:
        cp1252 = raw.decode("cp1252")
    except UnicodeDecodeError:
        cp1252 = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
    except Exception:  # detector failure is not fatal: fall back to cp1252 below
        best = None
    name = best.encoding.lower().replace("-", "_") if best is not None else None
    detected: str | None = None
    if name is not None:
        try:
            detected = raw.decode(name)
        except (UnicodeDecodeError, LookupError):
            name = None
    if cp1252 is None:
        return name
    if name is None or name in _CP1252_FAMILY:
        return "cp1252"
    non_ascii = sum(b >= 0x80 for b in raw)
    western = name in _WESTERN or name.startswith("iso8859")
    # A detector needs some evidence; on a few accented words it guesses wildly.
    # Windows' curly quotes, dashes and euro sign are cp1252's own bytes (0x80-0x9F); the measure of mess
    # counts them against cp1252, so a short Western text full of them was read as Baltic cp775 ("ōawfulö").
    plain = cp1252.translate(_TYPOGRAPHIC)
    if (western or (non_ascii < 20 and _latin_only(cp1252))) and _mess(plain) <= _mess(detected or ""):
        return "cp1252"
    return name


_TYPOGRAPHIC = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-",
                              "…": "...", "€": "E", "•": "*", "™": "TM"})


def _mess(text: str) -> float:
    """charset-normalizer's measure of how garbled a decoding looks (0 = clean); symbols inside words count."""
    from charset_normalizer.md import mess_ratio

    return mess_ratio(text, maximum_threshold=1.0)


def split_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the line ending; only CRLF, CR and LF end lines.

    Unlike ``str.splitlines`` this does not break at form feeds, U+2028 or other Unicode separators,
    so the line numbers match what an editor shows.

    Example:
        >>> split_lines("a\\r\\nb\\rc\\n")
        [(0, 1), (3, 4), (5, 6)]
    """
    # One pass over the text (searching for CR and LF separately from each line would rescan the rest
    # of the file for an ending that never comes: quadratic in a file without CRs).
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _LINE_END.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    if position < len(text):
        spans.append((position, len(text)))
    return spans
