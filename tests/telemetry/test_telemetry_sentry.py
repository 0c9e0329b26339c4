"""Sentry for the console, against a local HTTP receiver that records every envelope: a forced
error arrives with its release and environment; canary secrets placed in the environment (a
variable the config names as a secret), in a DSN inside a message, in exception messages, in
extra, breadcrumbs and frame variables appear in NO envelope (searched in the raw bytes, and in
the bytes decompressed when the SDK compressed them)."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import sentry_sdk

from hunter_console import telemetry
from hunter_console.config import load_settings

CANARY_ENV = "Canary-Env-Pw-7f3a91"  # the value of DATABASE_URL's password (the config names it a secret)
CANARY_DSN = "Canary-Dsn-Pw-c0ffee"  # only ever in a DSN string inside a message (caught by pattern)
VISIBLE = "visible-marker-5150"  # not a secret: must arrive, or the search proves nothing


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []  # raw, as received
        self.plain: list[bytes] = []  # decompressed
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    plain = gzip.decompress(raw)
                elif encoding == "br":
                    import brotli

                    plain = brotli.decompress(raw)
                elif encoding == "deflate":
                    plain = zlib.decompress(raw)
                else:
                    plain = raw
                outer.bodies.append(raw)
                outer.plain.append(plain)
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/1"

    def events(self) -> list[dict]:
        """The event items of every envelope (header line, then item header / payload pairs)."""
        out = []
        for body in self.plain:
            lines = body.split(b"\n")
            i = 1
            while i + 1 < len(lines):
                header = json.loads(lines[i])
                payload = lines[i + 1]
                if header.get("type") == "event":
                    out.append(json.loads(payload))
                i += 2
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sentry_on(receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://hunter:{CANARY_ENV}@db.internal:5432/hunter")
    monkeypatch.setenv(telemetry.DSN_ENV, receiver.dsn)
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    settings = load_settings(audit=tmp_path / "audit.db", release="v1.0.0", env="local", operator="alice",
                             environ={"USER": "alice"})
    assert telemetry.init_sentry(settings, transport_queue_size=100) is True
    yield settings
    telemetry.shutdown_sentry()


def wait_for_events(receiver: Receiver, n: int, timeout: float = 10.0) -> list[dict]:
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + timeout
    while len(receiver.events()) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return receiver.events()


def forced_error(database_url: str) -> None:
    password = CANARY_ENV  # noqa: F841 - a frame variable Sentry would send
    conn = {"url": database_url, "password": CANARY_ENV, "note": VISIBLE}  # noqa: F841
    raise RuntimeError(f"cannot log in with {CANARY_ENV} ({VISIBLE})")


def test_without_the_console_dsn_nothing_is_initialised(tmp_path):
    settings = load_settings(audit=tmp_path / "audit.db", environ={})
    assert telemetry.init_sentry(settings, environ={"SENTRY_DSN": "http://k@127.0.0.1:9/1"}) is False
    assert telemetry.capture_unhandled(RuntimeError("x")) is None


def test_a_forced_error_arrives_with_release_and_environment(sentry_on, receiver):
    try:
        forced_error("sqlite:///x.db")
    except RuntimeError as e:
        event_id = telemetry.capture_unhandled(e)
    assert event_id
    (event,) = wait_for_events(receiver, 1)
    assert receiver.paths[0] == "/api/1/envelope/"
    assert event["event_id"] == event_id
    assert event["release"] == f"hunter-console@{telemetry.console_version()}"
    assert event["environment"] == "local"
    assert event["tags"]["hunter.release"] == "v1.0.0"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert VISIBLE in event["exception"]["values"][-1]["value"]


def test_no_canary_in_any_envelope(sentry_on, receiver):
    url = f"postgresql://hunter:{CANARY_ENV}@db.internal:5432/hunter"
    logging.getLogger("hunter_console.test").warning("connecting to %s for %s", url, VISIBLE)  # a breadcrumb
    sentry_sdk.set_extra("connection", {"url": url, "password": CANARY_ENV, "marker": VISIBLE})
    sentry_sdk.add_breadcrumb(category="db", message=f"retry with password={CANARY_ENV}", data={"dsn": url})
    sentry_sdk.capture_message(f"cannot reach postgresql://svc:{CANARY_DSN}@db.internal:5432/hunter {VISIBLE}")
    try:
        forced_error(url)
    except RuntimeError as e:
        telemetry.capture_unhandled(e)
    try:
        raise ValueError(f"token {CANARY_ENV} rejected by https://api:{CANARY_DSN}@hunter.example/api")
    except ValueError as e:
        telemetry.capture_unhandled(e)
    events = wait_for_events(receiver, 3)
    assert len(events) == 3
    everything = b"".join(receiver.bodies + receiver.plain)
    assert VISIBLE.encode() in everything  # the search does find what is there
    assert b"***" in everything
    for canary in (CANARY_ENV, CANARY_DSN):
        assert canary.encode() not in everything, f"{canary} leaked"
    frames = events[1]["exception"]["values"][-1]["stacktrace"]["frames"]
    assert any("vars" in f and "password" in f["vars"] for f in frames)  # frame vars were sent, scrubbed


def test_before_send_scrubs_request_data_and_drops_what_it_cannot_scrub(sentry_on):
    event = {
        "message": f"postgresql://u:{CANARY_DSN}@h/db",
        "request": {"url": f"https://api:{CANARY_DSN}@h/x", "headers": {"Authorization": f"Bearer {CANARY_ENV}"},
                    "data": {"password": CANARY_ENV, "q": f"secret={CANARY_DSN}"}, "query_string": f"token={CANARY_ENV}"},
    }
    out = json.dumps(telemetry.before_send(event, {}))
    assert CANARY_ENV not in out and CANARY_DSN not in out
    crumb = telemetry.before_breadcrumb({"message": f"GET https://u:{CANARY_DSN}@h/"}, {})
    assert CANARY_DSN not in json.dumps(crumb)

    class Unscrubbable(dict):
        def items(self):
            raise RuntimeError("no")

    assert telemetry.before_send(Unscrubbable(a=1), {}) is None
