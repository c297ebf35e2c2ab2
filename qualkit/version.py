"""qualkit's version, in a module of its own so the library can name it without importing the package facade.

Example:
    >>> __version__.count(".") >= 1
    True
"""

__version__ = "0.1.0"
