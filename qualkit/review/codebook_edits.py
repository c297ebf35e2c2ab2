"""Codebook changes by the team: save a new version, edit, add, merge and split codes (old versions stay).

Each change checks the actor may edit the codebook, validates the result, and saves it as the next
version; a version saved by someone else since the editor opened it raises
:class:`~qualkit.errors.ConflictError` naming who saved what, and nothing is saved.

Example:
    >>> from qualkit.model import Code
    >>> from qualkit.users import Role
    >>> save_codebook_version(Store.create("sqlite://", name="cb"), Codebook("x", [Code("a", "A")]),
    ...                       actor=User("root", Role.ADMIN), note="first")
    1
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

from qualkit.errors import ConflictError, InvalidInput, StoreError
from qualkit.model import Code, Codebook
from qualkit.store import decisions
from qualkit.store.repository import Store
from qualkit.users import User


def _validated(codebook: Codebook) -> Codebook:
    ids = [c.id for c in codebook.codes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidInput(f"code ids {duplicates} are used twice", fix="give each code a unique id")
    for code in codebook.codes:
        if not code.id.strip() or not code.name.strip():
            raise InvalidInput("every code needs an id and a name")
        if code.parent is not None and code.parent not in ids:
            raise InvalidInput(f"{code.id}'s parent {code.parent!r} is not in the codebook",
                               fix="choose an existing parent or none")
    try:
        from qualkit.codebook import validate_codebook
    except ImportError:  # the codebook area's full checks (cycles, patterns) when installed
        return codebook
    return validate_codebook(codebook)


def coded_codes_left_out(store: Store, codebook: Codebook) -> dict[str, dict[str, int]]:
    """Codes people have decided on that ``codebook`` leaves out: ``{code: {"accepted": n, "rejected": m}}``.

    Example:
        >>> from qualkit.model import Code
        >>> coded_codes_left_out(Store.create("sqlite://", name="lo"), Codebook("x", [Code("a", "A")]))
        {}
    """
    decided = store.codings_df(status=["accepted", "rejected"])
    gone = decided.loc[~decided["code_id"].isin([c.id for c in codebook.codes])]
    counts = gone.groupby(["code_id", "status"]).size()
    return {str(code): {status: int(counts.get((code, status), 0)) for status in ("accepted", "rejected")}
            for code in sorted(gone["code_id"].unique())}


def _decisions(counts: dict[str, int]) -> str:
    """``{"accepted": 1, "rejected": 3}`` -> "1 accepted, 3 rejected" (a bare "4 coded" read as 4 codings)."""
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n)


def refuse_leaving_out_coded(store: Store, codebook: Codebook) -> None:
    """Raise :class:`InvalidInput` if ``codebook`` leaves out codes the team has coded with (see below).

    Example:
        >>> from qualkit.model import Code
        >>> refuse_leaving_out_coded(Store.create("sqlite://", name="r"), Codebook("x", [Code("a", "A")]))
    """
    left_out = coded_codes_left_out(store, codebook)
    if left_out:
        listed = "; ".join(f"{code} ({_decisions(n)})" for code, n in list(left_out.items())[:5])
        raise InvalidInput(f"this version leaves out codes the team has coded with: {listed}; nothing was saved",
                           fix="add them back, merge them into another code first, or confirm that they should "
                               "leave the codebook (leave_out_coded=True; their codings stay on record)",
                           cli_fix="add them back to the file, merge them into another code first (on the app's "
                                   "Codebook page), or confirm that they should leave the codebook: pass "
                                   "--leave-out-coded (their codings stay on record)",
                           app_fix="add them back to the file, merge them into another code first, or tick "
                                   "\u201cAllow the new version to drop codes that are already in use\u201d and import again "
                                   "(their codings stay on record)")


def save_codebook_version(store: Store, codebook: Codebook, *, actor: User, note: str,
                          expected_version: int | None = None, leave_out_coded: bool = False) -> int:
    """Save an edited codebook as the next version (the old versions stay); returns the version.

    A version that leaves out codes people have coded with is refused unless ``leave_out_coded``: a code
    lost by mistake (an imported file with a typo) would take its codings out of every analysis.

    Example:
        >>> from qualkit.model import Code
        >>> from qualkit.users import Role
        >>> save_codebook_version(Store.create("sqlite://", name="cb"), Codebook("x", [Code("a", "A")]),
        ...                       actor=User("root", Role.ADMIN), note="first")
        1
    """
    actor.require("edit_codebook")
    codebook = _validated(codebook)
    try:
        current = store.codebook()
    except StoreError:  # the project's first codebook
        current = None
    if current is not None and same_codes(current, codebook):
        raise InvalidInput(f"the codebook is the same as version {current.version}, so no new version was saved",
                           fix="change a code first, or keep working with the current version")
    if not leave_out_coded:
        refuse_leaving_out_coded(store, codebook)
    return store.save_codebook(codebook, user=actor.name, note=note or "edited in the app",
                               expected_version=expected_version)


def is_next_version(current: Codebook | None, loaded: Codebook) -> bool:
    """Whether an imported codebook is an edited copy of ``current`` (its next version) rather than one of its own.

    It is when it keeps at least half of ``current``'s code ids: a stranger's own 8-code codebook that shared
    two ids with the bundled 24-code one was saved as "burnout, version 2", and the report named it so.

    Example:
        >>> from qualkit.model import Code
        >>> burnout = Codebook("burnout", [Code(c, c) for c in "abcdef"])
        >>> mine = Codebook("mine", [Code(c, c) for c in "abxyz"])
        >>> edited = Codebook("edited", [Code(c, c) for c in "abcdefg"])
        >>> is_next_version(burnout, mine), is_next_version(burnout, edited)
        (False, True)
    """
    if current is None or not current.ids:
        return False
    return len(set(loaded.ids) & set(current.ids)) * 2 >= len(set(current.ids))


def same_codes(first: Codebook, second: Codebook) -> bool:
    """True when two codebooks hold the same codes with the same fields (name, version and description aside).

    A stranger's second click on "Import" saved an identical file as version 2, then 3.

    Example:
        >>> from qualkit.model import Code
        >>> same_codes(Codebook("x", [Code("a", "A")]), Codebook("y", [Code("a", "A")], version=4))
        True
    """
    return [dataclasses.asdict(c) for c in first.codes] == [dataclasses.asdict(c) for c in second.codes]


class CodebookChanges(NamedTuple):
    """What one codebook version changes against another: code ids added and removed, names changed, other edits."""

    added: list[str]
    removed: list[str]
    renamed: list[tuple[str, str, str]]  # (id, old name, new name)
    edited: list[str]  # same id and name, another field changed (definition, cues, parent, ...)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed or self.edited)


def codebook_changes(previous: Codebook | None, new: Codebook) -> CodebookChanges:
    """How ``new`` differs from ``previous``, code by code (ids are what codings point to; names are labels).

    Example:
        >>> from qualkit.model import Code
        >>> old = Codebook("x", [Code("a", "Alpha"), Code("b", "Beta"), Code("c", "C", definition="one")])
        >>> new = Codebook("x", [Code("a", "Alpha"), Code("b", "Better"), Code("c", "C", definition="two"),
        ...                      Code("d", "Delta")])
        >>> codebook_changes(old, new)
        CodebookChanges(added=['d'], removed=[], renamed=[('b', 'Beta', 'Better')], edited=['c'])
        >>> codebook_changes(None, new).added
        ['a', 'b', 'c', 'd']
    """
    before = {c.id: c for c in previous.codes} if previous is not None else {}
    after = {c.id: c for c in new.codes}
    kept = [i for i in after if i in before]
    renamed = [(i, before[i].name, after[i].name) for i in kept if before[i].name != after[i].name]
    def content(code: Code) -> dict[str, Any]:  # the guid is an identity for exchange files, not content
        return {k: v for k, v in dataclasses.asdict(code).items() if k != "guid"}

    edited = [i for i in kept if before[i].name == after[i].name and content(before[i]) != content(after[i])]
    return CodebookChanges(added=[i for i in after if i not in before], removed=[i for i in before if i not in after],
                           renamed=renamed, edited=edited)


def update_code(store: Store, code_id: str, *, actor: User, note: str = "", expected_version: int | None = None,
                **fields: Any) -> int:
    """Change a code's fields (name, definition, inclusion, exclusion, examples, cues, colour, parent...).

    The id stays, so existing codings keep pointing at the code; renaming changes the name. Pass
    ``expected_version`` (the codebook version the editor showed): if someone saved another version
    since, :class:`~qualkit.errors.ConflictError` names it with the code's current values, nothing saved.

    Example:
        >>> update_code(store, "workload", actor=admin, definition="Hours and volume.")  # doctest: +SKIP
        3
    """
    actor.require("edit_codebook")
    codebook = store.codebook()
    if code_id not in codebook:
        raise InvalidInput(f"unknown code {code_id!r}")
    allowed = {f.name for f in dataclasses.fields(Code)} - {"id", "guid"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)} of a code", fix=f"change only {sorted(allowed)}")
    if expected_version is not None and codebook.version != expected_version:
        _codebook_conflict(store, codebook, code_id, expected_version, fields)
    codes = [dataclasses.replace(c, **fields) if c.id == code_id else c for c in codebook.codes]
    changed = Codebook(codebook.name, codes, description=codebook.description)
    try:
        return save_codebook_version(store, changed, actor=actor, note=note or f"edited {code_id}",
                                     expected_version=expected_version)
    except ConflictError:  # saved by someone else between our read and write
        _codebook_conflict(store, store.codebook(), code_id, expected_version or codebook.version, fields)
        raise


def _codebook_conflict(store: Store, codebook: Codebook, code_id: str, expected: int, fields: dict[str, Any]) -> None:
    """Raise the conflict of a code edit made on an old codebook version, with the code's current values."""
    versions = store.codebook_versions()
    latest = versions[versions["name"] == codebook.name].tail(1)
    who = latest["created_by"].iloc[0] if len(latest) else None
    why = latest["note"].iloc[0] if len(latest) else ""
    code = codebook[code_id] if code_id in codebook else None  # noqa: SIM401 (Codebook has no get)
    current: dict[str, Any] = {"version": codebook.version, "saved_by": who, "note": why}
    if code is not None:
        current |= {k: getattr(code, k) for k in fields}
    else:
        current["code"] = f"{code_id} is no longer in the codebook"
    raise ConflictError(f"the codebook changed to version {codebook.version} (saved by {who or 'someone'}"
                        f"{': ' + why if why else ''}) after you opened version {expected}; your edit of {code_id} "
                        "was not saved", current=current,
                        fix="the page now shows the current values; make your change again if it is still needed")


