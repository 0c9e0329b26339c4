"""`python -m hunter_console.sandbox serve` as a real process on a free 127.0.0.1 port."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from .conftest import REPO, free_port, migrate

KEY = {"X-API-Key": "serve-key"}


@pytest.fixture
def migrated_pg(fresh_pg):
    migrate(fresh_pg, "head")
    return fresh_pg


def test_serve_on_postgres_and_redis(serve_process, migrated_pg, redis_url):
    env = {"HUNTER_API_KEY": "serve-key", "REDIS_URL": redis_url, "RATE_LIMIT_PER_MINUTE": "5",
           "DATABASE_URL": migrated_pg}
    server = serve_process("v1.0.0", migrated_pg, env)
    started = server.wait_started()
    assert started["version"] == "v1.0.0" and started["port"] == server.port and started["host"] == "127.0.0.1"
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        assert client.get("/healthz/ready").status_code == 200
        assert client.get("/healthz/live").json() == {"status": "alive", "version": "v1.0.0"}
        assert client.get("/api/v1/leads").status_code == 401
        assert client.post("/api/v1/scan", json={"domain": "example.com"}, headers=KEY).status_code == 200
        summary = client.get("/api/v1/leads/example.com/sales-summary", headers=KEY)
        assert summary.status_code == 200 and summary.json()["scanned"] is True
        statuses = [client.get("/leads", headers=KEY).status_code for _ in range(4)]
        assert statuses[:2] == [200, 200] and statuses[-1] == 429  # 5 a minute, 2 used above
        assert client.get("/nowhere").json() == {"detail": "Not Found"}
        metrics = client.get("/healthz/metrics").text
        assert 'hunter_app_info{version="v1.0.0"} 1.0' in metrics
        assert 'hunter_http_requests_total{method="GET",route="/leads",status="429"}' in metrics
    output = server.stop()
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert any(r["msg"] == "request" and r["route"] == "/api/v1/scan" and r["status"] == 200 for r in records)
    assert "uvicorn" not in output.lower() and '"GET /' not in output  # no access log of uvicorn's own


def test_serve_port_in_use_is_one_line(serve_process, migrated_pg):
    first = serve_process("v1.0.0", migrated_pg, {"DATABASE_URL": migrated_pg})
    first.wait_started()
    result = subprocess.run(
        [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0", "--port", str(first.port),
         "--database-url", migrated_pg], env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot listen on 127.0.0.1" in json.loads(result.stdout.strip().splitlines()[-1])["msg"]


def test_crash_on_start_exits_non_zero(migrated_pg):
    result = subprocess.run(
        [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0", "--port", str(free_port())],
        env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": migrated_pg, "HUNTER_FAULT_CRASH_ON_START": "1"},
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "crash_on_start" in result.stdout


def test_bad_environment_is_one_line(migrated_pg):
    for env in ({"RATE_LIMIT_PER_MINUTE": "lots"}, {"HUNTER_FAULT_LATENCY_MS": "-5"}, {"LOG_LEVEL": "LOUD"},
                {"HUNTER_FAULT_CRASH_ON_START": "v1.x"}):
        result = subprocess.run(
            [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0", "--port", "0"],
            env={**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": migrated_pg, **env},
            capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        _Envelopes.received.append(self.path.encode() + b"\n" + body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


def test_sentry_dsn_is_honoured(serve_process, migrated_pg):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    _Envelopes.received = []
    try:
        dsn = f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{receiver.server_address[1]}/42"
        env = {"DATABASE_URL": migrated_pg, "SENTRY_DSN": dsn, "HUNTER_FAULT_ERROR_RATE": "1"}
        server = serve_process("v1.0.0", migrated_pg, env)
        server.wait_started()
        assert httpx.get(f"{server.base_url}/api/v1/leads", timeout=5).status_code == 500
        deadline = time.monotonic() + 10
        while not _Envelopes.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _Envelopes.received, "no envelope reached the Sentry receiver"
        assert b"/api/42/envelope/" in _Envelopes.received[0]
        assert b"injected fault: error_rate" in b"".join(_Envelopes.received)
        assert "0123456789abcdef0123456789abcdef" not in server.stop()
    finally:
        receiver.shutdown()
