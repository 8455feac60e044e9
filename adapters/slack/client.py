"""`SlackChat`: the outbound `ChatPort` for Slack, on slack_sdk's `AsyncWebClient`.

The client's default retry handlers are removed (docs/platform-pitfalls.md): slack_sdk would silently repeat a
`chat.postMessage` after a dropped connection and post it twice. Every failure is instead
classified as a `DeliveryError` and the delivery worker decides; an in-doubt send is found
again through the message metadata (`find_delivery`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import fallback_text, fits, render_blocks
from journeys.directory import DirectoryEntry, parse_days, parse_hours
from journeys.messages import Message
from ports.chat import Address, Capabilities, DeliveryError, Profile, SentRef

DEFAULT_API_URL = "https://slack.com/api/"
MAX_CHAIN = 12  # managers followed upward through profile fields
METADATA_EVENT_TYPE = "hplj_delivery"

# Web API methods SlackChat and the inbound app call (the manifest's scopes must cover them).
WEB_API_METHODS = (
    "auth.test",
    "conversations.open",
    "conversations.history",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "users.info",
    "users.lookupByEmail",
    "users.profile.get",
    "views.open",
    "views.publish",
    "files.getUploadURLExternal",  # adapters/slack/files.py: reports as files
    "files.completeUploadExternal",
)

# Slack `error` codes that will never succeed on retry.
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "user_disabled",
        "user_not_visible",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "cannot_dm_bot",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "team_access_not_granted",
        "ekm_access_denied",
        "org_login_required",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
    }
)
# Slack says "it's possible some aspect of the operation succeeded".
IN_DOUBT_ERRORS = frozenset({"internal_error", "fatal_error"})
RETRY_ERRORS = frozenset({"service_unavailable", "request_timeout"})


def normalize_api_url(api_url: str | None) -> str:
    url = (api_url or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"


def make_web_client(token: str, api_url: str | None = None, timeout: int = 15) -> AsyncWebClient:
    """An AsyncWebClient on `api_url` that never retries on its own."""
    client = AsyncWebClient(
        token=token, base_url=normalize_api_url(api_url), timeout=timeout, retry_handlers=[]
    )
    client.retry_handlers.clear()  # belt and braces: default handlers must stay off
    return client


def _retry_after(headers: Any, default: float = 1.0) -> float:
    try:
        raw = headers.get("Retry-After") if headers is not None else None
        return max(0.0, float(raw)) if raw is not None else default
    except (TypeError, ValueError):
        return default


def classify_error(exc: BaseException, *, sent: bool = True) -> DeliveryError:
    """A `DeliveryError` for a failed Web API call.

    `sent` says the request may have reached Slack (connection dropped after writing): such
    failures are `in_doubt`; a call that is naturally idempotent can pass sent=False.
    """
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, SlackApiError):
        resp = exc.response
        status = getattr(resp, "status_code", None) or getattr(resp, "status", None) or 0
        data = getattr(resp, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        headers = getattr(resp, "headers", None)
        if status == 429 or error == "ratelimited":
            return DeliveryError("rate_limited", error or "http_429", _retry_after(headers))
        if error in PERMANENT_ERRORS:
            return DeliveryError("permanent", error)
        if error in IN_DOUBT_ERRORS:
            return DeliveryError("in_doubt" if sent else "retry", error)
        if error in RETRY_ERRORS:
            return DeliveryError("retry", error)
        if status in (502, 504):  # a proxy gave up: the request may have been processed
            return DeliveryError("in_doubt" if sent else "retry", f"http_{status}")
        if status >= 500 or status == 408:
            return DeliveryError("retry", error or f"http_{status}")
        if error:  # any other Slack error is about the request itself; repeating won't help
            return DeliveryError("permanent", error)
        return DeliveryError("retry", f"http_{status}")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return DeliveryError("in_doubt" if sent else "retry", "timeout")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError("retry", f"connect: {exc}")  # never reached Slack
    if isinstance(exc, (aiohttp.ClientError, ConnectionError, OSError)):
        return DeliveryError("in_doubt" if sent else "retry", f"connection: {type(exc).__name__}")
    if isinstance(exc, SlackClientError):
        return DeliveryError("retry", str(exc))
    return DeliveryError("in_doubt" if sent else "retry", f"{type(exc).__name__}: {exc}")


class SlackChat:
    """`ChatPort` for Slack."""

    platform = "slack"
    # (prompts carry no files; an admin's report arrives as a Slack file: adapters/slack/files.py)
    capabilities: Capabilities

    def __init__(
        self,
        token: str,
        *,
        api_url: str | None = None,
        client: AsyncWebClient | None = None,
        profile_ttl: float = 6 * 3600,
        history_limit: int = 200,
        clock: Callable[[], float] = time.monotonic,
        fields: SlackFields | None = None,
    ) -> None:
        self.fields = fields
        self.capabilities = Capabilities(update_in_place=True, reconcile=True,
                                         directory="slack" if fields is not None and fields.any() else None)
        self.client = client or make_web_client(token, api_url)
        self.client.retry_handlers.clear()
        self._profile_ttl = profile_ttl
        self._history_limit = history_limit
        self._clock = clock
        self._dm_cache: dict[str, str] = {}
        self._profiles: dict[str, tuple[float, Profile]] = {}

    async def _call(self, method: str, *, sent: bool = True, **kwargs: Any) -> Any:
        """Call the typed slack_sdk method (`chat.postMessage` -> `chat_postMessage`), which
        picks the encoding Slack expects (JSON for chat.*, form/GET for the rest)."""
        fn = getattr(self.client, method.replace(".", "_"))
        try:
            return await fn(**kwargs)
        except Exception as exc:
            raise classify_error(exc, sent=sent) from exc

    async def open_dm(self, user_id: str, *, address: Address | None = None) -> str:
        cached = self._dm_cache.get(user_id)
        if cached:
            return cached
        resp = await self._call("conversations.open", sent=False, users=user_id)
        channel = str(resp["channel"]["id"])
        self._dm_cache[user_id] = channel
        return channel

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        payload: dict[str, Any] = {"delivery_id": delivery_id}
        if message.prompt_id:
            payload["prompt_id"] = message.prompt_id
        resp = await self._call(
            "chat.postMessage",
            channel=conversation_id,
            text=fallback_text(message),
            blocks=render_blocks(message),
            metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": payload},
            unfurl_links=False,
            unfurl_media=False,
        )
        return SentRef(
            conversation_id=resp.get("channel") or conversation_id, message_id=resp["ts"]
        )

    async def update(self, ref: SentRef, message: Message, *, address: Address | None = None) -> None:
        await self._call(
            "chat.update",
            sent=False,  # idempotent: repeating the same update is harmless
            channel=ref.conversation_id,
            ts=ref.message_id,
            text=fallback_text(message),
            blocks=render_blocks(message),
        )

    async def find_delivery(self, conversation_id: str, delivery_id: str) -> SentRef | None:
        """Scan the latest `history_limit` messages of the DM for our metadata."""
        msg = await find_message_by_metadata(
            self.client, conversation_id, "delivery_id", delivery_id, limit=self._history_limit
        )
        return SentRef(conversation_id, msg["ts"]) if msg else None

    async def resolve_profile(self, user_id: str) -> Profile:
        now = self._clock()
        hit = self._profiles.get(user_id)
        if hit and hit[0] > now:
            return hit[1]
        resp = await self._call("users.info", sent=False, user=user_id)
        profile = profile_from_user(resp["user"])
        self._profiles[user_id] = (now + self._profile_ttl, profile)
        return profile

    async def find_user_by_email(self, email: str) -> Profile | None:
        try:
            resp = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            if isinstance(data, dict) and data.get("error") in (
                "users_not_found",
                "user_not_found",
            ):
                return None
            raise classify_error(exc, sent=False) from exc
        except Exception as exc:
            raise classify_error(exc, sent=False) from exc
        profile = profile_from_user(resp["user"])
        self._profiles[profile.user_id] = (self._clock() + self._profile_ttl, profile)
        return profile

    def fits(self, message: Message) -> bool:
        return fits(message)

    def forget_profile(self, user_id: str) -> None:
        self._profiles.pop(user_id, None)

    # ---- directory (ChatPort.directory_entries) ----------------------------------------------

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        """The person and their managers from the workspace's custom profile fields (the field ids
        are configured: workspaces name their fields freely); nothing when none are configured."""
        if self.fields is None or not self.fields.any():
            return []
        out: list[DirectoryEntry] = []
        seen: set[str] = set()
        next_email: str | None = email.lower()
        while next_email and next_email not in seen and len(out) < MAX_CHAIN:
            seen.add(next_email)
            entry = await self._directory_entry(next_email)
            if entry is None:
                break
            out.append(entry)
            next_email = entry.manager_email
        return out

    async def _directory_entry(self, email: str) -> DirectoryEntry | None:
        found = await self.find_user_by_email(email)
        if found is None:
            return None
        resp = await self._call("users.profile.get", sent=False, user=found.user_id)
        values = {k: str((v or {}).get("value") or "").strip()
                  for k, v in ((resp.get("profile") or {}).get("fields") or {}).items()}
        f = self.fields
        assert f is not None

        def field(field_id: str) -> str:
            return values.get(field_id, "") if field_id else ""

        manager = field(f.manager)
        manager_email: str | None = None
        if "@" in manager:
            manager_email = manager.lower()
        elif manager:
            try:
                manager_email = (await self.resolve_profile(manager.strip("<@>").split("|")[0])).email
            except DeliveryError:
                manager_email = None
        try:
            hours = parse_hours(field(f.working_hours)) or (None, None)
        except ValueError:
            hours = (None, None)
        try:
            days = parse_days(field(f.working_days))
        except ValueError:
            days = None
        country = field(f.country).upper() or None
        return DirectoryEntry(email=email, name=found.name, manager_email=manager_email,
                              country=country if country and len(country) == 2 else None, tz=found.tz,
                              work_days=days, work_start=hours[0], work_end=hours[1],
                              external_id=found.user_id)


@dataclass(frozen=True)
class SlackFields:
    """Ids of the workspace's custom profile fields (Xf0...) that hold directory facts."""

    manager: str = ""  # a user field (its value is a user id) or text holding an e-mail
    working_hours: str = ""  # text like "09:00-17:30"
    working_days: str = ""  # text like "mon tue wed thu"
    country: str = ""  # ISO 3166 alpha-2, for public holidays

    def any(self) -> bool:
        return bool(self.manager or self.working_hours or self.working_days or self.country)


