"""Microsoft Graph with the bot's own app registration (client credentials, application permissions).

What the bot asks Graph, and the permission each needs (admin consent, see README):

- a person by e-mail (`GET /users?$filter=mail eq .. or userPrincipalName eq ..`) and by id,
  their manager (`GET /users/{id}/manager`): `User.Read.All`
- their time zone, working days and hours and language (`GET /users/{id}/mailboxSettings`):
  `MailboxSettings.Read`
- the bot's Teams app for a person who has not installed it, and the 1:1 chat with it
  (`/users/{id}/teamwork/installedApps`): `TeamsAppInstallation.ReadWriteForUser.All`
  (and `AppCatalog.Read.All` only when the catalog id of the app is not configured)

Tokens come from MSAL (`ConfidentialClientApplication.acquire_token_for_client`, which caches
them); MSAL is synchronous, so it runs in a worker thread. Graph itself is called with aiohttp.
429 and 503/504 are retried after `Retry-After` (bounded); list answers are followed through
`@odata.nextLink`. Nothing here logs a token or a person's data.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import msal  # type: ignore[import-untyped]
import requests

log = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0/"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
RETRY_STATUSES = (429, 503, 504)
MAX_PAGES = 50  # a runaway nextLink chain stops here


class GraphError(Exception):
    """A Graph call that failed for good: `status` and Graph's error `code` say why."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"graph {status} {code}: {message}"[:300])
        self.status = status
        self.code = code


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str
    client_id: str
    client_secret: str
    graph_url: str = DEFAULT_GRAPH_URL
    authority: str = DEFAULT_AUTHORITY
    ca_file: str | None = None  # trust this CA (a proxy's, or a test's fake) instead of the system's
    max_attempts: int = 5
    max_wait: float = 60.0  # never wait longer than this for one Retry-After
    timeout: float = 20.0


