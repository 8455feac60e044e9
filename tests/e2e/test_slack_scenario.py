"""The Slack end-to-end scenario over real HTTP (issue 4, "Tests").

The real `BotService` (a SQLite file, a simulated clock, `SlackChat` pointed at `FakeSlackApi`)
behind the app `bot.app.wiring.build_app` builds, served on a free port on 127.0.0.1. Requests are
signed with the signing secret exactly as Slack signs them: form-encoded slash commands,
`payload=` interactivity and JSON event envelopes. Every Block Kit payload the bot posts is
round-tripped through `slack_sdk.models` (which enforces Slack's limits).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from sqlalchemy import func, select

from adapters.slack.app import SlackInbound
from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.wiring import build_app, build_service
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from store.db import Database
from store.models import EnrollmentRow, InboundRow, MtmRow, PersonRow, PromptRow
from tests.e2e.success_cases import SUCCESS_WITH_CONTACT, classified
from tests.fakes.slack_api import (
    Call,
    FakeSlackApi,
    block_actions_payload,
    message_im_event,
    sign_request,
    slash_command_form,
    view_submission_payload,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET = "e2e-signing-secret-0123456789abcdef"
TOKEN = "xoxb-e2e-test"
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday
START = date(2026, 12, 7)  # the Monday two weeks later
WORK_START, WORK_END, LUNCH = (9, 0), (17, 30), ((12, 0), (13, 0))  # the journey's calendar


@dataclass(frozen=True)
class User:
    id: str
    name: str
    tz: str

    @property
    def dm(self) -> str:
        return "D" + self.id  # FakeSlackApi's conversations.open

    @property
    def mention(self) -> str:
        return f"<@{self.id}|{self.name}>"


ADMIN = User("UADMIN", "lee", "Europe/Paris")
ANA = User("UANA", "ana", "Europe/London")
CHEN = User("UCHEN", "chen", "America/New_York")
BEN = User("UBEN", "ben", "Europe/Berlin")
EVERYONE = (ADMIN, ANA, CHEN, BEN)
ENROLL = f"enroll active-listening {ANA.mention} {CHEN.mention} manager {BEN.mention} start {START}"


def slack_settings(api_url: str) -> Settings:
    """The settings a Slack deployment over HTTP runs with (the fake Web API as Slack)."""
    return Settings.model_validate({
        "slack_signing_secret": SECRET, "slack_bot_token": TOKEN, "slack_app_token": "", "slack_api_url": api_url,
        "microsoft_app_id": "", "microsoft_app_password": "", "microsoft_app_tenant_id": "",
        "microsoft_app_type": "MultiTenant", "teams_local_mode": False, "dashboard_secret": "",
        "public_url": "http://localhost", "min_group_size": 5, "default_timezone": "UTC", "tick_seconds": 30.0,
        "hplj_admins": ADMIN.id})


def at_local(day: date, hhmm: str, tz: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def actions_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [el for b in blocks if b.get("type") == "actions" for el in b.get("elements", [])]


def prompt_of_button(el: dict[str, Any]) -> tuple[str, str]:
    data = json.loads(el["value"])
    return data["p"], data["v"]


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    """Round-trip through slack_sdk.models: raises on anything Slack would reject."""
    assert 0 < len(blocks) <= 50
    parsed = Block.parse_all(blocks)
    assert [b.to_dict() for b in parsed]


@dataclass
class World:
    service: BotService
    clock: SimulatedClock
    fake: FakeSlackApi
    inbound: SlackInbound
    url: str
    session: aiohttp.ClientSession
    runner: web.AppRunner
    db: Database
    posted_at: dict[int, datetime] = field(default_factory=dict)  # id(call) -> simulated send time
    _n: int = 0

    # ---- sending signed requests ----
    async def post_raw(self, body: str | bytes, content_type: str, *, sign: bool = True,
                       timestamp: int | None = None, secret: str = SECRET,
                       headers: dict[str, str] | None = None) -> tuple[int, str]:
        h = {"Content-Type": content_type}
        if sign:
            h.update(sign_request(body, secret, timestamp))
        h.update(headers or {})
        async with self.session.post(self.url, data=body, headers=h) as resp:
            text = await resp.text()
            status = resp.status
        await self.settle()
        return status, text

    async def command(self, user: User, text: str, **kw: Any) -> tuple[int, dict[str, Any] | None]:
        self._n += 1
        form = slash_command_form(user_id=user.id, text=text, response_url=self.fake.response_url(f"cmd{self._n}"),
                                  trigger_id=f"trig.cmd.{self._n}", channel_id=user.dm)
        before = len(self.fake.responses)
        status, _ = await self.post_raw(urlencode(form), "application/x-www-form-urlencoded", **kw)
        new = self.fake.responses[before:]
        return status, (new[-1] if new else None)

    async def payload(self, payload: dict[str, Any], **kw: Any) -> int:
        status, _ = await self.post_raw(urlencode({"payload": json.dumps(payload)}),
                                        "application/x-www-form-urlencoded", **kw)
        return status

    async def click(self, user: User, message: dict[str, Any], action_id: str, value: str, *,
                    channel: str | None = None) -> int:
        self._n += 1
        channel = channel or user.dm
        return await self.payload(block_actions_payload(
            user_id=user.id, action_id=action_id, value=value, channel=channel,
            message_ts=message["ts"], action_ts=f"{1800000000 + self._n}.000001", trigger_id=f"trig.{self._n}",
            response_url=self.fake.response_url(f"act{self._n}", message=(channel, message["ts"]))))

    def updates_of(self, user: User, message: dict[str, Any]) -> int:
        """How many times the message was changed (chat.update + response_url replacements)."""
        return self.fake.updates_per_message().get((user.dm, message["ts"]), 0)

    async def event(self, envelope: dict[str, Any], **kw: Any) -> int:
        status, _ = await self.post_raw(json.dumps(envelope), "application/json", **kw)
        return status

    async def type_(self, user: User, text: str, *, event_id: str | None = None, thread_ts: str | None = None,
                    **kw: Any) -> int:
        self._n += 1
        return await self.event(message_im_event(user_id=user.id, text=text, channel=user.dm,
                                                 ts=f"{1800000000 + self._n}.000100", thread_ts=thread_ts,
                                                 event_id=event_id or f"EvE2E{self._n:05d}"), **kw)

    async def settle(self) -> None:
        await self.inbound.drain()  # the work bolt listeners do after the ack
        await self.service.settle()  # deliveries the BotService kicked
        self._stamp()

    # ---- time ----
    async def tick(self, at: datetime) -> None:
        """Tick every hour up to `at`, as the scheduler would."""
        now = self.clock.now()
        while now < at:
            now = min(at, now + timedelta(hours=1))
            self.clock.set(now)
            await self.service.tick(now)
            await self.service.settle()
            self._stamp()

    def _stamp(self) -> None:
        for c in self.fake.calls:
            self.posted_at.setdefault(id(c), self.clock.now())

    # ---- what people got ----
    def posts_to(self, user: User) -> list[Call]:
        return [c for c in self.fake.calls_to("chat.postMessage") if c.params.get("channel") == user.dm]

    def messages_to(self, user: User) -> list[dict[str, Any]]:
        return self.fake.posted(user.dm)

    def prompt_message(self, user: User, step_id: str) -> tuple[str, dict[str, Any]]:
        """The newest message in `user`'s DM carrying a prompt of `step_id` (by metadata)."""
        for msg in reversed(self.messages_to(user)):
            pid = ((msg.get("metadata") or {}).get("event_payload") or {}).get("prompt_id", "")
            if pid.endswith("." + step_id) or pid.split(".", 1)[-1] == step_id:
                return pid, msg
        raise AssertionError(f"no {step_id} message for {user.name}: "
                             f"{[(m.get('metadata') or {}).get('event_payload') for m in self.messages_to(user)]}")

    def ephemerals_to(self, user: User) -> list[str]:
        return [json.dumps(e, ensure_ascii=False) for e in self.fake.ephemeral if e.get("user") == user.id]

    # ---- database ----
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
            row = (await s.execute(select(PersonRow).where(PersonRow.platform == "slack",
                                                           PersonRow.platform_user_id == user.id))).scalar_one_or_none()
            if row is not None:
                s.expunge(row)
            return row

    async def counts(self) -> dict[str, int]:
        out = {}
        for model in (PersonRow, EnrollmentRow, InboundRow, PromptRow, MtmRow):
            out[model.__name__] = await self.scalar(select(func.count()).select_from(model))
        answered = await self.scalar(select(func.count()).select_from(PromptRow).where(PromptRow.status != "open"))
        out["answered"] = answered
        return out


