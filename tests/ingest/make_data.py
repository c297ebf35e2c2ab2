"""Write the encoding fixtures in ``data/`` (run once; the outputs are committed, each under 1 KB).

    python tests/ingest/make_data.py
"""

from __future__ import annotations

import codecs
from pathlib import Path

DATA = Path(__file__).with_name("data")
LINES = [
    "Focus group — Pflege, Station 4",
    "Moderator: Wie geht’s? What does burnout feel like?",
    "Zoë: Müde. Épuisée — exhausted (laughs).",
    "Moderator: And the “system”?",
    "Zoë: Naïve hopes, café breaks… gone.",
]


def main() -> None:
    crlf = "\r\n".join(LINES) + "\r\n"
    (DATA / "cp1252_crlf.txt").write_bytes(crlf.encode("cp1252"))
    (DATA / "utf8_bom_crlf.txt").write_bytes(codecs.BOM_UTF8 + crlf.encode("utf-8"))
    (DATA / "utf16le_bom.txt").write_bytes(codecs.BOM_UTF16_LE + crlf.encode("utf-16-le"))
    (DATA / "utf16be_bom.txt").write_bytes(codecs.BOM_UTF16_BE + crlf.encode("utf-16-be"))
    (DATA / "utf16le_nobom.txt").write_bytes(crlf.encode("utf-16-le"))
    (DATA / "cr_only.txt").write_bytes(("\r".join(LINES) + "\r").encode("utf-8"))
    mixed = LINES[0] + "\n" + LINES[1] + "\r\n" + LINES[2] + "\r" + LINES[3] + "\n" + LINES[4]
    (DATA / "mixed_endings.txt").write_bytes(mixed.encode("utf-8"))
    (DATA / "binary.txt").write_bytes(b"Moderator: hi\x00\x00\x01\x02\xff\xfe\x00garbage\x00")


if __name__ == "__main__":
    main()
