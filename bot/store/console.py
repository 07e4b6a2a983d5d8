"""The agent console's storage (issue #12): handoff states, accounts, sessions, the human phase.

Like ``OrderRepository``: each method opens its own short session and returns plain
dataclasses. The handoff's state changes only through ``transition``, which checks the move
against ``bot.handoff.TRANSITIONS`` and applies it with a conditional UPDATE inside one
transaction, so of twenty agents claiming one conversation exactly one wins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot import handoff as states
from bot.store import models as m
from bot.store.repository import _naive_utc

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class HandoffState:
    conversation_id: str
    state: str
    reason: str = ""
    urgent: bool = False
    channel: str = ""
    case_id: Optional[int] = None
    handoff_id: Optional[int] = None
    agent: Optional[str] = None
    last_agent: Optional[str] = None
    queued_at: Optional[datetime] = None
    claimed_at: Optional[datetime] = None
    released_at: Optional[datetime] = None
    message_left_at: Optional[datetime] = None

    def waiting_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.queued_at).total_seconds())) if self.queued_at else 0


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    display_name: str
    role: str
    password_hash: str
    last_seen_at: Optional[datetime] = None


@dataclass(frozen=True)
class ConsoleSession:
    username: str
    display_name: str
    role: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ConsoleMessage:
    id: int
    conversation_id: str
    kind: str  # agent / note / system / user
    author: str
    text: str
    at: datetime


@dataclass(frozen=True)
class CannedReply:
    id: int
    code: str
    text: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class FollowUpView:
    id: int
    case_id: Optional[int]
    conversation_id: Optional[str]
    promise: str
    due_at: datetime
    done_at: Optional[datetime]


@dataclass(frozen=True)
class AgentRating:
    agent: str
    conversation_id: str
    score: int
    comment: str
    at: datetime


def _state(r: m.HandoffStateRow) -> HandoffState:
    return HandoffState(
        r.conversation_id, r.state, r.reason, bool(r.urgent), r.channel, r.case_id, r.handoff_id, r.agent,
        r.last_agent, r.queued_at, r.claimed_at, r.released_at, r.message_left_at,
    )


def token_hash(token: str) -> str:
    """Sessions are stored by the cookie's SHA-256: a copy of the table logs nobody in."""
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleRepository:
    def __init__(self, session_factory: sessionmaker, clock: Clock = lambda: datetime.utcnow()) -> None:
        self._sessions = session_factory
        self._clock = clock

    def now(self) -> datetime:
        return _naive_utc(self._clock())

    # ---- the handoff state machine --------------------------------------------------------

    def state(self, conversation_id: str) -> HandoffState:
        with self._sessions() as session:
            row = session.get(m.HandoffStateRow, conversation_id)
            return _state(row) if row else HandoffState(conversation_id, states.BOT)

    def transition(self, conversation_id: str, target: str, **fields: Any) -> HandoffState:
        """Move the conversation to ``target`` if ``TRANSITIONS`` allows it from where it is now.

        The check and the write are one conditional UPDATE (``WHERE state IN (allowed
        sources)``, and ``agent = :agent`` when ``holder`` is given): a concurrent move that got
        there first makes this one match no row, and TransitionError says where it is now.
        """
        holder = fields.pop("holder", None)
        allowed = states.sources(target)
        if not allowed:
            raise states.TransitionError("?", target)
        now = self.now()
        values = {"state": target, "updated_at": now, **fields}
        if target == states.QUEUED:
            values.setdefault("queued_at", now)
            values.update(agent=None, claimed_at=None)
        elif target == states.CLAIMED:
            values.setdefault("claimed_at", now)
            values["last_agent"] = fields.get("agent")
        elif target in (states.BOT, states.CLOSED):
            values.update(agent=None, released_at=now, urgent=False, message_left_at=None)
        with self._sessions.begin() as session:
            where = [m.HandoffStateRow.conversation_id == conversation_id, m.HandoffStateRow.state.in_(allowed)]
            if holder is not None:
                where.append(m.HandoffStateRow.agent == holder)
            done = session.execute(update(m.HandoffStateRow).where(and_(*where)).values(**values))
            if done.rowcount == 1:
                return _state(session.get(m.HandoffStateRow, conversation_id, populate_existing=True))
            current = session.get(m.HandoffStateRow, conversation_id)
        if current is None and states.BOT in allowed:  # first handoff of this conversation
            try:
                with self._sessions.begin() as session:
                    session.add(m.HandoffStateRow(conversation_id=conversation_id, **{
                        "channel": "", "reason": "", "urgent": False, **values}))
                return self.state(conversation_id)
            except IntegrityError:  # someone else inserted it first: decide again on the row
                return self.transition(conversation_id, target, holder=holder, **fields)
        raise states.TransitionError(current.state if current else states.BOT, target)

    def request(
        self, conversation_id: str, reason: str, urgent: bool = False, channel: str = "",
        case_id: Optional[int] = None, handoff_id: Optional[int] = None,
    ) -> HandoffState:
        """bot/closed -> queued. Already queued or claimed: unchanged (urgency only ever raised)."""
        try:
            return self.transition(
                conversation_id, states.QUEUED, reason=reason[:64], urgent=urgent, channel=channel[:20],
                case_id=case_id, handoff_id=handoff_id,
            )
        except states.TransitionError:
            if urgent:
                with self._sessions.begin() as session:
                    session.execute(update(m.HandoffStateRow).where(
                        m.HandoffStateRow.conversation_id == conversation_id).values(urgent=True))
            return self.state(conversation_id)

    def claim(self, conversation_id: str, agent: str) -> HandoffState:
        return self.transition(conversation_id, states.CLAIMED, agent=agent)

    def release(self, conversation_id: str, agent: Optional[str] = None) -> HandoffState:
        """Back to the bot; ``agent`` given: only if that agent holds it (or it still waits in the queue)."""
        current = self.state(conversation_id)
        holder = agent if current.state == states.CLAIMED and agent is not None else None
        return self.transition(conversation_id, states.BOT, holder=holder)

    def requeue_from_offline(self, cutoff: datetime) -> List[HandoffState]:
        """Claimed conversations of agents not heard from since ``cutoff`` go back to the queue."""
        with self._sessions() as session:
            query = (
                select(m.HandoffStateRow.conversation_id, m.HandoffStateRow.agent)
                .join(m.ConsoleUserRow, m.ConsoleUserRow.username == m.HandoffStateRow.agent, isouter=True)
                .where(m.HandoffStateRow.state == states.CLAIMED)
                .where((m.ConsoleUserRow.last_seen_at.is_(None)) | (m.ConsoleUserRow.last_seen_at < cutoff))
            )
            stale = list(session.execute(query))
        moved = []
        for conversation_id, agent in stale:
            try:
                moved.append(self.transition(conversation_id, states.QUEUED, holder=agent, queued_at=self.now()))
            except states.TransitionError:
                continue  # released or moved meanwhile
            self.add_message(conversation_id, "system", "", f"客服 {agent} 已离线，对话已回到排队中。")
        return moved

    def handoffs(self, state: Optional[str] = None) -> List[HandoffState]:
        """Queued and claimed conversations (or one state): urgent first, then the longest waiting."""
        wanted = [state] if state else sorted(states.HUMAN_STATES)
        query = (
            select(m.HandoffStateRow)
            .where(m.HandoffStateRow.state.in_(wanted))
            .order_by(m.HandoffStateRow.urgent.desc(), m.HandoffStateRow.queued_at, m.HandoffStateRow.conversation_id)
        )
        with self._sessions() as session:
            return [_state(r) for r in session.execute(query).scalars()]

    def position(self, conversation_id: str) -> int:
        """1 for the next to be served; 0 when not queued."""
        queue = [h.conversation_id for h in self.handoffs(states.QUEUED)]
        return queue.index(conversation_id) + 1 if conversation_id in queue else 0

    def mark_message_left(self, conversation_id: str) -> bool:
        """True the first time a waiting shopper leaves a message while nobody is online."""
        with self._sessions.begin() as session:
            done = session.execute(
                update(m.HandoffStateRow)
                .where(m.HandoffStateRow.conversation_id == conversation_id, m.HandoffStateRow.state == states.QUEUED,
                       m.HandoffStateRow.message_left_at.is_(None))
                .values(message_left_at=self.now())
            )
            return done.rowcount == 1

    # ---- agents and sessions ------------------------------------------------------------

    def add_user(self, username: str, role: str, password_hash: str, display_name: str = "") -> None:
        with self._sessions.begin() as session:
            row = session.get(m.ConsoleUserRow, username)
            if row is None:
                session.add(m.ConsoleUserRow(
                    username=username, role=role, password_hash=password_hash,
                    display_name=display_name or username, created_at=self.now(),
                ))
            else:  # same command again: new password / role
                row.role, row.password_hash = role, password_hash
                row.display_name = display_name or row.display_name

    def user(self, username: str) -> Optional[ConsoleUser]:
        with self._sessions() as session:
            r = session.get(m.ConsoleUserRow, username)
            return ConsoleUser(r.username, r.display_name, r.role, r.password_hash, r.last_seen_at) if r else None

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with self._sessions.begin() as session:
            session.get(m.ConsoleUserRow, username).password_hash = password_hash

    def heartbeat(self, username: str) -> None:
        with self._sessions.begin() as session:
            session.execute(update(m.ConsoleUserRow).where(m.ConsoleUserRow.username == username)
                            .values(last_seen_at=self.now()))

    def agents_online(self, since: datetime) -> int:
        query = select(func.count()).select_from(m.ConsoleUserRow).where(
            m.ConsoleUserRow.role.in_(("agent", "manager")), m.ConsoleUserRow.last_seen_at >= since)
        with self._sessions() as session:
            return int(session.execute(query).scalar_one())

    def create_session(self, token: str, username: str, csrf_token: str, lifetime: timedelta) -> None:
        now = self.now()
        with self._sessions.begin() as session:
            session.execute(delete(m.ConsoleSessionRow).where(m.ConsoleSessionRow.expires_at < now))
            session.add(m.ConsoleSessionRow(token_hash=token_hash(token), username=username,
                                            csrf_token=csrf_token, created_at=now, expires_at=now + lifetime))
        self.heartbeat(username)

    def session(self, token: str) -> Optional[ConsoleSession]:
        """The live session of this cookie, or None (unknown or expired)."""
        query = (
            select(m.ConsoleSessionRow, m.ConsoleUserRow)
            .join(m.ConsoleUserRow, m.ConsoleUserRow.username == m.ConsoleSessionRow.username)
            .where(m.ConsoleSessionRow.token_hash == token_hash(token), m.ConsoleSessionRow.expires_at > self.now())
        )
        with self._sessions() as session:
            found = session.execute(query).first()
        if not found:
            return None
        s, u = found
        return ConsoleSession(u.username, u.display_name, u.role, s.csrf_token, s.expires_at)

    def end_session(self, token: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(m.ConsoleSessionRow).where(m.ConsoleSessionRow.token_hash == token_hash(token)))

    # ---- the human phase of the transcript ------------------------------------------------

    def add_message(self, conversation_id: str, kind: str, author: str, text: str) -> ConsoleMessage:
        row = m.ConsoleMessageRow(conversation_id=conversation_id, kind=kind, author=author or "",
                                  text=text, at=self.now())
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return ConsoleMessage(row.id, row.conversation_id, row.kind, row.author, row.text, row.at)

    def messages(self, conversation_id: str) -> List[ConsoleMessage]:
        query = select(m.ConsoleMessageRow).where(m.ConsoleMessageRow.conversation_id == conversation_id).order_by(
            m.ConsoleMessageRow.id)
        with self._sessions() as session:
            return [ConsoleMessage(r.id, r.conversation_id, r.kind, r.author, r.text, r.at)
                    for r in session.execute(query).scalars()]

    # ---- canned replies --------------------------------------------------------------------

    def canned_replies(self) -> List[CannedReply]:
        with self._sessions() as session:
            rows = session.execute(select(m.CannedReplyRow).order_by(m.CannedReplyRow.code)).scalars()
            return [CannedReply(r.id, r.code, r.text, r.updated_by, r.updated_at) for r in rows]

    def save_canned_reply(self, code: str, text: str, author: str) -> None:
        with self._sessions.begin() as session:
            row = session.execute(select(m.CannedReplyRow).where(m.CannedReplyRow.code == code)).scalar_one_or_none()
            if row is None:
                session.add(m.CannedReplyRow(code=code, text=text, updated_by=author, updated_at=self.now()))
            else:
                row.text, row.updated_by, row.updated_at = text, author, self.now()

    def delete_canned_reply(self, code: str) -> bool:
        with self._sessions.begin() as session:
            return session.execute(delete(m.CannedReplyRow).where(m.CannedReplyRow.code == code)).rowcount == 1

    # ---- promises and ratings -------------------------------------------------------------

    def open_follow_ups(self, conversation_id: Optional[str] = None) -> List[FollowUpView]:
        """Every promise not yet kept, the earliest due (so the overdue) first (R14)."""
        query = select(m.FollowUpRow).where(m.FollowUpRow.done_at.is_(None))
        if conversation_id:
            query = query.where(m.FollowUpRow.conversation_id == conversation_id)
        with self._sessions() as session:
            rows = session.execute(query.order_by(m.FollowUpRow.due_at, m.FollowUpRow.id)).scalars()
            return [FollowUpView(r.id, r.case_id, r.conversation_id, r.promise, r.due_at, r.done_at) for r in rows]

    def agent_ratings(self) -> List[AgentRating]:
        """Ratings given after a human conversation, each against the agent who last held it."""
        query = (
            select(m.RatingRow, m.HandoffStateRow.last_agent)
            .join(m.HandoffStateRow, m.HandoffStateRow.conversation_id == m.RatingRow.conversation_id)
            .where(m.HandoffStateRow.last_agent.is_not(None), m.RatingRow.created_at >= m.HandoffStateRow.claimed_at)
            .order_by(m.RatingRow.id.desc())
        )
        with self._sessions() as session:
            return [AgentRating(agent, r.conversation_id, r.score, r.comment, r.created_at)
                    for r, agent in session.execute(query)]

    def summary_of(self, handoff_id: Optional[int]) -> Dict[str, Any]:
        if not handoff_id:
            return {}
        with self._sessions() as session:
            row = session.get(m.HandoffRow, handoff_id)
            return {"reason": row.reason, "summary": row.summary} if row else {}
