"""Codebook validation (one uniform error per problem, naming file and line) and helpers every format shares.

Example:
    >>> [p.message for p in codebook_problems(Codebook("x", [Code("a", "A"), Code("a", "B")]))][:1]
    ["duplicate code id 'a'"]
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import fields, replace
from typing import Any

from qualkit.errors import InvalidCodebook, InvalidInput, did_you_mean
from qualkit.model import Code, Codebook

CODE_FIELDS = tuple(f.name for f in fields(Code))
LIST_FIELDS = ("examples", "near_misses", "cues", "patterns")
COLOR = re.compile(r"^#?(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_GUID_NAMESPACE = uuid.UUID("6f1d3c2e-7a0b-4c8e-9d61-2b5f0a9e4c17")

Lines = dict[tuple[int, str | None], int]
"""Line numbers of what was read: (code index, field) -> line, and (code index, None) -> the entry's line."""


def replace_name(codebook: Codebook, name: str | None) -> Codebook:
    """The codebook itself, renamed when ``name`` is given.

    Example:
        >>> replace_name(Codebook("a", [Code("x", "X")]), "b").name
        'b'
    """
    if name:
        codebook.name = name
    return codebook


def default_guid(codebook_name: str, code_id: str) -> str:
    """A stable REFI GUID for a code that has none (the same for the same codebook name and code id).

    Example:
        >>> default_guid("burnout", "workload") == default_guid("burnout", "workload")
        True
    """
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{codebook_name}\x1f{code_id}")).upper()


def codebook_problems(codebook: Codebook, *, path: str | os.PathLike[str] | None = None,
                      lines: Lines | None = None) -> list[InvalidCodebook]:
    """Every problem of a codebook (duplicate ids, unknown parents, cycles, empty names, bad patterns, colours).

    Each problem is an :class:`InvalidCodebook` naming the file and line (when known) and a fix.

    Example:
        >>> probs = codebook_problems(Codebook("x", [Code("a", "A", parent="zz")]))
        >>> probs[0].message
        "code 'a' names the parent 'zz', which is not a code of this codebook"
    """
    lines = lines or {}
    problems: list[InvalidCodebook] = []

    def problem(index: int, field: str | None, message: str, fix: str) -> None:
        line = lines.get((index, field), lines.get((index, None)))
        problems.append(InvalidCodebook(message, path=path, line=line, fix=fix))

    first_seen: dict[str, int] = {}
    first_folded: dict[str, int] = {}
    for i, code in enumerate(codebook.codes):
        has_id, has_name = bool(str(code.id or "").strip()), bool(str(code.name or "").strip())
        if not has_name:
            label = f"code {code.id!r}" if has_id else f"code #{i + 1}"
            problem(i, "name", f"{label} has an empty name", "give every code a name")
        elif not has_id:
            problem(i, "id", f"code #{i + 1} ({code.name!r}) has an empty id", "give every code a unique id")
        if not has_id:
            continue
        folded = " ".join(str(code.id).split()).casefold()  # 'Burnout' and 'burnout ' are one code mistyped
        if code.id in first_seen:
            other = lines.get((first_seen[code.id], None))
            where = f" (first defined on line {other})" if other else ""
            problem(i, "id", f"duplicate code id {code.id!r}{where}",
                    "give each code a unique id, or merge the two entries")
        elif folded in first_folded:
            earlier = codebook.codes[first_folded[folded]].id
            other = lines.get((first_folded[folded], None))
            where = f" (line {other})" if other else ""
            problem(i, "id", f"code id {code.id!r} differs from {earlier!r}{where} only in case or spacing",
                    "write the id the same way in both places, or give the two codes ids that tell them apart")
        else:
            first_seen[code.id] = i
            first_folded.setdefault(folded, i)
        if code.color is not None and not COLOR.match(str(code.color)):
            problem(i, "color", f"code {code.id!r} has the colour {code.color!r}, which is not #RRGGBB",
                    'write colours as "#RRGGBB" (quoted in YAML, where # starts a comment)')
        for k, pattern in enumerate(code.patterns):
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                line = lines.get((i, f"patterns.{k}"), lines.get((i, "patterns"), lines.get((i, None))))
                problems.append(InvalidCodebook(
                    f"pattern {pattern!r} of code {code.id!r} is not a valid regular expression ({error})",
                    path=path, line=line,
                    fix="escape special characters such as ( [ + ? with a backslash (doubled inside YAML "
                        "double quotes), or move plain words to cues"))
        for k, cue in enumerate(code.cues):
            if not str(cue).strip():
                line = lines.get((i, f"cues.{k}"), lines.get((i, "cues"), lines.get((i, None))))
                problems.append(InvalidCodebook(f"code {code.id!r} has an empty cue", path=path, line=line,
                                                fix="remove the empty cue"))
    known = set(first_seen)
    parents = {}
    for i, code in enumerate(codebook.codes):
        if code.parent is None:
            continue
        if code.parent not in known:
            hint = did_you_mean(code.parent, sorted(known))
            hint = f"{hint}Otherwise " if hint else ""
            problem(i, "parent", f"code {code.id!r} names the parent {code.parent!r}, which is not a code of this codebook",
                    f"{hint}add a code with id {code.parent!r}, or correct or remove the parent")
        else:
            parents[code.id] = code.parent
    reported: set[str] = set()
    for i, code in enumerate(codebook.codes):
        chain = [code.id]
        current = parents.get(code.id)
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        if current is not None and current == code.id and code.id not in reported:
            loop = [*chain, code.id]
            reported.update(chain)
            problem(i, "parent", f"the parents of codes {' -> '.join(loop)} form a cycle",
                    f"make one of them a top-level code, e.g. remove the parent of {code.id!r}")
    return problems


