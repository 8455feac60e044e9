"""The stored management chain, for the circle check before a manager link is written
(`journeys.chain`): every person's own manager, every active enrollment's manager, and what the HR
sync says. Nodes are lower-case e-mails, or `id:<person id>` for someone stored without one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import DirectoryRow, EnrollmentRow, PersonRow


def node(person_id: str, email: str | None) -> str:
    """The graph node of a person: their e-mail (lower case) when known, else their id."""
    return email.lower() if email else f"id:{person_id}"


async def manager_links(s: AsyncSession, *, hr_source: str = "hr") -> list[tuple[str, str, str]]:
    """(person, manager, kind) for every stored link, kind "own" or "enrolled"
    (`journeys.chain.in_circles`); linear in the number of people and enrollments."""
    person, manager = aliased(PersonRow), aliased(PersonRow)
    links: list[tuple[str, str, str]] = []
    own = select(person.id, person.email, manager.id, manager.email).join(manager, person.manager_id == manager.id)
    links += [(node(a, ae), node(b, be), "own") for a, ae, b, be in (await s.execute(own)).all()]
    enrolled = (select(person.id, person.email, manager.id, manager.email)
                .select_from(EnrollmentRow)
                .join(person, EnrollmentRow.person_id == person.id)
                .join(manager, EnrollmentRow.manager_id == manager.id)
                .where(EnrollmentRow.status.in_(("active", "paused"))))
    links += [(node(a, ae), node(b, be), "enrolled") for a, ae, b, be in (await s.execute(enrolled)).all()]
    hr = select(DirectoryRow.email, DirectoryRow.manager_email).where(DirectoryRow.source == hr_source,
                                                                     DirectoryRow.manager_email.is_not(None))
    links += [(a.lower(), str(b).lower(), "own") for a, b in (await s.execute(hr)).all()]
    return links


async def id_links(s: AsyncSession) -> list[tuple[str, str, str]]:
    """The same links by person id, for people the bot knows (own managers and enrollments)."""
    own = select(PersonRow.id, PersonRow.manager_id).where(PersonRow.manager_id.is_not(None))
    links = [(a, str(b), "own") for a, b in (await s.execute(own)).all()]
    enrolled = select(EnrollmentRow.person_id, EnrollmentRow.manager_id).where(
        EnrollmentRow.manager_id.is_not(None), EnrollmentRow.status.in_(("active", "paused")))
    links += [(a, str(b), "enrolled") for a, b in (await s.execute(enrolled)).all()]
    return links


__all__ = ["id_links", "manager_links", "node"]
