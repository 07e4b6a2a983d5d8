"""Which web origins may talk to the bot from a browser: configured here, and only here.

``WIDGET_ALLOWED_ORIGINS`` lists the shop's sites (space or comma separated, e.g.
``https://shop.example https://m.shop.example``). Unset, only the bot's own origin may
(the demo page it serves); ``*`` allows every site and has to be written out on purpose.
The widget channel's Socket.IO server checks it on every connection, and ``python -m
bot.serve`` passes the same list to Rasa's ``--cors`` for the HTTP routes (uploads,
ratings), so the two can never disagree.
"""

from __future__ import annotations

import os
import re
from typing import List, Optional, Union

ENV = "WIDGET_ALLOWED_ORIGINS"


def allowed_origins(value: Optional[str] = None) -> Optional[Union[str, List[str]]]:
    """``None`` (same origin only), ``"*"``, or the list of allowed origins."""
    raw = os.environ.get(ENV, "") if value is None else value
    origins = [o.rstrip("/") for o in re.split(r"[\s,]+", raw.strip()) if o]
    if not origins:
        return None
    return "*" if "*" in origins else origins


def cors_arguments(argv: List[str]) -> List[str]:
    """``--cors`` arguments for Rasa's command line, unless the command line already has some."""
    if "--cors" in argv or argv[:1] != ["run"]:
        return []
    origins = allowed_origins()
    if origins is None:
        return []
    return ["--cors", *(["*"] if origins == "*" else origins)]
