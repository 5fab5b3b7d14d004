"""reset links out of the outbox: queued password-reset emails keep no link

A password-reset email used to be queued with its link in the outbox payload, kept for
good (issue 10, defect 4). The worker now makes the link as it sends; this takes the text
(and with it the link) out of the reset emails already in the outbox, keeping what the
worker needs to make a new link for any not yet sent. Downgrade leaves them so.

Revision ID: 8d4e6a1f2c37
Revises: 3b7f2c9e4d10
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d4e6a1f2c37"
down_revision: str | None = "3b7f2c9e4d10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("payload", sa.JSON()),
)

# The words only an admin's reset email had (app/reminders/service.py before this change).
ADMIN_WORDS = "The admin of this Followup"


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == "password_reset")
    ).all()
    for row_id, payload in rows:
        if "text" not in payload and "html" not in payload:
            continue
        by_admin = ADMIN_WORDS in str(payload.get("text", ""))
        kept = {key: value for key, value in payload.items() if key not in ("text", "html")}
        kept.update(valid_for_seconds=86400 if by_admin else 3600, by_admin=by_admin)
        connection.execute(sa.update(outbox).where(outbox.c.id == row_id).values(payload=kept))


def downgrade() -> None:
    # The links are gone for good; a reset email still queued gets a new one from the worker.
    pass
