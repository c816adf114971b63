/* SenMart agent console (handoff/static/console.html). Plain JS, no dependencies at run time.
 * Every piece of data from the API goes into the page through textContent / attributes,
 * never innerHTML, so whatever a customer typed is shown as text. */
import { $, el, downloadBlob, option } from "../shared/dom.js";
import { ApiError, listFrom, readBody, requestInit } from "../shared/api.js";
import { createBanner } from "../shared/banner.js";
import { enterSends } from "../shared/keys.js";
import { duration, timeOfDayWithDate } from "../shared/format.js";
import { loadSession, sessionEnded, wireSessionControls } from "../shared/session.js";
import {
  CHANNEL_LABELS,
  cannedItems,
  claimNote,
  claimedByOther,
  clockSkew,
  customerLines,
  dashboardView,
  errorMessage,
  insertAt,
  isMine,
  messageAuthor,
  messageKey,
  nluLine,
  priorityBadge,
  reasonLabel,
  rowSubline,
  shortTitle,
  slaClass,
  slaDetail,
  slaInfo,
  statusLabel,
} from "./logic.js";
import { mayReassign, reassignChoices, reassignedNote } from "./reassign.js";

var PRESENCE_MS = 20000; // heartbeat: online, or away after AWAY_AFTER_MS without input (or when chosen)
var AWAY_AFTER_MS = 5 * 60000;
var POLL_MS = 1000; // fallback poll while the event stream is down
var SAFETY_REFRESH_MS = 15000; // full refresh even with a healthy stream
var DASHBOARD_MS = 5000;
var HEARTBEAT_MS = 60000;
var ERROR_HIDE_MS = 15000;
var LINKED_REFRESH_MS = 15000;

// ---------------------------------------------------------------- state
var state = {
  token: null, // the session's CSRF token once signed in (the cookie itself is HttpOnly)
  me: null, // the signed-in person's name (claimed_by of their tickets)
  role: null,
  lastInput: Date.now(),
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
  sending: false,
  agents: [], // GET /api/agents (supervisors and admins): presence, load and capacity of each agent
  reassignKey: null, // the choices the reassign select shows (rebuilt only when they change)
  reassigning: false
};

// ---------------------------------------------------------------- time, errors
// the server's clock (epoch seconds): SLA deadlines are the server's
function now() { return (Date.now() + state.clockSkew) / 1000; }

var banner = createBanner({ errorMs: ERROR_HIDE_MS, infoMs: ERROR_HIDE_MS });
var showError = banner.show;
var hideError = banner.hide;

// ---------------------------------------------------------------- API
function api(method, path, body, opts) {
  opts = opts || {};
  return fetch(path, requestInit(method, opts.token || state.token, body)).then(function (res) {
    var skew = clockSkew(res.headers.get("Date"), Date.now());
    if (skew !== null) state.clockSkew = skew;
    if (opts.raw && res.ok) return res;
    return readBody(res).then(function (data) {
      if (!res.ok) {
        var err = new ApiError(res.status, data);
        if (res.status === 401 && !opts.login) sessionExpired();
        throw err;
      }
      return data;
    });
  });
}

// ---------------------------------------------------------------- session, presence
function setMe(name) {
  state.me = name;
}

function sessionExpired() {
  if (!state.token) return;
  state.token = null;
  stopAll();
  sessionEnded();
}

function reportPresence() {
  if (!state.token) return;
  var chosen = $("presence").value;
  var idle = Date.now() - state.lastInput > AWAY_AFTER_MS || document.visibilityState === "hidden";
  var status = chosen === "away" || idle ? "away" : "online";
  api("POST", "/api/presence", { status: status })
    .then(function (data) { $("dash-online").textContent = String(data.agents_online); })
    .catch(function () { /* the next heartbeat tries again */ });
}

function refreshTeam() {
  if (!state.token || (state.role !== "supervisor" && state.role !== "admin")) return;
  api("GET", "/api/agents")
    .then(function (data) {
      var body = $("team-rows");
      while (body.firstChild) body.removeChild(body.firstChild);
      state.agents = listFrom(data, "agents");
      if (state.ticket) renderReassign(state.ticket);
      state.agents.forEach(function (agent) {
        var row = el("tr");
        row.appendChild(el("td", null, agent.name));
        row.appendChild(el("td", "presence " + agent.presence, agent.presence_label));
        row.appendChild(el("td", null, agent.load + "/" + agent.capacity));
        body.appendChild(row);
      });
      $("team").hidden = false;
    })
    .catch(function () { /* shown again at the next refresh */ });
}

// ---------------------------------------------------------------- app lifecycle
function startApp() {
  $("app").hidden = false;
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
  state.timers.presence = setInterval(function () { reportPresence(); refreshTeam(); }, PRESENCE_MS);
  reportPresence();
  refreshTeam();
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
  var live = $("live");
  live.className = "live" + (mode === "on" ? " on" : mode === "poll" ? " poll" : "");
  live.title = mode === "on" ? "Đang cập nhật trực tiếp" : "Mất kết nối trực tiếp — đang tự làm mới mỗi giây";
}