def validate_codebook(codebook: Codebook, *, path: str | os.PathLike[str] | None = None,
                      lines: Lines | None = None) -> Codebook:
    """Return the codebook if it is valid; otherwise raise the first problem (see :func:`codebook_problems`).

    A file name is refused with a pointer to :func:`~qualkit.codebook.load_codebook`, which checks a file.

    Example:
        >>> validate_codebook(Codebook("x", [Code("a", "A"), Code("a", "B")]))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidCodebook: duplicate code id 'a'. Fix: give each code a unique id, or merge ...
    """
    if isinstance(codebook, str | os.PathLike):  # a file, as one would guess (an AttributeError on .codes)
        raise InvalidInput(f"validate_codebook checks a Codebook, not the file name {str(codebook)!r}",
                           fix="check a file with qualkit.load_codebook(path) (loading validates) or "
                               "`qualkit codebook check PATH`")
    problems = codebook_problems(codebook, path=path, lines=lines)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        first.problems = problems  # type: ignore[attr-defined]
        raise first
    return codebook



def undefined_codes(codebook: Codebook) -> list[str]:
    """Warnings for codable codes with no definition and no inclusion criteria (a methods table shows a blank,
    and the auto-coder has only the name and any examples to go on).

    Example:
        >>> undefined_codes(Codebook("x", [Code("a", "Intention to leave"), Code("b", "B", definition="Bee")]))
        ["code 'Intention to leave' has no definition: the auto-coder has only its name and examples to go on, and the report's codebook table shows a blank (add a definition)"]
    """
    return [f"code {code.name!r} has no definition: the auto-coder has only its name and examples to go on, and the "
            "report's codebook table shows a blank (add a definition)"
            for code in codebook.codable_codes if not code.definition.strip() and not code.inclusion.strip()]


def as_bool(value: Any) -> bool:
    """A table cell or YAML value read as a yes/no flag (``true``, ``yes``, ``1``, ``x`` ...).

    Example:
        >>> as_bool("yes"), as_bool("0"), as_bool(True)
        (True, False, True)
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return True
    return str(value).strip().lower() not in ("false", "no", "n", "0", "f", "")


def normalise_color(color: str) -> str:
    """``#RRGGBB`` in upper case from ``RRGGBB``/``#rgb``/``#rrggbb``; anything else is returned unchanged.

    Example:
        >>> normalise_color("#abc")
        '#AABBCC'
    """
    text = str(color).strip()
    if not COLOR.match(text):
        return text
    digits = text.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits.upper()



def fill_guids(codebook: Codebook) -> None:
    """Give every code without a GUID its stable default GUID (:func:`default_guid`).

    Example:
        >>> cb = Codebook("m", [Code("a", "A")])
        >>> fill_guids(cb); cb.codes[0].guid == default_guid("m", "a")
        True
    """
    for code in codebook.codes:
        if not code.guid:
            code.guid = default_guid(codebook.name, code.id)



def codes_as_records(codebook: Codebook) -> list[dict[str, Any]]:
    """The codes as plain dicts (for DataFrames and JSON).

    Example:
        >>> codes_as_records(Codebook("m", [Code("a", "A")]))[0]["id"]
        'a'
    """
    return [{f: getattr(c, f) for f in CODE_FIELDS} for c in codebook.codes]


def copy_codebook(codebook: Codebook, **changes: Any) -> Codebook:
    """A deep copy of a codebook, with top-level fields changed.

    Example:
        >>> copy_codebook(Codebook("m", [Code("a", "A")]), name="n").name
        'n'
    """
    import copy

    return replace(copy.deepcopy(codebook), **changes)
