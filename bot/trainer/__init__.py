"""The trainer's loop (issue #14) as a plain-Python library, with no web and no auth.

- ``inbox``: what the bot misunderstood, read from the tracker store on demand;
- ``privacy``: personal data masked for screens, replaced by placeholders for training data;
- ``writer``: corrections written into ``data/nlu/*.yml`` as a person would, validated, committed;
- ``export``: one real conversation as a conversation test;
- ``training``: a candidate model trained in the background and evaluated next to the active one;
- ``models``: the list of models, the promotion gate, a model switch without downtime, parse.

The console (bot/console) wires these into its routes; nothing here knows about HTTP.
"""
