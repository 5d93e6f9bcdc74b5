"""The README's table of settings, made from the fields themselves so the two agree.

python -m mcore.settings_doc    # prints the table for README.md
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from mcore.settings import GiB, MiB, Settings


def _shown(name: str, default: Any) -> str:
    if isinstance(default, timedelta):
        seconds = default.total_seconds()
        return f"{int(seconds)} s" if seconds == int(seconds) else f"{seconds:g} s"
    if isinstance(default, list):
        return ", ".join(default) if len(default) < 4 else f"{len(default)} patterns (see below)"
    if isinstance(default, dict):
        return f"key id {', '.join(default)}: development only"
    if default is None:
        return "(derived)" if name == "database_url" else "(unset)"
    sized = any(word in name for word in ("size", "limit", "bytes"))
    if sized and isinstance(default, int) and default >= MiB and default % MiB == 0:
        return f"{default // GiB} GiB" if default % GiB == 0 else f"{default // MiB} MiB"
    return str(default)


def settings_table() -> str:
    """One row per field; grouped settings (``jobs``, ``media``, ``events``) field by
    field, with their ``MSTACK_GROUP__FIELD`` variables."""
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            for sub, subfield in type(default).model_fields.items():
                value = getattr(default, sub)
                meaning = (subfield.description or "").replace("|", "\\|")
                rows.append(
                    f"| `{name}.{sub}` | `MSTACK_{name.upper()}__{sub.upper()}` |"
                    f" {_shown(sub, value)} | {meaning} |"
                )
            continue
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | `MSTACK_{name.upper()}` | {_shown(name, default)} | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
