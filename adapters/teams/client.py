"""`TeamsChat`: the outbound `ChatPort` for Microsoft Teams on botbuilder's `CloudAdapter`.

Proactive messages go through `CloudAdapter.continue_conversation` with the conversation
reference stored when the person installed the bot (see `parse.address_of`). The dispatcher hands
that stored address over with every delivery (`address=`): the port keeps no copy of who is
where. (`address_for`, an optional lookup, serves callers that have no stored row at hand.)

Pitfalls handled here (docs/platform-pitfalls.md): botbuilder never retries and sends connector errors to
`on_turn_error`, not to the caller, so every connector call is wrapped *inside* the turn
callback and classified into a `DeliveryError`:

- 429 -> rate_limited (with `Retry-After` seconds when the connector gives it)
- 412, 503, 401, connection refused -> retry (the request was not accepted)
- 500, 502, 504, dropped connections, timeouts -> in_doubt (it may have been accepted)
- 403 `BotNotInConversationRoster` / `ConversationBlockedByUser` / `BotDisabledByAdmin`,
  404 `ConversationNotFound`, other 4xx -> permanent, with the error code as the reason

Teams has no way to look a message up by our delivery id, so `find_delivery` returns None and
`capabilities.reconcile` is False. Without Graph, `resolve_profile` uses the stored address and
`find_user_by_email` only knows what the optional `user_for_email` callback knows. With a
`GraphDirectory` (adapters/teams/directory.py) people are found in the tenant by id or e-mail,
`directory_entries` gives managers and mailbox calendars, and `open_dm` reaches someone who never
opened the bot: the app is installed for them and the 1:1 chat's address handed to `on_address`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from typing import Any, TypeVar

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from adapters.teams.cloud import BotCloud, CloudCredentialFactory
from adapters.teams.connectors import ReusedClients
from adapters.teams.directory import GraphDirectory
from adapters.teams.graph import GraphError
from adapters.teams.render import CARD_CONTENT_TYPE, fits, render_card, summary
from journeys.directory import DirectoryEntry
from journeys.messages import Message
from ports.chat import Address, Capabilities, DeliveryError, Profile, SentRef

log = logging.getLogger(__name__)

PLATFORM = "teams"
PERMANENT_403 = ("BotNotInConversationRoster", "ConversationBlockedByUser", "BotDisabledByAdmin")
NO_ADDRESS = "NoConversationReference"

_T = TypeVar("_T")
AddressLookup = Callable[[str], "dict[str, Any] | None | Awaitable[dict[str, Any] | None]"]
ProfileLookup = Callable[[str], "Profile | None | Awaitable[Profile | None]"]


def make_adapter(app_id: str = "", app_password: str = "", tenant_id: str = "",
                 app_type: str = "MultiTenant", cloud: BotCloud | None = None) -> CloudAdapter:
    """A `CloudAdapter` configured like the Bot Framework samples (empty app id: local mode);
    `cloud`: the Bot Framework endpoints to use instead of the public cloud's. Its connector
    clients are kept across turns (adapters/teams/connectors.py)."""
    config = SimpleNamespace(
        APP_ID=app_id or "",
        APP_PASSWORD=app_password or "",
        APP_TENANTID=tenant_id or "",
        APP_TYPE=app_type or "MultiTenant",
        **(cloud.sdk_configuration() if cloud is not None else {}),
    )
    if cloud is None:
        return CloudAdapter(ReusedClients(ConfigurationBotFrameworkAuthentication(config)))
    factory = CloudCredentialFactory(ConfigurationServiceClientCredentialFactory(config), app_password or "")
    return CloudAdapter(ReusedClients(ConfigurationBotFrameworkAuthentication(config, credentials_factory=factory)))


def reference_from_address(address: dict[str, Any], conversation_id: str | None = None) -> ConversationReference:
    """A botbuilder `ConversationReference` from a stored address (`parse.address_of`)."""
    tenant = address.get("tenant_id") or None
    return ConversationReference(
        channel_id=address.get("channel_id") or "msteams",
        service_url=address.get("service_url"),
        conversation=ConversationAccount(
            id=conversation_id or address.get("conversation_id"),
            tenant_id=tenant,
            conversation_type=address.get("conversation_type") or "personal",
        ),
        user=ChannelAccount(
            id=address.get("user_id") or address.get("user_aad_id"),
            aad_object_id=address.get("user_aad_id") or None,
            name=address.get("user_name") or None,
        ),
        bot=ChannelAccount(id=address.get("bot_id") or None, name=address.get("bot_name") or None),
        locale=address.get("locale") or None,
    )


def card_activity(message: Message) -> Activity:
    """The outgoing activity: the Adaptive Card, with `summary` as the notification preview.

    The plain-text rendering travels as the card's `fallbackText`; the activity has no `text`
    because Teams would show it as a second message above the card.
    """
    return Activity(
        type=ActivityTypes.message,
        summary=summary(message) or None,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=render_card(message))],
    )


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
    except Exception:  # noqa: BLE001 - any odd header container
        return None
    if not raw:
        return None
    raw = str(raw).strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_code(exc: BaseException) -> str:
    err = getattr(getattr(exc, "error", None), "error", None)
    code = getattr(err, "code", None)
    return str(code) if code else ""


def _not_sent(exc: BaseException) -> bool:
    """True when a connection error happened before the request could reach the service."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        name = type(e).__name__
        if name in ("NewConnectionError", "ConnectTimeout", "NameResolutionError", "ClientConnectorError",
                    "ConnectionRefusedError", "gaierror"):
            return True
        text = str(e)
        if "Failed to establish a new connection" in text or "Connection refused" in text:
            return True
        if isinstance(e, BaseException):
            stack.extend([e.__cause__, e.__context__, getattr(e, "inner_exception", None),
                          getattr(e, "reason", None)])
            stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
    return False


