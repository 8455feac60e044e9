"""The Teams end-to-end scenario over real HTTP (issue 5, "Tests").

The real `BotService` (SQLite file, simulated clock) behind the app `bot.app.wiring.build_app` builds,
served on a free port with Teams in local mode (no auth). Activities are POSTed to
`/api/messages` with `serviceUrl` pointing at `FakeConnector`, which records every proactive send,
reply and in-place update. Every Adaptive Card the bot renders is validated against the
Adaptive Cards 1.5 JSON Schema.
"""

from __future__ import annotations

import asyncio
import copy
import http.client
import itertools
import json
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.wiring import build_app, build_service
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import EnrollmentRow, InboundRow, MtmRow, OutboxRow, PersonRow, PromptRow
from tests.e2e.success_cases import SUCCESS_WITH_CONTACT, classified
from tests.fakes.teams_connector import Call, FakeConnector
from tests.json_walk import walk
from tests.unit.adapters.teams.teams_card_schema import assert_valid_card

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": "28:5b6c7d8e-2222-4b4b-8c8c-000000000abc", "name": "HPLJ Coach"}
CARD = "application/vnd.microsoft.card.adaptive"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
START = date(2026, 12, 7)  # the Monday two weeks later


@dataclass(frozen=True)
class User:
    aad: str
    name: str
    tz: str
    key: str

    @property
    def teams_id(self) -> str:
        return f"29:1{self.key}TeamsId" + "x" * 40

    @property
    def conv(self) -> str:
        return f"a:1xPersonalChatWith{self.key}" + "x" * 30

    @property
    def first(self) -> str:
        return self.name.split()[0]


ADMIN = User("0c1f2a3b-1111-4a4a-9b9b-000000000001", "Lena Admin", "Europe/Berlin", "Lena")
ANA = User("aaaaaaaa-0000-4000-8000-00000000a0a0", "Ana Diaz", "Europe/Madrid", "Ana")
CHEN = User("c4e4c4e4-0000-4000-8000-00000000c4e4", "Chen Wei", "Asia/Singapore", "Chen")
BEN = User("bbbbbbbb-0000-4000-8000-00000000b0b0", "Ben Okafor", "Europe/London", "Ben")
EVERYONE = (ADMIN, ANA, CHEN, BEN)

_ids = itertools.count(1)


def _activity(user: User, type_: str, service_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "id": f"f:{next(_ids):08d}-e2e",
        "timestamp": "2026-11-23T08:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad},
        "conversation": {"conversationType": "personal", "tenantId": TENANT, "id": user.conv},
        "recipient": dict(BOT),
        "entities": [{"locale": "en-US", "country": "US", "platform": "Web", "timezone": user.tz,
                      "type": "clientInfo"}],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
        **extra,
    }


def install(user: User, url: str) -> dict[str, Any]:
    return _activity(user, "installationUpdate", url, action="add")


def members_added(user: User, url: str) -> dict[str, Any]:
    return _activity(user, "conversationUpdate", url,
                     membersAdded=[{"id": user.teams_id, "aadObjectId": user.aad}, {"id": BOT["id"]}])


def mention(user: User, *, with_aad: bool = True) -> dict[str, Any]:
    mentioned: dict[str, Any] = {"id": user.teams_id, "name": user.name}
    if with_aad:
        mentioned["aadObjectId"] = user.aad
    return {"type": "mention", "text": f"<at>{user.name}</at>", "mentioned": mentioned}


def message(user: User, url: str, text: str, mentions: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    act = _activity(user, "message", url, text=text, textFormat="plain")
    act["entities"] = [*mentions, *act["entities"]]
    return act


def invoke(user: User, url: str, data: dict[str, Any], verb: str) -> dict[str, Any]:
    return _activity(user, "invoke", url, name="adaptiveCard/action",
                     value={"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"})


def enroll_text(participants: list[User], manager: User, start: date) -> str:
    who = " ".join(f"<at>{p.name}</at>" for p in participants)
    return f"<at>HPLJ Coach</at> journey enroll active-listening {who} manager <at>{manager.name}</at> start {start}"


# ---- cards ---------------------------------------------------------------------------------

def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def card_prompt_ids(card: dict[str, Any]) -> set[str]:
    return {str(n["data"]["prompt_id"]) for n in _walk(card)
            if n.get("type") == "Action.Execute" and isinstance(n.get("data"), dict) and n["data"].get("prompt_id")}


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in _walk(card) if n.get("type") == "Action.Execute"]


def card_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in _walk(card) if str(n.get("type", "")).startswith("Input.")}


