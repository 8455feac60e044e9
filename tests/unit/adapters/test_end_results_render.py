"""The end's results on every platform: the leader's scorecards (managers' names from the
directory) and the final digest (verified stories quoted from interview notes) are rendered inert
on Slack (Block Kit, checked by slack_sdk) and Teams (an Adaptive Card 1.5, validated against the
schema), and read whole as console text."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from adapters.console.render import render_text as console_text
from adapters.slack.render import fallback_text, render_blocks
from adapters.teams.render import render_card
from journeys.definition import Journey
from journeys.evaluation.final_digest import Progress, final_digest
from journeys.evaluation.followup import follow_up
from journeys.evaluation.scorecards import Scope, TeamFigures, leader_scorecard, manager_scorecard
from journeys.evaluation.success_case import evaluate
from journeys.evaluation.value import business_figures
from journeys.state import JourneyEvent, Person
from tests.unit.adapters.teams.teams_card_schema import assert_valid_card
from tests.unit.adapters.test_typed_text_inert import EVIL, assert_slack_inert, assert_teams_inert

HANA = Person("hana", "Hana Kobayashi", tz="Asia/Tokyo")
TEAM = TeamFigures(people=4, expectations_held=4, expectations_total=4, requests=6, answered=6, within_day=6,
                   median_hours=3.0, coached=1, followed_up=6, practised=4, people_practised=3)
COHORT = TeamFigures(people=9, expectations_held=6, expectations_total=9, requests=12, answered=9, within_day=8,
                     median_hours=4.0, coached=1, followed_up=12, practised=8, people_practised=6)


def _everywhere(msg) -> str:  # type: ignore[no-untyped-def]
    blocks = render_blocks(msg)
    assert 0 < len(blocks) <= 50 and [b.to_dict() for b in Block.parse_all(blocks)]
    assert_slack_inert(blocks, fallback_text(msg))
    card = render_card(msg)
    assert_valid_card(card)
    assert_teams_inert(card)
    return console_text(msg)


def test_scorecards_render_on_every_platform_with_names_inert(journey: Journey) -> None:
    mine = manager_scorecard(journey, Person("ben", "Ben Okafor", tz="Europe/London"), TEAM, COHORT, Scope(("spring",), False), 5)
    text = _everywhere(mine)
    assert "Thank you: you held the expectations conversation with all 4 of your reports" in text
    theirs = leader_scorecard(journey, HANA, [(f"Ben {EVIL}", TEAM, Scope(("spring",), False))], COHORT, 5)
    assert "Worth a word of thanks" in _everywhere(theirs)


def test_the_final_digest_renders_on_every_platform_with_the_quoted_story_inert(journey: Journey) -> None:
    t = datetime(2027, 6, 1, tzinfo=UTC)
    events = [JourneyEvent("scm_classified", f"e{i}", t, None, {"classification": c})
              for i, c in enumerate(["success", "not_applied", "success", "tried_no_success", "not_applied"])]
    ids = [f"e{i}" for i in range(5)]
    ev = evaluate(events, enrollment_ids=ids, min_group=5)
    verified, value = business_figures(journey, ev, events, ids)
    msg = final_digest(journey, HANA, ev=ev, verified=verified, value=value, later=follow_up(events, 5, ids),
                       stories=[f"Verified story 1 (interview notes, evidence seen): Situation: “{EVIL}”"],
                       recommendations=["Answer every support request within a working day (3 expired)."],
                       progress=Progress(True, 0, t, 1, 0), cohorts=["spring"])
    text = _everywhere(msg)
    assert "Verified story 1" in text and "What to change:" in text
