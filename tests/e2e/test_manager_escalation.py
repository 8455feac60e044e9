"""Issue 13 end to end, once per platform: a manager stays silent, so the escalation reaches their
own manager (the senior leader, in Tokyo) in the leader's working hours; and the support request
expires at the moment's date with the journey's fallback offered to the participant.

Slack over `FakeSlackApi` and Teams over `FakeConnector` through the real HTTP surface (the helpers
of the two platform scenarios); the console through `BotService` with the real `ConsoleChat`.
The leader relation is the people row's `manager_id` (what `hplj people sync` sets).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import tests.e2e.test_slack_scenario as slack
import tests.e2e.test_teams_scenario as teams
from adapters.console import ConsoleChat
from bot.app.service import BotService
from bot.services.clock import SimulatedClock
from journeys.loader import default_library_path, load_library
from journeys.text import plain
from ports.chat import InboundAction
from store.db import Database
from store.models import EventRow, OutboxRow
from tests.worlds import service_on

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOKYO = ZoneInfo("Asia/Tokyo")
SITUATION = "Weekly 1:1 with Sam, who has been quiet lately"


def in_tokyo_hours(at: datetime) -> bool:
    local = at.astimezone(TOKYO)
    return local.weekday() < 5 and (9, 0) <= (local.hour, local.minute) < (17, 30) \
        and not (12 <= local.hour < 13)


async def set_leader(service: BotService, manager_id: str, leader_id: str) -> None:
    async with service.uow() as uow:
        await uow.people.change(manager_id, manager_id=leader_id)
        await uow.commit()


# ---- Slack ----------------------------------------------------------------------------------------

HANA_S = slack.User("UHANA", "hana", "Asia/Tokyo")


async def slack_leader_enrolled(w: slack.World) -> None:
    """Hana (in Tokyo) becomes Ben's manager; Ana and Chen are enrolled with Ben by slash command."""
    w.fake.add_user(HANA_S.id, HANA_S.name, real_name="Hana Kobayashi", tz=HANA_S.tz, tz_offset=9 * 3600,
                    email="hana@example.com")
    hana = await w.service.ensure_person("slack", HANA_S.id, name="Hana Kobayashi", tz=HANA_S.tz)
    ben = await w.service.ensure_person("slack", slack.BEN.id, name="Ben Okafor", tz=slack.BEN.tz)
    await set_leader(w.service, ben.id, hana.id)
    await slack.enroll(w)


