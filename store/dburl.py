"""DATABASE_URL as hosting providers hand it out, turned into what SQLAlchemy + asyncpg accept.

Providers give libpq URLs: `postgres://` or `postgresql://` with `sslmode=require`,
`sslrootcert=...`, `options=-c ...`, `connect_timeout=10`. SQLAlchemy passes every query
parameter to `asyncpg.connect()` as a keyword, which fails on the first libpq name
(`unexpected keyword argument 'sslmode'`). Here the query is split: the TLS and session
parameters asyncpg implements the libpq way go to asyncpg's own DSN parser (so `sslmode`,
`sslrootcert`, `verify-full` etc. mean exactly what they mean to psql), `options` and
`application_name` become startup parameters, `connect_timeout` becomes asyncpg's `timeout`,
and a parameter the driver cannot honour is refused with one sentence naming it, rather than
silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

# Understood by asyncpg's DSN parser with libpq's meaning.
_NATIVE = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "sslnegotiation",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "target_session_attrs", "krbsrvname",
    "gsslib", "passfile", "service",
})
# Sent to the server as startup parameters (libpq does the same).
_STARTUP = frozenset({"options", "application_name"})
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# libpq parameters whose value asyncpg already behaves as: accepted, nothing to pass on.
_SAME_AS_DRIVER = {
    "channel_binding": ("disable", "prefer"),  # asyncpg authenticates without channel binding
    "gssencmode": ("disable", "prefer"),  # no GSSAPI encryption: prefer falls back, as libpq does
    "sslsni": ("1",),
    "sslcompression": ("0",),
    "client_encoding": ("utf8", "UTF8", "utf-8", "UTF-8"),
}
# libpq parameters with no asyncpg counterpart: refused, so nobody relies on them silently.
_LIBPQ_ONLY = frozenset({
    "hostaddr", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
    "tcp_user_timeout", "replication", "requirepeer", "require_auth", "sslcertmode",
    "load_balance_hosts", "sslkeylogfile",
})


class DatabaseUrlError(ValueError):
    """DATABASE_URL cannot be used; `str()` is one sentence naming what is wrong."""


@dataclass(frozen=True)
class EngineUrl:
    """What to hand `create_async_engine`: the URL (async driver, no libpq query) and the
    driver's connect arguments."""

    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)
    is_sqlite: bool = False


def _parse(url: str) -> URL:
    text = url.strip()
    if "://" not in text:
        raise DatabaseUrlError(f"DATABASE_URL={masked(text)!r} is not a database URL: expected "
                               "sqlite:///path/to/file.db or postgresql://user:password@host:5432/name.")
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(f"DATABASE_URL={masked(text)!r} cannot be read ({exc}).") from None


def translate(url: str) -> EngineUrl:
    """Accept `sqlite:///file`, `postgres://` and `postgresql://` (with libpq parameters), and
    `postgresql+asyncpg://`; raise DatabaseUrlError for anything else."""
    parsed = _parse(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        return EngineUrl(parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False),
                         is_sqlite=True)
    if backend not in ("postgres", "postgresql") or driver not in ("", "asyncpg"):
        raise DatabaseUrlError(f"DATABASE_URL uses {parsed.drivername}://, which hplj does not support: use "
                               "sqlite:///path/to/file.db or postgresql://user:password@host:5432/name.")
    dsn_query: dict[str, str] = {}
    connect_args: dict[str, Any] = {}
    for name, value in parsed.query.items():
        if not isinstance(value, str):
            raise DatabaseUrlError(f"DATABASE_URL gives the parameter {name!r} more than once; give it once.")
        if name in _NATIVE or name in _STARTUP:
            if name == "sslmode" and value not in _SSLMODES:
                raise DatabaseUrlError(f"DATABASE_URL has sslmode={value!r}; expected one of {', '.join(_SSLMODES)}.")
            dsn_query[name] = value
        elif name == "connect_timeout":
            try:
                seconds = float(value)
            except ValueError:
                raise DatabaseUrlError(f"DATABASE_URL has connect_timeout={value!r}; expected a number of "
                                       "seconds.") from None
            if seconds > 0:  # libpq: 0 or less waits forever; asyncpg's default (60 s) is kept then
                connect_args["timeout"] = max(seconds, 2.0)  # libpq treats 1 as 2 too
        elif name == "fallback_application_name":
            dsn_query.setdefault("application_name", value)
        elif name in _SAME_AS_DRIVER:
            if value not in _SAME_AS_DRIVER[name]:
                allowed = " or ".join(f"{name}={v}" for v in _SAME_AS_DRIVER[name][:2])
                raise DatabaseUrlError(f"DATABASE_URL has {name}={value}, which the asyncpg driver cannot "
                                       f"honour: remove it or use {allowed}.")
        elif name in _LIBPQ_ONLY:
            raise DatabaseUrlError(f"DATABASE_URL has the libpq parameter {name!r}, which the asyncpg driver "
                                   "has no equivalent for: remove it.")
        else:
            raise DatabaseUrlError(f"DATABASE_URL has the parameter {name!r}, which is not a PostgreSQL "
                                   "connection parameter: remove it.")
    if dsn_query:
        # asyncpg parses this DSN the libpq way; host, port, user, password and database come
        # from the URL SQLAlchemy passes beside it (explicit arguments win over the DSN).
        connect_args["dsn"] = "postgresql://?" + urlencode(dsn_query, quote_via=quote)
    engine_url = parsed.set(drivername="postgresql+asyncpg", query={})
    return EngineUrl(engine_url.render_as_string(hide_password=False), connect_args)


def masked(url: str) -> str:
    """The URL with its password replaced by ***, for logs and messages."""
    try:
        return make_url(url.strip()).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        head, sep, tail = url.partition("://")
        if sep and "@" in tail:
            creds, _, rest = tail.rpartition("@")
            user = creds.split(":", 1)[0]
            return f"{head}://{user}:***@{rest}"
        return url


__all__ = ["DatabaseUrlError", "EngineUrl", "masked", "translate"]
