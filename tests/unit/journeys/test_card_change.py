"""Property test: every click, form or typed answer changes the acted-on card at most once.

The engine returns one `CardChange` per outcome; the application either shows it in place
(`Outcome.take_card`) or queues it (`Outcome.queued`). Whatever path an answer takes (approve,
coach, "can't this time" and its reasons, a manager's Done, forms, typed words, someone else's
click), the person sees exactly one update of the card, or a reply when the card does not change.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys import engine, rendering, timekeeping
from journeys.definition import ManagerRequestStep, ManagerTaskStep
from journeys.loader import default_library_path, load_library
from journeys.messages import Reply
from journeys.state import (
    FINAL_PROMPT_STATUSES,
    EnrollmentState,
    MtmState,
    Outcome,
    Person,
    PromptState,
)
from journeys.support import CANT, CANT_REASONS
from tests.unit.journeys.test_engine_properties import values_for

JOURNEY = load_library(default_library_path())["active-listening"]
TEXTS = ["approve", "coach", "can't", "cant this time", "1", "2", "done", "yes", "no", "hello", ""]




def candidates(e: EnrollmentState, q: PromptState, mtm: MtmState | None, now: datetime) -> list[Reply]:
    """Every kind of answer a person can give to this prompt (and one from someone else)."""
    who = e.manager if e.manager is not None and q.recipient_id == e.manager.id else e.person
    step = None if q.step_id.endswith(rendering.COACH_CHECK) else JOURNEY.step(q.step_id)
    day = timekeeping.calendar_for(JOURNEY, who).add_working_days(now.astimezone(ZoneInfo(who.tz)).date(), 1)
    message = rendering.render_prompt(JOURNEY, e, q, mtm)
    out = [Reply(who.id, "k", q.id, button=b.value) for b in message.buttons]
    out += [Reply(who.id, "k", q.id, button=CANT), Reply(who.id, "k", q.id, button=f"{CANT}:{CANT_REASONS[0][0]}")]
    out += [Reply(who.id, "k", q.id, text=t) for t in TEXTS]
    out.append(Reply("stranger", "k", q.id, button="approve"))
    if step is not None:
        values = values_for(JOURNEY, step, day)
        out += [Reply(who.id, "k", q.id, values=values), Reply(who.id, "k", q.id, values={})]
        if isinstance(step, ManagerTaskStep):
            out.append(Reply(who.id, "k", q.id, button="done", values={"agreed": "One safe moment a week."}))
    return out


def proper(e: EnrollmentState, q: PromptState, now: datetime) -> Reply:
    """The answer that moves the journey on (to reach every later step)."""
    who = e.manager if e.manager is not None and q.recipient_id == e.manager.id else e.person
    step = None if q.step_id.endswith(rendering.COACH_CHECK) else JOURNEY.step(q.step_id)
    if isinstance(step, ManagerTaskStep):
        return Reply(who.id, "k", q.id, button="done", values={"agreed": "One safe moment a week."})
    if isinstance(step, ManagerRequestStep) or step is None:
        return Reply(who.id, "k", q.id, button="approve")
    day = timekeeping.calendar_for(JOURNEY, who).add_working_days(now.astimezone(ZoneInfo(who.tz)).date(), 1)
    return Reply(who.id, "k", q.id, values=values_for(JOURNEY, step, day))


def check_one_update(q: PromptState, res: Outcome) -> None:
    updates = [o for o in res.queued() if o.replaces_key is not None and o.replaces_key == q.last_delivery_key]
    assert len(updates) <= 1, updates
    after = next((p for p in reversed(res.prompts) if p.id == q.id), q)
    if q.last_delivery_key is not None and q.status not in FINAL_PROMPT_STATUSES \
            and after.status in FINAL_PROMPT_STATUSES:
        assert len(updates) == 1, "a card that was answered must close, once"
    assert updates or res.replies or res.card is not None, "the click showed nothing"
    shown_in_place = copy.deepcopy(res)
    if shown_in_place.take_card() is not None:  # answered in place: nothing of that card is queued too
        assert not [o for o in shown_in_place.queued() if o.replaces_key == q.last_delivery_key]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), zones=st.tuples(st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata"]),
                                       st.sampled_from(["Europe/Berlin", "UTC", "Pacific/Chatham"])),
       start=st.dates(min_value=date(2027, 1, 4), max_value=date(2027, 12, 27)))
def test_every_click_on_every_path_changes_its_card_once(data: st.DataObject, zones: tuple[str, str],
                                                         start: date) -> None:
    person, manager = Person("p", "Pat Doe", zones[0]), Person("m", "Max Roe", zones[1])
    e = EnrollmentState("e1", JOURNEY.id, person, manager, start)
    now = datetime.combine(start - timedelta(days=30), time(0), UTC)
    prompts = {p.id: p for p in engine.schedule_enrollment(JOURNEY, e, now).prompts}
    mtms: dict[str, MtmState] = {}
    clicks = 0

    def apply(out: Outcome) -> None:
        prompts.update({p.id: p for p in out.prompts})
        mtms.update({m.id: m for m in out.mtms})

    for _ in range(400):
        due = [p for p in prompts.values() if p.next_at is not None]
        if not due:
            break
        p = min(due, key=lambda x: (x.next_at, x.id))
        assert p.next_at is not None
        now = max(now, p.next_at)
        apply(engine.fire(JOURNEY, e, p, mtms.get(p.mtm_id or ""), now))
        q = prompts[p.id]
        if q.status != "open":
            continue
        mtm = mtms.get(q.mtm_id or "")
        reply = data.draw(st.sampled_from(candidates(e, q, mtm, now)))
        res = engine.answer(JOURNEY, e, q, mtm, reply, now)
        check_one_update(q, res)
        clicks += 1
        apply(res)
        q = prompts[q.id]
        if q.status == "open":  # then the proper answer, so the walk reaches the later steps
            res = engine.answer(JOURNEY, e, q, mtms.get(q.mtm_id or ""), proper(e, q, now), now)
            check_one_update(q, res)
            apply(res)
    assert clicks >= 3
