"""Issue 20 end to end on Slack (over the local fake): a bare "1" in a card's thread, a barrier
typed in the DM, the morning nudge of a moment, the expired request told to the manager, and
`stop` confirmed. The same world as tests/e2e/test_slack_scenario.py."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from store.models import EnrollmentRow, EventRow
from tests.e2e.test_slack_scenario import (
    ADMIN,
    ANA,
    BEN,
    START,
    World,
    at_local,
    enroll,
    plan_safe_mtm,
    world,
)

__all__ = ["world"]  # the fixture


def _said(w: World, user, since: int) -> str:
    return json.dumps([c.params for c in w.posts_to(user)[since:]], ensure_ascii=False)


async def test_people_first_over_slack(world: World) -> None:
    w = world
    await enroll(w)
    # a bare "1" typed in the focus card's thread presses its first option
    await w.tick(at_local(START - timedelta(days=7), "10:31", ANA.tz))  # Mon 30 Nov
    pid_focus, focus_msg = w.prompt_message(ANA, "focus-situation")
    assert await w.type_(ANA, "1", thread_ts=focus_msg["ts"]) == 200
    assert (await w.prompt(pid_focus)).answers == {"answer": "upset-customers"}

    # a barrier typed in the DM is heard, recorded and answered with options; nothing is saved as an answer
    await w.tick(at_local(START - timedelta(days=5), "11:31", ANA.tz))  # consent and picture open
    n = len(w.posts_to(ANA))
    assert await w.type_(ANA, "I don't really have time for this, my team is swamped") == 200
    said = _said(w, ANA, n)
    assert "snooze week" in said and "talk to my manager" in said and "open questions, so I didn" not in said
    kinds = [e.kind for e in await w.rows(select(EventRow))]
    assert "barrier" in kinds

    # the morning of her moment (Fri 11 Dec) she gets her plan back before it, in her hours
    mtm_day = START + timedelta(days=4)
    await plan_safe_mtm(w, mtm_day)
    n, n_ben = len(w.posts_to(ANA)), len(w.posts_to(BEN))
    await w.tick(at_local(mtm_day, "09:05", ANA.tz))
    said = _said(w, ANA, n)
    assert "Your moment today" in said and "A first sentence to try" in said

    # Ben never answered the support request: once the moment's day has come, he hears it closed
    await w.tick(at_local(mtm_day, "11:05", BEN.tz))
    assert "the request to back it has closed" in _said(w, BEN, n_ben)

    # `stop` asks first; `stop yes` with a reason leaves, and the L&D lead can see why
    n = len(w.posts_to(ANA))
    assert await w.type_(ANA, "stop") == 200
    assert "stop yes" in _said(w, ANA, n)
    assert {e.status for e in await w.rows(select(EnrollmentRow).where(EnrollmentRow.person_id != ""))} == {"active"}
    assert await w.type_(ANA, "stop yes no time this quarter") == 200
    (mine,) = [e for e in await w.rows(select(EnrollmentRow)) if e.status == "stopped"]
    assert mine.notes["stopped"]["reason"] == "no time this quarter"
    # the L&D lead sees it in `status` by name, and in the report as a count: one stop of two people
    # is under the minimum group, so the reason stays out of the report
    _, status = await w.command(ADMIN, f"status {mine.cohort}")
    assert "no time this quarter" in json.dumps(status, ensure_ascii=False)
    _, report = await w.command(ADMIN, f"report {mine.cohort}")
    said = json.dumps(report, ensure_ascii=False)
    assert "Stopped by the participant: 1 of 2 people, 1 with a reason." in said
    assert "no time this quarter" not in said and "fewer than 5 people have stopped" in said
