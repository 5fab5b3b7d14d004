"""retention indexes: the worker finds the oldest rows to delete through an index

Retention (app/retention.py) deletes a bounded batch of the oldest rows of each table that only
grows; without these, each batch would read the whole table (or every done row) and sort it.
The outbox and webhook deliveries are indexed only where done, like the claim index is only
where unsent, so pending rows are never read.

Revision ID: 7c2e9f4b1a30
Revises: 5e1c0a7d9b21
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2e9f4b1a30"
down_revision: str | None = "5e1c0a7d9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DONE = {
    "outbox": sa.text("status IN ('sent', 'failed')"),
    "webhook_deliveries": sa.text("status IN ('delivered', 'failed')"),
}
PLAIN = {"idempotency_keys": "created_at", "web_sessions": "expires_at", "password_resets": "expires_at"}


def upgrade() -> None:
    for table, where in DONE.items():
        op.create_index(
            f"ix_{table}_created_at_done",
            table,
            ["created_at"],
            unique=False,
            postgresql_where=where,
            sqlite_where=where,
        )
    for table, column in PLAIN.items():
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in PLAIN.items():
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    for table in DONE:
        op.drop_index(f"ix_{table}_created_at_done", table_name=table)
