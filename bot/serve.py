"""Rasa's command line with the profiled serving fixes of ``bot.serving`` installed first.

    python -m bot.serve run --model models/assistant.tar.gz ...   (what `make run` starts)
    python -m bot.serve test core ...                               (what `make test` runs)

Everything after ``bot.serve`` is Rasa's own arguments; without this wrapper ``rasa run``
still works, only slower (README "Speed").
"""

from __future__ import annotations

import sys


def main() -> None:
    from bot import serving

    serving.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
