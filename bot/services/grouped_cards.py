"""A grouped manager card (journeys/manager_card.py) kept true after each report's task is done.

The engine closes the card of the prompt it answered; when that card is a grouped one, the
update must speak for every report on it. The card's own buttons say which prompts it carries,
so this reads the delivered card, loads those prompts as they now stand and asks
`regrouped_card` what the card becomes. Every inbound path (a button, a form, a typed answer)
goes through `InboundHandler.handle_action`, which calls this before saving.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from journeys.definition import Journey
from journeys.manager_card import regrouped_card
from journeys.messages import Message
from journeys.state import CardChange, Outcome, PromptState
from store.uow import AbstractUnitOfWork


async def regroup(uow: AbstractUnitOfWork, library: dict[str, Journey], outcome: Outcome, now: datetime) -> None:
    """Rewrite `outcome.card` when it updates a grouped card (a no-op for any other card)."""
    change = outcome.card
    key = change.update.replaces_key if change is not None else None
    if change is None or key is None:
        return
    row = (await uow.outbox.by_keys([key])).get(key)
    if row is None:
        return
    card = Message.from_json(row.payload)
    ids = sorted({b.prompt_id for b in card.buttons if b.prompt_id})
    if len(ids) < 2:
        return
    latest = {p.id: p for p in outcome.prompts}
    stored = await uow.prompts.many(pid for pid in ids if pid not in latest)  # one read, not one per report
    members: list[PromptState] = []
    for pid in ids:
        p = latest.get(pid) or stored.get(pid)
        if p is not None and p.recipient_id == card.recipient_id:
            members.append(p)
    enrollments = await uow.enrollments.states({p.enrollment_id for p in members})
    for e in outcome.enrollments:  # what this action changed (the agreement just saved)
        if e.id in enrollments:
            enrollments[e.id] = e
    pairs = [(p, enrollments[p.enrollment_id]) for p in members if p.enrollment_id in enrollments]
    journey = library.get(pairs[0][1].journey_id) if pairs else None
    if journey is None or len(pairs) < 2:
        return
    done = sum(1 for p, _ in pairs if p.status not in ("open", "scheduled"))
    message = regrouped_card(journey, card, pairs, now)
    # one update per step of progress: two reports' Done on one card never share a delivery key
    outcome.card = CardChange(replace(change.update, delivery_key=f"{key}:g{done}", message=message))
