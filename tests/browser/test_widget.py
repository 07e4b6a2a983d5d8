"""The web widget in headless Chromium, on the demo shop page, against the real bot.

One shopper's visit, step by step (the steps share the page, in order): open the widget,
greet, report a colour problem on order 1001000000000004, upload the photo it asks for,
choose a remedy with a quick reply, reload and find the history, send HTML, try photos that are refused, lose
the connection while an agent writes, rate the conversation. Then a phone-sized visit that
asks for an order's status and gets an order card. Screenshots go to tests/output/screenshots/.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from tests.browser.conftest import OTHER_SITE_PORT, photo

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT_JS = "document.querySelector('#shouhou-widget').shadowRoot"
REPLY_SETTLED = f"""([kind, before]) => {{
  const root = {ROOT_JS};
  return root.querySelectorAll('.messages .row.' + kind).length > before && root.querySelector('.typing').hidden;
}}"""
AT_BOTTOM = f"() => {{ const l = {ROOT_JS}.querySelector('.messages'); return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }}"
ANSWERED_CHIPS_ENABLED = f"""() => {{
  const rows = [...{ROOT_JS}.querySelectorAll('.messages .row')];
  const lastUser = rows.map(r => r.classList.contains('user')).lastIndexOf(true);
  return rows.slice(0, lastUser).flatMap(r => [...r.querySelectorAll('.chip:enabled')]).length;
}}"""
XSS = "<img src=x onerror=alert(1)>"
TIMEOUT = 30_000


class Shop:
    """The demo shop page with the widget, as a shopper uses it."""

    def __init__(self, page: Any, base: str, shots: Path) -> None:
        self.page, self.base, self.shots = page, base, shots
        self.dialogs: List[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.set_default_timeout(TIMEOUT)

    def open(self) -> None:
        self.page.goto(self.base + "/widget/demo")
        self.page.locator(".launcher").click()
        self.page.locator(".status.online").wait_for()

    def rows(self, kind: str) -> Any:
        return self.page.locator(f".messages .row.{kind}")

    def texts(self, kind: str) -> List[str]:
        return [
            t.strip()
            for t in self.page.locator(f".messages .row.{kind} .bubble:not(.photo)").all_inner_texts()
        ]

    def wait_for_reply(self, before: int, kind: str = "bot") -> List[str]:
        self.page.wait_for_function(REPLY_SETTLED, arg=[kind, before], timeout=TIMEOUT)
        return [self.rows(kind).nth(i).inner_text() for i in range(before, self.rows(kind).count())]

    def say(self, text: str) -> str:
        """Type and send ``text``; the bot's reply (all its messages), once it has finished."""
        before = self.rows("bot").count()
        self.page.locator(".composer .text").fill(text)
        self.page.keyboard.press("Enter")
        return "\n".join(self.wait_for_reply(before))

    def upload(self, name: str, content: bytes, mime: str) -> None:
        self.page.locator("input.file").set_input_files({"name": name, "mimeType": mime, "buffer": content})

    @property
    def conversation_id(self) -> str:
        return self.page.evaluate("ShouhouWidget.instance.conversationId")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def shop(browser, shop_server, screenshots):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    yield Shop(context.new_page(), shop_server.base, screenshots)
    context.close()


def test_the_demo_shop_embeds_the_widget(shop):
    shop.page.goto(shop.base + "/widget/demo")
    assert shop.page.title().startswith("小禾优选")
    assert shop.page.locator(".launcher").inner_text().strip() == "售后客服"
    shop.open()
    assert shop.conversation_id.startswith("web-")
    assert shop.page.evaluate("localStorage.length") == 1
    shop.shot("01-opened")


def test_greeting_gets_a_reply(shop):
    reply = shop.say("你好")
    assert reply.strip(), "the bot must answer"
    assert shop.texts("user") == ["你好"]
    assert shop.page.locator(".messages .row.bot time").first.inner_text().count(":") == 1
    shop.shot("02-greeting")


def test_a_colour_problem_is_handled_after_proving_the_order(shop):
    assert "订单" in shop.say("我买的羊毛衫颜色和图片差太多了")
    assert "四位" in shop.say("1001000000000004")
    reply = shop.say("0004")
    assert "照片" in reply, "R10: a colour difference needs a daylight photo first"
    chips = shop.rows("bot").last.locator(".chip:enabled").all_inner_texts()
    assert "拍不了照片" in [c.strip() for c in chips]
    shop.shot("03-colour-problem")


