"""Compose-style recreate for the DockerExecutor: replace the service's container with one on a new
image, wait until it is ready, or put the old one back. A mixin so `DockerExecutor` stays readable;
it uses the executor's `_call`, `_engine`, `_describe` and settings.

    recreate:  create the replacement (same service config, new image, Compose labels kept, the
               config hash recomputed) -> stop the old -> remove it -> rename the new to the old
               name -> attach -> start -> wait (Docker health check, else GET /healthz/ready)
    failure:   remove the new -> re-create the old from its exact config and image -> start -> wait
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors import docker_compose as compose
from hunter_console.executors.base import ExecutorError
from hunter_console.executors.docker_stream import read_container_output, shutdown_response, stream_from_thread
from hunter_console.redact import redact

Event = LogLine | Progress | Outcome


class ComposeRollout:
    """Mixin: what DockerExecutor provides is declared here for the reader (and type checkers)."""

    base_url: str
    image_repo: str
    health_timeout_s: float
    stop_timeout_s: int
    poll_interval_s: float

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...  # pragma: no cover - the executor's
    async def _engine(self) -> Any: ...  # pragma: no cover
    def _describe(self, e: BaseException) -> str: ...  # pragma: no cover

    async def _recreate(self, old: dict[str, Any], image: dict[str, Any], version: str, *, action: str,
                        step: int, total: int) -> AsyncIterator[Event]:
        """Compose's recreate of `old` on `image`; on failure, `old` is brought back."""
        api = await self._engine()
        old_image = await self._call(api.inspect_image, old["Image"])
        old_version = compose.version_of(old, old_image, self.image_repo) or old_image["Id"][7:19]
        spec = compose.spec_from_container(old, old_image["Config"], image=image["Id"])
        labels = spec.config["Labels"]
        labels.update({compose.VERSION: version, compose.PREVIOUS_IMAGE: old_image["Id"],
                       compose.PREVIOUS_VERSION: old_version, compose.ONEOFF: "False"})
        labels[compose.CONFIG_HASH] = spec.config_hash()
        restore = compose.spec_from_container(old, None, image=old_image["Id"])
        name = spec.name
        was_running = bool(old["State"].get("Running"))

        yield Progress(step + 1, total, "steps", f"creating the {version} container for {name}")
        new_id = await self._call(compose.create_container, api, spec, name=f"{old['Id'][:12]}_{name}")
        old_removed = False
        try:
            if was_running:
                yield Progress(step + 2, total, "steps", f"stopping {name} ({old_version})")
                await self._call(api.stop, old["Id"], timeout=self.stop_timeout_s)
            yield Progress(step + 3, total, "steps", f"removing the old {name} ({old_version})")
            await self._call(api.remove_container, old["Id"])
            old_removed = True
            await self._call(api.rename, new_id, name)
            yield Progress(step + 4, total, "steps", f"starting {name} ({version})")
            reason = None
            async for event in self._start_and_wait(new_id, name, waiting=(step + 5, total)):
                if isinstance(event, str):
                    reason = event
                else:
                    yield event
        except Exception as e:  # noqa: BLE001
            reason = self._describe(e)
        if reason is None:
            yield Progress(total, total, "steps", f"{name} is ready on {version}")
            try:
                await self._call(api.tag, old_image["Id"], self.image_repo, "rollback", force=True)
            except ExecutorError as e:
                yield LogLine(f"could not tag the previous image {self.image_repo}:rollback: {e}", "stderr")
            yield Outcome(True, f"{action}: {version} is serving (was {old_version})",
                          detail={"container": new_id, "image": image["Id"], "previous_image": old_image["Id"],
                                  "version": version, "previous_version": old_version})
            return

        yield LogLine(redact(f"{action} to {version} failed: {reason}; bringing {old_version} back"), "stderr")
        restored = None
        async for event in self._bring_back(api, new_id, old, restore, old_removed, was_running):
            if isinstance(event, str):
                restored = event
            else:
                yield event
        tail = f"{old_version} is serving again" if restored is None else \
            f"and {old_version} did not come back: {restored}"
        yield Outcome(False, redact(f"{action} to {version} failed: {reason}; {tail}"),
                      detail={"version": version, "previous_version": old_version, "reason": reason,
                              "restored": restored is None})

    async def _bring_back(self, api: Any, new_id: str, old: dict[str, Any], restore: compose.CreateSpec,
                          old_removed: bool, was_running: bool) -> AsyncIterator[Event | str]:
        """Remove the failed container, put the old one back and wait for it; a str if it failed."""
        try:
            await self._call(api.remove_container, new_id, force=True)
        except Exception as e:  # noqa: BLE001
            yield LogLine(f"could not remove the failed container: {self._describe(e)}", "stderr")
        try:
            if old_removed:
                yield Progress(0, None, "steps", f"re-creating {restore.name} on its previous image")
                old_id = await self._call(compose.create_container, api, restore)
            else:
                old_id = old["Id"]
            if not was_running:
                return
            async for event in self._start_and_wait(old_id, restore.name):
                yield event
        except Exception as e:  # noqa: BLE001
            yield self._describe(e)

    async def _start_and_wait(self, container_id: str, name: str, waiting: tuple[int, int] | None = None
                              ) -> AsyncIterator[LogLine | Progress | str]:
        """Attach (so its start-up output is streamed), start, and wait until ready: its Docker
        health check when it has one, else GET /healthz/ready == 200; bounded by health_timeout_s.
        Yields LogLines, and a str (why) when it did not become ready."""
        api = await self._engine()
        info = await self._call(api.inspect_container, container_id)
        responses: list[Any] = []
        lines: asyncio.Queue[Any] = asyncio.Queue()

        async def pump() -> None:
            produce = partial(read_container_output, api, container_id, follow=True, tty=bool(info["Config"].get("Tty")),
                              opened=responses.append, source=name)
            try:
                batches = stream_from_thread(lambda emit, stop: produce(emit=emit, stop=stop), name="docker-attach",
                                             on_close=lambda: [shutdown_response(r) for r in responses])
                async with aclosing(batches):
                    async for batch in batches:
                        for line in batch:
                            lines.put_nowait(line)
            except Exception as e:  # noqa: BLE001 - output is a nicety; the wait decides
                lines.put_nowait(LogLine(f"(output of {name} not available: {self._describe(e)})", "stderr"))

        pump_task = asyncio.create_task(pump())
        try:
            for _ in range(100):  # the attach must be in place before the start, or we miss output
                if responses or pump_task.done():
                    break
                await asyncio.sleep(0.01)
            await self._call(api.start, container_id)
            if waiting is not None:
                test = (info["Config"].get("Healthcheck") or {}).get("Test") or []
                how = "its Docker health check" if test and test[0] != "NONE" else f"{self.base_url}/healthz/ready"
                yield Progress(waiting[0], waiting[1], "steps",
                               f"waiting up to {self.health_timeout_s:g}s for {name} to be ready ({how})")
            wait_task = asyncio.create_task(self._wait_ready(container_id, info))
            wait_task.add_done_callback(lambda _: lines.put_nowait(None))
            while (item := await lines.get()) is not None:
                yield item
            reason = wait_task.result()
            # let what it has written so far arrive (the reader hands lines over every 20 ms; a
            # crashed container's stream ends by itself, a running one's is cut short after this)
            await asyncio.wait({pump_task}, timeout=1.0 if reason is not None else 0.1)
            while not lines.empty():
                item = lines.get_nowait()
                if item is not None:
                    yield item
            if reason is not None:
                yield reason
        finally:
            pump_task.cancel()

    async def _wait_ready(self, container_id: str, info: dict[str, Any]) -> str | None:
        """None once ready; else why not (crashed, unhealthy, not ready in time)."""
        import httpx

        api = await self._engine()
        test = (info["Config"].get("Healthcheck") or {}).get("Test") or []
        has_health = bool(test) and test[0] != "NONE"
        deadline = time.monotonic() + self.health_timeout_s
        last = "no answer yet"
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                state = (await self._call(api.inspect_container, container_id))["State"]
                if state.get("Status") in ("exited", "dead") or state.get("Restarting"):
                    error = f" ({state['Error']})" if state.get("Error") else ""
                    return f"the container exited with code {state.get('ExitCode')} on start{error}"
                if has_health:
                    health = state.get("Health") or {}
                    if health.get("Status") == "healthy":
                        return None
                    log = health.get("Log") or []
                    if log:
                        last = f"health check: {one_line(log[-1].get('Output') or '') or 'exit ' + str(log[-1].get('ExitCode'))}"
                    if health.get("Status") == "unhealthy":
                        return redact(f"its health check failed ({last})")
                else:
                    try:
                        response = await http.get(f"{self.base_url}/healthz/ready")
                        if response.status_code == 200:
                            return None
                        last = f"/healthz/ready answered {response.status_code}: {_problems(response)}"
                    except httpx.HTTPError as e:
                        last = f"/healthz/ready: {one_line(e) or type(e).__name__}"
                if time.monotonic() >= deadline:
                    return redact(f"not ready after {self.health_timeout_s:g}s ({last})")
                await asyncio.sleep(self.poll_interval_s)


def one_line(value: Any) -> str:
    return " ".join(str(value).split())[:400]


def _problems(response: Any) -> str:
    try:
        body = response.json()
        return "; ".join(body.get("problems") or []) or body.get("status", "")
    except Exception:  # noqa: BLE001
        return one_line(response.text)[:200]
