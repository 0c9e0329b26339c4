"""The audit log: append-only, hash-chained, in SQLite (see DESIGN.md, "The audit log").

Every event the console records is one row of the `events` table, written by `AuditLog.append`
(or `append_many` for a batch, one transaction). Its message and detail pass through
`redact` / `redact_obj` before they are hashed and stored. `verify()` walks the chain from
genesis and checks the anchor file (`<db>.anchor`); `export()` renders a release record.

Event kinds the console writes (`kind` column):

- `session.open`        a console opened on an environment for a release
- `signoff`             an operator signed off a checklist item (item, note in detail)   [anchored]
- `signoff.withdrawn`   a sign-off was withdrawn; nothing is deleted                      [anchored]
- `decision`            the GO / NO-GO decision (status go|no-go; reason, open items)      [anchored]
- `probe`               a probe's status changed for an item (status PASS/WARN/FAIL/...)
- `action.start`        an action is about to make its first side effect (action, plan)
- `action.output`       output lines of a running action, per line or per chunk (batched)
- `action.end`          an action finished: outcome, duration, exit code, artifacts       [anchored]
- `action.interrupted`  a start without an end and no live runner, found on launch
- `lock.takeover`       an operator took over another console's lock on the environment
- `refused`             something the console refused to do (a gate, a confirmation), and why

[anchored] kinds (ANCHOR_KINDS) copy the head of the chain to the anchor file after they are
committed, so truncating the log behind them is detected; `close()` anchors too.
"""

from hunter_console.audit.chain import GENESIS, canonical_json, row_hash
from hunter_console.audit.log import (
    ANCHOR_KINDS,
    AuditError,
    AuditEvent,
    AuditLog,
    VerifyResult,
    read_anchor,
    utc_timestamp,
)

KINDS = (
    "session.open",
    "signoff",
    "signoff.withdrawn",
    "decision",
    "probe",
    "action.start",
    "action.output",
    "action.end",
    "action.interrupted",
    "lock.takeover",
    "refused",
)

__all__ = [
    "ANCHOR_KINDS",
    "GENESIS",
    "KINDS",
    "AuditError",
    "AuditEvent",
    "AuditLog",
    "VerifyResult",
    "canonical_json",
    "read_anchor",
    "row_hash",
    "utc_timestamp",
]
