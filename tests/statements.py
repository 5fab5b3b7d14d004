"""The statement check: proves README "Scaling" — every statement the app runs on a
user-owned table names the user (`user_id`), so the schema shards by `user_id` on Citus.

A pytest plugin (listed in tests/conftest.py). On when `TEST_DATABASE_URL` is set, or
`FOLLOWUP_CHECK_STATEMENTS=1` (`=0` turns it off): it records every statement the app runs
in this process (SQLAlchemy's `before_cursor_execute` on every Engine, async engines' sync
engines included, `exec_driver_sql` too; and SQL text given to a raw asyncpg connection's
execute/fetch methods), parses it with sqlglot, and fails the run at the
end, naming each offending statement and the test that ran it, when a SELECT, UPDATE or
DELETE touches a user-owned table without a `user_id` condition, or an INSERT into one does
not carry `user_id`. Allowed: the reference tables and cross-user queries listed, with their
reasons, in app/sharding.py. Statements of the tests' own set-up code and of migrations are
not the app's and are not checked.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import greenlet
import pytest
import sqlglot
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlglot import exp

from app.sharding import CROSS_USER_QUERIES, REFERENCE_TABLES
from app.tables import metadata

SHARD_KEY = "user_id"
# The users table is keyed by `id`, the value every other table carries as `user_id`.
USERS = "users"
USER_OWNED: frozenset[str] = frozenset(
    table.name
    for table in metadata.sorted_tables
    if SHARD_KEY in table.columns and table.name not in REFERENCE_TABLES
)
DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite"}
Scope = exp.Select | exp.Update | exp.Delete


def enabled() -> bool:
    flag = os.environ.get("FOLLOWUP_CHECK_STATEMENTS")
    if flag is not None:
        return flag not in ("", "0")
    return bool(os.environ.get("TEST_DATABASE_URL"))


# --- the rule, on one statement (pure parsing) --------------------------------------------


@functools.cache
def unscoped_tables(sql: str, dialect: str = "postgres") -> tuple[str, ...]:
    """The user-owned tables `sql` touches without naming the user, sorted (empty: fine).
    A statement sqlglot cannot parse is reported as `<unparsed>`."""
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return ("<unparsed>",)
    found: set[str] = set()
    for statement in statements:
        if statement is None:
            continue
        found.update(_insert_without_key(statement))
        constrained: dict[int, set[str]] = {}
        # walk() is breadth-first, so an outer scope is settled before the ones inside it.
        for node in statement.walk():
            if isinstance(node, Scope):
                found.update(_unscoped_in(node, constrained))
    return tuple(sorted(found))


def _insert_without_key(statement: exp.Expr) -> Iterator[str]:
    for insert in statement.find_all(exp.Insert):
        target = insert.this
        if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table):
            columns = {column.name for column in target.expressions}
            if target.this.name in USER_OWNED and SHARD_KEY not in columns:
                yield target.this.name


def _scope_of(node: exp.Expr) -> Scope | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, Scope):
        parent = parent.parent
    return parent


def _sources(scope: Scope) -> dict[str, str]:
    """alias -> table name of the keyed tables (user-owned ones and users) read in `scope`."""
    ctes = {cte.alias for cte in scope.root().find_all(exp.CTE)}
    sources = {}
    for table in scope.find_all(exp.Table):
        if _scope_of(table) is not scope or table.name in ctes:
            continue
        if table.name in USER_OWNED or table.name == USERS:
            sources[table.alias_or_name] = table.name
    return sources


def _conjuncts(condition: exp.Expr | None) -> Iterator[exp.Expr]:
    if condition is None:
        return
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        yield from _conjuncts(condition.this)
        yield from _conjuncts(condition.expression)
    else:
        yield condition


def _conditions(scope: Scope) -> Iterator[exp.Expr]:
    where = scope.args.get("where")
    yield from _conjuncts(where.this if where is not None else None)
    for join in scope.args.get("joins") or []:
        yield from _conjuncts(join.args.get("on"))


@dataclass
class _Key:
    """A shard-key column: of a table in this scope (`alias`), or of an outer scope."""

    alias: str | None = None
    outer_constrained: bool = False


def _key_of(
    column: exp.Expr, scope: Scope, sources: dict[str, str], constrained: dict[int, set[str]]
) -> _Key | None:
    column = column.unnest()
    if isinstance(column, exp.Cast):
        column = column.this.unnest()
    if not isinstance(column, exp.Column):
        return None

    def key_column(table: str) -> str:
        return "id" if table == USERS else SHARD_KEY

    qualifier = column.table
    if qualifier:
        if qualifier in sources:
            return _Key(alias=qualifier) if column.name == key_column(sources[qualifier]) else None
    else:
        owners = [alias for alias, table in sources.items() if column.name == key_column(table)]
        if len(owners) == 1:
            return _Key(alias=owners[0])
        if sources:
            return None
    # A correlated reference: the key of a table in an enclosing scope.
    outer = _scope_of(scope)
    while outer is not None:
        outer_sources = _sources(outer)
        for alias, table in outer_sources.items():
            if (not qualifier or qualifier == alias) and column.name == key_column(table):
                return _Key(outer_constrained=alias in constrained.get(id(outer), set()))
        outer = _scope_of(outer)
    return None


def _is_value(
    side: exp.Expr, scope: Scope, sources: dict[str, str], constrained: dict[int, set[str]]
) -> bool:
    """A value that names one user: a parameter, a literal, a subquery, a constrained outer
    key — anything but a column of this scope."""
    side = side.unnest()
    if isinstance(side, exp.Any | exp.Subquery | exp.Select):
        return True
    key = _key_of(side, scope, sources, constrained)
    if key is not None:
        return key.outer_constrained
    return not any(_scope_of(column) is scope for column in side.find_all(exp.Column))


def _never_true(condition: exp.Expr) -> bool:
    """`FALSE`, or `0 = 1`: the statement touches no row (SQLite's write-lock trick)."""
    if isinstance(condition, exp.Boolean):
        return not condition.this
    return (
        isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Literal)
        and isinstance(condition.expression, exp.Literal)
        and condition.this != condition.expression
    )


