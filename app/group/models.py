"""Tables the whole group shares: templates published to members, and the instance's settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import OWNED_BY_USER, Base, utcnow


class GroupTemplate(Base):
    """A thank-you or check-in template a member published for the others to adopt."""

    __tablename__ = "group_templates"
    __mapper_args__ = OWNED_BY_USER

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The author: the template goes with their account.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # "thank_you" | "check_in"
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index(None, "user_id", "created_at"),
        # The group's list, newest first.
        Index(None, "created_at", "id"),
    )


class InstanceSettings(Base):
    """Settings the admin changes at run time; a single row with id 1."""

    __tablename__ = "instance_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whether members other than admins may publish templates to the group.
    members_may_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
