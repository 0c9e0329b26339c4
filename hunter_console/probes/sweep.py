"""Running probes: one concurrent sweep, and the scheduler that keeps every probe fresh.

`sweep(items, context)` runs every probe item at once (bounded by a semaphore), each under its
own timeout, and returns the results in checklist order; it never raises for a probe's sake.

`ProbeScheduler(session, context)` is what the TUI runs: each item is refreshed on its own
`spec.interval`, an item or the whole sweep can be re-run on demand (`refresh`, `refresh_all`),
and every result goes to `session.record_probe` (which publishes it to subscribers and audits
status changes). `stop()` (or leaving `async with`) cancels every loop and in-flight probe and
waits for them, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, Iterable

from hunter_console.checklist.model import Item
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext
from hunter_console.probes.registry import KINDS, run_probe

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 16
OnResult = Callable[[ProbeResult], Any]


def probe_items(items: Iterable[Item]) -> list[Item]:
    """The items a probe can check (those with a probe spec)."""
    return [item for item in items if item.probe is not None]


def is_exclusive(item: Item) -> bool:
    """Probes that must run alone and after the others (the rate-limit burst spends the quota)."""
    known = KINDS.get(item.probe.kind) if item.probe else None
    return bool(known and known.exclusive)


def spec_key(item: Item) -> str:
    """Items with the same key ask the same question (kind, params, timeout)."""
    spec = item.probe
    return json.dumps([spec.kind, spec.params, spec.timeout], sort_keys=True, default=str)


def _ordered(items: list[Item]) -> list[Item]:
    return sorted(items, key=is_exclusive)


async def sweep(
    items: Iterable[Item],
    context: ProbeContext,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: OnResult | None = None,
) -> list[ProbeResult]:
    """Run every probe item concurrently; results in the order of `items`.

    Two phases: every ordinary probe at once (bounded by `concurrency`), then the exclusive ones
    (the rate-limit burst), so that no smoke test is caught in the 429s the burst provokes.

    `on_result` is called with each result as it arrives (e.g. `session.record_probe`); an
    exception from it is logged and does not stop the sweep.
    """
    todo = probe_items(items)
    semaphore = asyncio.Semaphore(max(1, concurrency))
    results: dict[str, ProbeResult] = {}
    # The checklist asks some questions more than once (the seed lists "rate limiting working"
    # four times): identical specs run once a sweep, and every item gets the answer.
    groups: dict[str, list[Item]] = {}
    for item in todo:
        groups.setdefault(spec_key(item), []).append(item)

    async def one(same: list[Item]) -> None:
        async with semaphore:
            result = await run_probe(same[0], context)
        for item in same:
            results[item.id] = result if item is same[0] else replace(result, item_id=item.id)
            if on_result is not None:
                try:
                    value = on_result(results[item.id])
                    if asyncio.iscoroutine(value):
                        await value
                except Exception:
                    log.exception("recording the result of %s failed", item.id)

    firsts = [same for same in groups.values()]
    for phase in ([g for g in firsts if not is_exclusive(g[0])], [g for g in firsts if is_exclusive(g[0])]):
        tasks = [asyncio.create_task(one(same), name=f"probe:{same[0].id}") for same in phase]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return [results[item.id] for item in todo]


@dataclass(eq=False)
class _Slot:
    item: Item
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    due: float = 0.0  # loop time of the next scheduled run
    task: asyncio.Task | None = None
    last: ProbeResult | None = None
    exclusive: bool = False


class ProbeScheduler:
    """Keeps each probe item fresh on its own interval and feeds `session.record_probe`.

        async with ProbeScheduler(session, context) as scheduler:   # first sweep starts at once
            await scheduler.refresh("infrastructure.redis-health-check")   # re-run one now
            await scheduler.refresh_all()                                  # re-run everything now

    A re-run restarts that item's interval. Two runs of one item never overlap: a refresh asked
    for while the item is running waits for it and then runs again (so the answer reflects the
    world after the request). `record` may be any callable (default: `session.record_probe`).
    """

    def __init__(
        self,
        session: Any,
        context: ProbeContext,
        *,
        items: Iterable[Item] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        record: Callable[[ProbeResult], Any] | None = None,
    ) -> None:
        self.session = session
        self.context = context
        self._record = record if record is not None else session.record_probe
        chosen = probe_items(items if items is not None else session.checklist.items())
        self._slots = {item.id: _Slot(item, exclusive=is_exclusive(item)) for item in _ordered(chosen)}
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._running = False
        self._first_round: asyncio.Event | None = None  # set once every ordinary probe ran once
        self._first_pending: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def item_ids(self) -> list[str]:
        return list(self._slots)

    def start(self) -> None:
        """Start one refresh loop per item; each runs its probe at once, then every interval."""
        if self._running:
            return
        self._running = True
        self._first_round = asyncio.Event()
        self._first_pending = {item_id for item_id, slot in self._slots.items() if not slot.exclusive}
        if not self._first_pending:
            self._first_round.set()
        now = asyncio.get_running_loop().time()
        for slot in self._slots.values():
            slot.due = now
            slot.wake.clear()
            slot.task = asyncio.create_task(self._loop(slot), name=f"probe-loop:{slot.item.id}")

    async def stop(self) -> None:
        """Cancel every loop and in-flight probe, and wait until they are gone."""
        self._running = False
        tasks = [slot.task for slot in self._slots.values() if slot.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            slot.task = None

    async def __aenter__(self) -> "ProbeScheduler":
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- on demand -----------------------------------------------------------------------------
    async def refresh(self, item_id: str) -> ProbeResult:
        """Run one item's probe now, record it, restart its interval; the result."""
        slot = self._slots.get(item_id)
        if slot is None:
            raise KeyError(item_id)
        result = await self._run(slot)
        slot.wake.set()  # its loop re-reads `due`
        return result

    async def refresh_all(self) -> list[ProbeResult]:
        """Re-run every item now: the ordinary ones concurrently (bounded), then the exclusive
        ones; results in the scheduler's order (exclusive items last)."""
        ordinary = [i for i, slot in self._slots.items() if not slot.exclusive]
        exclusive = [i for i, slot in self._slots.items() if slot.exclusive]
        results = list(await asyncio.gather(*(self.refresh(item_id) for item_id in ordinary)))
        for item_id in exclusive:
            results.append(await self.refresh(item_id))
        return results

    def request_refresh(self, item_id: str | None = None) -> asyncio.Task:
        """Fire-and-forget form for a key binding: a task re-running one item (or all)."""
        coro: Awaitable[Any] = self.refresh(item_id) if item_id else self.refresh_all()
        return asyncio.ensure_future(coro)

    def last(self, item_id: str) -> ProbeResult | None:
        slot = self._slots.get(item_id)
        return slot.last if slot else None

    # -- internals -----------------------------------------------------------------------------
    async def _run(self, slot: _Slot) -> ProbeResult:
        async with slot.lock:
            async with self._semaphore:
                result = await run_probe(slot.item, self.context)
            loop = asyncio.get_running_loop()
            slot.due = loop.time() + slot.item.probe.interval
            slot.last = result
            if self._first_pending and slot.item.id in self._first_pending:
                self._first_pending.discard(slot.item.id)
                if not self._first_pending and self._first_round is not None:
                    self._first_round.set()
            try:
                value = self._record(result)
                if asyncio.iscoroutine(value):
                    await value
            except Exception:
                log.exception("recording the result of %s failed", slot.item.id)
            return result

    async def _loop(self, slot: _Slot) -> None:
        loop = asyncio.get_running_loop()
        if slot.exclusive and self._first_round is not None:
            await self._first_round.wait()  # the burst goes after the first round of smoke tests
        while self._running:
            remaining = slot.due - loop.time()
            if remaining <= 0:
                await self._run(slot)
                continue
            slot.wake.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
                # arrives as the event is set, and stop() would wait for ever.
                async with asyncio.timeout(remaining):
                    await slot.wake.wait()
            except TimeoutError:
                pass