def classify_error(exc: BaseException) -> DeliveryError:
    """Turn a connector failure into the delivery worker's vocabulary (see module doc)."""
    if isinstance(exc, DeliveryError):
        return exc
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    if isinstance(status, int) and status >= 400:
        code = _error_code(exc)
        retry_after = _retry_after(getattr(response, "headers", None))
        if status == 429:
            return DeliveryError("rate_limited", code or "TooManyRequests", retry_after)
        if status in (412, 503):
            return DeliveryError("retry", f"{status} {code}".strip(), retry_after)
        if status == 401:  # our token was refused: nothing was posted; fix credentials, retry
            return DeliveryError("retry", f"401 {code or 'Unauthorized'}")
        if status == 403:
            return DeliveryError("permanent", code or "Forbidden")
        if status == 404:
            return DeliveryError("permanent", code or "ConversationNotFound")
        if status >= 500:
            return DeliveryError("in_doubt", f"{status} {code}".strip())
        return DeliveryError("permanent", f"{status} {code}".strip())
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return DeliveryError("in_doubt", "timeout")
    if _not_sent(exc):
        return DeliveryError("retry", f"connection failed: {type(exc).__name__}")
    return DeliveryError("in_doubt", f"{type(exc).__name__}: {str(exc)[:200]}")


