"""files' list indexes: live files by id, a folder's files by name

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:20:00

With `deleted_at` alone indexed, SQLite took every live file of the instance, tested each
against the access filter and sorted them all for each page of `GET /api/v1/files`; with
`(deleted_at, id)` it walks the live files in page order and stops at the page's end.
`GET /api/v1/folders/{id}/children` sorted by name (its default) sorted a folder's every
file for each page; `(folder_id, deleted_at, filename, id)` gives them in that order.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index("ix_files_deleted_at_id", ["deleted_at", "id"], unique=False)
        batch_op.drop_index("ix_files_deleted_at")
        batch_op.create_index(
            "ix_files_folder_name", ["folder_id", "deleted_at", "filename", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_folder_name")
        batch_op.create_index("ix_files_deleted_at", ["deleted_at"], unique=False)
        batch_op.drop_index("ix_files_deleted_at_id")
