"""derivatives by source and name: a page's previews in one index range each

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 20:20:00

A list page asks for the `preview-256` of each cover's file (`derivatives.named`); with
only `(transient, last_used_at)` and `source_cid` to choose from, SQLite walked every
lasting derivative of the instance. `(source_cid, name, transient)` answers each file by
one seek.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("derivatives", schema=None) as batch_op:
        batch_op.create_index(
            "ix_derivatives_source_name", ["source_cid", "name", "transient"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("derivatives", schema=None) as batch_op:
        batch_op.drop_index("ix_derivatives_source_name")