async def test_slack_silent_manager_escalates_to_the_leader_and_the_request_expires(tmp_path: Path) -> None:
    w = await slack.make_world(tmp_path)
    try:
        await slack_leader_enrolled(w)
        mtm_day = slack.START + timedelta(days=9)  # Wed 16 Dec: Ben has time to answer, and doesn't
        await slack.plan_safe_mtm(w, mtm_day)
        await w.tick(slack.at_local(mtm_day, "17:45", slack.ANA.tz))

        to_hana = [(w.posted_at[id(c)], c) for c in w.posts_to(HANA_S)]
        texts = [slack.json.dumps(c.params["blocks"], ensure_ascii=False) for _, c in to_hana]
        request = [(at, t) for (at, _), t in zip(to_hana, texts, strict=True) if "hasn't answered" in t]
        assert len(request) == 1, texts  # once
        at, text = request[0]
        # (Slack's profile names here are lowercase)
        assert "ben hasn't answered ana's request to back a moment that matters on wed 16 dec" in text.lower()
        assert "Sam" not in text  # nothing Ana typed
        assert all(in_tokyo_hours(t) for t, _ in to_hana), [t.astimezone(TOKYO) for t, _ in to_hana]
        assert at.astimezone(TOKYO).date() == date(2026, 12, 14)  # Fri 11 Dec Berlin is after hours in Tokyo
        # the expectations task (card Wed 2 Dec, escalation due Fri 4 Dec) could only reach Hana on
        # the start day in Tokyo: a before-the-start nudge that has lost its point is not sent
        assert not any("hasn't marked" in t and "Expectations conversation" in t for t in texts)

        # The request expired with its moment: Ana hears it with the fallback, Ben gets nothing after it.
        news = [(w.posted_at[id(c)], slack.json.dumps(c.params["blocks"], ensure_ascii=False))
                for c in w.posts_to(slack.ANA)]
        told = [(t, x) for t, x in news if "didn't get to your support request" in x]
        assert len(told) == 1
        assert "go ahead on your own" in told[0][1] and "Sam Reyes" in told[0][1]
        assert told[0][0].astimezone(ZoneInfo(slack.ANA.tz)).date() == mtm_day
        slack.assert_in_working_hours(w, slack.ANA, [c for c in w.posts_to(slack.ANA)
                                                     if "didn't get to" in slack.json.dumps(c.params["blocks"])])
        # Ben gets nothing about it from the moment's day on but one note, in his hours, that it closed
        late = [c for c in w.posts_to(slack.BEN) if w.posted_at[id(c)].astimezone(ZoneInfo(slack.BEN.tz)).date()
                >= mtm_day]
        assert len(late) == 1 and "the request to back it has closed" in slack.json.dumps(late[0].params["blocks"])
        slack.assert_in_working_hours(w, slack.BEN, late)
        _, sup = w.prompt_message(slack.BEN, "support-safe")
        assert not slack.actions_of(sup["blocks"])  # the card closed in place
    finally:
        await slack.close_world(w)


# ---- Teams ----------------------------------------------------------------------------------------

HANA_T = teams.User("hhhhhhhh-0000-4000-8000-00000000h0h0", "Hana Kobayashi", "Asia/Tokyo", "Hana")


async def teams_leader_and_a_planned_moment(w: teams.World, mtm_day: date) -> tuple[Any, Any]:
    """Everyone installs the app, Hana becomes Ben's manager, Ana and Chen are enrolled with Ben,
    and Ana plans a safe moment on `mtm_day` through her card: (Hana's, Ben's people rows)."""
    await teams.install_everyone(w)
    status, _ = await w.post(teams.install(HANA_T, w.fake.url))
    assert status == 200
    hana, ben = await w.person(HANA_T), await w.person(teams.BEN)
    assert hana and ben
    await set_leader(w.service, ben.id, hana.id)
    status, _ = await teams.enroll_by_command(w)
    assert status == 200
    await w.tick(teams.at_local(teams.START + timedelta(days=2), "10:01", "Europe/Madrid"))
    pid_plan, plan_card = teams.latest_card_for(w, teams.ANA, "mtm-safe")
    values: dict[str, Any] = {"situation": SITUATION, "date": mtm_day.isoformat()}
    for fid, el in teams.card_inputs(plan_card).items():
        name = fid.removeprefix("f.")
        if name not in values and el["type"] == "Input.ChoiceSet" and el.get("choices"):
            values[name] = el["choices"][0]["value"]
    status, _ = await teams.submit(w, teams.ANA, plan_card, pid_plan, values)
    assert status == 200
    return hana, ben


async def test_teams_silent_manager_escalates_to_the_leader_and_the_request_expires(tmp_path: Path) -> None:
    w = await teams.make_world(tmp_path)
    try:
        mtm_day = teams.START + timedelta(days=9)  # Wed 16 Dec
        hana, _ = await teams_leader_and_a_planned_moment(w, mtm_day)
        await w.tick(teams.at_local(mtm_day, "17:45", "Europe/Madrid"))

        texts = w.texts_to(HANA_T)
        request = [t for t in texts if "hasn't answered" in t]
        assert len(request) == 1, texts
        assert "Ben hasn't answered Ana's request to back a moment that matters on Wed 16 Dec" in request[0]
        assert "Sam" not in request[0]
        sent = await sent_times(w.db, hana.id)
        # (the welcome on install is the answer to her own action; everything else waits for her hours)
        assert len(sent) >= 3 and all(in_tokyo_hours(t) for t in sent), [t.astimezone(TOKYO) for t in sent]
        told = [t for t in w.texts_to(teams.ANA) if "didn't get to your support request" in t]
        assert len(told) == 1 and "go ahead on your own" in told[0]
        _, sup_card = teams.latest_card_for(w, teams.BEN, "support-safe")
        labels = {a.get("title") for a in teams.card_actions(sup_card)}
        assert "Can't this time" in labels  # the third answer, next to Approve and Coach
    finally:
        await teams.close_world(w)


