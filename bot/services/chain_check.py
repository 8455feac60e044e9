"""The one management-chain check before manager links are written (admin `enroll`, the CSV
import): the new links against everything stored (own managers, enrollments, the HR sync), so that
nobody ends up above their own manager, where an escalation about a peer would reach them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from journeys.chain import in_circles
from store.uow import UnitsOfWork


async def circles_with_stored(uow: UnitsOfWork, links: Iterable[tuple[str, str]],
                              own: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The people of `links` (participant -> manager) and `own` (manager -> their manager) that
    would close a circle with the stored chain or with each other, each with the circle as text;
    empty when the links are safe to write."""
    async with uow.read() as u:
        stored = await u.views.manager_links()
    return in_circles(stored, own or {}, list(links))
