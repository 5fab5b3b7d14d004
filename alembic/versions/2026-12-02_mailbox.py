"""mailbox: the user's own IMAP/SMTP mailbox, what the watch has read, what came back

The user's mailbox (password sealed with a key derived from SECRET_KEY), how far the watch
has read each folder (UIDVALIDITY, last UID), the messages that changed something (a hash
of their Message-ID, so each counts once); on follow-ups why one was cancelled
(`cancel_reason`), how one went out (`sent_via`), its Message-ID and a send's refusal; on
interviews the last reply the mailbox saw (issue 11). Existing rows are filled in: a sent
follow-up was marked by hand, a cancelled one by an outcome or by its person leaving.

Revision ID: 4a9c2e7b1d58
Revises: 8d4e6a1f2c37
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "4a9c2e7b1d58"
down_revision: str | None = "8d4e6a1f2c37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

followups = sa.table(
    "followups",
    sa.column("status", sa.String()),
    sa.column("cancelled_by_outcome", sa.Boolean()),
    sa.column("cancel_reason", sa.String()),
    sa.column("sent_via", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("password_sealed", sa.Text(), nullable=False),
        sa.Column("imap_host", sa.String(length=253), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_security", sa.String(length=10), nullable=False),
        sa.Column("smtp_host", sa.String(length=253), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_security", sa.String(length=10), nullable=False),
        sa.Column("inbox_folder", sa.String(length=300), nullable=True),
        sa.Column("sent_folder", sa.String(length=300), nullable=True),
        sa.Column("watch", sa.Boolean(), nullable=False),
        sa.Column("send", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("last_checked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_watch_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mailboxes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("user_id", name=op.f("uq_mailboxes_user_id")),
    )
    op.create_index(
        op.f("ix_mailboxes_watch_next_watch_at"), "mailboxes", ["watch", "next_watch_at"]
    )
    op.create_table(
        "mailbox_folders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_folders_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mailbox_folders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_folders")),
        sa.UniqueConstraint(
            "user_id", "mailbox_id", "role", name=op.f("uq_mailbox_folders_user_id_mailbox_id_role")
        ),
    )
    op.create_table(
        "mailbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mailbox_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox_messages")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_mailbox_messages_user_id_key")),
    )
    with op.batch_alter_table("followups") as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("sent_via", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("send_error", sa.Text(), nullable=True))
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.add_column(sa.Column("last_reply_person_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("last_reply_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_reply_subject", sa.String(length=300), nullable=True))

    # Until now a follow-up was sent only when the user said so, and cancelled only by an
    # outcome or by its person leaving the interview.
    op.execute(followups.update().where(followups.c.status == "sent").values(sent_via="user"))
    cancelled = followups.c.status == "cancelled"
    op.execute(
        followups.update()
        .where(cancelled, followups.c.cancelled_by_outcome == sa.true())
        .values(cancel_reason="outcome")
    )
    op.execute(
        followups.update()
        .where(cancelled, followups.c.cancelled_by_outcome == sa.false())
        .values(cancel_reason="removed")
    )


def downgrade() -> None:
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.drop_column("last_reply_subject")
        batch_op.drop_column("last_reply_at")
        batch_op.drop_column("last_reply_person_id")
    with op.batch_alter_table("followups") as batch_op:
        batch_op.drop_column("send_error")
        batch_op.drop_column("message_id")
        batch_op.drop_column("sent_via")
        batch_op.drop_column("cancel_reason")
    op.drop_table("mailbox_messages")
    op.drop_table("mailbox_folders")
    op.drop_index(op.f("ix_mailboxes_watch_next_watch_at"), table_name="mailboxes")
    op.drop_table("mailboxes")
