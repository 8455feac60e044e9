"""Signed, expiring links to the admin dashboard and to one person's export.

Links
-----
`make_link(service, actor_id)` returns

    <public_url>/dashboard?actor=<id>&scope=<*|cohort>&exp=<unix>&sig=<hex>[&cohort=<name>]

`sig` is HMAC-SHA256 over the JSON array ``["v1", actor, scope, exp]`` with `settings.dashboard_secret`
(`HPLJ_DASHBOARD_SECRET`). When that setting is empty, a random secret made when this process
started is used instead: the links then work only against the process that made them and die on
every restart (set the secret when more than one web process serves the dashboard).

Export links
------------
`make_export_link(service, actor_id, person_id)` returns

    <public_url>/dashboard/export?actor=<id>&person=<id>&exp=<unix>&sig=<hex>

signed the same way over ``["export-v1", actor, person, exp]`` (a different purpose tag, so an
export link is never a dashboard link or the other way round). It downloads everything stored about
that one person as `export-<id>.json`, built from the database when it is opened: the URL holds ids
and a signature only, and once the person is forgotten it answers 410 with nothing. It is refused
(403, nothing revealed) when tampered with, expired (`EXPORT_TTL`, one hour), or when its actor is
no longer an admin. Each download leaves an `export_download` audit row (ids only).

`scope` is what the link may show: `*` (every cohort, the default the `dashboard` admin command
hands out) or one cohort name. `cohort` picks the cohort to show; it is not signed, so the cohort
selector can keep the signature, and it must lie inside the signed scope. Changing the actor,
scope or expiry breaks the signature; the signature is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bot.app.settings import Settings
from bot.services.host import Services

DEFAULT_TTL = timedelta(hours=1)
EXPORT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=31)  # no link is made to live longer; a signed one claiming to is refused
ALL = "*"
_VERSION = "v1"
_EXPORT_PURPOSE = "export-v1"
# Random per process: links made with it stop working when the process restarts.
_PROCESS_SECRET = secrets.token_bytes(32)


class LinkError(Exception):
    """Why a dashboard link is refused; `str()` is safe to show to the person holding it."""


@dataclass(frozen=True)
class Claims:
    actor: str
    scope: str  # "*" or one cohort
    expires: datetime
    cohort: str | None  # the cohort asked for (inside the scope), if any

    def allows(self, cohort: str) -> bool:
        return self.scope == ALL or self.scope == cohort


# --- links ------------------------------------------------------------------------------------

def secret_for(settings: Settings | None) -> bytes:
    configured = getattr(settings, "dashboard_secret", "") if settings is not None else ""
    return configured.encode() if configured else _PROCESS_SECRET


def _sign(secret: bytes, actor: str, scope: str, exp: int, purpose: str = _VERSION) -> str:
    # JSON keeps the fields apart whatever characters an actor id or cohort name contains.
    msg = json.dumps([purpose, actor, scope, exp], separators=(",", ":")).encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def link_query(secret: bytes, actor: str, exp: int, *, scope: str = ALL, cohort: str | None = None) -> dict[str, str]:
    q = {"actor": actor, "scope": scope, "exp": str(exp), "sig": _sign(secret, actor, scope, exp)}
    if cohort:
        q["cohort"] = cohort
    return q


def make_link(service: Services, actor_id: str, *, ttl: timedelta = DEFAULT_TTL, cohort: str | None = None) -> str:
    """A signed dashboard URL for `actor_id`, valid for `ttl` from `service.clock.now()`.

    With `cohort`, the link shows that cohort only; without, every cohort (selectable).
    """
    settings = getattr(service, "settings", None)
    base = (getattr(settings, "public_url", "") or "http://localhost:3978").rstrip("/")
    exp = int((service.clock.now() + ttl).timestamp())
    q = link_query(secret_for(settings), str(actor_id), exp, scope=cohort or ALL, cohort=cohort)
    return f"{base}/dashboard?{urlencode(q)}"


def _expiry(exp: int, now: datetime, refusal: str) -> datetime:
    """A signed expiry as a time; no link the bot makes lives longer than `MAX_TTL`, so one that
    claims to (or names a time no calendar holds) is refused, whoever signed it."""
    try:
        expires = datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        raise LinkError(refusal) from None
    if expires - now > MAX_TTL:
        raise LinkError(refusal)
    return expires


def verify(query: Mapping[str, str], now: datetime, secret: bytes | str) -> Claims:
    """The claims of a dashboard link's query, or `LinkError` saying why it is refused."""
    key = secret.encode() if isinstance(secret, str) else secret
    actor, scope, exp_s, sig = (query.get(k) for k in ("actor", "scope", "exp", "sig"))
    if not sig or not actor or not scope or not exp_s:
        raise LinkError("This dashboard address has no valid signature. Open the dashboard only "
                        "through a link from the bot's `dashboard` command.")
    try:
        exp = int(exp_s)
    except ValueError:
        raise LinkError("This dashboard link is not valid (it was changed or cut short).") from None
    expected = _sign(key, actor, scope, exp)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkError("This dashboard link is not valid (it was changed, or it was made by "
                        "another installation or before a restart). Ask the bot for a new one "
                        "with the `dashboard` command.")
    expires = _expiry(exp, now, "This dashboard link is not valid. Ask the bot for a new one with the "
                                "`dashboard` command.")
    if now >= expires:
        raise LinkError(f"This dashboard link expired at {expires:%Y-%m-%d %H:%M} UTC. Ask the bot "
                        "for a new one with the `dashboard` command.")
    cohort = query.get("cohort") or None
    if cohort is not None and scope != ALL and cohort != scope:
        raise LinkError("This dashboard link does not cover that cohort. Ask the bot for a link "
                        "with the `dashboard` command.")
    return Claims(actor, scope, expires, cohort or (None if scope == ALL else scope))


