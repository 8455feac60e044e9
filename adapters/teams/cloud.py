"""Which Bot Framework cloud the Teams endpoint trusts and asks for tokens: the public cloud by
default, or the endpoints the settings name (a sovereign or private cloud, a test fake).

botbuilder reads these four values from its configuration object (`TO_BOT_FROM_CHANNEL_...`,
`TO_CHANNEL_FROM_BOT_...`) and then verifies inbound JWTs and fetches outbound tokens itself; we
only pass them on. One gap is closed here: for a login URL that is neither Microsoft's public nor
its US Government authority, the SDK's credentials build an MSAL client that first asks
login.microsoftonline.com whether the authority is known (instance discovery), which a private
cloud is not; `CloudCredentialFactory` hands out credentials whose MSAL client trusts the
configured authority as given (see docs/platform-pitfalls.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msal  # type: ignore[import-untyped]
from botframework.connector.auth import (
    AuthenticationConstants,
    GovernmentConstants,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication

PUBLIC_OAUTH_SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE


@dataclass(frozen=True)
class BotCloud:
    """Where inbound tokens' signing keys are published, who issues them, and where the bot gets
    its own tokens (for the scope the channel expects)."""

    openid_metadata_url: str
    token_issuer: str
    login_url: str
    oauth_scope: str = PUBLIC_OAUTH_SCOPE

    def sdk_configuration(self) -> dict[str, str]:
        """The names botbuilder's `ConfigurationBotFrameworkAuthentication` reads."""
        return {"TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": self.openid_metadata_url,
                "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": self.token_issuer,
                "TO_CHANNEL_FROM_BOT_LOGIN_URL": self.login_url,
                "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": self.oauth_scope or PUBLIC_OAUTH_SCOPE}


CLOUD_SETTINGS = ("MICROSOFT_BOT_OPENID_METADATA_URL", "MICROSOFT_BOT_TOKEN_ISSUER", "MICROSOFT_BOT_LOGIN_URL")


def cloud_from_settings(settings: Any) -> BotCloud | None:
    """None (the public cloud) unless the settings name the cloud's endpoints; raises ValueError
    when they name only some of them (every token would then be refused)."""
    values = [str(getattr(settings, name.lower(), "") or "").strip() for name in CLOUD_SETTINGS]
    if not any(values):
        return None
    missing = [name for name, value in zip(CLOUD_SETTINGS, values, strict=True) if not value]
    if missing:
        raise ValueError(f"{', '.join(missing)} not set: a Bot Framework cloud needs "
                         f"{', '.join(CLOUD_SETTINGS)} together (or none of them for the public cloud)")
    scope = str(getattr(settings, "microsoft_bot_oauth_scope", "") or "").strip()
    metadata, issuer, login = values
    return BotCloud(metadata, issuer, login, oauth_scope=scope or PUBLIC_OAUTH_SCOPE)


class _ConfiguredAuthorityCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """App id and password credentials whose MSAL client trusts `login_url` without asking
    Microsoft's instance discovery (built on first use: MSAL reads the authority's metadata)."""

    def __init__(self, app_id: str, password: str, oauth_scope: str, login_url: str) -> None:
        super().__init__(app_id, password, oauth_scope=oauth_scope)
        self.oauth_endpoint = login_url

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self.app is None:  # type: ignore[has-type]
            self.app = msal.ConfidentialClientApplication(
                self.microsoft_app_id, client_credential=self.microsoft_app_password,
                authority=self.oauth_endpoint, instance_discovery=False)
        return str(super().get_access_token(force_refresh))


class CloudCredentialFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """The SDK's own factory, except for a login URL outside Microsoft's public and US Government
    authorities (see the module docstring)."""

    def __init__(self, inner: ServiceClientCredentialsFactory, password: str) -> None:
        self._inner = inner
        self._password = password

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> Authentication:
        known = (AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
                 GovernmentConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX)
        endpoint = (login_endpoint or "").lower()
        if (not endpoint or endpoint.startswith(known) or await self.is_authentication_disabled()
                or not await self.is_valid_app_id(app_id)):
            inner: Authentication = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint,
                                                                         validate_authority)
            return inner
        return _ConfiguredAuthorityCredentials(app_id, self._password, oauth_scope, login_endpoint)
