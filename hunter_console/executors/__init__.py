"""Executors: where the Hunter API runs. One interface (`base.Executor`); `local.LocalExecutor`
runs the sandbox as a supervised subprocess. Docker and Kubernetes executors implement the same."""

from hunter_console.executors.base import Executor, ExecutorError

__all__ = ["Executor", "ExecutorError"]