@dataclass(frozen=True)
class ExportClaims:
    actor: str  # the admin the link was made for (a person id)
    person: str  # the one person whose data it downloads
    expires: datetime


def export_query(secret: bytes, actor: str, person: str, exp: int) -> dict[str, str]:
    return {"actor": actor, "person": person, "exp": str(exp),
            "sig": _sign(secret, actor, person, exp, _EXPORT_PURPOSE)}


def make_export_link(service: Services, actor_id: str, person_id: str, *, ttl: timedelta = EXPORT_TTL) -> str | None:
    """A signed link downloading `person_id`'s export for admin `actor_id`, valid for `ttl`; None
    when this installation has no settings with a public URL to serve it from (`hplj chat`)."""
    settings = getattr(service, "settings", None)
    base = (getattr(settings, "public_url", "") or "").strip().rstrip("/") if settings is not None else ""
    if not base:
        return None
    exp = int((service.clock.now() + ttl).timestamp())
    q = export_query(secret_for(settings), str(actor_id), str(person_id), exp)
    return f"{base}/dashboard/export?{urlencode(q)}"


def verify_export(query: Mapping[str, str], now: datetime, secret: bytes | str) -> ExportClaims:
    """The claims of an export link's query, or `LinkError` (which never names the person)."""
    key = secret.encode() if isinstance(secret, str) else secret
    actor, person, exp_s, sig = (query.get(k) for k in ("actor", "person", "exp", "sig"))
    again = "Ask the bot for a new one with the `export` command."
    if not sig or not actor or not person or not exp_s:
        raise LinkError(f"This export address has no valid signature. {again}")
    try:
        exp = int(exp_s)
    except ValueError:
        raise LinkError(f"This export link is not valid (it was changed or cut short). {again}") from None
    expected = _sign(key, actor, person, exp, _EXPORT_PURPOSE)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkError("This export link is not valid (it was changed, or it was made by another "
                        f"installation or before a restart). {again}")
    expires = _expiry(exp, now, f"This export link is not valid. {again}")
    if now >= expires:
        raise LinkError(f"This export link expired at {expires:%Y-%m-%d %H:%M} UTC. {again}")
    return ExportClaims(actor, person, expires)
