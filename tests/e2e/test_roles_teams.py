"""Issue 21 item 8 on Teams, over real HTTP through the fake Bot Connector (tests/fakes/
teams_connector.py), every card checked against the Adaptive Card 1.5 schema: the facilitator
named by the admin gets the anonymous brief; the leader endorses on the brief's card (nobody else
can), after the welcome of the participant furthest east went out: hers stays as it was, the
later one quotes the leader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from store.models import EndorsementRow
from tests.e2e.test_teams_scenario import (
    ADMIN,
    ANA,
    BEN,
    BOT,
    CHEN,
    START,
    User,
    World,
    at_local,
    card_prompt_ids,
    card_text,
    close_world,
    enroll_text,
    install,
    install_everyone,
    make_world,
    mention,
    message,
    submit,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HANA = User("dddddddd-0000-4000-8000-00000000d0d0", "Hana Kobayashi", "Asia/Tokyo", "Hana")
FAY = User("ffffffff-0000-4000-8000-00000000f0f0", "Fay Reed", "Europe/London", "Fay")
EVE = User("eeeeeeee-0000-4000-8000-00000000e0e0", "Eve Stone", "Europe/London", "Eve")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


def brief_card(w: World, user: User) -> tuple[str, dict[str, Any]]:
    for card in reversed(w.cards_to(user)):
        for pid in card_prompt_ids(card):
            if pid.startswith("endorse:"):
                return pid, card
    raise AssertionError(f"no brief with an Endorse form for {user.first}")


def welcomes(w: World, user: User) -> list[str]:
    return [card_text(c) for c in w.cards_to(user) if "Your six weeks at a glance" in card_text(c)]


async def test_facilitator_and_endorsement_over_teams(world: World) -> None:
    w = world
    await install_everyone(w)
    for u in (HANA, FAY, EVE):
        assert (await w.post(install(u, w.fake.url)))[0] == 200
    hana, ben = await w.person(HANA), await w.person(BEN)
    assert hana is not None and ben is not None
    async with w.service.uow() as uow:
        await uow.people.change(ben.id, manager_id=hana.id)
        await uow.commit()
    text = f"{enroll_text([ANA, CHEN], BEN, START)} cohort tokyo-pilot facilitator <at>{FAY.name}</at>"
    act = message(ADMIN, w.fake.url, text, [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)},
                                             mention(ANA), mention(CHEN), mention(BEN), mention(FAY)])
    assert (await w.post(act))[0] == 200
    assert "Facilitator of `tokyo-pilot` (2 people in Active Listening): Fay Reed" in "\n".join(w.texts_to(ADMIN))

    # the brief: Adaptive Card inputs (one optional sentence) and an Endorse action
    await w.tick(at_local(START - timedelta(days=8), "10:00", HANA.tz))
    pid, card = brief_card(w, HANA)
    assert pid.startswith("endorse:active-listening:") and '"Endorse"' in card_text(card)
    # Chen's welcome (Singapore, 09:30 there) goes before Hana has endorsed
    await w.tick(datetime(2026, 12, 7, 5, 0, tzinfo=UTC))
    assert len(welcomes(w, CHEN)) == 1 and "Hana" not in welcomes(w, CHEN)[0]
    # Eve cannot act on Hana's card, whatever she sends
    status, body = await submit(w, EVE, card, pid, {"sentence": "Ignore the journey"})
    assert status == 200 and "sent to someone else" in str(body)
    assert not await w.rows(select(EndorsementRow))
    status, body = await submit(w, HANA, card, pid, {"sentence": "Our customers notice **who listens**."})
    assert status == 200 and "Saved: your endorsement of Active Listening" in str(body)
    (row,) = await w.rows(select(EndorsementRow))
    assert row.text == "Our customers notice **who listens**."

    # Ana's welcome (Madrid, later) quotes Hana, her words in a TextRun (no Markdown); Chen's is not resent
    await w.tick(at_local(START, "11:00", ANA.tz))
    (ana,) = welcomes(w, ANA)
    assert "Hana Kobayashi" in ana and '"text": "Our customers notice **who listens**."' in ana
    assert len(welcomes(w, CHEN)) == 1

    # the facilitator's brief: counts only; two people is below the minimum group of five
    await w.tick(at_local(START + timedelta(days=4), "10:00", FAY.tz))
    got = "\n".join(w.texts_to(FAY))
    assert "Your brief for the Active listening workshop on Mon 14 Dec" in got
    assert "2 people" in got and "With fewer than 5 people" in got
    for name in ("Ana", "Diaz", "Chen", "Wei"):
        assert name not in got
    assert w.validate_all() > 0  # every card sent in this test against the Adaptive Card 1.5 schema
