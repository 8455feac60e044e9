"""SlackChat (the outbound ChatPort) against the fake Slack Web API over real HTTP."""

from __future__ import annotations

import pytest

from adapters.slack.client import SlackChat, make_web_client
from journeys.messages import Button, Message
from ports.chat import DeliveryError, SentRef
from tests.fakes.slack_api import FakeSlackApi, Fault

MSG = Message(
    recipient_id="p-ana",
    text="Before the course: talk with your manager about what you want to change.",
    journey_title="Active listening",
    prompt_id="pr-1",
    buttons=(Button("Done", "done", "primary"),),
)


@pytest.fixture
async def chat(fake):
    return SlackChat(fake.token, api_url=fake.api_url)


async def test_default_retry_handlers_are_off(fake):
    assert make_web_client("xoxb", fake.api_url).retry_handlers == []
    assert SlackChat("xoxb", api_url=fake.api_url).client.retry_handlers == []


async def test_capabilities(chat):
    caps = chat.capabilities
    assert chat.platform == "slack"
    assert caps.update_in_place and caps.reconcile


async def test_send_carries_metadata_blocks_and_text(fake, chat):
    channel = await chat.open_dm("U1")
    assert channel == "DU1"
    assert await chat.open_dm("U1") == "DU1"
    assert len(fake.calls_to("conversations.open")) == 1  # cached
    ref = await chat.send(channel, MSG, "dl-123")
    [call] = fake.calls_to("chat.postMessage")
    assert call.headers["Authorization"] == "Bearer " + fake.token
    assert call.params["metadata"] == {
        "event_type": "hplj_delivery",
        "event_payload": {"delivery_id": "dl-123", "prompt_id": "pr-1"},
    }
    assert call.params["blocks"][0]["type"] == "header"
    assert call.params["text"].startswith("Active listening: Before the course")
    assert ref == SentRef("DU1", fake.posted("DU1")[0]["ts"])


async def test_update_in_place(fake, chat):
    channel = await chat.open_dm("U1")
    ref = await chat.send(channel, MSG, "dl-1")
    await chat.update(ref, Message(**{**MSG.__dict__, "closed": True}))
    [call] = fake.calls_to("chat.update")
    assert call.params["ts"] == ref.message_id
    assert not [b for b in call.params["blocks"] if b["type"] == "actions"]


async def test_429_is_rate_limited_with_retry_after(fake, chat):
    fake.fail("chat.postMessage", Fault.rate_limited(retry_after=7))
    with pytest.raises(DeliveryError) as err:
        await chat.send(await chat.open_dm("U1"), MSG, "dl-1")
    assert err.value.kind == "rate_limited" and err.value.retry_after == 7.0
    assert len(fake.calls_to("chat.postMessage")) == 1  # no silent retry
    assert fake.posted() == []


async def test_fake_rate_limits_per_channel():
    async with FakeSlackApi(per_channel_per_sec=1) as fake:
        fake.add_user("U1")
        chat = SlackChat(fake.token, api_url=fake.api_url)
        channel = await chat.open_dm("U1")
        await chat.send(channel, MSG, "dl-1")
        with pytest.raises(DeliveryError) as err:
            await chat.send(channel, MSG, "dl-2")
        assert err.value.kind == "rate_limited" and err.value.retry_after == 1.0


@pytest.mark.parametrize(
    "error",
    [
        "user_not_found",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "invalid_blocks",
    ],
)
async def test_permanent_errors(fake, chat, error):
    fake.fail("chat.postMessage", Fault.error(error))
    with pytest.raises(DeliveryError) as err:
        await chat.send("DU1", MSG, "dl-1")
    assert err.value.kind == "permanent" and err.value.reason == error


