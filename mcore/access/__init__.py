"""Access: who is calling, and what they may do to what.

- ``roles``: the principal (``Actor``, its ``Role`` and scopes) and the role rules
  (levels and the actions they allow, ``require_*``), pure functions with no tables. They are
  re-exported here: ``from mcore.access import Actor, require_scope``. Every op may
  import them.
- ``objects``: the one access function applied to stored rows (files, folders, records,
  and the blobs they reference), reading spaces, groups and shares: the level a
  principal holds on one row, and SQL conditions so lists filter in the database.
  It sits above the tables of files and records and below their ops, so it is not
  re-exported here: ``from mcore.access.objects import readable_files``.

Ops ask these; routes only say who is calling.
"""

from mcore.access.roles import (
    ANONYMOUS,
    NEEDS,
    SCOPES,
    SHARE_LEVELS,
    SYSTEM,
    Action,
    Actor,
    Level,
    Role,
    Visibility,
    refuse_delete,
    require_account,
    require_create,
    require_moderate,
    require_scope,
    session_scopes,
)

__all__ = [
    "ANONYMOUS",
    "NEEDS",
    "SCOPES",
    "SHARE_LEVELS",
    "SYSTEM",
    "Action",
    "Actor",
    "Level",
    "Role",
    "Visibility",
    "refuse_delete",
    "require_account",
    "require_create",
    "require_moderate",
    "require_scope",
    "session_scopes",
]