def card_text(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


# ---- the world -------------------------------------------------------------------------------

def teams_settings(**overrides: Any) -> Settings:
    """The settings a Teams deployment in local mode runs with (the test's fakes as its peers)."""
    base = {"microsoft_app_id": "", "microsoft_app_password": "", "microsoft_app_tenant_id": "",
                "microsoft_app_type": "MultiTenant", "teams_local_mode": True, "slack_signing_secret": "",
                "slack_bot_token": "", "slack_app_token": "", "slack_api_url": "http://127.0.0.1:9/api/",
                "dashboard_secret": "", "public_url": "http://localhost", "min_group_size": 5, "default_timezone": "UTC",
                "tick_seconds": 30.0, "hplj_admins": ADMIN.aad}
    base.update(overrides)
    return Settings.model_validate(base)


@dataclass
class World:
    service: BotService
    clock: SimulatedClock
    fake: FakeConnector
    url: str
    session: aiohttp.ClientSession
    runner: web.AppRunner
    db: Database
    validated: int = 0

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        async with self.session.post(self.url, data=data,
                                     headers={"Content-Type": "application/json", **(headers or {})}) as resp:
            text = await resp.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
        await self.service.settle()  # background deliveries kicked by the action
        return resp.status, parsed

    async def tick(self, at: datetime) -> None:
        """Tick every hour up to `at`, as the scheduler would (it ticks every few seconds)."""
        now = self.clock.now()
        while now < at:
            now = min(at, now + timedelta(hours=1))
            self.clock.set(now)
            await self.service.tick(now)
            await self.service.settle()

    def calls_to(self, user: User) -> list[Call]:
        return self.fake.sent_to(user.conv)

    def cards_to(self, user: User) -> list[dict[str, Any]]:
        cards = [c.card for c in self.calls_to(user) if c.card is not None]
        for card in cards:
            assert_valid_card(card)
        self.validated += len(cards)
        return cards

    def texts_to(self, user: User) -> list[str]:
        return [c.text or card_text(c.card or {}) for c in self.calls_to(user)]

    def validate_all(self) -> int:
        n = 0
        for call in self.fake.sent:
            if call.card is not None:
                assert_valid_card(call.card)
                n += 1
        return n

    async def scalar(self, stmt: Any) -> Any:
        async with self.db.read() as s:
            return (await s.execute(stmt)).scalar_one()

    async def rows(self, stmt: Any) -> list[Any]:
        async with self.db.read() as s:
            return list((await s.execute(stmt)).scalars().all())

    async def prompt(self, prompt_id: str) -> PromptRow:
        async with self.db.read() as s:
            row = await s.get(PromptRow, prompt_id)
            assert row is not None, prompt_id
            s.expunge(row)
            return row

    async def person(self, user: User) -> PersonRow | None:
        async with self.db.read() as s:
            row = (await s.execute(select(PersonRow).where(PersonRow.platform == "teams",
                                                           PersonRow.platform_user_id == user.aad))).scalar_one_or_none()
            if row is not None:
                s.expunge(row)
            return row

    async def prompts_of(self, user: User, step_id: str | None = None) -> list[PromptRow]:
        person = await self.person(user)
        assert person is not None
        stmt = select(PromptRow).where(PromptRow.recipient_id == person.id)
        if step_id:
            stmt = stmt.where(PromptRow.step_id == step_id)
        return await self.rows(stmt)


async def make_world(tmp: Path, *, settings_: Settings | None = None,
                     fake: FakeConnector | None = None, start: datetime = T0, admins: set[str] = frozenset()) -> World:  # type: ignore[assignment]
    fake = fake or await FakeConnector().start()
    db = Database(f"sqlite:///{tmp / 'hplj.db'}")
    await db.create_all()
    clock = SimulatedClock(start)
    library = load_library(default_library_path())
    cfg = settings_ or teams_settings()
    cfg = cfg.model_copy(update={"hplj_admins": " ".join(sorted({*cfg.admin_ids(), ADMIN.aad, *admins}))})
    # built as `hplj serve` builds it (bot/app/wiring.py), from the settings alone: a Teams port
    # sharing the endpoint's adapter, the configured dispatcher (the tables exist: no migration)
    service = await build_service(cfg, library, clock=clock, db=db, create=False)
    app = build_app(service, cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = aiohttp.ClientSession()
    return World(service, clock, fake, f"http://127.0.0.1:{port}/api/messages", session, runner, db)


async def close_world(w: World, *, keep_fake: bool = False) -> None:
    await w.service.settle()
    await w.service.dispatcher.release()  # as a process that stops: the next one may deliver at once
    await w.session.close()
    await w.runner.cleanup()
    if not keep_fake:
        await w.fake.stop()
    await w.db.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


async def install_everyone(w: World) -> None:
    for user in EVERYONE:
        act = install(user, w.fake.url) if user is not BEN else members_added(user, w.fake.url)
        status, _ = await w.post(act)
        assert status == 200


async def enroll_by_command(w: World, participants: list[User] = [ANA, CHEN],  # noqa: B006
                            manager: User = BEN) -> tuple[int, str]:
    act = message(ADMIN, w.fake.url, enroll_text(participants, manager, START),
                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)},
                   *[mention(p) for p in participants], mention(manager)])
    before = len(w.calls_to(ADMIN))
    status, _ = await w.post(act)
    return status, "\n".join(w.texts_to(ADMIN)[before:])


