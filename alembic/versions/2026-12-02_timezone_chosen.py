"""timezone chosen: whether the user picked their time zone, or it is still the default

Accounts start in UTC. Signing in from a browser detects the zone for an account that never
chose one; a user who picked UTC on purpose must keep it, and the stored name alone cannot say
which. Existing accounts count as having chosen when their zone is not UTC (it was set by hand
or through the API); a UTC one may still be the untouched default, so it is detected once.

Revision ID: 9d4a6c2e8b17
Revises: 4f9b2d7e1c58
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4a6c2e8b17"
down_revision: str | None = "4f9b2d7e1c58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "timezone_chosen", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.execute(sa.text("UPDATE users SET timezone_chosen = :yes WHERE timezone <> 'UTC'").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("timezone_chosen")
