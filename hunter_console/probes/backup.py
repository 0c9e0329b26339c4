"""Backup freshness: a verified backup of the database for THIS release, younger than a
configured age, as the audit log records it.

What it reads (the contract with the backup action, which writes it):

    audit.events(release=<context.release>, kind="action.end", action="backup")

(also filtered to the context's environment, newest first), the newest one that is a *verified* backup:

    row.status == "ok"
    row.detail["artifacts"]: a non-empty list of {"path", "size", "sha256"[, "kind"]} — at least
        one with kind "backup" (or no kind), size > 0 and a 64-hex sha256
    row.detail.get("verified", True) is not False  (the action may record a failed restore check)
    row.ts: ISO 8601 UTC, the time the backup finished

The artifact is checked on this host when it is here: its size must match the record (and its
sha256 too when the spec says `rehash = true`; hashing runs in a thread). A backup made by the
local executor whose file has vanished is not a backup: FAIL. Other executors keep the file on
the remote side; the record is trusted.

Params: `max_age_h` (default 24) or `max_age_s`; `rehash` (default false).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, errored, failed, passed, register

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_MAX_AGE_H = 24.0


def _parse_ts(ts: Any) -> datetime | None:
    if isinstance(ts, datetime):
        return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _backup_artifacts(detail: Any) -> list[dict[str, Any]]:
    if not isinstance(detail, dict):
        return []
    good = []
    for artifact in detail.get("artifacts") or []:
        if not isinstance(artifact, dict):
            continue
        if artifact.get("kind", "backup") != "backup":
            continue
        size, sha = artifact.get("size"), str(artifact.get("sha256", "")).lower()
        if isinstance(size, int) and size > 0 and _SHA256.match(sha) and artifact.get("path"):
            good.append(artifact)
    return good


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@register("backup.fresh", params=("max_age_h", "max_age_s", "rehash", "action"))
async def check_backup(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """A verified backup for this release, younger than max_age, is in the audit log."""
    if context.audit is None:
        return errored("no audit log to read backups from")
    params = spec.params
    max_age_s = float(params["max_age_s"]) if "max_age_s" in params else float(params.get("max_age_h", DEFAULT_MAX_AGE_H)) * 3600
    action = str(params.get("action", "backup"))
    env = context.environment.name
    rows = await asyncio.to_thread(
        lambda: list(context.audit.events(release=context.release, environment=env, kind="action.end", action=action,
                                          newest_first=True, limit=50))
    )
    if not rows:
        return failed(f"no backup recorded for {context.release} on {env}: run the backup action")
    rows.sort(key=lambda r: str(getattr(r, "ts", "")), reverse=True)
    now = datetime.now(timezone.utc)
    last_problem = ""
    for row in rows:
        detail = getattr(row, "detail", None) or {}
        if getattr(row, "status", None) != "ok":
            last_problem = last_problem or f"the last backup ended '{getattr(row, 'status', None)}'"
            continue
        if isinstance(detail, dict) and detail.get("verified") is False:
            last_problem = last_problem or "the last backup failed its verification"
            continue
        artifacts = _backup_artifacts(detail)
        if not artifacts:
            last_problem = last_problem or "the last backup recorded no artifact with a size and sha256"
            continue
        finished = _parse_ts(getattr(row, "ts", None))
        if finished is None:
            last_problem = last_problem or "the last backup has no readable time"
            continue
        age_s = (now - finished).total_seconds()
        artifact = artifacts[0]
        value = {"path": artifact["path"], "size": artifact["size"], "sha256": artifact["sha256"],
                 "finished": finished.isoformat(), "age_s": round(age_s, 1)}
        if age_s > max_age_s:
            return failed(f"newest verified backup is {_age(age_s)} old (limit {_age(max_age_s)}): take a fresh one", value)
        path = Path(str(artifact["path"]))
        if path.exists():
            size = path.stat().st_size
            if size != artifact["size"]:
                return failed(f"backup file {path.name} is {size} bytes, the record says {artifact['size']}", value)
            if params.get("rehash", False):
                sha = await asyncio.to_thread(_sha256, path)
                if sha != str(artifact["sha256"]).lower():
                    return failed(f"backup file {path.name} does not match its recorded sha256", value)
        elif context.environment.executor == "local":
            return failed(f"backup file {path} recorded {_age(age_s)} ago is gone from this host", value)
        return passed(f"verified backup {path.name} ({artifact['size']} bytes, sha256 {str(artifact['sha256'])[:12]}…)"
                      f" taken {_age(age_s)} ago", value)
    return failed(f"no verified backup for {context.release}: {last_problem}")
