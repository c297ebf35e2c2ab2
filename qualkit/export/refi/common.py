"""What the REFI-QDA modules share: the namespace, GUIDs, XML-safe text, times, and the exchange settings.

Example:
    >>> normalise_guid(stable_guid("user", "ana")) == stable_guid("user", "ana")
    True
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

PROJECT_NS = "urn:QDA-XML:project:1.0"
NS = f"{{{PROJECT_NS}}}"
_GUID_NAMESPACE = uuid.UUID("0b3c52b4-3f0e-4d8a-9a57-6d1f4ac5e2a1")
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
EXCHANGE_SETTING = "refi_exchange"
"""The project setting that keeps what ``.qdpx`` imports recorded (users' GUIDs, source creators, imports)."""
SUGGESTIONS_USER = "qualkit suggestion (not reviewed)"
"""The user a ``.qdpx`` credits unreviewed suggestions to (REFI-QDA has no status): other programs show
them under this name, and qualkit imports them back as suggestions, not as anyone's coding."""


def stable_guid(*parts: str) -> str:
    """A name-based GUID (UUID 5, upper case): the same parts always give the same GUID.

    Example:
        >>> stable_guid("user", "ana") == stable_guid("user", "ana")
        True
    """
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts))).upper()


def normalise_guid(value: str | None) -> str | None:
    """A GUID in the 8-4-4-4-12 upper-case form (braces removed), or None if it is not one.

    Example:
        >>> normalise_guid("{a1b2c3d4-0000-0000-0000-00000000000f}")
        'A1B2C3D4-0000-0000-0000-00000000000F'
    """
    match = _GUID.match(value or "")
    return match.group(1).upper() if match else None


def xml_text(value: Any) -> str:
    """Text safe for XML 1.0 (characters XML cannot carry become U+FFFD)."""
    return _XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))


def iso_datetime(value: Any) -> str | None:
    """A time as ISO 8601 in UTC without microseconds (``...Z``), or None for a missing value.

    Example:
        >>> iso_datetime(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
        '2024-05-01T12:00:00Z'
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def case_description(pseudonym: str | None, aliases: Sequence[str]) -> str:
    """A participant's pseudonym and aliases as a case ``Description`` (read back by :func:`parse_case_description`).

    Example:
        >>> parse_case_description(case_description("Ann", ["A.", "Annie"]))
        ('Ann', ['A.', 'Annie'])
    """
    lines = []
    if pseudonym:
        lines.append(f"Pseudonym: {pseudonym}")
    if aliases:
        lines.append("Aliases: " + "; ".join(aliases))
    return "\n".join(lines)


def parse_case_description(text: str | None) -> tuple[str | None, list[str]]:
    """The pseudonym and aliases a case ``Description`` written by :func:`case_description` holds.

    Example:
        >>> parse_case_description("Pseudonym: Ann")
        ('Ann', [])
    """
    pseudonym, aliases = None, []
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "pseudonym" and value.strip():
            pseudonym = value.strip()
        elif key.strip().lower() == "aliases":
            aliases = [a.strip() for a in value.split(";") if a.strip()]
    return pseudonym, aliases


def exchange_settings(store: Any) -> dict[str, Any]:
    """What earlier ``.qdpx`` imports recorded: users' GUIDs, who created each source there, the imports.

    ``users`` maps a user name to the GUID it had in the imported file; ``source_creators`` maps a
    source GUID to the user who created it in the other program; ``imports`` lists each import (file,
    project name, time, user and counts).

    Example:
        >>> from qualkit.store.repository import Store
        >>> exchange_settings(Store.create("sqlite://", name="p"))
        {'users': {}, 'source_creators': {}, 'imports': []}
    """
    saved = dict(getattr(store, "store", store).settings.get(EXCHANGE_SETTING) or {})
    return {"users": dict(saved.get("users") or {}), "source_creators": dict(saved.get("source_creators") or {}),
            "imports": list(saved.get("imports") or [])}


