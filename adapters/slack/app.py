"""Inbound Slack: `POST /slack/events` (events, interactivity, slash commands) on slack-bolt.

    inbound = mount_slack(web_app, handler, signing_secret=..., token=..., api_url=...)

Request path: `SlackInbound.handle_http` first verifies the signature with slack_sdk's
`SignatureVerifier` (401 on a bad or stale signature, before anything is parsed: bolt's own
adapter parses first and answers a malformed `payload=` with 500, docs/platform-pitfalls.md), then checks the
body is a well-formed Slack payload (400 otherwise), then hands the parsed body to the bolt
`AsyncApp`, which dispatches to the listeners below (its own verification middleware is off: the
check has been made, on the raw bytes, and the body is parsed once).

A click on one of our buttons (`block_actions` whose first action is an `hplj:btn:` button: bolt
routes on that one) is answered 200 right there, without bolt: Slack ignores the body of that
answer, and everything bolt would do with the click comes after the answer anyway. The body's text
(compact: a few KB, not a parsed tree) goes to the queue below, and its job dispatches it through
bolt as any request (bolt's `ack()` then answers nobody; the listener runs the work in place).
Everything whose answer carries something — commands, form submissions (`response_action`),
events (url_verification, ssl_check) — and the form button (its listener must call `views.open`
within the trigger_id's 3 s: its work is `urgent`, ahead of the queue) goes through bolt before
the answer, as before.

Every listener acks and hands the rest of its work — the `BotHandler` call, `chat.update`,
ephemeral replies, `views.open` — to a bounded queue (`AckFirstQueue`: `workers` at a time, FIFO,
each started when the loop is not busy answering requests), then returns, so bolt
(process_before_response=True) answers Slack at once. Neither bolt's own post-ack mode (it polls
for the ack every 10 ms, then runs the listener's tail as an unbounded task per request) nor
unbounded tasks: under a burst the acks go first and the work catches up after; when the queue
is full the ack waits, so an overload shows as slow answers, never as lost work. `drain()` waits for that work
(shutdown, tests). The work is deduplicated by the bot's inbound table, so a request Slack
retries because this process died before doing it is still done once. Web API calls and
`response_url` posts share one aiohttp session (slack_sdk otherwise opens a session, and a
connection, per call).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.ackfirst import DEFAULT_BACKLOG, AckFirstQueue
from adapters.guard import json_depth_ok, read_body
from adapters.slack.client import (
    find_message,
    make_web_client,
    prompt_id_of,
)
from adapters.slack.files import FileUploadError, send_file
from adapters.slack.form import form_fields
from adapters.slack.lifecycle import EVENTS as ACCESS_EVENTS
from adapters.slack.lifecycle import access_change
from adapters.slack.parse import (
    PLATFORM,
    ButtonClick,
    FormSubmission,
    OpenForm,
    parse_block_action,
    parse_message_event,
    parse_slash_command,
    parse_view_submission,
    with_prompt,
)
from adapters.slack.render import (
    BUTTON_ACTION_PREFIX,
    FORM_ACTION_ID,
    FORM_CALLBACK_ID,
    fallback_text,
    render_blocks,
    render_home,
    render_modal,
)
from journeys.messages import Message
from ports.chat import BotHandler, HandlerResult

log = logging.getLogger("hplj.slack")

DEFAULT_PATH = "/slack/events"
DEFAULT_COMMAND = "/journey"
SORRY = "Sorry, something went wrong on our side. Please try again in a minute."
# Set while a queued click is dispatched through bolt after its answer: the listener then does its
# work in place instead of queuing it a second time.
_IN_JOB: ContextVar[bool] = ContextVar("hplj_slack_in_job", default=False)


class SlackInbound:
    """The bolt app, its Web API client and the guarded aiohttp request handler."""

    def __init__(
        self,
        handler: BotHandler,
        *,
        token: str,
        signing_secret: str | None,
        api_url: str | None = None,
        command: str = DEFAULT_COMMAND,
        socket_mode: bool = False,
        client: AsyncWebClient | None = None,
        workers: int = 4,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        if not socket_mode and not (signing_secret or "").strip():
            raise ValueError(
                "SLACK_SIGNING_SECRET is required for the Slack HTTP endpoint "
                "(or set SLACK_APP_TOKEN to use Socket Mode)"
            )
        if not (token or "").strip():
            raise ValueError("SLACK_BOT_TOKEN is required for the Slack adapter")
        self.handler = handler
        self.command = command
        self.client = client or make_web_client(token, api_url)
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._work = AckFirstQueue(workers, log, max_backlog=backlog)
        self._http_session: Any = None  # aiohttp.ClientSession shared by Web API and response_url calls
        self._own_session = False
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=signing_secret if not socket_mode else None,
            # handle_http verifies every HTTP request with slack_sdk's SignatureVerifier before
            # anything is parsed; bolt's middleware would run the same check a second time
            request_verification_enabled=False,
            # listeners ack, queue their work and return: the response goes out at once
            process_before_response=True,
            name="hplj",
        )
        self._register()

    # --- HTTP ----------------------------------------------------------------------------------
    async def handle_http(self, request: web.Request) -> web.Response:
        raw = await read_body(request)
        if isinstance(raw, web.Response):
            return raw
        if self.verifier is None or not _signature_ok(self.verifier, raw, request.headers):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            text = raw.decode("utf-8")
            body = parse_slack_body(text, request.content_type)
            if not well_formed(body):
                raise ValueError("unexpected payload shape")
            # Parsed once, here: bolt takes an already parsed body only outside its "http" mode,
            # whose sole other differences are re-parsing and re-verifying (done above)
            bolt_req = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=dict(request.headers.items()),
                mode="socket_mode",
            )
        except Exception as exc:  # noqa: BLE001 - any unreadable body is the sender's fault
            log.info("slack: refused malformed request: %s", exc)
            return web.json_response({"error": "malformed request"}, status=400)
        self._http()  # the shared session, before bolt copies the client for this request
        if _our_button(body):
            await self._work.put(self._dispatch_later, text, request.content_type)
            return web.Response(status=200, text="")  # what bolt answers for an empty ack()
        bolt_resp = await self.bolt.async_dispatch(bolt_req)
        return await to_aiohttp_response(bolt_resp)

    async def _dispatch_later(self, text: str, content_type: str) -> None:
        """A click answered already: bolt routes it now, and its listener does the work in place."""
        token = _IN_JOB.set(True)
        try:
            self._http()
            bolt_req = AsyncBoltRequest(body=parse_slack_body(text, content_type), mode="socket_mode")
            resp = await self.bolt.async_dispatch(bolt_req)
            if resp.status >= 400:
                log.warning("slack: a click answered earlier was not handled (%d)", resp.status)
        finally:
            _IN_JOB.reset(token)

    def _http(self) -> Any:
        """The aiohttp session for this loop (created on first use; also the Web API client's)."""

        session = self._http_session
        loop = asyncio.get_running_loop()
        if session is None or session.closed or getattr(session, "_loop", loop) is not loop:
            if self.client.session is not None and not self.client.session.closed and \
                    getattr(self.client.session, "_loop", loop) is loop:
                session, self._own_session = self.client.session, False
            else:
                session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
                self._own_session = True
            self._http_session = session
        if self.client.session is None or self.client.session.closed:
            self.client.session = session
        return session

    async def close(self) -> None:
        """Wait for queued work, then close the session this endpoint opened."""
        await self.drain()
        session, self._http_session = self._http_session, None
        if session is not None and self._own_session and not session.closed:
            if self.client.session is session:
                self.client.session = None
            await session.close()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for work started after acks (use on shutdown and in tests)."""
        await self._work.drain(timeout)

    async def _spawn(self, work: Callable[..., Awaitable[Any]], *args: Any, urgent: bool = False) -> None:
        """Run `work(*args)` after the ack, at most `workers` at a time, in arrival order, when the
        loop is not busy answering requests (adapters/ackfirst.py); `urgent`: at once. In a queued
        job (a click answered before bolt saw it), run it in place."""
        if _IN_JOB.get():
            await work(*args)
            return
        await self._work.put(work, *args, urgent=urgent)

    # --- listeners: ack, queue the work, return ---------------------------------------------------
    def _register(self) -> None:
        app = self.bolt
        app.command(self.command)(self._on_command)
        app.action(re.compile("^" + re.escape(BUTTON_ACTION_PREFIX)))(self._on_button)
        app.action(FORM_ACTION_ID)(self._on_form_button)
        app.view(FORM_CALLBACK_ID)(self._on_view_submission)
        app.event("message")(self._on_message)
        app.event("app_home_opened")(self._on_home_opened)
        for event in ACCESS_EVENTS:
            app.event(event)(self._on_access)

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await self._spawn(self._command, body)

    async def _on_button(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await self._spawn(self._button, body, client)

    async def _on_form_button(self, ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        # views.open needs the trigger_id, valid for 3 s: not behind a burst of queued clicks
        await self._spawn(self._form_button, body, client, urgent=True)

    async def _on_view_submission(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await self._spawn(self._view_submission, body, client)

    async def _on_message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._spawn(self._message, body, client)  # bolt acks events itself

    async def _on_home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        await self._spawn(self._home_opened, body, client)

    async def _on_access(self, body: dict[str, Any]) -> None:
        await self._spawn(self._access, body)

    # --- the work after the ack --------------------------------------------------------------
    async def _access(self, body: dict[str, Any]) -> None:
        change = access_change(body)
        hook = getattr(self.handler, "access_changed", None)
        if change is None or not callable(hook):
            return
        try:
            await hook(change)
        except Exception:
            log.exception("slack: recording lost access failed")

    async def _respond(self, response_url: Any, **message: Any) -> Any:
        """What bolt's `respond()` does, on the shared session."""
        if not isinstance(response_url, str) or not response_url:
            raise ValueError("no response_url to answer on")
        hook = AsyncWebhookClient(url=response_url, session=self._http())
        return await hook.send_dict({k: v for k, v in message.items() if v is not None})

    async def _command(self, body: dict[str, Any]) -> None:
        cmd = parse_slash_command(body)
        if cmd is None:
            return
        response_url = body.get("response_url")
        try:
            result = await self.handler.handle_command(PLATFORM, cmd.user_id, cmd.text, cmd.key)
        except Exception:
            log.exception("slack: command failed")
            await _safe(self._respond(response_url, text=SORRY, response_type="ephemeral"))
            return
        for reply in result.replies:
            if reply.attachment_name and reply.attachment_text:
                reply = await self._as_file(cmd.user_id, reply)
            await _safe(
                self._respond(
                    response_url,
                    text=fallback_text(reply),
                    blocks=render_blocks(reply),
                    response_type="ephemeral",
                    replace_original=False,
                )
            )

    async def _as_file(self, user_id: str, reply: Message) -> Message:
        """Send the reply's attachment as a Slack file in the person's DM; the reply then says
        where it is. If Slack refuses, the reply is shown as before (inline, cut) and says why."""
        try:
            await send_file(self.client, self._http(), user_id, reply.attachment_name,
                            reply.attachment_text.encode("utf-8"), title=reply.title or reply.attachment_name,
                            comment=reply.title or reply.attachment_name)
        except FileUploadError as exc:
            log.warning("slack: file %s not sent: %s", reply.attachment_name, exc)
            return replace(reply, text=f"{reply.text}\n\n(Slack did not take the file, {exc}; it is shown "
                                       "below instead, cut to fit.)")
        return replace(reply, attachment_name="", attachment_text="",
                       text=f"{reply.text}\n\nThe file {reply.attachment_name} is in your direct messages "
                            "with me.")

    async def _button(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        for item in parse_block_action(body):
            if not isinstance(item, ButtonClick):
                continue
            result = await self._call(item.action.user_id, item.channel, client, item.action)
            if result is not None:
                await self._show(client, result, item.action.user_id, item.channel)

    async def _form_button(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        for item in parse_block_action(body):
            if not isinstance(item, OpenForm):
                continue
            try:
                msg = await self.handler.prompt_message(
                    item.prompt_id, platform=PLATFORM, user_id=item.user_id
                )
            except PermissionError as refused:  # someone else's prompt: never show its text
                await self._ephemeral(client, item.user_id, item.channel, _note(str(refused)))
                continue
            except Exception:
                log.exception("slack: prompt_message failed")
                msg = None
            if msg is None or msg.closed or not msg.fields:
                await self._ephemeral(
                    client, item.user_id, item.channel, _note("This form is no longer open.")
                )
                continue
            view = render_modal(msg, channel=item.channel, message_ts=item.message_ts)
            await _safe(client.views_open(trigger_id=item.trigger_id, view=view))

    async def _view_submission(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        sub: FormSubmission | None = parse_view_submission(body)
        if sub is None:
            return
        result = await self._call(sub.action.user_id, sub.channel, client, sub.action)
        if result is not None:
            await self._show(client, result, sub.action.user_id, sub.channel)

    async def _message(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        typed = parse_message_event(body)
        if typed is None:
            return
        action = typed.action
        parent_prompt: str | None = None
        if typed.thread_ts:
            try:
                parent_prompt = prompt_id_of(
                    await find_message(client, typed.channel, typed.thread_ts)
                )
            except Exception:  # noqa: BLE001 - routing falls back to the engine's choice
                log.warning("slack: could not read thread parent %s", typed.thread_ts)
            action = with_prompt(action, parent_prompt)
        try:
            result = await self.handler.handle_action(action)
        except Exception:
            log.exception("slack: handle_action failed")
            await _safe(
                client.chat_postMessage(
                    channel=typed.channel, text=SORRY, thread_ts=typed.thread_ts
                )
            )
            return
        # the answered prompt's message is updated by the outbox (rate-limited), not here
        for reply in result.replies:
            # in a DM only the person sees it anyway; a normal message stays after reload
            await _safe(
                client.chat_postMessage(
                    channel=typed.channel,
                    text=fallback_text(reply),
                    blocks=render_blocks(reply),
                    thread_ts=typed.thread_ts,
                )
            )

    async def _home_opened(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        raw = body.get("event")
        event: dict[str, Any] = raw if isinstance(raw, dict) else {}
        user_id = event.get("user")
        if not isinstance(user_id, str) or event.get("tab", "home") != "home":
            return
        messages: list[Message] = []
        try:
            messages = list(await self.handler.home_view(PLATFORM, user_id) or [])
        except Exception:
            log.exception("slack: home_view failed")
        await _safe(client.views_publish(user_id=user_id, view=render_home(messages)))

    # --- helpers -----------------------------------------------------------------------------
    async def _call(
        self, user_id: str, channel: str | None, client: AsyncWebClient, action: Any
    ) -> HandlerResult | None:
        try:
            return await self.handler.handle_action(action)
        except Exception:
            log.exception("slack: handle_action failed")
            await self._ephemeral(client, user_id, channel, _note(SORRY))
            return None

    async def _show(
        self,
        client: AsyncWebClient,
        result: HandlerResult,
        user_id: str,
        channel: str | None,
    ) -> None:
        # The clicked message is updated by the outbox (through the rate limiter), never here too.
        for reply in result.replies:
            await self._ephemeral(client, user_id, channel, reply)

    async def _ephemeral(
        self, client: AsyncWebClient, user_id: str, channel: str | None, msg: Message
    ) -> None:
        if not channel:
            try:
                opened = await client.conversations_open(users=user_id)
                channel = opened["channel"]["id"]
            except Exception:  # noqa: BLE001
                log.warning("slack: cannot open DM with %s for a reply", user_id)
                return
        await _safe(
            client.chat_postEphemeral(
                channel=channel, user=user_id, text=fallback_text(msg), blocks=render_blocks(msg)
            )
        )


def _our_button(body: dict[str, Any]) -> bool:
    """A click bolt would route to `_on_button` (it matches on the first action only)."""
    if body.get("type") != "block_actions":
        return False
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    action_id = first.get("action_id") if isinstance(first, dict) else None
    return isinstance(action_id, str) and action_id.startswith(BUTTON_ACTION_PREFIX)


def _note(text: str) -> Message:
    return Message(recipient_id="", text=text)


async def _safe(aw: Awaitable[Any]) -> Any:
    """Await a Web API call made after the ack; log instead of raising (nobody to answer)."""
    try:
        return await aw
    except Exception as exc:  # noqa: BLE001
        log.warning("slack: post-ack call failed: %s", exc)
        return None


def _signature_ok(verifier: SignatureVerifier, raw: bytes, headers: Any) -> bool:
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    if not (isinstance(stamp, str) and stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        return False  # slack_sdk turns a 300-digit stamp into an OverflowError (issue 12)
    try:
        return verifier.is_valid_request(raw, dict(headers))
    except (ValueError, TypeError, OverflowError):
        return False


def parse_slack_body(text: str, content_type: str | None) -> dict[str, Any]:
    """The body as bolt will parse it; raises ValueError for anything bolt would choke on."""
    if not text:
        raise ValueError("empty body")
    if content_type == "application/json" or text.startswith("{"):
        data = _json(text)
    else:
        params = form_fields(text)  # parse_qsl's result, decoded in C (adapters/slack/form.py)
        if "payload" in text:
            payload = params.get("payload")
            data = _json(payload) if payload is not None else params
        else:
            data = params
    if not isinstance(data, dict):
        raise ValueError("body is not an object")  # noqa: TRY004 - a malformed request
    return data


def _json(text: str) -> Any:
    if not json_depth_ok(text):
        raise ValueError("JSON nested too deeply")
    return json.loads(text)


_OBJ_KEYS = (
    "event",
    "view",
    "container",
    "message",
    "previous_message",
    "item",
    "assistant_thread",
    "function_data",
    "state",
)
_OBJ_OR_STR_KEYS = ("team", "user", "channel", "enterprise")
_STR_KEYS = (
    "type",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "thread_ts",
    "response_url",
    "trigger_id",
    "callback_id",
    "command",
    "event_id",
    "token",
    "challenge",
    "api_app_id",
    "id",
    "ts",
    "action_id",
    "bot_id",
    "subtype",
    "user_team",
    "context_team_id",
    "context_enterprise_id",
    "function_execution_id",
    "bot_access_token",
    "app_installed_team_id",
)


def well_formed(body: Any, depth: int = 0) -> bool:
    """The structural promises bolt's context extraction and matchers rely on."""
    if not isinstance(body, dict):
        return False
    if depth > 4:
        return True
    for key in _STR_KEYS:
        if key in body and body[key] is not None and not isinstance(body[key], str):
            return False
    if "text" in body and not isinstance(body["text"], (str, dict, type(None))):
        return False
    for key in _OBJ_OR_STR_KEYS:
        value = body.get(key)
        if value is None or isinstance(value, str):
            continue
        if not well_formed(value, depth + 1):
            return False
    for key in _OBJ_KEYS:
        value = body.get(key)
        if value is not None and not well_formed(value, depth + 1):
            return False
    if "actions" in body and not (isinstance(body["actions"], list) and body["actions"]):
        return False  # bolt reads `body["actions"][0]` whenever the key is there (even null or [])
    for key in ("authorizations", "actions", "response_urls"):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(well_formed(v, depth + 1) for v in value):
            return False
    if depth == 0:
        if "event" in body and not isinstance(body["event"], dict):
            return False  # bolt's self-event filter reads `body.get("event", {}).get(...)`: null is not {}
        special = "payload" in body or "command" in body or "ssl_check" in body
        if not special and not isinstance(body.get("type"), str):
            return False
        event = body.get("event")
        if body.get("type") == "event_callback" and not (
            isinstance(event, dict) and isinstance(event.get("type"), str)
        ):
            return False
    return True


def mount_slack(
    web_app: web.Application,
    handler: BotHandler,
    *,
    signing_secret: str,
    token: str,
    api_url: str | None = None,
    path: str = DEFAULT_PATH,
    command: str = DEFAULT_COMMAND,
    backlog: int = DEFAULT_BACKLOG,
) -> SlackInbound:
    """Add `POST {path}` to `web_app`; raises ValueError without a signing secret."""
    inbound = SlackInbound(
        handler, token=token, signing_secret=signing_secret, api_url=api_url, command=command,
        backlog=backlog,
    )
    web_app.router.add_post(path, inbound.handle_http)

    async def _drain(_app: web.Application) -> None:
        await inbound.drain()

    async def _close(_app: web.Application) -> None:
        await inbound.close()

    web_app.on_shutdown.append(_drain)
    web_app.on_cleanup.append(_close)
    return inbound


