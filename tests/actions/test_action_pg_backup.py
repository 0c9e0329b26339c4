"""The PostgreSQL backup action against the real local server and the real pg_dump/pg_restore."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from hunter_console.actions import backup, pg_dump_command, restore, verify_pg_dump
from hunter_console.events import Artifact, LogLine, Outcome, Progress

CANARY = "canary-pw-123"


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


# -- the command line: the password is never in argv ----------------------------------------------


@pytest.mark.parametrize(
    ("url", "password"),
    [
        (f"postgresql://postgres:{CANARY}@127.0.0.1:5432/hunter", CANARY),
        ("postgresql+psycopg://hunter:p%40ss%2Fw%3Ard%20x@db.internal:6543/hunter_prod?sslmode=require", "p@ss/w:rd x"),
    ],
)
def test_pg_dump_command_passes_the_password_in_the_environment_only(tmp_path, url, password):
    out = tmp_path / "x.dump.partial"
    argv, env = pg_dump_command(url, out)
    assert env["PGPASSWORD"] == password
    joined = " ".join(argv)
    assert password not in joined
    assert "p%40ss" not in joined and "canary" not in joined and "://" not in joined
    assert argv[0].endswith("pg_dump")
    assert "--format=custom" in argv and "--no-password" in argv
    assert argv[argv.index("--file") + 1] == str(out)
    # host, port, user and database as separate options, parsed (and decoded) from the URL
    expect = {"--host": "127.0.0.1", "--port": "5432", "--username": "postgres", "--dbname": "hunter"}
    if "db.internal" in url:
        expect = {"--host": "db.internal", "--port": "6543", "--username": "hunter", "--dbname": "hunter_prod"}
        assert env["PGSSLMODE"] == "require"
    for option, value in expect.items():
        assert argv[argv.index(option) + 1] == value


# -- a good backup --------------------------------------------------------------------------------


async def test_backup_writes_a_verified_custom_dump_and_an_artifact(seeded_db, out_dir, now, helpers):
    url = helpers.pg_url(seeded_db)
    events, outcome = await helpers.collect(backup(url, out_dir, "v1.0.0", now=now))

    assert outcome.ok, outcome.message
    final = out_dir / "backup_pre_v1.0.0_20250128_101500.dump"
    assert _files(out_dir) == [final.name]  # no .partial left next to it
    data = final.read_bytes()
    assert data[:5] == b"PGDMP"  # custom format
    digest = hashlib.sha256(data).hexdigest()

    artifacts = [e for e in events if isinstance(e, Artifact)]
    assert artifacts == [Artifact(path=str(final), size=len(data), sha256=digest, kind="backup")]
    assert outcome.artifacts == tuple(artifacts)
    assert events.index(artifacts[0]) == len(events) - 2  # the Artifact, then the Outcome
    assert outcome.exit_code == 0
    assert str(final) in outcome.message and str(len(data)) in outcome.message
    assert outcome.detail["format"] == "custom" and outcome.detail["verified"] is True
    assert outcome.detail["database"] == f"postgresql://postgres:***@127.0.0.1:5432/{seeded_db}"

    # streamed: pg_dump's own (verbose) output, and bytes-written progress with an unknown total
    stderr = [e.text for e in events if isinstance(e, LogLine) and e.stream == "stderr"]
    assert any('dumping contents of table "public.companies"' in line for line in stderr)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and all(p.unit == "bytes" and p.total is None for p in progress)
    assert progress[-1].done == len(data)

    # the file really is whole: read end to end by the real pg_restore
    assert subprocess.run(["pg_restore", "-f", "/dev/null", str(final)], capture_output=True).returncode == 0
    assert await verify_pg_dump(final) == (True, "")
    # and the password never showed anywhere
    assert CANARY not in helpers.texts(events)


async def test_backup_restores_into_a_scratch_database(seeded_db, make_db, out_dir, now, helpers):
    _, made = await helpers.collect(backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now))
    assert made.ok, made.message
    artifact = made.artifacts[0]

    scratch = make_db()
    events, outcome = await helpers.collect(restore(helpers.pg_url(scratch), artifact.path, expected_sha256=artifact.sha256))
    assert outcome.ok, outcome.message
    assert outcome.exit_code == 0
    assert any(isinstance(e, LogLine) and e.stream == "stderr" and "creating TABLE" in e.text for e in events)
    query = "SELECT c.domain, c.tenant_size, count(s.id), sum(s.dmarc_coverage) FROM companies c JOIN domain_signals s ON s.company_id = c.id GROUP BY 1, 2 ORDER BY 1"
    assert helpers.rows(scratch, query) == helpers.rows(seeded_db, query)
    assert len(helpers.rows(scratch, "SELECT * FROM domain_signals")) == 15
    assert CANARY not in helpers.texts(events)


# -- failures leave nothing behind ----------------------------------------------------------------


async def test_backup_of_a_missing_database_fails_and_leaves_no_file(out_dir, now, helpers):
    events, outcome = await helpers.collect(backup(helpers.pg_url("hc_act_no_such_db"), out_dir, "v1.0.0", now=now))
    assert not outcome.ok
    assert outcome.exit_code not in (0, None)
    assert 'database "hc_act_no_such_db" does not exist' in outcome.message
    assert "\n" not in outcome.message
    assert _files(out_dir) == []
    assert CANARY not in helpers.texts(events)


async def test_backup_with_bad_credentials_fails_and_leaves_no_file(seeded_db, out_dir, now, helpers):
    # The local server trusts 127.0.0.1, so a wrong password for a real role would still connect;
    # credentials the server rejects are a role that does not exist (same FATAL path in pg_dump).
    url = f"postgresql://no_such_role_hc:{CANARY}@127.0.0.1:5432/{seeded_db}"
    events, outcome = await helpers.collect(backup(url, out_dir, "v1.0.0", now=now))
    assert not outcome.ok
    assert 'role "no_such_role_hc" does not exist' in outcome.message
    assert _files(out_dir) == []
    assert CANARY not in helpers.texts(events)


async def test_backup_to_a_closed_port_fails_and_leaves_no_file(out_dir, now, helpers):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    events, outcome = await helpers.collect(backup(helpers.pg_url("postgres", port=port), out_dir, "v1.0.0", now=now))
    assert not outcome.ok and "Connection refused" in outcome.message
    assert _files(out_dir) == []


async def test_backend_terminated_mid_dump_fails_and_removes_the_partial(seeded_db, out_dir, now, lock_table, helpers):
    release = lock_table(seeded_db, "domain_signals")  # pg_dump will block on its ACCESS SHARE lock
    task = asyncio.create_task(helpers.collect(backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now)))
    partial = out_dir / "backup_pre_v1.0.0_20250128_101500.dump.partial"

    def blocked_backend():
        return [pid for pid, wait in helpers.pg_dump_backends(seeded_db) if wait == "Lock"]

    pids = await helpers.wait_for(blocked_backend, what="pg_dump blocked on the lock")
    assert partial.exists()  # mid-dump: the partial file is there
    assert helpers.rows("postgres", f"SELECT pg_terminate_backend({pids[0]})") == [(True,)]
    events, outcome = await asyncio.wait_for(task, 20)
    release()

    assert not outcome.ok
    assert outcome.exit_code not in (0, None)
    assert "terminating connection due to administrator command" in outcome.message
    assert "\n" not in outcome.message
    assert _files(out_dir) == []  # partial removed, nothing under the final name
    assert not any(isinstance(e, Artifact) for e in events)


async def test_a_truncated_dump_fails_verification(seeded_db, out_dir, now, helpers, tmp_path):
    with helpers.connect(seeded_db, autocommit=True) as conn:  # data well past the table of contents
        conn.execute("CREATE TABLE events AS SELECT g AS id, md5(g::text) AS payload FROM generate_series(1, 50000) g")
    _, made = await helpers.collect(backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now))
    assert made.ok
    good = made.artifacts[0].path
    cut = tmp_path / "cut.dump"
    data = open(good, "rb").read()
    cut.write_bytes(data[: len(data) * 2 // 3])

    # pg_restore --list reads only the table of contents and passes the truncated archive...
    assert subprocess.run(["pg_restore", "--list", str(cut)], capture_output=True).returncode == 0
    # ...a full read does not.
    ok, reason = await verify_pg_dump(cut)
    assert not ok
    assert "could not read from input file" in reason or "end of file" in reason
    assert await verify_pg_dump(good) == (True, "")


async def test_a_backup_that_fails_verification_leaves_nothing(seeded_db, out_dir, now, helpers, tmp_path, monkeypatch):
    # Fault injection: a pg_restore first on the PATH that loses the tail of the archive (as a
    # full disk or a bad device would) and then runs the real pg_restore on it.
    real = shutil.which("pg_restore")
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    shim = shim_dir / "pg_restore"
    shim.write_text(
        "#!/bin/sh\n"
        'for last; do :; done\n'
        'size=$(stat -c %s "$last")\n'
        'truncate -s $((size / 2)) "$last"\n'
        f'exec {real} "$@"\n'
    )
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")

    events, outcome = await helpers.collect(backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now))
    assert not outcome.ok
    assert "verification" in outcome.message
    assert outcome.detail["verified"] is False
    assert _files(out_dir) == []


# -- cancellation ---------------------------------------------------------------------------------


async def test_cancelling_a_running_backup_kills_pg_dump_and_removes_the_partial(seeded_db, out_dir, now, lock_table, helpers):
    lock_table(seeded_db, "companies")
    seen: list = []

    async def run():
        async for event in backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now):
            seen.append(event)

    task = asyncio.create_task(run())
    await helpers.wait_for(lambda: [w for _, w in helpers.pg_dump_backends(seeded_db) if w == "Lock"], what="pg_dump blocked")
    assert any(p.name.endswith(".partial") for p in out_dir.iterdir())
    assert any(isinstance(e, Progress) for e in seen)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _files(out_dir) == []
    assert not any(isinstance(e, Outcome) for e in seen)
    # the child was killed: its backend goes away although the lock is still held
    await helpers.wait_for(lambda: not helpers.pg_dump_backends(seeded_db), timeout=10, what="pg_dump's backend to go")


async def test_closing_a_backup_early_removes_the_partial(seeded_db, out_dir, now, lock_table, helpers):
    lock_table(seeded_db, "companies")
    events = backup(helpers.pg_url(seeded_db), out_dir, "v1.0.0", now=now)
    async for event in events:
        if isinstance(event, Progress):
            break
    assert any(p.name.endswith(".partial") for p in out_dir.iterdir())
    await events.aclose()
    assert _files(out_dir) == []
    await helpers.wait_for(lambda: not helpers.pg_dump_backends(seeded_db), timeout=10, what="pg_dump's backend to go")


async def test_an_unparseable_url_is_refused(out_dir, helpers):
    events, outcome = await helpers.collect(backup("mysql://u:secretpw1@h/db", out_dir, "v1"))
    assert not outcome.ok and "unsupported" in outcome.message
    assert _files(out_dir) == []
    assert "secretpw1" not in helpers.texts(events)


def test_release_names_are_made_safe_for_a_file_name():
    from hunter_console.actions.backup import backup_name

    assert backup_name("v1.0.0", "20250128_101500", ".dump") == "backup_pre_v1.0.0_20250128_101500.dump"
    assert backup_name("../../etc/x y", "s", ".dump") == "backup_pre_etc_x_y_s.dump"
    assert re.fullmatch(r"backup_pre_[\w.-]+_s\.dump", backup_name("rel/1:2", "s", ".dump"))


async def test_child_output_is_redacted_and_the_reason_is_its_last_error_line():
    from hunter_console.actions.backup import ProcessExit, stream_process
    from hunter_console.redact import register_secret

    register_secret(CANARY)
    script = f'echo "pg_dump: error: auth failed for {CANARY}" >&2; echo "pg_dump: detail: Command was: x" >&2; exit 3'
    seen = [e async for e in stream_process(["sh", "-c", script])]
    lines = [e for e in seen if isinstance(e, LogLine)]
    assert [line.stream for line in lines] == ["stderr", "stderr"]
    assert all(CANARY not in line.text for line in lines)
    assert seen[-1] == ProcessExit(3, "pg_dump: error: auth failed for ***")
