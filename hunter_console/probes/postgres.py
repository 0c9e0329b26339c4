"""PostgreSQL probes: the Alembic revision, the G20 columns, the connection headroom.

Each probe opens its own short connection with psycopg's `AsyncConnection` (never the blocking
one: a dead host must not freeze the event loop), `connect_timeout` set from the spec's timeout,
autocommit so nothing is left idle in a transaction. The DSN comes from the `database_url`
secret; a SQLAlchemy-style `postgresql+psycopg://` URL is accepted and its driver suffix dropped.
Connection failures are ERRORs said in the operator's words (refused, unknown host, timed out,
authentication failed, no such role / database); what is found wrong inside the database is a FAIL.
"""

from __future__ import annotations

import math
import re
import sqlite3
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes import sqlite_db
from hunter_console.probes.base import ProbeContext, errored, failed, one_line, passed, register, warned

HEAD_REVISION = "f786f93501ea"
G20_COLUMNS = ("companies.tenant_size", "domain_signals.local_provider", "domain_signals.dmarc_coverage")


class ConnectFailed(Exception):
    """The database could not be reached or refused us; the message is for the operator."""


def libpq_dsn(url: str) -> str:
    """A DSN libpq understands: `postgresql+psycopg://` and friends lose their driver suffix."""
    return re.sub(r"^(postgres(?:ql)?)\+[A-Za-z0-9_]+://", r"\1://", url.strip())


def where(dsn: str) -> str:
    """host:port/dbname of a DSN, for messages (never the user's password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(dsn)
    except Exception:
        return "(unparsable DSN)"
    host = info.get("host") or info.get("hostaddr") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def explain_connect_error(exc: BaseException, dsn: str) -> str:
    """psycopg's multi-line connection error as one line an operator can act on."""
    text = str(exc)
    target = where(dsn)
    lowered = text.lower()
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        user = re.search(r'for user "([^"]+)"', text)
        return f"authentication failed for user {user.group(1) if user else '?'} on {target}"
    m = re.search(r'role "([^"]+)" is not permitted to log in', text)
    if m:
        return f"role '{m.group(1)}' is not permitted to log in on {target}"
    if "no pg_hba.conf entry" in lowered:
        return f"rejected by pg_hba.conf on {target}"
    m = re.search(r'(role|database) "([^"]+)" does not exist', text)
    if m:
        return f"{m.group(1)} '{m.group(2)}' does not exist on {target}"
    if "could not translate host name" in lowered or "name or service not known" in lowered \
            or "nodename nor servname" in lowered or "failed to resolve host" in lowered:
        return f"unknown host: {target}"
    if "connection refused" in lowered:
        return f"connection refused by {target}"
    if "timeout" in lowered or "timed out" in lowered:
        return f"connect timed out to {target}"
    if "no password supplied" in lowered:
        return f"the server wants a password and the DSN has none ({target})"
    return f"cannot connect to {target}: {one_line(text.split('failed:', 1)[-1] if 'failed:' in text else text)}"


@asynccontextmanager
async def connect(context: ProbeContext, timeout: float) -> AsyncIterator[Any]:
    """An autocommit AsyncConnection to the database_url secret, closed on exit."""
    import psycopg

    url = context.secret("database_url")
    if not url:
        name = context.environment.secrets.get("database_url", "DATABASE_URL")
        raise ConnectFailed(f"{name} is not set: no database to probe")
    dsn = libpq_dsn(url)
    try:
        conn = await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=max(2, math.ceil(timeout)),
            application_name="hunter-console-probe",
        )
    except psycopg.Error as e:
        raise ConnectFailed(explain_connect_error(e, dsn)) from None
    except (OSError, ValueError) as e:
        raise ConnectFailed(f"cannot connect to {where(dsn)}: {one_line(str(e))}") from None
    try:
        yield conn
    finally:
        await conn.close()


