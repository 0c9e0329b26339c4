"""The database side of the sandbox: a SQLAlchemy pool, readiness, and the lead queries.

Blocking calls run in threads (`asyncio.to_thread`); the pool's size and checked-out count feed
the metrics. The columns a query touches depend on the app version, like the real service: v1.0
reads the G20 columns, so it fails against a schema that lacks them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from hunter_console.sandbox.schema import connect_args, current_revision, database_url

V09_COMPANY = ("name", "readiness_score", "segment")
V09_SIGNALS = ("mx_provider", "spf", "dmarc_policy")
G20_COMPANY = ("tenant_size",)
G20_SIGNALS = ("local_provider", "dmarc_coverage")


class Database:
    def __init__(self, url: str, *, uses_g20: bool) -> None:
        self.engine = create_engine(database_url(url), pool_size=5, max_overflow=5, pool_timeout=5,
                                    pool_pre_ping=True, connect_args=connect_args(url))
        self.company_columns = V09_COMPANY + (G20_COMPANY if uses_g20 else ())
        self.signal_columns = V09_SIGNALS + (G20_SIGNALS if uses_g20 else ())

    # -- pool, for the metrics
    def pool_size(self) -> float:
        size = getattr(self.engine.pool, "size", None)
        return float(size()) if callable(size) else 0.0

    def pool_checked_out(self) -> float:
        checked = getattr(self.engine.pool, "checkedout", None)
        return float(checked()) if callable(checked) else 0.0

    # -- readiness
    async def revision(self) -> str | None:
        """The schema revision (None when never migrated); raises when the database is unreachable."""
        return await asyncio.to_thread(self._revision)

    def _revision(self) -> str | None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            return current_revision(conn)

    # -- leads
    async def list_leads(self, limit: int = 100) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._list_leads, limit)

    async def get_lead(self, domain: str) -> dict[str, Any] | None:
        rows = await asyncio.to_thread(self._list_leads, 1, domain)
        return rows[0] if rows else None

    async def save_scan(self, lead: dict[str, Any]) -> None:
        await asyncio.to_thread(self._save_scan, lead)

    def _select(self) -> str:
        columns = ["c.domain"] + [f"c.{c}" for c in self.company_columns] + [f"s.{c}" for c in self.signal_columns]
        return (f"SELECT {', '.join(columns)} FROM companies c "
                "LEFT JOIN domain_signals s ON s.domain = c.domain")

    def _list_leads(self, limit: int, domain: str | None = None) -> list[dict[str, Any]]:
        query = self._select() + (" WHERE c.domain = :domain" if domain else "") + " ORDER BY c.domain LIMIT :limit"
        with self.engine.connect() as conn:
            rows = conn.execute(text(query), {"domain": domain, "limit": limit}).mappings().all()
        return [_jsonable(dict(row)) for row in rows]

    def _save_scan(self, lead: dict[str, Any]) -> None:
        for attempt in (1, 2):  # two scans of one new domain at once: the loser updates instead
            try:
                with self.engine.begin() as conn:
                    _upsert(conn, "companies", lead, self.company_columns)
                    _upsert(conn, "domain_signals", lead, self.signal_columns)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    async def close(self) -> None:
        await asyncio.to_thread(self.engine.dispose)


def _upsert(conn: Any, table: str, lead: dict[str, Any], columns: tuple[str, ...]) -> None:
    values = {c: lead.get(c) for c in columns}
    values["domain"] = lead["domain"]
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    updated = conn.execute(text(f"UPDATE {table} SET {assignments} WHERE domain = :domain"), values).rowcount
    if not updated:
        names = ("domain",) + columns
        conn.execute(text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"),
                     values)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    if "spf" in row and row["spf"] is not None:
        row["spf"] = bool(row["spf"])
    return row

