"""The sandbox's routes: health, metrics, the Hunter API (v1 and legacy) and the fault admin.

Handlers find the app's parts on `request.app.state.sandbox` (a `Sandbox`, see app.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hunter_console.redact import redact
from hunter_console.sandbox import leads
from hunter_console.sandbox.faults import FaultError
from hunter_console.sandbox.schema import required_revision, satisfies

API_V1 = "/api/v1"
ADMIN_FAULTS = "/_admin/faults"


def _sandbox(request: Request) -> Any:
    return request.app.state.sandbox


def one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    text = " ".join(str(orig).split()) or type(orig).__name__
    return redact(text[:300])


# -- health
async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive", "version": _sandbox(request).settings.version})


async def startup(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    if sandbox.faults.fail_startup or not sandbox.started:
        return JSONResponse({"status": "starting", "version": sandbox.settings.version}, status_code=503)
    return JSONResponse({"status": "started", "version": sandbox.settings.version})


async def ready(request: Request) -> JSONResponse:
    """200 when the database answers, Redis answers (when configured) and the schema is at the
    revision this version needs or later; 503 naming every problem otherwise."""
    sandbox = _sandbox(request)
    version = sandbox.settings.version
    problems: list[str] = []
    checks: dict[str, str] = {}
    if sandbox.faults.fail_startup or not sandbox.started:
        problems.append("startup: not complete")
    if sandbox.faults.fail_ready:
        problems.append("fault: fail_ready is on")
    needed = required_revision(version)
    try:
        revision = await asyncio.wait_for(sandbox.db.revision(), timeout=5)
        checks["database"] = "ok"
        if revision is None:
            checks["schema"] = f"not migrated: needs {needed}"
        elif not satisfies(revision, needed):
            checks["schema"] = f"at {revision}: {version} needs {needed} or later"
        else:
            checks["schema"] = f"ok ({revision})"
    except Exception as e:  # noqa: BLE001 - any failure to reach it is the answer
        checks["database"] = f"unreachable: {one_line(e) if not isinstance(e, TimeoutError) else 'timed out'}"
        checks["schema"] = "unknown: database unreachable"
    if sandbox.redis is not None:
        try:
            await asyncio.wait_for(sandbox.redis.ping(), timeout=3)
            checks["redis"] = "ok"
        except Exception as e:  # noqa: BLE001
            checks["redis"] = f"unreachable: {one_line(e) if not isinstance(e, TimeoutError) else 'timed out'}"
    problems += [f"{name}: {state}" for name, state in checks.items() if not state.startswith("ok")]
    body = {"status": "ready" if not problems else "not ready", "version": version, "checks": checks}
    if problems:
        body["problems"] = problems
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


async def metrics(request: Request) -> Response:
    sandbox = _sandbox(request)
    return Response(sandbox.metrics.render(), media_type=sandbox.metrics.content_type)


# -- the Hunter API
def _visible(sandbox: Any, lead: dict[str, Any]) -> dict[str, Any]:
    names = ("domain",) + sandbox.db.company_columns + sandbox.db.signal_columns
    return {name: lead.get(name) for name in names}


def _domain(raw: str | None) -> str:
    if not raw:
        raise HTTPException(422, "domain: required (JSON body {\"domain\": ...} or ?domain=)")
    domain = leads.normalise_domain(raw)
    if domain is None:
        raise HTTPException(422, f"domain: '{raw[:100]}' is not a domain name")
    return domain


def _cached(body: Any, hit: bool) -> JSONResponse:
    return JSONResponse(body, headers={"X-Cache": "HIT" if hit else "MISS"})


async def list_leads(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    rows, hit = await sandbox.cache.get_or_compute(f"{sandbox.settings.version}:leads", sandbox.db.list_leads)
    return _cached({"leads": rows, "count": len(rows)}, hit)


async def scan(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    raw = request.query_params.get("domain")
    body = await request.body()
    if body.strip():
        try:
            payload = json.loads(body)
        except ValueError:
            raise HTTPException(422, "body: not JSON (send {\"domain\": \"example.com\"})") from None
        if not isinstance(payload, dict):
            raise HTTPException(422, "body: expected a JSON object like {\"domain\": \"example.com\"}")
        raw = payload.get("domain", raw)
        if raw is not None and not isinstance(raw, str):
            raise HTTPException(422, "domain: expected a string")
    domain = _domain(raw)
    lead = _visible(sandbox, leads.scan(domain))
    await sandbox.db.save_scan(lead)
    version = sandbox.settings.version
    await sandbox.cache.forget(f"{version}:leads")
    await sandbox.cache.forget(f"{version}:sales-summary:{domain}")
    return JSONResponse({"status": "scanned", "domain": domain, "lead": lead})


async def sales_summary(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    domain = _domain(request.path_params["domain"])

    async def compute() -> dict[str, Any]:
        row = await sandbox.db.get_lead(domain)
        if row is not None:
            return leads.sales_summary(row, scanned=True)
        return leads.sales_summary(_visible(sandbox, leads.scan(domain)), scanned=False)

    summary, hit = await sandbox.cache.get_or_compute(f"{sandbox.settings.version}:sales-summary:{domain}", compute)
    return _cached(summary, hit)


# -- fault admin
async def faults(request: Request) -> JSONResponse:
    sandbox = _sandbox(request)
    token = sandbox.settings.admin_token
    if not token:
        raise HTTPException(404)
    given = request.headers.get("x-admin-token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JSONResponse({"detail": "admin token missing or wrong (X-Admin-Token)"}, status_code=403)
    if request.method == "POST":
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"detail": "body: not JSON"}, status_code=400)
        if not isinstance(payload, dict):
            return JSONResponse({"detail": "body: expected a JSON object of knob: value"}, status_code=400)
        try:
            sandbox.faults.update(payload)
        except FaultError as e:
            return JSONResponse({"detail": str(e)}, status_code=400)
        sandbox.log.warning("faults changed", faults=sandbox.faults.active(), route=ADMIN_FAULTS)
    return JSONResponse({"faults": sandbox.faults.as_dict(), "active": sandbox.faults.active()})


HEALTH_ROUTES = [
    Route("/healthz/live", live, methods=["GET"]),
    Route("/healthz/ready", ready, methods=["GET"]),
    Route("/healthz/startup", startup, methods=["GET"]),
    Route("/healthz/metrics", metrics, methods=["GET"]),
]


def _api(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/leads", list_leads, methods=["GET"]),
        Route(f"{prefix}/scan", scan, methods=["POST"]),
        Route(f"{prefix}/leads/{{domain}}/sales-summary", sales_summary, methods=["GET"]),
    ]


V1_ROUTES = _api(API_V1)
LEGACY_ROUTES = _api("")
ADMIN_ROUTES = [Route(ADMIN_FAULTS, faults, methods=["GET", "POST"])]
API_TEMPLATES = frozenset(r.path for r in V1_ROUTES + LEGACY_ROUTES)
LEGACY_TEMPLATES = frozenset(r.path for r in LEGACY_ROUTES)
