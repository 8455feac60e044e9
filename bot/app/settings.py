"""Configuration from the environment and `.env` (README.md, "Configuration", lists every name)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.ackfirst import DEFAULT_BACKLOG
from journeys.evaluation.success_case import MIN_GROUP


def default_database_url() -> str:
    return f"sqlite:///{Path('hplj.db').resolve()}"


def _one_of(*choices: str) -> BeforeValidator:
    """Accept any case; a value that is none of `choices` is left as typed for the error message."""
    def pick(value: Any) -> Any:
        if isinstance(value, str):
            for choice in choices:
                if value.strip().lower() == choice.lower():
                    return choice
        return value

    return BeforeValidator(pick)


LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                     _one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")]
LogFormat = Annotated[Literal["text", "json"], _one_of("text", "json")]


class Settings(BaseSettings):
    # `VAR=` (as deployment tools write an unset variable) means "not set": the default applies
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")
    slack_bot_token: str = Field(default="", alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str = Field(default="", alias="SLACK_SIGNING_SECRET")
    slack_app_token: str = Field(default="", alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # Slack requests answered whose work may wait in memory (a burst); when full, answers wait too
    slack_backlog: int = Field(default=DEFAULT_BACKLOG, ge=1, alias="HPLJ_SLACK_BACKLOG")
    # ids of the workspace's custom profile fields holding directory facts (empty: not used)
    slack_field_manager: str = Field(default="", alias="HPLJ_SLACK_FIELD_MANAGER")
    slack_field_working_hours: str = Field(default="", alias="HPLJ_SLACK_FIELD_WORKING_HOURS")
    slack_field_working_days: str = Field(default="", alias="HPLJ_SLACK_FIELD_WORKING_DAYS")
    slack_field_country: str = Field(default="", alias="HPLJ_SLACK_FIELD_COUNTRY")
    microsoft_app_id: str = Field(default="", alias="MICROSOFT_APP_ID")
    microsoft_app_password: str = Field(default="", alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str = Field(default="", alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str = Field(default="MultiTenant", alias="MICROSOFT_APP_TYPE")
    teams_local_mode: bool = Field(default=False, alias="HPLJ_TEAMS_LOCAL")
    # a Bot Framework cloud other than the public one (all three, or none); see adapters/teams/cloud.py
    microsoft_bot_openid_metadata_url: str = Field(default="", alias="MICROSOFT_BOT_OPENID_METADATA_URL")
    microsoft_bot_token_issuer: str = Field(default="", alias="MICROSOFT_BOT_TOKEN_ISSUER")
    microsoft_bot_login_url: str = Field(default="", alias="MICROSOFT_BOT_LOGIN_URL")
    microsoft_bot_oauth_scope: str = Field(default="", alias="MICROSOFT_BOT_OAUTH_SCOPE")
    # Microsoft Graph with the bot's app registration (app id, password, tenant id above)
    microsoft_graph_url: str = Field(default="https://graph.microsoft.com/v1.0/", alias="MICROSOFT_GRAPH_URL")
    microsoft_graph_authority: str = Field(default="https://login.microsoftonline.com",
                                           alias="MICROSOFT_GRAPH_AUTHORITY")
    microsoft_graph_ca_bundle: str = Field(default="", alias="MICROSOFT_GRAPH_CA_BUNDLE")
    teams_graph: bool = Field(default=True, alias="HPLJ_TEAMS_GRAPH")
    teams_service_url: str = Field(default="https://smba.trafficmanager.net/teams/", alias="HPLJ_TEAMS_SERVICE_URL")
    teams_app_catalog_id: str = Field(default="", alias="HPLJ_TEAMS_APP_CATALOG_ID")
    hplj_admins: str = Field(default="", alias="HPLJ_ADMINS")
    port: int = Field(default=3978, alias="PORT")
    journeys_dir: str = Field(default="", alias="HPLJ_JOURNEYS")
    default_timezone: str = Field(default="UTC", alias="HPLJ_DEFAULT_TZ")
    tick_seconds: float = Field(default=30.0, alias="HPLJ_TICK_SECONDS")
    dashboard_secret: str = Field(default="", alias="HPLJ_DASHBOARD_SECRET")
    public_url: str = Field(default="http://localhost:3978", alias="HPLJ_PUBLIC_URL")
    min_group_size: int = Field(default=MIN_GROUP, alias="HPLJ_MIN_GROUP")
    # the /privacy and /terms pages the Teams manifest links to: the text, or @path to a file
    privacy_text: str = Field(default="", alias="HPLJ_PRIVACY_TEXT")
    terms_text: str = Field(default="", alias="HPLJ_TERMS_TEXT")
    # xAPI export (docs/exports.md): actors are keyed pseudonyms unless HPLJ_XAPI_IDENTIFY=1
    xapi_identify: bool = Field(default=False, alias="HPLJ_XAPI_IDENTIFY")
    xapi_key: str = Field(default="", alias="HPLJ_XAPI_KEY")
    # Delivery: rate limits (defaults = the platforms' published limits) and the outbox worker.
    slack_rate_per_channel: float = Field(default=1.0, gt=0, alias="HPLJ_SLACK_RATE_PER_CHANNEL")
    slack_workspace_per_minute: int = Field(default=300, ge=1, alias="HPLJ_SLACK_WORKSPACE_PER_MINUTE")
    teams_rate_per_conversation: int = Field(default=7, ge=1, alias="HPLJ_TEAMS_RATE_PER_CONVERSATION")
    teams_tenant_per_second: int = Field(default=30, ge=1, alias="HPLJ_TEAMS_TENANT_PER_SECOND")
    delivery_processes: int = Field(default=1, ge=1, alias="HPLJ_DELIVERY_PROCESSES")
    delivery_concurrency: int = Field(default=16, ge=1, alias="HPLJ_DELIVERY_CONCURRENCY")
    delivery_lease_seconds: float = Field(default=60.0, ge=5, alias="HPLJ_DELIVERY_LEASE_SECONDS")
    # After an uninstall or a revoked token, the data of those it cut off is purged this late (bot/services/access.py).
    uninstall_grace_days: float = Field(default=30.0, ge=0, alias="HPLJ_UNINSTALL_GRACE_DAYS")
    # Operations (bot/app/logs.py, bot/app/metrics.py): hplj's log level and format; /metrics's bearer
    # token (empty: open); the port `hplj worker` serves /metrics and /readyz on (0: none).
    log_level: LogLevel = Field(default="INFO", alias="LOG_LEVEL")
    log_format: LogFormat = Field(default="text", alias="HPLJ_LOG_FORMAT")
    metrics_token: str = Field(default="", alias="HPLJ_METRICS_TOKEN")
    metrics_port: int = Field(default=0, ge=0, le=65535, alias="HPLJ_METRICS_PORT")
    # Who may connect, and for how long (SECURITY.md): Teams tenants, HTTP timeouts, a connection cap.
    microsoft_allowed_tenants: str = Field(default="", alias="MICROSOFT_ALLOWED_TENANTS")
    http_header_timeout: float = Field(default=30.0, gt=0, alias="HPLJ_HTTP_HEADER_TIMEOUT")
    http_body_timeout: float = Field(default=60.0, gt=0, alias="HPLJ_HTTP_BODY_TIMEOUT")
    http_keepalive_timeout: float = Field(default=30.0, gt=0, alias="HPLJ_HTTP_KEEPALIVE_TIMEOUT")
    http_max_connections: int = Field(default=512, ge=1, alias="HPLJ_HTTP_MAX_CONNECTIONS")

    def admin_ids(self) -> set[str]:
        """Bootstrap admins: platform user ids or e-mails, comma or space separated."""
        return {x.strip() for x in self.hplj_admins.replace(",", " ").split() if x.strip()}


class ConfigError(Exception):
    """A configuration the service cannot run with, said in one sentence naming the variable."""


_ACCEPTS = {
    "bool_parsing": "1 or 0 (also true/false, yes/no, on/off)",
    "bool_type": "1 or 0 (also true/false, yes/no, on/off)",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
}


def _accepts(error: Any) -> str:
    ctx = error.get("ctx") or {}
    for key, words in (("gt", "greater than"), ("ge", "at least"), ("lt", "less than"), ("le", "at most")):
        if key in ctx:
            return f"a number {words} {ctx[key]}"
    return _ACCEPTS.get(str(error.get("type", "")),
                        str(error.get("msg", "a valid value")).removeprefix("Input should be "))


def load_settings() -> Settings:
    """The settings from the environment and `.env`; raises ConfigError with one sentence per
    bad variable (never pydantic's screen of text)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        sentences = []
        for error in exc.errors():
            name = ".".join(str(x) for x in error.get("loc", ())) or "a setting"
            sentences.append(f"{name}={str(error.get('input'))!r} is not valid: expected {_accepts(error)}.")
        raise ConfigError(" ".join(sentences)) from None
    cloud = {"MICROSOFT_BOT_OPENID_METADATA_URL": settings.microsoft_bot_openid_metadata_url,
             "MICROSOFT_BOT_TOKEN_ISSUER": settings.microsoft_bot_token_issuer,
             "MICROSOFT_BOT_LOGIN_URL": settings.microsoft_bot_login_url}
    missing = [name for name, value in cloud.items() if not value.strip()]
    if 0 < len(missing) < len(cloud):  # half a Bot Framework cloud: every Teams request would be refused
        raise ConfigError(f"{', '.join(missing)} not set: {', '.join(cloud)} go together (a Bot Framework "
                          "cloud other than the public one), or leave all of them empty.")
    return settings


def serve_problem(settings: Settings) -> str | None:
    """Why `hplj serve` must not start with these settings (one sentence), or None."""
    if settings.slack_signing_secret and not settings.slack_signing_secret.strip():
        return ("SLACK_SIGNING_SECRET is only blanks: set it to the app's Signing Secret (Basic Information in "
                "the Slack app settings), or leave it empty.")
    slack_http = settings.slack_bot_token and not settings.slack_app_token
    if slack_http and not settings.slack_signing_secret:
        return ("SLACK_SIGNING_SECRET is not set: with SLACK_BOT_TOKEN the Slack endpoint /slack/events cannot "
                "verify requests, so hplj serve refuses to start (set it to the app's Signing Secret, or set "
                "SLACK_APP_TOKEN for Socket Mode).")
    if settings.slack_signing_secret and not settings.slack_bot_token:
        return ("SLACK_BOT_TOKEN is not set: SLACK_SIGNING_SECRET alone cannot answer Slack (set it to the "
                "Bot User OAuth Token, xoxb-...).")
    if settings.slack_app_token and not settings.slack_bot_token:
        return "SLACK_BOT_TOKEN is not set: SLACK_APP_TOKEN (Socket Mode) needs the Bot User OAuth Token too."
    return None
