"""Database tables (SQLAlchemy 2 typed models). The database is the source of truth.

Every timestamp is stored as UTC. Due work is found through partial-width indexes on `next_at`
(prompts), `next_attempt_at` (outbox) and `next_at` (digests), so a tick's cost follows what is
due, not how many people are enrolled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the column: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class PersonRow(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    tz_checked_at: Mapped[datetime | None]
    country: Mapped[str | None] = mapped_column(String(8))
    subdivision: Mapped[str | None] = mapped_column(String(16))
    # How to reach them: Slack DM channel id, or a Teams ConversationReference.
    dm_id: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    greeted: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    # their own working week ("mon tue wed", "08:00", "16:00") and language, from the directory or
    # the HR sync; empty: the journey's calendar (store/person_calendar.py reads them)
    work_days: Mapped[str | None] = mapped_column(String(32))
    work_start: Mapped[str | None] = mapped_column(String(5))
    work_end: Mapped[str | None] = mapped_column(String(5))
    locale: Mapped[str | None] = mapped_column(String(35))
    # their own manager, for accountability digests (indexed: a leader's organisation is found by it)
    manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
    __table_args__ = (Index("ux_people_platform_user", "platform", "platform_user_id", unique=True),)


class AdminRow(Base):
    __tablename__ = "admins"
    person_id: Mapped[str] = mapped_column(String(64), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    granted_by: Mapped[str | None] = mapped_column(String(64))
    granted_at: Mapped[datetime]


class EnrollmentRow(Base):
    __tablename__ = "enrollments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(64))
    journey_version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True)
    manager_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("people.id", ondelete="SET NULL"),
                                                   index=True)
    start: Mapped[date] = mapped_column(Date)
    events: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    cohort: Mapped[str] = mapped_column(String(120))
    paused_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # the before phase joined up (journeys/expectations.py): typed text, so `forget` drops it
    notes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # ix_enrollments_overview: the admin overview counts (cohort, journey, status) from the index
    # alone, and every query by cohort uses it as it used the cohort index it replaced.
    __table_args__ = (Index("ix_enrollments_journey_status", "journey_id", "status"),
                      Index("ix_enrollments_overview", "cohort", "journey_id", "status"))


class PromptRow(Base):
    __tablename__ = "prompts"
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), ForeignKey("enrollments.id", ondelete="CASCADE"),
                                               index=True)
    step_id: Mapped[str] = mapped_column(String(96))
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    next_at: Mapped[datetime | None]
    mtm_id: Mapped[str | None] = mapped_column(String(160))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    last_delivery_key: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    __table_args__ = (Index("ix_prompts_next_at", "next_at"),)


class MtmRow(Base):
    __tablename__ = "mtms"
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(64), ForeignKey("enrollments.id", ondelete="CASCADE"),
                                               index=True)
    plan_step_id: Mapped[str] = mapped_column(String(96))
    practice: Mapped[str] = mapped_column(String(16))
    situation: Mapped[str] = mapped_column(Text)
    when: Mapped[date] = mapped_column(Date)
    behaviour: Mapped[str] = mapped_column(String(96))
    share_plan: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    manager_response: Mapped[str | None] = mapped_column(String(16))
    manager_responded_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]
    reflection: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    share_reflection: Mapped[bool] = mapped_column(Boolean, default=False)


class EventRow(Base):
    """Facts for reports: no free text, so aggregates survive `forget` as anonymous numbers."""

    __tablename__ = "journey_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    enrollment_id: Mapped[str] = mapped_column(String(64), index=True)
    prompt_id: Mapped[str | None] = mapped_column(String(160))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# The outbox rows still to deliver, as literal SQL: a query that says it (not a bound parameter)
# can use the partial index on both SQLite and PostgreSQL.
OUTBOX_LIVE = "state IN ('pending', 'sending')"
OUTBOX_FAILED = "state = 'failed'"


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(220), unique=True)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    enrollment_id: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    replaces_key: Mapped[str | None] = mapped_column(String(220))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|failed|expired|cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False)
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(String(300))
    stale_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The send-time check (scheduler/sendtime.py): whose calendar the row waits for, and whether it
    # answers the recipient's own action (goes at once, whatever the hour).
    journey_id: Mapped[str | None] = mapped_column(String(64))
    at_once: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Rows of one topic (a manager's or leader's digest): a newer row replaces one still pending.
    topic: Mapped[str | None] = mapped_column(String(220), index=True)
    # ix_outbox_live: only the rows still to deliver (the claim and the next-due question say
    # OUTBOX_LIVE so SQLite and PostgreSQL pick it; delivered rows have no next_attempt_at and
    # would otherwise be walked first, NULLs sorting first)
    # ix_outbox_failed: only failed rows, so the overview's "failed per cohort" reads those few
    # instead of the whole outbox
    __table_args__ = (Index("ix_outbox_due", "next_attempt_at"),
                      Index("ix_outbox_live", "next_attempt_at", "id", sqlite_where=text(OUTBOX_LIVE),
                            postgresql_where=text(OUTBOX_LIVE)),
                      Index("ix_outbox_failed", "enrollment_id", sqlite_where=text(OUTBOX_FAILED),
                            postgresql_where=text(OUTBOX_FAILED)))


class InboundRow(Base):
    """Idempotency: one row per user action (Slack event_id, Teams activity id, click identity)."""

    __tablename__ = "inbound"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime]


class DigestRow(Base):
    __tablename__ = "digests"
    manager_id: Mapped[str] = mapped_column(String(64), ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "manager": the weekly digest of a manager's reports; "leader": a senior leader's kickoff brief
    # and organisation digest (store/records.py DigestKind).
    kind: Mapped[str] = mapped_column(String(16), primary_key=True, default="manager", server_default="manager")
    next_at: Mapped[datetime | None] = mapped_column(index=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class AuditRow(Base):
    """Who changed what, by id only: never names, e-mails or answers."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class HeartbeatRow(Base):
    __tablename__ = "heartbeats"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DirectoryRow(Base):
    """What a source (the HR sync, Microsoft Graph, Slack profile fields) says about a person, by
    e-mail, whether or not they have used the bot yet; live lookups expire (`expires_at`)."""

    __tablename__ = "directory"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)  # hr | graph | slack
    name: Mapped[str | None] = mapped_column(String(200))
    manager_email: Mapped[str | None] = mapped_column(String(320))
    country: Mapped[str | None] = mapped_column(String(8))
    subdivision: Mapped[str | None] = mapped_column(String(16))
    tz: Mapped[str | None] = mapped_column(String(64))
    work_days: Mapped[str | None] = mapped_column(String(32))
    work_start: Mapped[str | None] = mapped_column(String(5))
    work_end: Mapped[str | None] = mapped_column(String(5))
    locale: Mapped[str | None] = mapped_column(String(35))
    external_id: Mapped[str | None] = mapped_column(String(128))
    fetched_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class AccessRevocationRow(Base):
    """The bot lost its access to a workspace or a person (Slack `app_uninstalled` / `tokens_revoked`,
    a Teams `installationUpdate` remove): nothing is sent there, their outbox rows are parked, and
    at `purge_at` their data goes the way of `forget` (bot/services/access.py)."""

    __tablename__ = "access_revocations"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # platform:scope:subject
    platform: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))  # workspace | person
    subject: Mapped[str] = mapped_column(String(128))  # a Slack team id, a person's platform user id
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the events that said so, in order
    revoked_at: Mapped[datetime]
    purge_at: Mapped[datetime] = mapped_column(index=True)
    purged_at: Mapped[datetime | None]
    told: Mapped[int] = mapped_column(Integer, default=0)  # how many admins were told (0: nobody reachable)
    # A fingerprint (truncated SHA-256, never the secret) of the credential that was revoked: a
    # process started with another one (a reinstall's new Slack token) lifts the revocation.
    credential: Mapped[str | None] = mapped_column(String(16))


