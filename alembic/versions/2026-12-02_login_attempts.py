"""login attempts: the sign-in throttle's counts, shared by every app process

Password checks per account and per client address in the current window (issue 10,
defect 6): counted in the database before the check, instead of in each process's memory.

Revision ID: 3b7f2c9e4d10
Revises: 7c2e9f4b1a30
Create Date: 2026-12-02 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "3b7f2c9e4d10"
down_revision: str | None = "7c2e9f4b1a30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        op.f("ix_login_attempts_window_started_at"),
        "login_attempts",
        ["window_started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_attempts_window_started_at"), table_name="login_attempts")
    op.drop_table("login_attempts")
