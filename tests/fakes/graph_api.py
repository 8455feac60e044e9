"""A local fake of Microsoft Graph and of the Microsoft identity platform's token endpoint.

Served over HTTPS on 127.0.0.1 with a throw-away self-signed certificate (MSAL only accepts an
https authority); `ssl_context()` trusts it for aiohttp and `ca_file` for requests/MSAL.

Identity platform (client credentials, what MSAL's ConfidentialClientApplication speaks):

- `GET /{tenant}/v2.0/.well-known/openid-configuration` -> issuer and endpoints
- `POST /{tenant}/oauth2/v2.0/token` (form: grant_type=client_credentials, client_id,
  client_secret, scope) -> `{"token_type": "Bearer", "access_token": ..., "expires_in": 3599}`;
  a wrong secret -> 401 `invalid_client`

Graph v1.0 (every call needs `Authorization: Bearer <a token issued here>`, else 401
`InvalidAuthenticationToken`):

- `GET /v1.0/users?$filter=mail eq '..' or userPrincipalName eq '..'` -> `{"value": [...]}`
- `GET /v1.0/users/{id or upn}`, `GET /v1.0/users/{id}/manager` -> a user, or 404
  `Request_ResourceNotFound` (no manager: the same 404, as Graph answers)
- `GET /v1.0/users/{id}/mailboxSettings` -> timeZone (a Windows name), workingHours
  (daysOfWeek, startTime, endTime, timeZone.name), language.locale; a user without a mailbox
  (and a guest) -> 404 `MailboxNotEnabledForRESTAPI`
- `GET /v1.0/appCatalogs/teamsApps?$filter=externalId eq '..'` -> the org catalog's entry
- `GET /v1.0/users/{id}/teamwork/installedApps?$expand=teamsApp` -> the user's apps, paged
  (`page_size` per page, `@odata.nextLink` to the next)
- `POST /v1.0/users/{id}/teamwork/installedApps` with `teamsApp@odata.bind` -> 201; already
  installed -> 409 `Conflict`; an app id not in the catalog -> 404
- `GET /v1.0/users/{id}/teamwork/installedApps/{installation id}/chat` -> `{"id": "19:..."}`

Throttling: `throttle(n, retry_after)` answers the next n Graph calls 429 `TooManyRequests` with
a `Retry-After` header. Every Graph call is recorded in `calls` as (method, path with query).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import re
import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fakes.server import LocalServer

TENANT = "contoso-tenant-0000-0000-000000000001"
CLIENT_ID = "5b6c7d8e-2222-4b4b-8c8c-000000000abc"
CLIENT_SECRET = "fake-secret-not-real"
APP_EXTERNAL_ID = CLIENT_ID  # the Teams app manifest's id (the bot's app id in our manifest)
APP_CATALOG_ID = "cat-0000-hplj"  # the id the org's app catalog gave the uploaded app

_FILTER_VALUE = re.compile(r"'((?:[^']|'')*)'")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "graph-fake.pem", folder / "graph-fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class HttpsServer(LocalServer):
    """A fake served over HTTPS with a throw-away self-signed certificate (`ca_file` trusts it)."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-https-")
        self.ca_file, self._key_file = _self_signed(Path(self._tmp.name))

    def server_ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.ca_file, self._key_file)
        return ctx

    async def stop(self) -> None:
        await super().stop()
        self._tmp.cleanup()

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


