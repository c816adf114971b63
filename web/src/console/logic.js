/* The agent console's labels, SLA clocks, error messages and API-answer shaping. Pure (no DOM):
 * unit-tested. Times are epoch seconds; `now` is the server's clock as the page estimates it. */
import { ApiError, NETWORK_ERROR, commonMessage, ownMessage } from "../shared/api.js";
import { countdown, duration, timeOfDayWithDate } from "../shared/format.js";

export const SLA_WARN_SECONDS = 600;

export const REASONS = {
  request_human: "Khách yêu cầu gặp nhân viên",
  anger: "Khách bức xúc",
  money_complaint: "Khiếu nại tiền / hoàn tiền",
  low_confidence: "Bot không hiểu ý khách",
  account_security: "Bảo mật tài khoản",
  partnership: "Hợp tác kinh doanh",
  other: "Khác",
};
const STATUSES = {
  waiting: "Đã tiếp nhận",
  claimed: "Đang xử lý",
  resolved: "Đã giải quyết",
  closed: "Đã đóng",
};
export const SLOT_LABELS = {
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
  language: "Ngôn ngữ",
};
export const ROLE_LABELS = { customer: "Khách", bot: "Bot", agent: "Nhân viên", system: "Hệ thống" };
export const CHANNEL_LABELS = { socketio: "Website", facebook: "Messenger", rest: "REST", unknown: "Không rõ" };

export function reasonLabel(reason) {
  return REASONS[reason] || reason || "–";
}

export function statusLabel(t) {
  return t.status_label || STATUSES[t.status] || t.status || "–";
}

export function tierOf(t) {
  const c = t.customer || {};
  return c.member_tier || c.tier || "";
}

/** The priority badge: its text and class. */
export function priorityBadge(t) {
  const prio = Number(t.priority) || 0;
  return { text: "Ưu tiên " + prio, className: "badge prio" + (prio >= 5 ? " high" : prio >= 3 ? " mid" : "") };
}

/** The grey line of a queue row: tier, queue position, agent, channel. */
export function rowSubline(t) {
  const sub = [];
  sub.push("Hạng: " + (tierOf(t) || "–"));
  if (t.status === "waiting" && t.queue_position) sub.push("Vị trí #" + t.queue_position);
  if (t.claimed_by) sub.push("Xử lý: " + t.claimed_by);
  sub.push("Kênh: " + (t.channel || "–"));
  return sub.join(" · ");
}

/** SLA of a ticket: {text, late, done}. The first response clock runs until an agent answers,
 * then the resolution clock. */
export function slaInfo(t, now) {
  const sla = t.sla || {};
  if (t.status === "resolved" || t.status === "closed") {
    const late = !!(sla.first_response_breached || sla.resolution_breached);
    return { text: late ? "Đã trễ SLA" : "Đúng SLA", late, done: !late };
  }
  let due, breached, what;
  if (!t.first_response_at) {
    due = sla.first_response_due;
    breached = sla.first_response_breached;
    what = "Phản hồi";
  } else {
    due = sla.resolution_due;
    breached = sla.resolution_breached;
    what = "Giải quyết";
  }
  if (due === null || due === undefined) return { text: what + ": –", late: !!breached, done: false };
  const left = Number(due) - now;
  if (left < 0 || breached) {
    return { text: what + ": quá hạn " + duration(Math.max(0, -left)), late: true, done: false };
  }
  return { text: what + ": còn " + countdown(left), late: left < SLA_WARN_SECONDS, done: false };
}

/** One SLA clock of the ticket view: done at `doneAt`, or running against `due`. */
export function slaDetail(due, breached, doneAt, now) {
  if (due === null || due === undefined) return { text: "–", late: !!breached };
  if (doneAt) {
    const late = !!breached || Number(doneAt) > Number(due);
    return { text: "xong lúc " + timeOfDayWithDate(doneAt) + (late ? " (trễ hạn)" : " (đúng hạn)"), late, done: !late };
  }
  const left = Number(due) - now;
  if (left < 0 || breached) {
    return { text: "quá hạn " + duration(-left) + " (hạn " + timeOfDayWithDate(due) + ")", late: true };
  }
  return { text: "còn " + countdown(left) + " (hạn " + timeOfDayWithDate(due) + ")", late: left < SLA_WARN_SECONDS };
}

