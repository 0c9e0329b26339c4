"""`serve`: run one sandbox version under uvicorn on a socket we bind ourselves (127.0.0.1 by
default), access log off (our JSON request log covers it), one JSON "started" line once listening."""

from __future__ import annotations

import os
import socket
from typing import Any

from hunter_console.sandbox.jsonlog import JsonLog
from hunter_console.sandbox.settings import SandboxSettings

CRASH_EXIT_CODE = 3


def init_sentry(settings: SandboxSettings) -> None:
    import sentry_sdk

    sentry_sdk.init(dsn=settings.sentry_dsn, release=f"hunter-api@{settings.version}",
                    environment=settings.environment, traces_sample_rate=0.0, send_default_pii=False)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(settings: SandboxSettings, *, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Run until SIGTERM/SIGINT; the process exit code (0 after a clean stop)."""
    import uvicorn

    from hunter_console.sandbox.app import create_app

    log = JsonLog(settings.log_level)
    if settings.faults.crash_on_start:
        log.error("crashing at start (fault crash_on_start)", version=settings.version)
        return CRASH_EXIT_CODE
    if settings.sentry_dsn:
        try:
            init_sentry(settings)
        except Exception as e:  # noqa: BLE001 - BadDsn and friends: one line, not a traceback
            log.error(f"SENTRY_DSN is not usable: {e}", version=settings.version)
            return 2
    try:
        sock = bind(host, port)
    except OSError as e:
        log.error(f"cannot listen on {host}:{port}: {e.strerror or e}", version=settings.version)
        return 1
    actual_port = sock.getsockname()[1]
    app = create_app(settings, log=log)
    config = uvicorn.Config(app, access_log=False, log_config=None, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=5, server_header=False)

    class Server(uvicorn.Server):
        listening = False

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                self.listening = True
                log.info("started", version=settings.version, host=host, port=actual_port, pid=os.getpid(),
                         faults=settings.faults.active(), redis=bool(settings.redis_url))

    server = Server(config)
    server.run(sockets=[sock])
    if server.listening:
        log.info("stopped", version=settings.version, port=actual_port)
        return 0
    log.error("did not start", version=settings.version, port=actual_port)
    return 1
