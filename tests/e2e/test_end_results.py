"""Issue 21, item 5, end to end on each platform over its local fake: at the end of the journey the
manager receives their scorecard (with recognition, or what to do next time), their own manager
(the senior leader, in Tokyo) the scorecards of the managers below them, and, only after the
follow-up survey has closed, the final digest; each in the recipient's working hours.

The journey runs on the scheduler from due time to due time (`run_to`), as `hplj serve` would. The
cohort has two people, under the minimum group of 5: what the manager did is shown, what the people
did is named as too small, and the participants' closing message has no line about the cohort.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import tests.e2e.test_slack_scenario as slack
import tests.e2e.test_teams_scenario as teams
from bot.app.service import BotService
from store.models import OutboxRow, PromptRow
from tests.e2e.test_manager_escalation import (
    HANA_S,
    HANA_T,
    in_tokyo_hours,
    sent_times,
    slack_leader_enrolled,
    teams_leader_and_a_planned_moment,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TOKYO = ZoneInfo("Asia/Tokyo")
END = datetime(2027, 4, 30, tzinfo=UTC)  # well past the follow-up survey and the wait for interviews


async def run_to(service: BotService, until: datetime, after: Any = None) -> None:
    """Jump the clock from one due time to the next (nobody answers in between), ticking each."""
    while True:
        async with service.uow.read() as uow:
            due = await uow.views.next_due_at()
        if due is None or due > until:
            return
        service.clock.set(max(due, service.clock.now()))  # type: ignore[attr-defined]
        await service.tick(service.clock.now())
        await service.settle()
        if after is not None:
            after()


async def follow_up_closed_at(db: Any) -> datetime:
    """The end of the follow-up survey's window: the last one sent, plus `ending.survey_open_days`
    (10) working days, which is at least two weeks."""
    async with db.read() as s:
        sent = [p.sent_at for p in (await s.execute(select(PromptRow).where(PromptRow.step_id == "follow-up")))
                .scalars().all() if p.sent_at is not None]
    assert sent, "no follow-up survey was sent"
    latest = max(t if t.tzinfo else t.replace(tzinfo=UTC) for t in sent)
    return latest + timedelta(days=14)


async def sent_at_of(db: Any, key_prefix: str) -> datetime:
    async with db.read() as s:
        (at,) = (await s.execute(select(OutboxRow.sent_at).where(OutboxRow.key.startswith(key_prefix),
                                                                  OutboxRow.state == "sent"))).scalars().all()
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# ---- Slack ----------------------------------------------------------------------------------------

async def test_slack_scorecard_with_recognition_and_the_leaders_final_digest_after_the_follow_up(tmp_path) -> None:
    w = await slack.make_world(tmp_path)
    try:
        await slack_leader_enrolled(w)
        # Ben holds the expectations conversation with both before the start (Wed 2 Dec, his card)
        await w.tick(slack.at_local(slack.START - timedelta(days=5), "17:45", slack.BEN.tz))
        _, card = w.prompt_message(slack.BEN, "expectations")
        dones = [el for el in slack.actions_of(card["blocks"]) if slack.prompt_of_button(el)[1] == "done"]
        assert len(dones) == 2  # one card, a Done button per report
        for done in dones:
            assert await w.click(slack.BEN, card, done["action_id"], done["value"]) == 200
            assert "agree?" in w.ephemerals_to(slack.BEN)[-1]
            assert await w.type_(slack.BEN, "One safe 1:1 first, then a customer call.") == 200
        # Ana plans a moment; Ben backs it at once
        await slack.plan_safe_mtm(w, slack.START + timedelta(days=4))
        if not any("support-safe" in json.dumps(m.get("metadata")) for m in w.messages_to(slack.BEN)):
            await w.tick(w.clock.now() + timedelta(minutes=1))
        _, sup = w.prompt_message(slack.BEN, "support-safe")
        approve = next(el for el in slack.actions_of(sup["blocks"]) if el["text"]["text"] == "Approve")
        assert await w.click(slack.BEN, sup, approve["action_id"], approve["value"]) == 200

        await run_to(w.service, END, w._stamp)

        def posts(user: slack.User, title: str) -> list[Any]:
            return [c for c in w.posts_to(user) if title in json.dumps(c.params["blocks"], ensure_ascii=False)]

        (card,) = posts(slack.BEN, "Your team's results")
        slack.check_blocks(card.params["blocks"])
        slack.assert_in_working_hours(w, slack.BEN, [card])
        text = json.dumps(card.params["blocks"], ensure_ascii=False)
        assert "Expectations conversations held before the start: 2 of 2." in text
        assert "1 of 1 support requests answered" in text
        assert ("Thank you: you held the expectations conversation with both of your reports and answered every "
                "support request within a working day.") in text
        assert "The cohort: too small a group to compare (fewer than 5 people)." in text  # two people
        assert "Weekly 1:1 with Sam" not in text  # nothing anyone typed

        (theirs,) = posts(HANA_S, "Your managers' results")
        slack.check_blocks(theirs.params["blocks"])
        assert "Worth a word of thanks:" in json.dumps(theirs.params["blocks"], ensure_ascii=False)
        (final,) = posts(HANA_S, "The results of Active Listening")
        slack.check_blocks(final.params["blocks"])
        final_text = json.dumps(final.params["blocks"], ensure_ascii=False)
        assert "Business goal:" in final_text and "Estimated value: none yet" in final_text
        assert "Interviews: none were recorded in time for this digest" in final_text
        # after the follow-up survey's window, never before; in Hana's working hours in Tokyo
        assert w.posted_at[id(final)] > await follow_up_closed_at(w.db)
        assert w.posted_at[id(theirs)] < w.posted_at[id(final)]
        assert all(in_tokyo_hours(w.posted_at[id(c)]) for c in (theirs, final))
        # two people: no line about what the cohort achieved in the closing message
        closing = [json.dumps(c.params["blocks"], ensure_ascii=False) for c in w.posts_to(slack.ANA)
                   if "The end of your journey" in json.dumps(c.params["blocks"]) or "Nearly done" in
                   json.dumps(c.params["blocks"])]
        assert closing and not any("your cohort" in t for t in closing)
    finally:
        await slack.close_world(w)


# ---- Teams ----------------------------------------------------------------------------------------

async def test_teams_scorecard_of_a_silent_manager_and_the_leaders_final_digest_after_the_follow_up(
        tmp_path) -> None:
    w = await teams.make_world(tmp_path)
    try:
        hana, _ = await teams_leader_and_a_planned_moment(w, teams.START + timedelta(days=9))
        await run_to(w.service, END)  # Ben answers nothing

        assert w.cards_to(teams.BEN)  # each validated against the Adaptive Cards 1.5 schema
        texts = w.texts_to(teams.BEN)
        (mine,) = [t for t in texts if "Your team's results" in t]
        assert "Expectations conversations held before the start: 0 of 2." in mine
        assert "Next time: 1 support request went unanswered and 2 expectations conversations were not held" in mine
        assert "Thank you" not in mine

        hana_texts = w.texts_to(HANA_T)
        w.cards_to(HANA_T)  # validates each
        (theirs,) = [t for t in hana_texts if "Your managers' results" in t]
        assert "Worth a conversation with Ben Okafor: 1 support request went unanswered" in theirs
        (final,) = [t for t in hana_texts if "The results of Active Listening" in t]
        assert "Business goal:" in final and "Interviews: none were recorded in time for this digest" in final
        final_at = await sent_at_of(w.db, f"final-digest:{hana.id}:")
        assert final_at > await follow_up_closed_at(w.db)
        assert in_tokyo_hours(final_at) and in_tokyo_hours(await sent_at_of(w.db, f"scorecard:{hana.id}:"))
        assert all(in_tokyo_hours(t) for t in (await sent_times(w.db, hana.id))[1:])  # after the welcome
    finally:
        await teams.close_world(w)
