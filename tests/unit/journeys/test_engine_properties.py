"""Property tests: a participant and a manager run the whole sample journey under random calendars.

The simulation jumps a clock to the earliest `next_at`, fires that prompt, and answers every
prompt the moment it is sent (buttons for manager steps, valid form values otherwise).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys import day_of, engine, timekeeping
from journeys.definition import ManagerRequestStep, ManagerTaskStep
from journeys.forms import fields_for, visible
from journeys.loader import default_library_path, load_library
from journeys.messages import Reply
from journeys.state import EnrollmentState, Person, PromptState

ZONES = ["Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Europe/London",
         "America/New_York", "Asia/Kolkata", "Europe/Berlin", "UTC"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
BASE = load_library(default_library_path())["active-listening"]


def make_journey(days: list[str], start_h: int, length_h: int, country: str | None, quiet: bool):
    end_h = min(start_h + length_h, 23)
    cal = BASE.calendar.model_copy(update={
        "working_days": days,
        "working_hours": BASE.calendar.working_hours.model_copy(
            update={"start": f"{start_h:02d}:00", "end": f"{end_h:02d}:30"}),
        "quiet_hours": ["12:00-13:00"] if quiet and start_h < 12 and end_h > 13 else [],
        "holidays": BASE.calendar.holidays.model_copy(update={"country": country, "subdivision": None}),
    })
    return BASE.model_copy(update={"calendar": cal})


def values_for(journey, step, day: date) -> dict:
    """Valid answers; `day` for dates (a moment must be on one of the person's working days)."""
    values: dict = {}
    for f in fields_for(journey, step):
        if not visible(f, values):
            continue
        if f.kind in ("choice", "rating"):
            values[f.id] = f.options[0].value
        elif f.kind == "multi_choice":
            values[f.id] = [f.options[0].value]
        elif f.kind == "date":
            values[f.id] = day.isoformat()
        else:
            values[f.id] = "A concrete, honest answer."
    return values


def simulate(journey, person: Person, manager: Person, start: date):
    e = EnrollmentState("e1", journey.id, person, manager, start)
    people = {person.id: person, manager.id: manager}
    prompts: dict[str, PromptState] = {}
    mtms: dict = {}
    log: list[tuple[str, str, datetime, str]] = []  # (key, recipient, at, origin)
    now = datetime.combine(start - timedelta(days=60), time(0), UTC)
    for p in engine.schedule_enrollment(journey, e, now).prompts:
        prompts[p.id] = p

    def apply(out, origin, at):
        for p in out.prompts:
            prompts[p.id] = p
        for m in out.mtms:
            mtms[m.id] = m
        for o in out.outgoing:
            if o.replaces_key is None:
                # When the recipient will actually get it: held notices wait for their hours.
                when = datetime.fromisoformat(o.not_before_iso) if o.not_before_iso else at
                log.append((o.delivery_key, o.message.recipient_id, when, origin))

    for _ in range(2000):
        due = [p for p in prompts.values() if p.next_at is not None]
        if not due:
            break
        p = min(due, key=lambda q: (q.next_at, q.id))
        now = max(now, p.next_at)
        out = engine.fire(journey, e, p, mtms.get(p.mtm_id or ""), now)
        apply(out, "fire", now)
        q = prompts[p.id]
        if q.status == "open" and out.outgoing:
            step = journey.step(q.step_id)
            who = people[q.recipient_id]
            if isinstance(step, ManagerTaskStep):
                reply = Reply(who.id, "k", q.id, button="done", values={"agreed": "One safe moment a week."})
            elif isinstance(step, ManagerRequestStep):
                reply = Reply(who.id, "k", q.id, button="approve")
            else:
                today = now.astimezone(ZoneInfo(who.tz)).date()
                day = timekeeping.calendar_for(journey, who).add_working_days(today, 1)
                reply = Reply(who.id, "k", q.id, values=values_for(journey, step, day))
            res = engine.answer(journey, e, q, mtms.get(q.mtm_id or ""), reply, now)
            assert not any("Nothing was saved" in r.text for r in res.replies), res.replies
            apply(res, "answer", now)
    return e, prompts, log


people_st = st.tuples(st.sampled_from(ZONES), st.sampled_from(ZONES))
calendar_st = st.tuples(
    st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True),
    st.integers(min_value=5, max_value=11),
    st.integers(min_value=4, max_value=10),
    st.sampled_from([None, "GB", "DE", "US"]),
    st.booleans(),
)
start_st = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zones=people_st, cal=calendar_st, start=start_st)
def test_sample_journey_under_random_calendars(zones, cal, start):
    journey = make_journey(*cal)
    person = Person("p", "Pat Doe", zones[0])
    manager = Person("m", "Max Roe", zones[1])
    _, prompts, log = simulate(journey, person, manager, start)
    people = {"p": person, "m": manager}

    # every prompt the engine fires reaches its recipient inside their working hours
    for key, who, at, origin in log:
        if origin == "fire":
            wc = timekeeping.calendar_for(journey, people[who])
            assert wc.is_open(at, ZoneInfo(people[who].tz)), (key, at.astimezone(ZoneInfo(people[who].tz)))
    # delivery keys are unique, and each prompt has exactly one first delivery
    keys = [k for k, *_ in log]
    assert len(keys) == len(set(keys))
    firsts = [k for k in keys if k.endswith(":1")]
    assert {k.rsplit(":", 1)[0] for k in firsts} == {p.id for p in prompts.values() if p.deliveries}
    # participant steps are first delivered in the order they were due
    first_at = {k.rsplit(":", 1)[0]: at for k, who, at, _ in log if k.endswith(":1")}
    mine = sorted((p for p in prompts.values() if p.recipient_id == "p" and p.id in first_at),
                  key=lambda p: p.due_at)
    for a, b in pairwise(mine):
        if a.due_at < b.due_at:
            assert first_at[a.id] <= first_at[b.id], (a.step_id, b.step_id)
    # every step reached its recipient and nothing is left scheduled
    assert all(p.next_at is None for p in prompts.values())
    # ... except a support request whose moment came before the manager's working hours did: it
    # expires unsent (it has lost its point), and the participant is told so.
    # The morning nudge of a moment (journeys/day_of.py) is not a journey step; it lapses when the
    # moment was planned for the same day.
    lapsed = [p for p in prompts.values() if p.status == "expired"]
    assert all((day_of.is_day_of(p.step_id) or journey.step(p.step_id).kind == "manager_request")
               and p.deliveries == 0 for p in lapsed), lapsed
    assert all(p.status in ("answered", "done") for p in prompts.values() if p not in lapsed), \
        [(p.step_id, p.status) for p in prompts.values() if p.status not in ("answered", "done")]
    assert {p.step_id for p in prompts.values() if not day_of.is_day_of(p.step_id)} == {s.id for s in journey.steps}


def test_reactive_messages_respect_the_recipients_working_hours():
    """Deterministic companion: notices and shared reflections go to someone in another zone."""
    journey = make_journey(["mon", "tue", "wed", "thu", "fri"], 9, 8, "GB", True)
    _, _, log = simulate(journey, Person("p", "Pat Doe", "Asia/Kathmandu"),
                               Person("m", "Max Roe", "America/St_Johns"), date(2027, 4, 12))
    assert any(origin == "answer" for *_, origin in log)



def test_every_message_including_reactions_is_inside_recipient_hours():
    journey = make_journey(["mon", "tue", "wed", "thu", "fri"], 9, 8, "GB", True)
    people = {"p": Person("p", "Pat Doe", "Asia/Kathmandu"), "m": Person("m", "Max Roe", "America/St_Johns")}
    _, _, log = simulate(journey, people["p"], people["m"], date(2027, 4, 12))
    outside = [(k, at) for k, who, at, _ in log
               if not timekeeping.calendar_for(journey, people[who]).is_open(at, ZoneInfo(people[who].tz))]
    assert outside == []