function connectEvents() {
  if (!window.EventSource) { setLive("poll"); startPolling(); return; }
  if (state.es) state.es.close();
  var es = new EventSource("/api/events");
  state.es = es;
  var onEvent = function (ev) {
    var data = null;
    try { data = JSON.parse(ev.data); } catch { /* keep-alive or plain text */ }
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
  var prio = priorityBadge(t);
  var p = row.querySelector(".prio");
  p.textContent = prio.text;
  p.className = prio.className;
  var s = row.querySelector(".status");
  s.textContent = statusLabel(t);
  s.className = "badge status status-" + t.status;
  row.querySelector(".row-reason").textContent = reasonLabel(t.reason);
  row.querySelector(".row-sub").textContent = rowSubline(t);
  fillRowTimes(row, t);
}

function fillRowTimes(row, t) {
  var wait = row.querySelector(".row-wait");
  if (t.status === "waiting" || t.status === "claimed") {
    wait.textContent = "Chờ " + duration(now() - Number(t.created_at));
    wait.title = "Thời gian từ lúc chuyển cho nhân viên";
  } else {
    var end = t.resolved_at || t.closed_at;
    wait.textContent = end ? "Xử lý trong " + duration(Number(end) - Number(t.created_at)) : "";
    wait.title = "";
  }
  var sla = row.querySelector(".sla");
  var info = slaInfo(t, now());
  sla.textContent = info.text;
  sla.className = slaClass(info);
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
    $("reassign-note").textContent = "";
    $("reassign-agent").value = "";
    refreshTeam();
    $("t-linked").hidden = true;
    $("t-linked-list").textContent = "";
    try { history.replaceState(null, "", "#" + id); } catch { /* file:// etc. */ }
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

function renderTicket(t) {
  state.ticket = t;
  $("no-ticket").hidden = true;
  $("ticket").hidden = false;
  $("t-id").textContent = t.id;
  var st = $("t-status");
  st.textContent = statusLabel(t);
  st.className = "badge status-" + t.status;
  var prio = priorityBadge(t);
  var p = $("t-priority");
  p.textContent = prio.text;
  p.className = prio.className;
  $("t-reason").textContent = reasonLabel(t.reason);
  $("t-created").textContent = timeOfDayWithDate(t.created_at);
  $("t-channel").textContent = t.channel || "–";
  $("t-claimed").textContent = t.claimed_by
    ? t.claimed_by + (t.claimed_at ? " (từ " + timeOfDayWithDate(t.claimed_at) + ")" : "")
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
  var a = slaDetail(sla.first_response_due, sla.first_response_breached, t.first_response_at, now());
  var f = $("t-sla-first");
  f.textContent = a.text;
  f.className = slaClass(a);
  var b = slaDetail(sla.resolution_due, sla.resolution_breached, t.resolved_at, now());
  if (t.status === "closed" && !t.resolved_at) b = { text: "đã đóng lúc " + timeOfDayWithDate(t.closed_at), late: false };
  var r = $("t-sla-resolution");
  r.textContent = b.text;
  r.className = slaClass(b);
}

function renderCustomer(customer) {
  var box = $("t-customer");
  box.textContent = "";
  var lines = customerLines(customer);
  lines.forEach(function (line) {
    var item = el("div");
    item.appendChild(el("dt", null, line[0]));
    item.appendChild(el("dd", null, line[1]));
    box.appendChild(item);
  });
  if (!lines.length) box.appendChild(el("div", "muted", "Chưa có thông tin khách hàng"));
}

function buildMessage(m) {
  var author = messageAuthor(m);
  var box = el("div", "msg " + author.role);
  var head = el("div", "msg-head");
  head.appendChild(el("span", "msg-who", author.who));
  head.appendChild(el("span", "msg-time", timeOfDayWithDate(m.timestamp)));
  box.appendChild(head);
  box.appendChild(el("div", "msg-text", m.text === null || m.text === undefined ? "" : m.text));
  var nlu = author.role === "customer" ? nluLine(m) : null;
  if (nlu) box.appendChild(el("div", "msg-nlu", nlu));
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
  var other = claimedByOther(t, state.me);
  var claim = $("claim");
  claim.disabled = t.status !== "waiting";
  claim.textContent = isMine(t, state.me) ? "Bạn đang xử lý" : "Nhận xử lý";
  $("resolve").disabled = !open || other;
  $("return-to-bot").disabled = !open || other;
  $("reply-text").disabled = !open || other;
  $("send").disabled = !open || other || state.sending;
  $("canned").disabled = !open || other;
  $("claim-note").textContent = claimNote(t, state.me);
  renderReassign(t);
}

// ---------------------------------------------------------------- reassign (supervisors, admins)
function renderReassign(t) {
  var box = $("reassign-box");
  box.hidden = !mayReassign(state.role, t);
  if (box.hidden) return;
  var select = $("reassign-agent");
  var choices = reassignChoices(state.agents, t);
  var key = JSON.stringify(choices);
  if (key !== state.reassignKey) {
    // rebuilt only when something changed: an open drop-down is not closed under the supervisor
    state.reassignKey = key;
    var chosen = select.value;
    while (select.options.length > 1) select.remove(1);
    choices.forEach(function (choice) {
      var opt = option(choice.id, choice.label, choice.id === chosen && !choice.disabled);
      opt.disabled = choice.disabled;
      select.appendChild(opt);
    });
  }
  $("reassign").disabled = !select.value || state.reassigning;
}

function reassignTicket() {
  var id = state.selectedId;
  var agentId = $("reassign-agent").value;
  if (!id || !agentId || state.reassigning) return;
  state.reassigning = true;
  $("reassign").disabled = true;
  $("reassign-note").textContent = "";
  api("POST", "/api/tickets/" + encodeURIComponent(id) + "/reassign", { agent_id: agentId })
    .then(function (ticket) {
      hideError();
      if (id === state.selectedId) $("reassign-note").textContent = reassignedNote(ticket);
      $("reassign-agent").value = "";
    })
    .catch(reportFailure("reassign"))
    .then(function () {
      state.reassigning = false;
      refreshTicket();
      refreshList();
      refreshTeam();
      dashboardSoon();
      if (state.ticket) renderReassign(state.ticket);
    });
}

// ---------------------------------------------------------------- heartbeat
function syncHeartbeat() {
  var t = state.ticket;
  var want = t && t.status === "claimed" && (isMine(t, state.me) || (!state.me && t.claimed_by)) ? t.id : null;
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
/* The catch of an action: its Vietnamese message in the banner (a 401 already sent the page to sign-in). */
function reportFailure(action) {
  return function (err) {
    if (!(err instanceof ApiError && err.status === 401)) showError(errorMessage(err, action));
  };
}

function ticketAction(action, path, body, button) {
  var id = state.selectedId;
  if (!id) return Promise.resolve();
  if (button) button.disabled = true;
  return api("POST", "/api/tickets/" + encodeURIComponent(id) + path, body || {})
    .then(function (data) {
      hideError();
      if (action === "claim" && data && data.claimed_by) setMe(data.claimed_by);
    })
    .catch(reportFailure(action))
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
    .catch(reportFailure("send"))
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
    .then(function (blob) { downloadBlob(blob, id + ".txt", 10000); })
    .catch(reportFailure("export"));
}

function loadCanned() {
  api("GET", "/api/canned-replies")
    .then(function (data) {
      var select = $("canned");
      while (select.options.length > 1) select.remove(1);
      cannedItems(data).forEach(function (item) {
        var opt = document.createElement("option");
        opt.value = item.text;
        opt.textContent = shortTitle(item.title);
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
  var inserted = insertAt(box.value, box.selectionStart || 0, box.selectionEnd || 0, text);
  box.value = inserted.value;
  box.focus();
  box.setSelectionRange(inserted.caret, inserted.caret);
}

// ---------------------------------------------------------------- dashboard
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
  var view = dashboardView(d);
  $("dash-queue").textContent = view.queue;
  $("dash-hours").hidden = !view.outsideHours;
  var o = $("dash-oldest");
  o.textContent = view.oldest;
  o.classList.toggle("bad", view.oldestBad);
  $("dash-first").textContent = view.first;
  $("dash-resolution").textContent = view.resolution;
  $("dash-csat").textContent = view.csat;
  $("dash-rate").textContent = view.rate;
  var b = $("dash-breached");
  b.textContent = view.breached;
  b.classList.toggle("bad", view.breachedBad);
  var r = $("dash-reasons");
  r.textContent = view.reasons;
  r.title = view.reasonsTitle;
}

// ---------------------------------------------------------------- wiring
function debounce(fn, ms) {
  var t;
  return function () { clearTimeout(t); t = setTimeout(fn, ms); };
}

function init() {
  ["keydown", "pointerdown"].forEach(function (kind) {
    document.addEventListener(kind, function () { state.lastInput = Date.now(); }, { passive: true });
  });
  $("presence").addEventListener("change", reportPresence);
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
    if (enterSends(e)) {
      e.preventDefault();
      sendReply();
    }
  });
  $("canned").addEventListener("change", insertCanned);
  $("reassign-agent").addEventListener("change", function () {
    if (state.ticket) renderReassign(state.ticket);
  });
  $("reassign").addEventListener("click", reassignTicket);

  loadSession().then(function (session) {
    if (!session) return;
    state.token = session.csrf_token;
    state.role = session.user.role;
    setMe(session.user.name);
    wireSessionControls(session);
    startApp();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
