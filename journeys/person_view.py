"""Everything about one person the conversation reads, loaded by the caller in one go (its own
module: the conversation and the typed replies it hands on both read it, neither through the other)."""

from __future__ import annotations

from dataclasses import dataclass, field

from journeys.definition import Journey
from journeys.state import EnrollmentState, MtmState, Person, PromptState


@dataclass
class PersonView:
    """Everything about one person the conversation needs, loaded by the caller in one go."""

    person: Person
    journeys: dict[str, Journey]
    enrollments: list[EnrollmentState]  # as participant or as manager
    prompts: list[PromptState]  # every prompt of those enrollments
    mtms: dict[str, MtmState] = field(default_factory=dict)
    platform: str = ""  # where the person talks to the bot (slack, teams, console); "" unknown

    def enrollment(self, enrollment_id: str) -> EnrollmentState:
        return next(e for e in self.enrollments if e.id == enrollment_id)

    def own_enrollments(self) -> list[EnrollmentState]:
        return [e for e in self.enrollments if e.person.id == self.person.id]

    def managed(self) -> list[EnrollmentState]:
        return [e for e in self.enrollments if e.manager is not None and e.manager.id == self.person.id]

    def open_prompts(self) -> list[PromptState]:
        mine = [p for p in self.prompts if p.recipient_id == self.person.id and p.status == "open"]
        return sorted(mine, key=lambda p: p.sent_at or p.due_at, reverse=True)
