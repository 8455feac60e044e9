"""The Teams endpoint: `POST /api/messages` on botbuilder's `CloudAdapter`, in our aiohttp app.

    endpoint = mount_teams(web_app, handler, app_id=..., app_password=..., tenant_id=...,
                           app_type="MultiTenant")

The route does what `CloudAdapter.process` does, with the gaps closed:

- bad JSON, non-objects, activities without a type, a service URL, a conversation or a sender
  get 400 (the SDK answers 500 to several of these); nothing reaches the bot;
- authentication runs before anything else happens: with an app id set, a request without a
  valid Bot Framework JWT gets 401 and changes nothing (any failure to validate is a 401);
- `adaptiveCard/action` invokes are answered by our own `on_invoke_activity` with
  `InvokeResponse(200, {"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive",
  "value": <refreshed card>})`; the stock `on_adaptive_card_invoke` answers 500 (docs/platform-pitfalls.md);
- the activity id is passed to the bot as the idempotency key: Teams redeliveries and double
  clicks reach the bot with the same key, and the bot deduplicates.

An empty app id is local mode (Bot Framework Emulator): no inbound auth, no outbound token. The
mount logs that loudly; production start should call `check_production_auth` first.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes
from msrest.serialization import Model

from adapters.background import WorkPool
from adapters.guard import json_depth_ok, read_body
from adapters.teams.client import card_activity, make_adapter
from adapters.teams.connectors import reuse_clients
from adapters.teams.lifecycle import installation_change
from adapters.teams.parse import (
    INVOKE_CARD_ACTION,
    PLATFORM,
    NotAnActivity,
    _d,
    _s,
    parse_card_action,
    parse_message,
    users_to_remember,
)
from adapters.teams.render import (
    CARD_CONTENT_TYPE,
    VERB_BUTTON,
    VERB_SUBMIT,
    render_card,
    render_text,
    reply_text,
)
from journeys.messages import Message
from ports.chat import BotHandler, HandlerResult, InboundAction, Profile

log = logging.getLogger(__name__)

PATH = "/api/messages"
LOCAL_MODE_WARNING = (
    "Teams endpoint is UNAUTHENTICATED (local mode): MICROSOFT_APP_ID is empty, so anyone who can "
    "reach %s can act as any Teams user. Use this only with the Bot Framework Emulator or tests."
)
MESSAGE_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE_TYPE = "application/vnd.microsoft.error"

ROSTER_MEMORY = 50_000  # user ids remembered as asked; beyond, the set starts over

_RAW: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("hplj_teams_raw_activity")


class TeamsAuthConfigError(RuntimeError):
    """The Teams endpoint would run without authentication, or with half a configuration."""


def check_production_auth(app_id: str, allow_local: bool, *, app_password: str | None = None,
                          app_type: str | None = None) -> None:
    """Refuse to start an unauthenticated Teams endpoint unless local mode is explicit.

    Raises `TeamsAuthConfigError` when `app_id` is empty and `allow_local` is False, and (when
    `app_password` is given) when an app id of a password-based app type has no password.
    """
    if not (app_id or "").strip():
        if allow_local:
            return
        raise TeamsAuthConfigError(
            "MICROSOFT_APP_ID is empty: the Teams endpoint POST /api/messages would accept "
            "unauthenticated requests from anyone. Set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD "
            "(and MICROSOFT_APP_TENANT_ID / MICROSOFT_APP_TYPE for single-tenant bots), or start in "
            "local mode explicitly for the Bot Framework Emulator."
        )
    kind = (app_type or "MultiTenant").lower()
    if app_password is not None and not app_password and kind in ("multitenant", "singletenant"):
        raise TeamsAuthConfigError(
            f"MICROSOFT_APP_PASSWORD is empty for app id {app_id}: the bot could not send messages."
        )


def default_greeting(profile: Profile) -> Message:
    first = profile.name.split()[0] if profile.name and profile.name != profile.user_id else ""
    hello = f"Hi {first}!" if first else "Hi!"
    return Message(
        recipient_id=profile.user_id,
        title="Welcome",
        text=(
            f"{hello} I'm your learning-journey companion. When a journey you're part of has "
            "something for you (a short activity, a question, a request from your team), it "
            "will arrive here. Type **help** at any time."
        ),
    )


def _is_plain(msg: Message) -> bool:
    return not (msg.buttons or msg.fields or msg.facts or msg.links or msg.attachment_text
                or msg.journey_title or msg.title)


def reply_activity(msg: Message) -> Activity:
    """A reply: plain text when the message is only text, else the card."""
    if _is_plain(msg):
        text, text_format = reply_text(msg)
        return Activity(type=ActivityTypes.message, text=text, text_format=text_format)
    return card_activity(msg)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _invoke(status_code: int, type_: str, value: Any) -> InvokeResponse:
    return InvokeResponse(status=200, body={"statusCode": status_code, "type": type_, "value": value})


class HpljTeamsBot(ActivityHandler):
    """Turns activities into `BotHandler` calls and renders what comes back."""

    def __init__(self, handler: BotHandler, *, greeting: Callable[[Profile], Message] | None = None,
                 remember_on_message: bool = True, pace: Callable[[], Awaitable[object]] | None = None) -> None:
        self.handler = handler
        self.greeting = greeting or default_greeting
        self.remember_on_message = remember_on_message
        # The bot's `settle()` (tests, demo) waits for this work too, when it offers `track`.
        track = getattr(handler, "track", None)
        # `pace`: the extra replies wait for a turn of the loop with no request waiting (hplj serve)
        self._later = WorkPool(4, log, on_spawn=track if callable(track) else None, pace=pace)
        self._rostered: set[str] = set()  # users whose roster e-mail this process has asked for

    def _send_later(self, context: TurnContext, messages: list[Message]) -> None:
        """Post extra replies after the invoke response (at most 4 at a time): the refreshed card
        is the answer; a "thanks" message need not hold it up."""
        if messages:
            self._later.spawn(self._send, context, messages)

    async def drain(self, timeout: float = 10.0) -> None:
        await self._later.drain(timeout)

    @staticmethod
    def _raw(context: TurnContext) -> dict[str, Any]:
        raw = _RAW.get(None)
        if raw is None:
            raw = context.activity.serialize()
        return raw

    async def _send(self, context: TurnContext, messages: tuple[Message, ...] | list[Message]) -> None:
        for msg in messages:
            try:
                await context.send_activity(reply_activity(msg))
            except Exception:
                log.warning("teams: could not post a reply to %s", context.activity.conversation.id,
                            exc_info=True)

    async def _remember(self, context: TurnContext, raw: dict[str, Any]) -> None:
        for profile, address in users_to_remember(raw):
            if not profile.email:
                profile = await self._with_roster_email(context, raw, profile)
            first_time = await self.handler.remember_user(PLATFORM, profile, address)
            if first_time:
                await self._send(context, [self.greeting(profile)])

    async def _with_roster_email(self, context: TurnContext, raw: dict[str, Any], profile: Profile) -> Profile:
        """The e-mail (or UPN) from the conversation's member record, so `enroll ... maria@...` finds
        anyone who has the app, without Graph permissions. Asked on every install, and on the first
        message of each user per process (activities never carry the e-mail themselves)."""
        if raw.get("type") == "message":
            if profile.user_id in self._rostered:
                return profile
            if len(self._rostered) >= ROSTER_MEMORY:
                self._rostered.clear()
            self._rostered.add(profile.user_id)
        member_id = _s(_d(raw.get("from")).get("id"))
        if not member_id:
            return profile
        try:
            member = await TeamsInfo.get_member(context, member_id)
        except Exception as exc:  # noqa: BLE001 - no roster (Emulator, a 404): the user is still remembered
            log.info("teams: no roster record for a member: %s", type(exc).__name__)
            return profile
        email = (member.email or "").strip() or (member.user_principal_name or "").strip()
        if "@" not in email:
            return profile
        return replace(profile, email=email.lower(), name=profile.name or member.name or profile.name)

    # ---- activity types --------------------------------------------------------------------
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        raw = self._raw(turn_context)
        value = raw.get("value")
        if isinstance(value, dict) and ("prompt_id" in value or "action" in value):
            # A legacy Action.Submit (old clients): same payload as a card action.
            result = await self._card_action(raw)
            await self._send(turn_context, result.replies)  # the outbox updates the card itself
            return
        parsed = parse_message(raw)
        if self.remember_on_message:
            await self._remember(turn_context, raw)
        if parsed.command is not None:
            result = await self.handler.handle_command(PLATFORM, parsed.user_id, parsed.command, parsed.key)
        elif parsed.text:
            result = await self.handler.handle_action(InboundAction(
                platform=PLATFORM, user_id=parsed.user_id, key=parsed.key, text=parsed.text,
                profile=parsed.profile, reply_to=parsed.reply_to,
            ))
        else:
            return  # an empty message (only a mention, an image): nothing to do
        # `updated` lives in an earlier message; the outbox updates it in place.
        await self._send(turn_context, result.replies)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        raw = self._raw(turn_context)
        change = installation_change(raw)
        hook = getattr(self.handler, "access_changed", None)
        if change is not None and callable(hook):
            await hook(change)  # an uninstall stops sending at once; a reinstall lifts that
        await self._remember(turn_context, raw)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context, self._raw(turn_context))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        raw = self._raw(turn_context)
        if raw.get("name") != INVOKE_CARD_ACTION:
            return InvokeResponse(status=501)
        value = _as_dict(raw.get("value"))
        action = _as_dict(value.get("action"))
        data = _as_dict(action.get("data"))
        if action.get("verb") not in (VERB_BUTTON, VERB_SUBMIT) or not data.get("prompt_id"):
            return _invoke(400, ERROR_RESPONSE_TYPE,
                           {"code": "BadRequest", "message": "This card action is not one of ours."})
        result = await self._card_action(raw)
        card: dict[str, Any] | None = None
        replies = list(result.replies)
        if result.updated is not None:
            card = render_card(result.updated)
        elif replies:
            first = replies.pop(0)
            self._send_later(turn_context, replies)
            return _invoke(200, MESSAGE_RESPONSE_TYPE, render_text(first))
        else:
            try:  # only the prompt's addressee sees its card again (their words may be on it)
                current = await self.handler.prompt_message(str(data["prompt_id"]), platform=PLATFORM,
                                                            user_id=parse_card_action(raw).user_id)
            except PermissionError as refused:
                return _invoke(200, MESSAGE_RESPONSE_TYPE, str(refused))
            if current is not None:
                card = render_card(current)
        self._send_later(turn_context, replies)
        if card is None:
            return _invoke(200, MESSAGE_RESPONSE_TYPE, "Done.")
        return _invoke(200, CARD_CONTENT_TYPE, card)

    async def _card_action(self, raw: dict[str, Any]) -> HandlerResult:
        action = parse_card_action(raw)
        return await self.handler.handle_action(action)


@dataclass
class TeamsEndpoint:
    adapter: CloudAdapter
    bot: HpljTeamsBot
    path: str
    local_mode: bool


def _bad(reason: str, status: int = 400) -> web.Response:
    code = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden"}.get(status, "BadRequest")
    return web.json_response({"error": {"code": code, "message": reason}}, status=status)


def tenant_refused(body: dict[str, Any], allowed: frozenset[str] | None) -> bool:
    """True when the activity names no tenant, or a tenant outside `allowed` (in
    `channelData.tenant.id` or `conversation.tenantId`; both are checked when both are present)."""
    if allowed is None:
        return False
    named = {t.strip().lower() for t in (_s(_d(_d(body.get("channelData")).get("tenant")).get("id")),
                                         _s(_d(body.get("conversation")).get("tenantId"))) if t.strip()}
    return not named or not named <= allowed


def _shape_problem(body: dict[str, Any]) -> str | None:
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.lower().startswith(("http://", "https://")):
        return "serviceUrl missing or not an http(s) URL"
    conv = body.get("conversation")
    if not isinstance(conv, dict) or not isinstance(conv.get("id"), str) or not conv["id"]:
        return "conversation.id missing"
    frm = body.get("from")
    if not isinstance(frm, dict) or not (isinstance(frm.get("id"), str) and frm["id"]):
        return "from.id missing"
    if body.get("type") == "invoke" and not isinstance(body.get("name"), str):
        return "invoke without a name"
    return None


def _json_body(body: Any) -> Any:
    if isinstance(body, Model):
        return body.serialize()  # type: ignore[no-untyped-call]
    return body


def mount_teams(
    web_app: web.Application,
    handler: BotHandler,
    *,
    app_id: str = "",
    app_password: str = "",
    tenant_id: str = "",
    app_type: str = "MultiTenant",
    path: str = PATH,
    adapter: CloudAdapter | None = None,
    greeting: Callable[[Profile], Message] | None = None,
    remember_on_message: bool = True,
    allowed_tenants: frozenset[str] | None = None,
    pace: Callable[[], Awaitable[object]] | None = None,
) -> TeamsEndpoint:
    """Add `POST {path}` to `web_app`; returns the endpoint (its `adapter` can be shared with
    `TeamsChat` for outbound sends). `allowed_tenants`: the tenant ids (lower case) whose
    activities are handled; others get 403 and nothing is stored (None: any tenant). `pace`:
    awaited before each extra reply is posted (after the invoke's answer), so a burst's answers
    go first."""
    adapter = adapter or make_adapter(app_id, app_password, tenant_id, app_type)
    reuse_clients(adapter)
    bot = HpljTeamsBot(handler, greeting=greeting, remember_on_message=remember_on_message, pace=pace)
    local = not (app_id or "").strip()
    if local:
        log.warning(LOCAL_MODE_WARNING, path)

    async def messages(request: web.Request) -> web.StreamResponse:
        # authenticate before parsing: with an app id, no bearer token means 401 unread
        if not local and not request.headers.get("Authorization", "").startswith("Bearer "):
            return _bad("unauthorized", 401)
        raw = await read_body(request)
        if isinstance(raw, web.Response):
            return raw
        if not json_depth_ok(raw):
            return _bad("body is nested too deeply")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _bad("body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return _bad("not a Bot Framework activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest raises many kinds
            return _bad("not a Bot Framework activity")
        if not activity.type:
            return _bad("not a Bot Framework activity")
        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await adapter.bot_framework_authentication.authenticate_request(activity, auth_header)
        except Exception as exc:  # noqa: BLE001 - PermissionError, bad JWTs, metadata failures
            log.info("teams: rejected an unauthenticated request: %s", type(exc).__name__)
            return _bad("unauthorized", 401)
        problem = _shape_problem(body)
        if problem:
            return _bad(problem)
        if tenant_refused(body, allowed_tenants):
            log.info("teams: refused an activity from a tenant outside MICROSOFT_ALLOWED_TENANTS")
            return _bad("this tenant may not use this bot", 403)
        token = _RAW.set(body)
        try:
            invoke_response = await adapter.process_activity(auth, activity, bot.on_turn)
        except NotAnActivity as exc:
            return _bad(str(exc))
        except Exception:
            log.exception("teams: turn failed for activity %s (%s)", body.get("id"), body.get("type"))
            return web.json_response({"error": {"code": "ServiceError", "message": "internal error"}},
                                     status=500)
        finally:
            _RAW.reset(token)
        if invoke_response is not None:
            status = int(invoke_response.status or 200)
            if invoke_response.body is None:
                return web.Response(status=status)
            return web.json_response(_json_body(invoke_response.body), status=status)
        return web.Response(status=200)

    web_app.router.add_post(path, messages)

    async def _drain(_app: web.Application) -> None:
        await bot.drain()

    web_app.on_shutdown.append(_drain)
    return TeamsEndpoint(adapter=adapter, bot=bot, path=path, local_mode=local)
