"""REFI-QDA exchange (``.qdpx`` projects, ``.qdc`` codebooks), one module per job; this file only re-exports.

- :mod:`~qualkit.export.refi.archive`: the zip archive, opened safely (paths, sizes, ratios, lying headers,
  XML without DTDs or entities) and packed.
- :mod:`~qualkit.export.refi.write`: a project as ``project.qde`` plus its sources; ``.qdpx`` and ``.qdc`` files.
- :mod:`~qualkit.export.refi.read`: a ``.qdpx`` into plain objects, nothing stored (CRLF offset readings,
  duplicate GUIDs refused).
- :mod:`~qualkit.export.refi.importer`: those objects into a project as one batch, checked and written in one
  transaction by the store (:mod:`qualkit.store.imports`).
- :mod:`~qualkit.export.refi.common`: namespace, GUIDs, XML-safe text, times, the exchange settings.

Example:
    >>> from qualkit.export import refi
    >>> refi.export_qdpx is refi.write.export_qdpx and refi.import_qdpx is refi.importer.import_qdpx
    True
"""

from qualkit.export.refi import archive, common, importer, read, write
from qualkit.export.refi.archive import MAX_MEMBER_BYTES, MAX_MEMBERS, MAX_RATIO, MAX_TOTAL_BYTES
from qualkit.export.refi.common import (
    EXCHANGE_SETTING,
    PROJECT_NS,
    exchange_settings,
    normalise_guid,
    stable_guid,
)
from qualkit.export.refi.importer import (
    QdpxImport,
    import_into_new_project,
    import_qdpx,
    ingest_segments,
    plan_import,
    turn_segments,
)
from qualkit.export.refi.read import (
    QdpxProject,
    QdpxSource,
    Selection,
    crlf_as_one_fits,
    crlf_one_to_code_points,
    import_qdc,
    read_qdpx,
)
from qualkit.export.refi.write import export_qdc, export_qdpx, project_xml, qdpx_bytes

__all__ = [
    "EXCHANGE_SETTING", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "MAX_RATIO", "MAX_TOTAL_BYTES", "PROJECT_NS",
    "QdpxImport", "QdpxProject", "QdpxSource", "Selection", "archive", "common", "crlf_as_one_fits",
    "crlf_one_to_code_points", "exchange_settings", "export_qdc", "export_qdpx", "import_into_new_project",
    "import_qdc", "import_qdpx", "importer", "ingest_segments", "normalise_guid", "plan_import", "project_xml",
    "qdpx_bytes", "read", "read_qdpx", "stable_guid", "turn_segments", "write",
]
