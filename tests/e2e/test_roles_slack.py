"""Issue 21 item 8 on Slack, over real HTTP with signed requests (tests/fakes/slack_api.py): the
admin names the cohort's facilitator, who gets an anonymous brief before the workshop and the
progress after it; the senior leader endorses the journey through the brief's modal (nobody else
can), and the welcomes sent after that quote them, inert."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from store.models import AuditRow, CohortRoleRow, EndorsementRow
from tests.e2e.test_slack_scenario import (
    ADMIN,
    ANA,
    BEN,
    CHEN,
    ENROLL,
    START,
    User,
    World,
    actions_of,
    at_local,
    check_blocks,
    close_world,
    make_world,
)
from tests.fakes.slack_api import view_submission_payload

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HANA = User("UHANA", "hana", "Europe/Berlin")  # Ben's own manager: the senior leader
FAY = User("UFAY", "fay", "Europe/London")  # the workshop's facilitator
EVE = User("UEVE", "eve", "Europe/London")  # someone else entirely
HOSTILE = "Make the time for it <!channel> *really* <https://evil.example|click here>"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    for u in (HANA, FAY, EVE):
        w.fake.add_user(u.id, u.name, real_name=u.name.title(), tz=u.tz,
                        tz_offset=int(datetime.now(ZoneInfo(u.tz)).utcoffset().total_seconds()),  # type: ignore[union-attr]
                        email=f"{u.name}@example.com")
    yield w
    await close_world(w)


async def leader_above_ben(w: World) -> None:
    hana = await w.service.ensure_person("slack", HANA.id, name="Hana", tz=HANA.tz)
    ben = await w.service.ensure_person("slack", BEN.id, name="Ben", tz=BEN.tz)
    async with w.service.uow() as uow:
        await uow.people.change(ben.id, manager_id=hana.id)
        await uow.commit()


def brief_of(w: World, user: User) -> dict[str, Any]:
    for msg in reversed(w.messages_to(user)):
        if (((msg.get("metadata") or {}).get("event_payload") or {}).get("prompt_id") or "").startswith("endorse:"):
            return msg
    raise AssertionError(f"no brief with an Endorse form for {user.name}")


def texts(w: World, user: User) -> str:
    return json.dumps([c.params for c in w.posts_to(user)], ensure_ascii=False)


async def test_facilitator_and_endorsement_over_slack(world: World) -> None:
    w = world
    await leader_above_ben(w)
    # only an admin can name a facilitator
    status, reply = await w.command(ANA, f"enroll active-listening facilitator {EVE.mention} cohort spring")
    assert status == 200 and "admin" in json.dumps(reply).lower()
    assert not await w.rows(select(CohortRoleRow))
    status, reply = await w.command(ADMIN, f"{ENROLL} facilitator {FAY.mention} cohort spring")
    said = json.dumps(reply, ensure_ascii=False)
    assert status == 200 and "Facilitator of `spring` (2 people in Active Listening): fay;" in said
    assert "before the workshop on Mon 14 Dec" in said
    (role,) = await w.rows(select(CohortRoleRow))
    assert role.stage == "brief" and role.next_at == datetime(2026, 12, 11, 9, tzinfo=ZoneInfo(FAY.tz))

    # the leader's kickoff brief asks for the endorsement: a button that opens a modal
    await w.tick(at_local(START - timedelta(days=8), "10:00", HANA.tz))
    brief = brief_of(w, HANA)
    check_blocks(brief["blocks"])
    [form_btn] = [el for el in actions_of(brief["blocks"]) if el["action_id"] == "hplj:form"]
    assert form_btn["text"]["text"] == "Endorse"
    # someone else pressing it (a forwarded message, a shared screen) is refused; no modal opens
    opened = len(w.fake.views_opened)
    assert await w.click(EVE, brief, "hplj:form", form_btn["value"], channel=HANA.dm) == 200
    assert any("sent to someone else" in e for e in w.ephemerals_to(EVE))
    assert len(w.fake.views_opened) == opened
    assert await w.click(HANA, brief, "hplj:form", form_btn["value"]) == 200
    await w.fake.wait_for("views.open", opened + 1)
    view = w.fake.views_opened[-1]["view"]
    check_blocks(view["blocks"])
    values = {"sentence": {"v": {"type": "plain_text_input", "value": HOSTILE}}}
    # a submission of her modal by anyone else (a forged view of their own) changes nothing
    assert await w.payload(view_submission_payload(user_id=EVE.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id="VEVE0001", view_hash="1.eve")) == 200
    assert not await w.rows(select(EndorsementRow))
    assert await w.payload(view_submission_payload(user_id=HANA.id, private_metadata=view["private_metadata"],
                                                   values=values, view_id=view["id"], view_hash=view["hash"])) == 200
    (endorsed,) = await w.rows(select(EndorsementRow))
    assert endorsed.text == HOSTILE
    audit = [a for a in await w.rows(select(AuditRow)) if a.action == "endorse"]
    assert audit and "evil" not in json.dumps(audit[0].detail)  # the log says that, never what
    # a reply in the brief's thread is her sentence too (and replaces the first for later welcomes)
    assert await w.type_(HANA, "Proud of this team. " + HOSTILE, thread_ts=brief["ts"]) == 200
    (endorsed,) = await w.rows(select(EndorsementRow))
    assert endorsed.text == "Proud of this team. " + HOSTILE

    # the welcome at the start quotes her, with her name; her words stay inert text
    await w.tick(at_local(START, "10:00", CHEN.tz))
    for who in (ANA, CHEN):
        welcome = next(m for m in reversed(w.messages_to(who))
                       if ((m.get("metadata") or {}).get("event_payload") or {}).get("prompt_id", "").endswith(".kickoff"))
        shown = json.dumps(welcome["blocks"], ensure_ascii=False)
        assert "From Hana:" in shown and "Proud of this team. Make the time for it" in shown
        assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
        assert "<https://evil.example|click here>" not in shown

    # the facilitator's brief the working day before the workshop: counts only, below the minimum
    # group (2 people, 5 needed) nothing but the size; never a name
    await w.tick(at_local(START + timedelta(days=4), "10:00", FAY.tz))
    got = texts(w, FAY)
    assert "Your brief for the Active listening workshop on Mon 14 Dec" in got
    assert "2 people" in got and "With fewer than 5 people" in got
    for name in ("Ana", "Chen", "ana", "chen"):
        assert name not in got.replace("Active Listening", "")
    for post in w.posts_to(FAY):
        check_blocks(post.params["blocks"])
    # and the cohort's progress a week after it
    await w.tick(at_local(START + timedelta(days=14), "10:00", FAY.tz))
    assert "Cohort spring since the workshop on Mon 14 Dec" in texts(w, FAY)
    (role,) = await w.rows(select(CohortRoleRow))
    assert role.stage == "done" and role.next_at is None

