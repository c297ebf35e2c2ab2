"""Progress of long work: one callback shape, ``(done, total, message)``, and the bar that shows it.

Auto-coding, fine-tuning, theme discovery and the background worker all report through a
:data:`Progress` callback; :func:`reporter` turns the ``progress=`` argument a caller gave (``True`` for a
bar on stderr, ``False`` for nothing, or their own callback) into one. The bar shows the message as well
as the count, so a stage that has no count yet (a model loading, clustering) still says what it is doing.

Example:
    >>> seen = []
    >>> report, close = reporter(lambda done, total, message: seen.append((done, total, message)), "themes")
    >>> report(1, 4, "embedding 200 sentences"); close()
    >>> seen
    [(1, 4, 'embedding 200 sentences')]
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
"""A progress callback: ``progress(done, total, message)``; ``total`` 0 while the amount is not known yet."""


def reporter(progress: bool | Progress | None, desc: str) -> tuple[Progress, Callable[[], None]]:
    """A ``(done, total, message)`` callback and its closer: the caller's own, a tqdm bar (``True``), or nothing.

    The bar's description reads ``"<desc>: <message>"``, so stages without a count are named while they run.

    Example:
        >>> report, close = reporter(False, "auto-coding")
        >>> report(3, 10, "coded 3 of 10 segments"); close()
    """
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return (lambda done, total, message: None), lambda: None
    from tqdm.auto import tqdm

    bar = tqdm(total=0, desc=desc, unit="step", leave=False)

    def report(done: int, total: int, message: str) -> None:
        if message:
            bar.set_description_str(f"{desc}: {message}", refresh=False)
        bar.total = total
        bar.update(done - bar.n)
        bar.refresh()

    return report, bar.close


__all__ = ["Progress", "reporter"]
