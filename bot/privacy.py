"""Personal numbers out of logs and stored transcripts.

A shopper's mobile number (and a Chinese ID-card number, should one be typed) is
personal data: logs, handoff summaries and the stored conversation keep only the masked
form (138****0013). Order numbers are not personal and stay whole; the last four digits
of a phone, the ownership proof, are never logged by the actions.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from bot.text import MOBILE_RE, mask_phone

# 18-character resident ID numbers: 17 digits and a digit or X
ID_CARD_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# an 11-digit mobile written with separators: 138 0000 0013, 138-0000-0013
SPACED_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d[ -]\d{4}[ -]\d{4}(?!\d)")


def mask_personal(text: Any) -> Any:
    """``text`` with mobile and ID-card numbers masked; anything not a string is returned as is."""
    if not isinstance(text, str) or not any(c.isdigit() for c in text):
        return text
    text = ID_CARD_RE.sub(lambda m: m.group(0)[:3] + "*" * 11 + m.group(0)[-4:], text)
    text = SPACED_MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), text)
    return MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class MaskingStream:
    """A text stream that masks personal numbers in whatever is written to it.

    Installed on stdout, stderr and every logging stream handler of the two servers, so
    Rasa's, Sanic's, structlog's and our own output all pass through it, tracebacks too.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_personal(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install_log_masking() -> None:
    """Mask personal numbers on stdout, stderr and the logging handlers' streams (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            stream = getattr(handler, "stream", None)
            if (
                isinstance(handler, logging.StreamHandler)
                and stream is not None
                and not isinstance(stream, MaskingStream)
            ):
                handler.stream = MaskingStream(stream)
