"""A local fake of the Bot Framework's token service, both directions, over HTTPS (MSAL accepts
only an https authority; `ca_file` is the throw-away certificate to trust).

Channel -> bot (what the bot verifies with botbuilder's own JWT validation):

- `GET /v1/.well-known/openidconfiguration` -> `{"issuer", "jwks_uri", ...}`
- `GET /v1/keys` -> the JWKS: one RSA key, endorsed for the `msteams` channel
- `sign(service_url)` -> an `Authorization` header value as the channel sends it: a JWT signed
  RS256 with that key, `iss` = `ISSUER`, `aud` = the bot's app id, the `serviceurl` claim, five
  minutes of validity; `sign(..., stranger=True)` signs with a key the JWKS does not publish.

Bot -> channel (client credentials, what MSAL's ConfidentialClientApplication speaks):

- `GET /botframework.com/v2.0/.well-known/openid-configuration` -> the token endpoint
- `POST /botframework.com/oauth2/v2.0/token` (form: client_id, client_secret,
  scope=https://api.botframework.com/.default) -> a bearer token; a wrong secret -> 401
  `invalid_client`. Issued tokens are in `tokens`; `issued(header)` tells a connector fake whether
  a request carried one.

Usage: point `MICROSOFT_BOT_OPENID_METADATA_URL` at `metadata_url`, `MICROSOFT_BOT_TOKEN_ISSUER`
at `ISSUER`, `MICROSOFT_BOT_LOGIN_URL` at `login_url`, and trust `ca_file`.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.graph_api import CLIENT_ID, CLIENT_SECRET, HttpsServer

ISSUER = "https://api.botframework.com"
TENANT = "botframework.com"
KEY_ID = "fake-bf-signing-key"


class FakeBotFrameworkAuth(HttpsServer):
    def __init__(self, *, app_id: str = CLIENT_ID, app_password: str = CLIENT_SECRET,
                 channel: str = "msteams") -> None:
        self.app_id, self.app_password, self.channel = app_id, app_password, channel
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tokens: set[str] = set()
        self.scopes: list[str] = []  # the scope of every token request, granted or not
        self.metadata_reads = 0
        self._ids = itertools.count(1)
        super().__init__()

    # ---- lifecycle -------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        app.router.add_get(f"/{TENANT}/v2.0/.well-known/openid-configuration", self._login_metadata)
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self._token)
        return app

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return f"{self.base}/{TENANT}"

    def settings(self) -> dict[str, str]:
        """The environment a bot process needs to trust this fake (the documented settings)."""
        return {"MICROSOFT_BOT_OPENID_METADATA_URL": self.metadata_url, "MICROSOFT_BOT_TOKEN_ISSUER": ISSUER,
                "MICROSOFT_BOT_LOGIN_URL": self.login_url, "REQUESTS_CA_BUNDLE": str(self.ca_file)}

    # ---- channel -> bot ----------------------------------------------------------------------
    def sign(self, service_url: str, *, stranger: bool = False, audience: str | None = None) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience or self.app_id, "serviceurl": service_url,
                  "nbf": now - 5, "exp": now + 300}
        token = jwt.encode(claims, self._stranger if stranger else self._key, algorithm="RS256",
                           headers={"kid": KEY_ID})
        return f"Bearer {token}"

    async def _metadata(self, _request: web.Request) -> web.Response:
        self.metadata_reads += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.base}/v1/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"],
                                  "token_endpoint_auth_methods_supported": ["private_key_jwt"]})

    async def _keys(self, _request: web.Request) -> web.Response:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": KEY_ID, "use": "sig", "endorsements": [self.channel]})
        return web.json_response({"keys": [jwk]})

    # ---- bot -> channel ----------------------------------------------------------------------
    def issued(self, authorization: str | None) -> bool:
        return bool(authorization) and str(authorization).removeprefix("Bearer ") in self.tokens

    async def _login_metadata(self, _request: web.Request) -> web.Response:
        root = f"{self.base}/{TENANT}"
        return web.json_response({"issuer": f"{root}/v2.0", "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{root}/oauth2/v2.0/token", "jwks_uri": f"{root}/keys"})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.scopes.append(str(form.get("scope", "")))
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != self.app_id
                or form.get("client_secret") != self.app_password):
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215"}, status=401)
        token = f"fake-bf-token-{next(self._ids)}"
        self.tokens.add(token)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                  "access_token": token})
