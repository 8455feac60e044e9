"""Store + scheduler tick: a manager's scorecard reads their teams from the database and pools two
cohorts of the same journey only when one alone is under the minimum group (5).

Ben had three people in the spring cohort and has two in the summer cohort; all have completed.
The moments they practised are events, as the engine records them. When Ben's digest row comes
due with nobody of his left in the journey, the tick sends his scorecard, once, in his hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from store.models import DigestRow, EnrollmentRow, EventRow

SPRING, SUMMER = date(2027, 1, 11), date(2027, 4, 12)  # Mondays
NOW = datetime(2027, 6, 7, 9, 30, tzinfo=UTC)  # Monday 10:30 in London
PEOPLE = [("ben", "Ben Okafor"), ("s1", "Sam One"), ("s2", "Sol Two"), ("s3", "Sid Three"), ("u1", "Uma One"),
          ("u2", "Ugo Two"), ("o1", "Ola One"), ("o2", "Oz Two"), ("m", "Mia Manager")]


async def _world(make_world, *, spring: bool):  # type: ignore[no-untyped-def]
    w = await make_world(NOW - timedelta(days=1), PEOPLE)
    svc, ids = w.service, w.ids
    if spring:
        assert (await svc.enroll("active-listening", [ids["s1"], ids["s2"], ids["s3"]], ids["ben"], SPRING,
                                 cohort="spring")).enrolled
    assert (await svc.enroll("active-listening", [ids["u1"], ids["u2"]], ids["ben"], SUMMER, cohort="summer")).enrolled
    assert (await svc.enroll("active-listening", [ids["o1"], ids["o2"]], ids["m"], SUMMER, cohort="summer")).enrolled
    practised = {"s1": True, "s2": False, "s3": True, "u1": True, "u2": True, "o1": False, "o2": True}
    async with w.db.write() as s:
        rows = (await s.execute(select(EnrollmentRow))).scalars().all()
        by_person = {r.person_id: r for r in rows}
        for uid, did in practised.items():
            row = by_person.get(ids[uid])
            if row is None:
                continue
            at = datetime.combine(row.start, datetime.min.time(), UTC) + timedelta(days=10)
            s.add(EventRow(kind="mtm_planned", enrollment_id=row.id, at=at, data={"mtm": f"{uid}-m"}))
            s.add(EventRow(kind="mtm_followed_up", enrollment_id=row.id, at=at + timedelta(days=3),
                           data={"mtm": f"{uid}-m", "happened": "yes" if did else "no"}))
        await s.execute(update(EnrollmentRow).values(status="completed"))
        await s.execute(update(DigestRow).where(DigestRow.manager_id == ids["ben"]).values(next_at=NOW))
    return w


async def test_a_team_under_the_minimum_is_pooled_with_the_managers_other_cohort(make_world):  # type: ignore[no-untyped-def]
    w = await _world(make_world, spring=True)
    await w.service.tick(NOW)
    cards = [d.message for d in w.chat.to("ben") if d.message.title == "Your team's results"]
    assert len(cards) == 1
    text = cards[0].text
    assert "your 5 people (cohorts spring and summer together: one cohort alone is under the minimum group)" in text
    assert "Your team's moments practised: 4 of 5 followed up (80%); 4 of 5 people practised at least once" in text
    assert "The cohort (7 people)" in text  # spring and summer, everyone
    await w.service.tick(NOW + timedelta(days=7))  # once: the row has no next time
    assert len([d for d in w.chat.to("ben") if d.message.title == "Your team's results"]) == 1
    async with w.db.read() as s:
        row = (await s.execute(select(DigestRow).where(DigestRow.manager_id == w.ids["ben"],
                                                       DigestRow.kind == "manager"))).scalar_one()
    assert row.next_at is None


async def test_without_the_other_cohort_the_teams_practice_stays_hidden(make_world):  # type: ignore[no-untyped-def]
    w = await _world(make_world, spring=False)
    await w.service.tick(NOW)
    (card,) = [d.message for d in w.chat.to("ben") if d.message.title == "Your team's results"]
    assert "your 2 people (cohort summer)" in card.text
    assert "Your team's moments practised: too small a group to show" in card.text
    assert "The cohort: too small a group to compare (fewer than 5 people)." in card.text  # 4 in summer
