/*
 * 售后助手 web widget. Embed with one tag:
 *   <script src="https://shop.example/widget/static/widget.js" data-server="https://shop.example"></script>
 * or load the script with data-auto="false" and call ShouhouWidget.init({server: "https://shop.example"}).
 *
 * Every text shown comes from the shopper, the bot or an agent, so it is set with textContent
 * (never innerHTML). The widget lives in a shadow root, so the host page's CSS leaves it alone.
 * Protocol: see bot/channels/widget.py (hello / user_message / message / typing).
 */
(function () {
  "use strict";
  if (window.ShouhouWidget) return;

  var SCRIPT = document.currentScript;
  var MAX_PHOTO = 5 * 1024 * 1024;
  var SOCKET_PATH = "/widget/socket.io/";
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M3 20l18-8L3 4v6l12 2-12 2z",
    photo: "M4 7h3l2-3h6l2 3h3a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1zm8 3a4 4 0 1 0 0 8 4 4 0 0 0 0-8z",
    star: "M12 3l2.8 5.7 6.2.9-4.5 4.4 1.1 6.2L12 17.3 6.4 20.2l1.1-6.2L3 9.6l6.2-.9z",
  };

  /* ---- small DOM helpers: text always goes through textContent -------------------------- */

  function h(tag, props, children) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) return;
      if (key === "text") el.textContent = String(value);
      else if (key === "className") el.className = value;
      else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return el;
  }

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon icon-" + name);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function timeLabel(seconds) {
    var d = new Date(seconds * 1000);
    var now = new Date();
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    return d.getMonth() + 1 + "月" + d.getDate() + "日 " + hm;
  }

  function money(value) {
    var n = Number(value);
    return isFinite(n) ? "¥" + n.toFixed(2) : "";
  }

  function newId() {
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function safeUrl(url, base) {
    try {
      var u = new URL(String(url), base || window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" || u.protocol === "blob:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null; // private mode or blocked storage: the conversation lasts as long as the page
    }
  }

  /* ---- the widget ----------------------------------------------------------------------- */

  function Widget(options) {
    this.server = String(options.server || "").replace(/\/+$/, "") || window.location.origin;
    this.title = options.title || "小禾售后";
    // the shop's signed-in customer: id and HMAC-SHA256 signature from the shop's server
    this.customer = options.customer && options.customer.id ? options.customer : null;
    this.storageKey = "shouhou-widget:conversation:" + this.server;
    this.conversationId = (storage() && storage().getItem(this.storageKey)) || null;
    this.lastSeq = 0;
    this.epoch = null;
    this.ready = false;
    this.pending = {}; // cid -> {text, payload}: sent but not yet acknowledged
    this.byCid = {}; // cid -> element shown optimistically
    this.syncing = false;
    this.unread = 0;
    this.build(options);
    this.loadSocketClient(options.socketClient);
  }

  Widget.prototype.url = function (path) {
    return this.server + path;
  };

  Widget.prototype.build = function (options) {
    var self = this;
    this.host = h("div", { id: "shouhou-widget" });
    this.host.style.visibility = "hidden"; // until its CSS is in (CSSOM, so a strict page CSP allows it)
    var root = this.host.attachShadow ? this.host.attachShadow({ mode: "open" }) : this.host;
    var css = h("link", { rel: "stylesheet", href: this.url("/widget/static/widget.css") });
    var show = function () { self.host.style.visibility = ""; };
    css.addEventListener("load", show);
    css.addEventListener("error", show);
    this.list = h("div", { className: "messages", role: "log", "aria-live": "polite", "aria-label": "聊天记录" }, [
      h("p", { className: "empty", text: "有售后问题直接说，比如：“我的订单到哪了”“衣服颜色和图片不一样”。" }),
    ]);
    this.list.addEventListener("scroll", function () {
      var list = self.list;
      self.stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    });
    this.list.addEventListener("load", function () { self.scrollDown(false); }, true); // images grow rows
    this.typing = h("div", { className: "typing", hidden: true, "aria-label": "对方正在输入" }, [
      h("span"), h("span"), h("span"),
    ]);
    this.status = h("span", { className: "status", text: "连接中…" });
    this.toast = h("div", { className: "toast", role: "alert", hidden: true });
    this.input = h("textarea", {
      className: "text", rows: "1", maxlength: "1000", placeholder: "请输入您的问题…", "aria-label": "输入消息",
      onkeydown: function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          self.submit();
        }
      },
      oninput: function () { self.typingUp(self.input.value.trim() !== ""); },
    });
    this.fileInput = h("input", {
      type: "file", accept: "image/jpeg,image/png,image/webp", hidden: true, className: "file",
      onchange: function () {
        var file = self.fileInput.files && self.fileInput.files[0];
        self.fileInput.value = "";
        if (file) self.uploadPhoto(file);
      },
    });
    this.launcherBadge = h("span", { className: "badge", hidden: true });
    this.launcher = h("button", {
      className: "launcher", type: "button", "aria-label": "打开售后客服",
      onclick: function () { self.toggle(true); },
    }, [icon("chat"), h("span", { text: "售后客服" }), this.launcherBadge]);
    this.panel = h("section", { className: "panel", hidden: true, role: "dialog", "aria-label": this.title }, [
      h("header", {}, [
        h("div", { className: "avatar", text: "禾" }),
        h("div", { className: "title" }, [h("strong", { text: this.title }), this.status]),
        h("button", { className: "rate-open", type: "button", title: "结束咨询并评价", onclick: function () { self.openRating(); } },
          [icon("star"), h("span", { text: "评价" })]),
        h("button", { className: "close", type: "button", "aria-label": "关闭", onclick: function () { self.toggle(false); } },
          [icon("close")]),
      ]),
      this.list,
      this.typing,
      this.toast,
      h("form", { className: "composer", onsubmit: function (event) { event.preventDefault(); self.submit(); } }, [
        h("button", { className: "photo", type: "button", title: "上传照片（JPEG/PNG/WebP，最大 5 MB）", "aria-label": "上传照片",
          onclick: function () { self.fileInput.click(); } }, [icon("photo")]),
        this.fileInput,
        this.input,
        h("button", { className: "send", type: "submit", "aria-label": "发送" }, [icon("send")]),
      ]),
      this.buildRating(),
    ]);
    [css, this.launcher, this.panel].forEach(function (el) { root.appendChild(el); });
    (options.container || document.body).appendChild(this.host);
    if (options.open) this.toggle(true);
  };

  Widget.prototype.toggle = function (open) {
    this.panel.hidden = !open;
    this.launcher.hidden = open;
    if (open) {
      this.unread = 0;
      this.launcherBadge.hidden = true;
      this.scrollDown(true);
      this.input.focus();
    }
  };

  /* ---- connection ------------------------------------------------------------------------- */

  Widget.prototype.loadSocketClient = function (preloaded) {
    var self = this;
    var io = preloaded || window.io;
    if (io) return this.connect(io);
    var tag = h("script", { src: this.url("/widget/static/vendor/socket.io.min.js"), async: true });
    tag.addEventListener("load", function () { self.connect(window.io); });
    tag.addEventListener("error", function () { self.setStatus("无法连接客服，请稍后刷新"); });
    document.head.appendChild(tag);
  };

  Widget.prototype.connect = function (io) {
    var self = this;
    var socket = (this.socket = io(this.server, {
      path: SOCKET_PATH, transports: ["websocket", "polling"], tryAllTransports: true,
      reconnectionDelay: 800, reconnectionDelayMax: 5000,
    }));
    socket.on("connect", function () { self.hello(); });
    socket.on("disconnect", function (reason) {
      self.ready = false;
      self.setTyping(false);
      self.setStatus("网络断开，正在重连…", "offline");
      if (reason === "io server disconnect") socket.connect();
    });
    socket.io.on("reconnect_attempt", function () { self.setStatus("正在重连…", "offline"); });
    socket.on("message", function (entry) { self.receive(entry); });
    socket.on("typing", function (data) { self.setTyping(Boolean(data && data.on)); });
  };

  /* (Re)join the conversation and get every message after the last one we have. */
  Widget.prototype.hello = function () {
    var self = this;
    var ask = { conversation_id: this.conversationId, last_seq: this.lastSeq, epoch: this.epoch };
    if (this.customer) {
      ask.customer_id = String(this.customer.id);
      ask.customer_signature = String(this.customer.signature || "");
    }
    this.syncing = true;
    this.socket.timeout(10000).emit("hello", ask, function (err, res) {
      self.syncing = false;
      if (err || !res || res.error) {
        if (self.socket.connected) setTimeout(function () { self.hello(); }, 2000);
        return;
      }
      self.welcome(res);
    });
  };

  Widget.prototype.welcome = function (res) {
    var messages = Array.isArray(res.messages) ? res.messages : [];
    if (this.epoch && res.epoch !== this.epoch) {
      this.lastSeq = 0; // a new log on the server: its numbers start again
      if (messages.length) this.clearMessages();
    }
    this.epoch = res.epoch;
    if (res.conversation_id !== this.conversationId) {
      this.conversationId = res.conversation_id;
      if (storage()) storage().setItem(this.storageKey, this.conversationId);
    }
    if (res.truncated && !this.lastSeq) this.system("更早的消息已不再保留。");
    messages.forEach(this.accept, this);
    this.ready = true;
    this.setStatus("在线", "online");
    Object.keys(this.pending).forEach(this.sendPending, this);
  };

  /* A live message: in order, no duplicates; a gap, or a message of a newer log (the server
     restarted or forgot the conversation), means we missed something, so sync again. */
  Widget.prototype.receive = function (entry) {
    if (!entry || typeof entry.seq !== "number") return;
    var otherLog = this.epoch && entry.epoch && entry.epoch !== this.epoch;
    if (!otherLog && entry.seq <= this.lastSeq) return;
    if (otherLog || entry.seq > this.lastSeq + 1 || this.syncing) {
      if (!this.syncing) this.hello();
      return;
    }
    this.accept(entry);
    if (this.panel.hidden && (entry.sender === "bot" || entry.sender === "agent")) {
      this.unread += 1;
      this.launcherBadge.textContent = String(this.unread);
      this.launcherBadge.hidden = false;
    }
  };

  Widget.prototype.accept = function (entry) {
    if (entry.seq <= this.lastSeq) return;
    this.lastSeq = entry.seq;
    if (entry.message && entry.message.type === "rating_request") {
      if (Date.now() / 1000 - entry.at < 600) this.openRating(); // asked at the end of a human conversation
      return;
    }
    this.render(entry);
  };

  Widget.prototype.setStatus = function (text, state) {
    this.status.textContent = text;
    this.status.className = "status " + (state || "");
  };

  /* Tell the server the shopper is typing (an agent who has the conversation sees it): at most
     every 2 s while typing, and "stopped" after 4 s without a key or when the message is sent. */
  Widget.prototype.typingUp = function (on) {
    var self = this;
    if (!this.socket || !this.ready) return;
    clearTimeout(this.typingIdle);
    var now = Date.now();
    if (on && now - (this.typingSent || 0) > 2000) {
      this.typingSent = now;
      this.socket.emit("typing", { on: true });
    } else if (!on && this.typingSent) {
      this.typingSent = 0;
      this.socket.emit("typing", { on: false });
    }
    if (on) this.typingIdle = setTimeout(function () { self.typingUp(false); }, 4000);
  };

  Widget.prototype.setTyping = function (on) {
    var self = this;
    this.typing.hidden = !on;
    clearTimeout(this.typingTimer);
    if (on) {
      this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, 30000);
      this.scrollDown(false);
    }
  };

  /* ---- sending ------------------------------------------------------------------------------ */

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    this.typingUp(false);
    if (!text) return;
    if (text.length > 1000) return this.showError("消息太长了，请控制在 1000 字以内。");
    this.input.value = "";
    this.send(text, null);
  };

  Widget.prototype.send = function (text, payload) {
    var cid = newId();
    var el = this.bubbleRow("user", [h("div", { className: "bubble", text: text })], Date.now() / 1000);
    el.classList.add("pending");
    this.byCid[cid] = el;
    this.pending[cid] = { text: text, payload: payload };
    this.place(el, true);
    if (this.ready) this.sendPending(cid);
  };

  /* Unacknowledged messages are sent again after a reconnect; the server ignores repeats (cid). */
  Widget.prototype.sendPending = function (cid) {
    var self = this;
    var item = this.pending[cid];
    if (!item) return;
    var data = { text: item.text, cid: cid };
    if (item.payload) data.payload = item.payload;
    this.socket.timeout(10000).emit("user_message", data, function (err, res) {
      if (err || !self.pending[cid]) return; // no answer: resent on the next hello
      delete self.pending[cid];
      var el = self.byCid[cid];
      if (res && res.error) {
        if (el) el.classList.add("failed");
        self.showError(res.message || "消息发送失败。");
      } else if (el) {
        el.classList.remove("pending");
      }
    });
  };

  /* ---- rendering ---------------------------------------------------------------------------- */

  Widget.prototype.render = function (entry) {
    var m = entry.message || {};
    var known = entry.cid && this.byCid[entry.cid];
    if (known) {
      known.classList.remove("pending");
      if (m.type === "photo") this.setPhoto(known, m.url);
      return;
    }
    if (entry.sender === "system") return this.place(this.systemRow(m, entry.at), false);
    if (entry.sender === "user") {
      var body = m.type === "photo" ? this.photoBubble(m.url, false) : h("div", { className: "bubble", text: m.text || "" });
      return this.place(this.bubbleRow("user", [body], entry.at), false);
    }
    this.place(this.bubbleRow(entry.sender, this.botParts(entry.sender, m), entry.at), false);
  };

  Widget.prototype.botParts = function (sender, m) {
    var parts = [];
    if (sender === "agent") parts.push(h("div", { className: "who", text: "人工客服" + (m.agent ? " · " + m.agent : "") }));
    if (m.text) parts.push(h("div", { className: "bubble", text: m.text }));
    var image = m.image && safeUrl(m.image);
    if (image) parts.push(h("img", { className: "bot-image", src: image, alt: "图片" }));
    if (m.custom && m.custom.type === "order_card") parts.push(this.orderCard(m.custom));
    if (Array.isArray(m.buttons) && m.buttons.length) parts.push(this.quickReplies(m.buttons));
    return parts;
  };

  Widget.prototype.bubbleRow = function (sender, parts, at) {
    var row = h("div", { className: "row " + (sender === "user" ? "user" : sender === "agent" ? "agent" : "bot") });
    if (sender !== "user") row.appendChild(h("div", { className: "avatar", text: sender === "agent" ? "客" : "禾", "aria-hidden": "true" }));
    var column = h("div", { className: "column" }, parts);
    column.appendChild(h("time", { text: timeLabel(at), title: new Date(at * 1000).toLocaleString("zh-CN") }));
    row.appendChild(column);
    return row;
  };

  Widget.prototype.systemRow = function (m, at) {
    if (m.type === "rating") {
      var stars = "★★★★★".slice(0, m.score) + "☆☆☆☆☆".slice(0, 5 - m.score);
      var text = "您为本次服务打了 " + m.score + " 星 " + stars + (m.comment ? "：" + m.comment : "");
      return h("div", { className: "row system rating", title: timeLabel(at) }, [h("span", { text: text })]);
    }
    return h("div", { className: "row system", title: timeLabel(at) }, [h("span", { text: m.text || "" })]);
  };

  Widget.prototype.system = function (text) {
    this.place(this.systemRow({ text: text }, Date.now() / 1000), false);
  };

  Widget.prototype.quickReplies = function (buttons) {
    var self = this;
    var group = h("div", { className: "quick-replies", role: "group", "aria-label": "快捷回复" });
    buttons.forEach(function (b) {
      group.appendChild(h("button", {
        type: "button", className: "chip", text: b.title || b.payload,
        onclick: function () {
          Array.prototype.forEach.call(group.children, function (c) { c.disabled = true; });
          this.classList.add("chosen");
          self.send(String(b.title || b.payload), String(b.payload));
        },
      }));
    });
    return group;
  };

  Widget.prototype.orderCard = function (c) {
    var items = (Array.isArray(c.items) ? c.items : []).map(function (i) {
      var spec = [i.color, i.size].filter(Boolean).join(" / ");
      return h("li", {}, [
        h("span", { className: "name", text: i.name || "" }),
        spec ? h("span", { className: "spec", text: spec }) : null,
        h("span", { className: "price", text: money(i.price) + " × " + (i.quantity || 1) }),
      ]);
    });
    return h("div", { className: "order-card", "data-order": String(c.order_id || "") }, [
      h("div", { className: "card-head" }, [
        h("span", { className: "order-id", text: "订单 " + (c.order_id || "") }),
        h("span", { className: "state", text: c.state || "" }),
      ]),
      h("ul", {}, items),
      h("div", { className: "card-foot" }, [
        h("span", { className: "shipping", text: [c.carrier, c.tracking_no].filter(Boolean).join(" ") }),
        h("span", { className: "total", text: "合计 " + money(c.total) }),
      ]),
    ]);
  };

  Widget.prototype.photoBubble = function (url, uploading) {
    var img = h("img", { alt: "上传的照片", src: safeUrl(url, this.server + "/") || "" });
    var link = h("a", { className: "photo-link", target: "_blank", rel: "noopener noreferrer", href: safeUrl(url, this.server + "/") || "#" }, [img]);
    return h("div", { className: "bubble photo" + (uploading ? " uploading" : "") }, [
      link, uploading ? h("span", { className: "progress", text: "上传中…" }) : null,
    ]);
  };

  /* The uploaded photo's server address replaces the local preview, in place (no layout jump). */
  Widget.prototype.setPhoto = function (row, url) {
    var bubble = row.querySelector(".bubble.photo");
    var full = safeUrl(url, this.server + "/");
    if (!bubble || !full) return;
    bubble.classList.remove("uploading");
    var progress = bubble.querySelector(".progress");
    if (progress) progress.remove();
    bubble.querySelector("a").setAttribute("href", full);
    var img = bubble.querySelector("img");
    if (img.getAttribute("src") !== full) img.setAttribute("src", full);
  };

  /* New messages go above optimistic ones still waiting for the server. Once the shopper has
     said something, the quick replies above it are answered and no longer offered. */
  Widget.prototype.place = function (el, mine) {
    var empty = this.list.querySelector(".empty");
    if (empty) empty.remove();
    if (el.classList.contains("user")) {
      Array.prototype.forEach.call(this.list.querySelectorAll(".chip"), function (chip) { chip.disabled = true; });
    }
    var firstPending = mine ? null : this.list.querySelector(".row.pending");
    this.list.insertBefore(el, firstPending);
    this.scrollDown(mine);
  };

  Widget.prototype.clearMessages = function () {
    while (this.list.firstChild) this.list.removeChild(this.list.firstChild);
    this.byCid = {};
  };

  /* Follow new messages unless the shopper has scrolled up to read older ones. */
  Widget.prototype.scrollDown = function (force) {
    if (force || this.stick !== false) this.list.scrollTop = this.list.scrollHeight;
  };

  Widget.prototype.showError = function (text) {
    var toast = this.toast;
    toast.textContent = text;
    toast.className = "toast";
    toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(function () { toast.hidden = true; }, 6000);
  };

  /* ---- photos -------------------------------------------------------------------------------- */

  Widget.prototype.uploadPhoto = function (file) {
    var self = this;
    if (!this.conversationId) return this.showError("正在连接客服，请稍后再上传。");
    if (file.size > MAX_PHOTO) return this.showError("图片太大了：单张最大 5 MB，请压缩或截图后再上传。");
    var cid = newId();
    var preview = window.URL && URL.createObjectURL ? URL.createObjectURL(file) : "";
    var row = this.bubbleRow("user", [this.photoBubble(preview, true)], Date.now() / 1000);
    row.classList.add("pending");
    this.byCid[cid] = row;
    this.place(row, true);
    var form = new FormData();
    form.append("conversation_id", this.conversationId);
    form.append("cid", cid);
    form.append("photo", file, file.name || "photo");
    fetch(this.url("/widget/upload"), { method: "POST", body: form })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (res) {
        if (!res.ok) throw new Error(res.body.message || "照片上传失败，请稍后再试。");
        self.setPhoto(row, res.body.url);
        row.classList.remove("pending");
      })
      .catch(function (error) {
        row.remove();
        delete self.byCid[cid];
        self.showError(error && error.message && !/fetch|network/i.test(error.message) ? error.message : "照片上传失败，请检查网络后重试。");
      });
  };

  /* ---- rating -------------------------------------------------------------------------------- */

  Widget.prototype.buildRating = function () {
    var self = this;
    this.score = 0;
    this.stars = [1, 2, 3, 4, 5].map(function (n) {
      return h("button", {
        type: "button", className: "star", role: "radio", "aria-checked": "false", "aria-label": n + " 星", "data-score": n,
        onclick: function () { self.setScore(n); },
      }, [icon("star")]);
    });
    this.comment = h("textarea", { className: "comment", rows: "3", maxlength: "500", placeholder: "说说您的感受（选填，最多 500 字）" });
    this.ratingError = h("p", { className: "rating-error", role: "alert", hidden: true });
    this.ratingSubmit = h("button", { type: "submit", className: "primary", disabled: true, text: "提交评价" });
    this.rating = h("form", {
      className: "rating", hidden: true, "aria-label": "评价本次服务",
      onsubmit: function (event) { event.preventDefault(); self.submitRating(); },
    }, [
      h("h3", { text: "为本次服务打分" }),
      h("div", { className: "stars", role: "radiogroup", "aria-label": "评分" }, this.stars),
      this.comment,
      this.ratingError,
      h("div", { className: "actions" }, [
        h("button", { type: "button", className: "secondary", text: "取消", onclick: function () { self.rating.hidden = true; } }),
        this.ratingSubmit,
      ]),
    ]);
    return this.rating;
  };

  Widget.prototype.openRating = function () {
    this.ratingError.hidden = true;
    this.rating.hidden = false;
  };

  Widget.prototype.setScore = function (n) {
    this.score = n;
    this.stars.forEach(function (star, i) {
      star.classList.toggle("on", i < n);
      star.setAttribute("aria-checked", String(i + 1 === n));
    });
    this.ratingSubmit.disabled = false;
  };

  Widget.prototype.submitRating = function () {
    var self = this;
    if (!this.score || !this.conversationId) return;
    this.ratingSubmit.disabled = true;
    fetch(this.url("/widget/rating"), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ conversation_id: this.conversationId, score: this.score, comment: this.comment.value.trim() }),
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) throw new Error(res.body.message || "评价提交失败，请稍后再试。");
        self.rating.hidden = true;
        self.comment.value = "";
        self.setScore(0);
        self.ratingSubmit.disabled = true;
        self.showThanks();
      })
      .catch(function (error) {
        self.ratingError.textContent = error.message || "评价提交失败，请稍后再试。";
        self.ratingError.hidden = false;
        self.ratingSubmit.disabled = false;
      });
  };

  Widget.prototype.showThanks = function () {
    var toast = this.toast;
    toast.textContent = "感谢您的评价！";
    toast.className = "toast ok";
    toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(function () { toast.hidden = true; toast.className = "toast"; }, 4000);
  };

  /* ---- public API ------------------------------------------------------------------------------ */

  var instance = null;

  window.ShouhouWidget = {
    version: "1.0.0",
    /* init({server, title, open, container, customer: {id, signature}}) -> the widget (once per page). */
    init: function (options) {
      if (!instance) instance = new Widget(options || {});
      return instance;
    },
    get instance() {
      return instance;
    },
  };

  if (SCRIPT && SCRIPT.getAttribute("data-auto") !== "false") {
    var start = function () {
      window.ShouhouWidget.init({
        server: SCRIPT.getAttribute("data-server") || new URL(SCRIPT.src, window.location.href).origin,
        title: SCRIPT.getAttribute("data-title") || undefined,
        open: SCRIPT.getAttribute("data-open") === "true",
        customer: SCRIPT.getAttribute("data-customer-id")
          ? { id: SCRIPT.getAttribute("data-customer-id"), signature: SCRIPT.getAttribute("data-customer-signature") }
          : null,
      });
    };
    if (document.body) start();
    else document.addEventListener("DOMContentLoaded", start);
  }
})();
