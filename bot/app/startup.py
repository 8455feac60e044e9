"""What `hplj serve` and `hplj worker` check and say when they start.

In production (any platform credential set) a missing HPLJ_DASHBOARD_SECRET makes every process
sign dashboard links with its own random key (a link that worked answers 403 after a restart or
from the other process), and a missing HPLJ_PUBLIC_URL sends people links to localhost: both
refuse to start. An SQLite file in production is allowed but said once, because on a platform
with a disposable disk it vanishes at each deploy. One line then names what this process runs.
"""

from __future__ import annotations

import errno

from bot.app.settings import Settings
from store.dburl import masked


class StartupError(Exception):
    """The process cannot start; `str()` is one sentence for the operator (exit status 2)."""


_CREDENTIALS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "microsoft_app_id",
                "microsoft_app_password")


def in_production(settings: Settings) -> bool:
    """Any platform credential set: real people can be reached, so links must work."""
    return any(getattr(settings, name) for name in _CREDENTIALS)


def production_problems(settings: Settings) -> list[str]:
    """One sentence per setting production cannot do without (empty outside production)."""
    if not in_production(settings):
        return []
    problems = []
    if not settings.dashboard_secret:
        problems.append("HPLJ_DASHBOARD_SECRET is not set: each process would sign dashboard links with its own "
                        "random key, so links break after a restart or between web and worker (set it to a long "
                        "random string, e.g. `openssl rand -hex 32`, the same in every process).")
    if "public_url" not in settings.model_fields_set:
        problems.append("HPLJ_PUBLIC_URL is not set: dashboard links in messages would point to "
                        f"{settings.public_url} (set it to the HTTPS address people reach this service at).")
    return problems


def sqlite_warning(settings: Settings) -> str | None:
    """The one warning for an SQLite file in production, or None."""
    url = settings.database_url.strip()
    if not in_production(settings) or not url.startswith("sqlite"):
        return None
    return (f"DATABASE_URL is the SQLite file {url.split(':///', 1)[-1] or url}: on a platform with a disposable "
            "disk it is lost at each deploy, and only one process may deliver; use PostgreSQL in production.")


def platforms(settings: Settings) -> str:
    """Which chat platforms this process serves, and how."""
    on = []
    if settings.slack_bot_token:
        on.append("slack (Socket Mode)" if settings.slack_app_token else "slack (/slack/events)")
    if settings.microsoft_app_id:
        on.append("teams (/api/messages)")
    elif settings.teams_local_mode:
        on.append("teams (/api/messages, local and unauthenticated)")
    return ", ".join(on) or "none (console only: set Slack or Teams credentials)"


def summary(settings: Settings, *, role: str, address: str | None, scheduler: bool) -> str:
    """The one start-up line: platforms, database (password masked), public URL, scheduler."""
    where = f" on {address}" if address else ""
    runs = "runs the scheduler" if scheduler else "runs no scheduler (run `hplj worker` beside it)"
    return (f"hplj {role}{where}: platforms {platforms(settings)}; database {masked(settings.database_url)}; "
            f"public URL {settings.public_url}; this process {runs}")


def secrets(settings: Settings) -> list[str]:
    """Every configured credential: the log scrubber replaces each wherever it would appear."""
    return [settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
            settings.microsoft_app_password, settings.dashboard_secret, settings.metrics_token, settings.xapi_key]


def port_problem(exc: OSError, host: str, port: int) -> StartupError:
    """One sentence for a port that cannot be listened on."""
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"port {port} on {host} is already in use (another hplj serve?): stop that process "
                            "or choose another port with --port or PORT.")
    if exc.errno == errno.EACCES:
        return StartupError(f"not allowed to listen on port {port} on {host}: choose a port above 1023 with --port "
                            "or PORT.")
    return StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}.")


__all__ = ["StartupError", "in_production", "platforms", "port_problem", "production_problems", "secrets",
           "sqlite_warning", "summary"]
