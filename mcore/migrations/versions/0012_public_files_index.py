"""files' public index: public live files by id, the files list's public branch

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:10:00

`GET /api/v1/files` is a `UNION` of one page per access rule (the caller's own, public,
shared, in a readable folder), each walking an index newest first to the page's end; the
public rule walks `(visibility, deleted_at, id)`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_files_visibility_deleted_id", ["visibility", "deleted_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_visibility_deleted_id")
