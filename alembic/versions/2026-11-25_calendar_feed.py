"""calendar feed

Revision ID: e158482be8b6
Revises: f0f3980fda17
Create Date: 2026-11-25 18:37:24.812031
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import app.db
from alembic import op


revision: str = 'e158482be8b6'
down_revision: str | None = 'f0f3980fda17'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_salt", sa.String(length=32), nullable=True))
    # Every existing account gets its own feed: 128 random bits each.
    users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("calendar_salt", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(calendar_salt=secrets.token_hex(16))
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("calendar_salt")