class InterviewSlotRow(Base):
    """One quarter hour of an interviewer's calendar, held for one candidate's proposed interview
    time (until they answer or the hold expires) or booked by their answer. One row per quarter hour
    the interview covers, unique per interviewer: two candidates can never hold or book overlapping
    times, whichever process writes first (store/interview_slots.py)."""

    __tablename__ = "interview_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interviewer_id: Mapped[str] = mapped_column(String(64))
    cell_at: Mapped[datetime]  # the quarter hour
    slot_at: Mapped[datetime]  # the interview's start this quarter hour belongs to
    enrollment_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(8))  # held | booked
    expires_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("interviewer_id", "cell_at", name="uq_interview_slots_cell"),)


class CohortTextRow(Base):
    """Text the L&D lead wrote for a cohort's report, by kind (`recommendations`: the edited "What to
    change" section, replacing the draft wherever the report is shown). Who wrote it is in the audit."""

    __tablename__ = "cohort_texts"
    cohort: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class CohortRoleRow(Base):
    """A person with a role in one cohort of a journey (today: its workshop's facilitator), and
    when their next cohort message is due (store/cohort_roles.py, scheduler/facilitators.py)."""

    __tablename__ = "cohort_roles"
    journey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)  # facilitator
    person_id: Mapped[str] = mapped_column(String(64), ForeignKey("people.id", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime]
    stage: Mapped[str] = mapped_column(String(16))  # brief | progress | done
    next_at: Mapped[datetime | None] = mapped_column(index=True)


class EndorsementRow(Base):
    """A senior leader's endorsement of a journey, asked for in their kickoff brief and quoted in
    their people's welcome. `text` is typed by the leader: `forget` erases the row."""

    __tablename__ = "endorsements"
    leader_id: Mapped[str] = mapped_column(String(64), ForeignKey("people.id", ondelete="CASCADE"),
                                           primary_key=True)
    journey_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