def add_codebook_code(store: Store, code: Code, *, actor: User, note: str = "") -> int:
    """Add a new code to the codebook (a new version).

    Example:
        >>> add_codebook_code(store, Code("sleep", "Sleep"), actor=admin)  # doctest: +SKIP
        4
    """
    codebook = store.codebook()
    if code.id in codebook:
        raise InvalidInput(f"a code with id {code.id!r} already exists", fix="choose another id")
    changed = Codebook(codebook.name, [*codebook.codes, code], description=codebook.description)
    return save_codebook_version(store, changed, actor=actor, note=note or f"added {code.id}")


def merge_codes(store: Store, code_ids: Sequence[str], into: str, *, actor: User, note: str = "",
                expected_version: int | None = None) -> tuple[int, int]:
    """Merge codes into ``into``: their codings move to it (logged), then a codebook version without them.

    Children of a merged code move under ``into``. Returns ``(codebook version, codings moved)``.

    Example:
        >>> merge_codes(store, ["paperwork"], "administrative_burden", actor=admin)  # doctest: +SKIP
        (5, 12)
    """
    actor.require("edit_codebook")
    codebook = store.codebook()
    merged = [c for c in dict.fromkeys(code_ids) if c != into]
    for code_id in [*merged, into]:
        if code_id not in codebook:
            raise InvalidInput(f"unknown code {code_id!r}")
    if not merged:
        raise InvalidInput("choose at least one code to merge into another")
    codes = [dataclasses.replace(c, parent=into if c.parent in merged else c.parent)
             for c in codebook.codes if c.id not in merged]
    changed = _validated(Codebook(codebook.name, codes, description=codebook.description))
    # One transaction: the codings move and the codebook without the merged codes is saved, or neither.
    return decisions.merge_codes(store, merged, into, changed, user=actor.name,
                            note=note or f"merged {', '.join(merged)} into {into}",
                            expected_version=expected_version)


