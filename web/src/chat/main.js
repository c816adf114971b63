/* SenMart chat page: a customer talking to Rasa's socket.io channel (bot/channels/socketio.py).
 * Every text from the network is inserted with textContent; links and images only with http(s) URLs.
 * The server issues the session id (signed, common/chat_sessions.py) and it lives in localStorage, so a
 * reload continues the same conversation (history from GET /chat/history, built from Rasa's tracker
 * by the handoff service). */
import { $, el } from "../shared/dom.js";
import { enterSends } from "../shared/keys.js";
import { safeUrl } from "../shared/url.js";
import { clockTime } from "../shared/format.js";
import { choiceGroup, labelStar, messageRow, starOrder, usableButtons } from "../shared/chat-message.js";
import {
  MAX_LENGTH,
  SESSION_ID,
  TEXT,
  botMessage,
  handoffFrom,
  handoffLines,
  lengthHintText,
  lostMessages,
  roleOf,
  signedInCustomer,
} from "./logic.js";

const SESSION_KEY = "senmart.chat.session_id";
const TYPING_TIMEOUT_MS = 20000;

const ui = {
  messages: $("messages"),
  form: $("composer"),
  input: $("input"),
  hint: $("hint"),
  typing: $("typing"),
  connection: $("connection"),
  notice: $("notice"),
  handoff: $("handoff"),
  handoffTitle: $("handoff-title"),
  handoffTicket: $("handoff-ticket"),
  handoffPosition: $("handoff-position"),
  handoffWait: $("handoff-wait"),
};

const state = {
  sessionId: "",
  socket: null,
  ready: false, // session confirmed on the current connection
  connectedBefore: false,
  outbox: [], // {payload, shown} typed but not yet emitted
  inflight: [], // emitted, no bot answer seen yet: re-sent after a reconnect if the tracker lacks them
  handoff: null, // {ticket, position, wait, agent}
  typingTimer: null,
  historyGeneration: 0, // the latest history restore; an older one's late answer is ignored
  customer: signedInCustomer(window.location.hash), // {id, hash} when the shop's site signed the customer in
};

const pageUrl = (value) => safeUrl(value, window.location.href);

// -- small DOM helpers -------------------------------------------------------------------------
function timeLabel(seconds) {
  return clockTime(new Date(typeof seconds === "number" ? seconds * 1000 : Date.now()));
}

function scrollToEnd() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

function setConnection(text) {
  ui.connection.textContent = text || "";
  ui.connection.hidden = !text;
}

function showNotice(text) {
  ui.notice.textContent = text || "";
  ui.notice.hidden = !text;
}

function showHint(text) {
  ui.hint.textContent = text || "";
}

function showTyping() {
  ui.typing.hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideTyping, TYPING_TIMEOUT_MS);
  scrollToEnd();
}

function hideTyping() {
  ui.typing.hidden = true;
  clearTimeout(state.typingTimer);
}

// -- handoff banner ----------------------------------------------------------------------------
function renderHandoff() {
  const handoff = state.handoff;
  ui.handoff.hidden = !handoff;
  if (!handoff) return;
  ui.handoff.classList.toggle("with-agent", Boolean(handoff.agent));
  const lines = handoffLines(handoff);
  ui.handoffTitle.textContent = lines.title;
  ui.handoffTicket.textContent = lines.ticket;
  ui.handoffPosition.textContent = lines.position;
  ui.handoffWait.textContent = lines.wait;
}

function startHandoff(payload) {
  state.handoff = handoffFrom(payload);
  hideTyping();
  renderHandoff();
}

function agentJoined(name) {
  if (!state.handoff) state.handoff = { ticket: "", position: null, wait: null, agent: null };
  state.handoff.agent = name || "SenMart";
  renderHandoff();
}

// -- buttons, quick replies and the star rating -------------------------------------------------
function disableChoices() {
  for (const button of ui.messages.querySelectorAll(".choices button")) button.disabled = true;
  for (const group of ui.messages.querySelectorAll(".stars")) group.classList.add("done");
}

function markChosen(group, shown) {
  if (!group) return;
  for (const button of group.querySelectorAll("button")) {
    if (button.dataset.title !== shown) continue;
    button.classList.add("chosen");
    const stars = Number(button.dataset.rating || 0);
    for (const star of group.querySelectorAll(".star")) {
      star.classList.toggle("on", Number(star.dataset.rating) <= stars);
    }
  }
}

function choiceButton(className, label, title, payload, group) {
  const button = el("button", className, label);
  button.type = "button";
  button.dataset.title = title;
  button.addEventListener("click", () => {
    if (button.disabled) return;
    send(payload, title);
    markChosen(group, title);
  });
  return button;
}

