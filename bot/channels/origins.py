"""Which web origins may talk to the bot from a browser: configured here, and only here.

``WIDGET_ALLOWED_ORIGINS`` lists the shop's sites (space or comma separated, e.g.
``https://shop.example https://m.shop.example``). Unset, only the bot's own origin may
(the demo page it serves); ``*`` allows every site and has to be written out on purpose.
The widget channel's Socket.IO server checks it on every connection and the channel's
HTTP routes (uploads, ratings, history) answer CORS requests from the same list, so the
two can never disagree. Rasa's own ``--cors`` is not needed (and ``*`` is never passed).
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Union

ENV = "WIDGET_ALLOWED_ORIGINS"


def allowed_origins(value: Optional[str] = None) -> Optional[Union[str, List[str]]]:
    """``None`` (same origin only), ``"*"``, or the list of allowed origins."""
    raw = os.environ.get(ENV, "") if value is None else value
    origins = [o.rstrip("/") for o in re.split(r"[\s,]+", raw.strip()) if o]
    if not origins:
        return None
    return "*" if "*" in origins else origins


def socketio_origins(value: Optional[str] = None) -> Any:
    """What python-socketio's ``cors_allowed_origins`` gets: the server's own origin, always,
    plus the configured ones (or ``*``)."""
    origins = allowed_origins(value)
    if origins is None or origins == "*":
        return origins

    def allowed(origin: Optional[str], environ: Dict[str, Any]) -> bool:
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin is None or origin == own or origin.rstrip("/") in origins

    return allowed


def origin_allowed(origin: Optional[str], own: str, value: Optional[str] = None) -> bool:
    """Whether a browser page from ``origin`` may call the server whose own origin is ``own``."""
    if not origin:
        return False
    origins = allowed_origins(value)
    return origin == own or origins == "*" or (isinstance(origins, list) and origin.rstrip("/") in origins)


def cors_headers(origin: Optional[str], own: str, preflight: bool = False) -> Dict[str, str]:
    """CORS response headers for the widget's HTTP routes (uploads, ratings, history)."""
    if not origin or origin == own or not origin_allowed(origin, own):
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers.update({
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization",
            "Access-Control-Max-Age": "600",
        })  # fmt: skip
    return headers