def last_merge(store: Store) -> dict[str, Any] | None:
    """The merge that made the codebook's current version, as ``{"into", "merged", "count", "event"}`` (or None).

    Example:
        >>> last_merge(Store.create("sqlite://", name="lm")) is None
        True
    """
    try:
        version = store.codebook().version
    except StoreError:  # a project without a codebook yet
        return None
    event = decisions.merge_event(store, version)
    if event is None:
        return None
    moved = event["new"]["moved"]
    return {"into": event["new"]["code_id"], "merged": sorted(event["old"]["code_ids"]),
            "count": sum(len(v) for v in moved.values()), "version": version, "event": event}


def undo_merge(store: Store, *, actor: User) -> tuple[int, int]:
    """Take back the merge that made the current codebook version: its codings back to their own codes, and
    the codebook as it was before (saved as the next version). Returns ``(codebook version, codings moved back)``.

    Refused once the codebook changed after the merge. Suggestions the merge withdrew as redundant come back
    as they were.

    Example:
        >>> undo_merge(store, actor=admin)  # doctest: +SKIP
        (6, 12)
    """
    actor.require("edit_codebook")
    merge = last_merge(store)
    if merge is None:
        raise InvalidInput("the codebook's current version was not made by a merge, so there is no merge to undo",
                           fix="edit the codebook instead (History lists every earlier version)")
    before = store.codebook(version=merge["version"] - 1)
    restored = _validated(Codebook(before.name, before.codes, description=before.description))
    return decisions.unmerge_codes(
        store, merge["event"]["new"]["moved"], merge["into"], restored, user=actor.name,
        note=f"undid the merge of {', '.join(merge['merged'])} into {merge['into']}",
        expected_version=merge["version"], reverts_event=int(merge["event"]["id"]),
        withdrawn=merge["event"]["new"].get("withdrawn_rows", []))