/** The class of an SLA line. */
export function slaClass(info) {
  return "sla" + (info.late ? " late" : info.done ? " done" : "");
}

/** A Vietnamese message for a failed call. The service explains most errors itself in Vietnamese
 * (`message`); these are the fall-backs. `action` tunes 403/409/502. */
export function errorMessage(err, action) {
  if (!(err instanceof ApiError)) return NETWORK_ERROR;
  const d = err.data || {};
  const own = ownMessage(err);
  switch (err.status) {
    case 401:
      return "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.";
    case 403:
      if (action === "admin" || action === "reassign") return own || "Bạn không có quyền thực hiện thao tác này.";
      return (
        (own || "Phiếu này đang do nhân viên khác xử lý" + (d.claimed_by ? " (" + d.claimed_by + ")." : ".")) +
        " Bạn không thể thao tác trên phiếu này."
      );
    case 404:
      return "Không tìm thấy phiếu (có thể đã bị xoá).";
    case 409:
      if (own) return own;
      if (action === "claim") return "Không nhận được phiếu: phiếu đã có người nhận hoặc không còn trong hàng chờ.";
      if (action === "reassign") return "Không chuyển được phiếu: nhân viên đã đủ phiếu hoặc phiếu đã thay đổi.";
      return "Trạng thái phiếu đã thay đổi, không thể thực hiện thao tác này.";
    case 413:
      return own || "Nội dung quá dài, vui lòng rút gọn.";
    case 502:
    case 504:
      return (
        (own || "Không gửi được tới khách qua trợ lý ảo. Vui lòng thử lại.") +
        (action === "send" ? " Nội dung trả lời vẫn còn trong ô soạn thảo." : "")
      );
    default:
      return commonMessage(err);
  }
}

/** The note under the ticket's buttons: who holds it, what to do. */
export function claimNote(t, me) {
  if (claimedByOther(t, me)) return "Phiếu đang do " + t.claimed_by + " xử lý.";
  if (t.status === "claimed" && t.claimed_by && !me) return "Đang do " + t.claimed_by + " xử lý.";
  if (t.status === "waiting") return "Nhận xử lý hoặc gửi tin nhắn để nhận phiếu.";
  if (t.status === "resolved") return "Phiếu đã giải quyết — đang chờ khách đánh giá.";
  if (t.status === "closed") return "Phiếu đã đóng.";
  return "";
}

export function isMine(t, me) {
  return t.status === "claimed" && !!me && t.claimed_by === me;
}

export function claimedByOther(t, me) {
  return t.status === "claimed" && !!me && !!t.claimed_by && t.claimed_by !== me;
}

/** What identifies a transcript message (to append only the new ones). */
export function messageKey(m) {
  return (m.role || "") + "|" + (m.timestamp || "") + "|" + (m.text || "");
}

/** A transcript message's role class and author line. */
export function messageAuthor(m) {
  const role = Object.prototype.hasOwnProperty.call(ROLE_LABELS, m.role) ? m.role : "system";
  return { role, who: role === "agent" ? m.agent || ROLE_LABELS.agent : ROLE_LABELS[role] };
}

/** The NLU line under a customer message ("ý định: x · 91%"), or null. */
export function nluLine(m) {
  if (m.role !== "customer" || !m.intent) return null;
  let nlu = "ý định: " + m.intent;
  if (m.confidence !== null && m.confidence !== undefined && !isNaN(m.confidence)) {
    nlu += " · " + Math.round(Number(m.confidence) * 100) + "%";
  }
  return nlu;
}

/** The customer box's lines [label, value] (empty values left out). */
export function customerLines(customer) {
  const lines = [];
  for (const k of Object.keys(customer)) {
    const v = customer[k];
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
    lines.push([SLOT_LABELS[k] || k, typeof v === "object" ? JSON.stringify(v) : v]);
  }
  return lines;
}

/** Canned replies [{title, text}] from a list of strings or objects, or a {title: text} map. */
export function cannedItems(data) {
  const items = [];
  const raw = (data && !Array.isArray(data) && (data.replies || data.canned_replies || data.items)) || data;
  if (Array.isArray(raw)) {
    raw.forEach((r, i) => {
      if (typeof r === "string") items.push({ title: r, text: r });
      else if (r && (r.text || r.body)) items.push({ title: r.title || r.name || r.id || "Mẫu " + (i + 1), text: r.text || r.body });
    });
  } else if (raw && typeof raw === "object") {
    Object.keys(raw).forEach((k) => {
      const v = raw[k];
      if (typeof v === "string") items.push({ title: k, text: v });
      else if (v && v.text) items.push({ title: v.title || k, text: v.text });
    });
  }
  return items;
}