def _inbound_of(app: web.Application) -> SlackInbound:
    for route in app.router.routes():
        if route.resource is not None and route.resource.canonical == "/slack/events":
            return route.handler.__self__  # type: ignore[union-attr,attr-defined]
    raise AssertionError("build_app did not mount /slack/events")


async def make_world(tmp: Path, start: datetime = T0) -> World:
    fake = await FakeSlackApi(TOKEN).start()
    for u in EVERYONE:
        fake.add_user(u.id, u.name, real_name=u.name.title(), tz=u.tz,
                      tz_offset=int(datetime.now(ZoneInfo(u.tz)).utcoffset().total_seconds()),  # type: ignore[union-attr]
                      email=f"{u.name}@example.com")
    db = Database(f"sqlite:///{tmp / 'hplj.db'}")
    await db.create_all()
    clock = SimulatedClock(start)
    cfg = slack_settings(fake.api_url)
    # built as `hplj serve` builds it, from the settings alone (the tables exist: no migration)
    service = await build_service(cfg, load_library(default_library_path()), clock=clock, db=db, create=False)
    app = build_app(service, cfg)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return World(service, clock, fake, _inbound_of(app), f"http://127.0.0.1:{port}/slack/events",
                 aiohttp.ClientSession(), runner, db)


async def close_world(w: World) -> None:
    await w.settle()
    await w.session.close()
    await w.runner.cleanup()
    for client in (w.inbound.client, w.service.ports["slack"].client):  # type: ignore[attr-defined]
        if client.session is not None:
            await client.session.close()
    await w.fake.stop()
    await w.db.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


def assert_in_working_hours(w: World, user: User, calls: list[Call]) -> None:
    tz = ZoneInfo(user.tz)
    for c in calls:
        local = w.posted_at[id(c)].astimezone(tz)
        hm = (local.hour, local.minute)
        assert local.weekday() < 5, (user, local)
        assert WORK_START <= hm <= WORK_END, (user, local)
        assert not (LUNCH[0] <= hm < LUNCH[1]), (user, local)


async def enroll(w: World) -> dict[str, Any]:
    status, reply = await w.command(ADMIN, ENROLL)
    assert status == 200
    assert reply is not None, "no reply on the response_url"
    return reply


