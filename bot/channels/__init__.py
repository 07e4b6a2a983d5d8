"""Rasa input channels of the product: the shopper's web widget (``bot.channels.widget``).

``outbox`` is plain Python; ``widget`` is the Rasa/Sanic/Socket.IO adapter around it.
"""
