"""The fake Hunter data: a deterministic lead for any domain, so every run sees the same answers."""

from __future__ import annotations

import hashlib
import re
from typing import Any

DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
PROVIDERS = ("M365", "Google", "Zoho", "Yandex", "Local")
LOCAL_PROVIDERS = ("Turkcell", "Natro", "Turhost", None)
SEGMENTS = ("Migration", "Existing", "Cold", "Skip")
TENANT_SIZES = ("small", "medium", "large")
DMARC_POLICIES = ("none", "quarantine", "reject", None)
OFFERS = {"Migration": "M365 migration", "Existing": "Copilot upsell", "Cold": "Discovery call", "Skip": "No offer"}


def normalise_domain(raw: str) -> str | None:
    """The domain in lower case, without scheme, path or a leading www.; None when it is not one."""
    text = (raw or "").strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0]
    if text.startswith("www."):
        text = text[4:]
    return text if DOMAIN.match(text) else None


def scan(domain: str) -> dict[str, Any]:
    """What a scan of `domain` finds (every field, including the v1.0 G20 ones)."""
    digest = hashlib.sha256(domain.encode()).digest()
    provider = PROVIDERS[digest[0] % len(PROVIDERS)]
    score = digest[1] % 101
    return {
        "domain": domain,
        "name": domain.split(".")[0].replace("-", " ").title(),
        "readiness_score": score,
        "segment": SEGMENTS[0 if score >= 70 else 1 if score >= 50 else 2 if score >= 20 else 3],
        "mx_provider": provider,
        "spf": bool(digest[2] % 2),
        "dmarc_policy": DMARC_POLICIES[digest[3] % len(DMARC_POLICIES)],
        "tenant_size": TENANT_SIZES[digest[4] % len(TENANT_SIZES)],
        "local_provider": LOCAL_PROVIDERS[digest[5] % len(LOCAL_PROVIDERS)] if provider == "Local" else None,
        "dmarc_coverage": round((digest[6] % 101) / 100, 2),
    }


def sales_summary(lead: dict[str, Any], *, scanned: bool) -> dict[str, Any]:
    segment = lead.get("segment") or "Cold"
    summary = {
        "domain": lead["domain"],
        "segment": segment,
        "readiness_score": lead.get("readiness_score"),
        "recommended_offer": OFFERS.get(segment, "Discovery call"),
        "talking_points": [f"mail on {lead.get('mx_provider') or 'an unknown provider'}",
                           f"DMARC policy {lead.get('dmarc_policy') or 'missing'}"],
        "scanned": scanned,
    }
    if "tenant_size" in lead:
        summary["tenant_size"] = lead["tenant_size"]
    return summary
