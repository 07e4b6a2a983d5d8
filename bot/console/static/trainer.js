/* 训练工作台: the trainer's inbox, conversation review, training and models, and the "try it" box.
   Plain JavaScript over /console/api; every text is set with textContent; every state-changing
   call sends the page's CSRF token. Entity spans are sent in characters (code points), as
   Python counts them, not in the UTF-16 units the browser's selection uses. */
(function () {
  "use strict";
  var page = document.querySelector("[data-page]");
  var kind = page ? page.getAttribute("data-page") : "";
  var REASONS = { low_confidence: "置信度低", ambiguous: "两个意图难分", before_handoff: "转人工前",
    before_low_rating: "差评前", flagged: "客服标记" };
  var STATES = { queued: "排队中", training: "训练中", evaluating: "评估中", done: "已完成", failed: "失败" };
  var SPEAKERS = { user: "顾客", bot: "助手", handoff: "转人工" };

  var api = window.consoleApi;  // api.js

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function $(id) { return document.getElementById(id); }
  function pct(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }
  function f1(x) { return x === null || x === undefined ? "—" : x.toFixed(3); }
  function localTime(value) {
    var d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }
  function codePoints(text, units) { return Array.from(text.slice(0, units)).length; }
  function turnLine(turn) {
    var li = el("li", "line " + (turn.speaker === "handoff" ? "system" : turn.speaker) + (turn.this ? " this" : ""));
    li.appendChild(el("span", "who", SPEAKERS[turn.speaker] || turn.speaker));
    if (turn.speaker === "user") {
      li.appendChild(el("span", "nlu" + (turn.fell_back ? " fell" : ""), (turn.intent || "—") + " " + pct(turn.confidence)));
    }
    li.appendChild(el("p", "", turn.speaker === "handoff" ? "（转给人工客服）" : turn.text));
    return li;
  }

  /* ---- 训练收件箱 ---- */
  if (kind === "inbox") {
    var current = null, entities = [], selection = null;
    var list = $("inbox"), filter = $("inbox-filter");

    var loadInbox = function () {
      var params = new URLSearchParams();
      if (filter.elements.reason.value) params.set("reason", filter.elements.reason.value);
      if (filter.elements.q.value.trim()) params.set("q", filter.elements.q.value.trim());
      return api("GET", "/inbox?" + params.toString()).then(function (items) {
        list.textContent = "";
        if (!items.length) { list.appendChild(el("li", "empty", "收件箱是空的，助手最近都听懂了。")); return; }
        items.forEach(function (item) {
          var li = el("li", "item" + (current && current.id === item.id ? " chosen" : ""));
          li.setAttribute("data-id", item.id);
          li.appendChild(el("p", "text", item.text));
          var meta = el("p", "meta");
          meta.appendChild(el("span", "count", "×" + item.count));
          meta.appendChild(el("span", "nlu", (item.intent || "—") + " " + pct(item.confidence)));
          item.reasons.forEach(function (r) { meta.appendChild(el("span", "tag", REASONS[r] || r)); });
          li.appendChild(meta);
          li.addEventListener("click", function () { choose(item); });
          list.appendChild(li);
        });
      }).catch(function (e) { list.textContent = ""; list.appendChild(el("li", "error", e.message)); });
    };

    var renderEntities = function () {
      var box = $("entities");
      box.textContent = "";
      entities.forEach(function (e, n) {
        var chip = el("li", "chip", "[" + e.text + "](" + e.entity + ")");
        var x = el("button", "remove", "×"); x.type = "button"; x.title = "去掉这个实体";
        x.addEventListener("click", function () { entities.splice(n, 1); renderEntities(); });
        chip.appendChild(x);
        box.appendChild(chip);
      });
    };

    var choose = function (item) {
      current = item;
      entities = (item.entities || []).filter(function (e) { return e.start !== null && e.end !== null; })
        .map(function (e) { return { start: e.start, end: e.end, entity: e.entity, text: Array.from(item.text).slice(e.start, e.end).join("") }; });
      $("detail").hidden = false;
      $("item-text").textContent = item.text;
      $("item-count").textContent = "出现 " + item.count + " 次，" + item.conversations.length + " 个对话";
      $("item-reading").textContent = (item.intent || "—") + "（" + pct(item.confidence) + "）";
      $("item-reasons").textContent = item.reasons.map(function (r) { return REASONS[r] || r; }).join("、");
      $("item-seen").textContent = localTime(item.last_seen) + " · 对话 " + item.conversation_id;
      $("intent").value = item.intent || "";
      $("result").textContent = "";
      $("entity-bar").hidden = true;
      var ctx = $("context"); ctx.textContent = "";
      (item.context || []).forEach(function (t) { ctx.appendChild(turnLine(t)); });
      renderEntities();
      Array.prototype.forEach.call(list.children, function (li) {
        li.classList.toggle("chosen", li.getAttribute("data-id") === item.id);
      });
    };

    document.addEventListener("selectionchange", function () {
      var sel = window.getSelection(), box = $("item-text");
      if (!current || !sel.rangeCount || sel.isCollapsed) return;
      var range = sel.getRangeAt(0), node = box.firstChild;
      if (!node || range.startContainer !== node || range.endContainer !== node) return;
      var text = node.textContent;
      selection = { start: codePoints(text, range.startOffset), end: codePoints(text, range.endOffset),
                    text: text.slice(range.startOffset, range.endOffset) };
      $("selected-text").textContent = selection.text;
      $("entity-bar").hidden = false;
    });
    $("mark-entity").addEventListener("click", function () {
      if (!selection) return;
      var overlaps = entities.some(function (e) { return selection.start < e.end && e.start < selection.end; });
      if (overlaps) { $("result").textContent = "这段文字和已标记的实体重叠了，请先去掉原来的。"; return; }
      entities.push({ start: selection.start, end: selection.end, entity: $("entity-type").value, text: selection.text });
      entities.sort(function (a, b) { return a.start - b.start; });
      selection = null; $("entity-bar").hidden = true; window.getSelection().removeAllRanges();
      renderEntities();
    });
    $("annotate").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) return;
      var button = event.target.querySelector("button[type=submit]");
      button.disabled = true;
      $("result").textContent = "正在保存并校验训练数据…";
      api("POST", "/inbox/" + current.id + "/annotate", {
        intent: $("intent").value.trim(),
        entities: entities.map(function (e) { return { start: e.start, end: e.end, entity: e.entity }; }),
      }).then(function (r) {
        var added = r.added.length ? "已写入 " + r.added[0].file + "：" + r.added[0].line : "数据里已有这句，已从收件箱移除。";
        $("result").textContent = added;
        var done = list.querySelector('li.item[data-id="' + CSS.escape(String(current.id)) + '"]');
        if (done) done.remove(); // gone at once, not after the list reloads
        current = null; $("detail").hidden = true; $("result").textContent = "";
        $("inbox-status").textContent = added;
        loadInbox();
      }).catch(function (e) { $("result").textContent = e.message; })
        .then(function () { button.disabled = false; });
    });
    $("discard").addEventListener("click", function () {
      if (!current) return;
      api("POST", "/inbox/" + current.id + "/discard").then(function () {
        $("inbox-status").textContent = "已丢弃：" + current.text;
        current = null; $("detail").hidden = true; loadInbox();
      }).catch(function (e) { $("result").textContent = e.message; });
    });
    filter.addEventListener("submit", function (event) { event.preventDefault(); loadInbox(); });
    var status = el("p", "status", ""); status.id = "inbox-status"; status.setAttribute("role", "status");
    list.parentNode.insertBefore(status, list);
    loadInbox();
  }

  /* ---- 对话回顾 ---- */
  if (kind === "review") {
    var form = $("review-filter"), chosen = null;
    var loadConversations = function () {
      var params = new URLSearchParams();
      ["handed_off", "fell_back"].forEach(function (k) { if (form.elements[k].checked) params.set(k, "true"); });
      ["max_rating", "intent", "q"].forEach(function (k) { var v = form.elements[k].value.trim(); if (v) params.set(k, v); });
      return api("GET", "/conversations?" + params.toString()).then(function (rows) {
        var body = $("conversations"); body.textContent = "";
        if (!rows.length) { var tr = el("tr"); var td = el("td", "empty", "没有符合条件的对话。"); td.colSpan = 4; tr.appendChild(td); body.appendChild(tr); return; }
        rows.forEach(function (c) {
          var tr = el("tr", "conv"); tr.setAttribute("data-id", c.conversation_id);
          var first = el("td"); var a = el("a", "", c.conversation_id.slice(0, 24)); a.href = "#"; first.appendChild(a);
          if (c.handed_off) first.appendChild(el("span", "tag", "转人工"));
          if (c.fell_back) first.appendChild(el("span", "tag", "没听懂"));
          [first, el("td", "", String(c.messages)), el("td", "", c.rating ? "★".repeat(c.rating) : "—"), el("td", "", localTime(c.last))]
            .forEach(function (td) { tr.appendChild(td); });
          tr.addEventListener("click", function (e) { e.preventDefault(); open(c.conversation_id); });
          body.appendChild(tr);
        });
      });
    };
    var open = function (id) {
      chosen = id;
      api("GET", "/conversations/" + encodeURIComponent(id)).then(function (data) {
        $("review-detail").hidden = false; $("review-id").textContent = id;
        $("export-result").textContent = ""; $("export-story").hidden = true;
        var box = $("review-turns"); box.textContent = "";
        data.turns.forEach(function (t) { box.appendChild(turnLine(t)); });
      }).catch(function (e) { $("export-result").textContent = e.message; });
    };
    $("export").addEventListener("click", function () {
      if (!chosen) return;
      api("POST", "/conversations/" + encodeURIComponent(chosen) + "/export").then(function (r) {
        $("export-result").textContent = "已导出为 " + r.path + "（rasa test 会回放它）";
        $("export-story").textContent = r.story; $("export-story").hidden = false;
      }).catch(function (e) { $("export-result").textContent = e.message; });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); loadConversations(); });
    loadConversations();
  }

  /* ---- 训练与模型 ---- */
  if (kind === "models") {
    var say = function (text) { $("models-result").textContent = text; };
    var heldout = function (evaluation) {
      return evaluation && evaluation.sets ? evaluation.sets.filter(function (s) { return s.name === "heldout"; })[0] || evaluation.sets[0] : null;
    };
    var compare = function (model) {
      var box = $("comparison"); box.textContent = "";
      $("compare-name").textContent = model.name + " 对比正在运行的模型";
      var evaluation = model.evaluation;
      if (!evaluation) { box.appendChild(el("p", "muted", "这个模型没有评估结果。")); return; }
      (evaluation.sets || []).forEach(function (set) {
        var section = el("div", "panel set");
        section.appendChild(el("h3", "", set.name + "（" + set.messages + " 条）"));
        var summary = el("p", "", "macro-F1：新 " + f1(set.macro_f1) + " / 运行中 " + f1(set.active_macro_f1) +
          "　准确率：新 " + pct(set.accuracy) + " / 运行中 " + pct(set.active_accuracy));
        section.appendChild(summary);
        var table = el("table", "per-intent");
        var head = el("tr"); ["意图", "运行中 F1", "新 F1", "变化"].forEach(function (h) { head.appendChild(el("th", "", h)); });
        table.appendChild(head);
        Object.keys(set.per_intent_f1).sort().forEach(function (intent) {
          var after = set.per_intent_f1[intent], before = (set.active_per_intent_f1 || {})[intent];
          var delta = before === undefined ? null : after - before;
          var tr = el("tr", delta !== null && delta < -0.02 ? "worse" : delta !== null && delta > 0.02 ? "better" : "");
          [intent, f1(before), f1(after), delta === null ? "—" : (delta >= 0 ? "+" : "") + delta.toFixed(3)]
            .forEach(function (v) { tr.appendChild(el("td", "", v)); });
          table.appendChild(tr);
        });
        section.appendChild(table);
        if (set.changed && set.changed.length) {
          section.appendChild(el("h3", "", "预测改变的消息（" + set.changed.length + "）"));
          var changed = el("table", "changed");
          var h2 = el("tr"); ["消息", "正确", "原来", "现在"].forEach(function (h) { h2.appendChild(el("th", "", h)); });
          changed.appendChild(h2);
          set.changed.slice(0, 50).forEach(function (c) {
            var tr = el("tr", c.after === c.gold ? "better" : c.before === c.gold ? "worse" : "");
            [c.text, c.gold, c.before, c.after].forEach(function (v) { tr.appendChild(el("td", "", v)); });
            changed.appendChild(tr);
          });
          section.appendChild(changed);
        }
        box.appendChild(section);
      });
      var conv = evaluation.conversations;
      if (conv) {
        var section = el("div", "panel");
        section.appendChild(el("h3", "", "对话测试（" + conv.stories + " 个）"));
        var failing = conv.newly_failing || [];
        section.appendChild(el("p", failing.length ? "error" : "", failing.length ? "新失败的测试：" : "没有新失败的对话测试。"));
        var ul = el("ul"); failing.forEach(function (s) { ul.appendChild(el("li", "worse", s)); }); section.appendChild(ul);
        if ((conv.newly_passing || []).length) section.appendChild(el("p", "", "新通过：" + conv.newly_passing.join("、")));
        box.appendChild(section);
      }
      (evaluation.missing || []).forEach(function (m) { box.appendChild(el("p", "muted", "缺少测试集：" + m)); });
    };
    var gateOf = function (model) {
      if (!model.gate) return model.active ? "—" : "未评估";
      return model.gate.passed ? "通过" : "未通过（" + model.gate.reasons.length + " 项）";
    };
    var loadModels = function () {
      return api("GET", "/models").then(function (rows) {
        var body = $("models"); body.textContent = "";
        rows.forEach(function (m) {
          var tr = el("tr", m.active ? "active" : ""); tr.setAttribute("data-name", m.name);
          var state = el("td");
          if (m.active) state.appendChild(el("span", "tag ok", "运行中"));
          if (m.newest) state.appendChild(el("span", "tag", "最新"));
          if (m.previous) state.appendChild(el("span", "tag", "上一个"));
          var set = heldout(m.evaluation);
          var actions = el("td");
          if (m.evaluation) { var c = el("button", "compare", "对比"); c.type = "button"; c.addEventListener("click", function () { compare(m); }); actions.appendChild(c); }
          if (!m.active) { var a = el("button", "activate primary", "上线"); a.type = "button"; a.addEventListener("click", function () { activate(m.name); }); actions.appendChild(a); }
          [el("td", "", m.name), state, el("td", "", localTime(m.trained_at)),
           el("td", "", set ? f1(set.macro_f1) + " / " + f1(set.active_macro_f1) : "—"), el("td", m.gate && !m.gate.passed ? "error" : "", gateOf(m)), actions]
            .forEach(function (td) { tr.appendChild(td); });
          body.appendChild(tr);
        });
        var newest = rows.filter(function (m) { return m.newest && m.evaluation; })[0];
        if (newest && !$("comparison").querySelector(".set")) compare(newest);
      });
    };
    var pending = null;
    var activate = function (name, reason) {
      pending = name;
      say("正在加载模型 " + name + "，加载期间助手照常回复…");
      $("override").hidden = true;
      api("POST", "/models/" + encodeURIComponent(name) + "/activate", reason ? { override_reason: reason } : {}).then(function (r) {
        say("已上线 " + r.active + (r.previous ? "（上一个：" + r.previous + "，可一键恢复）" : "") + "。");
        loadModels();
      }).catch(function (e) {
        say(e.message);
        if (e.data && e.data.error === "gate_closed") {
          var ul = $("gate-reasons"); ul.textContent = "";
          e.data.reasons.forEach(function (r) { ul.appendChild(el("li", "", r)); });
          $("override").hidden = false;
          $("override-form").hidden = !e.data.can_override;
        }
      });
    };
    $("override-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (pending) activate(pending, event.target.elements.reason.value.trim());
    });
    $("restore").addEventListener("click", function () {
      say("正在恢复上一个模型…");
      api("POST", "/models/restore").then(function (r) { say("已恢复为 " + r.active + "。"); loadModels(); })
        .catch(function (e) { say(e.message); });
    });
    var poll = function (id) {
      api("GET", "/training/" + encodeURIComponent(id)).then(function (run) {
        $("train-state").textContent = "训练 " + id + "：" + (STATES[run.state] || run.state) + (run.error ? "（" + run.error + "）" : "");
        var bar = $("train-progress"); bar.hidden = false; bar.value = run.progress || 0;
        $("train-log").hidden = !(run.log_tail || []).length;
        $("train-log").querySelector("pre").textContent = (run.log_tail || []).join("\n");
        if (run.state === "done" || run.state === "failed") {
          $("train").disabled = false;
          loadModels().then(function () {
            if (run.state === "done") compare({ name: id, evaluation: run.evaluation });
          });
        } else { setTimeout(function () { poll(id); }, 1500); }
      }).catch(function (e) { $("train-state").textContent = e.message; $("train").disabled = false; });
    };
    $("train").addEventListener("click", function () {
      $("train").disabled = true;
      api("POST", "/training").then(function (r) { poll(r.id); })
        .catch(function (e) { say(e.message); $("train").disabled = false; });
    });
    loadModels().catch(function (e) { say(e.message); });
    api("GET", "/training").then(function (runs) {
      var running = runs.filter(function (r) { return ["queued", "training", "evaluating"].indexOf(r.state) >= 0; })[0];
      if (running) { $("train").disabled = true; poll(running.id); }
    }).catch(function () {});
  }

  /* ---- 试一试 ---- */
  if (kind === "try") {
    var parseForm = $("parse");
    parseForm.addEventListener("submit", function (event) {
      event.preventDefault();
      $("parse-error").textContent = "";
      api("POST", "/parse", { text: parseForm.elements.text.value }).then(function (r) {
        $("parse-result").hidden = false;
        $("parse-intent").textContent = r.intent.name || "—";
        $("parse-confidence").textContent = pct(r.intent.confidence);
        var ranking = $("parse-ranking"); ranking.textContent = "";
        (r.intent_ranking || []).forEach(function (x) { ranking.appendChild(el("li", "", x.name + " " + pct(x.confidence))); });
        var ents = $("parse-entities"); ents.textContent = "";
        if (!r.entities.length) ents.appendChild(el("li", "muted", "没有找到实体"));
        r.entities.forEach(function (x) { ents.appendChild(el("li", "", x.entity + "：" + x.value)); });
      }).catch(function (e) { $("parse-error").textContent = e.message; });
    });
  }
})();
