"""manifest/slack.yml grants exactly the scopes the adapter's Web API calls and events need."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from adapters.slack.client import WEB_API_METHODS
from adapters.slack.lifecycle import EVENTS as ACCESS_EVENTS

ROOT = Path(__file__).resolve().parents[4]
MANIFEST = ROOT / "manifest" / "slack.yml"

# Bot-token scope each Web API method requires (Slack's method reference); None: no scope.
METHOD_SCOPES = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",  # DMs only; mpim:write / channels:manage not needed
    "conversations.history": "im:history",  # only the bot's DMs are read
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "users.profile.get": "users.profile:read",  # custom profile fields: manager, working hours
    "views.open": None,
    "views.publish": None,
    "files.getUploadURLExternal": "files:write",  # reports as files (adapters/slack/files.py)
    "files.completeUploadExternal": "files:write",
}
# Slack's event reference: app_uninstalled and tokens_revoked need no scope.
EVENT_SCOPES = {"message.im": "im:history", "app_home_opened": None, "app_uninstalled": None, "tokens_revoked": None}


def _manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def _methods_called_in_source() -> set[str]:
    """Web API methods the adapter code calls (`client.chat_postMessage(...)`,
    `self._call("chat.postMessage", ...)`)."""
    names: set[str] = set()
    for path in (ROOT / "adapters" / "slack").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and re.fullmatch(
                r"(auth|chat|conversations|files|users|views)_[A-Za-z]+", node.attr
            ):
                names.add(node.attr.replace("_", ".", 1))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def test_declared_methods_match_the_code():
    called = _methods_called_in_source()
    called.add("auth.test")  # bolt's single-workspace authorization calls it
    assert called == set(WEB_API_METHODS)


def test_scopes_are_exactly_what_the_calls_need():
    m = _manifest()
    granted = set(m["oauth_config"]["scopes"]["bot"])
    needed = {METHOD_SCOPES[method] for method in WEB_API_METHODS} | {
        EVENT_SCOPES[e] for e in m["settings"]["event_subscriptions"]["bot_events"]
    }
    needed.discard(None)
    needed.add("commands")  # the slash command
    assert granted == needed
    assert "oauth_config" in m and "user" not in m["oauth_config"]["scopes"]


def test_events_interactivity_and_command():
    m = _manifest()
    s = m["settings"]
    # the bot learns of an uninstall or a revoked token only if it subscribes to both events
    assert set(s["event_subscriptions"]["bot_events"]) == {"message.im", "app_home_opened", *ACCESS_EVENTS}
    assert set(ACCESS_EVENTS) == {"app_uninstalled", "tokens_revoked"}
    assert s["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert s["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://YOUR-HOST/slack/events",
    }
    assert s["socket_mode_enabled"] is False
    [cmd] = m["features"]["slash_commands"]
    assert cmd["command"] == "/journey" and cmd["url"].endswith("/slack/events")
    assert cmd["should_escape"] is True and cmd["usage_hint"]
    assert m["features"]["app_home"]["messages_tab_enabled"] is True
    assert m["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert m["features"]["bot_user"]["display_name"] == "hplj"
