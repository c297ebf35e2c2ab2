"""Argument checks for the public API: a wrong type gets a clear error naming the argument, not a traceback.

A notebook user passed ``project.accept([13])`` (an SQL error), ``project.code("5", ...)`` ("no segment 5",
though segment 5 exists), ``project.reliability("root")`` (read letter by letter) and ``prevalence(by=["unit"])``
(a pandas error). These helpers turn what a person plausibly meant into the right type, or say what to give.

Example:
    >>> one_id("13", "coding_id"), names("ana", "coders")
    (13, ['ana'])
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from qualkit.errors import InvalidInput, did_you_mean


def one_id(value: Any, name: str) -> int:
    """One record id as an int: an int, a NumPy integer or a string of digits; anything else is refused.

    Example:
        >>> one_id([13], "coding_id")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: coding_id must be one id (a whole number), not the list [13]. Fix: ...
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    shown = f"the {type(value).__name__} {value!r}" if isinstance(value, list | tuple | set | dict) else repr(value)
    raise InvalidInput(f"{name} must be one id (a whole number), not {shown}",
                       fix=f"give one {name}, e.g. from the id column of project.codings() or project.segments(); "
                           "for several, call it once for each")


def names(value: Any, name: str) -> list[str]:
    """A list of names from one name or several (a lone string is one name, not its letters).

    Example:
        >>> names(["ana", "ben"], "coders")
        ['ana', 'ben']
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, bytes | dict):
        items = list(value)
        if all(isinstance(item, str) for item in items):
            return items
    raise InvalidInput(f"{name} must be a name or a list of names, not {value!r}", fix=f"e.g. {name}=['ana', 'ben']")


def one_name(value: Any, name: str, *, optional: bool = False) -> str | None:
    """One name (a code id, an attribute): a string; ``None`` only when ``optional``.

    Example:
        >>> one_name(["unit"], "by")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: by must be one name (text), not ['unit']. Fix: e.g. by='unit'
    """
    if isinstance(value, str) or (value is None and optional):
        return value
    example = value[0] if isinstance(value, list | tuple) and value and isinstance(value[0], str) else "…"
    raise InvalidInput(f"{name} must be one name (text), not {value!r}", fix=f"e.g. {name}={example!r}")


__all__ = ["names", "one_id", "one_name"]


def check_code(codebook: Any, code_id: str, *, coded: bool = False) -> str:
    """``code_id`` when the codebook has it; else an error naming the id of a code *named* so, or a close id.

    ``coded``: the code is to be applied, so a category (``codable: false``, it only groups codes) is refused:
    coded by hand it counted as a code of its own.

    Example:
        >>> from qualkit.model import Codebook
        >>> check_code(Codebook.load("burnout"), "Workload")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: unknown code 'Workload'. Fix: 'workload' is the id of the code named ...
    """
    if code_id not in codebook:
        named = [code.id for code in codebook if code.name.casefold() == str(code_id).strip().casefold()]
        hint = (f"{named[0]!r} is the id of the code named {code_id!r}; " if named
                else did_you_mean(code_id, codebook.ids))
        ids = ", ".join(code.id for code in (codebook.codable_codes if coded else codebook.codes))
        listed = "" if hint else f": {ids if len(ids) <= 300 else ids[:299] + '…'}"
        raise InvalidInput(f"unknown code {code_id!r}", fix=f"{hint}use a code id of the project's codebook{listed}")
    if coded and not codebook[code_id].codable:
        parts = [code.id for code in codebook.children(code_id)]
        raise InvalidInput(f"{code_id!r} is a category of the codebook: it groups codes and is not coded itself",
                           fix=f"code one of the codes it groups ({', '.join(parts[:6])})" if parts
                           else "code one of the codable codes")
    return code_id
