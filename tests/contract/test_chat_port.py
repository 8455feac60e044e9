"""One contract suite over every `ChatPort` implementation.

RecordingChat and ConsoleChat in memory; SlackChat over real HTTP against FakeSlackApi and
TeamsChat over real HTTP (botbuilder's CloudAdapter in local mode) against FakeConnector, with its
directory in Microsoft Graph over HTTPS against FakeGraph, all on 127.0.0.1. Each harness knows how to read back what the platform now shows for a sent message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.console import ConsoleChat
from adapters.memory import RecordingChat
from adapters.slack.client import SlackChat
from adapters.teams.client import TeamsChat
from adapters.teams.directory import ChatTarget, GraphDirectory
from adapters.teams.graph import GraphClient, GraphConfig
from journeys.messages import Button, FormField, Link, Message, Option
from ports.chat import ChatPort, DeliveryError, SentRef
from tests.fakes.graph_api import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.teams_connector import FakeConnector

NAME = "Ana Silva"


@dataclass
class Harness:
    kind: str
    port: ChatPort
    user: str  # a user the platform knows
    shown: Callable[[SentRef], str]  # what the platform shows now for a sent message (any serialization)
    extra: dict[str, Any] = field(default_factory=dict)


def _recorded(chat: RecordingChat) -> Callable[[SentRef], str]:
    def shown(ref: SentRef) -> str:
        (d,) = [d for d in chat.sent if d.message_id == ref.message_id and d.conversation_id == ref.conversation_id]
        return json.dumps(d.current.to_json(), ensure_ascii=False)
    return shown


@pytest.fixture(params=["memory", "console", "slack", "teams"])
async def harness(request) -> AsyncIterator[Harness]:
    kind = request.param
    if kind == "memory":
        chat = RecordingChat()
        chat.add_user("U1", NAME, "ana@example.com", "Europe/London")
        yield Harness(kind, chat, "U1", _recorded(chat))
    elif kind == "console":
        lines: list[str] = []
        console = ConsoleChat(write=lines.append)
        console.add_user("U1", NAME, "ana@example.com", "Europe/London")
        yield Harness(kind, console, "U1", _recorded(console), {"lines": lines})
    elif kind == "slack":
        async with FakeSlackApi() as fake:
            fake.add_user("U1", name=NAME, tz="Europe/London", email="ana@example.com")
            chat = SlackChat("xoxb-test", api_url=fake.api_url)

            def shown(ref: SentRef) -> str:
                (m,) = [m for m in fake.posted(ref.conversation_id) if m["ts"] == ref.message_id]
                return json.dumps(m, ensure_ascii=False)

            yield Harness(kind, chat, "U1", shown, {"fake": fake})
    else:
        async with FakeConnector() as fake, FakeGraph() as graph:
            graph.add_user("aad-ana", NAME, "ana@example.com")
            client = GraphClient(GraphConfig(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                             graph_url=graph.graph_url, authority=graph.authority,
                                             ca_file=str(graph.ca_file)))
            book = {"aad-ana": {
                "channel_id": "msteams", "service_url": fake.url, "tenant_id": "tenant-1",
                "conversation_id": "a:conv-ana", "conversation_type": "personal", "user_id": "29:ana",
                "user_aad_id": "aad-ana", "user_name": NAME, "bot_id": "28:bot", "bot_name": "HPLJ",
                "email": "ana@example.com", "tz": "Europe/London"}}
            chat = TeamsChat(address_for=book.get, timeout=10,
                             graph=GraphDirectory(client, ChatTarget(fake.url, TENANT, CLIENT_ID)))

            def shown(ref: SentRef) -> str:
                calls = [c for c in fake.sent if c.conversation_id == ref.conversation_id
                         and (c.response_id == ref.message_id or (c.method == "PUT" and c.activity_id == ref.message_id))]
                assert calls, "the connector has no such activity"
                return json.dumps(calls[-1].body, ensure_ascii=False)

            yield Harness(kind, chat, "aad-ana", shown, {"fake": fake})
            await client.close()


def text_message(h: Harness, text: str) -> Message:
    return Message(recipient_id=h.user, text=text, title="Why this matters", journey_title="Active Listening",
                   context="Active Listening · step 2 of 20")


def rich_message(h: Harness, *, closed: bool = False) -> Message:
    return Message(
        recipient_id=h.user,
        title="Plan a moment that matters",
        text="Time to plan your first moment that matters: *what*, _when_ and which habit? <b>&amp;</b> 👂",
        journey_title="Active Listening",
        prompt_id="e1.mtm-safe",
        buttons=(Button("Approve", "approve", "primary"), Button("Coach", "coach"), Button("No", "no", "danger")),
        fields=(
            FormField("situation", "The moment", "long_text", hint="With whom?"),
            FormField("date", "When will it happen?", "date"),
            FormField("behaviour", "Which behaviour?", "choice",
                      tuple(Option(f"b{i}", f"Behaviour {i}") for i in range(1, 7))),
            FormField("rating", "How did it go? (1-5)", "rating", tuple(Option(str(i), str(i)) for i in range(1, 6)),
                      scale=5),
            FormField("barriers", "What got in the way?", "multi_choice", (Option("a", "A"), Option("b", "B"))),
            FormField("other", "Anything else?", "text", required=False, show_if_field="behaviour",
                      show_if_values=("b1",)),
        ),
        form_label="Plan my moment",
        links=(Link("HBR: What great listeners do", "https://hbr.org/2016/07/what-great-listeners-actually-do"),),
        context="Active Listening about Ana Silva · step 7 of 20",
        facts=(("Planned", "3"), ("Happened", "2")),
        closed=closed,
    )


async def test_open_dm_returns_a_conversation_for_a_known_user(harness: Harness):
    conv = await harness.port.open_dm(harness.user)
    assert isinstance(conv, str) and conv
    assert await harness.port.open_dm(harness.user) == conv  # stable


async def test_send_returns_a_ref_and_the_platform_shows_the_text(harness: Harness):
    conv = await harness.port.open_dm(harness.user)
    ref = await harness.port.send(conv, text_message(harness, "Listen to understand, not to reply."), "e1.key-idea:1")
    assert isinstance(ref, SentRef) and ref.conversation_id == conv and ref.message_id
    assert "Listen to understand, not to reply." in harness.shown(ref)
    if harness.kind == "console":
        assert any(NAME in line and "Listen to understand" in line for line in harness.extra["lines"])


async def test_two_sends_are_two_messages(harness: Harness):
    conv = await harness.port.open_dm(harness.user)
    a = await harness.port.send(conv, text_message(harness, "first"), "k:1")
    b = await harness.port.send(conv, text_message(harness, "second"), "k:2")
    assert a.message_id != b.message_id
    assert "first" in harness.shown(a) and "second" in harness.shown(b)


async def test_update_changes_the_message_in_place(harness: Harness):
    if not harness.port.capabilities.update_in_place:
        pytest.skip("platform cannot update messages")
    conv = await harness.port.open_dm(harness.user)
    ref = await harness.port.send(conv, rich_message(harness), "e1.mtm-safe:1")
    closed = Message(recipient_id=harness.user, title="Plan a moment that matters",
                     text="Your moment is planned.\n\n✅ Answered on Wed", journey_title="Active Listening",
                     prompt_id="e1.mtm-safe", closed=True)
    await harness.port.update(ref, closed)
    now = harness.shown(ref)
    assert "Your moment is planned." in now
    assert "Approve" not in now  # the buttons are gone


async def test_resolve_profile_returns_the_name(harness: Harness):
    profile = await harness.port.resolve_profile(harness.user)
    assert profile.name == NAME
    assert profile.user_id == harness.user


async def test_open_dm_for_an_unknown_user_is_a_permanent_failure(harness: Harness):
    if harness.kind == "console":
        pytest.skip("ConsoleChat opens a DM for any name by design (`hplj chat` talks as anyone)")
    with pytest.raises(DeliveryError) as err:
        await harness.port.open_dm("U-NOBODY")
    assert err.value.kind == "permanent"


async def test_resolve_profile_for_an_unknown_user_is_a_permanent_failure(harness: Harness):
    with pytest.raises(DeliveryError) as err:
        await harness.port.resolve_profile("U-NOBODY")
    assert err.value.kind == "permanent"


async def test_find_user_by_email_finds_the_person_or_nobody(harness: Harness):
    found = await harness.port.find_user_by_email("ANA@example.com")
    assert found is not None and found.user_id == harness.user and found.name == NAME
    assert await harness.port.find_user_by_email("nobody@example.com") is None


async def test_find_delivery_finds_a_sent_message_when_the_platform_can_reconcile(harness: Harness):
    conv = await harness.port.open_dm(harness.user)
    ref = await harness.port.send(conv, text_message(harness, "hello"), "e1.kickoff:1")
    await harness.port.send(conv, text_message(harness, "other"), "e1.key-idea:1")
    found = await harness.port.find_delivery(conv, "e1.kickoff:1")
    missing = await harness.port.find_delivery(conv, "e1.never-sent:1")
    if harness.port.capabilities.reconcile:
        assert found == ref
    else:
        assert found is None
    assert missing is None


@pytest.mark.parametrize("closed", [False, True])
async def test_every_port_accepts_a_message_with_buttons_fields_and_links(harness: Harness, closed: bool):
    conv = await harness.port.open_dm(harness.user)
    ref = await harness.port.send(conv, rich_message(harness, closed=closed), f"e1.mtm-safe:{int(closed)}")
    shown = harness.shown(ref)
    assert "Plan a moment that matters" in shown
    if not closed:
        assert "Approve" in shown


async def test_platform_and_capabilities_are_declared(harness: Harness):
    assert harness.port.platform == {"memory": "memory", "console": "console", "slack": "slack",
                                     "teams": "teams"}[harness.kind]
    caps = harness.port.capabilities
    assert isinstance(caps.update_in_place, bool) and isinstance(caps.reconcile, bool)


# --- what fits --------------------------------------------------------------------------------

SMALL_EXPORT = '{"person": {"name": "Ana Silva"}, "prompts": 3}'
BIG_EXPORT = '{"a": "' + "z" * 16_000 + '"}'


def export_message(h: Harness, attachment: str) -> Message:
    return Message(recipient_id=h.user, text="Everything stored about Ana Silva.", title="Export",
                   attachment_name="export-p1.json", attachment_text=attachment)


async def test_what_a_port_says_fits_is_shown_whole(harness: Harness):
    conv = await harness.port.open_dm(harness.user)
    for n, attachment in enumerate((SMALL_EXPORT, BIG_EXPORT)):
        msg = export_message(harness, attachment)
        if harness.port.fits(msg):
            ref = await harness.port.send(conv, msg, f"export:{n}")
            # the platform shows the attachment verbatim (JSON-escaped, as the readers serialize it)
            assert json.dumps(attachment, ensure_ascii=False)[1:-1] in harness.shown(ref), harness.kind


async def test_a_small_export_fits_everywhere_and_a_big_one_only_where_nothing_is_cut(harness: Harness):
    assert harness.port.fits(export_message(harness, SMALL_EXPORT))
    cuts = harness.kind in ("slack", "teams")  # block / card size limits
    assert harness.port.fits(export_message(harness, BIG_EXPORT)) is not cuts


async def test_slack_says_markup_characters_do_not_fit(harness: Harness):
    fenced = export_message(harness, '{"a": "```<@U1> & co"}')
    assert harness.port.fits(fenced) is (harness.kind != "slack")  # Slack would read them as markup
