"""A manager hears that a report may be stuck once per silence, not every week.

The journey lived through the real service, SQLite store, scheduler tick and console adapter (the
simulation `hplj audit` runs): Jun Mori, a manager in Tokyo, with Ned in New York who answers
nothing and Dina in London who answers everything. Each weekly digest is read as Jun reads it.
"""

from __future__ import annotations

import re
from itertools import pairwise

from journeys.text import plain
from journeys.transcript import DIGEST, Transcript


def test_the_stuck_nudge_comes_once_then_at_a_longer_interval_with_what_is_new(silent_report: Transcript) -> None:
    t = silent_report
    digests = [s for s in t.sent if s.kind.name == DIGEST and s.recipient == "jun"]
    nudged = [s for s in digests if "Ned may be stuck" in plain(s.message.text)]
    still = [s for s in digests if "Still no answer from Ned" in plain(s.message.text)]
    assert len(nudged) == 1, [f"{s.local:%d %b}" for s in nudged]  # once, not every week
    assert not any("Dina" in line for s in digests for line in plain(s.message.text).splitlines()
                   if "stuck" in line or "Still no answer" in line)
    # never in two digests a week apart; said again later with since when and how long
    told = sorted([*nudged, *still], key=lambda s: s.at)
    assert told and all((b.local.date() - a.local.date()).days > 8 for a, b in pairwise(told))
    assert still, "the silence is said again at a longer interval"
    line = next(x for x in plain(still[0].message.text).splitlines() if x.startswith("Still no answer from Ned"))
    m = re.search(r"since \w{3} (\d+) \w{3} \((\d+) working days\)", line)
    assert m and int(m.group(2)) >= 10, line
    assert still[0].local.tzname() == "JST"  # read in Jun's day