async def plan_safe_mtm(w: World, mtm_day: date, *, through_modal: bool = True) -> tuple[str, dict[str, Any]]:
    """Tick to Ana's mtm-safe prompt and submit the plan; returns (prompt id, prompt message)."""
    await w.tick(at_local(START + timedelta(days=2), "10:31", ANA.tz))  # Wed 9 Dec, start+2 10:00
    pid_plan, plan_msg = w.prompt_message(ANA, "mtm-safe")
    [form_btn] = [el for el in actions_of(plan_msg["blocks"]) if el["action_id"] == "hplj:form"]
    assert prompt_of_button(form_btn)[0] == pid_plan
    n_views = len(w.fake.views_opened)
    assert await w.click(ANA, plan_msg, "hplj:form", form_btn["value"]) == 200
    await w.fake.wait_for("views.open", n_views + 1)
    view = w.fake.views_opened[-1]["view"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert {"situation", "date", "behaviour", "practice", "share"} <= set(inputs), sorted(inputs)
    assert inputs["date"]["type"] == "datepicker"
    behaviour = inputs["behaviour"]["options"][0]["value"]
    values = {
        "situation": {"v": {"type": "plain_text_input", "value": "Weekly 1:1 with Sam, who has been quiet lately"}},
        "date": {"v": {"type": "datepicker", "selected_date": mtm_day.isoformat()}},
        "behaviour": {"v": {"type": "static_select", "selected_option": {"value": behaviour}}},
        "practice": {"v": {"type": "static_select", "selected_option": {"value": "safe"}}},
        "share": {"v": {"type": "static_select", "selected_option": {"value": "yes"}}},
    }
    assert await w.payload(view_submission_payload(user_id=ANA.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200
    return pid_plan, plan_msg


async def record_agreement(w: World, user: User, msg: dict[str, Any], agreed: str) -> None:
    """Open the expectations card's form and submit what was agreed."""
    [form_btn] = [el for el in actions_of(msg["blocks"]) if el["action_id"] == "hplj:form"]
    n_views = len(w.fake.views_opened)
    assert await w.click(user, msg, "hplj:form", form_btn["value"]) == 200
    await w.fake.wait_for("views.open", n_views + 1)
    view = w.fake.views_opened[-1]["view"]
    values = {"agreed": {"v": {"type": "plain_text_input", "value": agreed}}}
    assert await w.payload(view_submission_payload(user_id=user.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200


# ---- the scenario ------------------------------------------------------------------------------

async def test_the_whole_journey_over_slack(world: World) -> None:
    w = world
    # 1. The admin enrolls Ana and Chen with Ben by slash command; the ephemeral reply lists both.
    reply = await enroll(w)
    text = json.dumps(reply, ensure_ascii=False)
    assert reply.get("response_type") == "ephemeral", reply
    assert "ana" in text.lower() and "chen" in text.lower(), text
    check_blocks(reply["blocks"])
    enrollments = await w.rows(select(EnrollmentRow))
    ana, chen, ben = await w.person(ANA), await w.person(CHEN), await w.person(BEN)
    assert ana and chen and ben
    assert len(enrollments) == 2, text
    assert {e.person_id for e in enrollments} == {ana.id, chen.id}
    assert {e.manager_id for e in enrollments} == {ben.id} and {e.start for e in enrollments} == {START}
    # time zones come from users.info
    assert (ana.tz, chen.tz, ben.tz) == (ANA.tz, CHEN.tz, BEN.tz)
    assert {c.params.get("user") for c in w.fake.calls_to("users.info")} >= {ANA.id, CHEN.id, BEN.id}
    assert not w.fake.calls_to("chat.postMessage")  # nothing is due yet

    # 2. The before phase in the method's order, each in their own working hours: the participants
    # prepare first (London's 10:00 comes five hours before New York's); Ben's card comes after.
    await w.tick(at_local(START - timedelta(days=7), "10:31", ANA.tz))  # Mon 30 Nov
    assert any("Why this matters" in json.dumps(c.params["blocks"]) for c in w.posts_to(ANA))
    assert any("Why this matters" in json.dumps(c.params["blocks"]) for c in w.posts_to(CHEN))
    w.prompt_message(ANA, "focus-situation")
    with pytest.raises(AssertionError):
        w.prompt_message(CHEN, "focus-situation")
    await w.tick(at_local(START - timedelta(days=7), "10:31", CHEN.tz))
    w.prompt_message(CHEN, "focus-situation")
    assert not w.posts_to(BEN)
    # Wed 2 Dec: Ben's card (14:00 Berlin) waits for Chen's picture of success (10:00 New York, 16:00
    # Berlin) and an hour more, past Ben's working day: it comes on Thu 3 Dec, when his day opens
    await w.tick(at_local(START - timedelta(days=5), "17:45", BEN.tz))
    assert not w.posts_to(BEN)
    await w.tick(at_local(START - timedelta(days=4), "10:00", BEN.tz))
    exp_posts = [c for c in w.posts_to(BEN) if "expectations" in c.params["metadata"]["event_payload"].get(
        "prompt_id", "")]
    # one card for both reports, each by name, with a Done button per report (nothing else that day)
    assert len(exp_posts) == 1 and len(w.posts_to(BEN)) == 1
    for c in exp_posts:
        assert c.params["metadata"]["event_type"] == "hplj_delivery"
        assert c.params["metadata"]["event_payload"]["delivery_id"]
        check_blocks(c.params["blocks"])
        assert c.params["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "Active Listening",
                                                                     "emoji": True}}
        blocks = json.dumps(c.params["blocks"], ensure_ascii=False)
        assert "Expectations conversation" in blocks and "For 2 of your team: *ana* and *chen*." in blocks, blocks
        assert "starts next week, on Mon 7 Dec" in blocks and "{starts}" not in blocks
        buttons = {prompt_of_button(el) for el in actions_of(c.params["blocks"])}
        assert {v for _, v in buttons} == {"done", "guide"}
        assert len({pid for pid, v in buttons if v == "done"}) == 2  # each report's own prompt
    for user in (ANA, CHEN):
        for c in w.posts_to(user):
            assert c.params["metadata"]["event_payload"]["delivery_id"]
            check_blocks(c.params["blocks"])
    for user in (ANA, CHEN, BEN):
        assert_in_working_hours(w, user, w.posts_to(user))
    assert {c.params.get("users") for c in w.fake.calls_to("conversations.open")} == {ANA.id, CHEN.id, BEN.id}

    # 3. Ben clicks Done for one report: the bot asks what they agreed; his typed answer records it
    # for that report only. The other stays open; the card is updated once to say who is done and
    # keeps only the other report's button; the reply names what was saved.
    _, exp_msg = w.prompt_message(BEN, "expectations")
    dones = [el for el in actions_of(exp_msg["blocks"]) if prompt_of_button(el)[1] == "done"]
    n_upd = len(w.fake.calls_to("chat.update"))
    assert await w.click(BEN, exp_msg, dones[0]["action_id"], dones[0]["value"]) == 200
    first, second = prompt_of_button(dones[0])[0], prompt_of_button(dones[1])[0]
    assert "what did you and ana agree?" in w.ephemerals_to(BEN)[-1]
    assert (await w.prompt(first)).status == "open"
    posted = len(w.posts_to(BEN))
    assert await w.type_(BEN, "One safe 1:1 first, then a customer call.") == 200
    saved = json.dumps([c.params for c in w.posts_to(BEN)[posted:]], ensure_ascii=False) + json.dumps(
        w.ephemerals_to(BEN)[-1:], ensure_ascii=False)
    assert "saved what you and ana agreed" in saved, saved
    assert (await w.prompt(first)).status != "open" and (await w.prompt(second)).status == "open"
    assert len(w.fake.calls_to("chat.update")) == n_upd + 1 and w.updates_of(BEN, exp_msg) == 1
    left = [prompt_of_button(el) for el in actions_of(exp_msg["blocks"])]
    assert [v for _, v in left] == ["done", "guide"] and left[0][0] == second  # only the other report's Done
    card = json.dumps(exp_msg["blocks"], ensure_ascii=False)
    assert "Done so far (what you agreed with each is saved)" in card and "ana" in card.split("Done so far")[1]
    # ... and once the other report's task is done too, the card says so for both, with no button left
    assert await w.click(BEN, exp_msg, dones[1]["action_id"], dones[1]["value"]) == 200
    assert "what did you and chen agree?" in w.ephemerals_to(BEN)[-1]
    assert await w.type_(BEN, "Listen first in the Monday stand-up.") == 200
    assert (await w.prompt(second)).status != "open"
    assert not actions_of(exp_msg["blocks"]) and w.updates_of(BEN, exp_msg) == 2
    card = json.dumps(exp_msg["blocks"], ensure_ascii=False)
    assert "Done for all 2 (what you agreed with each is saved)" in card and "Done so far" not in card

    # 4. Week 1: Ana opens the MTM form from the button and submits the modal.
    mtm_day = START + timedelta(days=4)  # Fri 11 Dec
    pid_plan, plan_msg = await plan_safe_mtm(w, mtm_day)
    assert (await w.prompt(pid_plan)).status != "open"
    [mtm] = await w.rows(select(MtmRow).where(MtmRow.enrollment_id == (await w.prompt(pid_plan)).enrollment_id))
    assert mtm.when == mtm_day and "Sam" in mtm.situation
    upd = w.fake.calls_to("chat.update")[-1]
    assert upd.params["ts"] == plan_msg["ts"] and not actions_of(upd.params["blocks"])
    assert w.updates_of(ANA, plan_msg) == 1  # the modal's submission updated the message once

    # 5. Ben gets the support request (at once, or on the scheduler's next pass) with Approve / Coach.
    if not any("support-safe" in json.dumps(m.get("metadata")) for m in w.messages_to(BEN)):
        await w.tick(w.clock.now() + timedelta(minutes=1))  # due at once: the scheduler's next pass
    pid_sup, sup_msg = w.prompt_message(BEN, "support-safe")
    assert sup_msg["metadata"]["event_payload"]["delivery_id"]
    buttons = {el["text"]["text"]: el for el in actions_of(sup_msg["blocks"])}
    assert {"Approve", "Coach"} <= set(buttons), set(buttons)
    assert "Sam" in json.dumps(sup_msg["blocks"])  # Ana chose to share the details
    n_ana = len(w.posts_to(ANA))
    assert await w.click(BEN, sup_msg, buttons["Approve"]["action_id"], buttons["Approve"]["value"]) == 200
    assert (await w.prompt(pid_sup)).status != "open"
    assert not actions_of(sup_msg["blocks"])  # updated in place
    assert w.updates_of(BEN, sup_msg) == 1
    news = [json.dumps(c.params["blocks"], ensure_ascii=False) for c in w.posts_to(ANA)[n_ana:]]
    assert any("approved" in t.lower() for t in news), news

    # 6. The follow-up arrives on the working morning after the MTM date (Mon 14 Dec), not before.
    await w.tick(at_local(START + timedelta(days=6), "17:45", ANA.tz))  # Sun 13 Dec
    with pytest.raises(AssertionError):
        w.prompt_message(ANA, "reflect-safe")
    await w.tick(at_local(START + timedelta(days=7), "09:59", ANA.tz))
    pid_ref, ref_msg = w.prompt_message(ANA, "reflect-safe")
    [ref_call] = [c for c in w.posts_to(ANA) if c.params["metadata"]["event_payload"].get("prompt_id") == pid_ref]
    assert w.posted_at[id(ref_call)].astimezone(ZoneInfo(ANA.tz)).date() == START + timedelta(days=7)
    assert_in_working_hours(w, ANA, [ref_call])

    # 7. Ana reflects by typing in the prompt's thread (her focus and picture of success are still
    # open, so outside the thread the bot would ask which): it asks field by field until answered.
    answers = iter(["yes", "4", "I paraphrased before answering; Sam opened up about the workload.", "yes",
                    "yes", "yes"])
    for _ in range(6):
        if (await w.prompt(pid_ref)).status != "open":
            break
        n = len(w.posts_to(ANA))
        assert await w.type_(ANA, next(answers), thread_ts=ref_msg["ts"]) == 200
        assert len(w.posts_to(ANA)) > n  # every typed answer is acknowledged in the DM
    row = await w.prompt(pid_ref)
    assert row.status != "open", (row.status, row.answers, [c.params.get("text") for c in w.posts_to(ANA)[-3:]])
    assert "Sam opened up" in json.dumps(row.answers)
    msg = await w.service.prompt_message(pid_ref)
    assert msg is not None and msg.closed
    assert w.updates_of(ANA, ref_msg) == 1  # answered by typing: the prompt's message is closed once
    # Every message the bot changed, it changed once; the grouped card once per report done.
    changed = w.fake.updates_per_message()
    assert changed.pop((BEN.dm, exp_msg["ts"])) == 2
    assert set(changed.values()) == {1}, changed

    # Every Block Kit payload the bot posted or updated is within Slack's limits.
    for c in [*w.fake.calls_to("chat.postMessage"), *w.fake.calls_to("chat.update")]:
        if c.params.get("blocks"):
            check_blocks(c.params["blocks"])


# ---- authorization and robustness ----------------------------------------------------------------

async def test_forged_and_stale_signatures_get_401_and_change_nothing(world: World) -> None:
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=5), "17:45", BEN.tz))
    pid, msg = w.prompt_message(BEN, "expectations")
    before, n_calls, n_resp = await w.counts(), len(w.fake.calls), len(w.fake.responses)
    done = next(el for el in actions_of(msg["blocks"]) if prompt_of_button(el)[1] == "done")
    click = urlencode({"payload": json.dumps(block_actions_payload(
        user_id=BEN.id, action_id=done["action_id"], value=done["value"], channel=BEN.dm, message_ts=msg["ts"]))})
    cmd = urlencode(slash_command_form(user_id=ADMIN.id, text="enroll active-listening <@UBEN|ben> manager "
                                       "<@UADMIN|lee>", response_url=w.fake.response_url("forged")))
    event = json.dumps(message_im_event(user_id=ANA.id, text="status", channel=ANA.dm, event_id="EvForged"))
    stale = int(time.time()) - 6 * 60
    for body, ctype in ((click, "application/x-www-form-urlencoded"), (cmd, "application/x-www-form-urlencoded"),
                        (event, "application/json")):
        cases = [{"secret": "not-the-secret"}, {"timestamp": stale}, {"sign": False},
                 {"sign": False, "headers": {"X-Slack-Request-Timestamp": str(int(time.time())),
                                           "X-Slack-Signature": "v0=" + "0" * 64}}]
        for kw in cases:
            status, _ = await w.post_raw(body, ctype, **kw)  # type: ignore[arg-type]
            assert status == 401, (ctype, kw)
    assert await w.counts() == before
    assert (await w.prompt(pid)).status == "open"
    assert len(w.fake.calls) == n_calls and len(w.fake.responses) == n_resp


async def test_a_non_admin_enrolling_is_refused_and_changes_nothing(world: World) -> None:
    w = world
    status, reply = await w.command(ANA, f"enroll active-listening {CHEN.mention} manager {BEN.mention} start {START}")
    assert status == 200 and reply is not None
    text = json.dumps(reply, ensure_ascii=False)
    assert reply.get("response_type") == "ephemeral" and "admin" in text.lower(), text
    assert await w.scalar(select(func.count()).select_from(EnrollmentRow)) == 0
    assert await w.scalar(select(func.count()).select_from(PromptRow)) == 0
    assert not w.fake.calls_to("chat.postMessage")


async def test_the_managers_button_clicked_by_someone_else_is_refused(world: World) -> None:
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=5), "10:31", CHEN.tz))
    await plan_safe_mtm(w, START + timedelta(days=4))
    if not any("support-safe" in json.dumps(m.get("metadata")) for m in w.messages_to(BEN)):
        await w.tick(w.clock.now() + timedelta(minutes=1))
    pid_sup, sup_msg = w.prompt_message(BEN, "support-safe")
    approve = next(el for el in actions_of(sup_msg["blocks"]) if prompt_of_button(el)[1] == "approve")
    before_row, before = await w.prompt(pid_sup), await w.counts()
    n_upd, n_posts = len(w.fake.calls_to("chat.update")), len(w.fake.calls_to("chat.postMessage"))
    # Chen presses the Approve button of Ben's request about Ana (a forwarded message, a crafted request).
    assert await w.click(CHEN, sup_msg, approve["action_id"], approve["value"], channel=BEN.dm) == 200
    after = await w.prompt(pid_sup)
    assert (after.status, after.answers, after.answered_at) == ("open", before_row.answers, before_row.answered_at)
    counts = await w.counts()
    assert counts["answered"] == before["answered"] and counts["MtmRow"] == before["MtmRow"]
    assert len(w.fake.calls_to("chat.update")) == n_upd  # Ben's message keeps its buttons
    assert len(w.fake.calls_to("chat.postMessage")) == n_posts  # nobody is told anything was approved
    refusals = w.ephemerals_to(CHEN)
    assert refusals, "no refusal shown to the person who clicked"
    assert "someone else" in refusals[-1] and "Nothing was changed" in refusals[-1], refusals[-1]