async def sent_times(db: Database, person_id: str) -> list[datetime]:
    """When each new message to this person was delivered, in simulated time (the outbox's sent_at)."""
    async with db.read() as s:
        rows = (await s.execute(select(OutboxRow.sent_at).where(
            OutboxRow.recipient_id == person_id, OutboxRow.state == "sent", OutboxRow.replaces_key.is_(None))
            .order_by(OutboxRow.id))).scalars().all()
    return [t if t.tzinfo else t.replace(tzinfo=UTC) for t in rows]


# ---- console --------------------------------------------------------------------------------------


async def test_console_silent_manager_escalates_to_the_leader_and_the_request_expires(tmp_path: Path) -> None:
    printed: list[str] = []
    db = Database(f"sqlite:///{tmp_path / 'console.db'}")
    await db.create_all()
    clock = SimulatedClock(datetime(2027, 3, 29, 7, 0, tzinfo=UTC))
    console = ConsoleChat(write=printed.append)
    console.clock_label = lambda: clock.now().isoformat()
    service = await service_on(db, load_library(default_library_path()), {"console": console}, clock)
    people = {"ana": ("Ana Silva", "Europe/London"), "ben": ("Ben Okafor", "Europe/London"),
              "hana": ("Hana Kobayashi", "Asia/Tokyo")}
    ids = {}
    for uid, (name, tz) in people.items():
        console.add_user(uid, name, f"{uid}@example.com", tz)
        ids[uid] = (await service.ensure_person("console", uid, name=name, tz=tz)).id
    await set_leader(service, ids["ben"], ids["hana"])
    start = date(2027, 4, 12)
    await service.enroll("active-listening", [ids["ana"]], ids["ben"], start, cohort="c", actor_id=None)

    async def tick_until(until: datetime) -> None:
        while clock.now() < until:
            clock.set(min(until, clock.now() + timedelta(hours=1)))
            await service.tick(clock.now())
            await service.settle()

    await tick_until(datetime(2027, 4, 14, 10, 5, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC))
    plan = next(d for d in console.sent if d.message.prompt_id and d.message.prompt_id.endswith("mtm-safe"))
    mtm_day = date(2027, 4, 23)  # Fri 23 Apr
    result = await service.handle_action(InboundAction(
        "console", "ana", "plan-1", plan.message.prompt_id, None,
        {"situation": SITUATION, "date": mtm_day.isoformat(), "behaviour": "paraphrase", "practice": "safe",
         "share": "yes"}))
    assert any("Your moment is planned" in r.text for r in result.replies)
    await service.settle()
    await tick_until(datetime(2027, 4, 23, 17, 45, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC))

    def flat(text: str) -> str:
        return " ".join(plain(text).split())

    to_hana = [flat(p) for p in printed if " → Hana Kobayashi" in p.split("\n", 1)[0]]
    request = [p for p in to_hana if "hasn't answered" in p]
    assert len(request) == 1, to_hana
    assert "Ben hasn't answered Ana's request to back a moment that matters on Fri 23 Apr" in request[0]
    assert "Sam" not in request[0]
    sent = await sent_times(db, ids["hana"])
    assert len(sent) == len(to_hana) and all(in_tokyo_hours(t) for t in sent), [t.astimezone(TOKYO) for t in sent]
    told = [flat(p) for p in printed if " → Ana Silva" in p.split("\n", 1)[0] and "didn't get to your" in flat(p)]
    assert len(told) == 1 and "go ahead on your own" in told[0]
    assert "Ask the L&D coach for a quick word: Sam Reyes" in told[0]
    await db.dispose()