def at_local(day: date, hhmm: str, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def latest_card_for(w: World, user: User, step_id: str) -> tuple[str, dict[str, Any]]:
    """The newest card sent to `user` whose actions carry a prompt of `step_id`."""
    for card in reversed(w.cards_to(user)):
        for pid in card_prompt_ids(card):
            if pid.endswith("." + step_id) or pid.split(".", 1)[-1] == step_id:
                return pid, card
    raise AssertionError(f"no {step_id} card for {user.first}: {[sorted(card_prompt_ids(c)) for c in w.cards_to(user)]}")


async def click(w: World, user: User, prompt_id: str, value: str) -> tuple[int, Any]:
    return await w.post(invoke(user, w.fake.url, {"prompt_id": prompt_id, "value": value}, "hplj.button"))


async def submit(w: World, user: User, card: dict[str, Any], prompt_id: str,
                 values: dict[str, Any]) -> tuple[int, Any]:
    submit_action = next(a for a in card_actions(card) if a.get("verb") == "hplj.submit")
    data = copy.deepcopy(submit_action["data"])
    assert data["prompt_id"] == prompt_id
    inputs = card_inputs(card)
    for fid, value in values.items():
        assert f"f.{fid}" in inputs, (fid, sorted(inputs))
        data[f"f.{fid}"] = value
    return await w.post(invoke(user, w.fake.url, data, "hplj.submit"))


def updates_of(w: World, user: User, prompt_id: str, answer: Any = None) -> int:
    """How many times the card carrying `prompt_id` changed: PUTs of its activity, plus one when the
    invoke's answer (`answer`) was the refreshed card itself."""
    activity = w.fake.activity_carrying(user.conv, prompt_id)
    in_place = int(isinstance(answer, dict) and answer.get("type") == CARD)
    return in_place + w.fake.puts_per_activity().get((user.conv, activity), 0)


def refreshed_card(body: Any) -> dict[str, Any]:
    assert isinstance(body, dict) and body["statusCode"] == 200, body
    assert body["type"] == CARD, body
    card = body["value"]
    assert_valid_card(card)
    return card


# ---- the scenario ------------------------------------------------------------------------------

async def test_the_whole_journey_over_teams(world: World) -> None:
    w = world
    # 1. Org-wide install: every person's conversation reference is stored, each greeted once.
    await install_everyone(w)
    for user in EVERYONE:
        address = await w.service.address_of("teams", user.aad)
        assert address is not None, user
        assert address["conversation_id"] == user.conv and address["service_url"] == w.fake.url
        assert address["tenant_id"] == TENANT and address["user_id"] == user.teams_id
        assert address["tz"] == user.tz
        welcomes = [c for c in w.cards_to(user) if "Welcome" in card_text(c)]
        assert len(welcomes) == 1, user
    sent_before = len(w.fake.sent)
    status, _ = await w.post(install(ANA, w.fake.url))  # a second install event: nobody is greeted again
    assert status == 200 and len(w.fake.sent) == sent_before

    # 2. The admin enrolls Ana and Chen with Ben as their manager, by mentioning them.
    status, reply = await enroll_by_command(w)
    assert status == 200
    enrollments = await w.rows(select(EnrollmentRow))
    if not enrollments:
        raise AssertionError(f"`journey enroll` with Teams mentions enrolled nobody; the bot replied: {reply[:400]}")
    assert len(enrollments) == 2, reply
    assert "Ana" in reply and "Chen" in reply, reply
    ana, chen, ben = await w.person(ANA), await w.person(CHEN), await w.person(BEN)
    assert ana and chen and ben
    assert {e.person_id for e in enrollments} == {ana.id, chen.id}
    assert {e.manager_id for e in enrollments} == {ben.id} and {e.start for e in enrollments} == {START}
    assert (ana.tz, chen.tz) == ("Europe/Madrid", "Asia/Singapore")

    # 3. The before phase in the method's order: the participants prepare first, each in their own
    # hours (Singapore's 10:00 comes hours before Madrid's: the clientInfo time zones are honoured);
    # the manager's expectations card comes after their picture of success.
    await w.tick(at_local(START - timedelta(days=7), "10:01", "Asia/Singapore"))  # Mon 30 Nov
    assert any("Why this matters" in t for t in w.texts_to(ANA))
    assert any("Why this matters" in t for t in w.texts_to(CHEN))
    assert [pid for c in w.cards_to(CHEN) for pid in card_prompt_ids(c) if pid.endswith("focus-situation")]
    assert not [pid for c in w.cards_to(ANA) for pid in card_prompt_ids(c) if pid.endswith("focus-situation")]
    await w.tick(at_local(START - timedelta(days=7), "10:01", "Europe/Madrid"))
    pid_focus, focus_card = latest_card_for(w, ANA, "focus-situation")
    assert not [c for c in w.cards_to(BEN) if "Expectations conversation" in card_text(c)]
    await w.tick(at_local(START - timedelta(days=5), "14:01", "Europe/London"))  # Wed 2 Dec
    pid_exp, card = latest_card_for(w, BEN, "expectations")
    # one card for both reports, each by name, with a Done button per report
    assert len([c for c in w.cards_to(BEN) if "Expectations conversation" in card_text(c)]) == 1
    assert "For 2 of your team: Ana Diaz and Chen Wei." in card_text(card).replace("*", "")
    assert "starts next week, on Mon 7 Dec" in card_text(card)
    dones = [a["data"]["prompt_id"] for a in card_actions(card) if a.get("data", {}).get("value") == "done"]
    assert len(set(dones)) == 2 and pid_exp in dones

    # 4. The manager's Done for one report asks what they agreed; his typed answer records it for
    # that report only: the grouped card keeps the other report's button (neither refreshed nor
    # PUT), and only that report's task is answered.
    status, body = await click(w, BEN, pid_exp, "done")
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message", body
    assert "Almost done: what did you and" in body["value"]
    assert (await w.prompt(pid_exp)).status == "open"
    before = len(w.texts_to(BEN))
    status, _ = await w.post(message(BEN, w.fake.url, "One safe 1:1 first, then a customer call."))
    assert status == 200
    assert any("saved what you and" in t for t in w.texts_to(BEN)[before:]), w.texts_to(BEN)[before:]
    assert (await w.prompt(pid_exp)).status != "open"
    other = next(pid for pid in dones if pid != pid_exp)
    assert (await w.prompt(other)).status == "open"
    # the grouped card is updated once (PUT): who is done, and only the other report's Done left
    assert updates_of(w, BEN, pid_exp, body) == 1
    partly = [c for c in w.cards_to(BEN) if "Done so far" in card_text(c)][-1]
    assert [a["data"]["prompt_id"] for a in card_actions(partly) if a.get("data", {}).get("value") == "done"] == [other]
    assert "Done so far (what you agreed with each is saved)" in card_text(partly)
    # the other report's Done and agreement: the card says so for both, and offers nothing more
    status, body = await click(w, BEN, other, "done")
    assert status == 200 and "Almost done: what did you and" in body["value"]
    status, _ = await w.post(message(BEN, w.fake.url, "Listen first in the Monday stand-up."))
    assert status == 200 and (await w.prompt(other)).status != "open"
    assert updates_of(w, BEN, pid_exp) == 2
    closed = w.cards_to(BEN)[-1]
    assert "Done for all 2 (what you agreed with each is saved)" in card_text(closed) and not card_actions(closed)

    # Ana answers her before-phase question on the card.
    value = next(a["data"]["value"] for a in card_actions(focus_card) if a.get("verb") == "hplj.button")
    status, body = await click(w, ANA, pid_focus, value)
    assert status == 200 and not card_actions(refreshed_card(body))
    assert updates_of(w, ANA, pid_focus, body) == 1
    await w.tick(at_local(START - timedelta(days=1), "14:01", "Europe/Madrid"))  # Fri 4 Dec: success picture open
    pid_sp, sp_card = latest_card_for(w, ANA, "success-picture")
    [fid] = [k.removeprefix("f.") for k in card_inputs(sp_card)]
    status, body = await submit(w, ANA, sp_card, pid_sp, {fid: "An angry caller leaves calm without an escalation."})
    assert status == 200 and not card_actions(refreshed_card(body))
    assert updates_of(w, ANA, pid_sp, body) == 1

    # 5. Week 1: Ana plans her safe MTM on the card (Input.Date and choice sets).
    await w.tick(at_local(START + timedelta(days=2), "10:01", "Europe/Madrid"))  # Wed 9 Dec
    pid_plan, plan_card = latest_card_for(w, ANA, "mtm-safe")
    inputs = card_inputs(plan_card)
    assert inputs["f.date"]["type"] == "Input.Date", inputs
    mtm_day = START + timedelta(days=4)  # Fri 11 Dec
    values: dict[str, Any] = {"situation": "Weekly 1:1 with Sam, who has been quiet lately",
                              "date": mtm_day.isoformat()}
    for fid, el in inputs.items():
        name = fid.removeprefix("f.")
        if name not in values and el["type"] == "Input.ChoiceSet" and el.get("choices"):
            values[name] = el["choices"][0]["value"]
    n_ben = len(w.calls_to(BEN))
    status, body = await submit(w, ANA, plan_card, pid_plan, values)
    assert status == 200
    assert not card_actions(refreshed_card(body))
    assert updates_of(w, ANA, pid_plan, body) == 1
    [mtm] = await w.rows(select(MtmRow).where(MtmRow.enrollment_id == (await w.prompt(pid_plan)).enrollment_id))
    assert mtm.when == mtm_day and "Sam" in mtm.situation

    # 6. Ben gets the support request on the scheduler's next pass (due at once), with Approve and Coach.
    [sup] = await w.prompts_of(BEN, "support-safe")
    assert sup.due_at <= w.clock.now()
    await w.tick(w.clock.now() + timedelta(minutes=1))
    assert len(w.calls_to(BEN)) > n_ben
    pid_sup, sup_card = latest_card_for(w, BEN, "support-safe")
    labels = {a.get("title") for a in card_actions(sup_card)}
    assert {"Approve", "Coach"} <= labels, labels
    n_ana = len(w.calls_to(ANA))
    status, body = await click(w, BEN, pid_sup, "approve")
    assert status == 200 and not card_actions(refreshed_card(body))
    assert updates_of(w, BEN, pid_sup, body) == 1
    assert (await w.prompt(pid_sup)).status != "open"
    news = w.texts_to(ANA)[n_ana:]
    assert any("Ben" in t or "manager" in t.lower() for t in news), news  # Ana hears her manager backs her

    # 7. After the MTM: the follow-up card arrives on the next working day in Ana's morning.
    await w.tick(at_local(START + timedelta(days=7), "09:31", "Europe/Madrid"))  # Mon 14 Dec
    pid_ref, ref_card = latest_card_for(w, ANA, "reflect-safe")
    assert card_inputs(ref_card)

    # Ana answers whether her line of sight may go to Ben (a second open question would make her
    # typed reflection ambiguous: the bot would ask which prompt it is for).
    pid_share, share_card = latest_card_for(w, ANA, "share-line-of-sight")
    share = next(a["data"]["value"] for a in card_actions(share_card) if a.get("verb") == "hplj.button")
    assert (await click(w, ANA, pid_share, share))[0] == 200
    assert (await w.prompt(pid_share)).status != "open"

    # 8. Ana reflects by typing; the bot asks field by field until the prompt is answered.
    answers = iter(["yes", "4", "I paraphrased before answering; Sam opened up about the workload.", "yes",
                    "yes", "yes"])
    for _ in range(6):
        if (await w.prompt(pid_ref)).status != "open":
            break
        n_ana = len(w.calls_to(ANA))
        status, _ = await w.post(message(ANA, w.fake.url, next(answers)))
        assert status == 200
        assert len(w.calls_to(ANA)) > n_ana  # every typed answer is acknowledged
    row = await w.prompt(pid_ref)
    assert row.status != "open", (row.status, row.answers, w.texts_to(ANA)[-3:])
    assert "Sam opened up" in json.dumps(row.answers)
    assert updates_of(w, ANA, pid_ref) == 1  # answered by typing: the outbox PUTs the closed card once
    puts = w.fake.puts_per_activity()
    assert puts.pop((BEN.conv, w.fake.activity_carrying(BEN.conv, pid_exp))) == 2  # the grouped card: per report done
    assert set(puts.values()) <= {1}, puts

    # Every card the bot sent validated against the Adaptive Cards 1.5 schema.
    assert w.validate_all() >= 8


# ---- authorization and robustness ----------------------------------------------------------------

async def _enrolled_world(w: World) -> tuple[str, dict[str, Any]]:
    """Everyone installed, Ana and Chen enrolled, Ben's expectations card delivered."""
    await install_everyone(w)
    status, reply = await enroll_by_command(w)
    assert status == 200
    if not await w.rows(select(EnrollmentRow)):
        raise AssertionError(f"`journey enroll` with Teams mentions enrolled nobody; the bot replied: {reply[:400]}")
    await w.tick(at_local(START - timedelta(days=5), "14:01", "Europe/London"))
    return latest_card_for(w, BEN, "expectations")


async def test_a_strangers_card_action_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    await _enrolled_world(w)
    ana = await w.person(ANA)
    assert ana is not None
    tasks = await w.prompts_of(BEN, "expectations")  # one per enrollment: about Ana, about Chen
    assert len(tasks) == 2
    refusals: dict[str, str] = {}
    for task in tasks:
        e = (await w.rows(select(EnrollmentRow).where(EnrollmentRow.id == task.enrollment_id)))[0]
        whose = "ana" if e.person_id == ana.id else "chen"
        # Ana presses Ben's button (a forwarded card, a crafted request): her AAD id is not Ben's.
        status, body = await click(w, ANA, task.id, "done")
        assert status == 200
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.activity.message", body
        after = await w.prompt(task.id)
        assert (after.status, after.answers, after.answered_at) == ("open", task.answers, task.answered_at)
        refusals[whose] = body["value"]
    assert await w.scalar(select(func.count()).select_from(MtmRow)) == 0
    # Ben's task about Ana herself: a clear refusal.
    assert "someone else" in refusals["ana"] and "Nothing was changed" in refusals["ana"], refusals
    # Ben's task about Chen (outside Ana's enrollments): the same refusal.
    assert "someone else" in refusals["chen"] and "Nothing was changed" in refusals["chen"], refusals


async def test_a_non_admins_command_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    await install_everyone(w)
    n_ana = len(w.calls_to(ANA))
    act = message(ANA, w.fake.url, enroll_text([CHEN], BEN, START), [mention(CHEN), mention(BEN)])
    status, _ = await w.post(act)
    assert status == 200
    replies = w.texts_to(ANA)[n_ana:]
    assert len(replies) == 1 and "admin" in replies[0].lower(), replies
    assert await w.scalar(select(func.count()).select_from(EnrollmentRow)) == 0
    assert await w.scalar(select(func.count()).select_from(PromptRow)) == 0


async def test_a_redelivered_activity_changes_state_once(world: World) -> None:
    w = world
    pid, _card = await _enrolled_world(w)
    # Ben's grouped card (Ana and Chen) has a Done per report; what was agreed for one report is
    # the submission of that prompt's agreement form
    data = {"prompt_id": pid, "f.agreed": "One safe 1:1 first."}
    act = invoke(BEN, w.fake.url, data, "hplj.submit")
    first = await w.post(act)
    answered = await w.prompt(pid)
    n_sent = len(w.fake.sent)
    second = await w.post(act)  # Teams redelivers the same activity id
    assert first[0] == second[0] == 200
    assert second[1]["statusCode"] == 200
    again = await w.prompt(pid)
    assert (again.status, again.answers, again.answered_at) == (answered.status, answered.answers, answered.answered_at)
    assert await w.scalar(select(func.count()).select_from(InboundRow).where(InboundRow.key.endswith(f":{act['id']}"))) == 1
    assert len(w.fake.sent) == n_sent  # nothing re-sent
    assert again.status == "answered"
    # a double click (new activity id, same prompt) does not answer twice either
    status, _body = await w.post(invoke(BEN, w.fake.url, data, "hplj.submit"))
    assert status == 200
    assert (await w.prompt(pid)).answered_at == answered.answered_at


async def test_enroll_with_mentions_that_carry_only_the_teams_user_id(world: World) -> None:
    """Teams often sends `mentioned: {id: "29:...", name}` without an aadObjectId; parse.py then
    emits `<@29:...|Name>` and the bot must map it through the stored addresses."""
    w = world
    await install_everyone(w)
    act = message(ADMIN, w.fake.url, enroll_text([ANA], BEN, START),
                  [mention(ANA, with_aad=False), mention(BEN, with_aad=False)])
    status, _ = await w.post(act)
    assert status == 200
    reply = "\n".join(w.texts_to(ADMIN)[-1:])
    people = await w.rows(select(PersonRow))
    enrollments = await w.rows(select(EnrollmentRow))
    stray = [p.platform_user_id for p in people if p.platform_user_id.startswith("29:")]
    assert len(enrollments) == 1 and not stray, reply
    ana = await w.person(ANA)
    assert ana is not None and enrollments[0].person_id == ana.id


async def test_deliveries_after_a_restart_still_reach_people(tmp_path: Path) -> None:
    """A second process over the same database (a restart, or `hplj worker` next to `hplj serve`):
    people already have a stored personal chat id, so delivery calls `send` without `open_dm`."""
    w = await make_world(tmp_path)
    try:
        await _enrolled_world(w)  # Ben's expectations task was delivered: his dm id is stored
        later = w.clock.now()
    finally:
        await close_world(w, keep_fake=True)
    w2 = await make_world(tmp_path, fake=w.fake, start=later)
    try:
        n_ben = len(w2.calls_to(BEN))
        await w2.tick(at_local(START - timedelta(days=4), "14:31", "Europe/London"))  # a reminder
        failed = await w2.rows(select(OutboxRow).where(OutboxRow.state == "failed"))
        assert not failed, sorted({f.error for f in failed})
        assert len(w2.calls_to(BEN)) > n_ben  # the new process reached Ben through the stored reference
    finally:
        await close_world(w2)


# ---- with an app id: unauthenticated requests get 401 and change nothing -------------------------

async def test_with_an_app_id_unauthenticated_requests_are_rejected(tmp_path: Path) -> None:
    cfg = teams_settings(microsoft_app_id="11111111-2222-3333-4444-555555555555", microsoft_app_password="secret",
                         teams_local_mode=False)
    w = await make_world(tmp_path, settings_=cfg)
    try:
        bodies = [install(ANA, w.fake.url),
                  message(ADMIN, w.fake.url, enroll_text([ANA], BEN, START), [mention(ANA), mention(BEN)]),
                  invoke(ANA, w.fake.url, {"prompt_id": "x.expectations", "value": "done"}, "hplj.button"),
                  message(ANA, w.fake.url, "status")]
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"},
                        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."}):
            for body in bodies:
                status, _ = await w.post(body, headers)
                assert status == 401, (body["type"], headers)
        for model in (PersonRow, EnrollmentRow, InboundRow, PromptRow):
            assert await w.scalar(select(func.count()).select_from(model)) == 0, model
        assert w.fake.calls == []
    finally:
        await close_world(w)


# ---- fuzzing: the real app in a background thread, driven synchronously by hypothesis ------------

class _Threaded:
    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.world: World = asyncio.run_coroutine_threadsafe(self._setup(tmp), self.loop).result(60)
        self.port = int(self.world.url.split(":")[2].split("/")[0])

    async def _setup(self, tmp: Path) -> World:
        w = await make_world(tmp)
        await install_everyone(w)
        status, _ = await enroll_by_command(w)
        assert status == 200
        await w.tick(at_local(START - timedelta(days=5), "10:01", "Europe/Madrid"))
        return w

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def post(self, body: bytes) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/api/messages", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def close(self) -> None:
        self.run(close_world(self.world))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def threaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Threaded]:
    t = _Threaded(tmp_path_factory.mktemp("teams-fuzz"))
    yield t
    t.close()


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = ["type", "name", "text", "from", "recipient", "conversation", "entities", "value", "id", "action",
        "membersAdded", "channelData", "localTimezone", "timestamp", "serviceUrl", "replyToId", "locale"]


