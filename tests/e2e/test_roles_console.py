"""Issue 21 item 8 through the console, as `hplj chat` sends it, on a real SQLite file: naming a
facilitator and its refusals; the leader's typed `endorse …`; `export` and `forget` cover both."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime

import pytest

from journeys.text import plain
from ports.chat import InboundAction
from tests.conftest import BotWorld, MakeWorld, Someone

NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)  # a Monday
START = date(2027, 4, 12)
PEOPLE = [("ana", "Ana Silva"), ("bo", "Bo Berg"), ("ben", "Ben Okafor"), ("hana", "Hana Kobayashi"),
          ("fay", "Fay Reed"), ("eve", "Eve Stone")]


@pytest.fixture
async def world(make_world: MakeWorld) -> BotWorld:
    w = await make_world(NOW, [Someone(uid, name, email=f"{uid}@example.com") for uid, name in PEOPLE],
                         platform="console", admins={"admin"})
    async with w.service.uow() as uow:  # Ben reports to Hana: she is the senior leader of his people
        await uow.people.change(w.ids["ben"], manager_id=w.ids["hana"])
        await uow.commit()
    return w


async def say(w: BotWorld, text: str, user: str = "admin") -> str:
    result = await w.service.handle_command("console", user, text, f"k{text}{user}")
    return "\n".join(plain(f"{m.title}\n{m.text}") for m in result.replies)


async def typed(w: BotWorld, user: str, text: str) -> str:
    result = await w.service.handle_action(InboundAction("console", user, f"t-{user}-{text}", text=text))
    await w.service.settle()
    return "\n".join(plain(m.text) for m in result.replies)


def rows(w: BotWorld, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(w.path) as c:
        return list(c.execute(sql).fetchall())


async def test_naming_a_facilitator_and_what_is_refused(world: BotWorld) -> None:
    w = world
    said = await say(w, f"enroll active-listening @ana @bo manager @ben start {START} cohort north facilitator @fay")
    assert "Facilitator of `north` (2 people in Active Listening): Fay Reed; their brief goes out Fri 16 Apr" in said
    assert "They see counts and themes only, never names or what people wrote." in said
    assert ("Facilitator: Fay Reed (Active Listening); their brief is due Fri 16 Apr, 09:00 (Europe/London)."
            in await say(w, "status north"))
    # naming another one replaces the first; the same again keeps the schedule
    assert "Facilitator of `north`" in await say(w, "enroll active-listening facilitator @eve cohort north")
    assert rows(w, "select p.name from cohort_roles r join people p on p.id = r.person_id") == [("Eve Stone",)]
    refused = {
        "enroll active-listening facilitator @fay cohort nowhere": "cohort 'nowhere' has nobody in active-listening",
        "enroll active-listening @ana manager @ben facilitator @ana": "the facilitator can't also be a participant",
        "enroll active-listening facilitator @fay": "needs the cohort they facilitate",
    }
    for command, reason in refused.items():
        assert reason in await say(w, command), command
    assert "admin" in (await say(w, "enroll active-listening facilitator @eve cohort north", user="bo")).lower()
    assert rows(w, "select p.name from cohort_roles r join people p on p.id = r.person_id") == [("Eve Stone",)]


async def test_a_typed_endorse_from_the_leader_only_and_forget_erases_it(world: BotWorld) -> None:
    w = world
    await say(w, f"enroll active-listening @ana @bo manager @ben start {START} cohort north facilitator @fay")
    # someone who leads nobody in a journey: "endorse" is just text for the conversation
    assert "Saved: your endorsement" not in await typed(w, "eve", "endorse this")
    assert not rows(w, "select * from endorsements")
    said = await typed(w, "hana", "Endorse: Listening first keeps our customers.")
    assert "Saved: your endorsement of Active Listening" in said and "Listening first keeps our customers." in said
    assert rows(w, "select text from endorsements") == [("Listening first keeps our customers.",)]
    assert "keep it to 300" in await typed(w, "hana", "endorse " + "x" * 301)  # nothing saved: the first stays
    assert rows(w, "select text from endorsements") == [("Listening first keeps our customers.",)]

    exported = json.loads((await w.service.handle_command("console", "admin", "export @hana", "x1")
                           ).replies[0].attachment_text)
    assert [e["text"] for e in exported["endorsements"]] == ["Listening first keeps our customers."]
    fay = json.loads((await w.service.handle_command("console", "admin", "export @fay", "x2")).replies[0].attachment_text)
    assert [r["cohort"] for r in fay["cohort_roles"]] == ["north"]

    assert "Forgot @hana" in await say(w, "forget @hana")
    assert "Forgot @fay" in await say(w, "forget @fay")
    assert not rows(w, "select * from endorsements") and not rows(w, "select * from cohort_roles")
    assert rows(w, "select count(*) from audit where action = 'endorse'") == [(1,)]  # the fact stays, by no one