async def test_real_permanent_errors_from_the_fake(fake, chat):
    with pytest.raises(DeliveryError) as err:
        await chat.open_dm("UNOBODY")
    assert (err.value.kind, err.value.reason) == ("permanent", "user_not_found")
    fake.add_user("UGONE", deleted=False)
    channel = await chat.open_dm("UGONE")
    fake.users["UGONE"].deleted = True
    with pytest.raises(DeliveryError) as err:
        await chat.send(channel, MSG, "dl-1")
    assert (err.value.kind, err.value.reason) == ("permanent", "account_inactive")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.http(500), "retry"),
        (Fault.http(503), "retry"),
        (Fault.error("service_unavailable"), "retry"),
        (Fault.http(502), "in_doubt"),
        (Fault.http(504), "in_doubt"),
        (Fault.error("internal_error"), "in_doubt"),
        (Fault.drop_before_accept(), "in_doubt"),  # the client can't tell the two drops apart
    ],
)
async def test_server_errors(fake, chat, fault, kind):
    fake.fail("chat.postMessage", fault)
    with pytest.raises(DeliveryError) as err:
        await chat.send("DU1", MSG, "dl-1")
    assert err.value.kind == kind
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_dropped_after_accept_is_in_doubt_and_reconciled(fake, chat):
    channel = await chat.open_dm("U1")
    await chat.send(channel, MSG, "dl-older")
    fake.fail("chat.postMessage", Fault.drop_after_accept())
    with pytest.raises(DeliveryError) as err:
        await chat.send(channel, MSG, "dl-7")
    assert err.value.kind == "in_doubt"
    assert len(fake.calls_to("chat.postMessage")) == 2  # slack_sdk did not re-post it
    assert len(fake.posted(channel)) == 2  # ...but Slack had accepted it
    found = await chat.find_delivery(channel, "dl-7")
    assert found == SentRef(channel, fake.posted(channel)[-1]["ts"])
    [hist] = fake.calls_to("conversations.history")
    assert hist.params["include_all_metadata"] in ("1", "true", True)
    assert await chat.find_delivery(channel, "dl-never") is None


async def test_find_delivery_is_bounded_and_pages(fake):
    chat = SlackChat(fake.token, api_url=fake.api_url, history_limit=150)
    channel = await chat.open_dm("U1")
    await chat.send(channel, MSG, "dl-first")
    for i in range(160):
        await chat.send(channel, MSG, f"dl-{i}")
    assert (await chat.find_delivery(channel, "dl-30")) is not None  # second page
    assert await chat.find_delivery(channel, "dl-first") is None  # beyond the look-back
    assert all(int(c.params["limit"]) <= 100 for c in fake.calls_to("conversations.history"))


async def test_find_delivery_fails_loudly_when_history_is_unreadable(fake, chat):
    fake.fail("conversations.history", Fault.http(503))
    with pytest.raises(DeliveryError) as err:
        await chat.find_delivery("DU1", "dl-1")
    assert err.value.kind == "retry"


async def test_resolve_profile_is_cached(fake):
    now = [1000.0]
    chat = SlackChat(fake.token, api_url=fake.api_url, profile_ttl=60, clock=lambda: now[0])
    p = await chat.resolve_profile("U1")
    assert (p.user_id, p.name, p.email, p.tz) == ("U1", "ana", "ana@example.com", "Europe/Berlin")
    fake.users["U1"].tz = "Asia/Tokyo"
    assert (await chat.resolve_profile("U1")).tz == "Europe/Berlin"
    assert len(fake.calls_to("users.info")) == 1
    now[0] += 61
    assert (await chat.resolve_profile("U1")).tz == "Asia/Tokyo"
    assert len(fake.calls_to("users.info")) == 2
    with pytest.raises(DeliveryError) as err:
        await chat.resolve_profile("UNOBODY")
    assert err.value.kind == "permanent"


async def test_find_user_by_email(fake, chat):
    p = await chat.find_user_by_email("MO@example.com")
    assert p is not None and p.user_id == "UMGR" and p.tz == "America/New_York"
    assert await chat.find_user_by_email("nobody@example.com") is None
    [call, _] = fake.calls_to("users.lookupByEmail")
    assert call.params["email"] == "MO@example.com"
