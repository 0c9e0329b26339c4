"""The local executor: the sandbox Hunter API as a supervised subprocess on 127.0.0.1.

`LocalExecutor(port, database_url, state_dir, env=...)`. Each deploy stops the running version and
starts the new one on the same port (its own process group, so it is stopped whole), then waits for
/healthz/ready; if the new one never gets ready it is stopped and the old one started again.

What a later console needs to find the service is kept in `state_dir`:
    sandbox-<port>.json   {"port", "pid", "version", "previous_version", "started_at"}
    sandbox-<port>.log    the service's stdout and stderr (its JSON log lines), appended
    sandbox-<port>.lock   held while a deploy, rollback or stop is in progress
The service writes to the log file, not to a pipe, so it outlives the console that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, Mapping, Sequence

import httpx

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors.base import ExecutorError
from hunter_console.redact import redact, register_secret

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
SANDBOX_MODULE = "hunter_console.sandbox"


class LocalExecutor:
    kind = "local"

    def __init__(self, port: int, database_url: str, state_dir: str | Path, *, env: Mapping[str, str] | None = None,
                 host: str = "127.0.0.1", ready_timeout: float = 30.0, stop_timeout: float = 10.0,
                 python: str = sys.executable) -> None:
        self.port = port
        self.host = host
        self.database_url = database_url
        self.state_dir = Path(state_dir)
        self.env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.python = python
        self.state_path = self.state_dir / f"sandbox-{port}.json"
        self.log_path = self.state_dir / f"sandbox-{port}.log"
        self.lock_path = self.state_dir / f"sandbox-{port}.lock"
        self._children: dict[int, asyncio.subprocess.Process] = {}
        register_secret(database_url)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- the Executor interface
    async def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> AsyncIterator[LogLine | Outcome]:
        """["alembic", ...] runs the sandbox's Alembic CLI; anything else runs as given, with the
        service's environment either way."""
        if not argv:
            yield Outcome(ok=False, message="nothing to run (empty command)", exit_code=2)
            return
        register_secret(self.database_url)
        command = list(argv)
        if command[0] == "alembic":
            command = [self.python, "-m", SANDBOX_MODULE, *command]
        shown = " ".join(argv)
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            proc = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=self.service_env(env), cwd=str(self.state_dir),
                start_new_session=True)
        except OSError as e:
            yield Outcome(ok=False, message=f"{shown}: cannot start: {e.strerror or e}", exit_code=127)
            return
        queue: asyncio.Queue[LogLine | None] = asyncio.Queue()

        async def pump(stream: asyncio.StreamReader, name: str) -> None:
            async for raw in stream:
                await queue.put(LogLine(redact(raw.decode(errors="replace").rstrip("\r\n")), stream=name))
            await queue.put(None)

        pumps = [asyncio.create_task(pump(proc.stdout, "stdout")), asyncio.create_task(pump(proc.stderr, "stderr"))]
        try:
            open_streams = 2
            while open_streams:
                line = await queue.get()
                if line is None:
                    open_streams -= 1
                else:
                    yield line
            code = await proc.wait()
        finally:
            if proc.returncode is None:
                await self._kill_group(proc.pid, proc)
            for task in pumps:
                task.cancel()
        yield Outcome(ok=code == 0, message=f"{shown}: {'ok' if code == 0 else f'exit code {code}'}", exit_code=code,
                      detail={"duration_s": round(time.monotonic() - started, 3)})

    async def deploy(self, version: str) -> AsyncIterator[LogLine | Progress | Outcome]:
        async for event in self._switch(version, action="deploy"):
            yield event

    async def rollback(self) -> AsyncIterator[LogLine | Progress | Outcome]:
        state = self._load()
        target = state.get("previous_version")
        if not target:
            yield Outcome(ok=False, message="nothing to roll back to: no previous version recorded")
            return
        async for event in self._switch(target, action="rollback"):
            yield event

    async def rollback_target(self) -> str | None:
        """What rollback() would do (None: no previous version recorded)."""
        previous = self._load().get("previous_version")
        return f"stop {self._load().get('version') or 'the current version'}, start {previous} on port {self.port}" \
            if previous else None

    async def current_version(self) -> str | None:
        state = self._load()
        return state.get("version") if self._alive(state.get("pid")) else None

    async def logs(self, *, follow: bool = True) -> AsyncIterator[LogLine]:
        offset = 0
        pending = b""
        stream = f"sandbox:{self.port}"
        while True:
            chunk = b""
            with contextlib.suppress(FileNotFoundError):
                with self.log_path.open("rb") as f:
                    f.seek(offset)
                    chunk = f.read(1 << 20)
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                yield LogLine(redact(raw.decode(errors="replace").rstrip("\r")), stream=stream)
            if not chunk:
                if not follow:
                    if pending:
                        yield LogLine(redact(pending.decode(errors="replace")), stream=stream)
                    return
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        with self._locked():
            state = self._load()
            pid = state.get("pid")
            if pid:
                await self._stop_pid(pid)
            state["pid"] = None
            self._save(state)

    # -- how
    def service_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The service's environment: this process's, the configured service env, DATABASE_URL."""
        env = dict(os.environ)
        env.update(self.env)
        env["DATABASE_URL"] = self.database_url
        env.update(extra or {})
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT] + [p for p in paths if p != PACKAGE_ROOT])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    async def _switch(self, version: str, *, action: str) -> AsyncIterator[LogLine | Progress | Outcome]:
        from hunter_console.sandbox.schema import UnknownVersion, required_revision

        try:
            required_revision(version)
        except UnknownVersion as e:
            yield Outcome(ok=False, message=str(e))
            return
        try:
            lock = self._locked()
            lock.__enter__()
        except ExecutorError as e:
            yield Outcome(ok=False, message=str(e))
            return
        try:
            state = self._load()
            old_pid = state.get("pid") if self._alive(state.get("pid")) else None
            old = state.get("version") if old_pid else None
            total = 4
            yield Progress(0, total, "steps", f"{action} {version} on {self.base_url}")
            if old_pid:
                yield LogLine(f"stopping {old} (pid {old_pid})", stream="executor")
                await self._stop_pid(old_pid)
            yield Progress(1, total, "steps", f"starting {version}")
            pid = await self._start(version)
            state.update(pid=pid, version=version, started_at=_now())
            self._save(state)
            yield LogLine(f"started {version} (pid {pid}), waiting up to {self.ready_timeout:g}s for /healthz/ready",
                          stream="executor")
            yield Progress(2, total, "steps", f"waiting for {version} to be ready")
            result: dict[str, Any] = {}
            async for event in self._wait_ready(pid, result):
                yield event
            if result["ready"]:
                if old and old != version:
                    state["previous_version"] = old
                state.update(pid=pid, version=version)
                self._save(state)
                yield Progress(total, total, "steps", f"{version} is serving")
                yield Outcome(ok=True, message=f"{version} is ready on {self.base_url}"
                              + (f" (was {old})" if old else ""),
                              detail={"version": version, "previous_version": state.get("previous_version"),
                                      "pid": pid, "port": self.port})
                return
            reason = result["reason"]
            yield LogLine(f"{version} did not become ready: {reason}; stopping it", stream="executor")
            await self._stop_pid(pid)
            state.update(pid=None, version=None)
            restored = ""
            if old:
                yield Progress(3, total, "steps", f"restarting {old}")
                old_new_pid = await self._start(old)
                state.update(pid=old_new_pid, version=old, started_at=_now())
                self._save(state)
                back: dict[str, Any] = {}
                async for event in self._wait_ready(old_new_pid, back):
                    yield event
                restored = f"; {old} is serving again" if back["ready"] else f"; {old} restarted but is not ready: {back['reason']}"
            else:
                self._save(state)
                restored = "; nothing is running"
            yield Outcome(ok=False, message=f"{action} of {version} failed: {reason}{restored}",
                          detail={"version": version, "serving": state.get("version"), "reason": reason,
                                  "pid": state.get("pid"), "port": self.port})
        finally:
            lock.__exit__(None, None, None)

    async def _start(self, version: str) -> int:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                self.python, "-m", SANDBOX_MODULE, "serve", "--version", version, "--port", str(self.port),
                "--host", self.host, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.service_env(), cwd=str(self.state_dir), start_new_session=True)
        self._children[proc.pid] = proc
        return proc.pid

    async def _wait_ready(self, pid: int, result: dict[str, Any]) -> AsyncIterator[LogLine]:
        """Poll /healthz/ready until 200, the process exits, or ready_timeout; stream the log meanwhile."""
        deadline = time.monotonic() + self.ready_timeout
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        reason = f"not ready within {self.ready_timeout:g}s"
        stream = f"sandbox:{self.port}"
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                offset, lines = self._read_log(offset)
                for line in lines:
                    yield LogLine(line, stream=stream)
                code = self._exit_code(pid)
                if code is not None:
                    offset, lines = self._read_log(offset)
                    for line in lines:
                        yield LogLine(line, stream=stream)
                    result.update(ready=False, reason=f"the process exited with code {code}")
                    return
                try:
                    response = await client.get(f"{self.base_url}/healthz/ready")
                    if response.status_code == 200:
                        result.update(ready=True, reason="")
                        return
                    reason = _not_ready_reason(response)
                except httpx.HTTPError:
                    pass  # not listening yet
                if time.monotonic() >= deadline:
                    result.update(ready=False, reason=f"{reason} (gave up after {self.ready_timeout:g}s)")
                    return
                await asyncio.sleep(0.2)

    def _read_log(self, offset: int) -> tuple[int, list[str]]:
        try:
            with self.log_path.open("rb") as f:
                f.seek(offset)
                data = f.read(1 << 20)
        except FileNotFoundError:
            return offset, []
        end = data.rfind(b"\n") + 1
        lines = [redact(raw.decode(errors="replace").rstrip("\r")) for raw in data[:end].split(b"\n")[:-1]]
        return offset + end, lines

    def _exit_code(self, pid: int) -> int | None:
        proc = self._children.get(pid)
        if proc is not None:
            return proc.returncode
        return None if self._alive(pid) else -1

    def _alive(self, pid: Any) -> bool:
        """Whether `pid` is a live sandbox process (not a zombie, not a recycled pid)."""
        if not isinstance(pid, int) or pid <= 0:
            return False
        proc = self._children.get(pid)
        if proc is not None and proc.returncode is not None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return status not in ("Z", "X") and SANDBOX_MODULE.encode() in cmdline

    async def _stop_pid(self, pid: int) -> None:
        if not self._alive(pid):
            await self._reap(pid)
            return
        await self._kill_group(pid, self._children.get(pid))

    async def _kill_group(self, pid: int, proc: asyncio.subprocess.Process | None) -> None:
        """SIGTERM the process group, wait up to stop_timeout, then SIGKILL it; wait until gone."""
        for sig, wait_s in ((signal.SIGTERM, self.stop_timeout), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                if proc is not None:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(proc.wait(), timeout=0.1)
                    if proc.returncode is not None:
                        self._children.pop(pid, None)
                        return
                elif not self._alive(pid):
                    return
                else:
                    await asyncio.sleep(0.1)
        raise ExecutorError(f"process {pid} did not stop after SIGKILL")

    async def _reap(self, pid: int) -> None:
        proc = self._children.pop(pid, None)
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=2)

    def _load(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            state = {}
        return state if isinstance(state, dict) else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = {"port": self.port, **{k: v for k, v in state.items() if k != "port"}}
        tmp = self.state_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.state_path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ExecutorError(f"another deploy, rollback or stop of the sandbox on port {self.port} "
                                    "is in progress") from None
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _not_ready_reason(response: httpx.Response) -> str:
    try:
        body = response.json()
        problems = body.get("problems") if isinstance(body, dict) else None
        if problems:
            return "; ".join(str(p) for p in problems)
    except ValueError:
        pass
    return f"/healthz/ready answered {response.status_code}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
