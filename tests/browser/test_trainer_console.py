"""A trainer in Chromium: the inbox, a correction written to the data, the models page (issue #14).

A shopper's conversation is played through the REST channel first; the trainer logs in (and
lands on the inbox), finds that real message (the shopper's name masked), marks a colour as an
entity by selecting it, corrects the intent with the searchable picker and saves. The example is
then in the project's data file on disk, with the placeholder 某某 instead of the shopper's name.
The models page shows the candidates with their comparison, and the gate refuses a trainer.
An agent's browser gets no trainer navigation and a 403 page. Screenshots of the inbox and the
models page go to docs/ (the README shows them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.server]
TIMEOUT = 30_000
PASSWORD = "训练师浏览器测试-" + uuid.uuid4().hex[:8]
MESSAGE = "我叫王小明，那个那个焦糖"  # a name and a colour the model does not know
SHOWN = "我叫***，那个那个焦糖"


def _account(shop_server: Any, name: str, role: str) -> str:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{shop_server.work / 'shop.db'}")
    subprocess.run([sys.executable, "-m", "bot", "users", "add", name, "--role", role],
                   cwd=ROOT, env=env, input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
    return name


def _say(base: str, sender: str, text: str) -> None:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(base + "/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200


def _login(page: Any, base: str, name: str) -> None:
    page.goto(base + "/console")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")


def test_a_trainer_corrects_a_real_message(browser: Any, shop_server: Any) -> None:
    base, project = shop_server.base, Path(shop_server.work / "trainer-project")
    shopper = "trainer-ui-" + uuid.uuid4().hex[:8]
    for text in ("你好", MESSAGE):
        _say(base, shopper, text)
    trainer = _account(shop_server, "trainer_li", "trainer")
    context = browser.new_context(viewport={"width": 1360, "height": 860}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        _login(page, base, trainer)
        page.wait_for_url("**/console/trainer")  # trainers land on the inbox
        assert page.locator("nav .trainer-nav").count() == 4 and page.locator("nav .agent-nav").count() == 0
        item = page.locator("#inbox li.item", has_text=SHOWN)
        item.wait_for()
        assert "置信度低" in item.inner_text() and "×1" in item.inner_text()
        assert "王小明" not in page.content()
        item.click()
        assert page.locator("#item-text").inner_text() == SHOWN
        page.locator("#context .line.this", has_text=SHOWN).wait_for()

        # the colour marked by selecting it, as a trainer does with the mouse
        page.evaluate("""([start, end]) => {
            const node = document.getElementById('item-text').firstChild, range = document.createRange();
            range.setStart(node, start); range.setEnd(node, end);
            const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        }""", [SHOWN.index("焦糖"), SHOWN.index("焦糖") + 2])
        page.locator("#entity-bar").wait_for(state="visible")
        page.select_option("#entity-type", "color")
        page.click("#mark-entity")
        assert page.locator("#entities .chip").inner_text().startswith("[焦糖](color)")
        page.fill("#intent", "color_")  # the searchable picker: the domain's intents
        options = page.eval_on_selector_all("#intent-list option", "os => os.map(o => o.value)")
        assert "color_mismatch" in options and "ask_human" in options
        page.fill("#intent", "color_mismatch")
        page.screenshot(path=str(ROOT / "docs" / "trainer-inbox.png"))
        page.click("#annotate button[type=submit]")
        page.locator("#inbox-status", has_text="已写入").wait_for(timeout=60_000)
        page.locator("#inbox li.item", has_text=SHOWN).wait_for(state="detached", timeout=10_000)

        written = (project / "data" / "nlu" / "product.yml").read_text(encoding="utf-8")
        assert "- 我叫某某，那个那个[焦糖](color)\n" in written  # the name replaced by the placeholder
        assert "王小明" not in written

        # the models page: candidates, the comparison, and the gate a trainer cannot pass
        page.click("nav a[href='/console/trainer/models']")
        page.locator("#models tr[data-name='cand-fail']").wait_for()
        page.locator("#comparison .set").wait_for()
        page.locator("#models tr[data-name='cand-fail'] button.activate").click()
        page.locator("#gate-reasons li", has_text="greet").wait_for()
        assert page.locator("#override-form").is_hidden()  # only a manager may override
        page.locator("#models tr[data-name='cand-fail'] button.compare").click()
        page.locator("#comparison tr.worse", has_text="greet").first.wait_for()
        page.screenshot(path=str(ROOT / "docs" / "trainer-models.png"), full_page=True)

        page.click("nav a[href='/console/trainer/try']")
        page.fill("#parse textarea", "我要退货")
        page.click("#parse button[type=submit]")
        page.locator("#parse-intent", has_text="request_return").wait_for()
    finally:
        context.close()


def test_an_agent_sees_no_trainer_pages(browser: Any, shop_server: Any) -> None:
    agent = _account(shop_server, "agent_zhao", "agent")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        _login(page, shop_server.base, agent)
        page.locator("h1", has_text="排队与接待").wait_for()
        assert page.locator("nav .trainer-nav").count() == 0 and "训练收件箱" not in page.content()
        assert page.goto(shop_server.base + "/console/trainer").status == 403
        assert "没有这个页面的权限" in page.content()
        status = page.evaluate("async () => (await fetch('/console/api/inbox')).status")
        assert status == 403
    finally:
        context.close()
