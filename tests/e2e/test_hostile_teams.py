"""Hostile input over Teams' real HTTP path (issue 12, items 3 and 6; the Teams side of item 1).

The real `BotService` behind `build_app`, Teams in local mode or with an app id, replies going to
`FakeConnector`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.models import AuditRow, InboundRow, PersonRow
from tests.e2e.success_cases import SUCCESS_WITH_CONTACT, classified
from tests.e2e.test_teams_scenario import (
    ADMIN,
    ANA,
    BEN,
    BOT,
    CARD,
    CHEN,
    START,
    TENANT,
    User,
    World,
    at_local,
    click,
    close_world,
    enroll_by_command,
    install,
    install_everyone,
    latest_card_for,
    make_world,
    mention,
    message,
    teams_settings,
)
from tests.json_walk import walk

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

APP_ID = "11111111-2222-3333-4444-555555555555"
NESTED = b"[" * 1100 + b"]" * 1100  # ~2 KB: json.loads raises RecursionError on it
NESTED_ACTIVITY = ('{"type":"message","value":' + "[" * 1000 + "]" * 1000 + "}").encode()


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


@pytest.fixture
async def with_app_id(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path, settings_=teams_settings(microsoft_app_id=APP_ID, microsoft_app_password="pw",
                                                            teams_local_mode=False))
    yield w
    await close_world(w)


async def _counts(w: World) -> tuple[int, ...]:
    return tuple([await w.scalar(select(func.count()).select_from(m)) for m in (PersonRow, InboundRow, AuditRow)])


def _no_errors(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize("body", [NESTED, NESTED_ACTIVITY])
@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer not-a-jwt"}])
async def test_nested_json_with_an_app_id_is_refused_before_parsing(
        with_app_id: World, caplog: pytest.LogCaptureFixture, body: bytes, auth: dict[str, str]) -> None:
    """Item 3: unauthenticated deeply nested JSON: a 4xx, no RecursionError, nothing stored."""
    caplog.set_level(logging.INFO)
    before = await _counts(with_app_id)
    status, reply = await with_app_id.post(body, auth)
    assert status in (400, 401), (status, reply)
    if not auth:
        assert status == 401  # no bearer token: refused before the body is read
    assert "Traceback" not in json.dumps(reply)
    assert await _counts(with_app_id) == before
    _no_errors(caplog)


async def test_nested_json_in_local_mode_is_a_400(local: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for body in (NESTED, NESTED_ACTIVITY):
        status, reply = await local.post(body)
        assert status == 400 and "nested" in json.dumps(reply), reply
    _no_errors(caplog)


async def test_a_redelivered_admin_command_runs_once(local: World) -> None:
    """Item 6: the same Teams activity (same id) twice: one reply, one set of audit rows."""
    w = local
    await install_everyone(w)
    act = message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey admins add <at>{ANA.name}</at>",
                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}, mention(ANA)])
    before = len(w.calls_to(ADMIN))
    assert (await w.post(act))[0] == 200
    replies = len(w.calls_to(ADMIN))
    audits = await w.scalar(select(func.count()).select_from(AuditRow))
    assert replies == before + 1
    assert (await w.post(act))[0] == 200
    assert len(w.calls_to(ADMIN)) == replies
    assert await w.scalar(select(func.count()).select_from(AuditRow)) == audits
    other = dict(act, id=str(act["id"]) + "-new")  # a new activity with the same words still runs
    assert (await w.post(other))[0] == 200
    assert len(w.calls_to(ADMIN)) == replies + 1


async def test_typed_markdown_in_a_reply_is_not_a_link(local: World) -> None:
    """Item 1, Teams side: what an admin typed is echoed as text, never as a Markdown link or HTML."""
    w = local
    await install_everyone(w)
    before = len(w.calls_to(ADMIN))
    act = message(ADMIN, w.fake.url, "<at>HPLJ Coach</at> journey status [approve](https://evil.example)",
                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}])
    assert (await w.post(act))[0] == 200
    sent = w.calls_to(ADMIN)[before:]
    assert "evil.example" in json.dumps([(c.text, c.card) for c in sent])  # the words are shown...
    for call in sent:
        texts: list[str] = [call.text or ""]
        texts += [b.get("text", "") for b in walk(call.card or {}) if b.get("type") in ("TextBlock", "Fact")]
        for t in texts:  # ...but never as a link or a tag
            assert "](https://evil" not in t and "<b>" not in t, t




# ---- issue 23 ----------------------------------------------------------------------------------

async def _focus_card(w: World) -> str:
    """Everyone installed, Ana and Chen enrolled, Ana's focus question (a choice) open."""
    await install_everyone(w)
    assert (await enroll_by_command(w))[0] == 200
    await w.tick(at_local(START - timedelta(days=1), "14:31", ANA.tz))
    pid, _ = latest_card_for(w, ANA, "focus-situation")
    return pid


