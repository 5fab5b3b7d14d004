"""claim index: partial indexes on due_at of unsent outbox rows and webhook deliveries

The worker's claim (app/queue.py) looks only at pending and sending rows, by due time; these
keep it from reading the sent history as it grows (issue 5, E5).

Revision ID: 5e1c0a7d9b21
Revises: a66ed682bd14
Create Date: 2026-11-25 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1c0a7d9b21"
down_revision: str | None = "a66ed682bd14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    for table in ("outbox", "webhook_deliveries"):
        op.create_index(
            f"ix_{table}_due_at_unsent",
            table,
            ["due_at"],
            unique=False,
            postgresql_where=UNSENT,
            sqlite_where=UNSENT,
        )


def downgrade() -> None:
    for table in ("outbox", "webhook_deliveries"):
        op.drop_index(f"ix_{table}_due_at_unsent", table_name=table)
