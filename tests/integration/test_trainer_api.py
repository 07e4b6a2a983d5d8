"""The trainer's console API against the real Rasa server and action server (issue #14).

Every route answers 401 without a session and 403 to an agent; every POST needs the CSRF
token. A shopper talks over REST, an agent flags messages, and the trainer finds them in the
inbox (masked), annotates one (the example lands in the project's data file with placeholders
and a commit by the trainer), is refused politely for a duplicate, discards another, reads and
exports the conversation, tries the running model, trains a candidate on small data and sees its
comparison, and meets the promotion gate, which only a manager may override; restore goes back.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from tests.integration.servers import Servers
from tests.integration.test_console_api import Agent
from tests.integration.trainer_setup import add_user, models_folder, small_project
from tests.unit.test_trainer_models import relabel

pytestmark = pytest.mark.server
PASSWORD = "训练测试密码-" + uuid.uuid4().hex[:8]

ROUTES = [
    ("GET", "/console/trainer"),
    ("GET", "/console/trainer/review"),
    ("GET", "/console/trainer/models"),
    ("GET", "/console/trainer/try"),
    ("GET", "/console/api/intents"),
    ("GET", "/console/api/inbox"),
    ("GET", "/console/api/inbox/0123456789abcdef"),
    ("POST", "/console/api/inbox/0123456789abcdef/annotate"),
    ("POST", "/console/api/inbox/0123456789abcdef/discard"),
    ("GET", "/console/api/conversations"),
    ("GET", "/console/api/conversations/x"),
    ("POST", "/console/api/conversations/x/export"),
    ("POST", "/console/api/training"),
    ("GET", "/console/api/training"),
    ("GET", "/console/api/training/x"),
    ("GET", "/console/api/models"),
    ("POST", "/console/api/models/cand-pass/activate"),
    ("POST", "/console/api/models/restore"),
    ("POST", "/console/api/parse"),
]


class Setup:
    def __init__(self, servers: Servers, project: Path, models: Path) -> None:
        self.servers, self.project, self.models = servers, project, models
        self.bot = servers.bot
        self.base = servers.bot.base

    def login(self, name: str) -> Agent:
        who = Agent(self.base)
        assert who.login(name, PASSWORD) == 200
        return who


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    work = tmp_path_factory.mktemp("trainer")
    project = small_project(work / "project")
    models = models_folder(work / "models")
    database = f"sqlite:///{work / 'shop.db'}"
    servers = Servers(
        work,
        database,
        {"TRAINER_PROJECT": str(project), "TRAINER_MODELS": str(models), "FOLLOWUP_INTERVAL_SECONDS": "0"},
    )
    servers.seed()
    for name, role in (("li", "trainer"), ("wang", "agent"), ("boss", "manager")):
        add_user(database, name, role, PASSWORD)
    servers.start_all()
    try:
        yield Setup(servers, project, models)
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def trainer(setup: Setup) -> Agent:
    return setup.login("li")


@pytest.fixture(scope="module")
def agent(setup: Setup) -> Agent:
    return setup.login("wang")


def _item(trainer: Agent, text: str, conversation: str) -> Dict[str, Any]:
    status, items = trainer.call("GET", "/console/api/inbox?limit=500")
    assert status == 200
    found = [i for i in items if i["text"] == text and conversation in i["conversations"]]
    assert found, [i["text"] for i in items]
    return found[0]


def test_without_a_session_every_trainer_route_is_401(setup: Setup) -> None:
    stranger = Agent(setup.base)
    for method, path in ROUTES + [("POST", "/console/api/handoffs/x/flag")]:
        status, body = stranger.call(method, path)
        assert status == 401, (method, path, status)
        assert "unauthorized" in json.dumps(body) or "登录" in str(body)


def test_an_agent_gets_403_and_no_trainer_navigation(setup: Setup, agent: Agent) -> None:
    for method, path in ROUTES:
        status, _ = agent.call(method, path)
        assert status == 403, (method, path, status)
    status, html = agent.call("GET", "/console")
    assert (
        status == 200 and "排队与接待" in html and "训练收件箱" not in html and "/console/trainer" not in html
    )
    status, html = agent.call("GET", "/console/trainer")
    assert status == 403 and "没有这个页面的权限" in html


def test_a_trainer_logs_in_and_lands_on_the_inbox(setup: Setup, trainer: Agent) -> None:
    status, me = trainer.call("GET", "/console/api/me")
    assert status == 200 and me["role"] == "trainer"
    status, html = trainer.call("GET", "/console/trainer")
    assert status == 200 and "训练收件箱" in html and "试一试" in html and "排队与接待" not in html
    assert trainer.call("GET", "/console/static/trainer.js")[0] == 200
    assert trainer.call("GET", "/console/api/handoffs")[0] == 403  # the agents' API is not theirs

    # a form login sends a trainer to the inbox; /console itself does too
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    form = urllib.parse.urlencode({"username": "li", "password": PASSWORD}).encode()
    try:
        opener.open(urllib.request.Request(setup.base + "/console/login", data=form), timeout=30)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303 and answer.headers["Location"] == "/console/trainer"
    request = urllib.request.Request(setup.base + "/console", headers={"Cookie": _cookie(trainer)})
    try:
        opener.open(request, timeout=30)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303 and answer.headers["Location"] == "/console/trainer"
    manager = setup.login("boss")
    status, html = manager.call("GET", "/console")
    assert status == 200 and "训练收件箱" in html and "排队与接待" in html  # a manager sees both sides


def _cookie(who: Agent) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in who.jar)


def test_state_changes_need_the_csrf_token(setup: Setup, trainer: Agent) -> None:
    for method, path in ROUTES:
        if method == "POST":
            status, body = trainer.call(method, path, {}, csrf="forged")
            assert (status, body["error"]) == (403, "csrf"), path


def test_flag_annotate_and_discard(setup: Setup, trainer: Agent, agent: Agent) -> None:
    shopper = "shopper-" + uuid.uuid4().hex[:8]
    setup.bot.say(shopper, "你好")
    said = "我手机13912345678买的那个东西咋整啊"
    setup.bot.say(shopper, said)
    setup.bot.say(shopper, "拜拜啦")
    # an agent sends two of the shopper's messages to the trainers; a trainer may not
    assert (
        agent.call("POST", f"/console/api/handoffs/{shopper}/flag", {"text": said, "note": "没听懂"})[0]
        == 201
    )
    assert agent.call("POST", f"/console/api/handoffs/{shopper}/flag", {"text": "你好"})[0] == 201
    assert agent.call("POST", f"/console/api/handoffs/{shopper}/flag", {"text": "拜拜啦"})[0] == 201
    assert agent.call("POST", f"/console/api/handoffs/{shopper}/flag", {"text": "x" * 1001})[0] == 422
    assert trainer.call("POST", f"/console/api/handoffs/{shopper}/flag", {"text": "你好"})[0] == 403

    item = _item(trainer, "我手机139****5678买的那个东西咋整啊", shopper)  # masked on the screen
    assert "flagged" in item["reasons"] and item["conversation_id"] == shopper
    assert any(t["this"] and t["speaker"] == "user" for t in item["context"])
    assert all("13912345678" not in t["text"] for t in item["context"])
    assert trainer.call("GET", f"/console/api/inbox/{item['id']}")[1]["id"] == item["id"]
    assert trainer.call("GET", "/console/api/inbox?reason=flagged")[0] == 200
    assert trainer.call("GET", "/console/api/inbox?reason=nonsense")[0] == 422

    # polite refusals: no intent of that name, a bad entity, broken JSON, an unknown item
    path = f"/console/api/inbox/{item['id']}/annotate"
    status, body = trainer.call("POST", path, {"intent": "no_such_intent"})
    assert (status, body["error"]) == (422, "unknown_intent") and "意图" in body["message"]
    status, body = trainer.call(
        "POST", path, {"intent": "quality_issue", "entities": [{"start": 0, "end": 1, "entity": "x"}]}
    )
    assert (status, body["error"]) == (422, "unknown_entity")
    status, body = trainer.call("POST", path, {"intent": "quality_issue", "entities": "phone"})
    assert (status, body["error"]) == (422, "bad_entities")
    status, body = _raw(trainer, path, b"{not json")
    assert (status, body["error"]) == (400, "bad_json")
    assert trainer.call("POST", "/console/api/inbox/ffffffffffffffff/annotate", {"intent": "greet"})[0] == 404

    # the correction: intent and the phone marked as an entity, saved with a placeholder
    start = item["text"].index("139")
    status, saved = trainer.call(
        "POST",
        path,
        {"intent": "quality_issue", "entities": [{"start": start, "end": start + 11, "entity": "phone"}]},
    )
    assert status == 200, saved
    assert saved["added"][0]["line"] == "我手机[13800000000](phone)买的那个东西咋整啊"
    data_file = setup.project / "data" / "nlu" / saved["added"][0]["file"]
    assert "- 我手机[13800000000](phone)买的那个东西咋整啊" in data_file.read_text(encoding="utf-8")
    assert "13912345678" not in data_file.read_text(encoding="utf-8")
    assert saved["commit"] and "li" in _git(setup.project, "log", "-1", "--format=%an")
    assert trainer.call("GET", f"/console/api/inbox/{item['id']}")[0] == 404  # it left the inbox
    assert trainer.call("POST", path, {"intent": "quality_issue"})[0] == 404

    # 你好 is already an example of greet: labelled otherwise it is refused, in Chinese, with the code
    hello = _item(trainer, "你好", shopper)
    status, body = trainer.call("POST", f"/console/api/inbox/{hello['id']}/annotate", {"intent": "thank"})
    assert (status, body["error"]) == (422, "duplicate_example"), body
    assert "greet" in body["message"] and body["reason"] == "already an example of greet"

    # nothing to learn: discarded, gone for good
    bye = _item(trainer, "拜拜啦", shopper)
    assert trainer.call("POST", f"/console/api/inbox/{bye['id']}/discard")[0] == 200
    assert trainer.call("POST", f"/console/api/inbox/{bye['id']}/discard")[0] == 404
    assert all(i["id"] != bye["id"] for i in trainer.call("GET", "/console/api/inbox")[1])


def _raw(who: Agent, path: str, body: bytes) -> Any:
    request = urllib.request.Request(
        who.base + path,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-CSRF-Token": who.csrf},
    )
    try:
        with who.opener.open(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _git(where: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True).stdout


def test_review_a_conversation_and_export_it_as_a_test(setup: Setup, trainer: Agent) -> None:
    shopper = "review-" + uuid.uuid4().hex[:8]
    setup.bot.say(shopper, "你好")
    setup.bot.say(shopper, "转人工")
    status, found = trainer.call("GET", f"/console/api/conversations?q={shopper}&handed_off=true")
    assert status == 200 and [c["conversation_id"] for c in found] == [shopper] and found[0]["handed_off"]
    assert trainer.call("GET", f"/console/api/conversations?q={shopper}&handed_off=false")[1] == []
    assert trainer.call("GET", "/console/api/conversations?handed_off=maybe")[0] == 422
    status, conversation = trainer.call("GET", f"/console/api/conversations/{shopper}")
    users = [t for t in conversation["turns"] if t["speaker"] == "user"]
    assert [t["text"] for t in users] == ["你好", "转人工"] and users[0]["intent"] == "greet"
    assert 0 < users[0]["confidence"] <= 1 and any(t["speaker"] == "handoff" for t in conversation["turns"])
    status, exported = trainer.call("POST", f"/console/api/conversations/{shopper}/export")
    assert status == 201 and exported["path"] == f"tests/conversations/test_export_{shopper}.yml"
    assert "intent: greet" in (setup.project / exported["path"]).read_text(encoding="utf-8")
    assert trainer.call("GET", "/console/api/conversations/nobody-here")[0] == 404
    assert trainer.call("POST", "/console/api/conversations/nobody-here/export")[0] == 404


def test_try_the_running_model(setup: Setup, trainer: Agent) -> None:
    status, reading = trainer.call("POST", "/console/api/parse", {"text": "我要退货"})
    assert status == 200 and reading["intent"]["name"] == "request_return"
    assert 0 < reading["intent"]["confidence"] <= 1 and isinstance(reading["entities"], list)
    status, reading = trainer.call("POST", "/console/api/parse", {"text": "藏青色的XL码能换吗"})
    assert {e["entity"] for e in reading["entities"]} >= {"color"}
    for body in ({"text": "字" * 1001}, {"text": "  "}, {"text": 5}, {}):
        status, refused = trainer.call("POST", "/console/api/parse", body)
        assert status == 422 and refused["message"], body
    assert _raw(trainer, "/console/api/parse", b"[1, 2")[0] == 400


def test_the_gate_overrides_and_restore(setup: Setup, trainer: Agent) -> None:
    manager = setup.login("boss")
    status, listed = trainer.call("GET", "/console/api/models")
    names = {m["name"]: m for m in listed}
    assert status == 200 and {"cand-pass", "cand-fail", "assistant"} <= set(names)
    assert names["assistant"]["active"] and names["cand-fail"]["gate"]["passed"] is False
    assert names["cand-pass"]["gate"]["passed"] is True and names["cand-pass"]["newest"]

    status, closed = trainer.call("POST", "/console/api/models/cand-fail/activate")
    assert status == 409 and closed["error"] == "gate_closed" and closed["can_override"] is False
    assert closed["reasons"] == ["团队留出集：意图 greet 的 F1 从 0.900 降到 0.500"]
    status, body = trainer.call("POST", "/console/api/models/cand-fail/activate", {"override_reason": "急用"})
    assert (status, body["error"]) == (403, "manager_only")
    assert manager.call("POST", "/console/api/models/cand-fail/activate")[1]["can_override"] is True
    status, switched = manager.call(
        "POST", "/console/api/models/cand-fail/activate", {"override_reason": "大促急用"}
    )
    assert status == 200 and switched["active"] == "cand-fail"
    registry = json.loads((setup.models / "registry.json").read_text())
    assert registry["overrides"][-1]["by"] == "boss" and registry["overrides"][-1]["reason"] == "大促急用"

    status, switched = trainer.call("POST", "/console/api/models/cand-pass/activate")
    assert status == 200 and (switched["active"], switched["previous"]) == ("cand-pass", "cand-fail")
    assert (
        trainer.call("POST", "/console/api/parse", {"text": "我要退货"})[1]["intent"]["name"]
        == "request_return"
    )
    status, restored = trainer.call("POST", "/console/api/models/restore")
    assert status == 200 and restored["active"] == "cand-fail"
    active = [m["name"] for m in trainer.call("GET", "/console/api/models")[1] if m["active"]]
    assert active == ["cand-fail"]
    assert _running(trainer) == "cand-fail"

    # another replica switched (it wrote the registry): this server follows within seconds
    relabel(setup.models / "candidates" / "cand-pass.tar.gz", setup.models / "candidates" / "cand-other.tar.gz",
            "a-model-another-replica-promoted")
    registry = json.loads((setup.models / "registry.json").read_text())
    registry.update(active="cand-other", previous="cand-fail")
    (setup.models / "registry.json").write_text(json.dumps(registry))
    deadline = time.time() + 60
    while _running(trainer) != "cand-other" and time.time() < deadline:
        time.sleep(0.5)
    assert _running(trainer) == "cand-other"
    assert "could not follow" not in setup.servers.log_text()
    for name in ("no-such-model", ".hidden"):
        assert trainer.call("POST", f"/console/api/models/{name}/activate")[0] == 404
    assert trainer.call("POST", "/console/api/models/cand-pass/activate", {"override_reason": 7})[0] == 422


def _running(who: Agent) -> str:
    return next(m["name"] for m in who.call("GET", "/console/api/models")[1] if m["running"])


def test_training_on_small_data_with_live_progress(setup: Setup, trainer: Agent) -> None:
    status, started = trainer.call("POST", "/console/api/training")
    assert status == 202 and started["id"]
    seen, deadline = [], time.time() + 420
    while time.time() < deadline:
        status, run = trainer.call("GET", f"/console/api/training/{started['id']}")
        assert status == 200 and 0 <= run["progress"] <= 1
        seen.append(run["state"])
        if run["state"] in ("done", "failed"):
            break
        time.sleep(2)
    assert run["state"] == "done", run
    assert run["progress"] == 1.0 and {"training", "evaluating"} & set(seen)
    heldout = run["evaluation"]["sets"][0]
    assert heldout["name"] == "heldout" and heldout["messages"] == 6
    assert set(heldout["per_intent_f1"]) == {"greet", "request_return", "ask_human"}
    assert "active_macro_f1" in heldout and "newly_failing" in run["evaluation"]["conversations"]
    assert run["gate"] is not None and "passed" in run["gate"]
    listed = trainer.call("GET", "/console/api/models")[1]
    assert listed[0]["name"] == started["id"] and listed[0]["newest"]
    assert started["id"] in [r["id"] for r in trainer.call("GET", "/console/api/training")[1]]
    assert trainer.call("GET", "/console/api/training/no-such-run")[0] == 404
