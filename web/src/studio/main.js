/* SenMart content studio (docs/studio.md). Plain JS, no dependencies at run time.
 * Every piece of data from the API goes into the page through textContent / attributes / form values,
 * never as markup, so whatever a customer or an editor typed is shown as text. */
import { $, button, cell, clear, downloadBlob, el, option } from "../shared/dom.js";
import { ApiError, listFrom, readBody, requestInit } from "../shared/api.js";
import { createBanner } from "../shared/banner.js";
import { enterPressed } from "../shared/keys.js";
import { dayLabel, timeWithFullDate, todayInVietnam } from "../shared/format.js";
import { loadSession, sessionEnded, wireSessionControls } from "../shared/session.js";
import { renderChat } from "./preview.js";
import {
  DONE_STATES,
  GROUPS,
  HISTORY_ACTIONS,
  HISTORY_KINDS,
  KINDS,
  MAX_ANSWER,
  MIN_EXAMPLES,
  PAYMENTS,
  PROMO_LISTS,
  PROMO_NUMBERS,
  PROMO_TEXTS,
  SOURCES,
  TIERS,
  TOPIC_NAME_RULE,
  TRAIN_STATES,
  benefitText,
  changeParts,
  delta,
  errorMessage,
  exampleCountText,
  fieldCandidates,
  fieldLabel,
  importContentType,
  importFormat,
  listText,
  logLines,
  money,
  newExampleLines,
  parseExamples,
  percent,
  perTopicMap,
  progressOf,
  promotionFromForm,
  sortNewest,
  stateBadgeClass,
  topicOfIntent,
  topicsByChange,
  validTopicName,
} from "./logic.js";

const JOB_KEY = "senmart.studio.train_job";
const TAB_KEY = "senmart.studio.tab";
const PREVIEW_DELAY_MS = 350;
const POLL_MS = 1000;
const ERROR_HIDE_MS = 15000;
const INFO_HIDE_MS = 6000;


const state = {
  token: null, // the session's CSRF token once signed in (the cookie itself is HttpOnly)
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

// ------------------------------------------------------------------ banner
const banner = createBanner({ errorMs: ERROR_HIDE_MS, infoMs: INFO_HIDE_MS });
const showError = banner.show;
const hideError = banner.hide;


function showInfo(message) {
  showError(message, "info");
}


// ------------------------------------------------------------------ API

async function api(method, path, body, opts) {
  opts = opts || {};
  const res = await fetch(path, requestInit(method, opts.token || state.token, body, opts));
  if (opts.blob && res.ok) return res.blob();
  const data = await readBody(res, true);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401) sessionRefused();
    throw err;
  }
  return data;
}

// ------------------------------------------------------------------ validation problems
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

// ------------------------------------------------------------------ session
function sessionRefused() {
  if (!state.token) return;
  state.token = null;
  stopTimers();
  sessionEnded();
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
  return parseExamples($("examples").value);
}

function updateExampleCount() {
  const n = collectExamples().length;
  const counter = $("examples-count");
  counter.textContent = exampleCountText(n);
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
  } catch {
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
      if (!validTopicName(name)) {
        showProblems(form, [{ field: "name", message: TOPIC_NAME_RULE }]);
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
      `Đã lưu lúc ${timeWithFullDate(Date.now())}. Câu trả lời có hiệu lực ngay; câu hỏi mẫu mới cần “Huấn luyện & xuất bản”.`,
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
  } catch {
    return null;
  }
}

