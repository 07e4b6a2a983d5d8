"""Promises kept (R14): what the bot said it would do, done and reported back unasked.

Every promise a decision makes is a follow-up row with a kind and a due time
(``actions.cases.PROMISE_KINDS``). When one falls due, ``FollowUpRunner`` (started inside the
Rasa server by the widget channel) claims it (a conditional UPDATE, so two runners never send it
twice), words a message from the order's state *now*, sends it into the shopper's conversation
through the widget outbox (an offline shopper sees it on return), and notes it on the case.
``python -m bot followups`` lists what is due and overdue for staff.

Plain Python: no Rasa import. ``deliver`` is any coroutine ``(conversation_id, text)``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Awaitable, Callable, List, Optional

from bot.domain import Case, FollowUp, Order, ShipState
from bot.store.repository import OrderRepository

logger = logging.getLogger(__name__)

Deliver = Callable[[str, str], Awaitable[object]]
Clock = Callable[[], datetime]


def message_for(follow_up: FollowUp, case: Optional[Case], order: Optional[Order],
                evidence_count: int = 0) -> Optional[str]:
    """The words that keep this promise, from the state of the order now; None = nothing to say."""
    kind = follow_up.kind
    if kind == "photo_reminder":
        if evidence_count or (case is not None and (case.detail.get("evidence") or case.closed_at)):
            return None  # the photo came (or the case ended): the promise is kept by itself
        return ("您好，跟您说一声：之前的售后还差一张商品照片，您方便的时候在对话框里点📷上传就行，"
                "收到后我马上接着处理。如果拍不了，也可以回复“转人工”，同事来帮您。")
    if kind == "courier_news":
        return _courier_news(order)
    if kind == "refund_on_return":
        tracking = (order.shipment.return_tracking_no if order else None) or "您提供的单号"
        return (f"您好，跟您同步一下退货进度：退货包裹（{tracking}）我们一直在跟踪，"
                "仓库签收验货后就会原路退款。有任何变化我会第一时间告诉您。")
    if kind == "reship_tracking":
        return ("您好，补发的商品我们已经在安排，仓库出库后新的快递单号会发到这里。"
                "让您久等了，如果急用可以回复“转人工”，我们优先处理。")
    return ("您好，您之前反馈的问题我们一直在跟进，售后同事会按约定给您答复。"
            "如果有新的情况，也可以直接在这里告诉我。")


def _courier_news(order: Optional[Order]) -> str:
    if order is None:
        return "您好，您关心的包裹我们在跟进，有新的进展会马上告诉您。"
    ship = order.shipment
    if ship.state is ShipState.DELIVERED:
        return "您好，跟您同步一下：您的包裹已经签收了。如果没有收到或者有问题，直接回复我就好。"
    latest = max(ship.events, key=lambda e: e.at) if ship.events else None
    where = f"最新动态是「{latest.location}{latest.description}」" if latest else "快递公司还没有更新新的动态"
    return (f"您好，按约定跟您同步包裹进展：{ship.carrier} {ship.tracking_no or ''}，{where}。"
            "我们已经催促快递加快处理，有新的进展会继续告诉您。")


class FollowUpRunner:
    """Keeps due promises: claim, word, deliver, note on the case. One pass = ``run_once``."""

    def __init__(self, repo: OrderRepository, deliver: Deliver, clock: Clock = datetime.utcnow,
                 interval: float = 30.0) -> None:
        self.repo, self.deliver, self.clock, self.interval = repo, deliver, clock, interval

    async def run_once(self) -> List[int]:
        """Keep every promise due now; returns the ids kept. A failure leaves the rest for later."""
        kept = []
        due = await asyncio.to_thread(self.repo.due_follow_ups, self.clock())
        for follow_up in due:
            if not await asyncio.to_thread(self.repo.take_follow_up, follow_up.follow_up_id):
                continue  # another runner has it
            try:
                await self._keep(follow_up)
                kept.append(follow_up.follow_up_id)
            except Exception:  # noqa: BLE001 - one bad promise must not stop the others
                logger.exception("follow-up %s could not be kept; released for the next pass", follow_up.follow_up_id)
                await asyncio.to_thread(self.repo.release_follow_up, follow_up.follow_up_id)
        return kept

    async def _keep(self, follow_up: FollowUp) -> None:
        case = self.repo.get_case(follow_up.case_id) if follow_up.case_id else None
        order = self.repo.get_order(case.order_id) if case else None
        photos = len(self.repo.evidence_for_case(case.case_id)) if case else 0
        text = message_for(follow_up, case, order, photos)
        if text and follow_up.conversation_id:
            await self.deliver(follow_up.conversation_id, text)
        await asyncio.to_thread(self.repo.keep_follow_up, follow_up.follow_up_id, text)

    async def run(self) -> None:
        """Forever, every ``interval`` seconds; errors are logged and the loop goes on."""
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the database is briefly away
                logger.exception("follow-up pass failed; trying again in %s s", self.interval)
            await asyncio.sleep(self.interval)
