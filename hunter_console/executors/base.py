"""The one interface every executor implements (local subprocess, Docker, Kubernetes).

An action never branches on which executor it has. The streaming methods are async generators:
call them and iterate (`async for event in executor.deploy("v1.0.0")`); each ends with exactly one
`Outcome` (`logs` excepted, which only yields lines). Lines are already redacted.
"""

from __future__ import annotations

from typing import AsyncIterator, Mapping, Protocol, Sequence, runtime_checkable

from hunter_console.events import LogLine, Outcome, Progress


class ExecutorError(Exception):
    """An executor cannot do what was asked, said in one line."""


@runtime_checkable
class Executor(Protocol):
    def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> AsyncIterator[LogLine | Outcome]:
        """Run a command for the service (e.g. ["alembic", "current"]) with the service's environment
        (plus `env`); stream its output as LogLines, end with Outcome(exit_code=...)."""
        ...

    def deploy(self, version: str) -> AsyncIterator[LogLine | Progress | Outcome]:
        """Start `version`, wait (bounded) until it is ready, retire the old one. On failure the old
        version is serving again and the Outcome is not ok."""
        ...

    def rollback(self) -> AsyncIterator[LogLine | Progress | Outcome]:
        """Go back to the version that served before the last successful deploy."""
        ...

    async def rollback_target(self) -> str | None:
        """What rollback() would do, in the operator's words, computed from the real state
        ("re-create api on v0.9.0 (image 1a2b...)"); None when there is nothing to go back to."""
        ...

    async def current_version(self) -> str | None:
        """The version serving now, or None when nothing is running."""
        ...

    def logs(self, *, follow: bool = True) -> AsyncIterator[LogLine]:
        """The service's log lines; with follow, keep yielding new ones until the caller stops."""
        ...

    async def stop(self) -> None:
        """Stop the service and wait until it is gone."""
        ...
