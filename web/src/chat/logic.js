/* The chat page's rules that need no DOM (unit-tested): session ids, the signed-in customer, the handoff
 * banner's lines, the shape of Rasa's bot_uttered, what to send again after a reconnect. */

export const SESSION_ID = /^[0-9a-f]{32}\.[0-9a-f]{32}$/;
export const MAX_LENGTH = 2000;

export const TEXT = {
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
};

// A customer signed in on the shop's website: the embedding page opens the chat as
// /#customer_id=<id>&customer_hash=<HMAC-SHA256 of the id with CUSTOMER_IDENTITY_SECRET, hex>, computed
// by the shop's server (the fragment never reaches a server log). Rasa checks the hash
// (bot/channels/identity.py); without it the conversation is anonymous.
export function signedInCustomer(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const id = params.get("customer_id") || "";
  const mac = params.get("customer_hash") || "";
  return id && /^[0-9a-f]{64}$/i.test(mac) ? { id, hash: mac } : null;
}

export function isCount(value) {
  return value !== null && value !== undefined && value !== "" && Number.isFinite(Number(value)) && value >= 0;
}

/** An estimated wait in minutes as words: "45 phút", "1 giờ", "2 giờ 5 phút". */
export function waitText(minutes) {
  const total = Math.round(Number(minutes));
  if (total < 60) return `${total} phút`;
  const rest = total % 60;
  return `${Math.floor(total / 60)} giờ` + (rest ? ` ${rest} phút` : "");
}

/** The handoff state from the bot's custom `handoff` payload. */
export function handoffFrom(payload) {
  return {
    ticket: payload.ticket_id ? String(payload.ticket_id) : "",
    position: payload.queue_position,
    wait: payload.estimated_wait_minutes,
    agent: null,
  };
}

/** The four lines of the handoff banner for {ticket, position, wait, agent}. */
export function handoffLines(handoff) {
  return {
    title: handoff.agent ? `Nhân viên ${handoff.agent} đang hỗ trợ bạn` : TEXT.waiting,
    ticket: handoff.ticket ? `Mã phiếu: ${handoff.ticket}` : "",
    position: !handoff.agent && isCount(handoff.position) ? `Vị trí trong hàng chờ: ${handoff.position}` : "",
    wait: !handoff.agent && isCount(handoff.wait) ? `Thời gian chờ dự kiến: khoảng ${waitText(handoff.wait)}` : "",
  };
}

/** Rasa's bot_uttered event as a message {role, text, buttons, image, custom, agent}. */
export function botMessage(data) {
  const custom = data.custom && typeof data.custom === "object" ? data.custom : null;
  const agent = custom && custom.agent && custom.agent.name ? String(custom.agent.name) : null;
  const attachment = data.attachment && typeof data.attachment === "object" ? data.attachment : null;
  const attached = attachment && attachment.type === "image" && attachment.payload ? attachment.payload.src : null;
  return {
    role: agent ? "agent" : "bot",
    text: data.text,
    buttons: data.quick_replies || data.buttons,
    image: data.image || attached,
    custom,
    agent,
  };
}

/** A message's role on the page: customer, agent, or bot for anything else. */
export function roleOf(message) {
  return ["customer", "agent"].includes(message.role) ? message.role : "bot";
}

/** The messages in flight ({payload, shown}) that the conversation's history does not show: lost in a
 * reconnect, to be sent again (only the latest customer messages are compared). */
export function lostMessages(inflight, history) {
  const customerTexts = history.filter((m) => m && m.role === "customer").map((m) => String(m.text));
  const recent = customerTexts.slice(-(inflight.length + 5));
  return inflight.filter((m) => !recent.includes(m.shown) && !recent.includes(m.payload));
}

/** The hint under the text box as the customer types: the characters left near the limit. */
export function lengthHintText(length) {
  const left = MAX_LENGTH - length;
  return left <= 200 ? `Tin nhắn tối đa ${MAX_LENGTH} ký tự (còn ${left} ký tự).` : null;
}