async def test_a_retried_event_is_processed_once(world: World) -> None:
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=5), "10:31", CHEN.tz))
    n_in = await w.scalar(select(func.count()).select_from(InboundRow))
    n = len(w.posts_to(ANA))
    assert await w.type_(ANA, "status", event_id="EvRetry0001") == 200
    first = len(w.posts_to(ANA))
    assert first > n  # the status answer
    for attempt in (1, 2):
        assert await w.type_(ANA, "status", event_id="EvRetry0001",
                             headers={"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"}) == 200
    assert len(w.posts_to(ANA)) == first
    assert await w.scalar(select(func.count()).select_from(InboundRow)) == n_in + 1
    assert await w.scalar(select(func.count()).select_from(InboundRow)
                          .where(InboundRow.key.like("%EvRetry0001%"))) == 1


async def test_a_double_click_answers_once(world: World) -> None:
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=3), "10:31", ANA.tz))
    pid, msg = w.prompt_message(ANA, "focus-situation")
    done = next(el for el in actions_of(msg["blocks"]) if prompt_of_button(el)[1] == "one-to-ones")
    assert await w.click(ANA, msg, done["action_id"], done["value"]) == 200
    answered = await w.prompt(pid)
    assert answered.status != "open"
    assert await w.click(ANA, msg, done["action_id"], done["value"]) == 200  # a second click, new action_ts
    again = await w.prompt(pid)
    assert (again.status, again.answers, again.answered_at) == (answered.status, answered.answers, answered.answered_at)


