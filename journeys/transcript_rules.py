"""The written rules every message of a simulated journey must keep (`hplj audit`).

Each rule is a function from a `Transcript` to the breaches it finds, with a docstring that is the
rule as a person would state it. They read the structured record of each delivery (kind, role,
local time, whom it is about: `journeys/transcript.py`); only what exists solely as words (a date
spoken of as coming, a week label, a progress count) is read from the text, by the exact phrases
the bot's templates use. `RULES` lists them all; `check` runs them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journeys.definition import is_follow_up_survey
from journeys.endorsement import endorse_target, welcome_step
from journeys.progress import week_label
from journeys.rendering import KIND_TITLES
from journeys.text import TYPED_OPEN, plain
from journeys.transcript import (
    CLOSING,
    DIGEST,
    ESCALATION,
    FINAL_DIGEST,
    INTERVIEW,
    LEADER_BRIEF,
    LEADER_DIGEST,
    LEADER_ESCALATION,
    REPLY,
    SCORECARD,
    Sent,
    Transcript,
)


@dataclass(frozen=True)
class Breach:
    rule: str
    persona: str  # whom the message went to (and their persona)
    when: str  # the recipient's local date and time
    message: str  # the message's title and first line
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.persona} at {self.when}: {self.message} — {self.detail}"


Rule = Callable[[Transcript], Iterable[Breach]]


def _breach(t: Transcript, rule: str, s: Sent, detail: str, quote: str = "") -> Breach:
    """`quote`: the line of the message at fault (default: its first line)."""
    first = quote or next((line for line in plain(s.message.text).splitlines() if line.strip()), "")
    title = plain(s.message.title) or s.kind.name
    return Breach(rule, t.persona(s.recipient), f"{s.local:%a %d %b %Y %H:%M} ({s.local.tzname()})",
                  f"“{title}: {first[:90]}”" if first else f"“{title}”", detail)


def outside_hours(t: Transcript) -> Iterable[Breach]:
    """Nothing arrives outside the reader's hours: every delivery falls on one of the recipient's
    working days (their public holidays excluded) within their working hours and outside quiet
    hours, in their own time zone. A reply to what the person just did (a command, a click) comes
    when they act."""
    for s in t.sent:
        if not s.in_hours and not s.kind.name.startswith(REPLY):
            yield _breach(t, "outside-hours", s, "delivered outside the recipient's working hours")


_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                        "Nov", "Dec"], 1)}
_SENTENCE = re.compile(r"[^.!?\n]+")
_STARTS = re.compile(r"\b(?:starts?|starting|begins?)\b", re.IGNORECASE)
_STARTS_ON = re.compile(r"\b(?:starts?|starting|begins?)\s+(?:on\s+)?" + _DAY)
_UPCOMING = re.compile(r"\bupcoming moment:\s*" + _DAY)
_BEFORE_START_LABEL = re.compile(r"·\s*before the start\b")


def _resolve(day: str, month: str, near: date) -> date | None:
    """A 'Mon 7 Dec' date in the year that puts it closest to `near`."""
    best: date | None = None
    for year in (near.year - 1, near.year, near.year + 1):
        try:
            d = date(year, _MONTHS[month], int(day))
        except ValueError:
            continue
        if best is None or abs((d - near).days) < abs((best - near).days):
            best = d
    return best


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def past_as_future(t: Transcript) -> Iterable[Breach]:
    """No message speaks of a date in the past as if it were still to come. On the reader's local
    day D, with the journey starting on S: "starts … next week" only when S falls in the calendar
    week after D's; "starts … next working day" only when S is after D and at most four days
    away; "starts … tomorrow" only when S is D+1; "starts (on) <day>" and "upcoming moment: <day>"
    only for a day not before D; and a card or a week label that says "before the start" only
    before S."""
    for s in t.sent:
        today = s.local.date()
        problems: list[str] = []
        for sentence in _SENTENCE.findall(s.text):
            if not _STARTS.search(sentence):
                continue
            low = sentence.lower()
            if "next week" in low and _monday(t.start) != _monday(today) + timedelta(days=7):
                problems.append(f"says the start ({t.start:%a %d %b}) is next week")
            if "next working day" in low and not today < t.start <= today + timedelta(days=4):
                problems.append(f"says the start ({t.start:%a %d %b}) is the next working day")
            if "tomorrow" in low and t.start != today + timedelta(days=1):
                problems.append(f"says the start ({t.start:%a %d %b}) is tomorrow")
        for m in (*_STARTS_ON.finditer(s.text), *_UPCOMING.finditer(s.text)):
            d = _resolve(m.group(1), m.group(2), today)
            if d is not None and d < today:
                problems.append(f"speaks of {d:%a %d %b} as still to come")
        if today >= t.start and (_BEFORE_START_LABEL.search(s.text)
                                 or (s.asks and "before the start" in s.text.lower())):
            problems.append(f"says 'before the start' on or after the start ({t.start:%a %d %b})")
        for p in dict.fromkeys(problems):
            yield _breach(t, "past-as-future", s, p)


def _daily_kind(s: Sent) -> str:
    """A step's card is one kind per step; a support request or a notice carrying one person's
    answer (a shared reflection, an approved plan) is one kind per step and person, as each is
    about its own moment, as are an interview's messages (an answer; the reminder, the working day
    before when the day opens with the interview, beside that day's own); escalations, digests
    and tasks are one kind whoever they are about."""
    if s.kind.step_kind == "manager_request" or s.kind.name.startswith(("notice:", INTERVIEW)):
        return f"{s.kind.name}:{s.kind.step_kind}:{s.about}"
    return s.kind.name


def repeated_same_day(t: Transcript) -> Iterable[Breach]:
    """No two messages of one kind reach one person on the same local day: a card and its reminder,
    two escalations, two digests, two notices of what one person shared. Several reports'
    escalations or tasks for one manager make one message naming each of them."""
    seen: dict[tuple[str, str, date], Sent] = {}
    for s in t.sent:
        key = (s.recipient, _daily_kind(s), s.local.date())
        if key in seen:
            yield _breach(t, "repeated-same-day", s, f"a second {s.kind.name} message that day "
                          f"(the first at {seen[key].local:%H:%M})")
        else:
            seen[key] = s


def compressed(t: Transcript) -> Iterable[Breach]:
    """Steps are spaced: one person never gets two different steps' cards about one journey in the
    same minute (a late enrollment's compressed before phase included)."""
    groups: dict[tuple[str, str | None, str], list[Sent]] = defaultdict(list)
    for s in t.sent:
        if s.asks and s.kind.step_id:
            groups[(s.recipient, s.about, s.local.strftime("%Y-%m-%d %H:%M"))].append(s)
    for items in groups.values():
        steps = list(dict.fromkeys(s.kind.step_id for s in items))
        if len(steps) > 1:
            yield _breach(t, "compressed", items[-1], f"{len(steps)} steps' cards in the same minute: "
                          + ", ".join(str(x) for x in steps))


_WEEK = re.compile(r"\bweek (\d+) of (\d+)\b|·\s*(before the start|after the end)\b")


def week_labels(t: Transcript) -> Iterable[Breach]:
    """One week label everywhere: every 'week N of M' (and 'before the start' / 'after the end'
    label) in a message is the label of the reader's local day, so a card and a digest sent
    together say the same week."""
    for s in t.sent:
        today = s.local.date()
        expected = week_label(t.journey, t.start, today)
        for line in s.text.splitlines():
            for m in _WEEK.finditer(line):
                label = m.group(3) or f"week {m.group(1)} of {m.group(2)}"
                if label != expected:
                    yield _breach(t, "week-labels", s, f"says '{label}' on a day that is '{expected}'", line.strip())


_PROGRESS = re.compile(r"(\d+) of (\d+) of (their|your) steps done")


def _acted(t: Transcript, user: str, before: Sent) -> int:
    """Steps `user` answered before the message, plus every text they typed (it may have
    answered one)."""
    mine = [a for a in t.actions if a.user == user and a.at <= before.at]
    return len({a.step_id for a in mine if a.step_id}) + sum(1 for a in mine if a.text is not None)


def honest_progress(t: Transcript) -> Iterable[Breach]:
    """Progress counts only the person's own actions: 'N of M of their/your steps done' never
    counts more steps than the person answered, planned or reflected on (or typed) before the
    message was sent. A digest's line is matched to its report by name."""
    by_name = {name: user for user, name in t.names.items() if user in t.participants}
    for s in t.sent:
        for line in s.text.splitlines():
            m = _PROGRESS.search(line)
            if not m:
                continue
            who = s.recipient if m.group(3) == "your" else next(
                (u for name, u in by_name.items() if name in line), None)
            if who is None:
                continue
            did = _acted(t, who, s)
            if int(m.group(1)) > did:
                yield _breach(t, "honest-progress", s, f"{t.names.get(who, who)}: '{m.group(0)}' but they "
                              f"acted on {did}", line.strip())


_AFTER_END_STEP_KINDS = {"message", "question", "manager_task"}
_AFTER_END_NOTICES = {DIGEST, ESCALATION, LEADER_ESCALATION, LEADER_BRIEF}


def after_the_end(t: Transcript) -> Iterable[Breach]:
    """Nothing after the end but the survey, the follow-up and the closing: from the day after the
    journey's last week (in the reader's calendar) no manager digest, brief, message or question
    step, manager task, and no reminder of or escalation about anything but a survey or a
    reflection on a moment."""
    for s in t.sent:
        if s.local.date() < t.end:
            continue
        k = s.kind
        follow_up = k.step_kind in ("survey", "mtm_follow_up")
        bad = ((k.name in _AFTER_END_NOTICES and not (follow_up and k.name in (ESCALATION, LEADER_ESCALATION)))
               or k.step_kind in _AFTER_END_STEP_KINDS or (k.reminder and not follow_up))
        if bad:
            yield _breach(t, "after-the-end", s, f"{k.name}{' reminder' if k.reminder else ''} after the end "
                          f"({t.end - timedelta(days=1):%a %d %b})")


def _near(today: date, start: date) -> bool:
    """The start is near: at most one weekday lies between today and it (Friday before a Monday
    start, Thursday before a Monday, the day before)."""
    between = [today + timedelta(days=n) for n in range(1, (start - today).days)]
    return today >= start or sum(1 for d in between if d.weekday() < 5) <= 1


def before_phase_order(t: Transcript) -> Iterable[Breach]:
    """The before phase in order: the manager's expectations card about a participant is delivered
    after every preparation step (the consent to share and the shared questions) has reached that
    participant; and no escalation about the expectations task goes out before the participant
    has answered every preparation step, unless the start is near (at most one weekday between
    the day of the escalation and the start)."""
    if t.expectations_step is None or not t.preparation:
        return
    first_prep: dict[tuple[str, str], int] = {}
    for i, s in enumerate(t.sent):
        if s.kind.step_id in t.preparation and s.about == s.recipient and s.about is not None:
            first_prep.setdefault((s.about, s.kind.step_id), i)
    carded: set[str] = set()
    for i, s in enumerate(t.sent):
        if s.about is None or s.kind.step_id != t.expectations_step:
            continue
        if s.kind.name == f"step:{t.expectations_step}":
            for who in _on_card(t, s):
                if who in carded:
                    continue
                carded.add(who)
                missing = [p for p in t.preparation if first_prep.get((who, p), len(t.sent)) > i]
                if missing:
                    yield _breach(t, "before-phase-order", s, f"the expectations card about {t.names.get(who)} "
                                  f"comes before their preparation: {', '.join(missing)}")
        elif s.kind.name in (ESCALATION, LEADER_ESCALATION):
            answered = {a.step_id for a in t.actions if a.user == s.about and a.at <= s.at}
            missing = [p for p in t.preparation if p not in answered]
            days = (t.start - s.local.date()).days
            if missing and not _near(s.local.date(), t.start):
                yield _breach(t, "before-phase-order", s, f"escalation about {t.names.get(s.about)}'s "
                              f"expectations conversation {days} days before the start, before they prepared "
                              f"({', '.join(missing)})")


def _on_card(t: Transcript, s: Sent) -> list[str]:
    """Everyone a manager's card is about: the person it is keyed to, and, on a card for several
    reports, each other participant it names."""
    named = [u for u in sorted(t.participants) if u != s.about and t.names.get(u) and t.names[u] in s.text]
    return ([s.about] if s.about else []) + named


def card_closed_when_done(t: Transcript) -> Iterable[Breach]:
    """A card whose task is complete says so: once its recipient pressed a button or sent its
    form, the card no longer offers the buttons (it was updated in place)."""
    done = {(a.user, a.prompt_id) for a in t.actions if a.prompt_id}
    for s in t.sent:
        if s.asks and (s.recipient, s.message.prompt_id) in done:
            final = s.final or s.message
            if final.buttons and not final.closed and s is _last_card(t, s):
                yield _breach(t, "card-closed-when-done", s, "answered, but the card still offers its buttons")


def _last_card(t: Transcript, s: Sent) -> Sent:
    return [x for x in t.sent if x.recipient == s.recipient and x.message.prompt_id == s.message.prompt_id][-1]


_UNFILLED = re.compile(r"\{[A-Za-z0-9_-]{1,40}\}")


def unfilled_placeholder(t: Transcript) -> Iterable[Breach]:
    """No message shows a `{placeholder}` as written: every one a text names is filled in."""
    for s in t.sent:
        m = _UNFILLED.search(s.text)
        if m:
            yield _breach(t, "unfilled-placeholder", s, f"shows {m.group(0)} unfilled")


_NUMBERED = re.compile(r"^\s*\d+\s*[:.)]\s*(\S.*)$")


def echoed_numbering(t: Transcript) -> Iterable[Breach]:
    """What a person types after the bot's own "1: your answer" advice reaches others without the
    "1:": no message to someone else quotes the typed text with its number in front."""
    for a in t.actions:
        m = _NUMBERED.match(a.text or "")
        if not m:
            continue
        for s in t.sent:
            if s.at >= a.at and s.recipient != a.user and (a.text or "").strip() in s.text:
                yield _breach(t, "echoed-numbering", s, f"quotes {t.names.get(a.user, a.user)}'s "
                              f"“{(a.text or '').strip()[:40]}” with the number it was typed after")


def _before_start_titles(t: Transcript) -> dict[str, str]:
    """Step id -> the title people see, for steps due before the start (`start-N`)."""
    out: dict[str, str] = {}
    later: set[str] = set()
    for step in t.journey.steps:
        title = step.title or KIND_TITLES.get(step.kind, "") or step.id
        if step.when and step.when.replace(" ", "").startswith("start-"):
            out[step.id] = title
        else:
            later.add(title)
    # a title a later step shares ("Quick question") names no before-start step for certain
    return {k: v for k, v in out.items() if v not in later}


_GRACE = timedelta(days=1)  # a late enrollment's before phase may run into the start day


def lost_its_point(t: Transcript) -> Iterable[Breach]:
    """Nothing that has lost its point: once the journey has started (and a day has passed since
    a late enrollment's before-phase card first reached its reader), no reminder of a step due
    before the start, no escalation about one, and no digest line still waiting for one ("waiting
    for you: …", "no response to …")."""
    before = _before_start_titles(t)
    if not before:
        return
    first: dict[tuple[str | None, str], datetime] = {}
    for s in t.sent:
        if s.kind.step_id in before and not s.kind.reminder:
            first.setdefault((s.about, s.kind.step_id), s.at)
    by_name = {name: user for user, name in t.names.items() if user in t.participants}

    def stale(about: str | None, step_id: str, s: Sent) -> bool:
        since = first.get((about, step_id))
        return s.local.date() >= t.start and (since is None or s.at >= since + _GRACE)

    for s in t.sent:
        k = s.kind
        if k.step_id in before and (k.reminder or k.name in (ESCALATION, LEADER_ESCALATION)) \
                and stale(s.about, k.step_id, s):
            yield _breach(t, "lost-its-point", s, f"{'a reminder' if k.reminder else 'an escalation'} about "
                          f"{k.step_id}, due before the start, after it")
        if k.name != DIGEST:
            continue
        about: str | None = None
        for line in s.text.splitlines():
            about = next((u for name, u in by_name.items() if line.lstrip("* ").startswith(name)), about)
            for step_id, title in before.items():
                if (f"waiting for you: {title}" in line or f"no response to “{title}”" in line) \
                        and stale(about, step_id, s):
                    yield _breach(t, "lost-its-point", s, f"still lists “{title}”, due before the start",
                                  line.strip())


def after_stop(t: Transcript) -> Iterable[Breach]:
    """Stop means stop: once a participant confirmed `stop`, they receive nothing more, and nobody
    gets a card, a reminder or an escalation about them, nor a digest line waiting for them (a
    notice that they stopped is what their manager should get)."""
    for s in t.sent:
        for who, when in t.stopped.items():
            if s.at <= when:
                continue
            if s.recipient == who:
                yield _breach(t, "after-stop", s, f"sent to {t.names.get(who)} after they stopped")
            elif s.about == who and (s.asks or s.kind.reminder or s.kind.name in (ESCALATION, LEADER_ESCALATION)):
                yield _breach(t, "after-stop", s, f"{s.kind.name} about {t.names.get(who)} after they stopped")
            elif s.kind.name == DIGEST:
                name = t.names.get(who, who)
                block = [line for line in s.text.splitlines() if name in line]
                if any(("waiting for you" in line or "no response" in line or "may be stuck" in line)
                       for line in _lines_about(s.text, name)):
                    yield _breach(t, "after-stop", s, f"the digest still follows {name} after they stopped",
                                  block[0].strip() if block else "")


def _lines_about(text: str, name: str) -> list[str]:
    """A digest's lines about one report: their line and the bullets under it."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        if not line.startswith(" ") and not line.lstrip().startswith("•"):
            inside = name in line
        if inside:
            out.append(line)
    return out


def final_digest_last(t: Transcript) -> Iterable[Breach]:
    """The senior leader's final digest comes last, once the evidence is in: after every closing
    message and every follow-up survey of the cohort, and no weekly digest follows it."""
    for s in (x for x in t.sent if x.kind.name == FINAL_DIGEST):
        for later in t.sent:
            if later.at <= s.at:
                continue
            k = later.kind
            follow_up = k.step_id is not None and k.step_kind == "survey" and is_follow_up_survey(
                t.journey.step(k.step_id))
            weekly = k.name == LEADER_DIGEST and later.recipient == s.recipient
            if k.name == CLOSING or follow_up or weekly:
                yield _breach(t, "final-digest-last", s, f"{k.name} to {t.persona(later.recipient)} came after it "
                              f"({later.local:%a %d %b})")


def scorecard_at_the_end(t: Transcript) -> Iterable[Breach]:
    """Each manager hears how their team did: once all their people have had their closing
    message, the manager gets one scorecard, after those closings, never two."""
    team: dict[str, set[str]] = defaultdict(set)
    for s in t.sent:
        if s.role == "manager" and s.about in t.participants:
            team[s.recipient].add(s.about)
    closed = {s.recipient: s for s in t.sent if s.kind.name == CLOSING}
    for manager, people in team.items():
        cards = [s for s in t.sent if s.kind.name == SCORECARD and s.recipient == manager]
        last = max((closed[p] for p in people if p in closed), key=lambda s: s.at, default=None)
        if len(cards) > 1:
            yield _breach(t, "scorecard-at-the-end", cards[1], "a second scorecard")
        if cards and last is not None and cards[0].at < last.at:
            yield _breach(t, "scorecard-at-the-end", cards[0], f"before {t.persona(last.recipient)}'s closing")
        if not cards and people <= set(closed) and last is not None:
            yield _breach(t, "scorecard-at-the-end", last, f"{t.persona(manager)} never got a scorecard")


def closing_names_nobody_else(t: Transcript) -> Iterable[Breach]:
    """A participant's closing message says what the cohort achieved in counts only: it never names
    another participant."""
    for s in (x for x in t.sent if x.kind.name == CLOSING):
        text = s.text
        for other in t.participants - {s.recipient}:
            name = t.names.get(other, "")
            if name and name in text:
                yield _breach(t, "closing-names-nobody-else", s, f"names {name}")


def facilitator_counts_only(t: Transcript) -> Iterable[Breach]:
    """A facilitator reads about their cohort in counts and the journey's own words: no message to a
    facilitator names anyone in the cohort or quotes anything a participant typed."""
    people = [t.names[u] for u in t.participants if t.names.get(u)]
    for s in t.sent:
        if s.role != "facilitator":
            continue
        if TYPED_OPEN in s.message.text or TYPED_OPEN in s.message.title:
            yield _breach(t, "facilitator-counts-only", s, "quotes text a person typed")
        named = [n for n in people if n in s.text]
        if named:
            yield _breach(t, "facilitator-counts-only", s, f"names {named[0]}")


def endorsement_in_welcome(t: Transcript) -> Iterable[Breach]:
    """Once the senior leader has endorsed the journey, each welcome sent after it quotes them by
    name; a welcome sent before stays as it was: nobody gets their welcome twice."""
    step = welcome_step(t.journey)
    endorsed = [(a.at, t.names.get(a.user, a.user)) for a in t.actions if endorse_target(a.prompt_id)]
    if step is None:
        return
    seen: set[str] = set()
    for s in t.sent:
        if s.kind.step_id != step or s.role != "participant":
            continue
        if s.recipient in seen and not s.kind.reminder:
            yield _breach(t, "endorsement-in-welcome", s, "the welcome was sent again")
        seen.add(s.recipient)
        before = [name for at, name in endorsed if at <= s.at]
        if before and before[0] not in s.text:
            yield _breach(t, "endorsement-in-welcome", s, f"sent after {before[0]} endorsed it, without their words")


def digest_news_only(t: Transcript) -> Iterable[Breach]:
    """A senior leader's weekly digest says what moved since the week before: no line of it comes
    back word for word in that leader's next weekly digest (a line whose figures have not changed
    is no news; the at-a-glance figures below the text are not lines)."""
    last: dict[str, Sent] = {}
    for s in (x for x in t.sent if x.kind.name == LEADER_DIGEST):
        before = last.get(s.recipient)
        last[s.recipient] = s
        if before is None or (s.local.date() - before.local.date()).days > 8:
            continue
        said = {line.strip() for line in plain(before.message.text).splitlines() if line.strip()}
        for line in plain(s.message.text).splitlines():
            if line.strip() in said:
                yield _breach(t, "digest-news-only", s, f"said unchanged in the digest of {before.local:%a %d %b}",
                              line.strip())


def shared_in_the_card(t: Transcript) -> Iterable[Breach]:
    """What a participant agreed to share reaches their manager: an expectations card sent after a
    participant on it said yes to sharing and answered a shared question shows what they shared
    (a card for several reports, each one's)."""
    if t.expectations_step is None or not t.preparation:
        return
    consent, shares = t.preparation[0], set(t.preparation[1:])
    for s in t.sent:
        if s.role != "manager" or s.kind.step_id != t.expectations_step or not s.kind.name.startswith("step:"):
            continue
        for user in sorted(t.participants):
            name = t.names.get(user, "")
            if not name or name not in s.text:
                continue
            done = [a for a in t.actions if a.user == user and a.at <= s.at]
            said_yes = any(a.step_id == consent and a.button == "yes" for a in done)
            if said_yes and any(a.step_id in shares for a in done) and \
                    f"What {name.split()[0]} shared with you" not in s.text:
                yield _breach(t, "shared-in-the-card", s, f"{name} agreed to share and answered before it, "
                              "but the card does not show what they shared")


def named_not_handled(t: Transcript) -> Iterable[Breach]:
    """People are named by their names: no message calls anyone by a handle as typed in a command
    ("@ana" for Ana Silva)."""
    for s in t.sent:
        text = s.text
        for user in t.names:
            if re.search(rf"@{re.escape(user)}\b", text):
                yield _breach(t, "named-not-handled", s, f"calls {t.names[user]} @{user}")


_BARE_COUNT = re.compile(r"\(\d+\)")


def waiting_says_what(t: Transcript) -> Iterable[Breach]:
    """A senior leader told that a manager keeps people waiting reads what waits (support
    requests, expectations conversations, other tasks), not a bare number beside the name."""
    for s in (x for x in t.sent if x.kind.name == LEADER_DIGEST):
        for line in plain(s.message.text).splitlines():
            if line.startswith(("Waiting more than a working day for:", "Newly waiting")) and _BARE_COUNT.search(line):
                yield _breach(t, "waiting-says-what", s, "a bare count of what waits", line.strip())


_SINCE = re.compile(r"no response to “[^”]*” since " + _DAY + r" \(\d+ working days?\)")


def stuck_says_since(t: Transcript) -> Iterable[Breach]:
    """A manager told a report is not responding reads since when, with the working days it has
    been, so the line that comes back next week says how much longer it has got."""
    for s in (x for x in t.sent if x.kind.name == DIGEST):
        for line in plain(s.message.text).splitlines():
            if "no response to “" in line and not _SINCE.search(line):
                yield _breach(t, "stuck-says-since", s, "no date or count of working days", line.strip())


_NUDGE = re.compile(r"^(.+?) may be stuck\.")
_STILL = re.compile(r"^Still no answer from (\S+)(?: to “[^”]*”)? since " + _DAY + r" \(\d+ working days?\)")


def _nudged(s: Sent) -> set[str]:
    """The first names a manager's digest says may be stuck, or still have not answered."""
    out: set[str] = set()
    for line in plain(s.message.text).splitlines():
        m = _NUDGE.match(line.strip()) or _STILL.match(line.strip())
        if m:
            out |= {n.strip() for n in re.split(r",| and ", m.group(1)) if n.strip()}
    return out


def stuck_nudge_once(t: Transcript) -> Iterable[Breach]:
    """A manager hears that a report may be stuck once per silence: the nudge naming a report
    does not come back in that manager's next weekly digest unless something changed; a later
    reminder, at a longer interval, says what is still unanswered, since when and for how many
    working days."""
    last: dict[str, Sent] = {}
    for s in (x for x in t.sent if x.kind.name == DIGEST):
        before = last.get(s.recipient)
        last[s.recipient] = s
        for line in plain(s.message.text).splitlines():
            if line.strip().startswith("Still no answer") and not _STILL.match(line.strip()):
                yield _breach(t, "stuck-nudge-once", s, "a repeated nudge without since when", line.strip())
        if before is None or (s.local.date() - before.local.date()).days > 8:
            continue
        again = sorted(_nudged(s) & _nudged(before))
        if again:
            yield _breach(t, "stuck-nudge-once", s, f"{', '.join(again)} nudged again, as in the digest of "
                          f"{before.local:%a %d %b}")


_TIME = re.compile(_DAY + r",? (\d\d:\d\d)")


def time_said_once(t: Transcript) -> Iterable[Breach]:
    """A time is said once: no line names the same day and hour twice (a time "held until" itself,
    a moment's date restated beside it)."""
    for s in t.sent:
        for line in plain(s.message.text).splitlines():
            times = _TIME.findall(line)
            if len(times) != len(set(times)):
                yield _breach(t, "time-said-once", s, "the same time twice on one line", line.strip())


def time_listed_once(t: Transcript) -> Iterable[Breach]:
    """Each time is listed once in a message: no message names the same day and time in two places
    (an interviewer's candidates and their calendar list each held or booked time once; a hold's
    "until" deadline is not a listed time)."""
    for s in t.sent:
        seen: dict[tuple[str, ...], str] = {}
        for line in plain(s.message.text).splitlines():
            for m in _TIME.finditer(line):
                found = m.groups()
                if line[:m.start()].rstrip().endswith("until"):
                    continue  # how long a time is held: the same deadline may hold several
                if found in seen and seen[found] != line:
                    yield _breach(t, "time-listed-once", s, f"{found[0]} {found[1]} {found[2]} listed again "
                                  f"(first: “{seen[found].strip()[:60]}”)", line.strip())
                seen.setdefault(found, line)


def one_per_minute(t: Transcript) -> Iterable[Breach]:
    """Several things of one kind make one message: nobody gets two messages of the same kind in
    the same minute (an interviewer's interviews of the day, answers to their invitations, two
    people's notices), whoever each is about."""
    seen: dict[tuple[str, str, str], Sent] = {}
    for s in t.sent:
        if s.asks and s.kind.step_id:
            continue  # a step's cards: `compressed` and the grouped manager cards
        key = (s.recipient, s.kind.name, s.local.strftime("%Y-%m-%d %H:%M"))
        if key in seen:
            yield _breach(t, "one-per-minute", s, f"a second {s.kind.name} message in the same minute")
        else:
            seen[key] = s


_TODAY_AT = re.compile(r"(?:\b[Tt]oday at |^• )(\d\d):(\d\d)\b", re.MULTILINE)
_AHEAD = timedelta(minutes=30)  # as journeys/evaluation/interviews.AHEAD


def reminded_ahead(t: Transcript) -> Iterable[Breach]:
    """A reminder comes in time to be of use: an interview's reminder saying what happens today
    reaches its reader at least half an hour before the first time it names (when their working day
    opens with the interview, it comes the working day before)."""
    for s in (x for x in t.sent if x.kind.name == f"{INTERVIEW}reminder"):
        text = plain(s.message.text)
        if "today" not in text.lower():
            continue
        times = [s.local.replace(hour=int(h), minute=int(m), second=0, microsecond=0)
                 for h, m in _TODAY_AT.findall(text)]
        if times and min(times) - s.local < _AHEAD:
            yield _breach(t, "reminded-ahead", s, f"arrives {int((min(times) - s.local).total_seconds() // 60)} "
                          f"minutes before {min(times):%H:%M}")


_PRACTICE = re.compile(r"^\*?Practice:\*? (safe practice|a real, harder moment)(.*)$", re.MULTILINE)


def practice_as_chosen(t: Transcript) -> Iterable[Breach]:
    """A card about a planned moment does not contradict its own step: when the person chose
    another kind of practice than their plan step suggested (a real moment in the "safe practice"
    step), the card says it was their choice."""
    for s in t.sent:
        step = t.journey.step(s.kind.step_id) if s.kind.step_id and t.journey.has_step(s.kind.step_id) else None
        plan = getattr(step, "for_mtm", None)
        suggested = getattr(t.journey.step(plan), "practice", None) if plan and t.journey.has_step(plan) else None
        for m in _PRACTICE.finditer(plain(s.message.text)):
            chosen = "safe" if m.group(1) == "safe practice" else "real"
            if suggested in ("safe", "real") and chosen != suggested and "choice" not in m.group(2):
                yield _breach(t, "practice-as-chosen", s, f"says {m.group(1)} under a {suggested} step, as if "
                              "it were the step's", m.group(0))


_NEAR_WORD = re.compile(r"\b(today|tomorrow)\b", re.IGNORECASE)
_GLUED = re.compile(r"\b(today|tomorrow), $", re.IGNORECASE)


def day_named_right(t: Transcript) -> Iterable[Breach]:
    """A day the reader is living is called by its name: no message names the reader's own today
    or tomorrow (in their zone, on the day they get it) only as a weekday and date; it says
    "today" or "tomorrow" (a date may follow it, as in "tomorrow, Mon 7 Dec"), and such a word is
    true of the date it comes with on the day the message arrives (however late it was delivered).
    Replies to a person's commands (`status`, `interviews`, an admin's `status <user>`, read on
    the admin's day) and to their clicks ("You already answered this today, …") too, as read when
    the reply is made. A
    week's label ("week of Mon 7 Dec") names a week, not a day."""
    for s in t.sent:
        today = s.local.date()
        for line in plain(s.message.title + "\n" + s.message.text).splitlines():
            for m in re.finditer(_DAY, line):
                if line[:m.start()].endswith("week of "):
                    continue
                d = _resolve(m.group(1), m.group(2), today)
                glued = _GLUED.search(line[:m.start()])  # "tomorrow, Fri 16 Apr": the word says which day
                if d is not None and glued and glued.group(1).lower() != {today: "today", today + timedelta(days=1):
                                                                          "tomorrow"}.get(d):
                    yield _breach(t, "day-named-right", s, f"says {glued.group(1).lower()} for {m.group(0)}, which is "
                                  f"not the reader's {glued.group(1).lower()} the day they get it", line.strip())
                    continue
                if d is None or d not in (today, today + timedelta(days=1)):
                    continue
                word = "today" if d == today else "tomorrow"
                said = [w.group(1).lower() for w in _NEAR_WORD.finditer(line[max(0, m.start() - 40):m.start()])]
                if word not in said:
                    yield _breach(t, "day-named-right", s, f"names {m.group(0)}, the reader's {word}, by its date",
                                  line.strip())


_STILL_SINCE = re.compile(r"[Ss]till no answer (?:from \S+ )?since " + _DAY + r" \(\d+ working days?\)")


def escalation_says_since(t: Transcript) -> Iterable[Breach]:
    """A manager told again that a report may be stuck, with no answer from them in between, is
    not told as if it were the first time: the escalation says since when there has been no
    answer, with the working days (on a message about several reports, that report's line)."""
    told: dict[tuple[str, str], datetime] = {}
    for s in (x for x in t.sent if x.kind.name == ESCALATION):
        for who in _on_card(t, s):
            before = told.get((s.recipient, who))
            told[(s.recipient, who)] = s.at
            if before is None or any(a.user == who and before < a.at <= s.at for a in t.actions):
                continue
            name = t.names.get(who, who)
            lines = [line for line in plain(s.message.text).splitlines() if name in line] if s.about != who else []
            if not _STILL_SINCE.search("\n".join(lines) if lines else plain(s.message.text)):
                yield _breach(t, "escalation-says-since", s, f"{name} escalated again, as if for the first time "
                              f"(told before on {before.astimezone(s.local.tzinfo):%a %d %b})")


def _moment_of(t: Transcript, s: Sent) -> tuple[str, str] | None:
    """(enrollment, plan step) of the moment that matters a message is about: its plan card, its
    day-of nudge, a request, notice, coach check or reflection of that moment; None otherwise."""
    step_id, enrollment = s.kind.step_id, s.kind.enrollment_id
    if not step_id or not enrollment:
        return None
    base = step_id.split("~", 1)[0]  # `<plan>~day-of`, `<plan>~20270105~day-of`, `<request>~coach-check`
    if not t.journey.has_step(base):
        return None
    step = t.journey.step(base)
    plan = getattr(step, "for_mtm", None) or (base if step.kind == "mtm_plan" else None)
    return (enrollment, plan) if plan else None


_SAME_TIME = timedelta(minutes=5)  # the backlog's spacing of one person's held rows is a minute


def one_message_per_moment(t: Transcript) -> Iterable[Breach]:
    """One moment, one message at a time: nobody gets two messages about the same moment that
    matters (its plan, its day-of nudge, its request or its notices) within a few minutes of each
    other, whatever their kinds; what there is to say then is said in one."""
    last: dict[tuple[str, str, str], Sent] = {}
    for s in sorted(t.sent, key=lambda x: x.at):
        moment = _moment_of(t, s)
        if moment is None or s.kind.reminder:
            continue
        key = (s.recipient, *moment)
        before = last.get(key)
        if before is not None and abs(s.at - before.at) < _SAME_TIME:
            yield _breach(t, "one-message-per-moment", s, f"a second message about the moment of "
                          f"{moment[1]} at the same time ({before.kind.name}, then {s.kind.name})")
        last[key] = s


RULES: tuple[Rule, ...] = (outside_hours, past_as_future, repeated_same_day, compressed, week_labels,
                           honest_progress, after_the_end, lost_its_point, before_phase_order,
                           card_closed_when_done, after_stop,
                           unfilled_placeholder, echoed_numbering, final_digest_last, scorecard_at_the_end,
                           closing_names_nobody_else, facilitator_counts_only, endorsement_in_welcome,
                           digest_news_only, time_said_once, shared_in_the_card, named_not_handled,
                           waiting_says_what, stuck_says_since, stuck_nudge_once,
                           time_listed_once, one_per_minute, reminded_ahead,
                           practice_as_chosen, day_named_right, escalation_says_since,
                           one_message_per_moment)


def check(t: Transcript, rules: Iterable[Rule] = RULES) -> list[Breach]:
    """Every breach of every rule, in the order the messages were sent."""
    found = [b for rule in rules for b in rule(t)]
    return found


def describe_rules() -> list[tuple[str, str]]:
    """(name, the rule in words) for each rule, for `hplj audit --rules` and the README."""
    return [(r.__name__.replace("_", "-"), " ".join((r.__doc__ or "").split())) for r in RULES]