def _seeds(url: str, prompt_ids: list[str]) -> list[dict[str, Any]]:
    pid = prompt_ids[0] if prompt_ids else "e_x.focus-situation"
    return [install(ANA, url), members_added(BEN, url), message(ANA, url, "status"),
            message(ADMIN, url, enroll_text([ANA], BEN, START), [mention(ANA), mention(BEN)]),
            invoke(ANA, url, {"prompt_id": pid, "value": "one-to-ones"}, "hplj.button"),
            invoke(ANA, url, {"prompt_id": pid, "fields": {"date": "date", "tags": "multi_choice"},
                              "f.date": "2026-12-10", "f.tags": "a,b"}, "hplj.submit")]


@st.composite
def mangled(draw: st.DrawFn, url: str, prompt_ids: list[str]) -> bytes:
    act = copy.deepcopy(draw(st.sampled_from(_seeds(url, prompt_ids))))
    act["id"] = f"fuzz-{draw(st.integers(0, 10**9))}"
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        how = draw(st.sampled_from(["junk", "delete", "nested"]))
        if how == "delete":
            act.pop(key, None)
        elif how == "nested" and isinstance(act.get(key), dict) and act[key]:
            act[key][draw(st.sampled_from(sorted(act[key])))] = draw(json_values)
        else:
            act[key] = draw(json_values)
    return json.dumps(act).encode()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_malformed_activities_never_get_a_500(threaded: _Threaded, data: st.DataObject) -> None:
    prompt_ids = [c for card in threaded.world.fake.sent if card.card
                  for c in card_prompt_ids(card.card)]
    body = data.draw(st.one_of(mangled(threaded.world.fake.url, prompt_ids),
                               st.binary(max_size=120), json_values.map(lambda v: json.dumps(v).encode())))
    status = threaded.post(body)
    assert status < 500 or status == 501, (status, body[:400])


