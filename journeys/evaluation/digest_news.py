"""What a weekly digest says that the reader has not been told: the lines of this week's digest
that were not, word for word, in last week's.

A senior leader reads a weekly digest to learn what moved. A line that comes back unchanged
("Impact: no survey answers yet", the same support-request counts, the same business goal) says
nothing new, and a reader who sees it every week stops reading the rest. So each line is said
when it first applies or when a figure in it changes; the standing figures stay in the message's
facts, which are the at-a-glance table, not news. Last week's lines are recomputed from the
events as they stood then, so nothing has to remember what was sent. Pure: no clock, no store.
"""

from __future__ import annotations

from collections.abc import Sequence

# Two wordings of one call to act: the general one is no news the week after the named one.
SAME_POINT = {"Ask your managers": "Waiting more than a working day for:"}
# A line that went away is news when its going is: the week nobody waits any more is worth a line.
GONE = {"Waiting more than a working day for:": ("Nothing waits more than a working day for a manager now: each item was answered or "
                                                 "has lapsed.")}


def news_only(lines: Sequence[str], previous: Sequence[str]) -> list[str]:
    """`lines` without those `previous` already said (blank lines dropped), in their order, with a
    line for what last week said and this week no longer does (`GONE`)."""
    said = set(previous)

    def had(head: str, where: Sequence[str]) -> bool:
        return any(x.startswith(head) for x in where)

    fresh = [line for line in lines if line.strip() and line not in said
             and not any(line.startswith(a) and had(b, previous) for a, b in SAME_POINT.items())]
    fresh += [words for head, words in GONE.items() if had(head, previous) and not had(head, lines)]
    return fresh