@pytest.mark.parametrize("typed", ["\u00b2", "\u0663", "\uff11", "1\u2070", "\u2460"])
async def test_a_unicode_digit_typed_to_a_choice_is_asked_again(local: World, caplog: pytest.LogCaptureFixture,
                                                                 typed: str) -> None:
    """Item 4: a superscript, Arabic-Indic, full-width or circled digit is not a number: no 500, no
    traceback, nothing saved; the bot asks again."""
    caplog.set_level(logging.INFO)
    w = local
    pid = await _focus_card(w)
    before = len(w.calls_to(ANA))
    card = w.fake.activity_carrying(ANA.conv, pid)
    act = message(ANA, w.fake.url, typed)
    act["replyToId"] = card
    status, _ = await w.post(act)
    assert status == 200
    assert (await w.prompt(pid)).status == "open"
    said = "\n".join(w.texts_to(ANA)[before:])
    assert said and "went wrong" not in said.lower(), said
    _no_errors(caplog)


async def test_someone_elses_prompt_is_never_shown_on_a_repeated_invoke(local: World) -> None:
    """Item 8: Ben's invoke for Ana's prompt, sent again (a retry with the same activity id, which
    the bot has already handled, so the endpoint renders the prompt itself), and a new one: each a
    refusal, never Ana's card."""
    from tests.e2e.test_teams_scenario import invoke

    w = local
    pid = await _focus_card(w)
    act = invoke(BEN, w.fake.url, {"prompt_id": pid, "value": "one-to-ones"}, "hplj.button")
    for again in (act, act, invoke(BEN, w.fake.url, {"prompt_id": pid, "value": "one-to-ones"}, "hplj.button")):
        status, body = await w.post(again)
        assert status == 200 and body["type"] != CARD, body
        assert "someone else" in json.dumps(body), body
    assert (await w.prompt(pid)).status == "open"


async def test_the_same_activity_id_in_two_conversations_is_two_messages(local: World) -> None:
    """Item 10: Teams activity ids are per-conversation timestamps: Ana's and Chen's messages with
    the same id are both answered."""
    w = local
    await install_everyone(w)
    counts = [len(w.calls_to(u)) for u in (ANA, CHEN)]
    for user in (ANA, CHEN):
        act = message(user, w.fake.url, "help")
        act["id"] = "1764494102123"
        assert (await w.post(act))[0] == 200
    assert [len(w.calls_to(u)) for u in (ANA, CHEN)] == [counts[0] + 1, counts[1] + 1]


OTHER_TENANT = "0e0e0e0e-9999-4999-8999-0000000000ff"
MALLORY = User("dddddddd-0000-4000-8000-00000000d0d0", "Mallory Other", "Europe/Paris", "Mallory")


def _from_other_tenant(act: dict[str, object]) -> dict[str, object]:
    act["conversation"] = {**act["conversation"], "tenantId": OTHER_TENANT}  # type: ignore[dict-item]
    act["channelData"] = {"tenant": {"id": OTHER_TENANT}}
    return act