def test_a_photo_is_uploaded_shown_and_stored_as_evidence(shop, shop_server):
    before = shop.rows("bot").count()
    png = photo("PNG", (160, 120))
    shop.upload("色差.png", png, "image/png")
    thumbnail = shop.rows("user").last.locator(".bubble.photo img")
    thumbnail.wait_for()
    assert shop.wait_for_reply(before), "the dialogue continues after /send_photo"
    assert "/widget/uploads/" + shop.conversation_id in thumbnail.get_attribute("src")
    assert thumbnail.evaluate("img => img.complete && img.naturalWidth") == 160
    stored = list((shop_server.upload_dir / shop.conversation_id).iterdir())
    assert [p.read_bytes() for p in stored] == [png]
    evidence = shop_server.rows(
        "SELECT case_id, content_type, size FROM evidence WHERE conversation_id = ?", shop.conversation_id
    )
    # the colour case of order …0004: opened here, or continued here from an earlier chat (R15)
    cases = shop_server.rows(
        "SELECT id FROM after_sales_cases WHERE order_id = ? AND kind = 'color_mismatch' AND closed_at IS NULL",
        "1001000000000004",
    )
    assert len(cases) == 1 and evidence == [(cases[0][0], "image/png", len(png))], "filed with the colour case"
    assert shop.rows("bot").last.locator(".chip:enabled").count() > 0, (
        "with the photo, the shop offers remedies"
    )
    shop.shot("04-photo")


def test_a_quick_reply_shows_its_title_and_the_dialogue_goes_on(shop):
    chip = shop.rows("bot").last.locator(".chip:enabled").first
    title = chip.inner_text().strip()
    before = shop.rows("bot").count()
    chip.click()
    assert shop.texts("user")[-1] == title and not title.startswith("/")
    assert shop.wait_for_reply(before)
    assert shop.rows("bot").nth(before - 1).locator(".chip:enabled").count() == 0, "a used group is disabled"
    assert shop.rows("bot").nth(before - 1).locator(".chip.chosen").inner_text().strip() == title
    shop.shot("05-quick-reply")


def test_reloading_the_page_shows_the_history(shop):
    conversation_id = shop.conversation_id
    before: Dict[str, List[str]] = {kind: shop.texts(kind) for kind in ("user", "bot")}
    photos = shop.page.locator(".bubble.photo img").count()
    shop.page.reload()
    shop.open()
    shop.page.wait_for_function(
        f"n => {ROOT_JS}.querySelectorAll('.messages .row.bot').length >= n", arg=len(before["bot"])
    )
    assert shop.conversation_id == conversation_id
    assert {kind: shop.texts(kind) for kind in ("user", "bot")} == before
    assert shop.page.locator(".bubble.photo img").count() == photos == 1
    assert shop.page.evaluate(ANSWERED_CHIPS_ENABLED) == 0, "answered quick replies stay answered"
    shop.shot("06-after-reload")


def test_html_from_the_shopper_is_shown_as_text(shop):
    shop.say(XSS)
    assert shop.texts("user")[-1] == XSS
    assert shop.page.locator(".messages img[src='x']").count() == 0
    assert shop.page.evaluate(f"{ROOT_JS}.querySelectorAll('.messages img:not(.bot-image)').length") == 1
    assert shop.dialogs == []


def test_a_too_large_photo_gets_a_clear_error_and_is_not_sent(shop, shop_server):
    rows = shop.rows("user").count()
    shop.upload("big.jpg", b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024 + 10), "image/jpeg")
    toast = shop.page.locator(".toast")
    toast.wait_for()
    assert "5 MB" in toast.inner_text() and "太大" in toast.inner_text()
    assert shop.rows("user").count() == rows
    assert len(list((shop_server.upload_dir / shop.conversation_id).iterdir())) == 1
    shop.shot("07-photo-too-large")


def test_a_file_that_only_pretends_to_be_a_photo_is_refused_by_the_server(shop, shop_server):
    rows = shop.rows("user").count()
    shop.upload("证据.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")
    shop.page.wait_for_function(f"() => {ROOT_JS}.querySelector('.toast').textContent.includes('WebP')")
    assert "JPEG、PNG 或 WebP" in shop.page.locator(".toast").inner_text()
    shop.page.wait_for_function(
        f"n => {ROOT_JS}.querySelectorAll('.messages .row.user').length === n", arg=rows
    )
    assert len(list((shop_server.upload_dir / shop.conversation_id).iterdir())) == 1


def test_messages_sent_while_the_connection_is_down_arrive_after_it_reconnects_by_itself(shop, shop_server):
    bot_rows = shop.rows("bot").count()
    # a dropped transport (not a deliberate disconnect): the client reconnects by itself, 2 s later
    shop.page.evaluate("""() => {
      const manager = ShouhouWidget.instance.socket.io;
      manager.reconnectionDelay(2000); manager.reconnectionDelayMax(2000); manager.randomizationFactor(0);
      manager.engine.close();
    }""")
    shop.page.locator(".status.offline").wait_for()
    shop.page.locator(".composer .text").fill("我还在等回复")
    shop.page.keyboard.press("Enter")
    assert shop.page.locator(".row.user.pending").count() == 1, "queued while offline"
    shop_server.agent_says(shop.conversation_id, "您好，我是人工客服小王，您的情况我已经了解了。")
    shop_server.agent_says(shop.conversation_id, "色差的照片我们收到了，稍后给您答复。")
    shop.shot("08-offline")
    shop.page.locator(".status.online").wait_for()
    shop.wait_for_reply(bot_rows)  # the queued message went out and was answered
    assert shop.page.locator(".row.pending").count() == 0
    agent = shop.page.locator(".messages .row.agent")
    assert agent.nth(0).locator(".who").inner_text() == "人工客服 · 小王"
    assert [agent.nth(i).locator(".bubble").inner_text() for i in range(agent.count())] == [
        "您好，我是人工客服小王，您的情况我已经了解了。",
        "色差的照片我们收到了，稍后给您答复。",
    ]
    kinds = shop.page.evaluate(f"[...{ROOT_JS}.querySelectorAll('.messages .row')].map(r => r.className)")
    assert [k for k in kinds if "agent" in k or "user" in k][-3:] == ["row agent", "row agent", "row user"]
    shop.shot("09-agent-after-reconnect")