class GraphClient:
    """Thin, typed access to the few Graph calls the bot makes."""

    def __init__(self, config: GraphConfig) -> None:
        self.config = config
        self.base = config.graph_url if config.graph_url.endswith("/") else config.graph_url + "/"
        root = self.base.split("/v1.0")[0].split("/beta")[0].rstrip("/")
        self.scope = f"{root}/.default"  # https://graph.microsoft.com/.default: the consented permissions
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self._session: aiohttp.ClientSession | None = None
        self._ssl: ssl.SSLContext | None = (ssl.create_default_context(cafile=config.ca_file)
                                            if config.ca_file else None)

    # ---- plumbing ----------------------------------------------------------------------------
    def _acquire(self) -> Any:
        """In a worker thread: MSAL blocks (OpenID discovery on first use, then the token request)."""
        with self._lock:
            return self._msal().acquire_token_for_client(scopes=[self.scope])

    def _msal(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            http = requests.Session()
            if self.config.ca_file:
                http.verify = self.config.ca_file
                http.trust_env = False  # else REQUESTS_CA_BUNDLE would override the CA given here
            self._app = msal.ConfidentialClientApplication(
                self.config.client_id, client_credential=self.config.client_secret,
                authority=f"{self.config.authority.rstrip('/')}/{self.config.tenant_id}",
                http_client=http, instance_discovery=False)
        return self._app

    async def _token(self) -> str:
        result = await asyncio.to_thread(self._acquire)
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            code = str((result or {}).get("error") or "no_token")
            raise GraphError(401, code, "could not get a Graph token for the bot's app registration")
        return str(token)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """One Graph call; None for 404 (absent), the JSON body (or {}) on success, GraphError else."""
        url = path if path.startswith(("https://", "http://")) else self.base + path.lstrip("/")
        for attempt in range(1, self.config.max_attempts + 1):
            headers = {"Authorization": f"Bearer {await self._token()}", "Accept": "application/json"}
            async with self._http().request(method, url, json=body, headers=headers,
                                            ssl=self._ssl if self._ssl is not None else True) as resp:
                if resp.status in RETRY_STATUSES and attempt < self.config.max_attempts:
                    wait = _retry_after(resp.headers.get("Retry-After"), attempt)
                    log.info("graph: %s, retrying in %.1fs", resp.status, min(wait, self.config.max_wait))
                    await asyncio.sleep(min(wait, self.config.max_wait))
                    continue
                data = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status == 404:
                    return None
                if resp.status >= 400:
                    err = (data or {}).get("error", {}) if isinstance(data, dict) else {}
                    raise GraphError(resp.status, str(err.get("code") or resp.reason),
                                     str(err.get("message") or ""))
                return data if isinstance(data, dict) else {}
        raise GraphError(429, "TooManyRequests", "still throttled after retries")  # pragma: no cover

    async def pages(self, path: str) -> list[dict[str, Any]]:
        """Every item of a list answer, following `@odata.nextLink`."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                break
            data = await self.request("GET", url) or {}
            items.extend(v for v in data.get("value", []) if isinstance(v, dict))
            url = data.get("@odata.nextLink") or None
        return items

    # ---- the calls -----------------------------------------------------------------------------
    USER_FIELDS = "id,displayName,mail,userPrincipalName,userType,usageLocation,preferredLanguage"

    async def user_by_email(self, email: str) -> dict[str, Any] | None:
        value = email.replace("'", "''")
        flt = quote(f"mail eq '{value}' or userPrincipalName eq '{value}'", safe="")
        found = await self.pages(f"users?$filter={flt}&$select={self.USER_FIELDS}")
        members = [u for u in found if u.get("userType") != "Guest"]
        return (members or found)[0] if found else None

    async def user(self, user_id: str) -> dict[str, Any] | None:
        return await self.request("GET", f"users/{quote(user_id, safe='')}?$select={self.USER_FIELDS}")

    async def manager(self, user_id: str) -> dict[str, Any] | None:
        return await self.request("GET", f"users/{quote(user_id, safe='')}/manager?$select={self.USER_FIELDS}")

    async def mailbox_settings(self, user_id: str) -> dict[str, Any] | None:
        """None when the person has no mailbox (a guest, an unlicensed account, on-premises)."""
        try:
            return await self.request("GET", f"users/{quote(user_id, safe='')}/mailboxSettings")
        except GraphError as exc:
            if exc.status in (400, 403) and ("Mailbox" in exc.code or exc.code == "ErrorAccessDenied"):
                return None
            raise

    async def catalog_id(self, external_id: str) -> str | None:
        flt = quote(f"externalId eq '{external_id}'", safe="")
        apps = await self.pages(f"appCatalogs/teamsApps?$filter={flt}")
        return str(apps[0]["id"]) if apps else None

    async def installation(self, user_id: str, catalog_id: str) -> str | None:
        """The id of the bot's app installation for this person, if they have it."""
        for item in await self.pages(f"users/{quote(user_id, safe='')}/teamwork/installedApps?$expand=teamsApp"):
            if (item.get("teamsApp") or {}).get("id") == catalog_id:
                return str(item["id"])
        return None

    async def install(self, user_id: str, catalog_id: str) -> None:
        bind = f"{self.base}appCatalogs/teamsApps/{catalog_id}"
        try:
            await self.request("POST", f"users/{quote(user_id, safe='')}/teamwork/installedApps",
                               {"teamsApp@odata.bind": bind})
        except GraphError as exc:
            if exc.status != 409:  # 409: installed meanwhile, which is what we wanted
                raise

    async def chat_id(self, user_id: str, installation_id: str) -> str | None:
        data = await self.request(
            "GET", f"users/{quote(user_id, safe='')}/teamwork/installedApps/{quote(installation_id, safe='')}/chat")
        return str(data["id"]) if data and data.get("id") else None


def _retry_after(raw: str | None, attempt: int) -> float:
    try:
        return max(0.0, float(raw)) if raw else float(2 ** (attempt - 1))
    except ValueError:
        return float(2 ** (attempt - 1))
