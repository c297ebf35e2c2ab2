"""Exports: CSV/Excel tables, REFI-QDA ``.qdpx``/``.qdc`` exchange, and study reports (Markdown, HTML, Word).

Example:
    >>> from qualkit.export import refi, tables
    >>> callable(refi.export_qdpx) and callable(tables.write_workbook)
    True
"""
