"""A test-only input channel that exposes bot.trainer.models inside a real Rasa server.

The console (bot/console) will call the same functions from its own routes; this channel lets
the model-switch test drive them over HTTP without the console's login.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response

from bot.trainer import models


class TrainerTestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "trainer_test"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "TrainerTestInput":
        return cls(Path((credentials or {})["models"]))

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    def blueprint(self, on_new_message: Any) -> Blueprint:
        bp = Blueprint("trainer_test", __name__)

        @bp.post("/activate")
        async def activate(request: Any) -> Any:
            name = request.json["name"]
            return response.json(await models.activate(request.app, models.find(name, self.models_dir),
                                                       self.models_dir, actor="test"))

        @bp.post("/restore")
        async def restore(request: Any) -> Any:
            return response.json(await models.restore(request.app, "test", self.models_dir))

        @bp.post("/parse")
        async def parse(request: Any) -> Any:
            return response.json(await models.parse(request.app, request.json["text"]))

        @bp.get("/status")
        async def status(request: Any) -> Any:
            return response.json({"model": str(request.app.ctx.agent.processor.model_path)})

        return bp
