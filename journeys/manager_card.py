"""One manager card per task and day: a manager's reports grouped, each by name.

A manager with three reports in a cohort has three manager tasks due at the same minute (the
expectations conversation, say). Sent one by one they are three identical cards. Instead, what one
scheduler pass sends to one manager for one task step becomes a single card that names every
report in its text and has a Done button per report (each answering that report's prompt); the
guide is offered once. Each grouped prompt points at the grouped card: answering one report's
task updates that card (`regrouped_card`: who is done, when, the buttons still open) and the last
one closes it.

Pure: the tick calls `group_manager_cards` on the outcome of one pass before saving it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from journeys.definition import Journey, ManagerTaskStep
from journeys.expectations import card_section, is_agreement_step
from journeys.messages import Button, Message, Outgoing
from journeys.rendering import fill
from journeys.state import EnrollmentState, Outcome, PromptState
from journeys.text import typed
from journeys.timekeeping import format_local, local_date, tz_of


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
    # what each one shared for this conversation (or chose to keep private), as their own card has it
    shared = "".join(card_section(journey, e, step) for e in enrollments)
    return f"{lead} {len(enrollments)} of your team: {people}. The same applies to each of them:\n\n{body}{shared}"


def group_manager_cards(library: dict[str, Journey], enrollments: dict[str, EnrollmentState],
                        out: Outcome) -> None:
    """Merge the new manager-task cards of one pass, per (manager, journey, step), into one card."""
    merge_grouped_closes(library, enrollments, out)
    prompts = {p.id: p for p in out.prompts}
    groups: dict[tuple[str, str, str], list[tuple[Outgoing, PromptState, EnrollmentState]]] = {}
    for o in out.outgoing:
        p = prompts.get(o.message.prompt_id or "")
        e = enrollments.get(p.enrollment_id) if p is not None else None
        journey = library.get(e.journey_id) if e is not None else None
        if o.replaces_key is not None or p is None or e is None or journey is None or o.message.closed:
            continue
        if not journey.has_step(p.step_id) or not isinstance(journey.step(p.step_id), ManagerTaskStep):
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
        out.prompts = [p.with_(last_delivery_key=grouped.delivery_key) if p.id in ids else p for p in out.prompts]


def regrouped_card(journey: Journey, card: Message, members: list[tuple[PromptState, EnrollmentState]],
                   now: datetime) -> Message:
    """The grouped card after one report's task was done: who is done and when (and that what was
    agreed is saved), the Done buttons of those still open; once nobody is left, closed for good.
    `members` are every prompt the card carries, as they now stand."""
    step = journey.step(members[0][0].step_id)
    manager = members[0][1].manager
    tz = tz_of(journey, manager) if manager is not None else None
    saved = " (what you agreed with each is saved)" if is_agreement_step(journey, step) else ""
    done, left, lines = 0, set(), []
    for p, e in sorted(members, key=lambda m: m[1].person.name.lower()):
        name = typed(e.person.name)
        if p.status in ("answered", "done"):
            done += 1
            when = format_local(p.answered_at or now, tz) if tz is not None else ""
            lines.append(f"• {name}, {when}")
        elif p.status in ("expired", "cancelled"):
            lines.append(f"• {name}: ⌛ closed, not done")
        else:
            left.add(p.id)
    base = card.text.split(_PROGRESS)[0].rstrip()
    if not left:
        head = f"✅ Done for all {len(members)}{saved}:" if done == len(members) else f"✅ Finished{saved}:"
        return replace(card, text=f"{base}{_PROGRESS}{head}\n" + "\n".join(lines), buttons=(), fields=(),
                       form_label="", closed=True)
    buttons = [b for b in card.buttons if b.value != "guide" and b.prompt_id in left]
    guide = next((b for b in card.buttons if b.value == "guide"), None)
    if guide is not None:  # the guide answers through a prompt still open
        buttons.append(replace(guide, prompt_id=min(left)))
    return replace(card, text=f"{base}{_PROGRESS}Done so far{saved}:\n" + "\n".join(lines), buttons=tuple(buttons))


_PROGRESS = "\n\n―\n"  # where a grouped card's progress starts, so it is rewritten, not appended


def merge_grouped_closes(library: dict[str, Journey], enrollments: dict[str, EnrollmentState], out: Outcome) -> None:
    """Several reports' tasks on one grouped card closed by one pass (the start came for all of
    them): one update of that card naming each, rather than one report's closed card over it."""
    prompts = {p.id: p for p in out.prompts}
    by_card: dict[str, list[tuple[Outgoing, PromptState, EnrollmentState]]] = {}
    if out.card is not None:  # a pass's last card change is held there: queue it with the others
        out.outgoing.append(out.card.update)
        out.card = None
    for o in out.outgoing:
        p = prompts.get(o.message.prompt_id or "")
        e = enrollments.get(p.enrollment_id) if p is not None else None
        if o.replaces_key is not None and p is not None and e is not None and p.last_delivery_key == o.replaces_key:
            by_card.setdefault(o.replaces_key, []).append((o, p, e))
    for items in by_card.values():
        journey = library.get(items[0][2].journey_id)
        step = journey.step(items[0][1].step_id) if journey is not None and len(items) > 1 else None
        if journey is None or not isinstance(step, ManagerTaskStep):
            continue
        items.sort(key=lambda it: it[2].person.name.lower())
        manager = items[0][2].manager
        sent = items[0][1].sent_at or items[0][1].due_at
        today = local_date(sent, tz_of(journey, manager)) if manager is not None else None
        notes = "\n".join(dict.fromkeys(o.message.text.rpartition("\n\n")[2] for o, _, _ in items))
        text = grouped_text(journey, step, [e for _, _, e in items], False, today)
        first = items[0][0]
        merged = replace(first, message=replace(first.message, text=f"{text}\n\n{notes}"))
        keys = {o.delivery_key for o, _, _ in items}
        out.outgoing = [merged if o is first else o for o in out.outgoing if o is first or o.delivery_key not in keys]
