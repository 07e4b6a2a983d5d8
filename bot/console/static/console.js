/* 客服工作台: live queue and conversation (server-sent events from /console/api/events), and the
   calls of the console API. Every text is set with textContent; every state-changing call
   sends the page's CSRF token. */
(function () {
  "use strict";
  var me = (document.querySelector('meta[name="me"]') || {}).content || "";
  var page = document.querySelector("[data-page]");
  var kind = page ? page.getAttribute("data-page") : "";
  var SENDERS = { user: "顾客", bot: "助手", agent: "客服", note: "内部备注", system: "系统" };

  var api = window.consoleApi;  // api.js

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function wait(seconds) {
    var m = Math.floor(seconds / 60);
    return m >= 60 ? Math.floor(m / 60) + " 小时 " + (m % 60) + " 分" : m + " 分 " + (seconds % 60) + " 秒";
  }

  function localTime(epoch) {
    var d = new Date(epoch * 1000);
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  /* ---- queue ---- */
  function renderQueue(rows) {
    var body = document.getElementById("queue");
    body.textContent = "";
    if (!rows.length) {
      var tr = el("tr"); var td = el("td", "empty", "现在没有等待的顾客。"); td.colSpan = 6; tr.appendChild(td); body.appendChild(tr);
      return;
    }
    rows.forEach(function (row) {
      var tr = el("tr", row.urgent ? "urgent" : "");
      tr.setAttribute("data-id", row.conversation_id);
      var link = el("a", "", row.conversation_id.slice(0, 12)); link.href = "/console/c/" + encodeURIComponent(row.conversation_id);
      var c1 = el("td"); c1.appendChild(link); c1.appendChild(el("small", "", " " + row.channel));
      var c2 = el("td", "", row.state === "queued" ? "排队中" : "接待中");
      if (row.urgent) c2.appendChild(el("b", "tag", "紧急"));
      if (row.message_left) c2.appendChild(el("span", "tag", "有留言"));
      var c6 = el("td");
      if (row.state === "queued") {
        var b = el("button", "claim", "接入"); b.setAttribute("data-id", row.conversation_id); c6.appendChild(b);
      }
      [c1, c2, el("td", "", row.reason), el("td", "", wait(row.waiting_seconds)), el("td", "", row.agent || ""), c6]
        .forEach(function (c) { tr.appendChild(c); });
      body.appendChild(tr);
    });
  }
  function refreshQueue() { return api("GET", "/handoffs").then(renderQueue).catch(function () {}); }

  document.addEventListener("click", function (event) {
    var t = event.target;
    if (t.classList.contains("claim")) {
      var id = t.getAttribute("data-id");
      api("POST", "/handoffs/" + encodeURIComponent(id) + "/claim").then(function () {
        location.href = "/console/c/" + encodeURIComponent(id);
      }).catch(function (e) { alert(e.message); refreshQueue(); });
    } else if (t.classList.contains("done")) {
      api("POST", "/followups/" + t.getAttribute("data-id") + "/done").then(function () { t.closest("tr").remove(); })
        .catch(function (e) { alert(e.message); });
    } else if (t.classList.contains("flag") && conversation) {
      /* the shopper's message goes to the trainers' inbox (bot/console/trainer_routes.py) */
      var text = t.parentNode.querySelector("p").textContent;
      api("POST", base + "/flag", { text: text }).then(function () { t.textContent = "已交给训练师"; t.disabled = true; })
        .catch(function (e) { say(e.message); });
    } else if (t.classList.contains("delete")) {
      api("POST", "/canned/delete", { code: t.getAttribute("data-code") }).then(function () { t.closest("tr").remove(); })
        .catch(function (e) { alert(e.message); });
    }
  });

  /* ---- conversation ---- */
  var conversation = kind === "conversation" ? page.getAttribute("data-id") : null;
  var base = conversation ? "/handoffs/" + encodeURIComponent(conversation) : "";

  function renderTranscript(lines) {
    var list = document.getElementById("transcript");
    list.textContent = "";
    lines.forEach(function (line) {
      var li = el("li", "line " + line.sender);
      li.appendChild(el("span", "who", (SENDERS[line.sender] || line.sender) + (line.author ? " · " + line.author : "")));
      li.appendChild(el("span", "at", localTime(line.at)));
      li.appendChild(el("p", "", line.text));
      if (line.sender === "user" && line.text) {
        var flag = el("button", "flag", "标记给训练师"); flag.type = "button"; li.appendChild(flag);
      }
      if (line.photo) { var img = el("img", "thumb"); img.src = line.photo; img.alt = "顾客照片"; li.appendChild(img); }
      list.appendChild(li);
    });
    list.scrollTop = list.scrollHeight;
  }
  function refreshCard() {
    return api("GET", base).then(function (card) {
      renderTranscript(card.transcript);
      page.setAttribute("data-state", card.state);
      page.setAttribute("data-agent", card.agent || "");
      var names = { queued: "排队中", claimed: "接待中：" + (card.agent || ""), bot: "助手接待", closed: "已结束" };
      document.getElementById("state").textContent = names[card.state] || card.state;
      document.getElementById("claim").hidden = card.state !== "queued";
      document.getElementById("release").hidden = card.state !== "queued" && card.state !== "claimed";
    }).catch(function () {});
  }
  function say(text) { document.getElementById("act-result").textContent = text; }

  if (conversation) {
    var list = document.getElementById("transcript");
    list.scrollTop = list.scrollHeight;
    document.getElementById("claim").addEventListener("click", function () {
      api("POST", base + "/claim").then(refreshCard).catch(function (e) { say(e.message); });
    });
    document.getElementById("release").addEventListener("click", function () {
      api("POST", base + "/release").then(function () { say("已交回助手。"); refreshCard(); }).catch(function (e) { say(e.message); });
    });
    var reply = document.getElementById("reply");
    var box = reply.elements.text;
    var typingSent = 0, typingIdle = null;
    function typing(on) {
      if (page.getAttribute("data-state") !== "claimed" || page.getAttribute("data-agent") !== me) return;
      var now = Date.now();
      clearTimeout(typingIdle);
      if (on && now - typingSent > 2000) { typingSent = now; api("POST", base + "/typing", { on: true }).catch(function () {}); }
      if (!on && typingSent) { typingSent = 0; api("POST", base + "/typing", { on: false }).catch(function () {}); }
      if (on) typingIdle = setTimeout(function () { typing(false); }, 4000);
    }
    box.addEventListener("input", function () { typing(box.value.trim() !== ""); });
    document.getElementById("draft").addEventListener("click", function () {
      var hint = document.getElementById("draft-hint");
      api("GET", base + "/draft").then(function (d) {
        hint.hidden = false;
        if (d.text) {
          box.value = d.text; // a draft: the agent edits it, nothing is sent until they press send
          box.focus();
          hint.textContent = "助手建议（识别为 " + (d.intent || "?") + "），已放进输入框，请修改后再发送。";
        } else {
          hint.textContent = d.hint || "暂无建议，请直接回复。";
        }
      }).catch(function (e) { say(e.message); });
    });
    document.getElementById("canned-pick").addEventListener("change", function (e) {
      if (e.target.value) { box.value = e.target.value; e.target.value = ""; box.focus(); }
    });
    reply.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = box.value.trim();
      if (!text) return;
      typing(false);
      api("POST", base + "/messages", { text: text }).then(function () { box.value = ""; refreshCard(); })
        .catch(function (e) { say(e.message); });
    });
    var note = document.getElementById("note");
    note.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = note.elements.text.value.trim();
      if (!text) return;
      api("POST", base + "/notes", { text: text }).then(function () { note.elements.text.value = ""; refreshCard(); })
        .catch(function (e) { say(e.message); });
    });
    [["refund", "已批准退款 ¥"], ["offer", "已记录补偿方案 ¥"]].forEach(function (pair) {
      var form = document.getElementById(pair[0]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var amount = form.elements.amount.value.trim();
        api("POST", base + "/" + pair[0], { amount: amount }).then(function (r) {
          say(pair[1] + (r.amount || amount) + (r.created === false ? "（之前已批准，未重复退款）" : "")); refreshCard();
        }).catch(function (e) { say(e.message); });
      });
    });
    var promise = document.getElementById("promise");
    promise.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", base + "/promise", { text: promise.elements.text.value.trim(), hours: Number(promise.elements.hours.value) })
        .then(function () { say("已记录承诺。"); promise.elements.text.value = ""; })
        .catch(function (e) { say(e.message); });
    });
  }

  var cannedForm = document.getElementById("canned-form");
  if (cannedForm) {
    cannedForm.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/canned", { code: cannedForm.elements.code.value.trim(), text: cannedForm.elements.text.value.trim() })
        .then(function () { location.reload(); }).catch(function (e) { alert(e.message); });
    });
  }

  /* ---- live ---- */
  var shopperTyping = document.getElementById("shopper-typing");
  var typingTimer = null;
  var live = document.getElementById("live");
  var source = new EventSource("/console/api/events");
  source.onopen = function () { if (live) live.className = "live on"; };
  source.onerror = function () { if (live) live.className = "live off"; };
  source.onmessage = function (message) {
    var event;
    try { event = JSON.parse(message.data); } catch (e) { return; }
    if (kind === "queue" && (event.type === "queue" || event.type === "message")) refreshQueue();
    if (conversation && event.conversation_id === conversation) {
      if (event.type === "message") refreshCard();
      if (event.type === "typing" && shopperTyping) {
        shopperTyping.hidden = !event.on;
        clearTimeout(typingTimer);
        if (event.on) typingTimer = setTimeout(function () { shopperTyping.hidden = true; }, 8000);
      }
    }
    if (conversation && event.type === "queue") refreshCard();
  };
  if (kind === "queue") setInterval(refreshQueue, 10000); // the wait times keep counting
})();
