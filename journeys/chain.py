"""The management chain as a graph: who is whose manager, and where it goes round in a circle.

An edge a -> b says "b manages a": a person's own manager (`people.manager_id`, the HR sync's
`manager_email`) or an enrollment's manager (the participant is below them for that journey). A
chain that comes back to where it started puts someone above their own manager, and an escalation
would then reach a participant about their peer. `circles` finds every such circle in time linear
in the number of people and links (Tarjan's strongly connected components, without recursion), so
a 10,000-person export is checked in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def circles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every group of people whose managers lead back to themselves (a strongly connected
    component with more than one person, or one person who is their own manager), each as the
    people in it."""
    graph: dict[str, list[str]] = {a: list(bs) for a, bs in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in list(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph.get(node, [])
            while i < len(succ):
                nxt = succ[i]
                i += 1
                if nxt not in index:
                    work.append((node, i))
                    work.append((nxt, 0))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                if low[node] == index[node]:
                    group: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in graph.get(node, []):
                        found.append(group)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return found


SHOWN = 6  # people of a circle named in its text; a longer one says how many it has


def circle_text(group: list[str], edges: Mapping[str, Iterable[str]]) -> str:
    """One circle of `group` as "a -> b -> a", following the links inside the group; a circle of
    more than `SHOWN` people is cut ("a -> b -> … (2,000 people)"), so every row of a long circle
    gets a short error instead of the whole chain."""
    members = set(group)
    start = min(group)
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = next((b for b in edges.get(node, ()) if b in members), None)
        if nxt is None:
            break
        path.append(nxt)
        if nxt in seen:
            break
        if len(path) > SHOWN:
            return " -> ".join(path) + f" -> … ({len(group):,} people)"
        seen.add(nxt)
        node = nxt
    return " -> ".join(path)


def in_circles(stored: Iterable[tuple[str, str, str]], own: Mapping[str, str | None],
               enrolled: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Who would be in a circle once these links are written, each with the circle as text.

    `stored`: (person, manager, kind) already stored, kind "own" (their own manager) or
    "enrolled" (an enrollment's manager); `own`: the own managers about to be written (None: none),
    which replace the stored ones of the same people; `enrolled`: enrollment links about to be written.
    """
    edges: dict[str, list[str]] = {}
    for a, b, kind in stored:
        if kind == "own" and a in own:
            continue
        edges.setdefault(a, []).append(b)
    for a, m in own.items():
        if m is not None:
            edges.setdefault(a, []).append(m)
    for a, b in enrolled:
        edges.setdefault(a, []).append(b)
    out: dict[str, str] = {}
    for group in circles(edges):
        text = circle_text(group, edges)
        for member in group:
            out[member] = text
    return out


__all__ = ["circle_text", "circles", "in_circles"]
