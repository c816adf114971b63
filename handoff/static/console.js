/* SenMart agent console. Plain JS, no dependencies.
 * Every piece of data from the API goes into the page through textContent / attributes,
 * never innerHTML, so whatever a customer typed is shown as text. */
(function () {
  "use strict";

  var TOKEN_KEY = "senmart.console.token";
  var ME_KEY = "senmart.console.me";
  var TZ_OFFSET_SECONDS = 7 * 3600; // agent hours are local time, UTC+7
  var POLL_MS = 1000; // fallback poll while the event stream is down
  var SAFETY_REFRESH_MS = 15000; // full refresh even with a healthy stream
  var DASHBOARD_MS = 5000;
  var HEARTBEAT_MS = 60000;
  var SLA_WARN_SECONDS = 600;
  var ERROR_HIDE_MS = 15000;

  var REASONS = {
    request_human: "Khách yêu cầu gặp nhân viên",
    anger: "Khách bức xúc",
    money_complaint: "Khiếu nại tiền / hoàn tiền",
    low_confidence: "Bot không hiểu ý khách",
    account_security: "Bảo mật tài khoản",
    partnership: "Hợp tác kinh doanh",
    other: "Khác"
  };
  var STATUSES = {
    waiting: "Đã tiếp nhận",
    claimed: "Đang xử lý",
    resolved: "Đã giải quyết",
    closed: "Đã đóng"
  };
  var SLOT_LABELS = {
    customer_name: "Tên",
    name: "Tên",
    member_tier: "Hạng thành viên",
    // typed by the customer: nobody checked them, so they never link conversations (customer_profiles.py)
    phone: "SĐT (khách tự nhập, chưa xác minh)",
    phone_number: "SĐT (khách tự nhập, chưa xác minh)",
    customer_phone: "SĐT (khách tự nhập, chưa xác minh)",
    email: "Email (khách tự nhập, chưa xác minh)",
    customer_email: "Email (khách tự nhập, chưa xác minh)",
    order_id: "Mã đơn hàng",
    order_code: "Mã đơn hàng",
    product: "Sản phẩm",
    store: "Cửa hàng",
    city: "Tỉnh/thành",
    location: "Khu vực",
    payment_method: "Thanh toán",
    amount: "Số tiền",
    language: "Ngôn ngữ"
  };
  var ROLE_LABELS = { customer: "Khách", bot: "Bot", agent: "Nhân viên", system: "Hệ thống" };

  // ---------------------------------------------------------------- state
  var state = {
    token: null,
    me: null, // agent name when known (GET /api/me, or claimed_by after our own claim)
    filter: "open",
    q: "",
    tickets: [],
    rows: {}, // id -> row element
    selectedId: null,
    ticket: null,
    rendered: { id: null, count: 0, lastKey: null },
    linked: { id: null, at: 0 }, // last customer-history fetch (other channels of the same customer)
    es: null,
    streamOk: false,
    clockSkew: 0, // server time - browser time, ms
    listSeq: 0,
    ticketSeq: 0,
    listBusy: false,
    listDirty: false,
    ticketBusy: false,
    ticketDirty: false,
    timers: {},
    hbTicket: null,
    sending: false
  };

  function $(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- formatting
  function now() { return (Date.now() + state.clockSkew) / 1000; }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localDate(ts) { return new Date((ts + TZ_OFFSET_SECONDS) * 1000); }

  function fmtTime(ts) {
    if (ts === null || ts === undefined || ts === "") return "–";
    var d = localDate(Number(ts));
    if (isNaN(d.getTime())) return "–";
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) +
      " " + pad(d.getUTCDate()) + "/" + pad(d.getUTCMonth() + 1);
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "–";
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " giây";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " phút";
    var h = Math.floor(m / 60);
    if (h < 24) return h + " giờ " + pad(m % 60) + " phút";
    return Math.floor(h / 24) + " ngày " + (h % 24) + " giờ";
  }

  function fmtClock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    if (s >= 3600) return fmtDuration(s);
    return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }

  function reasonLabel(reason) { return REASONS[reason] || reason || "–"; }

  function statusLabel(t) { return t.status_label || STATUSES[t.status] || t.status || "–"; }

  function tierOf(t) {
    var c = t.customer || {};
    return c.member_tier || c.tier || "";
  }

  /* SLA of a ticket: {text, late, done}. The first response clock runs until an agent answers,
   * then the resolution clock. */
  function slaInfo(t) {
    var sla = t.sla || {};
    if (t.status === "resolved" || t.status === "closed") {
      var late = !!(sla.first_response_breached || sla.resolution_breached);
      return { text: late ? "Đã trễ SLA" : "Đúng SLA", late: late, done: !late };
    }
    var due, breached, what;
    if (!t.first_response_at) {
      due = sla.first_response_due; breached = sla.first_response_breached; what = "Phản hồi";
    } else {
      due = sla.resolution_due; breached = sla.resolution_breached; what = "Giải quyết";
    }
    if (due === null || due === undefined) return { text: what + ": –", late: !!breached, done: false };
    var left = Number(due) - now();
    if (left < 0 || breached) {
      return { text: what + ": quá hạn " + fmtDuration(Math.max(0, -left)), late: true, done: false };
    }
    return { text: what + ": còn " + fmtClock(left), late: left < SLA_WARN_SECONDS, done: false };
  }

  function slaDetail(due, breached, doneAt) {
    if (due === null || due === undefined) return { text: "–", late: !!breached };
    if (doneAt) {
      var late = !!breached || Number(doneAt) > Number(due);
      return { text: "xong lúc " + fmtTime(doneAt) + (late ? " (trễ hạn)" : " (đúng hạn)"), late: late, done: !late };
    }
    var left = Number(due) - now();
    if (left < 0 || breached) return { text: "quá hạn " + fmtDuration(-left) + " (hạn " + fmtTime(due) + ")", late: true };
    return { text: "còn " + fmtClock(left) + " (hạn " + fmtTime(due) + ")", late: left < SLA_WARN_SECONDS };
  }

  // ---------------------------------------------------------------- errors
  function showError(message, kind) {
    var box = $("error");
    $("error-text").textContent = message;
    box.className = "banner" + (kind === "info" ? " info" : "");
    box.hidden = false;
    clearTimeout(state.timers.error);
    state.timers.error = setTimeout(hideError, ERROR_HIDE_MS);
  }

  function hideError() {
    $("error").hidden = true;
    clearTimeout(state.timers.error);
  }

  function ApiError(status, data) {
    this.status = status;
    this.data = data || {};
  }

  /* A Vietnamese message for a failed call. The service explains most errors itself in Vietnamese
   * (`message`); these are the fall-backs. `action` tunes 403/409. */
  function errorMessage(err, action) {
    if (!(err instanceof ApiError)) return "Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.";
    var d = err.data || {};
    var own = typeof d.message === "string" && d.message ? d.message : null;
    switch (err.status) {
      case 400:
        return own || "Yêu cầu không hợp lệ.";
      case 401:
        return "Mã đăng nhập không đúng";
      case 403:
        if (action === "admin") return own || "Bạn không có quyền thực hiện thao tác này.";
        return (own || "Phiếu này đang do nhân viên khác xử lý" + (d.claimed_by ? " (" + d.claimed_by + ")." : ".")) +
          " Bạn không thể thao tác trên phiếu này.";
      case 404:
        return "Không tìm thấy phiếu (có thể đã bị xoá).";
      case 409:
        if (own) return own;
        if (action === "claim") return "Không nhận được phiếu: phiếu đã có người nhận hoặc không còn trong hàng chờ.";
        return "Trạng thái phiếu đã thay đổi, không thể thực hiện thao tác này.";
      case 413:
        return own || "Nội dung quá dài, vui lòng rút gọn.";
      case 502:
      case 504:
        return (own || "Không gửi được tới khách qua trợ lý ảo. Vui lòng thử lại.") +
          (action === "send" ? " Nội dung trả lời vẫn còn trong ô soạn thảo." : "");
      case 503:
        return own || "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại.";
      default:
        return own || "Máy chủ gặp lỗi (" + err.status + "). Vui lòng thử lại.";
    }
  }

  // ---------------------------------------------------------------- API
  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Authorization: "Bearer " + (opts.token || state.token), Accept: "application/json" };
    var init = { method: method, headers: headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      var date = res.headers.get("Date");
      if (date) {
        var skew = Date.parse(date) - Date.now();
        if (!isNaN(skew)) state.clockSkew = Math.abs(skew) > 3000 ? skew : 0;
      }
      if (opts.raw && res.ok) return res;
      var type = res.headers.get("Content-Type") || "";
      var parse = type.indexOf("json") >= 0 ? res.json().catch(function () { return null; }) : res.text();
      return parse.then(function (data) {
        if (!res.ok) {
          var err = new ApiError(res.status, typeof data === "object" ? data : { message: null });
          if (res.status === 401 && !opts.login) sessionExpired();
          throw err;
        }
        return data;
      });
    });
  }

  function listFrom(data, key) {
    if (Array.isArray(data)) return data;
    if (data && Array.isArray(data[key])) return data[key];
    if (data && Array.isArray(data.items)) return data.items;
    return [];
  }

  // ---------------------------------------------------------------- login / logout
  function showLogin(message) {
    stopAll();
    $("app").hidden = true;
    $("login-view").hidden = false;
    var le = $("login-error");
    if (message) {
      le.textContent = message;
      le.hidden = false;
      showError(message);
    } else {
      le.hidden = true;
    }
    $("token").focus();
  }

  function login(token) {
    token = (token || "").trim();
    if (!token) {
      showLogin("Vui lòng nhập mã đăng nhập.");
      return Promise.resolve();
    }
    $("login").disabled = true;
    return api("GET", "/api/tickets?status=open", undefined, { token: token, login: true })
      .then(function () {
        state.token = token;
        sessionStorage.setItem(TOKEN_KEY, token);
        return whoAmI();
      })
      .then(function () {
        $("token").value = "";
        $("login-error").hidden = true;
        hideError();
        startApp();
      })
      .catch(function (err) {
        sessionStorage.removeItem(TOKEN_KEY);
        state.token = null;
        showLogin(err instanceof ApiError && err.status === 401 ? "Mã đăng nhập không đúng" : errorMessage(err));
      })
      .then(function () { $("login").disabled = false; });
  }

  function whoAmI() {
    state.me = sessionStorage.getItem(ME_KEY) || null;
    return api("GET", "/api/me", undefined, { login: true })
      .then(function (data) {
        var name = data && (data.name || data.agent || data.username);
        if (name) setMe(name);
      })
      .catch(function () { /* optional endpoint */ });
  }

  function setMe(name) {
    state.me = name;
    sessionStorage.setItem(ME_KEY, name);
    $("me").textContent = name;
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ME_KEY);
    state.token = null;
    state.me = null;
    hideError();
    showLogin(null);
  }

  function sessionExpired() {
    if (!state.token) return;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ME_KEY);
    state.token = null;
    state.me = null;
    showLogin("Mã đăng nhập không đúng");
  }

  // ---------------------------------------------------------------- app lifecycle
  function startApp() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    $("me").textContent = state.me || "";
    resetTicketView();
    state.tickets = [];
    state.rows = {};
    $("queue").textContent = "";
    refreshList();
    refreshDashboard();
    loadCanned();
    connectEvents();
    state.timers.tick = setInterval(tick, 1000);
    state.timers.dashboard = setInterval(refreshDashboard, DASHBOARD_MS);
    state.timers.safety = setInterval(function () { refreshList(); refreshTicket(); }, SAFETY_REFRESH_MS);
    var hash = decodeURIComponent((location.hash || "").replace(/^#/, ""));
    if (/^KN-\d{8}-\d+$/.test(hash)) selectTicket(hash);
  }

  function stopAll() {
    Object.keys(state.timers).forEach(function (k) {
      clearInterval(state.timers[k]);
      clearTimeout(state.timers[k]);
    });
    state.timers = {};
    if (state.es) { state.es.close(); state.es = null; }
    state.streamOk = false;
    state.hbTicket = null;
    state.selectedId = null;
    state.ticket = null;
  }

  // ---------------------------------------------------------------- live updates
  function setLive(mode) {
    var el = $("live");
    el.className = "live" + (mode === "on" ? " on" : mode === "poll" ? " poll" : "");
    el.title = mode === "on" ? "Đang cập nhật trực tiếp" : "Mất kết nối trực tiếp — đang tự làm mới mỗi giây";
  }

  function connectEvents() {
    if (!window.EventSource) { setLive("poll"); startPolling(); return; }
    if (state.es) state.es.close();
    var es = new EventSource("/api/events?token=" + encodeURIComponent(state.token));
    state.es = es;
    var onEvent = function (ev) {
      var data = null;
      try { data = JSON.parse(ev.data); } catch (e) { /* keep-alive or plain text */ }
      refreshList();
      if (!data || !data.id || data.id === state.selectedId) refreshTicket();
      dashboardSoon();
    };
    es.addEventListener("ticket", onEvent);
    es.onmessage = onEvent;
    es.onopen = function () {
      state.streamOk = true;
      setLive("on");
      stopPolling();
      refreshList(); // catch up on whatever changed while disconnected
      refreshTicket();
    };
    es.onerror = function () {
      state.streamOk = false;
      setLive("poll");
      startPolling();
      if (es.readyState === EventSource.CLOSED && state.es === es) {
        // the browser gave up (e.g. the server answered with an error): try again later
        clearTimeout(state.timers.reconnect);
        state.timers.reconnect = setTimeout(function () { if (state.token && state.es === es) connectEvents(); }, 5000);
      }
    };
  }

  function startPolling() {
    if (state.timers.poll) return;
    state.timers.poll = setInterval(function () {
      if (state.streamOk) { stopPolling(); return; }
      refreshList();
      refreshTicket();
    }, POLL_MS);
  }

  function stopPolling() {
    clearInterval(state.timers.poll);
    delete state.timers.poll;
  }

  function tick() {
    renderQueueTimes();
    if (state.ticket) renderTicketTimes(state.ticket);
  }

  // ---------------------------------------------------------------- queue
  function refreshList() {
    if (!state.token) return;
    if (state.listBusy) { state.listDirty = true; return; }
    state.listBusy = true;
    state.listDirty = false;
    var seq = ++state.listSeq;
    var qs = "?status=" + encodeURIComponent(state.filter);
    if (state.q) qs += "&q=" + encodeURIComponent(state.q);
    api("GET", "/api/tickets" + qs)
      .then(function (data) {
        if (seq === state.listSeq) renderQueue(listFrom(data, "tickets"));
      })
      .catch(function (err) {
        if (err instanceof ApiError && err.status === 401) return;
        if (state.streamOk) showError(errorMessage(err));
      })
      .then(function () {
        state.listBusy = false;
        if (state.listDirty) refreshList();
      });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function buildRow(id) {
    var row = el("div", "ticket-row");
    row.setAttribute("data-id", id);
    row.setAttribute("role", "listitem");
    row.tabIndex = 0;
    row.appendChild(el("div", "row-id", id));
    var badges = el("div", "row-badges");
    badges.appendChild(el("span", "badge prio"));
    badges.appendChild(el("span", "badge status"));
    row.appendChild(badges);
    row.appendChild(el("div", "row-reason"));
    row.appendChild(el("div", "row-wait"));
    row.appendChild(el("div", "row-sub"));
    row.appendChild(el("div", "sla"));
    row.addEventListener("click", function () { selectTicket(id); });
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectTicket(id); }
    });
    return row;
  }

  function fillRow(row, t) {
    row.className = "ticket-row status-" + t.status + (t.id === state.selectedId ? " selected" : "");
    var prio = Number(t.priority) || 0;
    var p = row.querySelector(".prio");
    p.textContent = "Ưu tiên " + prio;
    p.className = "badge prio" + (prio >= 5 ? " high" : prio >= 3 ? " mid" : "");
    var s = row.querySelector(".status");
    s.textContent = statusLabel(t);
    s.className = "badge status status-" + t.status;
    row.querySelector(".row-reason").textContent = reasonLabel(t.reason);
    var sub = [];
    var tier = tierOf(t);
    sub.push("Hạng: " + (tier || "–"));
    if (t.status === "waiting" && t.queue_position) sub.push("Vị trí #" + t.queue_position);
    if (t.claimed_by) sub.push("Xử lý: " + t.claimed_by);
    sub.push("Kênh: " + (t.channel || "–"));
    row.querySelector(".row-sub").textContent = sub.join(" · ");
    fillRowTimes(row, t);
  }

  function fillRowTimes(row, t) {
    var wait = row.querySelector(".row-wait");
    if (t.status === "waiting" || t.status === "claimed") {
      wait.textContent = "Chờ " + fmtDuration(now() - Number(t.created_at));
      wait.title = "Thời gian từ lúc chuyển cho nhân viên";
    } else {
      var end = t.resolved_at || t.closed_at;
      wait.textContent = end ? "Xử lý trong " + fmtDuration(Number(end) - Number(t.created_at)) : "";
      wait.title = "";
    }
    var sla = row.querySelector(".sla");
    var info = slaInfo(t);
    sla.textContent = info.text;
    sla.className = "sla" + (info.late ? " late" : info.done ? " done" : "");
  }

  function renderQueue(tickets) {
    state.tickets = tickets;
    var queue = $("queue");
    var seen = {};
    tickets.forEach(function (t) {
      if (!t || !t.id) return;
      seen[t.id] = true;
      var row = state.rows[t.id];
      if (!row) { row = buildRow(t.id); state.rows[t.id] = row; }
      fillRow(row, t);
      queue.appendChild(row); // moves existing rows into queue order without recreating them
    });
    Object.keys(state.rows).forEach(function (id) {
      if (!seen[id]) {
        state.rows[id].remove();
        delete state.rows[id];
      }
    });
    $("queue-empty").hidden = tickets.length > 0;
    $("queue-count").textContent = "(" + tickets.length + ")";
  }

  function renderQueueTimes() {
    state.tickets.forEach(function (t) {
      var row = state.rows[t.id];
      if (row) fillRowTimes(row, t);
    });
  }

  function setFilter(status) {
    state.filter = status;
    Array.prototype.forEach.call(document.querySelectorAll(".filter"), function (b) {
      var on = b.getAttribute("data-status") === status;
      b.classList.toggle("active", on);
      b.setAttribute("aria-selected", on ? "true" : "false");
    });
    state.listSeq++; // drop answers for the previous filter
    state.listBusy = false;
    refreshList();
  }

  // ---------------------------------------------------------------- ticket view
  function resetTicketView() {
    state.selectedId = null;
    state.ticket = null;
    state.rendered = { id: null, count: 0, lastKey: null };
    state.linked = { id: null, at: 0 };
    $("t-linked").hidden = true;
    $("t-linked-list").textContent = "";
    $("ticket").hidden = true;
    $("no-ticket").hidden = false;
    $("transcript").textContent = "";
    syncHeartbeat();
  }

  function selectTicket(id) {
    if (state.selectedId !== id) {
      state.selectedId = id;
      state.ticket = null;
      $("reply-text").value = "";
      $("t-linked").hidden = true;
      $("t-linked-list").textContent = "";
      try { history.replaceState(null, "", "#" + id); } catch (e) { /* file:// etc. */ }
    }
    Object.keys(state.rows).forEach(function (rid) {
      state.rows[rid].classList.toggle("selected", rid === id);
    });
    state.ticketBusy = false;
    refreshTicket();
  }

  function refreshTicket() {
    var id = state.selectedId;
    if (!id || !state.token) return;
    if (state.ticketBusy) { state.ticketDirty = true; return; }
    state.ticketBusy = true;
    state.ticketDirty = false;
    var seq = ++state.ticketSeq;
    return api("GET", "/api/tickets/" + encodeURIComponent(id))
      .then(function (data) {
        var t = data && data.ticket ? data.ticket : data;
        if (seq === state.ticketSeq && id === state.selectedId && t) {
          renderTicket(t);
          refreshLinked(false);
        }
      })
      .catch(function (err) {
        if (err instanceof ApiError && err.status === 401) return;
        if (id === state.selectedId) {
          showError(errorMessage(err));
          if (err instanceof ApiError && err.status === 404) resetTicketView();
        }
      })
      .then(function () {
        state.ticketBusy = false;
        if (state.ticketDirty) refreshTicket();
      });
  }

  var CHANNEL_LABELS = { socketio: "Website", facebook: "Messenger", rest: "REST", unknown: "Không rõ" };
  var LINKED_REFRESH_MS = 15000;

  function refreshLinked(force) {
    var id = state.selectedId;
    if (!id || !state.token) return;
    if (!force && state.linked.id === id && Date.now() - state.linked.at < LINKED_REFRESH_MS) return;
    state.linked = { id: id, at: Date.now() };
    return api("GET", "/api/tickets/" + encodeURIComponent(id) + "/customer-history")
      .then(function (data) { if (id === state.selectedId) renderLinked(data || {}); })
      .catch(function () { /* the ticket view works without it; retried on the next refresh */ });
  }

  function renderLinked(data) {
    var list = Array.isArray(data.conversations) ? data.conversations : [];
    var box = $("t-linked-list");
    box.textContent = "";
    $("t-linked").hidden = list.length === 0;
    $("t-linked-count").textContent = String(list.length);
    list.forEach(function (c) {
      var section = el("section", "linked-conv");
      var label = CHANNEL_LABELS[c.channel] || c.channel || CHANNEL_LABELS.unknown;
      section.appendChild(el("h3", "linked-head", label + " · " + c.sender_id));
      if (c.error) section.appendChild(el("div", "muted", c.error));
      var messages = Array.isArray(c.messages) ? c.messages : [];
      if (!messages.length && !c.error) section.appendChild(el("div", "muted", "Chưa có tin nhắn."));
      messages.forEach(function (m) { section.appendChild(buildMessage(m)); });
      box.appendChild(section);
    });
  }

  function isMine(t) {
    return t.status === "claimed" && !!state.me && t.claimed_by === state.me;
  }

  function claimedByOther(t) {
    return t.status === "claimed" && !!state.me && !!t.claimed_by && t.claimed_by !== state.me;
  }

  function renderTicket(t) {
    state.ticket = t;
    $("no-ticket").hidden = true;
    $("ticket").hidden = false;
    $("t-id").textContent = t.id;
    var st = $("t-status");
    st.textContent = statusLabel(t);
    st.className = "badge status-" + t.status;
    var prio = Number(t.priority) || 0;
    var p = $("t-priority");
    p.textContent = "Ưu tiên " + prio;
    p.className = "badge prio" + (prio >= 5 ? " high" : prio >= 3 ? " mid" : "");
    $("t-reason").textContent = reasonLabel(t.reason);
    $("t-created").textContent = fmtTime(t.created_at);
    $("t-channel").textContent = t.channel || "–";
    $("t-claimed").textContent = t.claimed_by
      ? t.claimed_by + (t.claimed_at ? " (từ " + fmtTime(t.claimed_at) + ")" : "")
      : "Chưa có";
    var csat = t.csat || {};
    if (csat.rating) {
      $("t-csat-row").hidden = false;
      $("t-csat").textContent = csat.rating + "/5" + (csat.comment ? " — " + csat.comment : "");
    } else {
      $("t-csat-row").hidden = true;
    }
    renderCustomer(t.customer || {});
    renderTicketTimes(t);
    renderTranscript(t);
    renderActions(t);
    syncHeartbeat();
  }

  function renderTicketTimes(t) {
    var sla = t.sla || {};
    var a = slaDetail(sla.first_response_due, sla.first_response_breached, t.first_response_at);
    var f = $("t-sla-first");
    f.textContent = a.text;
    f.className = "sla" + (a.late ? " late" : a.done ? " done" : "");
    var b = slaDetail(sla.resolution_due, sla.resolution_breached, t.resolved_at);
    if (t.status === "closed" && !t.resolved_at) b = { text: "đã đóng lúc " + fmtTime(t.closed_at), late: false };
    var r = $("t-sla-resolution");
    r.textContent = b.text;
    r.className = "sla" + (b.late ? " late" : b.done ? " done" : "");
  }

  function renderCustomer(customer) {
    var box = $("t-customer");
    box.textContent = "";
    var keys = Object.keys(customer);
    var shown = 0;
    keys.forEach(function (k) {
      var v = customer[k];
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) return;
      var item = el("div");
      item.appendChild(el("dt", null, SLOT_LABELS[k] || k));
      item.appendChild(el("dd", null, typeof v === "object" ? JSON.stringify(v) : v));
      box.appendChild(item);
      shown++;
    });
    if (!shown) box.appendChild(el("div", "muted", "Chưa có thông tin khách hàng"));
  }

  function messageKey(m) { return (m.role || "") + "|" + (m.timestamp || "") + "|" + (m.text || ""); }

  function buildMessage(m) {
    var role = ROLE_LABELS.hasOwnProperty(m.role) ? m.role : "system";
    var box = el("div", "msg " + role);
    var head = el("div", "msg-head");
    var who = role === "agent" ? (m.agent || ROLE_LABELS.agent) : ROLE_LABELS[role];
    head.appendChild(el("span", "msg-who", who));
    head.appendChild(el("span", "msg-time", fmtTime(m.timestamp)));
    box.appendChild(head);
    box.appendChild(el("div", "msg-text", m.text === null || m.text === undefined ? "" : m.text));
    if (role === "customer" && m.intent) {
      var nlu = "ý định: " + m.intent;
      if (m.confidence !== null && m.confidence !== undefined && !isNaN(m.confidence)) {
        nlu += " · " + Math.round(Number(m.confidence) * 100) + "%";
      }
      box.appendChild(el("div", "msg-nlu", nlu));
    }
    return box;
  }

  function renderTranscript(t) {
    var list = Array.isArray(t.transcript) ? t.transcript : [];
    var box = $("transcript");
    var r = state.rendered;
    var nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    var sameStart = r.id === t.id && list.length >= r.count &&
      (r.count === 0 || messageKey(list[r.count - 1]) === r.lastKey);
    if (!sameStart) {
      box.textContent = "";
      r.count = 0;
      nearBottom = true;
    }
    for (var i = r.count; i < list.length; i++) box.appendChild(buildMessage(list[i]));
    if (list.length === 0 && !box.firstChild) box.appendChild(el("div", "empty", "Chưa có tin nhắn."));
    if (list.length > 0) {
      var empty = box.querySelector(".empty");
      if (empty) empty.remove();
    }
    var grew = list.length !== r.count;
    r.id = t.id;
    r.count = list.length;
    r.lastKey = list.length ? messageKey(list[list.length - 1]) : null;
    if (nearBottom && (grew || !sameStart)) box.scrollTop = box.scrollHeight;
  }

  function renderActions(t) {
    var open = t.status === "waiting" || t.status === "claimed";
    var other = claimedByOther(t);
    var claim = $("claim");
    claim.disabled = t.status !== "waiting";
    claim.textContent = isMine(t) ? "Bạn đang xử lý" : "Nhận xử lý";
    $("resolve").disabled = !open || other;
    $("return-to-bot").disabled = !open || other;
    $("reply-text").disabled = !open || other;
    $("send").disabled = !open || other || state.sending;
    $("canned").disabled = !open || other;
    var note = "";
    if (other) note = "Phiếu đang do " + t.claimed_by + " xử lý.";
    else if (t.status === "claimed" && t.claimed_by && !state.me) note = "Đang do " + t.claimed_by + " xử lý.";
    else if (t.status === "waiting") note = "Nhận xử lý hoặc gửi tin nhắn để nhận phiếu.";
    else if (t.status === "resolved") note = "Phiếu đã giải quyết — đang chờ khách đánh giá.";
    else if (t.status === "closed") note = "Phiếu đã đóng.";
    $("claim-note").textContent = note;
  }

  // ---------------------------------------------------------------- heartbeat
  function syncHeartbeat() {
    var t = state.ticket;
    var want = t && t.status === "claimed" && (isMine(t) || (!state.me && t.claimed_by)) ? t.id : null;
    if (want === state.hbTicket) return;
    clearInterval(state.timers.heartbeat);
    delete state.timers.heartbeat;
    state.hbTicket = want;
    if (!want) return;
    state.timers.heartbeat = setInterval(function () {
      var id = state.hbTicket;
      if (!id) return;
      api("POST", "/api/tickets/" + encodeURIComponent(id) + "/heartbeat", {})
        .catch(function (err) {
          if (err instanceof ApiError && err.status === 401) return;
          showError(errorMessage(err, "heartbeat"));
          refreshTicket();
        });
    }, HEARTBEAT_MS);
  }

  // ---------------------------------------------------------------- actions
  function ticketAction(action, path, body, button) {
    var id = state.selectedId;
    if (!id) return Promise.resolve();
    if (button) button.disabled = true;
    return api("POST", "/api/tickets/" + encodeURIComponent(id) + path, body || {})
      .then(function (data) {
        hideError();
        if (action === "claim" && data && data.claimed_by) setMe(data.claimed_by);
      })
      .catch(function (err) {
        if (!(err instanceof ApiError && err.status === 401)) showError(errorMessage(err, action));
      })
      .then(function () {
        refreshTicket();
        refreshList();
        dashboardSoon();
        if (state.ticket) renderActions(state.ticket);
        else if (button) button.disabled = false;
      });
  }

  function sendReply() {
    var box = $("reply-text");
    var text = box.value.trim();
    if (!text || state.sending || !state.selectedId) return;
    state.sending = true;
    $("send").disabled = true;
    var id = state.selectedId;
    api("POST", "/api/tickets/" + encodeURIComponent(id) + "/messages", { text: text })
      .then(function (data) {
        hideError();
        if (id === state.selectedId && box.value.trim() === text) box.value = "";
        var t = data && data.ticket ? data.ticket : null;
        if (t && t.claimed_by && !state.me) setMe(t.claimed_by);
        if (!state.me && data && data.claimed_by) setMe(data.claimed_by);
      })
      .catch(function (err) {
        if (!(err instanceof ApiError && err.status === 401)) showError(errorMessage(err, "send"));
      })
      .then(function () {
        state.sending = false;
        refreshTicket();
        refreshList();
        if (state.ticket) renderActions(state.ticket);
        box.focus();
      });
  }

  function exportTranscript() {
    var id = state.selectedId;
    if (!id) return;
    api("GET", "/api/tickets/" + encodeURIComponent(id) + "/export?format=txt", undefined, { raw: true })
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = url;
        a.download = id + ".txt";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      })
      .catch(function (err) {
        if (!(err instanceof ApiError && err.status === 401)) showError(errorMessage(err, "export"));
      });
  }

  function cannedItems(data) {
    var items = [];
    var raw = data && !Array.isArray(data) && (data.replies || data.canned_replies || data.items) || data;
    if (Array.isArray(raw)) {
      raw.forEach(function (r, i) {
        if (typeof r === "string") items.push({ title: r, text: r });
        else if (r && (r.text || r.body)) items.push({ title: r.title || r.name || r.id || ("Mẫu " + (i + 1)), text: r.text || r.body });
      });
    } else if (raw && typeof raw === "object") {
      Object.keys(raw).forEach(function (k) {
        var v = raw[k];
        if (typeof v === "string") items.push({ title: k, text: v });
        else if (v && v.text) items.push({ title: v.title || k, text: v.text });
      });
    }
    return items;
  }

  function loadCanned() {
    api("GET", "/api/canned-replies")
      .then(function (data) {
        var select = $("canned");
        while (select.options.length > 1) select.remove(1);
        cannedItems(data).forEach(function (item) {
          var opt = document.createElement("option");
          opt.value = item.text;
          opt.textContent = item.title.length > 60 ? item.title.slice(0, 57) + "…" : item.title;
          opt.title = item.text;
          select.appendChild(opt);
        });
      })
      .catch(function () { /* the console works without canned replies */ });
  }

  function insertCanned() {
    var select = $("canned");
    var text = select.value;
    select.selectedIndex = 0;
    if (!text) return;
    var box = $("reply-text");
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    var sep = before && !/\s$/.test(before) ? " " : "";
    box.value = before + sep + text + after;
    var pos = (before + sep + text).length;
    box.focus();
    box.setSelectionRange(pos, pos);
  }

  // ---------------------------------------------------------------- dashboard
  function pick(obj, names) {
    for (var i = 0; i < names.length; i++) {
      var parts = names[i].split(".");
      var v = obj;
      for (var j = 0; j < parts.length && v !== null && v !== undefined; j++) v = v[parts[j]];
      if (v !== null && v !== undefined) return v;
    }
    return null;
  }

  function refreshDashboard() {
    if (!state.token) return;
    api("GET", "/api/dashboard")
      .then(renderDashboard)
      .catch(function () { /* shown as stale; list errors are reported elsewhere */ });
  }

  /* After a ticket event: refresh the strip at most once a second. */
  function dashboardSoon() {
    if (state.timers.dashboardSoon) return;
    state.timers.dashboardSoon = setTimeout(function () {
      delete state.timers.dashboardSoon;
      refreshDashboard();
    }, 1000);
  }

  function renderDashboard(d) {
    d = d || {};
    var queue = pick(d, ["queue_length", "queue.length", "waiting"]);
    var claimed = pick(d, ["claimed_count"]);
    $("dash-queue").textContent = queue === null ? "–" :
      String(queue) + (claimed !== null ? " chờ · " + claimed + " đang xử lý" : "");
    var hoursNote = $("dash-hours");
    hoursNote.hidden = d.within_hours !== false;
    var oldest = pick(d, ["oldest_waiting_seconds", "oldest_wait_seconds", "queue.oldest_waiting_seconds"]);
    var o = $("dash-oldest");
    o.textContent = oldest === null || oldest === undefined ? "–" : fmtDuration(oldest);
    o.classList.toggle("bad", oldest !== null && oldest > 3600 - SLA_WARN_SECONDS);
    var first = pick(d, ["avg_first_response_seconds", "avg_first_response", "first_response.avg_seconds"]);
    $("dash-first").textContent = first === null ? "–" : fmtDuration(first);
    var resolution = pick(d, ["avg_resolution_seconds", "avg_resolution", "resolution.avg_seconds"]);
    $("dash-resolution").textContent = resolution === null ? "–" : fmtDuration(resolution);
    var csat = pick(d, ["csat_average", "csat.average", "csat_avg"]);
    var csatCount = pick(d, ["csat_count", "csat.count"]);
    $("dash-csat").textContent = csat === null ? "–" :
      Number(csat).toFixed(1) + "/5" + (csatCount !== null ? " (" + csatCount + ")" : "");
    var rate = pick(d, ["handoff_rate"]);
    $("dash-rate").textContent = rate === null || rate === undefined ? "" :
      "(tỉ lệ " + (Number(rate) * 100).toFixed(1) + "% / " + pick(d, ["conversations_total"]) + " hội thoại)";
    var breached = pick(d, ["breached", "sla_breached", "breached_counts"]);
    var b = $("dash-breached");
    if (breached !== null && typeof breached === "object") {
      var fr = Number(pick(breached, ["first_response"]) || 0);
      var rs = Number(pick(breached, ["resolution"]) || 0);
      b.textContent = fr + " phản hồi · " + rs + " giải quyết";
      b.classList.toggle("bad", fr + rs > 0);
    } else {
      b.textContent = breached === null ? "–" : String(breached);
      b.classList.toggle("bad", Number(breached) > 0);
    }
    var reasons = pick(d, ["handoffs_by_reason", "by_reason", "reasons"]) || {};
    var parts = Object.keys(reasons)
      .filter(function (k) { return Number(reasons[k]) > 0; })
      .sort(function (a, c) { return reasons[c] - reasons[a]; })
      .map(function (k) { return reasonLabel(k) + ": " + reasons[k]; });
    var r = $("dash-reasons");
    r.textContent = parts.length ? parts.join(" · ") : "–";
    r.title = parts.join("\n");
  }

  // ---------------------------------------------------------------- wiring
  function debounce(fn, ms) {
    var t;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  function init() {
    $("login-form").addEventListener("submit", function (e) {
      e.preventDefault();
      login($("token").value);
    });
    $("logout").addEventListener("click", logout);
    $("error-close").addEventListener("click", hideError);
    Array.prototype.forEach.call(document.querySelectorAll(".filter"), function (b) {
      b.addEventListener("click", function () { setFilter(b.getAttribute("data-status")); });
    });
    $("search").addEventListener("input", debounce(function () {
      state.q = $("search").value.trim();
      state.listSeq++;
      state.listBusy = false;
      refreshList();
    }, 300));
    $("claim").addEventListener("click", function () { ticketAction("claim", "/claim", {}, $("claim")); });
    $("resolve").addEventListener("click", function () { ticketAction("resolve", "/resolve", {}, $("resolve")); });
    $("return-to-bot").addEventListener("click", function () {
      ticketAction("return", "/return-to-bot", {}, $("return-to-bot"));
    });
    $("export").addEventListener("click", exportTranscript);
    $("send").addEventListener("click", sendReply);
    $("reply-text").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendReply();
      }
    });
    $("canned").addEventListener("change", insertCanned);

    var saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) login(saved);
    else showLogin(null);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
