"""Codebooks: load, validate and save them in every registered format; this file only re-exports.

- :mod:`~qualkit.codebook.registry`: the formats by name and suffix; ``load_codebook``/``save_codebook``.
- :mod:`~qualkit.codebook.validation`: one uniform error per problem (file, line, fix) and shared helpers.
- one module per format: :mod:`~qualkit.codebook.yaml_format` (native, commented),
  :mod:`~qualkit.codebook.csv_format` (CSV/TSV), :mod:`~qualkit.codebook.excel_format`,
  :mod:`~qualkit.codebook.qdc_format` (REFI-QDA, shared with ``.qdpx``).

Importing this package also lets ``Codebook.load`` (in the stdlib-only :mod:`qualkit.model`) find
:func:`load_codebook`; the model never imports this package.

Example:
    >>> cb = load_codebook("burnout")
    >>> "workload" in cb and cb["workload"].parent
    'systemic_drivers'
    >>> "burnout" in list_codebooks()
    True
"""

from qualkit.codebook.csv_format import CSV_COLUMNS, codebook_from_csv, codebook_to_csv
from qualkit.codebook.excel_format import codebook_from_excel, codebook_to_excel
from qualkit.codebook.format import CodebookFormat
from qualkit.codebook.qdc_format import (
    CODEBOOK_NS,
    PROJECT_NS,
    codebook_from_element,
    codebook_from_qdc,
    codebook_to_element,
    codebook_to_qdc,
    fold_description,
    unfold_description,
)
from qualkit.codebook.registry import (
    FORMATS,
    codebook_format,
    list_codebooks,
    load_codebook,
    save_codebook,
    suffixes,
)
from qualkit.codebook.validation import (
    CODE_FIELDS,
    LIST_FIELDS,
    codebook_problems,
    codes_as_records,
    copy_codebook,
    default_guid,
    normalise_color,
    replace_name,
    undefined_codes,
    validate_codebook,
)
from qualkit.codebook.yaml_format import codebook_from_yaml, codebook_to_yaml
from qualkit.model import register_codebook_loader

register_codebook_loader(load_codebook)

__all__ = [
    "CODEBOOK_NS",
    "CODE_FIELDS",
    "CSV_COLUMNS",
    "FORMATS",
    "LIST_FIELDS",
    "PROJECT_NS",
    "CodebookFormat",
    "codebook_format",
    "codebook_from_csv",
    "codebook_from_element",
    "codebook_from_excel",
    "codebook_from_qdc",
    "codebook_from_yaml",
    "codebook_problems",
    "codebook_to_csv",
    "codebook_to_element",
    "codebook_to_excel",
    "codebook_to_qdc",
    "codebook_to_yaml",
    "codes_as_records",
    "copy_codebook",
    "default_guid",
    "fold_description",
    "list_codebooks",
    "load_codebook",
    "normalise_color",
    "replace_name",
    "save_codebook",
    "suffixes",
    "undefined_codes",
    "unfold_description",
    "validate_codebook",
]
