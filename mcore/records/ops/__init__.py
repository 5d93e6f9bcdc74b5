"""The ops every generated record model shares, typed by a ``RecordType`` descriptor.

Generated ops (``<domain>/_generated/ops.py``) describe each model once (its schemas,
projection table, how its schema becomes content, where its links are) and delegate
here, so the rules live in one hand-written, tested place. Nothing here commits.
"""

from mcore.records.ops._core import (
    DEFAULT_SORT,
    GENERIC_SORTS,
    Filter,
    HasTerm,
    Holds,
    Match,
    OneOf,
    RecordType,
    validate,
)
from mcore.records.ops._lists import count_owned, list_objects, projected
from mcore.records.ops._objects import (
    create,
    create_many,
    delete,
    get,
    get_version,
    level,
    purge,
    revert,
    update,
    versions,
)

__all__ = [
    "DEFAULT_SORT",
    "GENERIC_SORTS",
    "Filter",
    "HasTerm",
    "Holds",
    "Match",
    "OneOf",
    "RecordType",
    "count_owned",
    "create",
    "create_many",
    "delete",
    "get",
    "get_version",
    "level",
    "list_objects",
    "projected",
    "purge",
    "revert",
    "update",
    "validate",
    "versions",
]
