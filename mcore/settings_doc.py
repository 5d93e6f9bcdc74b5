"""The table of settings in README.md and docs/configuration.md, made from the fields
themselves so the docs and the code agree.

python -m mcore.settings_doc            # prints the table
python -m mcore.settings_doc --write    # rewrites it in place in every file that has one
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from pathlib import Path
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


ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/configuration.md")  # the files that carry the table
TABLE = re.compile(r"(<!-- settings-table.*?-->\n)(.*?)(\n<!-- end settings-table -->)", re.S)


def tables_in(text: str) -> list[str]:
    """The settings tables between the markers of a document."""
    return [match.group(2) for match in TABLE.finditer(text)]


def write_tables(root: Path = ROOT) -> list[Path]:
    """Rewrite the table in each of ``DOCUMENTS``; return the files that changed."""
    table = settings_table()
    changed = []
    for name in DOCUMENTS:
        path = root / name
        text = path.read_text()
        new = TABLE.sub(lambda m: m.group(1) + table + m.group(3), text)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        for path in write_tables():
            print(f"rewrote the settings table in {path.relative_to(ROOT)}")
    else:
        print(settings_table())
