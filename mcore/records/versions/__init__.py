"""Versioned objects, like git's trees and commits (DESIGN.md, "Versionable records").

Content blocks carry a record's fields and its ``$type``; version blocks chain them:
``{$type: "mstack/version", content, prev, by, at, n}``, the first with a random ``nonce``
and no ``prev``, a deletion with ``deleted: true`` and no ``content``. An object's stable
id is the CID of its first version; its head moves by compare-and-swap on the previous
head. Every block is stored as the exact bytes that were hashed.

- ``_chain``: create an object, find and lock it, append a version, index its terms.
- ``_history``: read its versions (at a time, by CID, a page) and its blocks.
- ``_purge``: remove an object and the blocks only it held (admin).

These functions check who may read and write, and never commit. Who may read an object
is ``mcore.access.objects``.
"""

from mcore.records.versions._chain import (
    NONCE_SIZE,
    VERSION_TYPE,
    Subject,
    append_version,
    create_object,
    create_objects,
    find_object,
    lock_object,
    replace_terms,
    require_live,
    version_value,
)
from mcore.records.versions._history import (
    list_versions,
    read_block,
    version_at,
    version_by_cid,
    version_read,
)
from mcore.records.versions._purge import purge_object

__all__ = [
    "NONCE_SIZE",
    "VERSION_TYPE",
    "Subject",
    "append_version",
    "create_object",
    "create_objects",
    "find_object",
    "list_versions",
    "lock_object",
    "purge_object",
    "read_block",
    "replace_terms",
    "require_live",
    "version_at",
    "version_by_cid",
    "version_read",
    "version_value",
]