function choices(buttons) {
  const stars = starOrder(buttons);
  const group = choiceGroup(Boolean(stars));
  if (stars) {
    for (const { button, rating } of stars) {
      const title = String(button.title || `⭐ ${rating}`);
      const star = choiceButton("star", "★", title, String(button.payload), group);
      star.dataset.rating = String(rating);
      labelStar(star, rating);
      group.appendChild(star);
    }
    return group;
  }
  for (const button of buttons) {
    const title = String(button.title || button.payload);
    group.appendChild(choiceButton("choice", title, title, String(button.payload), group));
  }
  return group;
}

// -- messages ----------------------------------------------------------------------------------
/** Shows one message ({role, text, buttons, image, custom, agent, timestamp}); null if nothing to show. */
function showMessage(message) {
  const custom = message.custom && typeof message.custom === "object" ? message.custom : null;
  const startsHandoff = Boolean(custom && custom.handoff && typeof custom.handoff === "object");
  if (startsHandoff) startHandoff(custom.handoff);
  const text = typeof message.text === "string" ? message.text : "";
  const buttons = usableButtons(message.buttons);
  const image = message.image ? pageUrl(message.image) : null;
  if (!text && !buttons.length && !image) return null;

  const role = roleOf(message);
  if (role === "agent") {
    agentJoined(message.agent ? String(message.agent) : "");
  } else if (role === "bot" && state.handoff && !startsHandoff) {
    // the bot is paused during a handoff: a bot message means the agent gave the conversation back
    state.handoff = null;
    renderHandoff();
  }

  let author = null;
  if (role === "agent") {
    author = el("div", "author");
    author.appendChild(el("span", "author-name", message.agent || "SenMart"));
    author.appendChild(el("span", "author-role", TEXT.agentRole));
  }
  const row = messageRow(role, {
    author,
    text,
    image,
    lazy: true,
    choices: buttons.length ? choices(buttons) : null,
    time: timeLabel(message.timestamp),
  });
  ui.messages.appendChild(row);
  scrollToEnd();
  return row;
}

function onBotUttered(data) {
  if (!data || typeof data !== "object") return;
  state.inflight = []; // the bot answered: what we sent before was processed
  hideTyping();
  showMessage(botMessage(data));
}

function send(payload, shown) {
  showHint("");
  disableChoices();
  showMessage({ role: "customer", text: shown });
  state.outbox.push({ payload, shown });
  flush();
  if (!state.handoff) showTyping();
}

function flush() {
  while (state.ready && state.socket && state.socket.connected && state.outbox.length) {
    const pending = state.outbox.shift();
    const data = { message: pending.payload, session_id: state.sessionId };
    if (state.customer) data.metadata = { customer: state.customer };
    state.socket.emit("user_uttered", data);
    state.inflight.push(pending);
  }
}

// -- history -----------------------------------------------------------------------------------
function clearConversation() {
  for (const row of [...ui.messages.querySelectorAll(".msg:not(.intro)")]) row.remove();
  state.handoff = null;
  renderHandoff();
  hideTyping();
}

function renderHistory(messages) {
  let lastChoices = null;
  let lastRow = null;
  for (const message of messages) {
    if (!message || typeof message !== "object") continue;
    if (message.role === "customer") {
      markChosen(lastChoices, message.text);
      lastChoices = null;
    }
    const row = showMessage(message);
    if (row) {
      lastRow = row;
      lastChoices = row.querySelector(".choices") || lastChoices;
    }
  }
  disableChoices();
  if (lastRow && !lastRow.classList.contains("customer")) {
    // the latest question is still open: its buttons stay usable
    for (const button of lastRow.querySelectorAll(".choices button")) button.disabled = false;
    for (const group of lastRow.querySelectorAll(".stars")) group.classList.remove("done");
  }
  for (const pending of state.outbox) showMessage({ role: "customer", text: pending.shown });
}

async function fetchHistory() {
  const url = `/chat/history?session_id=${encodeURIComponent(state.sessionId)}`;
  const response = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (response.status === 404) return [];
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !Array.isArray(body.messages)) {
    const problem = new Error("history unavailable");
    problem.userMessage = typeof body.message === "string" && body.message ? body.message : TEXT.historyFailed;
    throw problem;
  }
  return body.messages;
}

// After a reconnect (e.g. the Rasa worker holding our socket died mid-turn): messages we emitted that
// never reached the conversation are queued again, in order, so nothing the customer wrote is lost.
function requeueLost(messages) {
  const lost = lostMessages(state.inflight, messages);
  state.inflight = [];
  state.outbox.unshift(...lost);
}

const HISTORY_RETRIES = 6; // 1 + 2 + 4 + 8 + 10 + 10 s: the server may be between two processes

