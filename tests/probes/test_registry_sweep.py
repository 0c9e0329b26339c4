"""The registry validates specs (the default checklist's included); run_probe never raises; the
sweep runs concurrently under per-probe timeouts; the scheduler refreshes, re-runs on demand,
feeds the session and stops cleanly."""

from __future__ import annotations

import asyncio
import time

import pytest

from hunter_console.checklist.default import PROBE_KINDS, default_checklist
from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult, Status
from hunter_console.probes import KINDS, ProbeScheduler, probe_items, run_probe, spec_problems, sweep
from hunter_console.probes.base import passed, register

from probe_helpers import environ_for, item


def test_every_kind_the_default_checklist_uses_is_registered_and_its_specs_are_valid():
    assert set(PROBE_KINDS) <= set(KINDS), set(PROBE_KINDS) - set(KINDS)
    problems = {i.id: spec_problems(i.probe) for i in probe_items(default_checklist().items()) if spec_problems(i.probe)}
    assert problems == {}, problems


def test_spec_problems_name_unknown_kinds_and_params():
    assert spec_problems(ProbeSpec("http.nope")) == ["unknown probe kind 'http.nope'"]
    bad = spec_problems(ProbeSpec("http", {"pth": "/x"}, timeout=0))
    assert bad[0].startswith("http: unknown param pth (accepted: auth, contains,")
    assert bad[1:] == ["http: missing param path", "http: timeout must be > 0, not 0"]


@pytest.fixture
def test_kinds():
    added = []

    def add(kind, fn, params=("s", "n", "id")):
        register(kind, params=params)(fn)
        added.append(kind)

    yield add
    for kind in added:
        KINDS.pop(kind, None)


async def test_run_probe_never_raises(open_context, test_kinds):
    async def boom(spec, context):
        raise RuntimeError("kaput\nsecond line password=hunter2")

    async def hang(spec, context):
        await asyncio.sleep(3600)

    async def junk(spec, context):
        return "yes"

    for name, fn in (("test.boom", boom), ("test.hang", hang), ("test.junk", junk)):
        test_kinds(name, fn)
    async with open_context({}) as ctx:
        boom_r = await run_probe(item("t.boom", "test.boom"), ctx)
        start = time.perf_counter()
        hang_r = await run_probe(item("t.hang", "test.hang", timeout=0.2), ctx)
        assert time.perf_counter() - start < 0.5
        junk_r = await run_probe(item("t.junk", "test.junk"), ctx)
        unknown = await run_probe(item("t.unknown", "no.such.kind"), ctx)
    assert boom_r.status is Status.ERROR and boom_r.reason == "RuntimeError: kaput"
    assert hang_r.status is Status.ERROR and hang_r.reason == "no answer within 0.2 s"
    assert junk_r.status is Status.ERROR and "not a verdict" in junk_r.reason
    assert unknown.status is Status.ERROR and "unknown probe kind" in unknown.reason


async def test_sweep_is_concurrent_and_bounded_by_the_slowest(open_context, test_kinds):
    async def slow(spec, context):
        await asyncio.sleep(spec.params["s"])
        return passed("slept")

    test_kinds("test.slow", slow)
    items = [item(f"t.{i}", "test.slow", s=0.2 + i / 1000) for i in range(30)]
    items.append(item("t.stuck", "test.slow", timeout=0.3, s=60))
    seen = []
    async with open_context({}) as ctx:
        start = time.perf_counter()
        results = await sweep(items, ctx, concurrency=64, on_result=seen.append)
        took = time.perf_counter() - start
    assert [r.item_id for r in results] == [i.id for i in items] and len(seen) == 31
    assert all(r.status is Status.PASS for r in results[:-1]), results[0]
    assert results[-1].status is Status.ERROR and took < 0.45, took


async def test_identical_specs_run_once_a_sweep(open_context, test_kinds):
    calls = []

    async def counted(spec, context):
        calls.append(spec.params)
        return passed("ok")

    test_kinds("test.counted", counted)
    items = [item("a", "test.counted", n=1), item("b", "test.counted", n=1), item("c", "test.counted", n=2)]
    async with open_context({}) as ctx:
        results = await sweep(items, ctx)
    assert len(calls) == 2 and [r.item_id for r in results] == ["a", "b", "c"]


class Recorder:
    """Stands in for the session's publishing side: what record_probe was given."""

    def __init__(self, items):
        from hunter_console.checklist.model import Checklist, Section

        self.checklist = Checklist("t", (Section("s", "s", tuple(items)),))
        self.results: list[ProbeResult] = []

    def record_probe(self, result):
        self.results.append(result)


async def test_scheduler_refreshes_on_interval_on_demand_and_stops(open_context, test_kinds):
    runs: dict[str, int] = {}

    async def tick(spec, context):
        runs[spec.params["id"]] = runs.get(spec.params["id"], 0) + 1
        await asyncio.sleep(0.01)
        return passed(f"run {runs[spec.params['id']]}")

    test_kinds("test.tick", tick)
    fast = item("fast", "test.tick", interval=0.1, id="fast")
    slow = item("slow", "test.tick", interval=60, id="slow")
    recorder = Recorder([fast, slow])
    async with open_context({}) as ctx:
        async with ProbeScheduler(recorder, ctx) as scheduler:
            await asyncio.sleep(0.45)
            assert runs["slow"] == 1 and 3 <= runs["fast"] <= 6, runs
            again = await scheduler.refresh("slow")
            assert again.reason == "run 2" and again.item_id == "slow"
            everything = await scheduler.refresh_all()
            assert {r.item_id for r in everything} == {"fast", "slow"}
            with pytest.raises(KeyError):
                await scheduler.refresh("nope")
        assert not scheduler.running
        count = len(recorder.results)
        await asyncio.sleep(0.25)
        assert len(recorder.results) == count  # nothing runs after stop
    assert all(t.get_name() != "probe-loop:fast" for t in asyncio.all_tasks())


async def test_scheduler_feeds_the_real_session(settings, open_context):
    from hunter_console.session import open_session

    session = open_session(settings)
    env_items = [i for i in probe_items(session.checklist.items()) if i.probe.kind == "env"]
    environ = {**environ_for(database_url="postgresql://u:pw@db:5432/hunter"),
               "LOG_LEVEL": "INFO", "ENVIRONMENT": "production", "PARTNER_CENTER_ENABLED": "false"}
    async with open_context(environ) as ctx:
        async with ProbeScheduler(session, ctx, items=env_items) as scheduler:
            results = await scheduler.refresh_all()
    assert results and all(r.status is Status.PASS for r in results), results
    assert all(session.state(i.id).probe is not None for i in env_items)
    audited = session.audit.events(release=session.release, kind="probe")
    assert {e.item for e in audited} == {i.id for i in env_items}  # each change once, no repeats
