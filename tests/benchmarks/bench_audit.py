"""Audit log append rates: one event per transaction vs append_many batches of 100.

    python tests/benchmarks/bench_audit.py [N]

Prints both rates and their ratio (compare ratios, not absolute times: see PERFORMANCE.md).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hunter_console.audit import AuditLog  # noqa: E402

WHO = dict(release="v1.0.0", environment="staging", operator="alice", host="ssh 192.0.2.10")
BATCH = 100


def row(i: int) -> dict:
    return dict(kind="action.output", **WHO, action="migrate", status=None,
                message=f"INFO [alembic.runtime.migration] Running upgrade {i:04d} -> {i + 1:04d}, add column",
                detail={"stream": "stdout", "line": i})


def one_per_transaction(path: Path, n: int) -> float:
    log = AuditLog(path)
    start = time.perf_counter()
    for i in range(n):
        log.append(**row(i))
    elapsed = time.perf_counter() - start
    assert log.verify().ok
    log.close()
    return n / elapsed


def batched(path: Path, n: int) -> float:
    log = AuditLog(path)
    start = time.perf_counter()
    for first in range(0, n, BATCH):
        log.append_many([row(i) for i in range(first, min(first + BATCH, n))])
    elapsed = time.perf_counter() - start
    assert log.verify().ok
    log.close()
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        single = one_per_transaction(Path(tmp) / "single.db", n)
        batch = batched(Path(tmp) / "batch.db", n)
        start = time.perf_counter()
        log = AuditLog(Path(tmp) / "batch.db")
        result = log.verify()
        verify_rate = result.checked / (time.perf_counter() - start)
        log.close()
    print(f"events: {n} (WAL, synchronous=FULL, hash chain, FTS5 on message)")
    print(f"one per transaction : {single:10,.0f} events/s")
    print(f"append_many of {BATCH} : {batch:10,.0f} events/s")
    print(f"ratio batched/single: {batch / single:10.1f}x")
    print(f"verify              : {verify_rate:10,.0f} events/s")


if __name__ == "__main__":
    main()
