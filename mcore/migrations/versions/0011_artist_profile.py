"""mart artists' profile: the list column behind `GET /api/v1/artists?profile=`

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00

An artist may link to a social profile (`mart/artist.profile`, a link to `msocial/profile`).
No artist written before held one, so the new column is empty for every existing row and
needs no backfill.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mart_artists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_mart_artists_profile"), ["profile"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mart_artists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mart_artists_profile"))
        batch_op.drop_column("profile")
