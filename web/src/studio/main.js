/* SenMart content studio (docs/studio.md). Plain JS, no dependencies.
 * Every piece of data from the API goes into the page through textContent / attributes / form values,
 * never as markup, so whatever a customer or an editor typed is shown as text. */
(() => {
  "use strict";

  const TOKEN_KEY = "senmart.studio.token";
  const JOB_KEY = "senmart.studio.train_job";
  const TAB_KEY = "senmart.studio.tab";
  const TZ_OFFSET_SECONDS = 7 * 3600; // staff read Vietnam time, as in the agent console
  const MIN_EXAMPLES = 12;
  const MAX_ANSWER = 2000;
  const TOPIC_NAME = /^[a-z][a-z0-9_]{1,49}$/;
  const PREVIEW_DELAY_MS = 350;
  const POLL_MS = 1000;
  const ERROR_HIDE_MS = 15000;
  const INFO_HIDE_MS = 6000;
  const DONE_STATES = ["published", "refused", "failed"];

  const TIERS = ["Đồng", "Bạc", "Vàng", "Kim Cương"];
  const PAYMENTS = {
    senpay: "Ví SenPay",
    cod: "COD",
    atm: "Thẻ ATM",
    card: "Thẻ quốc tế",
    vietqr: "VietQR",
    momo: "MoMo",
    zalopay: "ZaloPay",
  };
  const KINDS = {
    discount: "Mã giảm giá",
    freeship: "Miễn phí vận chuyển",
    payment: "Ưu đãi thanh toán",
    referral: "Giới thiệu bạn",
    campaign: "Chương trình",
  };
  const GROUPS = ["discount", "freeship", "payment", "referral", "campaign"];
  const PROMO_NUMBERS = ["percent", "amount", "cap", "min_order"];
  const PROMO_TEXTS = ["name", "limits", "notes"];
  const TRAIN_STATES = {
    queued: "Đang chờ",
    training: "Đang huấn luyện",
    evaluating: "Đang kiểm tra",
    publishing: "Đang xuất bản",
    published: "Đã xuất bản",
    refused: "Không xuất bản",
    failed: "Lỗi",
  };
  const HISTORY_KINDS = { topic: "Chủ đề", promotion: "Khuyến mãi", inbox: "Bot chưa hiểu", model: "Bản huấn luyện" };
  const HISTORY_ACTIONS = {
    create: "Tạo",
    update: "Sửa",
    rename: "Đổi tên",
    delete: "Xoá",
    publish: "Xuất bản",
    rollback: "Quay lại bản cũ",
    undo: "Hoàn tác",
    assign: "Gán vào chủ đề",
    out_of_scope: "Ngoài phạm vi",
    "out-of-scope": "Ngoài phạm vi",
    ignore: "Bỏ qua",
    add_example: "Thêm câu hỏi mẫu",
    import: "Nhập bảng tính",
  };
  const SOURCES = { low_confidence: "Bot không chắc", handoff: "Chuyển nhân viên" };
  const FIELD_LABELS = {
    responses: "Câu trả lời",
    examples: "Câu hỏi mẫu",
    text: "Nội dung",
    buttons: "Nút bấm",
    name: "Tên",
    code: "Mã",
    kind: "Loại",
    percent: "Phần trăm",
    amount: "Số tiền",
    cap: "Tối đa",
    min_order: "Đơn tối thiểu",
    tiers: "Hạng",
    payment_methods: "Thanh toán",
    start: "Bắt đầu",
    end: "Kết thúc",
    stack_group: "Nhóm cộng dồn",
    excludes_groups: "Không dùng kèm",
    limits: "Giới hạn",
    notes: "Ghi chú",
    aliases: "Tên khác",
    topic: "Chủ đề",
    status: "Trạng thái",
    accuracy: "Độ chính xác",
    errors: "Câu bot nhận sai",
  };

  const $ = (id) => document.getElementById(id);

  const state = {
    token: null,
    tab: "faq",
    timers: {},
    faq: {
      topics: [],
      q: "",
      listSeq: 0,
      mode: null, // "create" | "edit"
      topic: null, // the stored topic being edited
      dirty: false,
      conflict: null,
      previewSeq: 0,
    },
    promo: { list: [], shipping: null, mode: null, current: null, conflict: null },
    inbox: { items: [], topics: [] },
    train: { jobId: null, polling: false },
  };

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function button(label, className, onClick) {
    const b = el("button", className || "btn", label);
    b.type = "button";
    if (onClick) b.addEventListener("click", onClick);
    return b;
  }

  function option(value, label, selected) {
    const o = el("option", null, label);
    o.value = value;
    if (selected) o.selected = true;
    return o;
  }

  function cell(row, text, className) {
    const td = el("td", className, text);
    row.appendChild(td);
    return td;
  }

  function safeUrl(value) {
    try {
      const url = new URL(String(value), window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (problem) {
      return null;
    }
  }

  // ------------------------------------------------------------------ formatting
  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function toDate(value) {
    if (value === null || value === undefined || value === "") return null;
    let d;
    if (typeof value === "number" || /^\d+(\.\d+)?$/.test(String(value))) {
      const n = Number(value);
      d = new Date(n > 1e12 ? n : n * 1000);
    } else {
      d = new Date(String(value));
    }
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(value) {
    const d = toDate(value);
    if (!d) return "–";
    const v = new Date(d.getTime() + TZ_OFFSET_SECONDS * 1000);
    return (
      pad(v.getUTCHours()) + ":" + pad(v.getUTCMinutes()) + " " +
      pad(v.getUTCDate()) + "/" + pad(v.getUTCMonth() + 1) + "/" + v.getUTCFullYear()
    );
  }

  function fmtDay(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
    return m ? `${m[3]}/${m[2]}/${m[1]}` : String(value || "");
  }

  function todayInVietnam() {
    const v = new Date(Date.now() + TZ_OFFSET_SECONDS * 1000);
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())}`;
  }

  function fmtMoney(n) {
    if (n === null || n === undefined || n === "" || isNaN(Number(n))) return "–";
    return Number(n).toLocaleString("vi-VN") + "đ";
  }

  /** Accuracy as a percentage; the API may give 0..1 or 0..100. */
  function pctValue(x) {
    if (x === null || x === undefined || x === "" || isNaN(Number(x))) return null;
    const n = Number(x);
    return n <= 1 ? n * 100 : n;
  }

  function fmtPct(x) {
    const v = pctValue(x);
    return v === null ? "–" : v.toFixed(1).replace(".", ",") + "%";
  }

  function fmtDelta(before, after) {
    const a = pctValue(after);
    const b = pctValue(before);
    if (a === null || b === null) return { text: "–", cls: "" };
    const d = a - b;
    const text = (d > 0 ? "+" : d < 0 ? "−" : "±") + Math.abs(d).toFixed(1).replace(".", ",") + " điểm";
    return { text, cls: d > 0.05 ? "delta-up" : d < -0.05 ? "delta-down" : "" };
  }

  function fieldLabel(field) {
    const first = String(field || "").split(/[.[\]]/)[0];
    return FIELD_LABELS[first] || field;
  }

  // ------------------------------------------------------------------ banner
  function showError(message, kind) {
    $("error-text").textContent = message;
    $("error").className = "banner" + (kind === "info" ? " info" : "");
    $("error").hidden = false;
    clearTimeout(state.timers.error);
    state.timers.error = setTimeout(hideError, kind === "info" ? INFO_HIDE_MS : ERROR_HIDE_MS);
  }

  function showInfo(message) {
    showError(message, "info");
  }

  function hideError() {
    $("error").hidden = true;
    clearTimeout(state.timers.error);
  }

  // ------------------------------------------------------------------ API
  class ApiError extends Error {
    constructor(status, data) {
      super(`HTTP ${status}`);
      this.status = status;
      this.data = data && typeof data === "object" ? data : {};
    }
  }

  const MSG_401 = "Mã đăng nhập không đúng hoặc đã bị thu hồi. Vui lòng đăng nhập lại bằng mã của đội nội dung.";
  const MSG_403 =
    "Mã này không có quyền sửa nội dung của bot (đây là mã của nhân viên CSKH hoặc của máy chủ). " +
    "Hãy dùng mã của đội nội dung.";

  function errorMessage(err) {
    if (!(err instanceof ApiError)) return "Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.";
    const own = typeof err.data.message === "string" && err.data.message ? err.data.message : null;
    switch (err.status) {
      case 400:
        return own || "Yêu cầu không hợp lệ.";
      case 401:
        return MSG_401;
      case 403:
        return MSG_403;
      case 404:
        return own || "Không tìm thấy nội dung này (có thể vừa bị xoá).";
      case 409:
        return own || "Nội dung này vừa được người khác sửa.";
      case 413:
        return own || "Dữ liệu gửi lên quá lớn.";
      case 422:
        return own || "Nội dung chưa hợp lệ, xem các lỗi bên cạnh từng ô.";
      case 503:
        return own || "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại.";
      default:
        return own || `Máy chủ gặp lỗi (${err.status}). Vui lòng thử lại.`;
    }
  }

  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Authorization: "Bearer " + (opts.token || state.token), Accept: "application/json" };
    const init = { method, headers, cache: "no-store" };
    if (opts.rawBody !== undefined) {
      headers["Content-Type"] = opts.contentType || "application/octet-stream";
      init.body = opts.rawBody;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (opts.blob && res.ok) return res.blob();
    const type = res.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await res.json().catch(() => null) : await res.text().catch(() => "");
    if (!res.ok) {
      const err = new ApiError(res.status, data);
      if ((res.status === 401 || res.status === 403) && !opts.login) sessionRefused(res.status);
      throw err;
    }
    return data;
  }

  function listFrom(data, ...keys) {
    if (Array.isArray(data)) return data;
    for (const key of [...keys, "items"]) if (data && Array.isArray(data[key])) return data[key];
    return [];
  }

  // ------------------------------------------------------------------ validation problems
  /** Canonical field paths: "responses[0].buttons[1]" → ["responses.0.buttons.1", "responses.0.buttons", …]. */
  function fieldCandidates(field) {
    const parts = String(field || "").split(/[.[\]]+/).filter(Boolean);
    const out = [];
    for (let k = parts.length; k > 0; k--) out.push(parts.slice(0, k).join("."));
    return out;
  }

  function clearProblems(root) {
    for (const box of root.querySelectorAll(".problems")) clear(box);
    for (const input of root.querySelectorAll(".invalid")) input.classList.remove("invalid");
  }

  function showProblems(root, problems, aliases) {
    clearProblems(root);
    let first = null;
    for (const problem of problems || []) {
      if (!problem || typeof problem !== "object") continue;
      let field = String(problem.field || "");
      if (aliases && aliases[field]) field = aliases[field];
      let box = null;
      for (const candidate of fieldCandidates(field)) {
        box = root.querySelector(`.problems[data-field="${CSS.escape(candidate)}"]`);
        if (box) break;
      }
      let message = String(problem.message || "Giá trị không hợp lệ.");
      if (!box) {
        box = root.querySelector('.problems[data-field="_general"]') || root.querySelector(".problems");
        if (field) message = `${fieldLabel(field)}: ${message}`;
      }
      if (!box) continue;
      box.appendChild(el("p", "problem", message));
      const input = box.dataset.input ? $(box.dataset.input) : null;
      if (input) input.classList.add("invalid");
      if (!first) first = box;
    }
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  // ------------------------------------------------------------------ dialog (confirm / prompt)
  function ask(opts) {
    const dialog = $("dialog");
    $("dialog-title").textContent = opts.title || "";
    $("dialog-text").textContent = opts.text || "";
    $("dialog-text").hidden = !opts.text;
    const ok = $("dialog-ok");
    ok.textContent = opts.ok || "Đồng ý";
    ok.className = "btn " + (opts.danger ? "btn-danger solid" : "btn-primary");
    const withInput = opts.input !== undefined;
    $("dialog-input-row").hidden = !withInput;
    if (withInput) {
      $("dialog-input-label").textContent = opts.inputLabel || "";
      $("dialog-input").value = opts.input || "";
    }
    return new Promise((resolve) => {
      const done = (value) => {
        $("dialog-form").removeEventListener("submit", onSubmit);
        $("dialog-cancel").removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        resolve(value);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        done(withInput ? $("dialog-input").value.trim() : true);
      };
      const onCancel = (event) => {
        if (event) event.preventDefault();
        done(null);
      };
      $("dialog-form").addEventListener("submit", onSubmit);
      $("dialog-cancel").addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
      (withInput ? $("dialog-input") : ok).focus();
    });
  }

  // ------------------------------------------------------------------ chat-page rendering (handoff/static/chat/chat.js)
  const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;
  const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"…]+$/;
  const RATING = /^\/give_rating\{\s*"rating"\s*:\s*([1-5])\s*\}$/;

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

  function ratingOf(b) {
    const match = RATING.exec(String(b.payload).trim());
    return match ? Number(match[1]) : null;
  }

  function choices(buttons) {
    const ratings = buttons.map(ratingOf);
    if (ratings.every((r) => r !== null)) {
      const group = el("div", "choices stars");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Đánh giá từ 1 đến 5 sao");
      buttons
        .map((b, i) => ({ b, rating: ratings[i] }))
        .sort((x, y) => x.rating - y.rating)
        .forEach(({ rating }) => {
          const star = button("★", "star");
          star.setAttribute("aria-label", `${rating} sao`);
          star.title = `${rating} sao`;
          group.appendChild(star);
        });
      return group;
    }
    const group = el("div", "choices");
    for (const b of buttons) {
      const choice = button(String(b.title || b.payload), "choice");
      choice.title = "Khi khách bấm, bot nhận: " + String(b.payload);
      group.appendChild(choice);
    }
    return group;
  }

  /** One bot message as the chat page shows it; null if it has nothing to show. */
  function chatMessage(message, role) {
    const text = typeof message.text === "string" ? message.text : "";
    const buttons = Array.isArray(message.buttons || message.quick_replies)
      ? (message.buttons || message.quick_replies).filter(
          (b) => b && typeof b === "object" && b.payload !== undefined && b.payload !== null,
        )
      : [];
    const image = message.image ? safeUrl(message.image) : null;
    if (!text && !buttons.length && !image) return null;
    const row = el("div", `msg ${role || "bot"}`);
    if (text) {
      const bubble = el("div", "bubble");
      appendRichText(bubble, text);
      row.appendChild(bubble);
    }
    if (image) {
      const img = el("img", "image");
      img.src = image;
      img.alt = "Hình ảnh SenMart gửi bạn";
      img.referrerPolicy = "no-referrer";
      row.appendChild(img);
    }
    if (buttons.length) row.appendChild(choices(buttons));
    row.appendChild(el("span", "time", new Date().toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" })));
    return row;
  }

  function renderChat(container, messages, emptyText, labelOf) {
    clear(container);
    let shown = 0;
    (messages || []).forEach((m, i) => {
      if (!m || typeof m !== "object") return;
      const row = chatMessage(m, "bot");
      if (!row) return;
      if (labelOf) container.appendChild(el("span", "preview-label", labelOf(i)));
      container.appendChild(row);
      shown++;
    });
    if (!shown) container.appendChild(el("p", "preview-empty", emptyText || "Chưa có nội dung để xem trước."));
  }

  // ------------------------------------------------------------------ login / logout
  function showLogin(message) {
    stopTimers();
    $("app").hidden = true;
    $("login-view").hidden = false;
    const le = $("login-error");
    le.textContent = message || "";
    le.hidden = !message;
    $("token").focus();
  }

  async function login(token) {
    token = (token || "").trim();
    if (!token) {
      showLogin("Vui lòng nhập mã đăng nhập.");
      return;
    }
    $("login").disabled = true;
    try {
      // /studio/api/* checks the token before anything else: only 401/403 say the token is wrong
      await api("GET", "/studio/api/topics", undefined, { token, login: true }).catch((err) => {
        if (err instanceof ApiError && err.status !== 401 && err.status !== 403) return null;
        throw err;
      });
      state.token = token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      hideError();
      startApp();
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = null;
      const message =
        err instanceof ApiError && err.status === 401
          ? "Mã đăng nhập không đúng. Vui lòng kiểm tra lại mã của đội nội dung."
          : errorMessage(err);
      showLogin(message);
    } finally {
      $("login").disabled = false;
    }
  }

  function logout() {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    hideError();
    showLogin(null);
  }

  function sessionRefused(status) {
    if (!state.token) return;
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    showLogin(status === 403 ? MSG_403 : MSG_401);
  }

  function stopTimers() {
    for (const key of Object.keys(state.timers)) {
      if (key === "error") continue;
      clearTimeout(state.timers[key]);
      clearInterval(state.timers[key]);
      delete state.timers[key];
    }
    state.train.polling = false;
  }

  function startApp() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    const wanted = (location.hash || "").replace(/^#/, "") || sessionStorage.getItem(TAB_KEY) || "faq";
    showTab(document.querySelector(`.tab[data-tab="${CSS.escape(wanted)}"]`) ? wanted : "faq");
    refreshInboxBadge();
    const job = sessionStorage.getItem(JOB_KEY);
    if (job) followJob(job);
  }

  // ------------------------------------------------------------------ tabs
  const TAB_LOADERS = {
    faq: () => loadTopics(),
    promotions: () => loadPromotions(),
    inbox: () => loadInbox(),
    train: () => loadModels(),
    history: () => loadHistory(),
    sheets: () => null,
  };

  function showTab(name) {
    state.tab = name;
    sessionStorage.setItem(TAB_KEY, name);
    if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
    for (const tab of document.querySelectorAll(".tab[data-tab]")) {
      const active = tab.dataset.tab === name;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", active ? "true" : "false");
      $("panel-" + tab.dataset.tab).hidden = !active;
    }
    const loader = TAB_LOADERS[name];
    if (loader) {
      const p = loader();
      if (p && p.catch) p.catch((err) => showError(errorMessage(err)));
    }
  }

  // ================================================================== FAQ topics
  async function loadTopics() {
    const seq = ++state.faq.listSeq;
    const q = state.faq.q ? "?q=" + encodeURIComponent(state.faq.q) : "";
    const data = await api("GET", "/studio/api/topics" + q);
    if (seq !== state.faq.listSeq) return;
    state.faq.topics = listFrom(data, "topics");
    renderTopicList();
  }

  function renderTopicList() {
    const list = $("topic-list");
    clear(list);
    const topics = state.faq.topics;
    $("topics-count").textContent = `(${topics.length})`;
    $("topic-empty").hidden = topics.length > 0;
    const selected = state.faq.mode === "edit" && state.faq.topic ? state.faq.topic.name : null;
    for (const t of topics) {
      const row = button("", "topic-row" + (t.name === selected ? " selected" : ""));
      row.setAttribute("role", "listitem");
      row.dataset.name = t.name;
      row.appendChild(el("span", "topic-row-name", t.name));
      const n = Number(t.examples_count || 0);
      row.appendChild(el("span", "topic-row-count" + (n < MIN_EXAMPLES ? " low" : ""), `${n} ví dụ`));
      row.appendChild(el("span", "topic-row-answer", t.answer || "(chưa có câu trả lời)"));
      row.addEventListener("click", () => openTopic(t.name));
      list.appendChild(row);
    }
  }

  async function discardChanges() {
    if (!state.faq.dirty) return true;
    const ok = await ask({
      title: "Bỏ thay đổi chưa lưu?",
      text: "Bạn đã sửa chủ đề này nhưng chưa bấm Lưu. Bỏ các thay đổi đó?",
      ok: "Bỏ thay đổi",
      danger: true,
    });
    return Boolean(ok);
  }

  async function openTopic(name) {
    if (!(await discardChanges())) return;
    try {
      const topic = await api("GET", "/studio/api/topics/" + encodeURIComponent(name));
      editTopic(topic);
    } catch (err) {
      showError(errorMessage(err));
      if (err instanceof ApiError && err.status === 404) loadTopics().catch(() => null);
    }
  }

  function setTopicStatus(text) {
    $("topic-status").textContent = text || "";
  }

  function editTopic(topic) {
    const faq = state.faq;
    faq.mode = "edit";
    faq.topic = topic;
    faq.dirty = false;
    const form = $("topic-form");
    form.dataset.loads = String(Number(form.dataset.loads || 0) + 1); // tests wait for a fresh load
    hideConflict("topic");
    $("topic-placeholder").hidden = true;
    $("topic-form").hidden = false;
    $("topic-name").hidden = true;
    $("topic-name-hint").hidden = true;
    $("topic-title").hidden = false;
    $("topic-title").textContent = topic.name;
    $("topic-rename").hidden = false;
    $("topic-delete").hidden = false;
    clearProblems($("topic-form"));
    renderResponses(topic.responses && topic.responses.length ? topic.responses : [{ text: "", buttons: [] }]);
    $("examples").value = (topic.examples || []).join("\n");
    $("example-new").value = "";
    updateExampleCount();
    setTopicStatus("");
    renderTopicList();
    refreshPreview(true);
  }

  function newTopic() {
    const faq = state.faq;
    faq.mode = "create";
    faq.topic = null;
    faq.dirty = false;
    hideConflict("topic");
    $("topic-placeholder").hidden = true;
    $("topic-form").hidden = false;
    $("topic-name").hidden = false;
    $("topic-name").value = "";
    $("topic-name-hint").hidden = false;
    $("topic-title").hidden = true;
    $("topic-rename").hidden = true;
    $("topic-delete").hidden = true;
    clearProblems($("topic-form"));
    renderResponses([{ text: "", buttons: [] }]);
    $("examples").value = "";
    updateExampleCount();
    setTopicStatus("Chủ đề mới: nhập tên, câu trả lời và ít nhất 12 câu hỏi mẫu rồi bấm Lưu.");
    renderTopicList();
    refreshPreview(true);
    $("topic-name").focus();
  }

  function closeTopicEditor() {
    state.faq.mode = null;
    state.faq.topic = null;
    state.faq.dirty = false;
    $("topic-form").hidden = true;
    $("topic-placeholder").hidden = false;
    renderTopicList();
  }

  // -- responses (answer text + buttons) -------------------------------------------------------
  function renderResponses(responses) {
    const box = $("responses");
    clear(box);
    responses.forEach((r, i) => box.appendChild(responseBlock(r, i, responses.length)));
  }

  function responseBlock(response, index, total) {
    const block = el("div", "response");
    block.dataset.index = String(index);
    const head = el("div", "response-head");
    const textId = `response-${index}-text`;
    const label = el("label", null, total > 1 ? `Cách trả lời ${index + 1}` : "Nội dung trả lời");
    label.htmlFor = textId;
    head.appendChild(label);
    if (total > 1) {
      head.appendChild(
        button("Bỏ cách trả lời này", "btn btn-ghost btn-small", () => {
          const all = collectResponses();
          all.splice(index, 1);
          renderResponses(all);
          markDirty();
        }),
      );
    }
    block.appendChild(head);

    const text = el("textarea", "response-text");
    text.id = textId;
    text.rows = 4;
    text.value = typeof response.text === "string" ? response.text : "";
    text.placeholder = "Câu bot trả lời khách…";
    text.addEventListener("input", () => {
      updateChars(block);
      markDirty();
    });
    block.appendChild(text);
    block.appendChild(el("div", "response-chars"));
    block.appendChild(problemsBox(`responses.${index}.text`, textId));

    const buttonsTitle = el("div", "hint-text", "Nút bấm dưới câu trả lời (không bắt buộc): chữ trên nút và nội dung bot nhận khi khách bấm.");
    block.appendChild(buttonsTitle);
    const list = el("div", "buttons-list");
    (Array.isArray(response.buttons) ? response.buttons : []).forEach((b, j) => list.appendChild(buttonRow(b, index, j)));
    block.appendChild(list);
    block.appendChild(
      button("+ Thêm nút", "btn btn-ghost btn-small", () => {
        list.appendChild(buttonRow({ title: "", payload: "" }, index, list.children.length));
        list.lastChild.querySelector("input").focus();
        markDirty();
      }),
    );
    block.appendChild(problemsBox(`responses.${index}.buttons`));
    block.appendChild(problemsBox(`responses.${index}`));
    updateChars(block);
    return block;
  }

  function buttonRow(b, i, j) {
    const row = el("div", "button-row");
    row.dataset.index = String(j);
    const title = el("input", "button-title");
    title.type = "text";
    title.value = b && b.title !== undefined && b.title !== null ? String(b.title) : "";
    title.placeholder = "Chữ trên nút, ví dụ: Gặp nhân viên";
    title.setAttribute("aria-label", "Chữ trên nút");
    title.id = `response-${i}-button-${j}-title`;
    const payload = el("input", "button-payload");
    payload.type = "text";
    payload.spellcheck = false;
    payload.value = b && b.payload !== undefined && b.payload !== null ? String(b.payload) : "";
    payload.placeholder = "Bot nhận, ví dụ: /request_human";
    payload.setAttribute("aria-label", "Nội dung bot nhận khi bấm");
    for (const input of [title, payload]) input.addEventListener("input", markDirty);
    row.appendChild(title);
    row.appendChild(payload);
    row.appendChild(
      button("Xoá nút", "btn btn-ghost btn-small", () => {
        row.remove();
        markDirty();
      }),
    );
    row.appendChild(problemsBox(`responses.${i}.buttons.${j}`, title.id));
    return row;
  }

  function problemsBox(field, inputId) {
    const box = el("div", "problems");
    box.dataset.field = field;
    if (inputId) box.dataset.input = inputId;
    return box;
  }

  function updateChars(block) {
    const n = block.querySelector(".response-text").value.length;
    const counter = block.querySelector(".response-chars");
    counter.textContent = `${n}/${MAX_ANSWER} ký tự`;
    counter.classList.toggle("over", n > MAX_ANSWER);
  }

  function collectResponses() {
    return [...$("responses").querySelectorAll(".response")].map((block) => {
      const response = { text: block.querySelector(".response-text").value };
      const buttons = [...block.querySelectorAll(".button-row")].map((row) => ({
        title: row.querySelector(".button-title").value.trim(),
        payload: row.querySelector(".button-payload").value.trim(),
      }));
      if (buttons.length) response.buttons = buttons;
      return response;
    });
  }

  // -- examples ----------------------------------------------------------------------------------
  function collectExamples() {
    return $("examples")
      .value.split("\n")
      .map((line) => line.replace(/^\s*-\s+/, "").trim())
      .filter(Boolean);
  }

  function updateExampleCount() {
    const n = collectExamples().length;
    const counter = $("examples-count");
    counter.textContent =
      n < MIN_EXAMPLES ? `${n} ví dụ — cần tối thiểu ${MIN_EXAMPLES} (thiếu ${MIN_EXAMPLES - n})` : `${n} ví dụ (tối thiểu ${MIN_EXAMPLES})`;
    counter.classList.toggle("low", n < MIN_EXAMPLES);
  }

  function markDirty() {
    state.faq.dirty = true;
    setTopicStatus("Có thay đổi chưa lưu.");
    refreshPreview(false);
  }

  // -- live preview ------------------------------------------------------------------------------
  function refreshPreview(now) {
    const responses = collectResponses();
    const label = responses.length > 1 ? (i) => `Cách trả lời ${i + 1}` : null;
    // shown at once as the chat page would, then replaced by what the server says it will send
    renderChat($("topic-preview"), responses, "Nhập câu trả lời để xem trước.", label);
    clearTimeout(state.timers.preview);
    state.timers.preview = setTimeout(() => serverPreview(responses, label), now ? 0 : PREVIEW_DELAY_MS);
  }

  async function serverPreview(responses, label) {
    const seq = ++state.faq.previewSeq;
    try {
      const data = await api("POST", "/studio/api/preview", { responses });
      if (seq !== state.faq.previewSeq || !data || !Array.isArray(data.messages)) return;
      renderChat($("topic-preview"), data.messages, "Nhập câu trả lời để xem trước.", label);
    } catch (err) {
      // invalid answers (422) keep the local rendering; the problems show when saving
    }
  }

  // -- save / rename / delete / add example ------------------------------------------------------
  async function saveTopic(event) {
    if (event) event.preventDefault();
    const faq = state.faq;
    const form = $("topic-form");
    clearProblems(form);
    const body = { responses: collectResponses(), examples: collectExamples() };
    const save = $("topic-save");
    save.disabled = true;
    try {
      let topic;
      if (faq.mode === "create") {
        const name = $("topic-name").value.trim();
        if (!TOPIC_NAME.test(name)) {
          showProblems(form, [
            { field: "name", message: "Tên chủ đề chỉ gồm chữ thường không dấu, số và _, bắt đầu bằng chữ cái, 2–50 ký tự." },
          ]);
          return;
        }
        topic = await api("POST", "/studio/api/topics", { name, ...body });
      } else {
        topic = await api("PUT", "/studio/api/topics/" + encodeURIComponent(faq.topic.name), {
          version: faq.topic.version,
          ...body,
        });
      }
      editTopic(topic);
      setTopicStatus(
        `Đã lưu lúc ${fmtTime(Date.now())}. Câu trả lời có hiệu lực ngay; câu hỏi mẫu mới cần “Huấn luyện & xuất bản”.`,
      );
      loadTopics().catch(() => null);
    } catch (err) {
      handleTopicError(err);
    } finally {
      save.disabled = false;
    }
  }

  function handleTopicError(err, aliases) {
    if (err instanceof ApiError && err.status === 422) {
      showProblems($("topic-form"), err.data.problems || [{ field: "", message: errorMessage(err) }], aliases);
      setTopicStatus("Chưa lưu: xem các lỗi bên cạnh từng ô.");
      return;
    }
    if (err instanceof ApiError && err.status === 409) {
      const name = state.faq.topic ? state.faq.topic.name : "";
      showConflict("topic", name, err.data.current || null);
      return;
    }
    showError(errorMessage(err));
  }

  async function lastEditor(target) {
    try {
      const data = await api("GET", `/studio/api/history?limit=1&target=${encodeURIComponent(target)}`);
      const entry = listFrom(data, "history", "entries", "changes")[0];
      return entry || null;
    } catch (err) {
      return null;
    }
  }

  async function showConflict(kind, target, current) {
    const box = $(kind + "-conflict");
    const who = await lastEditor(target);
    const name = who && who.editor ? who.editor : "người khác";
    const when = who && who.at ? ` lúc ${fmtTime(who.at)}` : "";
    $(kind + "-conflict-text").textContent =
      `Nội dung này vừa được ${name} sửa${when}. Thay đổi của bạn chưa được lưu: tải bản mới nhất rồi sửa lại.`;
    box.hidden = false;
    if (kind === "topic") {
      state.faq.conflict = current;
      setTopicStatus("Chưa lưu: có người vừa sửa chủ đề này.");
    } else {
      state.promo.conflict = current;
      $("promo-status").textContent = "Chưa lưu: có người vừa sửa khuyến mãi này.";
    }
    box.scrollIntoView({ block: "nearest" });
  }

  function hideConflict(kind) {
    $(kind + "-conflict").hidden = true;
    if (kind === "topic") state.faq.conflict = null;
    else state.promo.conflict = null;
  }

  async function loadNewerTopic() {
    const current = state.faq.conflict;
    const name = current && current.name ? current.name : state.faq.topic && state.faq.topic.name;
    state.faq.dirty = false;
    try {
      const topic = current && current.version ? current : await api("GET", "/studio/api/topics/" + encodeURIComponent(name));
      editTopic(topic);
      setTopicStatus("Đã tải bản mới nhất.");
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        closeTopicEditor();
        showError("Chủ đề này vừa bị xoá.");
      } else showError(errorMessage(err));
    }
    loadTopics().catch(() => null);
  }

  async function renameTopic() {
    const topic = state.faq.topic;
    if (!topic) return;
    if (!(await discardChanges())) return;
    const newName = await ask({
      title: "Đổi tên chủ đề",
      text: `Tên hiện tại: ${topic.name}`,
      ok: "Đổi tên",
      input: topic.name,
      inputLabel: "Tên mới (chữ thường không dấu, số, _)",
    });
    if (!newName || newName === topic.name) return;
    try {
      const renamed = await api("POST", `/studio/api/topics/${encodeURIComponent(topic.name)}/rename`, {
        version: topic.version,
        new_name: newName,
      });
      editTopic(renamed);
      showInfo(`Đã đổi tên ${topic.name} thành ${renamed.name}.`);
      loadTopics().catch(() => null);
    } catch (err) {
      handleTopicError(err, { new_name: "name" });
    }
  }

  async function deleteTopic() {
    const topic = state.faq.topic;
    if (!topic) return;
    const ok = await ask({
      title: `Xoá chủ đề ${topic.name}?`,
      text: "Câu trả lời và toàn bộ câu hỏi mẫu của chủ đề sẽ bị xoá. Có thể hoàn tác trong tab Lịch sử.",
      ok: "Xoá chủ đề",
      danger: true,
    });
    if (!ok) return;
    try {
      await api("DELETE", `/studio/api/topics/${encodeURIComponent(topic.name)}?version=${encodeURIComponent(topic.version)}`);
      closeTopicEditor();
      showInfo(`Đã xoá chủ đề ${topic.name}.`);
      loadTopics().catch(() => null);
    } catch (err) {
      handleTopicError(err);
    }
  }

  async function addExample() {
    const input = $("example-new");
    const text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    const faq = state.faq;
    if (faq.mode !== "edit" || faq.dirty) {
      // unsaved edits: the example joins them and is saved with them
      const current = $("examples").value.replace(/\s+$/, "");
      $("examples").value = current ? current + "\n" + text : text;
      input.value = "";
      updateExampleCount();
      markDirty();
      return;
    }
    try {
      const topic = await api("POST", `/studio/api/topics/${encodeURIComponent(faq.topic.name)}/examples`, {
        version: faq.topic.version,
        text,
      });
      editTopic(topic);
      setTopicStatus(`Đã thêm câu hỏi mẫu lúc ${fmtTime(Date.now())}. Cần “Huấn luyện & xuất bản” để bot học.`);
      loadTopics().catch(() => null);
    } catch (err) {
      handleTopicError(err, { text: "examples" });
    }
  }

  // ================================================================== promotions
  async function loadPromotions() {
    const data = await api("GET", "/studio/api/promotions");
    state.promo.list = listFrom(data, "promotions");
    state.promo.shipping = data && data.shipping ? data.shipping : null;
    renderPromotions();
  }

  function benefitText(p) {
    const parts = [];
    if (p.kind === "freeship") parts.push("Miễn phí giao hàng");
    if (p.percent !== undefined && p.percent !== null && p.percent !== "") parts.push(`${p.percent}%`);
    if (p.amount !== undefined && p.amount !== null && p.amount !== "") parts.push(fmtMoney(p.amount));
    if (p.cap !== undefined && p.cap !== null && p.cap !== "") parts.push(`tối đa ${fmtMoney(p.cap)}`);
    return parts.join(", ") || "–";
  }

  function listText(values, labels, all) {
    if (!Array.isArray(values) || !values.length) return all;
    return values.map((v) => (labels && labels[v]) || v).join(", ");
  }

  function renderPromotions() {
    const rows = $("promo-rows");
    clear(rows);
    const promo = state.promo;
    $("promo-count").textContent = `(${promo.list.length})`;
    const s = promo.shipping;
    $("promo-shipping").textContent =
      s && s.shipping_fee_standard !== undefined
        ? `Phí giao tiêu chuẩn ${fmtMoney(s.shipping_fee_standard)}, miễn phí từ đơn ${fmtMoney(s.free_shipping_min_order)}`
        : "";
    const selected = promo.mode === "edit" && promo.current ? promo.current.code : null;
    for (const p of promo.list) {
      const tr = el("tr", "clickable" + (p.code === selected ? " selected" : ""));
      tr.dataset.code = p.code;
      tr.tabIndex = 0;
      cell(tr, p.code, "mono");
      cell(tr, p.name || "");
      cell(tr, KINDS[p.kind] || p.kind || "");
      cell(tr, benefitText(p));
      cell(tr, p.min_order ? fmtMoney(p.min_order) : "–", "num");
      cell(tr, listText(p.tiers, null, "Mọi hạng"));
      cell(tr, listText(p.payment_methods, PAYMENTS, "Mọi phương thức"));
      cell(tr, p.start || p.end ? `${fmtDay(p.start)} – ${fmtDay(p.end)}` : "Thường xuyên");
      cell(tr, p.stack_group || p.kind || "");
      tr.addEventListener("click", () => editPromotion(p));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter") editPromotion(p);
      });
      rows.appendChild(tr);
    }
    const tryCode = $("try-code");
    const chosen = tryCode.value;
    while (tryCode.options.length > 1) tryCode.remove(1);
    for (const p of promo.list) tryCode.appendChild(option(p.code, `${p.code} – ${p.name || ""}`, p.code === chosen));
  }

  function checkboxes(containerId, values, labels) {
    const box = $(containerId);
    for (const label of [...box.querySelectorAll("label")]) label.remove();
    const problems = box.querySelector(".problems");
    for (const value of values) {
      const label = el("label");
      const input = el("input");
      input.type = "checkbox";
      input.value = value;
      label.appendChild(input);
      label.appendChild(document.createTextNode(labels ? labels[value] || value : value));
      box.insertBefore(label, problems);
    }
  }

  function setChecked(containerId, values) {
    const set = new Set(Array.isArray(values) ? values : []);
    for (const input of $(containerId).querySelectorAll("input[type=checkbox]")) input.checked = set.has(input.value);
  }

  function checkedValues(containerId) {
    return [...$(containerId).querySelectorAll("input[type=checkbox]:checked")].map((i) => i.value);
  }

  function fillPromotionForm(p) {
    $("p-code").value = p.code || "";
    $("p-kind").value = p.kind || "discount";
    for (const key of PROMO_NUMBERS) $("p-" + key).value = p[key] === undefined || p[key] === null ? "" : String(p[key]);
    for (const key of PROMO_TEXTS) $("p-" + key).value = p[key] === undefined || p[key] === null ? "" : String(p[key]);
    $("p-start").value = p.start ? String(p.start).slice(0, 10) : "";
    $("p-end").value = p.end ? String(p.end).slice(0, 10) : "";
    $("p-stack_group").value = p.stack_group || "";
    setChecked("p-tiers", p.tiers);
    setChecked("p-payment_methods", p.payment_methods);
    setChecked("p-excludes_groups", p.excludes_groups);
    $("p-aliases").value = Array.isArray(p.aliases) ? p.aliases.join("\n") : "";
  }

  function editPromotion(p) {
    const promo = state.promo;
    promo.mode = "edit";
    promo.current = p;
    hideConflict("promo");
    clearProblems($("promo-form"));
    fillPromotionForm(p);
    $("p-code").readOnly = true;
    $("promo-form-title").textContent = `Sửa khuyến mãi ${p.code}`;
    $("promo-delete").hidden = false;
    $("promo-status").textContent = "";
    $("promo-form").hidden = false;
    renderPromotions();
    $("promo-form").scrollIntoView({ block: "nearest" });
  }

  function newPromotion() {
    const promo = state.promo;
    promo.mode = "create";
    promo.current = null;
    hideConflict("promo");
    clearProblems($("promo-form"));
    fillPromotionForm({ kind: "discount" });
    $("p-code").readOnly = false;
    $("promo-form-title").textContent = "Khuyến mãi mới";
    $("promo-delete").hidden = true;
    $("promo-status").textContent = "";
    $("promo-form").hidden = false;
    renderPromotions();
    $("p-code").focus();
  }

  function closePromotion() {
    state.promo.mode = null;
    state.promo.current = null;
    $("promo-form").hidden = true;
    renderPromotions();
  }

  function collectPromotion() {
    const p = { code: $("p-code").value.trim().toUpperCase(), kind: $("p-kind").value };
    for (const key of PROMO_TEXTS) {
      const v = $("p-" + key).value.trim();
      if (v) p[key] = v;
    }
    for (const key of PROMO_NUMBERS) {
      const raw = $("p-" + key).value.trim();
      if (raw === "") continue;
      const n = Number(raw);
      p[key] = Number.isFinite(n) ? n : raw;
    }
    for (const key of ["start", "end"]) {
      const v = $("p-" + key).value;
      if (v) p[key] = v;
    }
    const group = $("p-stack_group").value;
    if (group) p.stack_group = group;
    for (const key of ["tiers", "payment_methods", "excludes_groups"]) {
      const values = checkedValues("p-" + key);
      if (values.length) p[key] = values;
    }
    const aliases = $("p-aliases")
      .value.split("\n")
      .map((a) => a.trim())
      .filter(Boolean);
    if (aliases.length) p.aliases = aliases;
    return p;
  }

  async function savePromotion(event) {
    if (event) event.preventDefault();
    const promo = state.promo;
    const form = $("promo-form");
    clearProblems(form);
    const body = collectPromotion();
    $("promo-save").disabled = true;
    try {
      let saved;
      if (promo.mode === "create") saved = await api("POST", "/studio/api/promotions", body);
      else {
        saved = await api("PUT", "/studio/api/promotions/" + encodeURIComponent(promo.current.code), {
          ...body,
          version: promo.current.version,
        });
      }
      await loadPromotions();
      const fresh = state.promo.list.find((p) => p.code === (saved && saved.code) || p.code === body.code);
      if (fresh) editPromotion(fresh);
      $("promo-status").textContent = `Đã lưu lúc ${fmtTime(Date.now())}. Bot dùng ngay, không cần huấn luyện.`;
    } catch (err) {
      handlePromotionError(err);
    } finally {
      $("promo-save").disabled = false;
    }
  }

  function handlePromotionError(err) {
    if (err instanceof ApiError && err.status === 422) {
      showProblems($("promo-form"), err.data.problems || [{ field: "", message: errorMessage(err) }]);
      $("promo-status").textContent = "Chưa lưu: xem các lỗi bên cạnh từng ô.";
      return;
    }
    if (err instanceof ApiError && err.status === 409) {
      const code = state.promo.current ? state.promo.current.code : $("p-code").value.trim().toUpperCase();
      if (state.promo.mode === "create") {
        showProblems($("promo-form"), [{ field: "code", message: errorMessage(err) }]);
        return;
      }
      showConflict("promo", code, err.data.current || null);
      return;
    }
    showError(errorMessage(err));
  }

  async function loadNewerPromotion() {
    const current = state.promo.conflict;
    const code = state.promo.current && state.promo.current.code;
    try {
      await loadPromotions();
    } catch (err) {
      showError(errorMessage(err));
    }
    const fresh = (current && current.version ? current : null) || state.promo.list.find((p) => p.code === code);
    if (fresh) {
      editPromotion(fresh);
      $("promo-status").textContent = "Đã tải bản mới nhất.";
    } else {
      closePromotion();
      showError("Khuyến mãi này vừa bị xoá.");
    }
  }

  async function deletePromotion() {
    const p = state.promo.current;
    if (!p) return;
    const ok = await ask({
      title: `Xoá khuyến mãi ${p.code}?`,
      text: "Bot sẽ thôi giới thiệu và áp dụng mã này ngay. Có thể hoàn tác trong tab Lịch sử.",
      ok: "Xoá khuyến mãi",
      danger: true,
    });
    if (!ok) return;
    try {
      await api("DELETE", `/studio/api/promotions/${encodeURIComponent(p.code)}?version=${encodeURIComponent(p.version)}`);
      closePromotion();
      showInfo(`Đã xoá khuyến mãi ${p.code}.`);
      await loadPromotions();
    } catch (err) {
      handlePromotionError(err);
    }
  }

  async function tryPromotion(event) {
    if (event) event.preventDefault();
    const form = $("try-form");
    clearProblems(form);
    const body = {};
    const code = $("try-code").value;
    if (code) body.code = code;
    const amount = $("try-amount").value.trim();
    if (amount !== "") body.amount = Number(amount);
    if ($("try-tier").value) body.tier = $("try-tier").value;
    if ($("try-payment").value) body.payment = $("try-payment").value;
    if ($("try-date").value) body.date = $("try-date").value;
    $("try-run").disabled = true;
    try {
      const data = await api("POST", "/studio/api/promotions/try", body);
      renderChat($("try-result"), data && data.messages, "Bot không trả lời gì cho trường hợp này.");
    } catch (err) {
      clear($("try-result"));
      if (err instanceof ApiError && err.status === 422) {
        const problems = (err.data.problems || []).map((p) => ({ field: "_try", message: `${fieldLabel(p.field)}: ${p.message}` }));
        showProblems(form, problems.length ? problems : [{ field: "_try", message: errorMessage(err) }]);
      } else showError(errorMessage(err));
    } finally {
      $("try-run").disabled = false;
    }
  }

  // ================================================================== "Bot chưa hiểu" inbox
  function sortNewest(items) {
    const t = (x) => {
      const d = toDate(x.last_seen || x.first_seen);
      return d ? d.getTime() : 0;
    };
    return [...items].sort((a, b) => t(b) - t(a));
  }

  async function refreshInboxBadge() {
    try {
      const data = await api("GET", "/studio/api/inbox?status=open");
      setInboxBadge(listFrom(data, "items").length);
    } catch (err) {
      // the badge is a convenience
    }
  }

  function setInboxBadge(n) {
    $("inbox-badge").textContent = String(n);
    $("inbox-badge").hidden = !n;
  }

  async function loadInbox() {
    const seq = (state.inbox.seq = (state.inbox.seq || 0) + 1);
    // every topic for the select, whatever the FAQ tab's search shows
    const [data, topics] = await Promise.all([
      api("GET", "/studio/api/inbox?status=open"),
      api("GET", "/studio/api/topics"),
    ]);
    if (seq !== state.inbox.seq) return; // a newer load is on its way
    state.inbox.topics = listFrom(topics, "topics").map((t) => t.name);
    state.inbox.items = sortNewest(listFrom(data, "items"));
    renderInbox();
  }

  function topicOfIntent(intent) {
    const m = /^faq\/(.+)$/.exec(String(intent || ""));
    return m ? m[1] : null;
  }

  function renderInbox() {
    const list = $("inbox-list");
    clear(list);
    const items = state.inbox.items;
    $("inbox-count").textContent = `(${items.length})`;
    $("inbox-empty").hidden = items.length > 0;
    setInboxBadge(items.length);
    for (const item of items) list.appendChild(inboxItem(item));
  }

  function inboxItem(item) {
    const card = el("article", "inbox-item");
    card.setAttribute("role", "listitem");
    card.dataset.id = item.id;
    card.appendChild(el("div", "inbox-text", item.text));
    const meta = el("div", "inbox-meta");
    meta.appendChild(el("span", "inbox-count", `${item.count || 1} lần`));
    meta.appendChild(el("span", null, `lần cuối ${fmtTime(item.last_seen)}`));
    for (const source of item.sources || []) meta.appendChild(el("span", "badge warn", SOURCES[source] || source));
    card.appendChild(meta);

    const guesses = el("div", "guesses");
    const top = (item.guesses || []).slice(0, 3);
    guesses.appendChild(el("span", "muted", top.length ? "Bot đoán:" : "Bot không có dự đoán."));
    top.forEach((g, i) => {
      const chip = el("span", "guess");
      chip.appendChild(document.createTextNode(`${i + 1}. `));
      chip.appendChild(el("span", "mono", g.intent));
      chip.appendChild(document.createTextNode(` ${fmtPct(g.confidence)}`));
      guesses.appendChild(chip);
    });
    card.appendChild(guesses);

    const actions = el("div", "inbox-actions");
    const select = el("select");
    select.setAttribute("aria-label", "Chủ đề để thêm câu này làm câu hỏi mẫu");
    const names = state.inbox.topics;
    const guessed = top.map((g) => topicOfIntent(g.intent)).find((t) => t && names.includes(t));
    select.appendChild(option("", "— Chọn chủ đề —", !guessed));
    for (const name of names) select.appendChild(option(name, name, name === guessed));
    actions.appendChild(select);
    actions.appendChild(
      button("Thêm vào chủ đề", "btn btn-primary", () => {
        if (!select.value) {
          showError("Chọn chủ đề trước khi thêm.");
          select.focus();
          return;
        }
        inboxAction(item, "assign", { topic: select.value }, `Đã thêm vào chủ đề ${select.value}.`);
      }),
    );
    actions.appendChild(
      button("Ngoài phạm vi", "btn", () =>
        inboxAction(item, "out-of-scope", undefined, "Đã thêm vào nhóm câu hỏi ngoài phạm vi."),
      ),
    );
    actions.appendChild(button("Bỏ qua", "btn btn-ghost", () => inboxAction(item, "ignore", undefined, "Đã bỏ qua.")));
    card.appendChild(actions);
    return card;
  }

  async function inboxAction(item, action, body, done) {
    try {
      await api("POST", `/studio/api/inbox/${encodeURIComponent(item.id)}/${action}`, body === undefined ? {} : body);
      state.inbox.items = state.inbox.items.filter((x) => x.id !== item.id);
      renderInbox();
      showInfo(done + (action === "ignore" ? "" : " Nhớ “Huấn luyện & xuất bản” để bot học câu này."));
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && err.data.problems) {
        showError(err.data.problems.map((p) => p.message).join(" "));
      } else showError(errorMessage(err));
    }
  }

  // ================================================================== train, check, publish
  async function startTraining() {
    $("train-start").disabled = true;
    try {
      const data = await api("POST", "/studio/api/train", {});
      followJob(data.job_id);
    } catch (err) {
      const running = err instanceof ApiError && err.status === 409 && (err.data.current || {}).job_id;
      if (running) {
        showInfo("Đang có một lượt huấn luyện chạy; hiển thị tiến độ của lượt đó.");
        followJob(running);
        return;
      }
      $("train-start").disabled = false;
      showError(errorMessage(err));
    }
  }

  function followJob(jobId) {
    if (!jobId) return;
    state.train.jobId = String(jobId);
    sessionStorage.setItem(JOB_KEY, state.train.jobId);
    $("train-job").hidden = false;
    $("train-result").hidden = true;
    $("train-start").disabled = true;
    if (!state.train.polling) {
      state.train.polling = true;
      pollJob();
    }
  }

  async function pollJob() {
    const jobId = state.train.jobId;
    if (!state.token || !jobId) {
      state.train.polling = false;
      return;
    }
    let job = null;
    try {
      job = await api("GET", "/studio/api/train/" + encodeURIComponent(jobId));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        state.train.polling = false;
        sessionStorage.removeItem(JOB_KEY);
        $("train-start").disabled = false;
        $("train-job").hidden = true;
        showError("Không tìm thấy lượt huấn luyện này (máy chủ có thể vừa khởi động lại). Bạn hãy bấm huấn luyện lại.");
        return;
      }
      if (!state.token) return; // logged out (401/403)
    }
    if (job) renderJob(job);
    if (job && DONE_STATES.includes(job.state)) {
      state.train.polling = false;
      sessionStorage.removeItem(JOB_KEY);
      $("train-start").disabled = false;
      loadModels().catch(() => null);
      return;
    }
    state.timers.poll = setTimeout(pollJob, POLL_MS);
  }

  function renderJob(job) {
    const progress = Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
    const bar = $("train-progress");
    bar.value = progress;
    bar.setAttribute("aria-valuenow", String(progress));
    $("train-percent").textContent = `${progress}%`;
    const badge = $("train-state");
    badge.textContent = TRAIN_STATES[job.state] || job.state || "";
    badge.className =
      "badge " + (job.state === "published" ? "ok" : job.state === "refused" || job.state === "failed" ? "bad" : "run");
    $("train-phase").textContent = job.phase ? String(job.phase) : "";
    const log = $("train-log");
    // Rasa colours its log lines: drop the terminal escape codes
    const lines = Array.isArray(job.log) ? job.log.map((line) => String(line).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")) : [];
    log.textContent = lines.join("\n");
    log.scrollTop = log.scrollHeight;
    if (DONE_STATES.includes(job.state)) renderResult(job);
  }

  /** {topic: accuracy} from {topic: x}, {topic: {accuracy}} or [{topic, accuracy}]. */
  function perTopicMap(value) {
    const out = {};
    if (Array.isArray(value)) {
      for (const row of value) if (row && row.topic !== undefined) out[row.topic] = row.accuracy;
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) out[k] = v && typeof v === "object" ? v.accuracy : v;
    }
    return out;
  }

  function renderResult(job) {
    const result = job.result || {};
    $("train-result").hidden = false;
    const verdict = $("train-verdict");
    const reason = result.reason ? String(result.reason) : "";
    if (job.state === "published") {
      verdict.textContent = "Đã xuất bản: bot đang dùng bản mới." + (reason ? ` ${reason}` : "");
      verdict.className = "verdict ok";
    } else if (job.state === "refused") {
      verdict.textContent = "Không xuất bản, bot vẫn dùng bản cũ. Lý do: " + (reason || "độ chính xác giảm quá mức cho phép.");
      verdict.className = "verdict bad";
    } else {
      verdict.textContent = "Huấn luyện bị lỗi, bot vẫn dùng bản cũ." + (reason ? ` ${reason}` : " Xem nhật ký.");
      verdict.className = "verdict bad";
      $("train-log-box").open = true;
    }

    const before = result.before || {};
    const after = result.after || {};
    const acc = $("train-accuracy");
    clear(acc);
    const stat = (label, value, cls) => {
      const box = el("div", "stat");
      box.appendChild(el("span", "stat-label", label));
      box.appendChild(el("span", "stat-value " + (cls || ""), value));
      acc.appendChild(box);
    };
    if (before.accuracy !== undefined || after.accuracy !== undefined) {
      stat("Trước (bản đang dùng)", fmtPct(before.accuracy));
      stat("Sau (bản mới)", fmtPct(after.accuracy));
      const d = fmtDelta(before.accuracy, after.accuracy);
      stat("Thay đổi", d.text, d.cls);
    }
    // unanswerable messages answered with a fact: lower is better, so the colours swap
    const wrongBefore = (before.selective || {}).unanswerable || {};
    const wrongAfter = (after.selective || {}).unanswerable || {};
    if (Number(wrongAfter.n) > 0) {
      stat("Trả lời sai câu ngoài kiến thức · trước", Number(wrongBefore.n) > 0 ? fmtPct(wrongBefore.wrong_answer_rate) : "–");
      stat("Trả lời sai câu ngoài kiến thức · sau", fmtPct(wrongAfter.wrong_answer_rate));
      const w = fmtDelta(Number(wrongBefore.n) > 0 ? wrongBefore.wrong_answer_rate : null, wrongAfter.wrong_answer_rate);
      stat("Thay đổi", w.text, w.cls === "delta-up" ? "delta-down" : w.cls === "delta-down" ? "delta-up" : "");
    }
    renderNewExamples(result.new_examples);

    const b = perTopicMap(before.per_topic);
    const a = perTopicMap(after.per_topic);
    const topics = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    const change = (t) => (pctValue(a[t]) ?? 0) - (pctValue(b[t]) ?? 0);
    topics.sort((x, y) => change(x) - change(y) || (pctValue(a[x]) ?? 0) - (pctValue(a[y]) ?? 0));
    const tbody = $("train-topics");
    clear(tbody);
    for (const t of topics) {
      const tr = el("tr");
      cell(tr, t, "mono");
      cell(tr, fmtPct(b[t]), "num");
      cell(tr, fmtPct(a[t]), "num");
      const d = fmtDelta(b[t], a[t]);
      cell(tr, d.text, "num " + d.cls);
      tbody.appendChild(tr);
    }

    const pairs = Array.isArray(result.confusions_changed) ? result.confusions_changed : [];
    const cbody = $("train-confusions");
    clear(cbody);
    for (const p of pairs) {
      const tr = el("tr");
      cell(tr, p.expected !== undefined ? p.expected : p.intent || "", "mono");
      cell(tr, p.predicted !== undefined ? p.predicted : "", "mono");
      cell(tr, p.before !== undefined ? p.before : p.count_before !== undefined ? p.count_before : "–", "num");
      cell(tr, p.after !== undefined ? p.after : p.count_after !== undefined ? p.count_after : p.count ?? "–", "num");
      cbody.appendChild(tr);
    }
    $("train-confusions-empty").hidden = pairs.length > 0;
  }

  function renderNewExamples(value) {
    const box = $("train-new-examples");
    clear(box);
    if (!value || typeof value !== "object") return;
    const entries = Object.entries(value);
    if (!entries.length) return;
    box.appendChild(el("h3", null, "Câu hỏi mẫu mới kể từ bản đang dùng"));
    const count = value.count ?? value.n ?? value.total;
    if (count === 0) {
      box.appendChild(el("p", "muted", "Không có câu hỏi mẫu mới so với bản đang dùng."));
      return;
    }
    const ul = el("ul");
    for (const [key, v] of entries) {
      let text;
      if (key === "accuracy") text = `Bot nhận đúng: ${fmtPct(v)}`;
      else if (key === "count" || key === "n" || key === "total") text = `Số câu: ${v}`;
      else if (key === "correct") text = `Nhận đúng: ${v} câu`;
      else if (v && typeof v === "object" && !Array.isArray(v)) {
        const bits = [];
        if (v.n !== undefined || v.count !== undefined) bits.push(`${v.n ?? v.count} câu`);
        if (v.accuracy !== undefined) bits.push(`nhận đúng ${fmtPct(v.accuracy)}`);
        text = `${key}: ${bits.join(", ") || JSON.stringify(v)}`;
      } else if (Array.isArray(v)) text = `${fieldLabel(key)}: ${v.length} câu`;
      else text = `${fieldLabel(key)}: ${v}`;
      ul.appendChild(el("li", null, text));
    }
    box.appendChild(ul);
  }

  async function loadModels() {
    const data = await api("GET", "/studio/api/models");
    const current = data && data.current ? (typeof data.current === "object" ? data.current.id : data.current) : null;
    const models = listFrom(data, "models");
    const tbody = $("model-rows");
    clear(tbody);
    $("models-empty").hidden = models.length > 0;
    for (const m of models) {
      const tr = el("tr");
      tr.dataset.id = m.id;
      cell(tr, m.id, "mono");
      cell(tr, fmtTime(m.created_at));
      cell(tr, fmtPct(m.accuracy), "num");
      cell(tr, m.editor || "–");
      const actions = cell(tr, "");
      if (m.id === current) actions.appendChild(el("span", "badge ok", "Đang dùng"));
      else actions.appendChild(button("Quay lại bản này", "btn btn-small", () => rollback(m)));
      tbody.appendChild(tr);
    }
  }

  async function rollback(model) {
    const ok = await ask({
      title: "Quay lại bản này?",
      text: `Bot sẽ dùng lại bản ${model.id} (tạo lúc ${fmtTime(model.created_at)}, độ chính xác ${fmtPct(model.accuracy)}) trong vài giây.`,
      ok: "Quay lại bản này",
    });
    if (!ok) return;
    try {
      await api("POST", `/studio/api/models/${encodeURIComponent(model.id)}/rollback`, {});
      showInfo(`Bot đang chuyển về bản ${model.id}.`);
    } catch (err) {
      showError(errorMessage(err));
    }
    loadModels().catch((err) => showError(errorMessage(err)));
  }

  // ================================================================== history
  async function loadHistory() {
    const target = $("history-target").value.trim();
    const data = await api(
      "GET",
      "/studio/api/history?limit=100" + (target ? "&target=" + encodeURIComponent(target) : ""),
    );
    const entries = listFrom(data, "history", "entries", "changes");
    const tbody = $("history-rows");
    clear(tbody);
    $("history-empty").hidden = entries.length > 0;
    for (const entry of entries) tbody.appendChild(historyRow(entry));
  }

  function historyRow(entry) {
    const tr = el("tr");
    tr.dataset.id = entry.id;
    cell(tr, fmtTime(entry.at));
    cell(tr, entry.editor || "–");
    cell(tr, `${HISTORY_ACTIONS[entry.action] || entry.action || ""} · ${HISTORY_KINDS[entry.kind] || entry.kind || ""}`);
    cell(tr, entry.target || "", "mono");
    const changes = cell(tr, "");
    changes.appendChild(describeChange(entry.before, entry.after));
    const actions = cell(tr, "");
    actions.appendChild(button("Hoàn tác", "btn btn-small", () => undo(entry)));
    return tr;
  }

  function shortValue(v) {
    if (v === null || v === undefined || v === "") return "(trống)";
    if (Array.isArray(v)) return v.map(shortValue).join(", ");
    if (typeof v === "object") {
      if (typeof v.text === "string") {
        const buttons = Array.isArray(v.buttons) && v.buttons.length ? ` [nút: ${v.buttons.map((b) => b.title).join(", ")}]` : "";
        return v.text + buttons;
      }
      return JSON.stringify(v);
    }
    return String(v);
  }

  function changeLine(box, key, before, after) {
    const line = el("div", "change-line");
    line.appendChild(el("span", "change-key", fieldLabel(key) + ": "));
    if (before !== undefined) line.appendChild(el("span", "before", before));
    if (before !== undefined && after !== undefined) line.appendChild(document.createTextNode(" → "));
    if (after !== undefined) line.appendChild(el("span", "after", after));
    box.appendChild(line);
  }

  function isScalarList(v) {
    return Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null);
  }

  /** What changed between two stored objects, as readable lines (additions/removals for lists). */
  function describeChange(before, after) {
    const box = el("div", "change");
    const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);
    if (!isObj(before) && !isObj(after)) {
      if (before !== undefined && before !== null) changeLine(box, "Trước", shortValue(before));
      if (after !== undefined && after !== null) changeLine(box, "Sau", shortValue(after));
      if (!box.childNodes.length) box.appendChild(el("span", "muted", "–"));
      return box;
    }
    if (!isObj(before)) box.appendChild(el("div", "change-line after", "Tạo mới"));
    if (!isObj(after)) box.appendChild(el("div", "change-line before", "Đã xoá"));
    const b = isObj(before) ? before : {};
    const a = isObj(after) ? after : {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => k !== "version");
    let shown = 0;
    for (const key of keys) {
      if (JSON.stringify(b[key]) === JSON.stringify(a[key])) continue;
      if (!isObj(before) || !isObj(after)) {
        // creation or deletion: a short summary, not every example
        const v = isObj(after) ? a[key] : b[key];
        if (Array.isArray(v) && v.length > 3 && isScalarList(v)) changeLine(box, key, undefined, `${v.length} mục`);
        else changeLine(box, key, undefined, shortValue(v));
        shown++;
        continue;
      }
      if (isScalarList(b[key] || []) && isScalarList(a[key] || []) && (Array.isArray(b[key]) || Array.isArray(a[key]))) {
        const oldSet = new Set((b[key] || []).map(String));
        const newSet = new Set((a[key] || []).map(String));
        const added = [...newSet].filter((x) => !oldSet.has(x));
        const removed = [...oldSet].filter((x) => !newSet.has(x));
        for (const x of added) changeLine(box, key, undefined, "+ " + x);
        for (const x of removed) changeLine(box, key, "− " + x, undefined);
        if (!added.length && !removed.length) changeLine(box, key, undefined, "đổi thứ tự");
      } else {
        changeLine(box, key, shortValue(b[key]), shortValue(a[key]));
      }
      shown++;
    }
    if (!shown && box.childNodes.length === 0) box.appendChild(el("span", "muted", "Không có khác biệt."));
    return box;
  }

  async function undo(entry) {
    const ok = await ask({
      title: "Hoàn tác thay đổi này?",
      text: `${HISTORY_ACTIONS[entry.action] || entry.action} ${entry.target || ""} của ${entry.editor || "–"} lúc ${fmtTime(entry.at)} sẽ được đưa về như trước.`,
      ok: "Hoàn tác",
    });
    if (!ok) return;
    try {
      await api("POST", `/studio/api/history/${encodeURIComponent(entry.id)}/undo`, {});
      showInfo("Đã hoàn tác.");
      state.faq.topics = [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        showError(err.data.message || "Không hoàn tác được: nội dung đã được sửa tiếp sau thay đổi này.");
      } else showError(errorMessage(err));
    }
    loadHistory().catch((err) => showError(errorMessage(err)));
  }

  // ================================================================== spreadsheets
  async function download(name) {
    try {
      const blob = await api("GET", "/studio/api/export/" + name, undefined, { blob: true });
      const url = URL.createObjectURL(blob);
      const a = el("a");
      a.href = url;
      a.download = `senmart-${name}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30000);
      showInfo(`Đã tải về senmart-${name}.`);
    } catch (err) {
      showError(errorMessage(err));
    }
  }

  async function importSheet(event) {
    if (event) event.preventDefault();
    const file = $("import-file").files[0];
    const summary = $("import-summary");
    const tbody = $("import-errors");
    clear(tbody);
    $("import-errors-box").hidden = true;
    summary.hidden = true;
    if (!file) {
      showError("Chọn tệp .xlsx hoặc .csv trước khi tải lên.");
      return;
    }
    const format = /\.csv$/i.test(file.name) ? "csv" : /\.xlsx$/i.test(file.name) ? "xlsx" : null;
    if (!format) {
      showError("Chỉ nhận tệp .xlsx hoặc .csv.");
      return;
    }
    const kind = $("import-kind").value;
    const contentType =
      format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    $("import-run").disabled = true;
    let result;
    try {
      result = await api("POST", `/studio/api/import/${kind}?format=${format}`, undefined, {
        rawBody: file,
        contentType,
      });
    } catch (err) {
      if (err instanceof ApiError && Array.isArray(err.data.errors)) result = { applied: 0, ...err.data };
      else {
        showError(errorMessage(err));
        $("import-run").disabled = false;
        return;
      }
    }
    $("import-run").disabled = false;
    const errors = Array.isArray(result && result.errors) ? result.errors : [];
    summary.hidden = false;
    if (errors.length) {
      summary.textContent = `Không áp dụng thay đổi nào: ${errors.length} lỗi. Sửa các dòng dưới đây rồi tải lên lại.`;
      summary.className = "verdict bad";
      for (const e of errors) {
        const tr = el("tr");
        cell(tr, e.row !== undefined ? e.row : "–", "num");
        cell(tr, e.field ? fieldLabel(e.field) : "–");
        cell(tr, e.message || "");
        tbody.appendChild(tr);
      }
      $("import-errors-box").hidden = false;
    } else {
      summary.textContent = `Đã áp dụng ${result.applied || 0} thay đổi từ ${file.name}.`;
      summary.className = "verdict ok";
      state.faq.topics = [];
    }
  }

  // ================================================================== wiring
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    login($("token").value);
  });
  $("logout").addEventListener("click", logout);
  $("error-close").addEventListener("click", hideError);
  for (const tab of document.querySelectorAll(".tab[data-tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }

  $("topic-search").addEventListener("input", () => {
    state.faq.q = $("topic-search").value.trim();
    clearTimeout(state.timers.search);
    state.timers.search = setTimeout(() => loadTopics().catch((err) => showError(errorMessage(err))), 250);
  });
  $("topic-new").addEventListener("click", async () => {
    if (await discardChanges()) newTopic();
  });
  $("topic-form").addEventListener("submit", saveTopic);
  $("topic-cancel").addEventListener("click", async () => {
    if (!(await discardChanges())) return;
    if (state.faq.mode === "edit" && state.faq.topic) {
      state.faq.dirty = false;
      openTopic(state.faq.topic.name);
    } else closeTopicEditor();
  });
  $("topic-rename").addEventListener("click", renameTopic);
  $("topic-delete").addEventListener("click", deleteTopic);
  $("topic-conflict-load").addEventListener("click", loadNewerTopic);
  $("topic-name").addEventListener("input", () => {
    state.faq.dirty = true;
  });
  $("response-add").addEventListener("click", () => {
    const all = collectResponses();
    all.push({ text: "" });
    renderResponses(all);
    $("responses").lastChild.querySelector("textarea").focus();
    markDirty();
  });
  $("examples").addEventListener("input", () => {
    updateExampleCount();
    state.faq.dirty = true;
    setTopicStatus("Có thay đổi chưa lưu.");
  });
  $("example-add").addEventListener("click", addExample);
  $("example-new").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      addExample();
    }
  });
  // the problems boxes of fixed fields point at their inputs
  for (const [field, input] of [
    ["name", "topic-name"],
    ["examples", "examples"],
  ]) {
    $("topic-form").querySelector(`.problems[data-field="${field}"]`).dataset.input = input;
  }

  checkboxes("p-tiers", TIERS);
  checkboxes("p-payment_methods", Object.keys(PAYMENTS), PAYMENTS);
  checkboxes("p-excludes_groups", GROUPS);
  for (const box of $("promo-form").querySelectorAll(".problems[data-field]")) {
    const input = $("p-" + box.dataset.field);
    if (input && input.tagName !== "FIELDSET") box.dataset.input = input.id;
  }
  $("promo-new").addEventListener("click", newPromotion);
  $("promo-form").addEventListener("submit", savePromotion);
  $("promo-cancel").addEventListener("click", closePromotion);
  $("promo-delete").addEventListener("click", deletePromotion);
  $("promo-conflict-load").addEventListener("click", loadNewerPromotion);
  $("try-form").addEventListener("submit", tryPromotion);
  $("try-date").value = todayInVietnam();

  $("inbox-refresh").addEventListener("click", () => loadInbox().catch((err) => showError(errorMessage(err))));
  $("train-start").addEventListener("click", startTraining);
  $("models-refresh").addEventListener("click", () => loadModels().catch((err) => showError(errorMessage(err))));
  $("history-refresh").addEventListener("click", () => loadHistory().catch((err) => showError(errorMessage(err))));
  $("history-target").addEventListener("input", () => {
    clearTimeout(state.timers.history);
    state.timers.history = setTimeout(() => loadHistory().catch((err) => showError(errorMessage(err))), 300);
  });
  for (const b of document.querySelectorAll("[data-download]")) {
    b.addEventListener("click", () => download(b.dataset.download));
  }
  $("import-form").addEventListener("submit", importSheet);
  window.addEventListener("beforeunload", (event) => {
    if (state.faq.dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    state.token = saved;
    startApp();
  } else showLogin(null);
})();
