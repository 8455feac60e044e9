"""Microsoft Graph over real HTTPS against the local fake tenant: people by e-mail, the manager
chain, mailbox calendars (Windows zones mapped to IANA), throttling, paging, guests, people with no
mailbox or no manager, and installing the bot's app to open a 1:1 chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time

import pytest

from adapters.teams.client import TeamsChat
from adapters.teams.directory import ChatTarget, GraphDirectory, iana_zone
from adapters.teams.graph import GraphClient, GraphConfig, GraphError
from ports.chat import DeliveryError
from tests.fakes.graph_api import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph


def contoso(fake: FakeGraph) -> None:
    fake.add_user("aad-sam", "Sam Senior", "sam@contoso.example", usage_location="GB",
                  mailbox=None)  # the top of the chart, and no mailbox
    fake.add_user("aad-maria", "Maria Manager", "maria@contoso.example", manager="aad-sam", usage_location="GB",
                  mailbox=FakeGraph.mailbox("GMT Standard Time", ["monday", "tuesday", "wednesday", "thursday",
                                                                  "friday"], "08:00", "16:00", "en-GB"))
    fake.add_user("aad-ana", "Ana Silva", "ana@contoso.example", manager="aad-maria", usage_location="US",
                  mailbox=FakeGraph.mailbox("Pacific Standard Time", ["monday", "tuesday", "wednesday",
                                                                      "thursday"], "10:00", "18:30", "en-US"))
    fake.add_user("aad-gwen", "Gwen Guest", "gwen@partner.example", guest=True, manager="aad-maria")


def client_for(fake: FakeGraph, secret: str = CLIENT_SECRET) -> GraphClient:
    return GraphClient(GraphConfig(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret,
                                   graph_url=fake.graph_url, authority=fake.authority, ca_file=str(fake.ca_file)))


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakeGraph, GraphDirectory]]:
    async with FakeGraph() as fake:
        contoso(fake)
        client = client_for(fake)
        yield fake, GraphDirectory(client, ChatTarget("http://127.0.0.1:9/", TENANT, CLIENT_ID))
        await client.close()


async def test_person_manager_chain_and_mailbox_calendars(graph) -> None:
    fake, directory = graph
    ana, maria, sam = await directory.directory_entries("Ana@Contoso.example")
    assert (ana.email, ana.manager_email, maria.manager_email, sam.manager_email) == (
        "ana@contoso.example", "maria@contoso.example", "sam@contoso.example", None)
    assert ana.tz == "America/Los_Angeles" and ana.work_days == (0, 1, 2, 3)
    assert (ana.work_start, ana.work_end, ana.locale, ana.country) == (time(10), time(18, 30), "en-US", "US")
    assert maria.tz == "Europe/London" and maria.work_start == time(8)
    assert sam.tz is None and sam.work_days is None and sam.country == "GB"  # no mailbox: nothing invented
    assert fake.token_requests == 1  # MSAL's cache: one token for all these calls


async def test_throttled_calls_are_retried_after_retry_after(graph) -> None:
    fake, directory = graph
    fake.throttle(2, retry_after=0.05)
    (entry, *_) = await directory.directory_entries("ana@contoso.example")
    assert entry.external_id == "aad-ana"
    assert len(fake.graph_calls("/users?")) == 3  # two 429s, then the answer


async def test_throttled_beyond_the_attempts_is_an_error_not_a_hang(graph) -> None:
    fake, directory = graph
    fake.throttle(10, retry_after=0.01)
    with pytest.raises(GraphError) as err:
        await directory.directory_entries("ana@contoso.example")
    assert err.value.status == 429


async def test_a_guest_has_no_mailbox_and_an_unknown_email_is_nobody(graph) -> None:
    fake, directory = graph
    gwen, _, _ = await directory.directory_entries("gwen@partner.example")
    assert gwen.manager_email == "maria@contoso.example" and gwen.tz is None
    assert not fake.graph_calls("aad-gwen/mailboxSettings")
    assert await directory.directory_entries("nobody@contoso.example") == []


async def test_opening_a_chat_installs_the_app_once_paging_through_installed_apps(graph) -> None:
    fake, directory = graph
    assert not fake.has_app("aad-ana")
    address = await directory.open_chat("aad-ana")
    assert address is not None and address["conversation_id"].startswith("19:aad-ana_")
    assert fake.has_app("aad-ana")
    assert any("skiptoken" in path for _, path in fake.graph_calls("installedApps"))  # 4 apps, 2 a page
    posts = [c for c in fake.calls if c[0] == "POST"]
    again = await directory.open_chat("aad-ana")
    assert again == address and [c for c in fake.calls if c[0] == "POST"] == posts  # not installed twice
    assert await directory.open_chat("aad-nobody") is None


def test_windows_zone_names_map_to_iana() -> None:
    assert iana_zone("W. Europe Standard Time") == "Europe/Berlin"
    assert iana_zone("India Standard Time") == "Asia/Calcutta" or iana_zone("India Standard Time") == "Asia/Kolkata"
    assert iana_zone("Europe/Madrid") == "Europe/Madrid"  # some mailboxes already carry IANA names
    assert iana_zone("Mars Standard Time") is None


async def test_teams_port_finds_people_by_email_and_refuses_the_unknown() -> None:
    async with FakeGraph() as fake:
        contoso(fake)
        client = client_for(fake)
        chat = TeamsChat(address_for=lambda _uid: None,
                         graph=GraphDirectory(client, ChatTarget("http://127.0.0.1:9/", TENANT, CLIENT_ID)))
        try:
            found = await chat.find_user_by_email("maria@contoso.example")
            assert found is not None and (found.user_id, found.name) == ("aad-maria", "Maria Manager")
            assert await chat.find_user_by_email("nobody@contoso.example") is None
            with pytest.raises(DeliveryError) as err:
                await chat.resolve_profile("aad-nobody")
            assert err.value.kind == "permanent"
        finally:
            await client.close()


async def test_a_wrong_client_secret_is_a_clear_failure() -> None:
    async with FakeGraph() as fake:
        contoso(fake)
        client = client_for(fake, secret="wrong")
        try:
            with pytest.raises(GraphError) as err:
                await client.user_by_email("ana@contoso.example")
            assert err.value.status == 401 and err.value.code == "invalid_client"
        finally:
            await client.close()
