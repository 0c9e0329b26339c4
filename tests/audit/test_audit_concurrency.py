"""Two processes appending at once: no lock errors, no fork in the chain, nothing lost."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from hunter_console.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
N = 1000

WRITER = """
import os, sys, time
from hunter_console.audit import AuditLog
db, go, who, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
while not os.path.exists(go):
    time.sleep(0.001)
log = AuditLog(db)  # both race to create the schema
open(f"{go}.{who}", "w").close()  # then both wait until the other has opened it too
while not all(os.path.exists(f"{go}.{w}") for w in ("alice", "bob")):
    time.sleep(0.001)
for i in range(n):
    kind = "action.end" if i % 250 == 249 else "action.output"
    log.append(kind=kind, release="v1.0.0", environment="staging", operator=who, host="local",
               action="migrate", message=f"{who} line {i}", detail={"i": i})
    time.sleep(0.001)  # as a console does between events: the other writer gets its turns
log.close()
print("done", who)
"""


def test_two_processes_append_1000_each_at_once(tmp_path):
    db = tmp_path / "audit.db"  # not created yet: both race to create the schema as well
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(go), who, str(N)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for who in ("alice", "bob")
    ]
    time.sleep(0.5)  # both interpreters (very likely) up and waiting
    go.touch()
    outputs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert "locked" not in err and "Traceback" not in err, err
        assert p.returncode == 0 and "done" in out, (out, err)

    log = AuditLog(db, create=False)
    events = log.events()
    assert len(events) == 2 * N
    assert [e.id for e in events] == list(range(1, 2 * N + 1))
    for who in ("alice", "bob"):
        mine = [e.detail["i"] for e in events if e.operator == who]
        assert mine == list(range(N))  # each writer's events in its own order, none lost
    # the writers really interleaved (otherwise this test proves nothing about concurrency)
    switches = sum(1 for a, b in zip(events, events[1:]) if a.operator != b.operator)
    assert switches > 1
    result = log.verify()
    assert (result.ok, result.checked, result.head_id) == (True, 2 * N, 2 * N)
    assert result.anchor_seq == 2 * N  # both closed: the anchor is the final head
    log.close()