/** A canned reply's title in the select: 60 characters at most. */
export function shortTitle(title) {
  return title.length > 60 ? title.slice(0, 57) + "…" : title;
}

/** `text` inserted at the selection [start, end) of `value`, a space before it when needed:
 * {value, caret}. */
export function insertAt(value, start, end, text) {
  const before = value.slice(0, start);
  const after = value.slice(end);
  const sep = before && !/\s$/.test(before) ? " " : "";
  return { value: before + sep + text + after, caret: (before + sep + text).length };
}

/** The first of `names` (dotted paths) that `obj` has, or null. */
export function pick(obj, names) {
  for (let i = 0; i < names.length; i++) {
    const parts = names[i].split(".");
    let v = obj;
    for (let j = 0; j < parts.length && v !== null && v !== undefined; j++) v = v[parts[j]];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The dashboard strip's texts (and warning flags) from GET /api/dashboard. */
export function dashboardView(d) {
  d = d || {};
  const view = {};
  const queue = pick(d, ["queue_length", "queue.length", "waiting"]);
  const claimed = pick(d, ["claimed_count"]);
  view.queue = queue === null ? "–" : String(queue) + (claimed !== null ? " chờ · " + claimed + " đang xử lý" : "");
  view.outsideHours = d.within_hours === false;
  const oldest = pick(d, ["oldest_waiting_seconds", "oldest_wait_seconds", "queue.oldest_waiting_seconds"]);
  view.oldest = oldest === null || oldest === undefined ? "–" : duration(oldest);
  view.oldestBad = oldest !== null && oldest > 3600 - SLA_WARN_SECONDS;
  const first = pick(d, ["avg_first_response_seconds", "avg_first_response", "first_response.avg_seconds"]);
  view.first = first === null ? "–" : duration(first);
  const resolution = pick(d, ["avg_resolution_seconds", "avg_resolution", "resolution.avg_seconds"]);
  view.resolution = resolution === null ? "–" : duration(resolution);
  const csat = pick(d, ["csat_average", "csat.average", "csat_avg"]);
  const csatCount = pick(d, ["csat_count", "csat.count"]);
  view.csat = csat === null ? "–" : Number(csat).toFixed(1) + "/5" + (csatCount !== null ? " (" + csatCount + ")" : "");
  const rate = pick(d, ["handoff_rate"]);
  view.rate =
    rate === null || rate === undefined
      ? ""
      : "(tỉ lệ " + (Number(rate) * 100).toFixed(1) + "% / " + pick(d, ["conversations_total"]) + " hội thoại)";
  const breached = pick(d, ["breached", "sla_breached", "breached_counts"]);
  if (breached !== null && typeof breached === "object") {
    const fr = Number(pick(breached, ["first_response"]) || 0);
    const rs = Number(pick(breached, ["resolution"]) || 0);
    view.breached = fr + " phản hồi · " + rs + " giải quyết";
    view.breachedBad = fr + rs > 0;
  } else {
    view.breached = breached === null ? "–" : String(breached);
    view.breachedBad = Number(breached) > 0;
  }
  const reasons = pick(d, ["handoffs_by_reason", "by_reason", "reasons"]) || {};
  const parts = Object.keys(reasons)
    .filter((k) => Number(reasons[k]) > 0)
    .sort((a, c) => reasons[c] - reasons[a])
    .map((k) => reasonLabel(k) + ": " + reasons[k]);
  view.reasons = parts.length ? parts.join(" · ") : "–";
  view.reasonsTitle = parts.join("\n");
  return view;
}

/** The server's clock minus the browser's (ms) from a response's Date header; 0 within 3 s (a Date
 * header has whole seconds), null without a usable header. */
export function clockSkew(dateHeader, browserNowMs) {
  if (!dateHeader) return null;
  const skew = Date.parse(dateHeader) - browserNowMs;
  if (isNaN(skew)) return null;
  return Math.abs(skew) > 3000 ? skew : 0;
}