def profile_from_user(user: dict[str, Any]) -> Profile:
    prof = user.get("profile") or {}
    name = (
        prof.get("display_name")
        or prof.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id", "")
    )
    return Profile(
        user_id=user["id"],
        name=name,
        email=prof.get("email") or None,
        tz=user.get("tz") or None,
    )


async def find_message_by_metadata(
    client: AsyncWebClient,
    channel: str,
    key: str,
    value: str,
    *,
    limit: int = 200,
    page_size: int = 100,
) -> dict[str, Any] | None:
    """The newest message in `channel` (within the last `limit`) whose hplj metadata has
    `event_payload[key] == value`. Raises `DeliveryError` when the history can't be read, so an
    unknown answer is never mistaken for "not sent"."""
    cursor: str | None = None
    seen = 0
    while seen < limit:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "limit": min(page_size, limit - seen),
            "include_all_metadata": True,
        }
        if cursor:
            kwargs["cursor"] = cursor
        try:
            resp = await client.conversations_history(**kwargs)
        except Exception as exc:
            raise classify_error(exc, sent=False) from exc
        messages = resp.get("messages") or []
        for m in messages:
            meta = m.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT_TYPE
                and (meta.get("event_payload") or {}).get(key) == value
            ):
                return dict(m)
        seen += len(messages)
        cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor or not messages:
            break
    return None


async def find_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """One message by its ts (a thread's parent), with metadata."""
    try:
        resp = await client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1, include_all_metadata=True
        )
    except Exception as exc:
        raise classify_error(exc, sent=False) from exc
    for m in resp.get("messages") or []:
        if m.get("ts") == ts:
            return dict(m)
    return None


def prompt_id_of(message: dict[str, Any] | None) -> str | None:
    if not message:
        return None
    meta = message.get("metadata") or {}
    if meta.get("event_type") != METADATA_EVENT_TYPE:
        return None
    pid = (meta.get("event_payload") or {}).get("prompt_id")
    return pid if isinstance(pid, str) and pid else None