def split_code(store: Store, code_id: str, parts: Sequence[tuple[str, str]], *, actor: User,
               note: str = "") -> int:
    """Split a code into new codes ``(id, name)`` under it; the old code becomes a category (not codable).

    Its existing codings stay on the old code for the team to recode; new codings use the parts.

    Example:
        >>> split_code(store, "workload", [("hours", "Long hours"), ("staffing", "Understaffing")],
        ...            actor=admin)  # doctest: +SKIP
        6
    """
    codebook = store.codebook()
    if code_id not in codebook:
        raise InvalidInput(f"unknown code {code_id!r}")
    parts = [(i.strip(), n.strip()) for i, n in parts if i and i.strip()]
    if len(parts) < 2:
        raise InvalidInput("a split needs at least two new codes", fix="give each an id and a name")
    original = codebook[code_id]
    codes: list[Code] = []
    for code in codebook.codes:
        if code.id != code_id:
            codes.append(code)
            continue
        codes.append(dataclasses.replace(code, codable=False))
        codes += [Code(new_id, name or new_id, parent=code_id, definition=f"Part of {original.name}.")
                  for new_id, name in parts]
    changed = Codebook(codebook.name, codes, description=codebook.description)
    return save_codebook_version(store, changed, actor=actor,
                                 note=note or f"split {code_id} into {', '.join(i for i, _ in parts)}")


__all__ = [
    "CodebookChanges",
    "add_codebook_code",
    "codebook_changes",
    "merge_codes",
    "save_codebook_version",
    "split_code",
    "undo_merge",
    "update_code",
]
