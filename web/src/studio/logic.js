/* The content studio's labels, formats, form rules and change descriptions. Pure (no DOM): unit-tested. */
import { ApiError, NETWORK_ERROR, commonMessage, ownMessage } from "../shared/api.js";
import { percentText, percentValue, toDate } from "../shared/format.js";

export const MIN_EXAMPLES = 12;
export const MAX_ANSWER = 2000;
const TOPIC_NAME = /^[a-z][a-z0-9_]{1,49}$/;
export const DONE_STATES = ["published", "refused", "failed"];

export const TIERS = ["Đồng", "Bạc", "Vàng", "Kim Cương"];
export const PAYMENTS = {
  senpay: "Ví SenPay",
  cod: "COD",
  atm: "Thẻ ATM",
  card: "Thẻ quốc tế",
  vietqr: "VietQR",
  momo: "MoMo",
  zalopay: "ZaloPay",
};
export const KINDS = {
  discount: "Mã giảm giá",
  freeship: "Miễn phí vận chuyển",
  payment: "Ưu đãi thanh toán",
  referral: "Giới thiệu bạn",
  campaign: "Chương trình",
};
export const GROUPS = ["discount", "freeship", "payment", "referral", "campaign"];
export const PROMO_NUMBERS = ["percent", "amount", "cap", "min_order"];
export const PROMO_TEXTS = ["name", "limits", "notes"];
export const PROMO_LISTS = ["tiers", "payment_methods", "excludes_groups"];
export const TRAIN_STATES = {
  queued: "Đang chờ",
  training: "Đang huấn luyện",
  evaluating: "Đang kiểm tra",
  publishing: "Đang xuất bản",
  published: "Đã xuất bản",
  refused: "Không xuất bản",
  failed: "Lỗi",
};
export const HISTORY_KINDS = { topic: "Chủ đề", promotion: "Khuyến mãi", inbox: "Bot chưa hiểu", model: "Bản huấn luyện" };
export const HISTORY_ACTIONS = {
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
export const SOURCES = { low_confidence: "Bot không chắc", handoff: "Chuyển nhân viên" };
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

// ------------------------------------------------------------------ formatting
export function money(n) {
  if (n === null || n === undefined || n === "" || isNaN(Number(n))) return "–";
  return Number(n).toLocaleString("vi-VN") + "đ";
}

/** An accuracy (0..1 or 0..100) as "87,3%"; "–" when missing. */
export function percent(x) {
  const v = percentValue(x);
  return v === null ? "–" : percentText(v);
}

/** The change between two accuracies in points, with a class for a rise or a fall (over 0.05 point). */
export function delta(before, after) {
  const a = percentValue(after);
  const b = percentValue(before);
  if (a === null || b === null) return { text: "–", cls: "" };
  const d = a - b;
  const text = (d > 0 ? "+" : d < 0 ? "−" : "±") + Math.abs(d).toFixed(1).replace(".", ",") + " điểm";
  return { text, cls: d > 0.05 ? "delta-up" : d < -0.05 ? "delta-down" : "" };
}

/** The Vietnamese name of an API field path ("responses[0].text" → "Câu trả lời"). */
export function fieldLabel(field) {
  const first = String(field || "").split(/[.[\]]/)[0];
  return FIELD_LABELS[first] || field;
}

/** Canonical field paths: "responses[0].buttons[1]" → ["responses.0.buttons.1", "responses.0.buttons", …]. */
export function fieldCandidates(field) {
  const parts = String(field || "").split(/[.[\]]+/).filter(Boolean);
  const out = [];
  for (let k = parts.length; k > 0; k--) out.push(parts.slice(0, k).join("."));
  return out;
}

// ------------------------------------------------------------------ errors
export const MSG_401 = "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.";
export const MSG_403 = "Tài khoản của bạn không có quyền sửa nội dung của bot.";

export function errorMessage(err) {
  if (!(err instanceof ApiError)) return NETWORK_ERROR;
  const own = ownMessage(err);
  switch (err.status) {
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
    default:
      return commonMessage(err);
  }
}

// ------------------------------------------------------------------ FAQ topics
export const TOPIC_NAME_RULE = "Tên chủ đề chỉ gồm chữ thường không dấu, số và _, bắt đầu bằng chữ cái, 2–50 ký tự.";

export function validTopicName(name) {
  return TOPIC_NAME.test(name);
}

/** The examples of the text box: one a line, a leading "- " (YAML list) dropped, blank lines skipped. */
export function parseExamples(text) {
  return text
    .split("\n")
    .map((line) => line.replace(/^\s*-\s+/, "").trim())
    .filter(Boolean);
}

export function exampleCountText(n) {
  return n < MIN_EXAMPLES
    ? `${n} ví dụ — cần tối thiểu ${MIN_EXAMPLES} (thiếu ${MIN_EXAMPLES - n})`
    : `${n} ví dụ (tối thiểu ${MIN_EXAMPLES})`;
}

// ------------------------------------------------------------------ promotions
export function benefitText(p) {
  const parts = [];
  if (p.kind === "freeship") parts.push("Miễn phí giao hàng");
  if (p.percent !== undefined && p.percent !== null && p.percent !== "") parts.push(`${p.percent}%`);
  if (p.amount !== undefined && p.amount !== null && p.amount !== "") parts.push(money(p.amount));
  if (p.cap !== undefined && p.cap !== null && p.cap !== "") parts.push(`tối đa ${money(p.cap)}`);
  return parts.join(", ") || "–";
}

export function listText(values, labels, all) {
  if (!Array.isArray(values) || !values.length) return all;
  return values.map((v) => (labels && labels[v]) || v).join(", ");
}

/** The promotion to send from the form's raw values ({code, kind, name, …, tiers: [...], aliases: "a\nb"}):
 * code upper-cased, numbers as numbers (kept as typed when not one), empty fields left out. */
export function promotionFromForm(form) {
  const p = { code: form.code.trim().toUpperCase(), kind: form.kind };
  for (const key of PROMO_TEXTS) {
    const v = form[key].trim();
    if (v) p[key] = v;
  }
  for (const key of PROMO_NUMBERS) {
    const raw = form[key].trim();
    if (raw === "") continue;
    const n = Number(raw);
    p[key] = Number.isFinite(n) ? n : raw;
  }
  for (const key of ["start", "end"]) {
    const v = form[key];
    if (v) p[key] = v;
  }
  if (form.stack_group) p.stack_group = form.stack_group;
  for (const key of PROMO_LISTS) {
    const values = form[key];
    if (values.length) p[key] = values;
  }
  const aliases = form.aliases
    .split("\n")
    .map((a) => a.trim())
    .filter(Boolean);
  if (aliases.length) p.aliases = aliases;
  return p;
}

// ------------------------------------------------------------------ inbox
export function sortNewest(items) {
  const t = (x) => {
    const d = toDate(x.last_seen || x.first_seen);
    return d ? d.getTime() : 0;
  };
  return [...items].sort((a, b) => t(b) - t(a));
}

/** The FAQ topic of an intent "faq/<topic>", or null. */
export function topicOfIntent(intent) {
  const m = /^faq\/(.+)$/.exec(String(intent || ""));
  return m ? m[1] : null;
}

// ------------------------------------------------------------------ training
export function progressOf(job) {
  return Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
}

export function stateBadgeClass(state) {
  return "badge " + (state === "published" ? "ok" : state === "refused" || state === "failed" ? "bad" : "run");
}

/** The job's log lines without the terminal colour codes Rasa writes. */
export function logLines(log) {
  // eslint-disable-next-line no-control-regex
  return Array.isArray(log) ? log.map((line) => String(line).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")) : [];
}

/** {topic: accuracy} from {topic: x}, {topic: {accuracy}} or [{topic, accuracy}]. */
export function perTopicMap(value) {
  const out = {};
  if (Array.isArray(value)) {
    for (const row of value) if (row && row.topic !== undefined) out[row.topic] = row.accuracy;
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out[k] = v && typeof v === "object" ? v.accuracy : v;
  }
  return out;
}

/** The topics of two per-topic maps, the largest fall first (then the lowest accuracy after). */
export function topicsByChange(before, after) {
  const topics = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const change = (t) => (percentValue(after[t]) ?? 0) - (percentValue(before[t]) ?? 0);
  return topics.sort((x, y) => change(x) - change(y) || (percentValue(after[x]) ?? 0) - (percentValue(after[y]) ?? 0));
}

/** The lines describing the new examples' check (result.new_examples); null when there is nothing to say,
 * [] when there are none. */
export function newExampleLines(value) {
  if (!value || typeof value !== "object") return null;
  const entries = Object.entries(value);
  if (!entries.length) return null;
  const count = value.count ?? value.n ?? value.total;
  if (count === 0) return [];
  const lines = [];
  for (const [key, v] of entries) {
    let text;
    if (key === "accuracy") text = `Bot nhận đúng: ${percent(v)}`;
    else if (key === "count" || key === "n" || key === "total") text = `Số câu: ${v}`;
    else if (key === "correct") text = `Nhận đúng: ${v} câu`;
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      const bits = [];
      if (v.n !== undefined || v.count !== undefined) bits.push(`${v.n ?? v.count} câu`);
      if (v.accuracy !== undefined) bits.push(`nhận đúng ${percent(v.accuracy)}`);
      text = `${key}: ${bits.join(", ") || JSON.stringify(v)}`;
    } else if (Array.isArray(v)) text = `${fieldLabel(key)}: ${v.length} câu`;
    else text = `${fieldLabel(key)}: ${v}`;
    lines.push(text);
  }
  return lines;
}

// ------------------------------------------------------------------ history
export function shortValue(v) {
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

function isScalarList(v) {
  return Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null);
}

const isObj = (v) => v && typeof v === "object" && !Array.isArray(v);

/** What changed between two stored objects, as readable parts in order: {label, before, after} lines
 * (before / after undefined when absent) and {note: [tag, className, text]} (additions/removals for lists). */
export function changeParts(before, after) {
  const parts = [];
  const line = (key, b, a) => parts.push({ label: fieldLabel(key) + ": ", before: b, after: a });
  if (!isObj(before) && !isObj(after)) {
    if (before !== undefined && before !== null) line("Trước", shortValue(before));
    if (after !== undefined && after !== null) line("Sau", shortValue(after));
    if (!parts.length) parts.push({ note: ["span", "muted", "–"] });
    return parts;
  }
  if (!isObj(before)) parts.push({ note: ["div", "change-line after", "Tạo mới"] });
  if (!isObj(after)) parts.push({ note: ["div", "change-line before", "Đã xoá"] });
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => k !== "version");
  let shown = 0;
  for (const key of keys) {
    if (JSON.stringify(b[key]) === JSON.stringify(a[key])) continue;
    if (!isObj(before) || !isObj(after)) {
      // creation or deletion: a short summary, not every example
      const v = isObj(after) ? a[key] : b[key];
      if (Array.isArray(v) && v.length > 3 && isScalarList(v)) line(key, undefined, `${v.length} mục`);
      else line(key, undefined, shortValue(v));
      shown++;
      continue;
    }
    if (isScalarList(b[key] || []) && isScalarList(a[key] || []) && (Array.isArray(b[key]) || Array.isArray(a[key]))) {
      const oldSet = new Set((b[key] || []).map(String));
      const newSet = new Set((a[key] || []).map(String));
      const added = [...newSet].filter((x) => !oldSet.has(x));
      const removed = [...oldSet].filter((x) => !newSet.has(x));
      for (const x of added) line(key, undefined, "+ " + x);
      for (const x of removed) line(key, "− " + x, undefined);
      if (!added.length && !removed.length) line(key, undefined, "đổi thứ tự");
    } else {
      line(key, shortValue(b[key]), shortValue(a[key]));
    }
    shown++;
  }
  if (!shown && parts.length === 0) parts.push({ note: ["span", "muted", "Không có khác biệt."] });
  return parts;
}

// ------------------------------------------------------------------ spreadsheets
/** "csv" or "xlsx" from a file name, or null. */
export function importFormat(filename) {
  return /\.csv$/i.test(filename) ? "csv" : /\.xlsx$/i.test(filename) ? "xlsx" : null;
}

export function importContentType(format) {
  return format === "csv" ? "text/csv; charset=utf-8" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}
