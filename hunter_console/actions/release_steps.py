"""The release steps as the console runs them: migrate, deploy, verify, and the backup and
restore of the database, each an async generator of events ending in one Outcome, each through
the environment's executor (an action never asks which executor it has)."""

from __future__ import annotations

import re
from typing import AsyncIterator

from hunter_console.actions.context import ActionContext
from hunter_console.events import Artifact, LogLine, Outcome, Progress, Status

Event = LogLine | Progress | Artifact | Outcome
REVISION = re.compile(r"\b([0-9a-f]{12})\b")
POST_DEPLOY_SECTIONS = ("step-5-post-deployment-verification", "core-functionality", "error-handling")


async def alembic(ctx: ActionContext, *args: str, into: list[str] | None = None) -> AsyncIterator[Event]:
    """`alembic ARGS` for the service, its output streamed (and kept in `into`)."""
    yield LogLine("$ alembic " + " ".join(args), stream="console")
    async for event in ctx.executor.run(["alembic", *args]):
        if isinstance(event, LogLine) and into is not None:
            into.append(event.text)
        yield event


def revision_of(lines: list[str]) -> str | None:
    """The revision `alembic current` printed (None for an empty database)."""
    for line in reversed(lines):
        if m := REVISION.search(line):
            return m.group(1)
    return None


async def migrate(ctx: ActionContext) -> AsyncIterator[Event]:
    """alembic current, alembic upgrade head, alembic current, then the G20 columns checked."""
    before: list[str] = []
    async for event in alembic(ctx, "current", into=before):
        if isinstance(event, Outcome):
            if not event.ok:
                yield Outcome(False, f"alembic current failed: {event.message}", event.exit_code)
                return
            continue
        yield event
    rev_before = revision_of(before)
    yield Progress(1, 3, "steps", f"schema at {rev_before or 'an empty database'}; upgrading to head")
    async for event in alembic(ctx, "upgrade", "head"):
        if isinstance(event, Outcome):
            if not event.ok:
                yield Outcome(
                    False,
                    f"migration failed (exit {event.exit_code}); the schema was at {rev_before or 'nothing'} before: "
                    "see the rollback plan (alembic downgrade, or restore the backup)",
                    event.exit_code,
                    detail={"revision_before": rev_before, "rollback_plan": rollback_plan(ctx, rev_before)},
                )
                return
            continue
        yield event
    after: list[str] = []
    async for event in alembic(ctx, "current", into=after):
        if not isinstance(event, Outcome):
            yield event
    rev_after = revision_of(after)
    yield Progress(2, 3, "steps", f"schema at {rev_after}; checking the G20 columns")
    columns = await _probe(ctx, "postgres.columns")
    yield LogLine(f"G20 columns: {columns.status.value}: {columns.reason}", stream="console")
    yield Progress(3, 3, "steps", "done")
    detail = {"revision_before": rev_before, "revision_after": rev_after}
    if columns.status is not Status.PASS:
        yield Outcome(False, f"migrated to {rev_after}, but the G20 columns check failed: {columns.reason}", 0,
                      detail={**detail, "rollback_plan": rollback_plan(ctx, rev_before)})
        return
    yield Outcome(True, f"schema migrated {rev_before or 'from empty'} -> {rev_after}; G20 columns present", 0,
                  detail=detail)


def rollback_plan(ctx: ActionContext, revision_before: str | None) -> list[str]:
    plan = [f"alembic downgrade {revision_before}" if revision_before else "alembic downgrade base"]
    backup = ctx.session.latest_backup()
    if backup:
        plan.append(f"or restore {backup['path']} (sha256 {backup['sha256'][:12]}...)")
    return plan


async def deploy(ctx: ActionContext) -> AsyncIterator[Event]:
    version = str(ctx.params.get("version") or ctx.settings.release)
    async for event in ctx.executor.deploy(version):
        yield event


async def verify(ctx: ActionContext) -> AsyncIterator[Event]:
    """The post-deployment probes and smoke tests, run and recorded as one step."""
    from hunter_console.probes import ProbeContext, probe_items, sweep

    sections = ctx.params.get("sections") or POST_DEPLOY_SECTIONS
    items = probe_items(i for s in ctx.session.checklist.sections if s.id in sections for i in s.items)
    yield Progress(0, len(items), "probes", f"running {len(items)} post-deployment checks")
    async with ProbeContext.open(ctx.settings, audit=ctx.session.audit) as probe_context:
        results = await sweep(items, probe_context, on_result=ctx.session.record_probe)
    failed = []
    for item, result in zip(items, results):
        yield LogLine(f"{result.status.value:5} {item.id}: {result.reason}", stream="console")
        if item.required and result.status not in (Status.PASS, Status.WARN):
            failed.append(item.id)
    yield Progress(len(items), len(items), "probes", "done")
    if failed:
        yield Outcome(False, f"{len(failed)} of {len(items)} checks failed: {', '.join(failed[:4])}"
                      + (" ..." if len(failed) > 4 else ""), detail={"failed": failed})
    else:
        yield Outcome(True, f"all {len(items)} post-deployment checks pass", detail={"checked": len(items)})


