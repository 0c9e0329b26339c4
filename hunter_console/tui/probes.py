"""The console's probes: the domain's ProbeScheduler run inside the app's event loop.

Textual-free on purpose: the app owns one `LiveProbes`, runs `run()` in an async worker from
mount to unmount, and asks it to re-run an item (`r`) or the whole sweep (`R`). Results reach
the screens the usual way: the scheduler feeds `session.record_probe`, which publishes them.
What is in flight on demand is kept here, so the panes can say PENDING until the answer comes.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any, Callable, Collection


PROBE_LIBRARIES = ("psycopg", "redis.asyncio", "prometheus_client.parser")


def _load_probe_modules():
    for name in PROBE_LIBRARIES:
        importlib.import_module(name)
    return importlib.import_module("hunter_console.probes")


class LiveProbes:
    def __init__(self, session: Any, *, item_ids: Collection[str] | None = None,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.session = session
        self.item_ids = set(item_ids) if item_ids is not None else None
        self.on_change = on_change  # called (on the loop) when the pending set changes
        self.scheduler: Any = None
        self.pending: set[str] = set()
        self._stop = asyncio.Event()
        self._closed = asyncio.Event()
        self._started = False
        self._tasks: set[asyncio.Task] = set()

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def covers(self, item_id: str) -> bool:
        return self.scheduler is not None and item_id in self.scheduler.item_ids

    async def run(self) -> None:
        """Open the probe context, start the scheduler and keep it until `stop()` or cancellation;
        every loop and in-flight probe is stopped on the way out."""
        self._started = True
        try:
            # httpx, the probe families and the client libraries they use load in a thread: neither
            # the first paint nor the first probes wait on imports holding the event loop.
            probes = await asyncio.to_thread(_load_probe_modules)
            items = None
            if self.item_ids is not None:
                items = [item for item in self.session.checklist.items() if item.id in self.item_ids]
            async with probes.ProbeContext.open(self.session.settings, audit=self.session.audit) as context:
                scheduler = probes.ProbeScheduler(self.session, context, items=items)
                self.scheduler = scheduler
                scheduler.start()
                self.on_change()
                try:
                    await self._stop.wait()
                finally:
                    for task in list(self._tasks):
                        task.cancel()
                    await asyncio.gather(*self._tasks, return_exceptions=True)
                    await scheduler.stop()
                    self.scheduler = None
        finally:
            self._closed.set()

    def stop(self) -> None:
        self._stop.set()

    async def close(self, timeout_s: float = 5.0) -> None:
        """Stop, and wait until every probe loop and in-flight probe is gone."""
        self._stop.set()
        if self._started:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._closed.wait()
            except TimeoutError:
                pass

    def refresh(self, item_ids: Collection[str] | None = None) -> list[str]:
        """Re-run these items (None: every item) now, in the background; the ids it started.
        An item already being re-run on demand is not asked twice."""
        if self.scheduler is None:
            return []
        wanted = list(self.scheduler.item_ids) if item_ids is None else [
            i for i in item_ids if i in self.scheduler.item_ids]
        started = [i for i in wanted if i not in self.pending]
        if not started:
            return []
        self.pending.update(started)
        self.on_change()
        if item_ids is None and len(started) == len(self.scheduler.item_ids):
            task = asyncio.ensure_future(self._sweep(started))
        else:
            task = asyncio.ensure_future(self._each(started))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return started

    async def _sweep(self, ids: list[str]) -> None:
        try:
            await self.scheduler.refresh_all()
        finally:
            self._done(ids)

    async def _each(self, ids: list[str]) -> None:
        async def one(item_id: str) -> None:
            try:
                await self.scheduler.refresh(item_id)
            finally:
                self._done([item_id])

        await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)

    def answered(self, item_id: str) -> None:
        """A result for this item arrived (the session published it): it is no longer pending."""
        self.pending.discard(item_id)

    def _done(self, ids: list[str]) -> None:
        if self.pending.intersection(ids):
            self.pending.difference_update(ids)
            self.on_change()