def _unscoped_in(scope: Scope, constrained: dict[int, set[str]]) -> list[str]:
    sources = _sources(scope)
    settled: set[str] = set()
    joins: list[tuple[str, str]] = []
    for condition in _conditions(scope):
        if _never_true(condition):
            settled.update(sources)
        elif isinstance(condition, exp.EQ):
            left, right = condition.this, condition.expression
            left_key = _key_of(left, scope, sources, constrained)
            right_key = _key_of(right, scope, sources, constrained)
            if left_key and right_key and left_key.alias and right_key.alias:
                joins.append((left_key.alias, right_key.alias))
            for key, other in ((left_key, right), (right_key, left)):
                if key and key.alias and _is_value(other, scope, sources, constrained):
                    settled.add(key.alias)
        elif isinstance(condition, exp.In):
            key = _key_of(condition.this, scope, sources, constrained)
            if key and key.alias:
                settled.add(key.alias)
    changed = True
    while changed:
        changed = False
        for a, b in joins:
            if (a in settled) != (b in settled):
                settled.update((a, b))
                changed = True
    constrained[id(scope)] = settled
    return [table for alias, table in sources.items() if table != USERS and alias not in settled]


# --- who ran it ---------------------------------------------------------------------------


def _frames() -> Iterator[types.FrameType]:
    """This thread's stack, innermost first, across SQLAlchemy's greenlets (an async
    session runs its sync core in a child greenlet whose stack stops at its start)."""
    frame: types.FrameType | None = sys._getframe(1)
    current: Any = greenlet.getcurrent()
    while True:
        while frame is not None:
            yield frame
            frame = frame.f_back
        current = current.parent
        if current is None:
            return
        frame = current.gr_frame


def _origin() -> tuple[str, list[str]] | None:
    """Whose statement this is: None for migrations and for the tests' own code, else
    ("app", the app functions on the stack, innermost first)."""
    functions: list[str] = []
    owner = None
    for frame in _frames():
        module = frame.f_globals.get("__name__", "")
        if module == "alembic" or module.startswith("alembic."):
            return None
        if owner is None and module.startswith("tests.") and module != __name__:
            owner = "tests"
        if module.startswith("app."):
            owner = owner or "app"
            functions.append(f"{module}.{frame.f_code.co_qualname}")
    if owner != "app":
        return None
    return owner, functions


def allowed(functions: list[str]) -> bool:
    return any(
        function == name or function.startswith(f"{name}.")
        for function in functions
        for name in CROSS_USER_QUERIES
    )


# --- the plugin ---------------------------------------------------------------------------


@dataclass
class Offence:
    sql: str
    tables: tuple[str, ...]
    function: str
    tests: list[str] = field(default_factory=list)


class StatementCheck:
    def __init__(self) -> None:
        self.test = "<collection or a session fixture>"
        self.checked = 0
        self.offences: dict[tuple[str, str], Offence] = {}

    def before_cursor_execute(
        self,
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        dialect = DIALECTS.get(connection.dialect.name)
        if dialect is not None:
            self.record(statement, dialect)

    def record(self, statement: str, dialect: str) -> None:
        self.checked += 1
        tables = unscoped_tables(statement, dialect)
        if not tables:
            return
        origin = _origin()
        if origin is None or allowed(origin[1]):
            return
        function = origin[1][0] if origin[1] else "?"
        offence = self.offences.setdefault(
            (statement, function), Offence(statement, tables, function)
        )
        if self.test not in offence.tests:
            offence.tests.append(self.test)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.test = item.nodeid
        return (yield)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.offences and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        terminalreporter.section("statement check (README: Scaling)")
        if not self.offences:
            write(f"{self.checked} statements checked: each names its user (user_id).")
            if not self.checked:
                write("(the app ran no statement in this process: only live servers, if any)")
            return
        write(
            f"{len(self.offences)} statements touch a user-owned table without a user_id "
            "condition (add one, or list the function in app/sharding.py with a reason):",
            red=True,
        )
        for offence in self.offences.values():
            write("")
            write(f"tables: {', '.join(offence.tables)}   from: {offence.function}", bold=True)
            write(f"  {' '.join(offence.sql.split())}")
            shown = offence.tests[:3]
            more = f" and {len(offence.tests) - 3} more" if len(offence.tests) > 3 else ""
            write(f"  run by: {', '.join(shown)}{more}")


# What app code may call on a raw asyncpg connection (e.g. `driver_connection`) with SQL
# text: SQLAlchemy's events do not see these, so they are recorded here.
ASYNCPG_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


def _record_raw_asyncpg(check: StatementCheck) -> None:
    from asyncpg.connection import Connection

    def recording(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            check.record(query, "postgres")
            return method(self, query, *args, **kwargs)

        return call

    for name in ASYNCPG_METHODS:
        setattr(Connection, name, recording(getattr(Connection, name)))


def pytest_configure(config: pytest.Config) -> None:
    if not enabled():
        return
    check = StatementCheck()
    event.listen(Engine, "before_cursor_execute", check.before_cursor_execute)
    _record_raw_asyncpg(check)
    config.pluginmanager.register(check, "followup-statement-check")
