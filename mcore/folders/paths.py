"""Materialised paths: a folder's path is its ancestors' ids and its own, each followed by
``/``, so children, descendants and breadcrumbs are one indexed query at any depth."""

from __future__ import annotations

SEP = "/"


def child_path(parent_path: str | None, folder_id: str) -> str:
    """The path of ``folder_id`` under a parent with ``parent_path`` (None: a root)."""
    if not folder_id or SEP in folder_id:
        raise ValueError(f"a folder id must be non-empty and hold no {SEP!r}: {folder_id!r}")
    return f"{parent_path or ''}{folder_id}{SEP}"


def ancestor_ids(path: str) -> list[str]:
    """The ids on ``path``, root first, the folder itself last (the breadcrumbs)."""
    return [part for part in path.split(SEP) if part]


def moved_path(path: str, *, old_prefix: str, new_prefix: str) -> str:
    """The path of a folder inside a moved subtree, whose root went from ``old_prefix``
    to ``new_prefix``."""
    if not path.startswith(old_prefix):
        raise ValueError(f"{path!r} is not inside {old_prefix!r}")
    return new_prefix + path[len(old_prefix) :]


def sibling_key(name: str) -> str:
    """The key that makes a folder's name unique among its siblings, case-insensitively."""
    return name.strip().casefold()