# ---- Slack: "Can't this time" with a reason -----------------------------------------------------


async def test_slack_manager_cant_this_time_gives_a_reason_and_the_participant_is_offered_the_fallback(
        tmp_path: Path) -> None:
    w = await slack.make_world(tmp_path)
    try:
        await slack.enroll(w)
        await slack.plan_safe_mtm(w, slack.START + timedelta(days=9))
        await w.tick(w.clock.now() + timedelta(hours=2))
        pid, card = w.prompt_message(slack.BEN, "support-safe")
        cant = next(el for el in slack.actions_of(card["blocks"]) if slack.prompt_of_button(el)[1] == "cant")
        assert cant["text"]["text"] == "Can't this time"
        assert await w.click(slack.BEN, card, cant["action_id"], cant["value"]) == 200
        assert (await w.prompt(pid)).status == "open"  # asked why first
        ask = w.fake.ephemeral[-1]
        reasons = {slack.prompt_of_button(el)[1]: el for el in slack.actions_of(ask["blocks"])}
        # the performance system's barriers, as a manager meets them (journeys/definition.py CANT_REASONS)
        assert set(reasons) == {"cant:no_time", "cant:away", "cant:not_right_moment", "cant:unclear_how",
                                "cant:no_incentive", "cant:tools_process", "cant:other"}
        away = reasons["cant:away"]
        assert await w.click(slack.BEN, {"ts": card["ts"]}, away["action_id"], away["value"]) == 200
        row = await w.prompt(pid)
        assert row.status == "answered" and row.answers == {"choice": "cant", "reason": "away"}
        assert not slack.actions_of(card["blocks"])  # Ben's card closed in place
        await w.tick(w.clock.now() + timedelta(hours=1))
        told = [slack.json.dumps(c.params["blocks"], ensure_ascii=False) for c in w.posts_to(slack.ANA)]
        assert any("can't back your moment on wed 16 dec this time" in t.lower() and "go ahead on your own" in t
                   for t in told)
        async with w.db.read() as s:
            kinds = (await s.execute(select(EventRow.data).where(EventRow.kind == "manager_cant"))).scalars().all()
        assert [d["reason"] for d in kinds] == ["away"]  # a barrier the evaluation counts
    finally:
        await slack.close_world(w)


# ---- issue 23, item 2: a bent chain never reaches a participant ------------------------------------

async def test_a_participant_above_their_own_manager_never_receives_a_peers_escalation(tmp_path: Path) -> None:
    """Ana and Chen under Ben, and a stored link Ben -> Ana (written before the chain checks, by SQL
    here): Ana never hears that Ben hasn't marked something about Chen; nobody is escalated to."""
    w = await slack.make_world(tmp_path)
    try:
        await slack.enroll(w)
        ana = await w.person(slack.ANA)
        ben = await w.person(slack.BEN)
        assert ana is not None and ben is not None
        await set_leader(w.service, ben.id, ana.id)  # the bent link
        await w.tick(slack.at_local(slack.START + timedelta(days=21), "17:45", slack.ANA.tz))
        texts = [slack.json.dumps(c.params.get("blocks") or c.params.get("text"), ensure_ascii=False)
                 for c in w.posts_to(slack.ANA)]
        assert not [t for t in texts if "hasn't marked" in t or "hasn't answered" in t], texts
        async with w.db.read() as s:
            kinds = [e.kind for e in (await s.execute(select(EventRow))).scalars()]
        assert "escalated_to_leader" not in kinds
    finally:
        await slack.close_world(w)
