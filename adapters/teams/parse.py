"""Bot Framework activity (a plain dict, as Teams posts it) -> neutral inbound values. Pure.

Typed messages
    `<at>Bot</at>` mentions of the bot are removed. Mentions of people become the command
    grammar's neutral user reference (`journeys.admin.commands.user_token`: `<user:ID|Name>`): ID is the person's AAD object id when the mention carries it (`aadObjectId`, or a
    `8:orgid:<guid>` id), else the Teams user id (`29:...`), which the bot can map through the
    stored addresses (`address["user_id"]`). `|` and `>` are removed from names.
    A message whose first word is `journey` (or `/journey`) is an admin command: `ParsedMessage
    .command` holds the rest (`"help"` when nothing follows).

Card actions (`invoke` named `adaptiveCard/action`, Universal Actions)
    Data as rendered by `render.py`: `{"prompt_id", "value"}` for buttons (verb `hplj.button`),
    `{"prompt_id", "fields": {id: kind}}` plus the inputs `f.<id>` for forms (verb
    `hplj.submit`). Dates become YYYY-MM-DD, multi-selects ("a,b") lists, empty inputs are
    dropped. The acting user is `from.aadObjectId`; the idempotency key is the activity id within its
    conversation (`activity_key`: Teams ids are per-conversation timestamps, so two people's
    messages can share one).

Addresses (what `installationUpdate` / `conversationUpdate` give us to message people later)
    {"channel_id", "service_url", "tenant_id", "conversation_id", "conversation_type",
     "user_id" (29:...), "user_aad_id", "user_name", "bot_id", "bot_name", "locale"}.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from journeys.admin.commands import user_token
from ports.chat import InboundAction, Profile

PLATFORM = "teams"
INVOKE_CARD_ACTION = "adaptiveCard/action"
COMMAND_WORDS = ("journey", "/journey")
_INPUT_PREFIX = "f."
_ORGID = "8:orgid:"
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$")
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_HTML_TAGS = re.compile(r"</?(?:p|div|span|br|b|i|u|s|em|strong|a|font|blockquote|pre|code)\b[^>]*>", re.IGNORECASE)
_MAX_TEXT = 20_000


class NotAnActivity(ValueError):
    """The payload is not a Bot Framework activity the adapter can act on."""


@dataclass(frozen=True)
class ParsedMessage:
    user_id: str
    key: str
    text: str  # what the person typed, cleaned (mentions resolved to tokens)
    command: str | None  # admin command line without the `journey` word; None for plain text
    profile: Profile
    mentions: tuple[tuple[str, str], ...] = ()  # (id, name) of people mentioned
    value: dict[str, Any] = field(default_factory=dict)  # a legacy Action.Submit payload
    reply_to: str | None = None  # `replyToId`: the bot's message this text replies to


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def activity_key(activity: dict[str, Any]) -> str:
    """The idempotency key of an activity: its id within its conversation ("" without an id).

    Teams activity ids are timestamps unique only inside one conversation; the conversation id is
    hashed to a fixed length so the key fits the inbound table whatever a payload carries."""
    aid = _s(activity.get("id"))
    if not aid:
        return ""
    conv = _s(_d(activity.get("conversation")).get("id"))
    where = hashlib.sha256(conv.encode("utf-8", "replace")).hexdigest()[:16]
    if len(aid) > 160:
        aid = hashlib.sha256(aid.encode("utf-8", "replace")).hexdigest()
    return f"{where}:{aid}"


def user_id_of(activity: dict[str, Any]) -> str:
    """The acting person: their AAD object id (Emulator and old payloads: the channel id)."""
    frm = _d(activity.get("from"))
    aad = _s(frm.get("aadObjectId")).strip()
    if aad:
        return aad
    fid = _s(frm.get("id")).strip()
    return fid.removeprefix(_ORGID)


def timezone_of(activity: dict[str, Any]) -> str | None:
    """The IANA zone Teams reports (`localTimezone`, or the clientInfo entity); None if unknown."""
    candidates = [activity.get("localTimezone")]
    for ent in _l(activity.get("entities")):
        if isinstance(ent, dict) and ent.get("type") == "clientInfo":
            candidates.append(ent.get("timezone"))
    for tz in candidates:
        if isinstance(tz, str) and valid_timezone(tz):
            return tz
    return None


def valid_timezone(tz: str) -> bool:
    if not tz or len(tz) > 64 or tz.startswith(("/", ".")) or ".." in tz:
        return False
    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        return False
    return True


def profile_of(activity: dict[str, Any]) -> Profile:
    frm = _d(activity.get("from"))
    uid = user_id_of(activity)
    name = " ".join(_s(frm.get("name")).split()) or uid
    return Profile(user_id=uid, name=name[:200], email=None, tz=timezone_of(activity))


def _mention_id(mentioned: dict[str, Any]) -> str:
    aad = _s(mentioned.get("aadObjectId")).strip()
    if aad:
        return aad
    mid = _s(mentioned.get("id")).strip()
    return mid.removeprefix(_ORGID)


def _clean_name(name: str) -> str:
    return " ".join(name.replace("|", " ").replace(">", " ").replace("<", " ").split())


def parse_message(activity: dict[str, Any]) -> ParsedMessage:
    """A `message` activity -> typed text or an admin command, with people mentions resolved."""
    if activity.get("type") != "message":
        raise NotAnActivity("not a message activity")
    uid = user_id_of(activity)
    if not uid:
        raise NotAnActivity("message without a sender")
    raw = _s(activity.get("text"))[:_MAX_TEXT].replace("\x00", "")
    bot_ids = {_s(_d(activity.get("recipient")).get("id"))} - {""}

    # mention text ("<at>Ana Diaz</at>") -> token, in the order the entities list them
    replacements: list[tuple[str, str]] = []
    mentions: list[tuple[str, str]] = []
    for ent in _l(activity.get("entities")):
        if not isinstance(ent, dict) or ent.get("type") != "mention":
            continue
        mentioned = _d(ent.get("mentioned"))
        ent_text = _s(ent.get("text"))
        if not ent_text:
            continue
        if _s(mentioned.get("id")) in bot_ids or _s(mentioned.get("role")) == "bot":
            replacements.append((ent_text, " "))
            continue
        mid = _mention_id(mentioned)
        if not mid:
            continue
        name = _clean_name(_s(mentioned.get("name")) or html.unescape(_AT.sub(r"\1", ent_text)))
        mentions.append((mid, name))
        token = user_token(mid, name)
        replacements.append((ent_text, f" {token} "))

    text = raw
    placeholders: dict[str, str] = {}
    for i, (needle, repl) in enumerate(replacements):
        if needle in text:
            ph = f"\x00{i}\x00"
            text = text.replace(needle, ph, 1)
            placeholders[ph] = repl
    text = _AT.sub(" ", text)  # stray <at> without an entity: the bot itself in most clients
    text = _HTML_TAGS.sub(" ", text)
    text = html.unescape(text)
    for ph, repl in placeholders.items():
        text = text.replace(ph, repl)
    text = text.replace("\x00", "")
    text = " ".join(text.split())

    command: str | None = None
    first, _, rest = text.partition(" ")
    if first.lower() in COMMAND_WORDS:
        command = rest.strip() or "help"
    value = _d(activity.get("value"))
    return ParsedMessage(
        user_id=uid,
        key=activity_key(activity),
        text=text,
        command=command,
        profile=profile_of(activity),
        mentions=tuple(mentions),
        value=value,
        reply_to=_s(activity.get("replyToId")) or None,
    )


def is_card_action(activity: dict[str, Any]) -> bool:
    return activity.get("type") == "invoke" and activity.get("name") == INVOKE_CARD_ACTION


def parse_card_action(activity: dict[str, Any]) -> InboundAction:
    """An `adaptiveCard/action` invoke (or a message carrying a legacy Action.Submit value)."""
    uid = user_id_of(activity)
    if not uid:
        raise NotAnActivity("card action without a sender")
    value = _d(activity.get("value"))
    action = _d(value.get("action")) if "action" in value else value
    data = _d(action.get("data"))
    verb = _s(action.get("verb"))
    return InboundAction(
        platform=PLATFORM,
        user_id=uid,
        key=activity_key(activity),
        prompt_id=_opt_str(data.get("prompt_id")),
        button=_opt_str(data.get("value")) if verb != "hplj.submit" else None,
        values=_values(data),
        profile=profile_of(activity),
        # an invoke is answered with the refreshed card; a legacy Action.Submit is not
        refresh_in_place=activity.get("type") == "invoke",
    )


def _opt_str(v: Any) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    s = str(v)
    return s if s else None


def _values(data: dict[str, Any]) -> dict[str, Any]:
    kinds = {k: v for k, v in _d(data.get("fields")).items() if isinstance(k, str) and isinstance(v, str)}
    out: dict[str, Any] = {}
    for key, raw in data.items():
        if not isinstance(key, str) or not key.startswith(_INPUT_PREFIX):
            continue
        fid = key[len(_INPUT_PREFIX):]
        if not fid or raw is None or isinstance(raw, dict):
            continue
        kind = kinds.get(fid, "")
        if kind == "multi_choice":
            items = raw if isinstance(raw, list) else str(raw).split(",")
            vals = [str(x).strip() for x in items if str(x).strip()]
            if vals:
                out[fid] = vals
            continue
        if isinstance(raw, list):
            raw = ",".join(str(x) for x in raw)
        text = str(raw).strip() if kind != "long_text" else str(raw).strip("\r\n ")
        if not text:
            continue
        if kind == "date":
            m = _DATE.match(text)
            text = m.group(1) if m else text
        out[fid] = text
    return out


def address_of(activity: dict[str, Any]) -> dict[str, Any]:
    """How to reach the sender later (a ConversationReference, as plain JSON-able data)."""
    conv = _d(activity.get("conversation"))
    frm = _d(activity.get("from"))
    bot = _d(activity.get("recipient"))
    tenant = _s(conv.get("tenantId")) or _s(_d(_d(activity.get("channelData")).get("tenant")).get("id"))
    return {
        "channel_id": _s(activity.get("channelId")) or "msteams",
        "service_url": _s(activity.get("serviceUrl")),
        "tenant_id": tenant,
        "conversation_id": _s(conv.get("id")),
        "conversation_type": _s(conv.get("conversationType")) or "personal",
        "user_id": _s(frm.get("id")),
        "user_aad_id": user_id_of(activity),
        "user_name": _s(frm.get("name")),
        "bot_id": _s(bot.get("id")),
        "bot_name": _s(bot.get("name")),
        "locale": _s(activity.get("locale")),
    }


def users_to_remember(activity: dict[str, Any]) -> list[tuple[Profile, dict[str, Any]]]:
    """People whose 1:1 chat with the bot this activity reveals (install, members added).

    Only personal conversations give a DM address; group chats and channels are skipped so a
    participant's prompt is never posted where others can read it.
    """
    kind = activity.get("type")
    conv = _d(activity.get("conversation"))
    if (_s(conv.get("conversationType")) or "personal") != "personal":
        return []
    if not _s(conv.get("id")) or not _s(activity.get("serviceUrl")):
        return []
    if kind == "installationUpdate":
        action = _s(activity.get("action"))
        if action and not action.startswith("add"):
            return []
    elif kind == "conversationUpdate":
        added = [m for m in _l(activity.get("membersAdded")) if isinstance(m, dict)]
        if not added:
            return []
    elif kind != "message":
        return []
    uid = user_id_of(activity)
    if not uid:
        return []
    return [(profile_of(activity), address_of(activity))]
