"""resumable uploads: the offset of each tus upload, so it survives a restart

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import mcore.db

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("declared_type", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("folder_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("expected_cid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("metadata_header", sa.Text(), nullable=True),
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=True),
        sa.Column("cid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", mcore.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mcore.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", mcore.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index("ix_uploads_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_uploads_owner_id", ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_owner_id")
        batch_op.drop_index("ix_uploads_expires_at")
    op.drop_table("uploads")
