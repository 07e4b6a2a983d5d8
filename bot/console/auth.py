"""Console accounts, sessions and the guards every console route goes through.

Passwords: argon2id from argon2-cffi (hash, verify, rehash when its parameters change). The
session cookie is 32 random bytes (``secrets``) that the database knows only by SHA-256, with
an expiry; each session has its own CSRF token, which every state-changing call must send in
``X-CSRF-Token``. Failed logins are counted per address and per account name, and refused
(429) past a limit. Without a valid session every console page and API answers 401 and says
nothing else.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.store.console import ConsoleRepository, ConsoleSession

COOKIE = "console_session"
ROLES = ("agent", "trainer", "manager")
CONSOLE_ROLES = ("agent", "manager")  # the agents' pages: trainers work on the training data, not with shoppers
TRAINER_ROLES = ("trainer", "manager")  # the trainer's pages (bot/console/trainer_routes.py)
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0  # seconds

_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))  # so an unknown name costs as much as a wrong password


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    return _hasher.hash(password)


def check_password(repo: ConsoleRepository, username: str, password: str) -> bool:
    user = repo.user(username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        repo.set_password_hash(username, _hasher.hash(password))
    return True


class LoginLimiter:
    """At most MAX_FAILURES failed logins per address and per name in FAILURE_WINDOW seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures: Dict[str, Deque[float]] = defaultdict(deque)
        self._clock = clock
        self._lock = threading.Lock()

    def _recent(self, key: str) -> Deque[float]:
        times, cutoff = self._failures[key], self._clock() - FAILURE_WINDOW
        while times and times[0] < cutoff:
            times.popleft()
        return times

    def retry_after(self, keys: Iterable[str]) -> int:
        """Seconds to wait, 0 when a login may be tried."""
        with self._lock:
            waits = [
                int(FAILURE_WINDOW - (self._clock() - t[0])) + 1
                for t in (self._recent(k) for k in keys)
                if len(t) >= MAX_FAILURES
            ]
        return max(waits, default=0)

    def failed(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self._clock())

    def succeeded(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def new_session(repo: ConsoleRepository, username: str, hours: int) -> Tuple[str, str]:
    """(cookie value, csrf token) of a fresh session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    repo.create_session(token, username, csrf, timedelta(hours=hours))
    return token, csrf


def set_cookie(resp: HTTPResponse, request: Request, token: str, hours: int) -> None:
    resp.cookies[COOKIE] = token
    cookie = resp.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/console"
    cookie["max-age"] = hours * 3600
    if request.scheme == "https":
        cookie["secure"] = True


def unauthorized(page: bool) -> HTTPResponse:
    if page:
        from bot.console.pages import login_page

        return login_page(status=401)
    return response.json({"error": "unauthorized", "message": "请先登录客服工作台。"}, status=401)


Handler = Callable[..., Awaitable[HTTPResponse]]


def guarded(
    repo: Callable[[], ConsoleRepository],
    handler: Handler,
    *,
    page: bool = False,
    changes: bool = False,
    roles: Tuple[str, ...] = CONSOLE_ROLES,
) -> Handler:
    """The handler only for a live session of one of ``roles``; ``changes`` also needs the CSRF token."""

    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        token = request.cookies.get(COOKIE) or ""
        session: Optional[ConsoleSession] = await asyncio.to_thread(repo().session, token) if token else None
        if session is None:
            return unauthorized(page)
        if session.role not in roles:
            if page:  # a page of the other side of the console: their own home, or a polite 403 page
                from bot.console.pages import forbidden_page, home

                if request.path.rstrip("/") == "/console" and request.method == "GET":
                    return response.redirect(home(session.role), status=303)
                return forbidden_page(session)
            return response.json({"error": "forbidden", "message": "您的账号没有这个权限。"}, status=403)
        if changes:
            sent = request.headers.get("x-csrf-token") or (request.form.get("csrf_token") if request.form else "")
            if not hmac.compare_digest(str(sent or "").encode(), session.csrf_token.encode()):
                return response.json({"error": "csrf", "message": "页面已过期，请刷新后再试。"}, status=403)
        request.ctx.console = session
        request.ctx.token = token
        return await handler(request, *args, **kwargs)

    wrapped.__name__ = getattr(handler, "__name__", "console_route")
    return wrapped
