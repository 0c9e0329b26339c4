"""Helpers for the monitoring tests: a real sandbox Hunter API (v1.0.0, a `serve` subprocess on a
free 127.0.0.1 port, SQLite database migrated with its own Alembic scripts), traffic against it,
its fault knobs, and synthetic samples with known answers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
API_KEY = "monitor-test-api-key-0001"
ADMIN_TOKEN = "monitor-test-admin-token-0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sandbox:
    port: int
    database_url: str
    proc: subprocess.Popen
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    async def set_faults(self, **knobs: Any) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False) as client:
            r = await client.post("/_admin/faults", json=knobs, headers={"X-Admin-Token": ADMIN_TOKEN})
            assert r.status_code == 200, r.text

    async def traffic(self, seconds: float, *, concurrency: int = 4) -> int:
        """API requests for `seconds` (list + sales summaries: cache hits and misses)."""
        deadline = time.monotonic() + seconds
        sent = 0

        async def worker(client: httpx.AsyncClient, n: int) -> None:
            nonlocal sent
            i = 0
            while time.monotonic() < deadline:
                path = "/api/v1/leads" if i % 2 else f"/api/v1/leads/example{n}-{i % 3}.com/sales-summary"
                try:
                    await client.get(path)
                except httpx.HTTPError:
                    pass
                sent += 1
                i += 1
                await asyncio.sleep(0.01)

        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=10,
                                     headers={"X-API-Key": API_KEY}) as client:
            await asyncio.gather(*(worker(client, n) for n in range(concurrency)))
        return sent


def migrate_sqlite(url: str) -> None:
    from alembic import command

    from hunter_console.sandbox.schema import alembic_config

    command.upgrade(alembic_config(url), "head")


def start_sandbox(tmp_path: Path, **extra_env: str) -> Sandbox:
    tmp_path.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{tmp_path / 'hunter.db'}"
    if not (tmp_path / "hunter.db").exists():
        migrate_sqlite(database_url)
    port = free_port()
    log = tmp_path / f"sandbox-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUNTER_", "SENTRY_", "REDIS_"))}
    env.update({"PYTHONPATH": str(REPO), "DATABASE_URL": database_url, "HUNTER_API_KEY": API_KEY,
                "HUNTER_ADMIN_TOKEN": ADMIN_TOKEN, "RATE_LIMIT_PER_MINUTE": "1000000", "LOG_LEVEL": "WARNING",
                **extra_env})
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0",
                                 "--port", str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/live", timeout=1, trust_env=False).status_code == 200:
                return Sandbox(port, database_url, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"sandbox did not come up on {port}: {log.read_text()[-2000:]}")


# -- synthetic samples ---------------------------------------------------------------------------
BOUNDS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "10.0", "+Inf")


def sample_data(requests: float, errors: float, *, fast: float | None = None, hits: float = 0.0,
                misses: float = 0.0, size: float = 10, checked_out: float = 2, waiting: float = 0,
                epoch: float = 1000.0) -> dict[str, Any]:
    """Cumulative counters: `fast` of the requests took 25-50 ms, the rest 0.5-0.75 s."""
    fast = requests if fast is None else fast
    lat = {}
    for b in BOUNDS:
        bound = float(b)
        lat[b] = fast if bound < 0.75 and bound >= 0.05 else (0.0 if bound < 0.05 else requests)
    pool = {"size": size, "checked_out": checked_out}
    if waiting:
        pool["waiting"] = waiting
    return {"req": [requests, errors], "lat": lat, "cache": [hits, misses], "pool": pool, "epoch": epoch}


def steady_series(start: float, seconds: float, step: float, *, rps: float = 10.0, error_ratio: float = 0.0,
                  slow_ratio: float = 0.0, hit_ratio: float = 0.8, epoch: float = 1000.0,
                  base: tuple[float, float, float, float, float] = (0, 0, 0, 0, 0)) -> list[tuple[float, dict[str, Any]]]:
    """(ts, data) every `step` s for `seconds`: cumulative counters growing at `rps`."""
    out = []
    req, err, fast, hits, misses = base
    t = start
    while t <= start + seconds + 1e-9:
        out.append((t, sample_data(req, err, fast=fast, hits=hits, misses=misses, epoch=epoch)))
        n = rps * step
        req += n
        err += n * error_ratio
        fast += n * (1 - slow_ratio)
        hits += n * hit_ratio
        misses += n * (1 - hit_ratio)
        t += step
    return out
