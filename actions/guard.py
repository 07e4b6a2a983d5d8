"""Every action's failure, in one place: logged without personal data, answered without details.

The action server runs each action through ``rasa_sdk``'s ``ActionExecutor.run``. Wrapped
here (installed when the ``actions`` package is imported), an action that raises, for
instance because the database is down or slow, is logged with the action, the conversation
and the error's type and message (personal numbers masked), and the call fails with a
plain "action failed" error, so no SQL parameters or stack trace leave the process. The
Rasa server (``bot.resilience``) turns that failure into the shopper's apology and the
offer of a human, and drops the action's events. Each repository call commits alone or
not at all, so nothing is half-written.

Rasa's own "rejected" signal (forms) and unknown actions pass through unchanged.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.privacy import install_log_masking, mask_personal

logger = logging.getLogger(__name__)


class ActionFailed(Exception):
    """An action failed; the details are in the action server's log, not in the response."""


def _guarded(run: Any) -> Any:
    async def guarded_run(self: ActionExecutor, action_call: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        try:
            return await run(self, action_call)
        except (ActionExecutionRejection, ActionNotFoundException):
            raise
        except Exception as error:
            name = action_call.get("next_action")
            sender = (action_call.get("tracker") or {}).get("sender_id")
            logger.error(
                "action %s failed for %s: %s: %s",
                name,
                sender,
                type(error).__name__,
                mask_personal(str(error))[:300],
            )
            raise ActionFailed(f"action {name} failed") from None

    guarded_run.guarded = True  # type: ignore[attr-defined]
    return guarded_run


def install() -> None:
    """Wrap ``ActionExecutor.run`` (idempotent) and mask personal numbers in the server's output."""
    if not getattr(ActionExecutor.run, "guarded", False):
        ActionExecutor.run = _guarded(ActionExecutor.run)  # type: ignore[assignment]
    install_log_masking()
