/* The console API call both workbenches use (客服工作台 and 训练工作台): same-origin, JSON, the
   page's CSRF token on every state-changing call; a lost session reloads the page (the login).
   A refused call rejects with the server's Chinese message, its JSON (error.data) and status. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  window.consoleApi = function (method, path, body) {
    return fetch("/console/api" + path, {
      method: method,
      credentials: "same-origin",
      headers: method === "GET" ? {} : { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) {
      if (res.status === 401) { location.reload(); throw new Error("请重新登录"); }
      return res.json().then(function (data) {
        if (!res.ok) { var e = new Error(data.message || "操作失败"); e.data = data; e.status = res.status; throw e; }
        return data;
      });
    });
  };
})();
