"""The Rasa action server: thin adapters from Tracker and slots to ``bot`` calls and replies.

Business rules live in ``bot.policy`` and ``bot.bargain``; data in ``bot.store``. The
modules here only translate: read slots, call the core, word the answer, return events.
"""

from actions import guard

guard.install()
