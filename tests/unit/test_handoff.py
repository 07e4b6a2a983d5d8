"""The handoff summary an agent reads (R15)."""

from bot.handoff import summarize, transcript


def _user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_summary_carries_facts_and_history_with_masked_phone():
    events = [
        _user("衣服颜色和图片差太多了", "color_mismatch"),
        {"event": "bot", "text": "非常抱歉，请提供订单号"},
        _user("转人工", "ask_human"),
    ]
    slots = {"verified_order": "1001000000000004", "phone": "13800000004", "pending_request": "color_mismatch"}
    summary = summarize(events, slots)
    assert summary.reason == "顾客要求人工"
    assert "1001000000000004" in summary.text and "已核对身份" in summary.text
    assert "13800000004" not in summary.text and "138****0004" in summary.text
    assert "顾客：衣服颜色和图片差太多了" in summary.text
    assert "助手：非常抱歉，请提供订单号" in summary.text


def test_locked_order_is_the_reason():
    summary = summarize([_user("1234", "inform_order")], {"order_locked": True, "order_id": "1001000000000004"})
    assert summary.reason == "身份核对失败三次"
    assert "未核对身份" in summary.text


def test_transcript_keeps_the_latest_lines():
    events = [_user(f"消息{i}", "greet") for i in range(100)]
    lines = transcript(events, max_lines=10)
    assert len(lines) == 10 and lines[-1] == "顾客：消息99"
