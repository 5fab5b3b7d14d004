"""invite uid: an interview remembers the calendar invite it came from

`POST /api/v1/interviews/import-invite` keeps the invite's UID and SEQUENCE, so that importing
the same invite again updates that interview (and an older SEQUENCE is refused). One interview
per invite and user: the unique index leads with user_id like every other one; NULLs (interviews
typed in by hand) never collide.

Revision ID: 4f9b2d7e1c58
Revises: 6b1f0d3c9e42
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f9b2d7e1c58"
down_revision: str | None = "6b1f0d3c9e42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column("invite_uid", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("invite_sequence", sa.Integer(), nullable=True))
    op.create_index(
        "ix_interviews_user_id_invite_uid", "interviews", ["user_id", "invite_uid"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_interviews_user_id_invite_uid", table_name="interviews")
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("invite_sequence")
        batch.drop_column("invite_uid")
