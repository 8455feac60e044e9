"""Issue 20 end to end on Teams (over the local fake connector): "1: …" typed when one question is
open, a barrier typed, `stop` confirmed, the morning nudge of a moment and the expired request
told to the manager. The same world as tests/e2e/test_teams_scenario.py."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from store.models import EnrollmentRow, EventRow
from tests.e2e.test_teams_scenario import (
    ANA,
    BEN,
    START,
    World,
    at_local,
    card_inputs,
    enroll_by_command,
    install_everyone,
    latest_card_for,
    message,
    submit,
    world,
)

__all__ = ["world"]  # the fixture


async def test_people_first_over_teams(world: World) -> None:
    w = world
    await install_everyone(w)
    status, _ = await enroll_by_command(w)
    assert status == 200
    await w.tick(at_local(START - timedelta(days=7), "10:01", "Europe/Madrid"))  # Mon 30 Nov: her focus
    pid_focus, _ = latest_card_for(w, ANA, "focus-situation")
    # following the bot's own "1: your answer" advice with one question open saves the answer, not "1: 2"
    status, _ = await w.post(message(ANA, w.fake.url, "1: 2"))
    assert status == 200
    assert (await w.prompt(pid_focus)).answers == {"answer": "one-to-ones"}

    # a barrier: heard, recorded, answered with options
    n = len(w.texts_to(ANA))
    status, _ = await w.post(message(ANA, w.fake.url, "Honestly this is not relevant to my role"))
    assert status == 200
    said = " ".join(w.texts_to(ANA)[n:])
    assert "snooze week" in said and "talk to my manager" in said
    assert "barrier" in [e.kind for e in await w.rows(select(EventRow))]

    # her safe moment on Fri 11 Dec: the morning nudge, and Ben (silent) hears the request closed
    await w.tick(at_local(START + timedelta(days=2), "10:01", "Europe/Madrid"))  # Wed 9 Dec
    pid_plan, plan_card = latest_card_for(w, ANA, "mtm-safe")
    mtm_day = START + timedelta(days=4)
    values: dict[str, object] = {"date": mtm_day.isoformat(), "situation": "Weekly 1:1 with Sam",
                                 "share": "yes", "practice": "safe"}
    for fid, el in card_inputs(plan_card).items():
        name = fid.removeprefix("f.")
        if name not in values and el["type"] == "Input.ChoiceSet" and el.get("choices"):
            values[name] = el["choices"][0]["value"]
    status, _ = await submit(w, ANA, plan_card, pid_plan, values)
    assert status == 200
    n, n_ben = len(w.texts_to(ANA)), len(w.texts_to(BEN))
    await w.tick(at_local(date(2026, 12, 11), "11:01", "Europe/London"))
    said = " ".join(w.texts_to(ANA)[n:])
    assert "Your moment today" in said and "A first sentence to try" in said
    assert "the request to back it has closed" in " ".join(w.texts_to(BEN)[n_ben:])

    # `stop` asks first, then `stop yes` leaves
    n = len(w.texts_to(ANA))
    await w.post(message(ANA, w.fake.url, "stop"))
    assert "stop yes" in " ".join(w.texts_to(ANA)[n:])
    await w.post(message(ANA, w.fake.url, "stop yes"))
    ana_rows = [e for e in await w.rows(select(EnrollmentRow)) if e.status == "stopped"]
    assert len(ana_rows) == 1 and ana_rows[0].notes["stopped"]["reason"] == ""
