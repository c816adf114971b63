/* SenMart chat page: a customer talking to Rasa's socket.io channel (bot/channels/socketio.py).
 * Every text from the network is inserted with textContent; links and images only with http(s) URLs.
 * The server issues the session id (signed, common/chat_sessions.py) and it lives in localStorage, so a
 * reload continues the same conversation (history from GET /chat/history, built from Rasa's tracker
 * by the handoff service). */
(() => {
  "use strict";

  const SESSION_KEY = "senmart.chat.session_id";
  const SESSION_ID = /^[0-9a-f]{32}\.[0-9a-f]{32}$/;
  const MAX_LENGTH = 2000;
  const RATING = /^\/give_rating\{\s*"rating"\s*:\s*([1-5])\s*\}$/;
  const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;
  const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"…]+$/;
  const TYPING_TIMEOUT_MS = 20000;

  const TEXT = {
    connecting: "Đang kết nối…",
    lost: "Mất kết nối, đang thử lại…",
    unavailable:
      "Xin lỗi bạn, trang trò chuyện chưa kết nối được tới SenMart. Bạn vui lòng tải lại trang sau ít " +
      "phút hoặc gọi hotline 1900 6868 (24/7) nhé.",
    historyFailed:
      "Chưa tải được các tin nhắn trước đó. Bạn vẫn có thể tiếp tục trò chuyện với SenMart nhé.",
    empty: "Bạn nhập nội dung câu hỏi rồi bấm Gửi nhé.",
    waiting: "Đang kết nối nhân viên…",
    agentRole: "Nhân viên CSKH",
    imageAlt: "Hình ảnh SenMart gửi bạn",
    ratingGroup: "Đánh giá từ 1 đến 5 sao",
  };

  const $ = (id) => document.getElementById(id);
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

  // A customer signed in on the shop's website: the embedding page opens the chat as
  // /#customer_id=<id>&customer_hash=<HMAC-SHA256 of the id with CUSTOMER_IDENTITY_SECRET, hex>, computed
  // by the shop's server (the fragment never reaches a server log). Rasa checks the hash
  // (bot/channels/identity.py); without it the conversation is anonymous.
  function signedInCustomer() {
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const id = params.get("customer_id") || "";
    const hash = params.get("customer_hash") || "";
    return id && /^[0-9a-f]{64}$/i.test(hash) ? { id, hash } : null;
  }

  const state = {
    sessionId: "",
    socket: null,
    ready: false, // session confirmed on the current connection
    connectedBefore: false,
    outbox: [], // {payload, shown} typed but not yet emitted
    inflight: [], // emitted, no bot answer seen yet: re-sent after a reconnect if the tracker lacks them
    handoff: null, // {ticket, position, wait, agent}
    typingTimer: null,
    customer: signedInCustomer(), // {id, hash} when the shop's site signed the customer in
  };

  // -- small DOM helpers -------------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(value) {
    try {
      const url = new URL(String(value), window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (problem) {
      return null;
    }
  }

  /** Text with its line breaks (CSS pre-wrap) and its http(s) URLs as links. */
  function appendRichText(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      let raw = match[0];
      const trailing = raw.match(TRAILING_PUNCTUATION);
      if (trailing) raw = raw.slice(0, raw.length - trailing[0].length);
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const href = safeUrl(raw);
      if (href) {
        const link = el("a", null, raw);
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        parent.appendChild(link);
      } else {
        parent.appendChild(document.createTextNode(raw));
      }
      last = match.index + raw.length;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function timeLabel(seconds) {
    const date = new Date(typeof seconds === "number" ? seconds * 1000 : Date.now());
    return date.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
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
  function isCount(value) {
    return value !== null && value !== undefined && value !== "" && Number.isFinite(Number(value)) && value >= 0;
  }

  function waitText(minutes) {
    const total = Math.round(Number(minutes));
    if (total < 60) return `${total} phút`;
    const rest = total % 60;
    return `${Math.floor(total / 60)} giờ` + (rest ? ` ${rest} phút` : "");
  }

  function renderHandoff() {
    const handoff = state.handoff;
    ui.handoff.hidden = !handoff;
    if (!handoff) return;
    ui.handoff.classList.toggle("with-agent", Boolean(handoff.agent));
    ui.handoffTitle.textContent = handoff.agent ? `Nhân viên ${handoff.agent} đang hỗ trợ bạn` : TEXT.waiting;
    ui.handoffTicket.textContent = handoff.ticket ? `Mã phiếu: ${handoff.ticket}` : "";
    ui.handoffPosition.textContent =
      !handoff.agent && isCount(handoff.position) ? `Vị trí trong hàng chờ: ${handoff.position}` : "";
    ui.handoffWait.textContent =
      !handoff.agent && isCount(handoff.wait) ? `Thời gian chờ dự kiến: khoảng ${waitText(handoff.wait)}` : "";
  }

  function startHandoff(payload) {
    state.handoff = {
      ticket: payload.ticket_id ? String(payload.ticket_id) : "",
      position: payload.queue_position,
      wait: payload.estimated_wait_minutes,
      agent: null,
    };
    hideTyping();
    renderHandoff();
  }

  function agentJoined(name) {
    if (!state.handoff) state.handoff = { ticket: "", position: null, wait: null, agent: null };
    state.handoff.agent = name || "SenMart";
    renderHandoff();
  }

  // -- buttons, quick replies and the star rating -------------------------------------------------
  function ratingOf(button) {
    const match = RATING.exec(String(button.payload).trim());
    return match ? Number(match[1]) : null;
  }

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
    const ratings = buttons.map(ratingOf);
    if (ratings.every((rating) => rating !== null)) {
      const group = el("div", "choices stars");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", TEXT.ratingGroup);
      buttons
        .map((button, index) => ({ button, rating: ratings[index] }))
        .sort((a, b) => a.rating - b.rating)
        .forEach(({ button, rating }) => {
          const title = String(button.title || `⭐ ${rating}`);
          const star = choiceButton("star", "★", title, String(button.payload), group);
          star.dataset.rating = String(rating);
          star.setAttribute("aria-label", `${rating} sao`);
          star.title = `${rating} sao`;
          group.appendChild(star);
        });
      return group;
    }
    const group = el("div", "choices");
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
    const buttons = Array.isArray(message.buttons)
      ? message.buttons.filter((b) => b && typeof b === "object" && b.payload !== undefined && b.payload !== null)
      : [];
    const image = message.image ? safeUrl(message.image) : null;
    if (!text && !buttons.length && !image) return null;

    const role = ["customer", "agent"].includes(message.role) ? message.role : "bot";
    if (role === "agent") {
      agentJoined(message.agent ? String(message.agent) : "");
    } else if (role === "bot" && state.handoff && !startsHandoff) {
      // the bot is paused during a handoff: a bot message means the agent gave the conversation back
      state.handoff = null;
      renderHandoff();
    }

    const row = el("div", `msg ${role}`);
    if (role === "agent") {
      const author = el("div", "author");
      author.appendChild(el("span", "author-name", message.agent || "SenMart"));
      author.appendChild(el("span", "author-role", TEXT.agentRole));
      row.appendChild(author);
    }
    if (text) {
      const bubble = el("div", "bubble");
      appendRichText(bubble, text);
      row.appendChild(bubble);
    }
    if (image) {
      const img = el("img", "image");
      img.src = image;
      img.alt = TEXT.imageAlt;
      img.loading = "lazy";
      img.referrerPolicy = "no-referrer";
      row.appendChild(img);
    }
    if (buttons.length) row.appendChild(choices(buttons));
    row.appendChild(el("span", "time", timeLabel(message.timestamp)));
    ui.messages.appendChild(row);
    scrollToEnd();
    return row;
  }

  function onBotUttered(data) {
    if (!data || typeof data !== "object") return;
    state.inflight = []; // the bot answered: what we sent before was processed
    hideTyping();
    const custom = data.custom && typeof data.custom === "object" ? data.custom : null;
    const agent = custom && custom.agent && custom.agent.name ? String(custom.agent.name) : null;
    const attachment = data.attachment && typeof data.attachment === "object" ? data.attachment : null;
    const attached = attachment && attachment.type === "image" && attachment.payload ? attachment.payload.src : null;
    showMessage({
      role: agent ? "agent" : "bot",
      text: data.text,
      buttons: data.quick_replies || data.buttons,
      image: data.image || attached,
      custom,
      agent,
    });
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
    const customerTexts = messages.filter((m) => m && m.role === "customer").map((m) => String(m.text));
    const recent = customerTexts.slice(-(state.inflight.length + 5));
    const lost = state.inflight.filter((m) => !recent.includes(m.shown) && !recent.includes(m.payload));
    state.inflight = [];
    state.outbox.unshift(...lost);
  }

  async function restoreHistory(afterReconnect) {
    try {
      const messages = await fetchHistory();
      if (afterReconnect) requeueLost(messages);
      clearConversation();
      renderHistory(messages);
      showNotice("");
    } catch (problem) {
      showNotice(problem && problem.userMessage ? problem.userMessage : TEXT.historyFailed);
    }
  }

  // -- session and socket ------------------------------------------------------------------------
  function loadSession() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(SESSION_KEY);
    } catch (problem) {
      stored = null; // storage blocked: the conversation lasts as long as the page
    }
    if (stored && SESSION_ID.test(stored)) return { id: stored, known: true };
    return { id: "", known: false }; // the server issues one on session_request
  }

  function saveSession(id) {
    try {
      window.localStorage.setItem(SESSION_KEY, id);
    } catch (problem) {
      // storage blocked: the conversation lasts as long as the page
    }
  }

  function connect(config) {
    const socket = window.io(config.socket_url, {
      path: config.socket_path || "/socket.io/",
      // WebSocket first: one connection stays on one Rasa worker (Engine.IO long-polling would spread a
      // session's requests over several workers); polling only where WebSockets are blocked
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
    if (!safeUrl(config.socket_url)) throw new Error("bad socket_url");
    return config;
  }

  // -- composer ----------------------------------------------------------------------------------
  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = `${Math.min(ui.input.scrollHeight, 120)}px`;
    ui.input.style.overflowY = ui.input.scrollHeight > 120 ? "auto" : "hidden";
  }

  function lengthHint() {
    const left = MAX_LENGTH - ui.input.value.length;
    if (left <= 200) showHint(`Tin nhắn tối đa ${MAX_LENGTH} ký tự (còn ${left} ký tự).`);
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
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
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
    } catch (problem) {
      setConnection("");
      showNotice(TEXT.unavailable);
      return;
    }
    if (session.known) await restoreHistory();
    setConnection(TEXT.connecting);
    connect(config);
  }

  start();
})();