// A failed fetch is tried again (a reconnect that lands while every Rasa process is restarting gets a
// 502): until the history is read, messages in flight cannot be checked and re-sent, so they would be lost.
async function restoreHistory(afterReconnect, attempt = 0) {
  if (attempt === 0) state.historyGeneration += 1;
  const generation = state.historyGeneration;
  try {
    const messages = await fetchHistory();
    if (generation !== state.historyGeneration) return; // a newer reconnect restores it
    if (afterReconnect) requeueLost(messages);
    clearConversation();
    renderHistory(messages);
    showNotice("");
    flush();
  } catch (problem) {
    if (generation !== state.historyGeneration) return;
    showNotice(problem && problem.userMessage ? problem.userMessage : TEXT.historyFailed);
    if (attempt < HISTORY_RETRIES) {
      const wait = Math.min(1000 * 2 ** attempt, 10000);
      setTimeout(() => restoreHistory(afterReconnect, attempt + 1), wait);
    }
  }
}

// -- session and socket ------------------------------------------------------------------------
function loadSession() {
  let stored;
  try {
    stored = window.localStorage.getItem(SESSION_KEY);
  } catch {
    stored = null; // storage blocked: the conversation lasts as long as the page
  }
  if (stored && SESSION_ID.test(stored)) return { id: stored, known: true };
  return { id: "", known: false }; // the server issues one on session_request
}

function saveSession(id) {
  try {
    window.localStorage.setItem(SESSION_KEY, id);
  } catch {
    // storage blocked: the conversation lasts as long as the page
  }
}

function connect(config) {
  const socket = window.io(config.socket_url, {
    path: config.socket_path || "/socket.io/",
    // WebSocket first (one connection, fewer requests); polling where WebSockets are blocked. Either way
    // the session stays on one Rasa process: nginx routes by the process tag in the session id
    transports: ["websocket", "polling"],
    tryAllTransports: true, // socket.io-client 4.8 falls back to polling only with this
    reconnectionDelayMax: 10000,
  });
  state.socket = socket;
  socket.on("connect", async () => {
    setConnection("");
    // messages pushed to us while we were away are in the tracker: show them
    if (state.connectedBefore) await restoreHistory(true);
    state.connectedBefore = true;
    socket.emit("session_request", state.sessionId ? { session_id: state.sessionId } : {});
  });
  socket.on("session_confirm", (confirmed) => {
    if (typeof confirmed !== "string" || !SESSION_ID.test(confirmed)) return;
    if (confirmed !== state.sessionId) {
      // a new conversation: none stored yet, or the server no longer knows the stored one
      if (state.sessionId) clearConversation();
      state.sessionId = confirmed;
      saveSession(confirmed);
    }
    state.ready = true;
    flush();
  });
  socket.on("session_invalid", () => {
    // the server refused our id: ask for a new session; what is in flight is sent again under it
    state.ready = false;
    state.outbox.unshift(...state.inflight);
    state.inflight = [];
    state.sessionId = "";
    socket.emit("session_request", {});
  });
  socket.on("bot_uttered", onBotUttered);
  socket.on("disconnect", () => {
    state.ready = false;
    hideTyping();
    setConnection(TEXT.lost);
  });
  socket.on("connect_error", () => {
    state.ready = false;
    setConnection(TEXT.lost);
  });
}

async function loadConfig() {
  const response = await fetch("/chat/config.json", { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) throw new Error(`config ${response.status}`);
  const config = await response.json();
  if (!pageUrl(config.socket_url)) throw new Error("bad socket_url");
  return config;
}

// -- composer ----------------------------------------------------------------------------------
function autoGrow() {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
  ui.input.style.overflowY = ui.input.scrollHeight > 120 ? "auto" : "hidden";
}

function lengthHint() {
  const hint = lengthHintText(ui.input.value.length);
  if (hint) showHint(hint);
  else if (ui.hint.textContent && ui.input.value.trim()) showHint("");
}

function submit() {
  const text = ui.input.value.trim().slice(0, MAX_LENGTH);
  if (!text) {
    ui.input.value = "";
    showHint(TEXT.empty);
    ui.input.focus();
    return;
  }
  ui.input.value = "";
  autoGrow();
  send(text, text);
  ui.input.focus();
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
ui.input.addEventListener("keydown", (event) => {
  // Enter sends, Shift+Enter is a new line; never while an IME (Telex, VNI) is composing
  if (enterSends(event)) {
    event.preventDefault();
    submit();
  }
});
ui.input.addEventListener("input", () => {
  autoGrow();
  lengthHint();
});

async function start() {
  const session = loadSession();
  state.sessionId = session.id;
  let config;
  try {
    if (typeof window.io !== "function") throw new Error("socket.io client missing");
    config = await loadConfig();
  } catch {
    setConnection("");
    showNotice(TEXT.unavailable);
    return;
  }
  if (session.known) await restoreHistory();
  setConnection(TEXT.connecting);
  connect(config);
}

start();