async def test_activities_from_other_tenants_get_403_and_store_nothing(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Item 11: with MICROSOFT_APP_TENANT_ID set and no allow-list, only the app's own tenant is
    let in; another tenant's install, message and card action get 403 and nothing is stored."""
    caplog.set_level(logging.INFO)
    w = await make_world(tmp_path, settings_=teams_settings(microsoft_app_tenant_id=TENANT))
    try:
        assert (await w.post(install(ADMIN, w.fake.url)))[0] == 200
        before = await _counts(w)
        for act in (install(MALLORY, w.fake.url), message(MALLORY, w.fake.url, "journey status"),
                    message(MALLORY, w.fake.url, "hello")):
            status, body = await w.post(_from_other_tenant(act))
            assert status == 403, body
        no_tenant = message(MALLORY, w.fake.url, "hello")
        no_tenant["conversation"] = {"id": MALLORY.conv}
        no_tenant["channelData"] = {}
        assert (await w.post(no_tenant))[0] == 403
        assert await _counts(w) == before
        assert w.calls_to(MALLORY) == []
        _no_errors(caplog)
    finally:
        await close_world(w)


async def test_admin_emails_match_only_inside_allowed_tenants(tmp_path: Path) -> None:
    """Item 11: someone from another tenant whose roster e-mail is an HPLJ_ADMINS address (stored
    before the allow-list was set) is not an admin; the same address in the allowed tenant is."""
    email = "lena@contoso.example"
    open_ = teams_settings(hplj_admins=email)
    w = await make_world(tmp_path, settings_=open_, admins={email})
    w.fake.add_member(MALLORY.teams_id, MALLORY.aad, MALLORY.name, email, tenant=OTHER_TENANT)
    assert (await w.post(_from_other_tenant(install(MALLORY, w.fake.url))))[0] == 200
    assert await w.service.is_admin("teams", MALLORY.aad)  # no allow-list: any tenant, as configured
    await close_world(w)
    w = await make_world(tmp_path, settings_=teams_settings(hplj_admins=email, microsoft_allowed_tenants=TENANT),
                         admins={email})
    try:
        w.fake.add_member(ADMIN.teams_id, ADMIN.aad, ADMIN.name, email, tenant=TENANT)
        assert (await w.post(install(ADMIN, w.fake.url)))[0] == 200
        assert await w.service.is_admin("teams", ADMIN.aad)
        assert not await w.service.is_admin("teams", MALLORY.aad)
        status, _ = await w.post(_from_other_tenant(message(MALLORY, w.fake.url, "journey status")))
        assert status == 403
    finally:
        await close_world(w)


async def test_an_admin_cannot_overwrite_a_participants_no(local: World) -> None:
    """Item 9: Ana declines the interview on her card; `journey interview @Ana agreed` is refused
    with one sentence saying why, and `interviews` does not show her as booked."""

    from store.models import EventRow

    w = local
    await install_everyone(w)
    assert (await enroll_by_command(w))[0] == 200
    cohort = await classified(w, START, {ANA: SUCCESS_WITH_CONTACT})
    bot = {"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}

    async def say(text: str, mentions: list[dict[str, object]] = ()) -> str:  # type: ignore[assignment]
        before = len(w.calls_to(ADMIN))
        status, _ = await w.post(message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey {text}", [bot, *mentions]))
        assert status == 200
        return "\n".join(w.texts_to(ADMIN)[before:])

    await say(f"interviews {cohort}")
    await w.tick(w.clock.now() + timedelta(days=2))
    pid, _ = latest_card_for(w, ANA, "interview-consent")
    assert (await click(w, ANA, pid, "no"))[0] == 200
    events = await w.scalar(select(func.count()).select_from(EventRow))
    refused = await say(f"interview <at>{ANA.name}</at> agreed", [mention(ANA)])
    assert "declined the interview themselves" in refused and "nothing was recorded" in refused, refused
    assert await w.scalar(select(func.count()).select_from(EventRow)) == events
    listing = await say(f"interviews {cohort}")
    assert "booked" not in listing, listing