@register("postgres.revision", params=("expected", "table"))
async def check_revision(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """`alembic current` without Alembic: the revision in alembic_version is the expected head."""
    import psycopg

    expected = str(spec.params.get("expected", HEAD_REVISION))
    table = str(spec.params.get("table", "alembic_version"))
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", table):
        return errored(f"bad table name '{table}'")
    if sqlite_db.is_sqlite(context.secret("database_url")):
        try:
            rows = [r[0] for r in await sqlite_db.query(context.secret("database_url"),
                                                        f"SELECT version_num FROM {table}", spec.timeout)]
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return failed(f"no {table} table: the database is not under Alembic (expected {expected})", None)
            return errored(f"cannot read the SQLite database: {e}")
        return _judge_revision(rows, table, expected)
    try:
        async with connect(context, spec.timeout) as conn:
            try:
                cur = await conn.execute(f"SELECT version_num FROM {table}")
                rows = [r[0] for r in await cur.fetchall()]
            except psycopg.errors.UndefinedTable:
                return failed(f"no {table} table: the database is not under Alembic (expected {expected})", None)
    except ConnectFailed as e:
        return errored(str(e))
    return _judge_revision(rows, table, expected)


def _judge_revision(rows: list[str], table: str, expected: str) -> ProbeResult:
    if not rows:
        return failed(f"{table} is empty: no migration applied (expected {expected})", None)
    if len(rows) > 1:
        value = ",".join(sorted(rows))
        return failed(f"{len(rows)} heads applied ({value}); expected the single head {expected}", value)
    current = rows[0]
    if current == expected:
        return passed(f"at head {current}", current)
    return failed(f"at {current}, expected head {expected}: run `alembic upgrade head`", current)


@register("postgres.columns", params=("columns", "schema"))
async def check_columns(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """The named table.column pairs exist (the G20 columns by default)."""
    wanted = spec.params.get("columns", G20_COLUMNS)
    if isinstance(wanted, str):
        wanted = [c.strip() for c in wanted.split(",") if c.strip()]
    pairs = []
    for name in wanted:
        if "." not in str(name):
            return errored(f"column '{name}' is not table.column")
        table, column = str(name).rsplit(".", 1)
        pairs.append((table, column))
    schema = spec.params.get("schema")
    url = context.secret("database_url")
    if sqlite_db.is_sqlite(url):
        found = set()
        try:
            for table in {t for t, _ in pairs}:
                found |= {f"{table}.{row[1]}" for row in await sqlite_db.query(
                    url, f"PRAGMA table_info('{table}')", spec.timeout)}
        except sqlite3.OperationalError as e:
            return errored(f"cannot read the SQLite database: {e}")
        return _judge_columns(pairs, found)
    try:
        async with connect(context, spec.timeout) as conn:
            cur = await conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = COALESCE(%s, current_schema())"
                " AND (table_name, column_name) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
                (schema, [t for t, _ in pairs], [c for _, c in pairs]),
            )
            found = {f"{t}.{c}" for t, c in await cur.fetchall()}
    except ConnectFailed as e:
        return errored(str(e))
    return _judge_columns(pairs, found)


def _judge_columns(pairs: list[tuple[str, str]], found: set[str]) -> ProbeResult:
    missing = [f"{t}.{c}" for t, c in pairs if f"{t}.{c}" not in found]
    if missing:
        return failed(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}", missing)
    return passed(f"all {len(pairs)} columns present", sorted(found))


@register("postgres.pool", params=("warn_ratio", "max_ratio"))
async def check_pool(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """Connection headroom on the server: connections in use against max_connections."""
    warn_ratio = float(spec.params.get("warn_ratio", 0.75))
    max_ratio = float(spec.params.get("max_ratio", 0.9))
    if sqlite_db.is_sqlite(context.secret("database_url")):
        try:
            await sqlite_db.query(context.secret("database_url"), "SELECT 1", spec.timeout)
        except sqlite3.Error as e:
            return errored(f"cannot read the SQLite database: {e}")
        return passed("SQLite file database: no server connections to exhaust", None)
    try:
        async with connect(context, spec.timeout) as conn:
            cur = await conn.execute(
                "SELECT current_setting('max_connections')::int,"
                " current_setting('superuser_reserved_connections')::int,"
                " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
                " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                "   AND datname = current_database()),"
                " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                "   AND state = 'idle in transaction')"
            )
            max_conn, reserved, in_use, in_db, idle_tx = await cur.fetchone()
    except ConnectFailed as e:
        return errored(str(e))
    usable = max(1, max_conn - reserved)
    ratio = in_use / usable
    value = {"in_use": in_use, "this_db": in_db, "usable": usable, "idle_in_transaction": idle_tx,
             "ratio": round(ratio, 3)}
    said = f"{in_use} of {usable} connections in use ({ratio:.0%}), {in_db} on this database"
    if ratio >= max_ratio:
        return failed(f"pool near exhaustion: {said}", value)
    if ratio >= warn_ratio:
        return warned(f"pool filling up: {said}", value)
    if idle_tx > max(5, in_db // 2):
        return warned(f"{idle_tx} connections idle in transaction; {said}", value)
    return passed(said, value)
