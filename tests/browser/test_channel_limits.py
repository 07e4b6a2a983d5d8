"""The widget channel's limits (issue #11), against the channel alone (echo_app.py) started
with tight limits of its own: messages per conversation, photos per conversation, ratings per
conversation. A conversation over its limit is refused with a Chinese reason; another
conversation is not affected."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import ROOT, Servers, _environment, multipart, photo
from tests.browser.test_channel import Shopper
from tests.integration.conftest import _free_port, serve

TIGHT = {
    "messages_per_minute_conversation": 3,
    "uploads_per_conversation": 2,
    "ratings_per_conversation": 1,
}


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    work = tmp_path_factory.mktemp("tight")
    settings = (ROOT / "bot" / "shop.yml").read_text(encoding="utf-8")
    for key, value in TIGHT.items():
        settings = re.sub(rf"(?m)^(\s*{key}:).*$", rf"\g<1> {value}", settings)
    (work / "shop.yml").write_text(settings, encoding="utf-8")
    env = {**_environment(work), "SHOP_SETTINGS": str(work / "shop.yml")}
    port = _free_port()
    command = [sys.executable, str(Path(__file__).with_name("echo_app.py")), str(port)]
    with serve(work, env, [("echo", command, f"http://127.0.0.1:{port}/widget/")]) as logs:
        yield Servers(f"http://127.0.0.1:{port}", work, logs)


def _conversation() -> str:
    return "web-" + uuid.uuid4().hex


async def test_a_flooding_conversation_is_slowed_and_another_is_not(tight_server):
    flood, calm = Shopper(tight_server.base), Shopper(tight_server.base)
    try:
        await flood.connect()
        answers = [await flood.say(f"第{n}条") for n in range(4)]
        assert all("seq" in a for a in answers[:3])
        assert answers[3]["error"] == "rate_limited" and "稍等" in answers[3]["message"]
        await calm.connect()
        assert "seq" in await calm.say("你好")  # another conversation is not slowed
    finally:
        await flood.close()
        await calm.close()


def test_photos_per_conversation_are_capped(tight_server):
    conversation = _conversation()
    statuses = []
    for n in range(3):
        body, form_type = multipart(
            {"conversation_id": conversation, "cid": f"p{n}"}, "a.png", photo("PNG"), "image/png"
        )
        status, _, raw = tight_server.request("/widget/upload", body, {"Content-Type": form_type})
        statuses.append((status, raw.decode()))
    assert [s for s, _ in statuses] == [201, 201, 429] and "upload_quota" in statuses[2][1]
    assert len(list((tight_server.upload_dir / conversation).iterdir())) == 2
    body, form_type = multipart({"conversation_id": _conversation()}, "a.png", photo("PNG"), "image/png")
    assert tight_server.request("/widget/upload", body, {"Content-Type": form_type})[0] == 201


def test_ratings_per_conversation_are_capped(tight_server):
    conversation = _conversation()
    first = tight_server.post_json("/widget/rating", {"conversation_id": conversation, "score": 5})
    second = tight_server.post_json("/widget/rating", {"conversation_id": conversation, "score": 1})
    assert first[0] == 201 and second[0] == 429 and second[1]["error"] == "rate_limited"
    assert tight_server.rows("SELECT score FROM ratings WHERE conversation_id = ?", conversation) == [(5,)]
