"""Configuration from the environment and `.env` (names as in DESIGN.md §4)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    return f"sqlite:///{Path('hplj.db').resolve()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")
    slack_bot_token: str = Field(default="", alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str = Field(default="", alias="SLACK_SIGNING_SECRET")
    slack_app_token: str = Field(default="", alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
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
    min_group_size: int = Field(default=5, alias="HPLJ_MIN_GROUP")
    # Delivery: rate limits (defaults = the platforms' published limits) and the outbox worker.
    slack_rate_per_channel: float = Field(default=1.0, gt=0, alias="HPLJ_SLACK_RATE_PER_CHANNEL")
    slack_workspace_per_minute: int = Field(default=300, ge=1, alias="HPLJ_SLACK_WORKSPACE_PER_MINUTE")
    teams_rate_per_conversation: int = Field(default=7, ge=1, alias="HPLJ_TEAMS_RATE_PER_CONVERSATION")
    teams_tenant_per_second: int = Field(default=30, ge=1, alias="HPLJ_TEAMS_TENANT_PER_SECOND")
    delivery_processes: int = Field(default=1, ge=1, alias="HPLJ_DELIVERY_PROCESSES")
    delivery_concurrency: int = Field(default=16, ge=1, alias="HPLJ_DELIVERY_CONCURRENCY")
    delivery_lease_seconds: float = Field(default=60.0, ge=5, alias="HPLJ_DELIVERY_LEASE_SECONDS")

    def admin_ids(self) -> set[str]:
        """Bootstrap admins: platform user ids or e-mails, comma or space separated."""
        return {x.strip() for x in self.hplj_admins.replace(",", " ").split() if x.strip()}