class TeamsChat:
    """`ChatPort` for Teams personal chats."""

    platform = PLATFORM
    @property
    def capabilities(self) -> Capabilities:
        """Teams has no lookup by delivery id, takes no files from a bot, and reads Graph when configured."""
        return Capabilities(update_in_place=True, reconcile=False, file_attachments=False,
                            directory="graph" if self.graph is not None else None)

    def __init__(
        self,
        adapter: CloudAdapter | None = None,
        *,
        address_for: AddressLookup | None = None,
        app_id: str = "",
        app_password: str = "",
        tenant_id: str = "",
        app_type: str = "MultiTenant",
        user_for_email: ProfileLookup | None = None,
        timeout: float = 30.0,
        graph: GraphDirectory | None = None,
        cloud: BotCloud | None = None,
        on_address: Callable[[str, Profile, dict[str, Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self.adapter = adapter or make_adapter(app_id, app_password, tenant_id, app_type, cloud)
        self.app_id = app_id or ""
        self._address_for = address_for
        self._user_for_email = user_for_email
        self.timeout = timeout
        self._opened: dict[str, dict[str, Any]] = {}  # conversation id -> address (created here)
        self.graph = graph
        self._on_address = on_address

    # ---- lookups ---------------------------------------------------------------------------
    async def _address(self, user_id: str, given: Address | None = None) -> dict[str, Any] | None:
        if given:
            return dict(given)
        if self._address_for is None:
            return None
        result = self._address_for(user_id)
        if inspect.isawaitable(result):
            result = await result
        return dict(result) if result else None

    async def _address_or_fail(self, user_id: str, conversation_id: str | None = None,
                               given: Address | None = None) -> dict[str, Any]:
        address = await self._address(user_id, given)
        if address is None and conversation_id is not None:
            address = self._opened.get(conversation_id)
        if not address or not address.get("service_url"):
            raise DeliveryError("permanent", NO_ADDRESS)
        return address

    # ---- the turn wrapper ------------------------------------------------------------------
    async def _run(self, reference: ConversationReference, logic: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        """Run `logic` in a proactive turn; every failure comes back as a `DeliveryError`."""
        outcome: dict[str, Any] = {}

        async def callback(context: TurnContext) -> None:
            try:
                outcome["value"] = await logic(context)
            except Exception as exc:  # noqa: BLE001 - classified below, never to on_turn_error
                outcome["error"] = exc

        try:
            await asyncio.wait_for(
                self.adapter.continue_conversation(reference, callback, bot_app_id=self.app_id),
                timeout=self.timeout,
            )
        except Exception as exc:  # noqa: BLE001 - token acquisition, timeouts, outside the callback
            outcome.setdefault("error", exc)
        if "error" in outcome:
            err = classify_error(outcome["error"])
            log.warning("teams delivery failed (%s): %s", err.kind, err.reason)
            raise err
        return outcome.get("value")

    # ---- ChatPort --------------------------------------------------------------------------
    async def _graph_call(self, call: Awaitable[_T]) -> _T:
        """A Graph call from a ChatPort method: failures become DeliveryErrors the worker understands."""
        try:
            return await call
        except GraphError as exc:
            if exc.status == 429:
                raise DeliveryError("rate_limited", exc.code) from exc
            if exc.status in (401, 403, 404):
                raise DeliveryError("permanent", f"graph_{exc.code}") from exc
            raise DeliveryError("retry", f"graph_{exc.code}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError("retry", f"graph_{type(exc).__name__}") from exc

    async def _open_through_graph(self, user_id: str) -> dict[str, Any]:
        assert self.graph is not None
        address = await self._graph_call(self.graph.open_chat(user_id))
        if address is None:
            raise DeliveryError("permanent", "user_not_found")
        if self._on_address is not None:
            profile = Profile(user_id, str(address.get("user_name") or user_id))
            await self._on_address(user_id, profile, address)
        self._opened[str(address["conversation_id"])] = address
        return address

    async def open_dm(self, user_id: str, *, address: Address | None = None) -> str:
        stored = await self._address(user_id, address)
        if (not stored or not stored.get("service_url")) and self.graph is not None:
            stored = await self._open_through_graph(user_id)
        if not stored or not stored.get("service_url"):
            raise DeliveryError("permanent", NO_ADDRESS)
        if stored.get("conversation_id"):
            return str(stored["conversation_id"])
        # Known person, no personal chat id yet: create it (POST /v3/conversations).
        tenant = stored.get("tenant_id") or None
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=stored.get("bot_id") or None),
            members=[ChannelAccount(id=stored.get("user_id") or stored.get("user_aad_id"))],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        created: dict[str, str] = {}

        async def on_created(context: TurnContext) -> None:
            created["id"] = context.activity.conversation.id

        try:
            await asyncio.wait_for(
                self.adapter.create_conversation(
                    self.app_id, on_created, params, channel_id=stored.get("channel_id") or "msteams",
                    service_url=stored["service_url"],
                ),
                timeout=self.timeout,
            )
        except Exception as exc:
            err = classify_error(exc)
            # Creating a 1:1 conversation is idempotent (Teams answers with the same chat), so a
            # create that may have been accepted is simply retried.
            raise DeliveryError("retry" if err.kind == "in_doubt" else err.kind, err.reason, err.retry_after) from exc
        conv = created.get("id")
        if not conv:
            raise DeliveryError("retry", "no conversation id")
        self._opened[conv] = {**stored, "conversation_id": conv}
        return conv

    async def send(self, conversation_id: str, message: Message, delivery_id: str, *,
                   address: Address | None = None) -> SentRef:
        stored = await self._address_or_fail(message.recipient_id, conversation_id, address)
        reference = reference_from_address(stored, conversation_id)
        activity = card_activity(message)

        async def logic(context: TurnContext) -> Any:
            return await context.send_activity(activity)

        response = await self._run(reference, logic)
        activity_id = getattr(response, "id", None)
        if not activity_id:
            raise DeliveryError("in_doubt", f"no activity id for delivery {delivery_id}")
        return SentRef(conversation_id=conversation_id, message_id=str(activity_id))

    async def update(self, ref: SentRef, message: Message, *, address: Address | None = None) -> None:
        stored = await self._address_or_fail(message.recipient_id, ref.conversation_id, address)
        reference = reference_from_address(stored, ref.conversation_id)
        activity = card_activity(message)
        activity.id = ref.message_id

        async def logic(context: TurnContext) -> Any:
            return await context.update_activity(activity)

        await self._run(reference, logic)

    async def resolve_profile(self, user_id: str) -> Profile:
        address = await self._address(user_id) or {}
        if not address and self.graph is not None:
            found = await self._graph_call(self.graph.profile(user_id))
            if found is None:
                raise DeliveryError("permanent", "user_not_found")
            return found
        return Profile(
            user_id=user_id,
            name=str(address.get("user_name") or user_id),
            email=address.get("email") or None,
            tz=address.get("tz") or None,
        )

    async def find_user_by_email(self, email: str) -> Profile | None:
        result = self._user_for_email(email) if self._user_for_email is not None else None
        if inspect.isawaitable(result):
            result = await result
        if result is None and self.graph is not None:
            result = await self._graph_call(self.graph.profile_by_email(email))
        return result

    def fits(self, message: Message) -> bool:
        return fits(message)

    async def directory_entries(self, email: str) -> list[DirectoryEntry]:
        """The person and their managers, from Graph (nothing without it)."""
        if self.graph is None:
            return []
        return await self.graph.directory_entries(email)

    async def find_delivery(self, conversation_id: str, delivery_id: str) -> SentRef | None:
        return None  # Teams cannot look a message up by our delivery id
