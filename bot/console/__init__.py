"""The agent console (issue #12): queue, context card, replies, notes, actions, follow-ups.

``bot.console.ConsoleInput`` is listed in credentials.yml; the Rasa server then serves the
console at ``/console`` (pages) and ``/console/api`` (JSON). See README "Handoff and the agent console".
"""

from bot.console.channel import ConsoleInput

__all__ = ["ConsoleInput"]