# ---- Success Case interviews (issue 14) ------------------------------------------------------------

async def surveyed(w: World, chen_answer: dict[str, Any] | None) -> str:
    """Everyone installed and enrolled; Ana's (and Chen's) Success Case survey answers as the engine
    records them; the cohort's name."""

    await install_everyone(w)
    assert (await enroll_by_command(w))[0] == 200
    return await classified(w, START, {ANA: SUCCESS_WITH_CONTACT, CHEN: chen_answer})


async def admin_says(w: World, text: str, mentions: Sequence[dict[str, Any]] = ()) -> str:
    """The admin's `journey <text>` to the bot, and the texts the bot sent back."""
    bot = {"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}
    before = len(w.calls_to(ADMIN))
    status, _ = await w.post(message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey {text}", [bot, *mentions]))
    assert status == 200
    return "\n".join(w.texts_to(ADMIN)[before:])


async def test_success_case_interviews_over_teams(world: World) -> None:
    """`journey interviews` and `journey interview <at>Ana</at> ...` in a message to the bot: Ana's
    consent request reaches her chat, the verdict and its value reach the report."""

    w = world
    cohort = await surveyed(w, {"classification": "not_applied"})

    async def say(text: str, mentions: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
        return await admin_says(w, text, mentions)

    listing = await say(f"interviews {cohort}")
    assert "2 candidates for Success Case interviews" in listing and "What is it worth" in listing
    before = len(w.texts_to(ANA))
    await w.tick(w.clock.now() + timedelta(days=2))
    assert any("Could we talk about your results?" in t for t in w.texts_to(ANA)[before:])
    pid, card = latest_card_for(w, ANA, "interview-consent")
    first = next(a for a in card_actions(card) if a["data"].get("value") == "slot:0")
    assert first["title"].startswith("Yes: ")
    status, _ = await click(w, ANA, pid, "slot:0")  # Ana takes the first time, on her card
    assert status == 200
    await w.tick(w.clock.now() + timedelta(hours=12))
    assert any("agreed to a Success Case interview" in t for t in w.texts_to(ADMIN))
    status, _ = await click(w, ANA, pid, "no")  # a second answer changes nothing
    assert "booked" in await say(f"interviews {cohort}")
    done = await say(f"interview <at>{ANA.name}</at> success outcome fewer-escalations value 3", [mention(ANA)])
    assert "3 avoided escalations" in done
    report = await say(f"report {cohort}")
    assert "verified in interviews: 1 of 1 interviewed was a success case (100%); 1 interviewed of 2 classified" \
        in report and "Estimated value: £1,050 a month" in report


async def test_interview_notes_card_over_teams_becomes_a_verified_story(world: World) -> None:
    """Issue 21 on Teams: `interview <at>Ana</at> notes` sends the admin an Adaptive Card with the
    notes inputs; its submission is the report's verified story (and a bad value saves nothing)."""
    from store.models import EventRow

    w = world
    cohort = await surveyed(w, None)

    async def say(text: str, mentions: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
        return await admin_says(w, text, mentions)

    assert "form" in await say(f"interview <at>{ANA.name}</at> notes", [mention(ANA)])
    await w.tick(w.clock.now() + timedelta(hours=1))
    pid, card = latest_card_for(w, ADMIN, "interview-notes")
    values = {"consent": "yes", "classification": "success", "situation": "A renewal call that went sideways",
              "behaviour": "Asked open questions first", "result": "The client renewed", "evidence": "the CRM note",
              "enablers": "manager,practice", "barriers": "tools_process", "outcome": "fewer-escalations",
              "units": "lots"}
    status, body = await submit(w, ADMIN, card, pid, values)
    assert status == 200 and "expects a number" in json.dumps(body)
    assert not [e for e in await w.rows(select(EventRow)) if e.kind == "interview_recorded"]
    status, body = await submit(w, ADMIN, card, pid, {**values, "units": "2"})
    assert status == 200 and "Saved: " in json.dumps(body, ensure_ascii=False)
    (recorded,) = [e for e in await w.rows(select(EventRow)) if e.kind == "interview_recorded"]
    assert recorded.data["enablers"] == ["manager", "practice"] and recorded.data["units"] == 2
    report = await say(f"report {cohort}")
    assert "Verified story 1 (interview notes, evidence seen: “the CRM note”)" in report
    assert "Result: “The client renewed”" in report and "Value: 2 avoided escalations a month (£700 a month)" in report


async def test_a_typed_answer_goes_to_the_card_it_replies_to(world: World) -> None:
    """Two text prompts open: a message that replies to no card is not guessed (the bot asks
    which); a Reply to a card (`replyToId`) answers that card's prompt, and says what was saved."""
    w = world
    await install_everyone(w)
    assert (await enroll_by_command(w))[0] == 200
    await w.tick(at_local(START - timedelta(days=1), "14:31", ANA.tz))  # focus and success both open
    focus_id, _ = latest_card_for(w, ANA, "focus-situation")
    success_id, _ = latest_card_for(w, ANA, "success-picture")
    assert (await w.prompt(focus_id)).status == (await w.prompt(success_id)).status == "open"

    async def say(text: str, reply_to: str | None = None) -> str:
        before = len(w.calls_to(ANA))
        act = message(ANA, w.fake.url, text)
        if reply_to is not None:
            act["replyToId"] = reply_to
        assert (await w.post(act))[0] == 200
        return "\n".join(w.texts_to(ANA)[before:])

    ask = await say("My 1:1s surface problems a week earlier")
    assert "Which one is it for?" in ask and "didn't save that" in ask
    assert "1. Your focus" in ask and "3. Your picture of success" in ask
    assert (await w.prompt(focus_id)).status == (await w.prompt(success_id)).status == "open"

    success_card = w.fake.activity_carrying(ANA.conv, success_id)
    assert "Saved your picture of success." in await say("My 1:1s surface problems a week earlier", success_card)
    assert (await w.prompt(success_id)).answers == {"answer": "My 1:1s surface problems a week earlier"}
    assert (await w.prompt(focus_id)).status == "open"

    focus_card = w.fake.activity_carrying(ANA.conv, focus_id)
    assert "Saved your focus." in await say("1:1s with people in my team", focus_card)
    assert (await w.prompt(focus_id)).answers == {"answer": "one-to-ones"}


async def test_what_to_change_is_read_and_edited_over_teams(world: World) -> None:
    """Issue 21, item 4 on Teams: `journey report <cohort> recommendations` shows the draft with its
    counts; `… set` replaces it, and the card shows the admin's Markdown as plain text runs."""
    w = world
    cohort = await surveyed(w, {"classification": "tried_no_success", "barriers": ["tools_process"]})
    draft = await admin_says(w, f"report {cohort} recommendations")
    assert "What to change (drafted from the evidence; the L&D lead may edit it):" in draft
    assert ("Remove “a tool or process got in the way” (1: 1 in the survey) — the owners of that process or "
            "tool.") in draft
    assert "unknown cohort 'nope'" in await admin_says(w, "report nope recommendations")
    await admin_says(w, f"report {cohort} recommendations set **Fix** the [booking tool](http://x.test) first")
    card = w.cards_to(ADMIN)[-1]
    typed = "**Fix** the [booking tool](http://x.test) first"
    shown = [el for el in walk(card) if typed in str(el.get("text", ""))]
    assert shown and all(el.get("type") == "TextRun" for el in shown)  # a TextRun: no Markdown, no link
    report = await admin_says(w, f"report {cohort}")
    assert "What to change (edited by the L&D lead):" in report
    assert "**Fix** the [booking tool](http://x.test) first" in report