async def backup(ctx: ActionContext) -> AsyncIterator[Event]:
    from hunter_console.actions.backup import backup as backup_database

    async for event in backup_database(ctx.database_url(), ctx.backup_dir(), ctx.settings.release):
        yield event


async def restore(ctx: ActionContext) -> AsyncIterator[Event]:
    """Restore the verified backup taken for this release (refused if its checksum changed)."""
    from hunter_console.actions.restore import restore as restore_database

    found = ctx.session.latest_backup()
    if found is None:
        yield Outcome(False, f"no verified backup recorded for {ctx.settings.release} on {ctx.environment.name}")
        return
    async for event in restore_database(ctx.database_url(), found["path"], expected_sha256=found["sha256"]):
        yield event


async def _probe(ctx: ActionContext, kind: str):
    from hunter_console.probes import ProbeContext, run_probe

    item = next(i for i in ctx.session.checklist.items() if i.probe is not None and i.probe.kind == kind)
    async with ProbeContext.open(ctx.settings, audit=ctx.session.audit) as probe_context:
        return await run_probe(item, probe_context)


async def rollback(ctx: ActionContext) -> AsyncIterator[Event]:
    """The incident rollback: the app back to the previous version, then the database as the
    operator chose (`db`: none, downgrade to the revision before this release's migrate, or
    restore this release's verified backup), then health checked. Each step must succeed for
    the next to run."""
    db = str(ctx.params.get("db") or "none")
    steps: list[tuple[str, str]] = [("app", "roll the app back")]
    if db == "downgrade":
        steps.append(("downgrade", "downgrade the schema"))
    elif db == "restore":
        steps.append(("restore", "restore the backup"))
    elif db != "none":
        yield Outcome(False, f"--db is none, downgrade or restore, not '{db}'")
        return
    total = len(steps) + 1
    done: list[str] = []
    for n, (step, title) in enumerate(steps):
        yield Progress(n, total, "steps", title)
        outcome = None
        async for event in _rollback_step(ctx, step):
            if isinstance(event, Outcome):
                outcome = event
            else:
                yield event
        yield LogLine(f"{step}: {'ok' if outcome and outcome.ok else 'FAILED'}: {outcome.message if outcome else ''}",
                      stream="console")
        if outcome is None or not outcome.ok:
            yield Outcome(False, f"rollback stopped at '{step}': {outcome.message if outcome else 'no outcome'}"
                          + (f" (done: {', '.join(done)})" if done else ""), outcome.exit_code if outcome else None,
                          detail={"done": done, "failed": step})
            return
        done.append(step)
    yield Progress(len(steps), total, "steps", "checking health")
    health = await _health(ctx)
    for line in health:
        yield LogLine(line, stream="console")
    healthy = all(line.startswith("PASS") for line in health)
    yield Progress(total, total, "steps", "done")
    yield Outcome(healthy, f"rolled back ({', '.join(done)}); " + ("healthy" if healthy else "but health checks fail"),
                  detail={"done": done, "healthy": healthy})


async def _rollback_step(ctx: ActionContext, step: str) -> AsyncIterator[Event]:
    if step == "app":
        async for event in ctx.executor.rollback():
            yield event
    elif step == "downgrade":
        target = ctx.session.revision_before_migrate()
        if target is None:
            yield Outcome(False, f"no migrate recorded for {ctx.settings.release}: nothing to downgrade to")
            return
        async for event in alembic(ctx, "downgrade", target):
            yield event
    elif step == "restore":
        async for event in restore(ctx):
            yield event


async def _health(ctx: ActionContext) -> list[str]:
    """The health endpoints and the metrics endpoint, checked and recorded, as lines."""
    from hunter_console.probes import ProbeContext, run_probe

    items = [i for i in ctx.session.checklist.items()
             if i.probe is not None and i.probe.kind == "http" and "/healthz/" in str(i.probe.params.get("path", ""))]
    lines = []
    async with ProbeContext.open(ctx.settings, audit=ctx.session.audit) as probe_context:
        for item in items:
            result = await run_probe(item, probe_context)
            ctx.session.record_probe(result)
            lines.append(f"{result.status.value:5} {item.probe.params.get('path')}: {result.reason}")
    return lines
