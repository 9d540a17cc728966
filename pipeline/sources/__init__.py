"""Sources: parse raw snapshots of ITU-T, ISO and IEC (and user item files) into items.

``parse_snapshot(path) -> ParsedInput`` reads ``data/raw/<snapshot-id>/`` (manifest + bodies as
received) without touching the network; ``load_item_files(paths) -> ParsedInput`` reads user
files in the item schema. Per-body parsers live in :mod:`.itu_t`, :mod:`.iso` and :mod:`.iec`;
they are pure functions from response content (+ URL) to records or errors.
"""

from pipeline.sources.common import ATTRIBUTION, ParseOutput
from pipeline.sources.items_files import load_item_files
from pipeline.sources.snapshot import (
    Manifest,
    ManifestEntry,
    parse_snapshot,
    read_manifest,
    write_manifest,
)

__all__ = [
    "ATTRIBUTION",
    "Manifest",
    "ManifestEntry",
    "ParseOutput",
    "load_item_files",
    "parse_snapshot",
    "read_manifest",
    "write_manifest",
]
