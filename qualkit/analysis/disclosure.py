"""Small-cell disclosure guard: a group of fewer than ``min_cell`` people is never shown as its own group.

In a study of a few named hospitals, a row "attending: 1/1" with that person's quotes and distinctive
words identifies them. Published tables in health-services research follow a minimum cell size (often 5;
3 in small focus-group studies). Here every grouped analysis asks :func:`guard_groups` which groups it may
show: groups with fewer than ``min_cell`` distinct people (participants, else speakers) are merged into one
row, "Other (groups of fewer than N people)", when that merged group itself reaches ``min_cell`` people, and are
left out otherwise. The notes say which attribute values were merged or left out and why, and never who.
``min_cell=1`` turns the guard off. A study keeps its own value in its settings (``"min_cell"``; default
:data:`DEFAULT_MIN_CELL`); the ungrouped figures and the raw codings tables are never changed.

Example:
    >>> import pandas as pd
    >>> groups = pd.Series(["resident"] * 4 + ["attending"] * 2 + ["staff"])
    >>> people = pd.Series(["R1", "R2", "R3", "R4", "A1", "A2", "S1"])
    >>> guard = guard_groups(groups, people, min_cell=3, by="role")
    >>> guard.relabel(groups).unique().tolist()
    ['resident', 'Other (groups of fewer than 3 people)']
    >>> guard.merged, guard.suppressed
    (('attending', 'staff'), ())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput

DEFAULT_MIN_CELL = 3
"""A study's minimum cell size when it has not chosen one (many small focus-group studies use 3)."""

SETTING = "min_cell"
"""The key of the minimum cell size in a project's settings."""


def other_label(min_cell: int, joined: tuple[str, ...] = ()) -> str:
    """The label of the row that merges the small groups: ``"Other (groups of fewer than 3 people)"``.

    ``joined`` are the larger groups shown inside it (see :func:`guard_groups`); the label names them, so that
    a row of seven people does not read "fewer than 3 people".

    Example:
        >>> other_label(5), other_label(3, ("Royal",))
        ('Other (groups of fewer than 5 people)', 'Other (groups of fewer than 3 people, with Royal)')
    """
    return f"Other (groups of fewer than {min_cell} people{', with ' + ', '.join(joined) if joined else ''})"


def check_min_cell(value: Any) -> int:
    """``value`` as a minimum cell size (a whole number of people, 1 or more), else a clear error.

    Example:
        >>> check_min_cell("5"), check_min_cell(1)
        (5, 1)
    """
    try:
        number = int(value)
        whole = number == float(value)
    except (TypeError, ValueError):
        number, whole = 0, False
    if not whole or number < 1 or isinstance(value, bool):
        raise InvalidInput(f"the minimum cell size must be a whole number of people, 1 or more (got {value!r})",
                           fix="pass min_cell=3 (or 5 for published tables; 1 shows every group)",
                           cli_fix="pass --min-cell 3 (or 5 for published tables; 1 shows every group)")
    return number


@dataclass(frozen=True)
class CellGuard:
    """Which groups of ``by`` are shown as themselves, merged into "Other", or left out, and why.

    Example:
        >>> CellGuard(by="role", min_cell=1).notes
        []
    """

    by: str | None
    min_cell: int
    merged: tuple[str, ...] = ()
    """Attribute values with fewer than ``min_cell`` people, shown together as :attr:`other`."""
    suppressed: tuple[str, ...] = ()
    """Attribute values with fewer than ``min_cell`` people, left out (too few even with every other group)."""
    joined: tuple[str, ...] = ()
    """Groups large enough to show, shown inside :attr:`other` too: with one small group left out, its figures
    were the overall figures minus the groups shown."""

    @property
    def other(self) -> str:
        """The merged row's label."""
        return other_label(self.min_cell, self.joined)

    @property
    def active(self) -> bool:
        """True when some group is merged or left out."""
        return bool(self.merged or self.suppressed or self.joined)

    def relabel(self, groups: pd.Series) -> pd.Series:
        """``groups`` as shown: a merged group's label becomes :attr:`other`, a left-out one missing (``None``).

        Example:
            >>> g = CellGuard(by="role", min_cell=3, merged=("a", "b"), suppressed=())
            >>> g.relabel(pd.Series(["a", "c", "b"])).tolist()
            ['Other (groups of fewer than 3 people)', 'c', 'Other (groups of fewer than 3 people)']
        """
        if not self.active:
            return groups
        mapping = {**{value: self.other for value in (*self.merged, *self.joined)},
                   **{value: None for value in self.suppressed}}
        return groups.astype(object).map(lambda value: mapping.get(value, value))

    @property
    def notes(self) -> list[str]:
        """What a reader of the figures should know, in words: the values merged or left out, never the people.

        Example:
            >>> CellGuard(by="site", min_cell=3, suppressed=("St Mary's",)).notes[0][:64]
            "site: St Mary's has fewer than 3 people, so it is not shown (the"
        """
        notes = []
        what = f"{self.by}: " if self.by else ""
        why = (f"a group this small could identify the people in it (the minimum cell size is {self.min_cell}; "
               "1 shows every group)")
        if self.merged:
            beside = f" with {_values(self.joined)}" if self.joined else ""
            derived = (f", so that {'its' if len(self.merged) == 1 else 'their'} figures cannot be worked out from "
                       "the overall ones" if self.joined else "")
            notes.append(f"{what}{_values(self.merged)} {_have(self.merged)} fewer than {self.min_cell} people, so "
                         f"{'it is' if len(self.merged) == 1 else 'they are'} shown together{beside} as "
                         f"\u201c{self.other}\u201d{derived}: {why}.")
        if self.suppressed:
            notes.append(f"{what}{_values(self.suppressed)} {_have(self.suppressed)} fewer than {self.min_cell} "
                         f"people, so {'it is' if len(self.suppressed) == 1 else 'they are'} not shown (the study "
                         f"has too few people in all): {why}.")
        return notes

    def settings(self) -> dict[str, Any]:
        """The guard as plain values, for a result's ``settings``.

        Example:
            >>> CellGuard(by="role", min_cell=3, merged=("a", "b")).settings()["merged"]
            ['a', 'b']
        """
        return {"min_cell": self.min_cell, "merged": list(self.merged), "joined": list(self.joined),
                "suppressed": list(self.suppressed), "notes": self.notes}