# ---- fuzzing: signed, malformed payloads never get a 500 -----------------------------------------

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = ["type", "user", "actions", "view", "event", "event_id", "container", "channel", "message", "state",
        "trigger_id", "private_metadata", "callback_id", "value", "action_id", "text", "command", "user_id",
        "response_url", "team", "token", "ts", "thread_ts", "channel_type", "subtype", "hash", "id"]


def _mutate(seed: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(seed))
    node = out
    for key in path[:-1]:
        nxt = node.get(key) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            break
        node = nxt
    if isinstance(node, dict):
        node[path[-1]] = value
    return out


def _seeds() -> list[tuple[str, dict[str, Any]]]:
    pid = "e_fuzz.focus-situation"
    btn = block_actions_payload(user_id=ANA.id, action_id="hplj:btn:one-to-ones",
                                value=json.dumps({"p": pid, "v": "one-to-ones"}), channel=ANA.dm)
    form = block_actions_payload(user_id=ANA.id, action_id="hplj:form", value=json.dumps({"p": pid, "v": ""}),
                                 channel=ANA.dm)
    sub = view_submission_payload(user_id=ANA.id, private_metadata=pid,
                                  values={"answer": {"v": {"type": "static_select",
                                                           "selected_option": {"value": "one-to-ones"}}}})
    ev = message_im_event(user_id=ANA.id, text="status", channel=ANA.dm)
    return [("payload", btn), ("payload", form), ("payload", sub), ("json", ev),
            ("form", slash_command_form(user_id=ANA.id, text="status"))]