async function showConflict(kind, target, current) {
  const box = $(kind + "-conflict");
  const who = await lastEditor(target);
  const name = who && who.editor ? who.editor : "người khác";
  const when = who && who.at ? ` lúc ${timeWithFullDate(who.at)}` : "";
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
    setTopicStatus(`Đã thêm câu hỏi mẫu lúc ${timeWithFullDate(Date.now())}. Cần “Huấn luyện & xuất bản” để bot học.`);
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

function renderPromotions() {
  const rows = $("promo-rows");
  clear(rows);
  const promo = state.promo;
  $("promo-count").textContent = `(${promo.list.length})`;
  const s = promo.shipping;
  $("promo-shipping").textContent =
    s && s.shipping_fee_standard !== undefined
      ? `Phí giao tiêu chuẩn ${money(s.shipping_fee_standard)}, miễn phí từ đơn ${money(s.free_shipping_min_order)}`
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
    cell(tr, p.min_order ? money(p.min_order) : "–", "num");
    cell(tr, listText(p.tiers, null, "Mọi hạng"));
    cell(tr, listText(p.payment_methods, PAYMENTS, "Mọi phương thức"));
    cell(tr, p.start || p.end ? `${dayLabel(p.start, true)} – ${dayLabel(p.end, true)}` : "Thường xuyên");
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
  const form = { code: $("p-code").value, kind: $("p-kind").value, stack_group: $("p-stack_group").value };
  for (const key of [...PROMO_TEXTS, ...PROMO_NUMBERS, "start", "end", "aliases"]) form[key] = $("p-" + key).value;
  for (const key of PROMO_LISTS) form[key] = checkedValues("p-" + key);
  return promotionFromForm(form);
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
    $("promo-status").textContent = `Đã lưu lúc ${timeWithFullDate(Date.now())}. Bot dùng ngay, không cần huấn luyện.`;
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
async function refreshInboxBadge() {
  try {
    const data = await api("GET", "/studio/api/inbox?status=open");
    setInboxBadge(listFrom(data, "items").length);
  } catch {
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
  meta.appendChild(el("span", null, `lần cuối ${timeWithFullDate(item.last_seen)}`));
  for (const source of item.sources || []) meta.appendChild(el("span", "badge warn", SOURCES[source] || source));
  card.appendChild(meta);

  const guesses = el("div", "guesses");
  const top = (item.guesses || []).slice(0, 3);
  guesses.appendChild(el("span", "muted", top.length ? "Bot đoán:" : "Bot không có dự đoán."));
  top.forEach((g, i) => {
    const chip = el("span", "guess");
    chip.appendChild(document.createTextNode(`${i + 1}. `));
    chip.appendChild(el("span", "mono", g.intent));
    chip.appendChild(document.createTextNode(` ${percent(g.confidence)}`));
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
  const progress = progressOf(job);
  const bar = $("train-progress");
  bar.value = progress;
  bar.setAttribute("aria-valuenow", String(progress));
  $("train-percent").textContent = `${progress}%`;
  const badge = $("train-state");
  badge.textContent = TRAIN_STATES[job.state] || job.state || "";
  badge.className = stateBadgeClass(job.state);
  $("train-phase").textContent = job.phase ? String(job.phase) : "";
  const log = $("train-log");
  log.textContent = logLines(job.log).join("\n");
  log.scrollTop = log.scrollHeight;
  if (DONE_STATES.includes(job.state)) renderResult(job);
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
    stat("Trước (bản đang dùng)", percent(before.accuracy));
    stat("Sau (bản mới)", percent(after.accuracy));
    const d = delta(before.accuracy, after.accuracy);
    stat("Thay đổi", d.text, d.cls);
  }
  // unanswerable messages answered with a fact: lower is better, so the colours swap
  const wrongBefore = (before.selective || {}).unanswerable || {};
  const wrongAfter = (after.selective || {}).unanswerable || {};
  if (Number(wrongAfter.n) > 0) {
    stat("Trả lời sai câu ngoài kiến thức · trước", Number(wrongBefore.n) > 0 ? percent(wrongBefore.wrong_answer_rate) : "–");
    stat("Trả lời sai câu ngoài kiến thức · sau", percent(wrongAfter.wrong_answer_rate));
    const w = delta(Number(wrongBefore.n) > 0 ? wrongBefore.wrong_answer_rate : null, wrongAfter.wrong_answer_rate);
    stat("Thay đổi", w.text, w.cls === "delta-up" ? "delta-down" : w.cls === "delta-down" ? "delta-up" : "");
  }
  renderNewExamples(result.new_examples);

  const b = perTopicMap(before.per_topic);
  const a = perTopicMap(after.per_topic);
  const topics = topicsByChange(b, a);
  const tbody = $("train-topics");
  clear(tbody);
  for (const t of topics) {
    const tr = el("tr");
    cell(tr, t, "mono");
    cell(tr, percent(b[t]), "num");
    cell(tr, percent(a[t]), "num");
    const d = delta(b[t], a[t]);
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
  const lines = newExampleLines(value);
  if (!lines) return;
  box.appendChild(el("h3", null, "Câu hỏi mẫu mới kể từ bản đang dùng"));
  if (!lines.length) {
    box.appendChild(el("p", "muted", "Không có câu hỏi mẫu mới so với bản đang dùng."));
    return;
  }
  const ul = el("ul");
  for (const text of lines) ul.appendChild(el("li", null, text));
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
    cell(tr, timeWithFullDate(m.created_at));
    cell(tr, percent(m.accuracy), "num");
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
    text: `Bot sẽ dùng lại bản ${model.id} (tạo lúc ${timeWithFullDate(model.created_at)}, độ chính xác ${percent(model.accuracy)}) trong vài giây.`,
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
  cell(tr, timeWithFullDate(entry.at));
  cell(tr, entry.editor || "–");
  cell(tr, `${HISTORY_ACTIONS[entry.action] || entry.action || ""} · ${HISTORY_KINDS[entry.kind] || entry.kind || ""}`);
  cell(tr, entry.target || "", "mono");
  const changes = cell(tr, "");
  changes.appendChild(describeChange(entry.before, entry.after));
  const actions = cell(tr, "");
  actions.appendChild(button("Hoàn tác", "btn btn-small", () => undo(entry)));
  return tr;
}


/** What changed between two stored objects, as readable lines (additions/removals for lists). */
function describeChange(before, after) {
  const box = el("div", "change");
  for (const part of changeParts(before, after)) {
    if (part.note) {
      box.appendChild(el(...part.note));
      continue;
    }
    const line = el("div", "change-line");
    line.appendChild(el("span", "change-key", part.label));
    if (part.before !== undefined) line.appendChild(el("span", "before", part.before));
    if (part.before !== undefined && part.after !== undefined) line.appendChild(document.createTextNode(" → "));
    if (part.after !== undefined) line.appendChild(el("span", "after", part.after));
    box.appendChild(line);
  }
  return box;
}

async function undo(entry) {
  const ok = await ask({
    title: "Hoàn tác thay đổi này?",
    text: `${HISTORY_ACTIONS[entry.action] || entry.action} ${entry.target || ""} của ${entry.editor || "–"} lúc ${timeWithFullDate(entry.at)} sẽ được đưa về như trước.`,
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
    downloadBlob(blob, `senmart-${name}`, 30000);
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
  const format = importFormat(file.name);
  if (!format) {
    showError("Chỉ nhận tệp .xlsx hoặc .csv.");
    return;
  }
  const kind = $("import-kind").value;
  const contentType = importContentType(format);
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
  if (enterPressed(event)) {
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

loadSession().then((session) => {
  if (!session) return;
  state.token = session.csrf_token;
  wireSessionControls(session);
  startApp();
});