def _values(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _have(values: tuple[str, ...]) -> str:
    return "has" if len(values) == 1 else "each have"


def guard_groups(groups: pd.Series, people: pd.Series, *, min_cell: int, by: str | None = None) -> CellGuard:
    """Decide, from each row's group and person, which groups are shown, merged into "Other", or left out.

    ``groups`` and ``people`` are aligned (one row per segment, say); a group's size is its number of
    distinct people. Groups below ``min_cell`` are merged into one "Other" group. When that group is still
    too small, the smallest of the other groups join it until it is not: a small group left out could be read
    off as the overall figures minus the groups shown (what statistical offices call secondary suppression).
    Only a study with fewer than ``min_cell`` people in all leaves its groups out. ``by=None`` (everyone as one
    group) and ``min_cell=1`` change nothing.

    Example:
        >>> guard = guard_groups(pd.Series(["a", "b", "c", "c", "c", "d", "d", "d", "d"]), pd.Series(range(9)),
        ...                      min_cell=3, by="role")
        >>> guard.merged, guard.joined, guard.suppressed
        (('a', 'b'), ('c',), ())
    """
    min_cell = check_min_cell(min_cell)
    if min_cell <= 1 or by is None or groups.empty:
        return CellGuard(by=by, min_cell=min_cell)
    frame = pd.DataFrame({"group": groups.to_numpy(), "person": people.to_numpy()}).dropna(subset=["group"])
    sizes = frame.groupby("group", sort=False)["person"].nunique()
    small = sorted(str(group) for group, size in sizes.items() if size < min_cell)
    if not small:
        return CellGuard(by=by, min_cell=min_cell)
    joined: list[str] = []
    others = [str(group) for group, _ in sorted(sizes.items(), key=lambda item: (item[1], str(item[0])))
              if str(group) not in small]
    while frame.loc[frame["group"].astype(str).isin([*small, *joined]), "person"].nunique() < min_cell:
        if not others:
            return CellGuard(by=by, min_cell=min_cell, suppressed=tuple(small + joined))
        joined.append(others.pop(0))
    return CellGuard(by=by, min_cell=min_cell, merged=tuple(small), joined=tuple(joined))


def guard_talk(talk: pd.DataFrame, groups: pd.Series, *, min_cell: int, by: str | None = None) -> CellGuard:
    """:func:`guard_groups` over segments: a person is the participant, else the speaker in that transcript.

    Example:
        >>> talk = pd.DataFrame({"id": [1, 2, 3], "source": "g1", "speaker": ["A", "B", "C"]})
        >>> guard_talk(talk, pd.Series(["x", "x", "y"]), min_cell=2, by="role").merged
        ('y',)
    """
    from qualkit.analysis._common import speaker_keys

    if min_cell <= 1 or by is None:
        return CellGuard(by=by, min_cell=check_min_cell(min_cell))
    frame = talk if "source" in talk else talk.assign(source="")
    return guard_groups(groups, speaker_keys(frame), min_cell=min_cell, by=by)
