"""Who the shopper is: the shop's signed word, or a proof with a lock-out (issue #11).

Two ways to know an order is the shopper's:

1. **The shop says so.** A shop's page knows its signed-in customer. It passes the customer
   id to the widget together with ``HMAC-SHA256(secret, customer id)`` in hex, computed on
   the shop's server with a secret only the shop and the bot know (``SHOP_IDENTITY_SECRET``
   in the environment, never in the repository), the way Intercom's identity verification
   works. The widget channel checks it in constant time; a verified customer's own orders
   need no further proof. A missing or wrong signature counts as no identity at all.
2. **A proof**: the last four digits of the phone the order was placed with. Wrong proofs
   are counted per order number in the database, across conversations (so a new
   conversation does not start the count again); ``max_proof_failures`` within the window
   lock that number out for ``lockout_minutes``. Every 16-digit number is treated alike,
   whether or not such an order exists, so the replies do not tell which orders exist.

Plain Python, no Rasa.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import datetime, timedelta
from typing import Iterable, Optional

SECRET_ENV = "SHOP_IDENTITY_SECRET"
CUSTOMER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def sign_customer(customer_id: str, secret: str) -> str:
    """The signature a shop's server puts next to the customer id (hex HMAC-SHA256)."""
    return hmac.new(secret.encode("utf-8"), customer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def verified_customer(customer_id: object, signature: object, secret: Optional[str] = None) -> Optional[str]:
    """``customer_id`` if ``signature`` is the shop's for it, else None (constant-time compare).

    Without a configured secret nobody is verified: identity falls back to the proof.
    """
    secret = os.environ.get(SECRET_ENV) if secret is None else secret
    if not secret or not isinstance(customer_id, str) or not isinstance(signature, str):
        return None
    if not CUSTOMER_ID.fullmatch(customer_id) or len(signature) > 128:
        return None
    expected = sign_customer(customer_id, secret)
    return customer_id if hmac.compare_digest(expected.encode(), signature.strip().lower().encode()) else None


def locked_until(
    failures: Iterable[datetime], now: datetime, max_failures: int, lockout_minutes: int
) -> Optional[datetime]:
    """When the lock on an order number ends, or None if it is not locked now.

    ``failures`` are the wrong proofs within the counting window. With ``max_failures`` of
    them the number is locked until ``lockout_minutes`` after the latest; after that, while
    the older ones are still in the window, one more wrong proof locks it again at once.
    """
    recent = sorted(failures)
    if max_failures < 1 or len(recent) < max_failures:
        return None
    until = recent[-1] + timedelta(minutes=lockout_minutes)
    return until if until > now else None


def attempts_left(failures: Iterable[datetime], max_failures: int) -> int:
    return max(0, max_failures - len(list(failures)))
