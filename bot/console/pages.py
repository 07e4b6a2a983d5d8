"""Server-rendered console pages (Jinja2, autoescaped) and the console's own static files."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import response
from sanic.response import HTTPResponse

HERE = Path(__file__).resolve().parent
STATIC = {
    "api.js": "application/javascript; charset=utf-8",
    "console.js": "application/javascript; charset=utf-8",
    "trainer.js": "application/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'",
}
SENDERS = {"user": "顾客", "bot": "助手", "agent": "客服", "note": "内部备注", "system": "系统"}
ROLE_NAMES = {"agent": "客服", "trainer": "训练师", "manager": "主管"}


def _local(moment: Any) -> str:
    """A naive-UTC datetime or an epoch float as Shanghai time."""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, tz=timezone.utc)
    elif isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M") if moment else ""


def _wait(seconds: int) -> str:
    minutes = int(seconds) // 60
    return f"{minutes // 60} 小时 {minutes % 60} 分" if minutes >= 60 else f"{minutes} 分 {int(seconds) % 60} 秒"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters["local"] = _local
    env.filters["wait"] = _wait
    env.globals["senders"] = SENDERS
    env.globals["role_names"] = ROLE_NAMES
    return env


def render(template: str, session: Any = None, status: int = 200, **context: Any) -> HTTPResponse:
    html = _env().get_template(template).render(me=session, **context)
    return response.html(html, status=status, headers=HEADERS)


def home(role: str) -> str:
    """Where an account lands after logging in: trainers on their inbox, agents and managers on the queue."""
    return "/console/trainer" if role == "trainer" else "/console"


def forbidden_page(session: Any) -> HTTPResponse:
    return render("forbidden.html", session, status=403, home=home(session.role))


def login_page(status: int = 401, error: str = "") -> HTTPResponse:
    return render("login.html", None, status=status, error=error)


async def static(name: str) -> HTTPResponse:
    if name not in STATIC:
        return response.json({"error": "not_found", "message": "没有这个文件。"}, status=404)
    return await response.file(HERE / "static" / name, mime_type=STATIC[name], headers={"Cache-Control": "no-cache"})
