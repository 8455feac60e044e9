"""TeamsChat against the local fake Bot Connector (real HTTP, auth disabled)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from teams_card_schema import assert_valid_card

from adapters.teams.client import TeamsChat, classify_error
from journeys.messages import Button, Message
from ports.chat import DeliveryError, SentRef
from tests.fakes.teams_connector import FakeConnector

ANA = "aaaaaaaa-0000-4000-8000-00000000a0a0"
CONV = "a:1xPersonalChatWithAna"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as f:
        yield f


def address(fake: FakeConnector, **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": "msteams", "service_url": fake.url, "tenant_id": TENANT, "conversation_id": CONV,
        "conversation_type": "personal", "user_id": "29:1Ana", "user_aad_id": ANA, "user_name": "Ana Diaz",
        "bot_id": "28:bot", "bot_name": "HPLJ Coach", "locale": "en-US", **extra,
    }


@pytest.fixture
def chat(fake: FakeConnector) -> TeamsChat:
    book = {ANA: address(fake, tz="Europe/Madrid")}
    return TeamsChat(address_for=book.get, timeout=5)


def prompt(closed: bool = False) -> Message:
    return Message(recipient_id=ANA, text="Ana asks for support", title="Support request",
                   journey_title="Active listening", prompt_id="p-1",
                   buttons=(Button("Approve", "approve", "primary"), Button("Coach", "coach")), closed=closed)


async def test_send_posts_a_card_and_update_puts_it(fake: FakeConnector, chat: TeamsChat) -> None:
    assert chat.platform == "teams" and chat.capabilities.update_in_place and not chat.capabilities.reconcile
    assert await chat.open_dm(ANA) == CONV
    ref = await chat.send(CONV, prompt(), "d-1")
    assert ref.conversation_id == CONV and ref.message_id
    [call] = fake.sent
    assert call.method == "POST" and call.conversation_id == CONV
    assert call.activity_id  # the id botbuilder made up for the proactive "reply"
    assert "Authorization" not in call.headers  # local mode: no token
    assert call.card is not None
    assert_valid_card(call.card)
    assert call.body["summary"] == "Support request"
    assert call.body["conversation"]["id"] == CONV

    await chat.update(ref, prompt(closed=True))
    put = fake.sent[-1]
    assert put.method == "PUT" and put.path.endswith(f"/activities/{ref.message_id}")
    assert put.card is not None and "actions" not in put.card
    assert_valid_card(put.card)


async def test_open_dm_creates_the_conversation_when_only_the_user_is_known(fake: FakeConnector) -> None:
    addr = address(fake)
    del addr["conversation_id"]
    chat = TeamsChat(address_for=lambda uid: addr if uid == ANA else None, timeout=5)
    conv = await chat.open_dm(ANA)
    [call] = fake.sent
    assert call.kind == "create_conversation"
    assert call.body["members"] == [{"id": "29:1Ana"}]
    assert call.body["channelData"] == {"tenant": {"id": TENANT}}
    assert conv == call.response_id


async def test_unknown_user_is_permanent(chat: TeamsChat) -> None:
    with pytest.raises(DeliveryError) as err:
        await chat.open_dm("nobody")
    assert err.value.kind == "permanent" and err.value.reason == "NoConversationReference"


@pytest.mark.parametrize(
    ("status", "code", "kind", "reason"),
    [
        (403, "ConversationBlockedByUser", "permanent", "ConversationBlockedByUser"),
        (403, "BotNotInConversationRoster", "permanent", "BotNotInConversationRoster"),
        (403, "BotDisabledByAdmin", "permanent", "BotDisabledByAdmin"),
        (404, "ConversationNotFound", "permanent", "ConversationNotFound"),
        (412, "PreconditionFailed", "retry", None),
        (503, "", "retry", None),
        (502, "", "in_doubt", None),
        (504, "", "in_doubt", None),
    ],
)
async def test_connector_errors_are_classified(fake: FakeConnector, chat: TeamsChat, status: int, code: str,
                                               kind: str, reason: str | None) -> None:
    fake.fail_next(status, code=code)
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-1")
    assert err.value.kind == kind
    if reason:
        assert err.value.reason == reason
    assert len(fake.calls) == 1  # botbuilder does not retry, and neither do we


async def test_429_is_rate_limited_with_retry_after(fake: FakeConnector, chat: TeamsChat) -> None:
    fake.fail_next(429, retry_after=7)
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-1")
    assert err.value.kind == "rate_limited" and err.value.retry_after == 7


async def test_rate_limit_of_the_fake_answers_429(fake: FakeConnector, chat: TeamsChat) -> None:
    fake.rate_limit(per_conversation_per_second=2, retry_after=1)
    await chat.send(CONV, prompt(), "d-1")
    await chat.send(CONV, prompt(), "d-2")
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-3")
    assert err.value.kind == "rate_limited" and err.value.retry_after == 1


async def test_dropped_connection_is_in_doubt(fake: FakeConnector, chat: TeamsChat) -> None:
    fake.fail_next(drop=True)
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-1")
    assert err.value.kind == "in_doubt"
    assert len(fake.calls) == 1  # it reached the service: it may have been posted


async def test_timeout_is_in_doubt(fake: FakeConnector) -> None:
    fake.delay = 2.0
    chat = TeamsChat(address_for={ANA: address(fake)}.get, timeout=0.3)
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-1")
    assert err.value.kind == "in_doubt"


async def test_connection_refused_is_retry() -> None:
    addr = {"service_url": "http://127.0.0.1:1/", "conversation_id": CONV, "user_id": "29:1Ana", "bot_id": "28:b"}
    chat = TeamsChat(address_for=lambda uid: addr, timeout=5)
    with pytest.raises(DeliveryError) as err:
        await chat.send(CONV, prompt(), "d-1")
    assert err.value.kind == "retry"


async def test_errors_do_not_reach_on_turn_error(fake: FakeConnector, chat: TeamsChat) -> None:
    seen: list[BaseException] = []

    async def on_turn_error(context: Any, error: BaseException) -> None:
        seen.append(error)

    chat.adapter.on_turn_error = on_turn_error
    fake.fail_next(403, code="ConversationBlockedByUser")
    with pytest.raises(DeliveryError):
        await chat.send(CONV, prompt(), "d-1")
    assert seen == []


async def test_profiles_and_lookups(fake: FakeConnector, chat: TeamsChat) -> None:
    profile = await chat.resolve_profile(ANA)
    assert profile.name == "Ana Diaz" and profile.tz == "Europe/Madrid"
    assert (await chat.resolve_profile("stranger")).name == "stranger"
    assert await chat.find_user_by_email("ana@example.com") is None
    assert await chat.find_delivery(CONV, "d-1") is None

    async def by_email(email: str) -> Any:
        return await chat.resolve_profile(ANA) if email == "ana@example.com" else None

    chat2 = TeamsChat(address_for={ANA: address(fake)}.get, user_for_email=by_email)
    found = await chat2.find_user_by_email("ana@example.com")
    assert found is not None and found.user_id == ANA


def test_classify_unknown_errors_in_doubt() -> None:
    assert classify_error(RuntimeError("boom")).kind == "in_doubt"
    err = DeliveryError("permanent", "x")
    assert classify_error(err) is err
    assert SentRef("c", "m") == SentRef("c", "m")
