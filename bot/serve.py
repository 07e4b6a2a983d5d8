"""Rasa's command line with the profiled serving fixes of ``bot.serving`` installed first.

    python -m bot.serve run --model models/assistant.tar.gz ...   (what `make run` starts)
    python -m bot.serve test core ...                               (what `make test` runs)

It also installs ``bot.resilience`` (an apology instead of silence when an action, the
action server or the database fails) and masks personal numbers in everything the server
prints (``bot.privacy``). Everything after ``bot.serve`` is Rasa's own arguments; without this wrapper ``rasa run``
still works, only slower (README "Speed").
"""

from __future__ import annotations

import sys


def main() -> None:
    from bot import resilience, serving
    from bot.privacy import install_log_masking

    install_log_masking()  # before Rasa sets up logging, so its handlers write through it
    serving.install()
    resilience.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
