"""PostgreSQL probes against the real local server, in throwaway databases."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from hunter_console.events import Status
from hunter_console.probes import run_probe
from hunter_console.probes.postgres import HEAD_REVISION, libpq_dsn

from probe_helpers import environ_for, item, pg_url


def schema(url: str, revision: str | None = HEAD_REVISION, columns: bool | tuple[str, ...] = True) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if revision is not None:
            conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
            conn.execute("INSERT INTO alembic_version VALUES (%s)", (revision,))
        wanted = ("tenant_size", "local_provider", "dmarc_coverage") if columns is True else (columns or ())
        conn.execute("CREATE TABLE companies (id serial PRIMARY KEY, domain text"
                     + (", tenant_size text" if "tenant_size" in wanted else "") + ")")
        extra = [f"{c} text" for c in ("local_provider", "dmarc_coverage") if c in wanted]
        conn.execute("CREATE TABLE domain_signals (id serial PRIMARY KEY, domain text"
                     + "".join(", " + e for e in extra) + ")")


async def probe(open_context, url: str, kind: str, timeout: float = 5.0, **params):
    async with open_context(environ_for(database_url=url)) as ctx:
        return await run_probe(item("db." + kind, kind, timeout=timeout, **params), ctx)


async def test_at_head_with_every_g20_column(open_context, empty_db):
    schema(empty_db)
    revision = await probe(open_context, empty_db, "postgres.revision", expected=HEAD_REVISION)
    assert revision.status is Status.PASS and revision.value == HEAD_REVISION, revision
    columns = await probe(open_context, empty_db, "postgres.columns")
    assert columns.status is Status.PASS, columns
    assert columns.value == ["companies.tenant_size", "domain_signals.dmarc_coverage", "domain_signals.local_provider"]


async def test_schema_behind_head_fails_naming_both_revisions(open_context, empty_db):
    schema(empty_db, revision="a1b2c3d4e5f6")
    result = await probe(open_context, empty_db, "postgres.revision", expected=HEAD_REVISION)
    assert result.status is Status.FAIL
    assert "a1b2c3d4e5f6" in result.reason and HEAD_REVISION in result.reason and "upgrade head" in result.reason
    assert result.value == "a1b2c3d4e5f6"


async def test_database_not_under_alembic_fails(open_context, empty_db):
    schema(empty_db, revision=None)
    result = await probe(open_context, empty_db, "postgres.revision")
    assert result.status is Status.FAIL and "not under Alembic" in result.reason


async def test_a_missing_g20_column_is_named(open_context, empty_db):
    schema(empty_db, columns=("tenant_size", "local_provider"))
    result = await probe(open_context, empty_db, "postgres.columns",
                         columns=["companies.tenant_size", "domain_signals.local_provider",
                                  "domain_signals.dmarc_coverage"])
    assert result.status is Status.FAIL
    assert result.reason == "missing column: domain_signals.dmarc_coverage"
    assert result.value == ["domain_signals.dmarc_coverage"]


async def test_pool_headroom(open_context, empty_db):
    result = await probe(open_context, empty_db, "postgres.pool")
    assert result.status is Status.PASS, result
    assert result.value["in_use"] >= 1 and result.value["usable"] > result.value["in_use"]
    squeezed = await probe(open_context, empty_db, "postgres.pool", warn_ratio=0.0, max_ratio=0.0)
    assert squeezed.status is Status.FAIL and "exhaustion" in squeezed.reason


async def test_a_sqlalchemy_url_is_accepted(open_context, empty_db):
    schema(empty_db)
    assert libpq_dsn("postgresql+psycopg://u:p@h/db") == "postgresql://u:p@h/db"
    result = await probe(open_context, empty_db.replace("postgresql://", "postgresql+psycopg://"), "postgres.revision")
    assert result.status is Status.PASS, result


# -- could not connect: ERROR, said in one line, the password never shown ----------------------------
async def test_wrong_credentials_are_an_error_without_the_password(open_context, pg_admin, empty_db):
    # pg_hba.conf on these machines is `host all all 127.0.0.1/32 trust`: the server never asks for
    # a password, so a wrong one cannot be refused. The auth-style refusals the server CAN give
    # are used instead: a role that does not exist, and a role that may not log in.
    rows = pg_admin.execute("SELECT type, address, auth_method FROM pg_hba_file_rules WHERE type = 'host'").fetchall()
    assert ("host", "127.0.0.1", "trust") in rows, f"pg_hba changed, test a real wrong password now: {rows}"
    dbname = empty_db.rsplit("/", 1)[1]
    secret = "s3cret-" + uuid.uuid4().hex
    ghost = await probe(open_context, pg_url(dbname, user="hc_no_such_role", password=secret), "postgres.revision")
    assert ghost.status is Status.ERROR
    assert ghost.reason == f"role 'hc_no_such_role' does not exist on 127.0.0.1:5432/{dbname}"
    role = "hc_nologin_" + uuid.uuid4().hex[:6]
    pg_admin.execute(f"CREATE ROLE {role} NOLOGIN PASSWORD 'right-password'")
    try:
        barred = await probe(open_context, pg_url(dbname, user=role, password=secret), "postgres.columns")
    finally:
        pg_admin.execute(f"DROP ROLE {role}")
    assert barred.status is Status.ERROR and "not permitted to log in" in barred.reason, barred
    for result in (ghost, barred):
        assert secret not in result.reason and "\n" not in result.reason


async def test_missing_database(open_context):
    result = await probe(open_context, pg_url("hc_no_such_db_" + uuid.uuid4().hex[:6]), "postgres.pool")
    assert result.status is Status.ERROR and "database 'hc_no_such_db_" in result.reason


async def test_closed_port_is_refused(open_context, closed_port):
    result = await probe(open_context, pg_url("x", port=closed_port), "postgres.revision")
    assert result.status is Status.ERROR
    assert result.reason == f"connection refused by 127.0.0.1:{closed_port}/x"


async def test_unknown_host(open_context):
    result = await probe(open_context, pg_url("x", host="nonexistent.invalid"), "postgres.revision")
    assert result.status is Status.ERROR and result.reason.startswith("unknown host: nonexistent.invalid"), result


async def test_blackhole_is_cut_off_at_the_probe_timeout(open_context, blackhole):
    start = time.perf_counter()
    result = await probe(open_context, pg_url("x", port=blackhole), "postgres.revision", timeout=0.5)
    took = time.perf_counter() - start
    assert result.status is Status.ERROR and "0.5 s" in result.reason, result
    assert 0.45 <= took < 1.5, took


async def test_no_database_url(open_context):
    async with open_context({}) as ctx:
        result = await run_probe(item("db.rev", "postgres.revision"), ctx)
    assert result.status is Status.ERROR and result.reason == "DATABASE_URL is not set: no database to probe"