def test_the_shopper_rates_the_conversation(shop, shop_server):
    shop.page.locator(".rate-open").click()
    shop.page.locator(".star[data-score='4']").click()
    shop.page.locator(".rating .comment").fill("处理很快，<b>谢谢</b>")
    shop.shot("10-rating")
    shop.page.locator(".rating .primary").click()
    shop.page.locator(".toast.ok").wait_for()
    assert shop.page.locator(".toast.ok").inner_text() == "感谢您的评价！"
    shop.page.locator(".row.rating").wait_for()
    assert "4 星" in shop.page.locator(".row.rating").inner_text()
    assert shop_server.rows(
        "SELECT score, comment FROM ratings WHERE conversation_id = ?", shop.conversation_id
    ) == [(4, "处理很快，<b>谢谢</b>")]
    shop.shot("11-rated")


def test_on_a_phone_the_widget_fills_the_screen_and_shows_an_order_card(browser, shop_server, screenshots):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        phone = Shop(context.new_page(), shop_server.base, screenshots)
        phone.open()
        assert phone.page.locator(".panel").bounding_box()["width"] == 390
        phone.say("我的订单1001000000000002到哪了")
        phone.say("0002")
        card = phone.page.locator(".order-card").last
        card.wait_for()
        assert card.locator(".order-id").inner_text() == "订单 1001000000000002"
        assert "运动鞋" in card.inner_text() and "¥399.00" in card.inner_text()
        phone.shot("12-phone-order-card")
    finally:
        context.close()


def test_the_history_endpoint_agrees_with_the_page(shop, shop_server):
    status, _, raw = shop_server.request(f"/widget/history?conversation_id={shop.conversation_id}")
    history = json.loads(raw)
    assert status == 200
    senders = [m["sender"] for m in history["messages"]]
    assert senders.count("user") == len(shop.texts("user")) + 1  # + the photo
    assert senders.count("agent") == 2 and senders[-1] == "system"
    assert [m["seq"] for m in history["messages"]] == list(range(1, len(senders) + 1))


@contextlib.contextmanager
def another_site(html: str, port: int = 0) -> Iterator[str]:
    """A plain web server on another local origin that serves ``html`` for every path."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_one_script_tag_embeds_the_widget_on_another_site(browser, shop_server, screenshots):
    """A shop page on another origin: the script tag alone brings the widget, its socket and CORS requests."""
    page_html = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>别的店</title></head>"
        "<body><h1>别的店铺</h1>"
        f"<script src='{shop_server.base}/widget/static/widget.js' data-server='{shop_server.base}'></script>"
        "</body></html>"
    )
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    try:
        with another_site(page_html, OTHER_SITE_PORT) as host:
            other = Shop(context.new_page(), host, screenshots)
            other.page.goto(host + "/")
            other.page.locator(".launcher").click()
            other.page.locator(".status.online").wait_for()
            assert other.say("你好").strip()
            other.upload("photo.webp", photo("WEBP"), "image/webp")  # multipart POST across origins
            other.rows("user").last.locator(".bubble.photo img").wait_for()
            other.page.locator(".rate-open").click()
            other.page.locator(".star[data-score='5']").click()
            other.page.locator(".rating .primary").click()  # JSON: a CORS preflight first
            other.page.locator(".toast.ok").wait_for()
            assert other.page.evaluate("location.origin") == host != shop_server.base
            rows = shop_server.rows(
                "SELECT content_type FROM evidence WHERE conversation_id = ?", other.conversation_id
            )
            assert rows == [("image/webp",)]
    finally:
        context.close()


def test_a_site_that_is_not_allowed_cannot_talk_to_the_bot(browser, shop_server):
    """Origins are allowed in one place (WIDGET_ALLOWED_ORIGINS); any other site's socket is refused."""
    page_html = (
        "<!doctype html><html><head><meta charset='utf-8'></head><body>"
        f"<script src='{shop_server.base}/widget/static/widget.js' data-server='{shop_server.base}'></script>"
        "</body></html>"
    )
    context = browser.new_context()
    try:
        with another_site(page_html) as host:  # a random port: not the allowed OTHER_SITE
            page = context.new_page()
            page.goto(host + "/")
            page.locator(".launcher").click()
            page.wait_for_timeout(3000)
            assert page.locator(".status.online").count() == 0
    finally:
        context.close()
