"""Which Microsoft Entra tenants may talk to the bot (`MICROSOFT_ALLOWED_TENANTS`).

A multi-tenant Bot Framework registration accepts a valid token from any organisation's Teams;
the allow-list is what keeps another organisation's people out of this deployment's journeys and
its `HPLJ_ADMINS` e-mails. Empty: the app's own tenant when `MICROSOFT_APP_TENANT_ID` is set, else
any tenant; `*`: any tenant, said explicitly.
"""

from __future__ import annotations

from typing import Any


def allowed_tenants(settings: Any) -> frozenset[str] | None:
    """The tenant ids (lower case) allowed in, or None when any tenant may talk to the bot."""
    raw = str(getattr(settings, "microsoft_allowed_tenants", "") or "")
    listed = {t.strip().lower() for t in raw.replace(",", " ").split() if t.strip()}
    if "*" in listed:
        return None
    if not listed:
        own = str(getattr(settings, "microsoft_app_tenant_id", "") or "").strip().lower()
        return frozenset({own}) if own else None
    return frozenset(listed)


def tenant_allowed(tenant_id: str | None, allowed: frozenset[str] | None) -> bool:
    """Whether an activity or a stored address from `tenant_id` is inside the allow-list."""
    return allowed is None or (tenant_id or "").strip().lower() in allowed


__all__ = ["allowed_tenants", "tenant_allowed"]
