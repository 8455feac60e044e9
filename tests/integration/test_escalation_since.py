"""A manager told that a report may be stuck hears later escalations of the same silence as what is
new: since when, and how many items wait. Not the first message again.

Lived through the real service, SQLite store, scheduler tick and console adapter (the simulation
`hplj audit` runs): Jun Mori, a manager in Tokyo, with Ned in New York who answers nothing and
Dina in London who answers everything. Each escalation is read as Jun reads it.
"""

from __future__ import annotations

import re

from journeys.text import plain
from journeys.transcript import ESCALATION, Transcript

_STILL = re.compile(r"^Still no answer from Ned since (\w{3} \d+ \w{3}) \((\d+) working days\): (\d+) items waiting, "
                    r"now also “([^”]+)”")


def test_later_escalations_of_one_silence_say_since_when_and_how_much_waits(silent_report: Transcript) -> None:
    t = silent_report
    about_ned = [s for s in t.sent if s.kind.name == ESCALATION and s.recipient == "jun" and "Ned" in s.text]
    assert len(about_ned) >= 2, [plain(s.message.title) for s in about_ned]
    first, *later = about_ned
    assert plain(first.message.title) == "Ned may be stuck"
    assert "Still no answer" not in plain(first.message.text)
    seen = []
    for s in later:
        text = plain(s.message.text)
        assert plain(s.message.title) == "Still no answer from Ned", text
        assert "may be stuck" not in text  # not written as if it were the first
        m = _STILL.match(text)
        assert m, text
        seen.append((m.group(1), int(m.group(2)), int(m.group(3))))
        assert s.local.tzname() == "JST"
    # one silence: the same "since", more working days and more items each time
    assert len({since for since, _, _ in seen}) == 1, seen
    days = [d for _, d, _ in seen]
    assert days == sorted(days) and days[0] >= 5, seen
    assert all(n >= 2 for _, _, n in seen), seen
    assert not any(s.kind.name == ESCALATION and "Dina" in s.text for s in t.sent)
