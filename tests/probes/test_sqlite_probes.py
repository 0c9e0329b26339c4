"""The database probes on a SQLite target (the demo's database), read-only, through the env file."""

from __future__ import annotations

import asyncio

from hunter_console.checklist import load_checklist
from hunter_console.config import load_settings
from hunter_console.events import Status
from hunter_console.probes import ProbeContext, run_probe
from hunter_console.sandbox import alembic_config


def settings_for(tmp_path, db):
    (tmp_path / "service.env").write_text(f"DATABASE_URL=sqlite:///{db}\nLOG_LEVEL=INFO\n")
    (tmp_path / "hunter.toml").write_text('[environments.demo]\nenv_file = "service.env"\n')
    return load_settings(tmp_path / "hunter.toml", environ={})


def results(settings, *kinds):
    items = [i for i in load_checklist(None).items() if i.probe and i.probe.kind in kinds]

    async def go():
        async with ProbeContext.open(settings, environ={}) as context:
            return {i.probe.kind: await run_probe(i, context) for i in items}

    return asyncio.run(go())


def test_revision_columns_and_pool_on_sqlite(tmp_path):
    from alembic import command

    db = tmp_path / "hunter.db"
    settings = settings_for(tmp_path, db)
    missing = results(settings, "postgres.revision")["postgres.revision"]
    assert missing.status is Status.ERROR and "unable to open" in missing.reason  # never created by a probe
    assert not db.exists()
    command.upgrade(alembic_config(f"sqlite:///{db}"), "c3e5a7b9d1f4")
    behind = results(settings, "postgres.revision", "postgres.columns", "postgres.pool", "env")
    assert behind["postgres.revision"].status is Status.FAIL and behind["postgres.revision"].value == "c3e5a7b9d1f4"
    assert behind["postgres.columns"].status is Status.FAIL and "companies.tenant_size" in behind["postgres.columns"].reason
    assert behind["postgres.pool"].status is Status.PASS
    command.upgrade(alembic_config(f"sqlite:///{db}"), "head")
    head = results(settings, "postgres.revision", "postgres.columns")
    assert head["postgres.revision"].status is Status.PASS and head["postgres.columns"].status is Status.PASS


def test_env_probes_read_the_service_env_file(tmp_path):
    settings = settings_for(tmp_path, tmp_path / "x.db")
    items = [i for i in load_checklist(None).items() if i.probe and i.probe.kind == "env"]

    async def go():
        async with ProbeContext.open(settings, environ={"LOG_LEVEL": "DEBUG"}) as context:
            return {i.probe.params["var"]: await run_probe(i, context) for i in items}

    got = asyncio.run(go())
    assert got["LOG_LEVEL"].status is Status.PASS  # the service's file says INFO, the console's shell DEBUG
    assert got["DATABASE_URL"].status is Status.PASS
    assert got["REDIS_URL"].status is Status.FAIL