SEEDS = _seeds()
paths = st.lists(st.sampled_from(KEYS), min_size=1, max_size=3)
mutated = st.tuples(st.integers(0, len(SEEDS) - 1), paths, json_values).map(
    lambda t: (SEEDS[t[0]][0], _mutate(SEEDS[t[0]][1], t[1], t[2])))
bodies = st.one_of(
    mutated.map(lambda kb: (urlencode({"payload": json.dumps(kb[1])}), "application/x-www-form-urlencoded")
                if kb[0] == "payload" else (json.dumps(kb[1]), "application/json") if kb[0] == "json"
                else (urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in kb[1].items()}),
                      "application/x-www-form-urlencoded")),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6).map(
        lambda d: ("payload=" + json.dumps(d), "application/x-www-form-urlencoded")),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6).map(
        lambda d: (json.dumps({**d, "type": "event_callback", "event": d}), "application/json")),
    st.text(max_size=200).map(lambda t: ("payload=" + t, "application/x-www-form-urlencoded")),
    st.binary(max_size=200).map(lambda b: (b, "application/json")),
)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies)
# Found by this test: bolt reads `body["actions"][0]` for any block_actions body with the key.
@example(body=(urlencode({"payload": json.dumps({**SEEDS[0][1], "actions": None})}),
               "application/x-www-form-urlencoded"))
@example(body=(urlencode({"payload": json.dumps({**SEEDS[0][1], "actions": []})}),
               "application/x-www-form-urlencoded"))
async def test_signed_malformed_payloads_never_get_a_500(world: World, body: tuple[Any, str]) -> None:
    raw, ctype = body
    status, text = await world.post_raw(raw, ctype)
    assert status < 500, (status, text, raw)


# ---- Success Case interviews (issue 14) ------------------------------------------------------------

async def surveyed(w: World, chen_answer: dict[str, Any]) -> str:
    """Ana's and Chen's Success Case survey answers, as the engine records them; the cohort's name."""
    return await classified(w, START, {ANA: SUCCESS_WITH_CONTACT, CHEN: chen_answer})


async def test_success_case_interviews_over_slack(world: World) -> None:
    """The admin selects candidates by slash command, Ana gets the consent request in her DM in her
    working hours, and the admin records what the interview verified: the report shows it."""

    w = world
    await enroll(w)
    cohort = await surveyed(w, {"classification": "not_applied", "barriers": ["no_time"]})
    n_ana = len(w.posts_to(ANA))

    status, reply = await w.command(ADMIN, f"interviews {cohort}")
    assert status == 200 and reply is not None
    text = json.dumps(reply, ensure_ascii=False)
    assert "2 candidates for Success Case interviews" in text and "asked for consent just now" in text
    assert "What got in the way" in text and "What is it worth" in text  # the guide
    check_blocks(reply["blocks"])
    await w.tick(w.clock.now() + timedelta(days=2))
    asks = [c for c in w.posts_to(ANA)[n_ana:] if "Could we talk about your results?" in json.dumps(c.params)]
    assert len(asks) == 1
    assert_in_working_hours(w, ANA, asks)

    pid, ask = w.prompt_message(ANA, "interview-consent")
    first = next(el for el in actions_of(ask["blocks"]) if prompt_of_button(el) == (pid, "slot:0"))
    assert first["text"]["text"].startswith("Yes: ")
    assert await w.click(ANA, ask, first["action_id"], first["value"]) == 200  # Ana takes the first time
    assert not actions_of(ask["blocks"])  # the request closes in place
    await w.tick(w.clock.now() + timedelta(hours=12))
    assert any("agreed to a Success Case interview" in json.dumps(c.params) for c in w.posts_to(ADMIN))
    status, reply = await w.command(ADMIN, f"interviews {cohort}")
    assert status == 200 and reply is not None and "booked" in json.dumps(reply)
    status, reply = await w.command(ADMIN, f"interview {ANA.mention} success outcome fewer-escalations value 3")
    assert status == 200 and reply is not None and "3 avoided escalations" in json.dumps(reply, ensure_ascii=False)
    status, reply = await w.command(ADMIN, f"report {cohort}")
    assert status == 200 and reply is not None
    report = json.dumps(reply, ensure_ascii=False)
    assert "verified in interviews: 1 of 1 interviewed was a success case (100%); 1 interviewed of 2 classified" \
        in report
    assert "Estimated value: £1,050 a month" in report


