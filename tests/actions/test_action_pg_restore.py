"""The PostgreSQL restore action: refuses a backup it cannot trust, and all-or-nothing."""

from __future__ import annotations

import pytest

from hunter_console.actions import backup, pg_restore_command, restore
from hunter_console.events import Outcome

CANARY = "canary-pw-123"
TARGET_STATE = "SELECT domain, tenant_size FROM companies ORDER BY domain"


def test_pg_restore_command_is_one_transaction_and_keeps_the_password_out_of_argv(tmp_path):
    argv, env = pg_restore_command(f"postgresql://postgres:{CANARY}@127.0.0.1:5432/hunter", tmp_path / "b.dump")
    assert env["PGPASSWORD"] == CANARY
    assert CANARY not in " ".join(argv)
    for flag in ("--single-transaction", "--clean", "--if-exists", "--no-owner", "--no-password"):
        assert flag in argv
    assert argv[argv.index("--dbname") + 1] == "hunter"
    assert argv[-1] == str(tmp_path / "b.dump")


@pytest.fixture
async def made_backup(seeded_db, out_dir, now, helpers):
    _, outcome = await helpers.collect(backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now))
    assert outcome.ok, outcome.message
    return outcome.artifacts[0]


@pytest.fixture
def target_db(make_db, helpers) -> str:
    """A database that already holds different data: what a refused or failed restore must keep."""
    name = make_db()
    with helpers.connect(name, autocommit=True) as conn:
        conn.execute("CREATE TABLE companies (id serial PRIMARY KEY, domain text NOT NULL, tenant_size text)")
        conn.execute("INSERT INTO companies (domain, tenant_size) VALUES ('kept.example', 'medium'), ('also-kept.example', NULL)")
    return name


async def test_restore_refuses_a_checksum_mismatch_and_touches_nothing(made_backup, target_db, helpers):
    before = helpers.rows(target_db, TARGET_STATE)
    with open(made_backup.path, "ab") as f:
        f.write(b"\0")  # the file changed since the backup record was made
    events, outcome = await helpers.collect(restore(helpers.pg_url(target_db), made_backup.path, expected_sha256=made_backup.sha256))
    assert not outcome.ok
    assert "sha256" in outcome.message and "nothing was touched" in outcome.message
    assert not any(getattr(e, "stream", "") == "stderr" for e in events)  # pg_restore never ran
    assert helpers.rows(target_db, TARGET_STATE) == before
    assert CANARY not in helpers.texts(events)


async def test_restore_refuses_a_wrong_expected_checksum(made_backup, target_db, helpers):
    before = helpers.rows(target_db, TARGET_STATE)
    _, outcome = await helpers.collect(restore(helpers.pg_url(target_db), made_backup.path, expected_sha256="0" * 64))
    assert not outcome.ok and "sha256" in outcome.message
    _, outcome = await helpers.collect(restore(helpers.pg_url(target_db), made_backup.path, expected_sha256=""))
    assert not outcome.ok
    assert helpers.rows(target_db, TARGET_STATE) == before


async def test_restore_refuses_a_missing_backup(target_db, tmp_path, helpers):
    before = helpers.rows(target_db, TARGET_STATE)
    _, outcome = await helpers.collect(restore(helpers.pg_url(target_db), tmp_path / "gone.dump", expected_sha256="a" * 64))
    assert not outcome.ok and "no backup at" in outcome.message
    assert helpers.rows(target_db, TARGET_STATE) == before


async def test_a_restore_that_fails_midway_leaves_the_target_as_it_was(made_backup, target_db, helpers):
    # A view on the target's companies table: pg_restore --clean cannot drop the table the backup
    # brings back ("other objects depend on it"), by which point it has already run statements.
    with helpers.connect(target_db, autocommit=True) as conn:
        conn.execute("CREATE VIEW big_companies AS SELECT domain FROM companies WHERE tenant_size = 'medium'")
        conn.execute("CREATE TABLE domain_signals (id int)")  # dropped early by --clean, were it kept
    before = helpers.rows(target_db, TARGET_STATE)

    events, outcome = await helpers.collect(restore(helpers.pg_url(target_db), made_backup.path, expected_sha256=made_backup.sha256))
    assert not outcome.ok
    assert outcome.exit_code not in (0, None)
    assert "depend" in outcome.message and "rolled back" in outcome.message
    assert any(getattr(e, "stream", "") == "stderr" for e in events)  # its output was streamed

    assert helpers.rows(target_db, TARGET_STATE) == before
    assert helpers.rows(target_db, "SELECT * FROM big_companies") == [("kept.example",)]
    tables = helpers.rows(target_db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    assert tables == [("companies",), ("domain_signals",)]
    assert helpers.rows(target_db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'domain_signals'") == [("id",)]
    assert CANARY not in helpers.texts(events)


async def test_restore_over_an_existing_database_replaces_its_data(made_backup, seeded_db, target_db, helpers):
    _, outcome = await helpers.collect(restore(helpers.pg_url(target_db), made_backup.path, expected_sha256=made_backup.sha256))
    assert outcome.ok, outcome.message
    assert isinstance(outcome, Outcome) and outcome.detail["single_transaction"] is True
    assert helpers.rows(target_db, TARGET_STATE) == helpers.rows(seeded_db, TARGET_STATE)
