"""The statement check itself (tests/statements.py): which statements name their user. Pure
parsing, so it runs on SQLite too; the check over the whole suite runs on Postgres."""

from __future__ import annotations

import pytest

from app.sharding import CROSS_USER_QUERIES, REFERENCE_TABLES
from app.tables import metadata
from tests.statements import USER_OWNED, allowed, unscoped_tables


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM followups WHERE due_at < $1",
        "UPDATE followups SET status = $1 WHERE followups.id = $2",
        "DELETE FROM interviews WHERE id = %(id)s",
        # A user_id condition that does not hold alone (OR) scopes nothing.
        "SELECT id FROM interviews WHERE user_id = $1 OR company = $2",
        # The people are found through interviews of the user, but are not scoped themselves.
        "SELECT p.id FROM people AS p JOIN interviews AS i ON p.interview_id = i.id "
        "WHERE i.user_id = $1",
        "INSERT INTO followups (id, interview_id) VALUES ($1, $2)",
    ],
)
def test_a_statement_on_a_user_owned_table_without_its_user_is_flagged(sql: str) -> None:
    assert unscoped_tables(sql) != ()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM followups WHERE followups.user_id = $1::UUID AND due_at < $2",
        "SELECT id FROM followups WHERE user_id = ANY($1)",
        "SELECT id FROM followups WHERE user_id IN ($1, $2)",
        "UPDATE followups SET status = ? WHERE followups.user_id = ? AND followups.id = ?",
        "DELETE FROM interviews WHERE (id = %(id)s AND user_id = %(user_id)s)",
        # A join on user_id to a table that names the user.
        "SELECT p.id FROM people AS p JOIN interviews AS i ON p.interview_id = i.id "
        "AND p.user_id = i.user_id WHERE i.user_id = $1",
        "SELECT f.id FROM users JOIN followups AS f ON f.user_id = users.id WHERE users.id = $1",
        # A correlated subquery scoped by the outer row's user.
        "SELECT i.id FROM interviews AS i WHERE i.user_id = $1 AND EXISTS "
        "(SELECT 1 FROM followups AS f WHERE f.user_id = i.user_id AND f.interview_id = i.id)",
        "INSERT INTO followups (id, user_id, interview_id) VALUES ($1, $2, $3)",
        # SQLite's write-lock trick touches no row.
        "UPDATE interviews SET user_id=interviews.user_id WHERE 0 = 1",
    ],
)
def test_a_statement_that_names_its_user_passes(sql: str) -> None:
    assert unscoped_tables(sql) == ()


def test_reference_tables_pass_without_a_user() -> None:
    assert unscoped_tables("SELECT id FROM users WHERE email = $1") == ()
    assert unscoped_tables("UPDATE invites SET used_at = $1 WHERE code_hash = $2") == ()
    assert unscoped_tables("DELETE FROM login_attempts WHERE key_hash = $1") == ()
    # Shared with the whole group although it names its author.
    assert unscoped_tables("SELECT id FROM group_templates ORDER BY created_at") == ()


def test_the_sqlite_dialect_is_read_too() -> None:
    assert unscoped_tables("SELECT id FROM webhooks WHERE id = ?", "sqlite") == ("webhooks",)
    assert unscoped_tables("SELECT id FROM webhooks WHERE user_id = ?", "sqlite") == ()


def test_every_table_is_user_owned_or_a_listed_reference_table() -> None:
    """A new table must say which it is: a user_id, or a line in app/sharding.py."""
    names = {table.name for table in metadata.sorted_tables}
    assert names - USER_OWNED == set(REFERENCE_TABLES)
    assert "interviews" in USER_OWNED and "group_templates" not in USER_OWNED


def test_only_the_listed_app_functions_may_cross_users() -> None:
    assert allowed(["app.interviews.repository.get", "app.queue.claim_ids"])
    assert allowed(["app.accounts.repository.user_for_token_hash"])
    assert not allowed(["app.interviews.repository.get", "app.interviews.service.update"])
    assert all(name.startswith("app.") and reason for name, reason in CROSS_USER_QUERIES.items())
