"""One manager card per task and day: a manager's reports grouped, each by name.

A manager with three reports in a cohort has three manager tasks due at the same minute (the
expectations conversation, say). Sent one by one they are three identical cards. Instead, what one
scheduler pass sends to one manager for one task step becomes a single card that names every
report in its text and has a Done button per report (each answering that report's prompt); the
guide is offered once. The grouped prompts keep no message of their own to update in place, so
answering one report's task leaves the others' buttons on the card.

Pure: the tick calls `group_manager_cards` on the outcome of one pass before saving it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from journeys.definition import Journey, ManagerTaskStep
from journeys.messages import Button, Outgoing
from journeys.rendering import fill
from journeys.state import EnrollmentState, Outcome, PromptState
from journeys.text import typed
from journeys.timekeeping import local_date, tz_of


def names_text(names: list[str]) -> str:
    """'Ana', 'Ana and Ben', 'Ana, Ben and Chen'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def grouped_text(journey: Journey, step: ManagerTaskStep, enrollments: list[EnrollmentState],
                 reminder: bool, today: date | None = None) -> str:
    """The card's text: who it is about, by name, then the task written for any one of them
    (date-relative words for `today`, the manager's day)."""
    people = names_text([f"*{typed(e.person.name)}*" for e in enrollments])
    body = step.text.replace("{name}", "your team member")
    body = fill(body[:1].upper() + body[1:], journey, enrollments[0], None, enrollments[0].manager, today)
    lead = "Friendly reminder, for" if reminder else "For"
    return f"{lead} {len(enrollments)} of your team: {people}. The same applies to each of them:\n\n{body}"


def group_manager_cards(library: dict[str, Journey], enrollments: dict[str, EnrollmentState],
                        out: Outcome) -> None:
    """Merge the new manager-task cards of one pass, per (manager, journey, step), into one card."""
    prompts = {p.id: p for p in out.prompts}
    groups: dict[tuple[str, str, str], list[tuple[Outgoing, PromptState, EnrollmentState]]] = {}
    for o in out.outgoing:
        p = prompts.get(o.message.prompt_id or "")
        e = enrollments.get(p.enrollment_id) if p is not None else None
        journey = library.get(e.journey_id) if e is not None else None
        if o.replaces_key is not None or p is None or e is None or journey is None or o.message.closed:
            continue
        if p.step_id not in {s.id for s in journey.steps} or not isinstance(journey.step(p.step_id), ManagerTaskStep):
            continue
        groups.setdefault((o.message.recipient_id, e.journey_id, p.step_id), []).append((o, p, e))
    for (_, journey_id, step_id), items in groups.items():
        if len(items) < 2:
            continue
        items.sort(key=lambda it: it[2].person.name.lower())
        journey = library[journey_id]
        step = journey.step(step_id)
        assert isinstance(step, ManagerTaskStep)
        first_out, first_prompt, _ = items[0]
        message = first_out.message
        buttons = [Button(f"Done: {typed(e.person.name.split()[0] if e.person.name.strip() else e.person.id)}",
                          "done", "primary", prompt_id=p.id) for _, p, e in items]
        buttons.append(Button("I need a guide", "guide", prompt_id=first_prompt.id))
        reminder = message.text.startswith("Friendly reminder")
        manager = items[0][2].manager
        today = local_date(first_prompt.sent_at or first_prompt.due_at,
                           tz_of(journey, manager)) if manager is not None else None
        card = replace(
            message,
            text=grouped_text(journey, step, [e for _, _, e in items], reminder, today),
            buttons=tuple(buttons),
            context=f"{journey.title} about {names_text([typed(e.person.name) for _, _, e in items])}",
            # a form belongs to one prompt: each report's Done asks for its own (journeys/expectations.py)
            form_label="", fields=(),
        )
        stale = [o.stale_at_iso for o, _, _ in items if o.stale_at_iso]
        # the first report's own delivery key: deterministic, so a decision made twice still
        # queues the card once
        grouped = replace(first_out, message=card, stale_at_iso=min(stale) if stale else None)
        keys = {o.delivery_key for o, _, _ in items}
        out.outgoing = [grouped if o is first_out else o for o in out.outgoing if o is first_out or o.delivery_key
                        not in keys]
        ids = {p.id for _, p, _ in items}
        out.prompts = [p.with_(last_delivery_key=None) if p.id in ids else p for p in out.prompts]