async def test_interview_notes_form_over_slack_becomes_a_verified_story(world: World) -> None:
    """Issue 21: the ranking with its reasons and the held calendar in the reply; after the
    interview the admin opens the notes form as a modal, and what they record (with consent) is the
    report's verified story, with its value a month. A participant cannot submit the form."""
    from store.models import EventRow

    w = world
    await enroll(w)
    cohort = await surveyed(w, {"classification": "tried_no_success", "barriers": ["no_manager_support"]})
    status, reply = await w.command(ADMIN, f"interviews {cohort}")
    text = json.dumps(reply, ensure_ascii=False)
    assert status == 200 and "Success cases, strongest evidence first:" in text
    assert "a result with a measure (fewer-escalations)" in text
    assert "tried and it did not work out; named a barrier: no support from their manager" in text
    assert "Your interview calendar (your time" in text and "held until" in text
    assert "Guide for non-success cases" in text
    await w.tick(w.clock.now() + timedelta(days=2))
    pid, ask = w.prompt_message(ANA, "interview-consent")
    first = next(el for el in actions_of(ask["blocks"]) if prompt_of_button(el) == (pid, "slot:0"))
    assert await w.click(ANA, ask, first["action_id"], first["value"]) == 200

    status, reply = await w.command(ADMIN, f"interview {ANA.mention} notes")
    assert status == 200 and "form" in json.dumps(reply)
    await w.tick(w.clock.now() + timedelta(hours=1))
    _, form = w.prompt_message(ADMIN, "interview-notes")
    [form_btn] = [el for el in actions_of(form["blocks"]) if el["action_id"] == "hplj:form"]
    n_views = len(w.fake.views_opened)
    assert await w.click(ADMIN, form, "hplj:form", form_btn["value"]) == 200
    await w.fake.wait_for("views.open", n_views + 1)
    view = w.fake.views_opened[-1]["view"]
    check_blocks(view["blocks"])
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert {"consent", "classification", "situation", "behaviour", "result", "evidence", "enablers", "barriers",
            "outcome", "units"} <= set(inputs), sorted(inputs)
    values = {
        "consent": {"v": {"type": "static_select", "selected_option": {"value": "yes"}}},
        "classification": {"v": {"type": "static_select", "selected_option": {"value": "success"}}},
        "situation": {"v": {"type": "plain_text_input", "value": "A customer called back angry about a refund"}},
        "behaviour": {"v": {"type": "plain_text_input", "value": "Ana paraphrased before offering anything"}},
        "result": {"v": {"type": "plain_text_input", "value": "No escalation; three fewer this month"}},
        "evidence": {"v": {"type": "plain_text_input", "value": "the ticket history"}},
        "enablers": {"v": {"type": "multi_static_select", "selected_options": [{"value": "manager"}]}},
        "barriers": {"v": {"type": "multi_static_select", "selected_options": [{"value": "no_time"}]}},
        "outcome": {"v": {"type": "static_select", "selected_option": {"value": "fewer-escalations"}}},
        "units": {"v": {"type": "plain_text_input", "value": "3"}},
    }
    # Ana (not an admin) cannot record notes about anyone, herself included: nothing is saved
    assert await w.payload(view_submission_payload(user_id=ANA.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200
    assert not [e for e in await w.rows(select(EventRow)) if e.kind == "interview_recorded"]
    assert await w.payload(view_submission_payload(user_id=ADMIN.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200
    (recorded,) = [e for e in await w.rows(select(EventRow)) if e.kind == "interview_recorded"]
    assert recorded.data["units"] == 3 and recorded.data["barriers"] == ["no_time"] and recorded.data["evidence"]
    assert "refund" not in json.dumps(recorded.data)  # the words live on the enrollment's notes only
    status, reply = await w.command(ADMIN, f"report {cohort}")
    report = json.dumps(reply, ensure_ascii=False)
    assert ("Verified story 1 (interview notes, evidence seen: “the ticket history”): Situation: “A customer called "
            "back angry about a refund”") in report
    assert "Behaviour: “[name] paraphrased before offering anything”" in report  # her name is not quoted
    assert "Value: 3 avoided escalations a month (£1,050 a month)" in report
    assert "named in interview" in report  # her interview's barrier is counted, with who can remove it


async def test_a_typed_answer_goes_to_the_prompt_whose_thread_it_is_in(world: World) -> None:
    """Two text prompts open: a message outside any thread is not guessed (the bot asks which);
    a reply in a prompt's thread answers that prompt, and the confirmation names it."""
    w = world
    await enroll(w)
    await w.tick(at_local(START - timedelta(days=1), "14:31", ANA.tz))  # focus and success both open
    focus_id, focus_msg = w.prompt_message(ANA, "focus-situation")
    success_id, success_msg = w.prompt_message(ANA, "success-picture")
    assert (await w.prompt(focus_id)).status == (await w.prompt(success_id)).status == "open"

    posted = len(w.posts_to(ANA))
    assert await w.type_(ANA, "My 1:1s surface problems a week earlier") == 200
    ask = json.dumps([c.params for c in w.posts_to(ANA)[posted:]], ensure_ascii=False)
    assert "Which question is that for?" in ask and "1. Your focus" in ask and "3. Your picture of success" in ask
    assert (await w.prompt(focus_id)).status == (await w.prompt(success_id)).status == "open"

    async def in_thread(msg: dict[str, Any], text: str, n: int) -> list[Call]:
        before = len(w.posts_to(ANA))
        assert await w.event(message_im_event(user_id=ANA.id, text=text, channel=ANA.dm, ts=f"1800009{n}.000100",
                                              thread_ts=msg["ts"], event_id=f"EvThread{n}")) == 200
        return w.posts_to(ANA)[before:]

    (saved,) = await in_thread(success_msg, "My 1:1s surface problems a week earlier", 1)
    assert saved.params["thread_ts"] == success_msg["ts"]
    assert "Saved your picture of success." in json.dumps(saved.params, ensure_ascii=False)
    assert (await w.prompt(success_id)).answers == {"answer": "My 1:1s surface problems a week earlier"}
    assert (await w.prompt(focus_id)).status == "open"

    (saved,) = await in_thread(focus_msg, "1:1s with people in my team", 2)
    assert "Saved your focus." in json.dumps(saved.params, ensure_ascii=False)
    assert (await w.prompt(focus_id)).answers == {"answer": "one-to-ones"}


async def test_interview_consent_can_be_typed_in_the_requests_thread(world: World) -> None:
    """Issue 14: a candidate who types instead of clicking: an unclear answer is asked again and
    saves nothing; "2" in the request's thread books the second time, and the interviewer hears."""
    from store.models import EventRow

    w = world
    await enroll(w)
    cohort = await classified(w, START, {ANA: SUCCESS_WITH_CONTACT})
    status, _ = await w.command(ADMIN, f"interviews {cohort}")
    assert status == 200
    await w.tick(w.clock.now() + timedelta(days=2))
    pid, ask = w.prompt_message(ANA, "interview-consent")
    assert any(prompt_of_button(el) == (pid, "slot:1") for el in actions_of(ask["blocks"]))

    async def in_thread(text: str, n: int) -> str:
        before = len(w.posts_to(ANA))
        assert await w.event(message_im_event(user_id=ANA.id, text=text, channel=ANA.dm, ts=f"1800008{n}.000100",
                                              thread_ts=ask["ts"], event_id=f"EvConsent{n}")) == 200
        return json.dumps([c.params for c in w.posts_to(ANA)[before:]], ensure_ascii=False)

    unclear = await in_thread("sounds good", 1)
    assert "reply with the number of the time that suits you (1 to 3)" in unclear and "Nothing was saved" in unclear
    consent = [e for e in await w.rows(select(EventRow)) if e.kind.startswith("interview")]
    assert [e.kind for e in consent] == ["interview_invited"], [e.kind for e in consent]
    booked = await in_thread("2", 2)
    assert "Thank you" in booked, booked
    events = {e.kind: e for e in await w.rows(select(EventRow)) if e.kind.startswith("interview")}
    assert events["interview_consent"].data == {"agreed": True,
                                                "slot": events["interview_invited"].data["slots"][1]}
    await w.tick(w.clock.now() + timedelta(hours=12))
    told = [json.dumps(c.params, ensure_ascii=False) for c in w.posts_to(ADMIN)]
    assert any("agreed to a Success Case interview" in t for t in told)
    assert "no longer open" in await in_thread("no", 3)  # answered once: a later "no" changes nothing
    assert [e.kind for e in await w.rows(select(EventRow))].count("interview_consent") == 1


async def test_what_to_change_is_read_and_edited_over_slack_and_shown_inert(world: World) -> None:
    """Issue 21, item 4: the admin reads the drafted "What to change" by slash command, replaces it
    with her own lines (a channel ping and a mention among them: shown as text, never live), and
    the report shows her text; a participant's attempt is refused and changes nothing."""
    w = world
    await enroll(w)
    cohort = await surveyed(w, {"classification": "not_applied", "barriers": ["no_time", "no_incentive"]})
    status, reply = await w.command(ADMIN, f"report {cohort} recommendations")
    text = json.dumps(reply, ensure_ascii=False)
    assert status == 200 and "What to change (drafted from the evidence; the L&amp;D lead may edit it):" in text
    assert ("Remove “no time (other priorities came first)” (1: 1 in the survey) — their managers and senior "
            "leaders, by making room for it among the priorities.") in text

    status, reply = await w.command(ANA, f"report {cohort} recommendations set <!channel> ignore this")
    assert status == 200 and "is for journey admins" in json.dumps(reply)

    edited = f"Ping <!channel> and <@{BEN.id}> about *rewards* & goals\nAsk leaders to recognise practice (1 named it)"
    status, reply = await w.command(ADMIN, f"report {cohort} recommendations set {edited}")
    text = json.dumps(reply, ensure_ascii=False)
    assert status == 200 and "Saved: cohort" in text and "now show your text instead of the draft" in text
    # the adapter reads a mention in a slash command as a user reference; in typed text it stays text
    assert "&lt;!channel&gt;" in text and f"&lt;user:{BEN.id}&gt;" in text and "&amp; goals" in text
    assert "<!channel>" not in text and f"<@{BEN.id}>" not in text  # inert: no ping, no mention

    status, reply = await w.command(ADMIN, f"report {cohort}")
    text = json.dumps(reply, ensure_ascii=False)
    assert status == 200 and "What to change (edited by the L&amp;D lead):" in text
    assert "Ask leaders to recognise practice (1 named it)" in text and "<!channel>" not in text
    assert "ignore this" not in text  # the participant's text was never stored
