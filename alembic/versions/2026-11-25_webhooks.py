"""webhooks and their deliveries

Revision ID: c21e9855c6be
Revises: 19bcc56bdc16
Create Date: 2026-11-25 19:12:17.106258
"""

from collections.abc import Sequence

import sqlalchemy as sa
import app.db
from alembic import op


revision: str = "c21e9855c6be"
down_revision: str | None = "19bcc56bdc16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_webhooks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_user_id_created_at"), "webhooks", ["user_id", "created_at"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("due_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_webhook_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "user_id",
            "webhook_id",
            "event_id",
            name=op.f("uq_webhook_deliveries_user_id_webhook_id_event_id"),
        ),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_user_id_status_due_at"),
        "webhook_deliveries",
        ["user_id", "status", "due_at"],
    )
    op.create_index(
        op.f("ix_webhook_deliveries_user_id_webhook_id_created_at"),
        "webhook_deliveries",
        ["user_id", "webhook_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_webhook_deliveries_user_id_webhook_id_created_at"), table_name="webhook_deliveries"
    )
    op.drop_index(
        op.f("ix_webhook_deliveries_user_id_status_due_at"), table_name="webhook_deliveries"
    )

    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_user_id_created_at"), table_name="webhooks")

    op.drop_table("webhooks")
