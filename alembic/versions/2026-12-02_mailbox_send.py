"""mailbox send: when a send through the user's mailbox was asked for and is not done yet

While set (and the follow-up still `scheduled`), the follow-up shows "Sending…"; the worker
clears it when the message went out or was refused (issue 11).

Revision ID: 6b1f0d3c9e42
Revises: 4a9c2e7b1d58
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "6b1f0d3c9e42"
down_revision: str | None = "4a9c2e7b1d58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("followups") as batch_op:
        batch_op.add_column(
            sa.Column("send_requested_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("followups") as batch_op:
        batch_op.drop_column("send_requested_at")