class FakeGraph(HttpsServer):
    def __init__(self, *, tenant: str = TENANT, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 page_size: int = 2) -> None:
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.page_size = page_size
        self.users: dict[str, dict[str, Any]] = {}  # by object id
        self.manager_of: dict[str, str] = {}
        self.mailboxes: dict[str, dict[str, Any]] = {}
        self.installed: dict[str, list[dict[str, Any]]] = {}
        self.catalog = {APP_CATALOG_ID: {"id": APP_CATALOG_ID, "externalId": APP_EXTERNAL_ID,
                                         "displayName": "HPLJ Coach"}}
        self.calls: list[tuple[str, str]] = []
        self.tokens: set[str] = set()
        self.token_requests = 0
        self._throttle: list[float] = []
        self._ids = itertools.count(1)
        super().__init__()

    # ---- directory content -----------------------------------------------------------------
    def add_user(self, uid: str, name: str, mail: str | None, *, upn: str | None = None, guest: bool = False,
                 manager: str | None = None, usage_location: str | None = None,
                 mailbox: dict[str, Any] | None = None) -> dict[str, Any]:
        upn = upn or (f"{mail.split('@')[0]}_{mail.split('@')[1]}#EXT#@contoso.onmicrosoft.com" if guest and mail
                      else mail or f"{uid}@contoso.onmicrosoft.com")
        user = {"id": uid, "displayName": name, "mail": mail, "userPrincipalName": upn,
                "userType": "Guest" if guest else "Member", "usageLocation": usage_location,
                "preferredLanguage": None}
        self.users[uid] = user
        if manager:
            self.manager_of[uid] = manager
        if mailbox is not None and not guest:
            self.mailboxes[uid] = mailbox
        self.installed.setdefault(uid, [
            {"id": f"inst-{uid}-other-{i}", "teamsApp": {"id": f"cat-other-{i}", "externalId": f"ext-other-{i}",
                                                         "displayName": f"Other app {i}"}}
            for i in range(3)])  # a few apps everyone has: the bot's is found by paging past them
        return user

    @staticmethod
    def mailbox(tz: str, days: list[str], start: str, end: str, locale: str = "en-US",
                hours_tz: str | None = None) -> dict[str, Any]:
        """mailboxSettings as Graph returns them (Windows time-zone names, HH:MM:SS.fffffff)."""
        return {"timeZone": tz, "language": {"locale": locale, "displayName": locale},
                "workingHours": {"daysOfWeek": days, "startTime": f"{start}:00.0000000",
                                 "endTime": f"{end}:00.0000000", "timeZone": {"name": hours_tz or tz}}}

    def throttle(self, n: int = 1, retry_after: float = 1.0) -> None:
        self._throttle.extend([retry_after] * n)

    def has_app(self, uid: str) -> bool:
        return any(a["teamsApp"]["id"] == APP_CATALOG_ID for a in self.installed.get(uid, []))

    def graph_calls(self, fragment: str) -> list[tuple[str, str]]:
        return [c for c in self.calls if fragment in c[1]]

    # ---- lifecycle -------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/v1.0/{path:.*}", self._graph)
        return app

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0/"

    @property
    def authority(self) -> str:
        return self.base

    # ---- identity platform -----------------------------------------------------------------
    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.tenant:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        root = f"{self.base}/{tenant}"
        return web.json_response({"issuer": f"{root}/v2.0", "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                                  "token_endpoint": f"{root}/oauth2/v2.0/token", "jwks_uri": f"{root}/keys"})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.token_requests += 1
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret):
            return web.json_response({"error": "invalid_client", "error_description": "AADSTS7000215"},
                                     status=401)
        if not str(form.get("scope", "")).endswith("/.default"):
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = f"fake-graph-token-{next(self._ids)}"
        self.tokens.add(token)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                  "access_token": token})

    # ---- Graph -----------------------------------------------------------------------------
    async def _graph(self, request: web.Request) -> web.StreamResponse:
        self.calls.append((request.method, request.path_qs))
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        if self._throttle:
            wait = self._throttle.pop(0)
            return _error(429, "TooManyRequests", "Too many requests.", {"Retry-After": f"{wait:g}"})
        parts = [p for p in request.match_info["path"].split("/") if p]
        if parts == ["appCatalogs", "teamsApps"]:
            wanted = {v.replace("''", "'") for v in _FILTER_VALUE.findall(request.query.get("$filter", ""))}
            return self._page(request, [a for a in self.catalog.values() if a["externalId"] in wanted])
        if not parts or parts[0] != "users":
            return _error(400, "BadRequest", "Unsupported in the fake.")
        if len(parts) == 1:
            return self._find_users(request)
        user = self._user(parts[1])
        if user is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{parts[1]}' does not exist.")
        rest = parts[2:]
        if not rest:
            return web.json_response(user)
        if rest == ["manager"]:
            manager = self.users.get(self.manager_of.get(user["id"], ""))
            if manager is None:
                return _error(404, "Request_ResourceNotFound", "Resource 'manager' does not exist.")
            return web.json_response(manager)
        if rest == ["mailboxSettings"]:
            box = self.mailboxes.get(user["id"])
            if box is None:
                return _error(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, "
                                                                  "or is hosted on-premise.")
            return web.json_response(box)
        if rest[:2] == ["teamwork", "installedApps"]:
            return await self._installed_apps(request, user, rest[2:])
        return _error(400, "BadRequest", "Unsupported in the fake.")

    def _user(self, key: str) -> dict[str, Any] | None:
        if key in self.users:
            return self.users[key]
        low = key.lower()
        return next((u for u in self.users.values() if (u["userPrincipalName"] or "").lower() == low), None)

    def _find_users(self, request: web.Request) -> web.Response:
        flt = request.query.get("$filter", "")
        wanted = {v.replace("''", "'").lower() for v in _FILTER_VALUE.findall(flt)}
        found = [u for u in self.users.values()
                 if (u["mail"] or "").lower() in wanted or (u["userPrincipalName"] or "").lower() in wanted]
        return self._page(request, found)

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        skip = int(request.query.get("$skiptoken", "0") or 0)
        page = items[skip:skip + self.page_size]
        body: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(items):
            query = [(k, v) for k, v in request.query.items() if k != "$skiptoken"]
            query.append(("$skiptoken", str(skip + self.page_size)))
            qs = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in query)
            body["@odata.nextLink"] = f"{self.base}{request.path}?{qs}"
        return web.json_response(body)

    async def _installed_apps(self, request: web.Request, user: dict[str, Any], rest: list[str]) -> web.Response:
        apps = self.installed.setdefault(user["id"], [])
        if not rest and request.method == "GET":
            return self._page(request, apps)
        if not rest and request.method == "POST":
            body = await request.json()
            bind = str(body.get("teamsApp@odata.bind", ""))
            catalog_id = bind.rstrip("/").rsplit("/", 1)[-1]
            if catalog_id not in self.catalog:
                return _error(404, "NotFound", f"App {catalog_id} is not in the catalog.")
            if self.has_app(user["id"]):
                return _error(409, "Conflict", "The app is already installed for this user.")
            apps.append({"id": f"inst-{user['id']}-hplj", "teamsApp": dict(self.catalog[catalog_id])})
            return web.Response(status=201)
        if len(rest) == 2 and rest[1] == "chat" and request.method == "GET":
            if not any(a["id"] == rest[0] for a in apps):
                return _error(404, "NotFound", "No such installation.")
            return web.json_response({"id": f"19:{user['id']}_{self.client_id}@unq.gbl.spaces",
                                      "chatType": "oneOnOne"})
        return _error(400, "BadRequest", "Unsupported in the fake.")
