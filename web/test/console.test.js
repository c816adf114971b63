import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../src/shared/api.js";
import {
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
  pick,
  priorityBadge,
  reasonLabel,
  rowSubline,
  shortTitle,
  slaClass,
  slaDetail,
  slaInfo,
  statusLabel,
} from "../src/console/logic.js";

const NOW = 1_800_000_000; // epoch seconds

test("labels of reasons and statuses, with fall-backs", () => {
  assert.equal(reasonLabel("money_complaint"), "Khiếu nại tiền / hoàn tiền");
  assert.equal(reasonLabel("new_reason"), "new_reason");
  assert.equal(reasonLabel(undefined), "–");
  assert.equal(statusLabel({ status: "claimed" }), "Đang xử lý");
  assert.equal(statusLabel({ status: "claimed", status_label: "Riêng" }), "Riêng");
  assert.equal(statusLabel({}), "–");
});

test("priority badges: mid from 3, high from 5", () => {
  assert.deepEqual(priorityBadge({ priority: 2 }), { text: "Ưu tiên 2", className: "badge prio" });
  assert.deepEqual(priorityBadge({ priority: "3" }), { text: "Ưu tiên 3", className: "badge prio mid" });
  assert.deepEqual(priorityBadge({ priority: 6 }), { text: "Ưu tiên 6", className: "badge prio high" });
  assert.deepEqual(priorityBadge({}), { text: "Ưu tiên 0", className: "badge prio" });
});

test("the queue row's grey line", () => {
  assert.equal(
    rowSubline({ status: "waiting", queue_position: 2, channel: "socketio", customer: { member_tier: "Vàng" } }),
    "Hạng: Vàng · Vị trí #2 · Kênh: socketio",
  );
  assert.equal(rowSubline({ status: "claimed", queue_position: 2, claimed_by: "lan" }), "Hạng: – · Xử lý: lan · Kênh: –");
});

test("SLA: the first-response clock, then the resolution clock", () => {
  const sla = { first_response_due: NOW + 125, resolution_due: NOW + 7200 };
  assert.deepEqual(slaInfo({ status: "waiting", sla }, NOW), { text: "Phản hồi: còn 02:05", late: true, done: false });
  assert.deepEqual(slaInfo({ status: "claimed", first_response_at: NOW - 10, sla }, NOW), {
    text: "Giải quyết: còn 2 giờ 00 phút",
    late: false,
    done: false,
  });
  assert.deepEqual(slaInfo({ status: "waiting", sla: { first_response_due: NOW - 90 } }, NOW), {
    text: "Phản hồi: quá hạn 1 phút",
    late: true,
    done: false,
  });
  assert.deepEqual(slaInfo({ status: "waiting" }, NOW), { text: "Phản hồi: –", late: false, done: false });
  assert.deepEqual(slaInfo({ status: "closed", sla: { resolution_breached: true } }, NOW), {
    text: "Đã trễ SLA",
    late: true,
    done: false,
  });
  assert.deepEqual(slaInfo({ status: "resolved", sla: {} }, NOW), { text: "Đúng SLA", late: false, done: true });
});

test("SLA detail lines of the ticket view, in Vietnam time", () => {
  const due = Date.UTC(2026, 10, 20, 3, 0, 0) / 1000; // 10:00:00 in Vietnam
  assert.deepEqual(slaDetail(due, false, due - 60, 0), { text: "xong lúc 09:59:00 20/11 (đúng hạn)", late: false, done: true });
  assert.deepEqual(slaDetail(due, false, due + 1, 0), { text: "xong lúc 10:00:01 20/11 (trễ hạn)", late: true, done: false });
  assert.deepEqual(slaDetail(due, false, null, due - 30), { text: "còn 00:30 (hạn 10:00:00 20/11)", late: true });
  assert.deepEqual(slaDetail(due, false, null, due + 3600), { text: "quá hạn 1 giờ 00 phút (hạn 10:00:00 20/11)", late: true });
  assert.deepEqual(slaDetail(null, true, null, 0), { text: "–", late: true });
  assert.equal(slaClass({ late: true, done: true }), "sla late");
  assert.equal(slaClass({ late: false, done: true }), "sla done");
  assert.equal(slaClass({ late: false }), "sla");
});

test("error messages: the service's own first, then per status and action", () => {
  assert.equal(errorMessage(new TypeError("fetch")), "Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.");
  assert.equal(errorMessage(new ApiError(401, { message: "x" })), "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.");
  assert.equal(
    errorMessage(new ApiError(403, { claimed_by: "lan" })),
    "Phiếu này đang do nhân viên khác xử lý (lan). Bạn không thể thao tác trên phiếu này.",
  );
  assert.equal(errorMessage(new ApiError(403, {}), "admin"), "Bạn không có quyền thực hiện thao tác này.");
  assert.equal(
    errorMessage(new ApiError(409, {}), "claim"),
    "Không nhận được phiếu: phiếu đã có người nhận hoặc không còn trong hàng chờ.",
  );
  assert.equal(errorMessage(new ApiError(409, { message: "Đã đóng." }), "claim"), "Đã đóng.");
  assert.equal(
    errorMessage(new ApiError(502, {}), "send"),
    "Không gửi được tới khách qua trợ lý ảo. Vui lòng thử lại. Nội dung trả lời vẫn còn trong ô soạn thảo.",
  );
  assert.equal(errorMessage(new ApiError(418, {})), "Máy chủ gặp lỗi (418). Vui lòng thử lại.");
});

test("whose ticket it is", () => {
  const claimed = { status: "claimed", claimed_by: "lan" };
  assert.equal(isMine(claimed, "lan"), true);
  assert.equal(isMine(claimed, null), false);
  assert.equal(claimedByOther(claimed, "minh"), true);
  assert.equal(claimedByOther(claimed, "lan"), false);
  assert.equal(claimNote(claimed, "minh"), "Phiếu đang do lan xử lý.");
  assert.equal(claimNote(claimed, null), "Đang do lan xử lý.");
  assert.equal(claimNote(claimed, "lan"), "");
  assert.equal(claimNote({ status: "waiting" }, "lan"), "Nhận xử lý hoặc gửi tin nhắn để nhận phiếu.");
  assert.equal(claimNote({ status: "closed" }, "lan"), "Phiếu đã đóng.");
});

test("transcript messages: key, author and NLU line", () => {
  assert.equal(messageKey({ role: "bot", timestamp: 5, text: "a" }), "bot|5|a");
  assert.equal(messageKey({}), "||");
  assert.deepEqual(messageAuthor({ role: "agent", agent: "Lan" }), { role: "agent", who: "Lan" });
  assert.deepEqual(messageAuthor({ role: "agent" }), { role: "agent", who: "Nhân viên" });
  assert.deepEqual(messageAuthor({ role: "toString" }), { role: "system", who: "Hệ thống" });
  assert.equal(nluLine({ role: "customer", intent: "ask_fee", confidence: 0.914 }), "ý định: ask_fee · 91%");
  assert.equal(nluLine({ role: "customer", intent: "ask_fee" }), "ý định: ask_fee");
  assert.equal(nluLine({ role: "bot", intent: "ask_fee" }), null);
});

test("customer lines skip empty slots and label the known ones", () => {
  assert.deepEqual(customerLines({ phone: "09******78", email: "", tags: [], order_id: "SM1", extra: { a: 1 } }), [
    ["SĐT (khách tự nhập, chưa xác minh)", "09******78"],
    ["Mã đơn hàng", "SM1"],
    ["extra", '{"a":1}'],
  ]);
});

test("canned replies from lists, objects and maps", () => {
  assert.deepEqual(cannedItems({ replies: ["Chào", { body: "B" }, { title: "T", text: "X" }, {}] }), [
    { title: "Chào", text: "Chào" },
    { title: "Mẫu 2", text: "B" },
    { title: "T", text: "X" },
  ]);
  assert.deepEqual(cannedItems({ greet: "Xin chào", bye: { text: "Tạm biệt" } }), [
    { title: "greet", text: "Xin chào" },
    { title: "bye", text: "Tạm biệt" },
  ]);
  assert.deepEqual(cannedItems(null), []);
  assert.equal(shortTitle("x".repeat(61)), "x".repeat(57) + "…");
  assert.equal(shortTitle("x".repeat(60)), "x".repeat(60));
});

test("a canned reply goes in at the cursor, a space before it when needed", () => {
  assert.deepEqual(insertAt("Chào bạn", 8, 8, "Cảm ơn"), { value: "Chào bạn Cảm ơn", caret: 15 });
  assert.deepEqual(insertAt("Chào ", 5, 5, "X"), { value: "Chào X", caret: 6 });
  assert.deepEqual(insertAt("abXYcd", 2, 4, "Z"), { value: "ab Zcd", caret: 4 });
  assert.deepEqual(insertAt("", 0, 0, "Z"), { value: "Z", caret: 1 });
});

test("the clock skew is kept only beyond 3 seconds", () => {
  const browser = Date.parse("Fri, 20 Nov 2026 03:00:00 GMT");
  assert.equal(clockSkew("Fri, 20 Nov 2026 03:00:10 GMT", browser), 10000);
  assert.equal(clockSkew("Fri, 20 Nov 2026 03:00:02 GMT", browser), 0);
  assert.equal(clockSkew(null, browser), null);
  assert.equal(clockSkew("garbage", browser), null);
});

test("dashboard: dotted names, breaches and reasons by count", () => {
  assert.equal(pick({ queue: { length: 0 } }, ["queue_length", "queue.length"]), 0);
  assert.equal(pick({}, ["a.b"]), null);
  const view = dashboardView({
    queue_length: 3,
    claimed_count: 1,
    within_hours: false,
    oldest_waiting_seconds: 3100,
    avg_first_response_seconds: 95,
    csat: { average: 4.25, count: 8 },
    handoff_rate: 0.1234,
    conversations_total: 81,
    breached: { first_response: 1, resolution: 0 },
    handoffs_by_reason: { anger: 1, money_complaint: 4, other: 0 },
  });
  assert.deepEqual(view, {
    queue: "3 chờ · 1 đang xử lý",
    outsideHours: true,
    oldest: "51 phút",
    oldestBad: true,
    first: "1 phút",
    resolution: "–",
    csat: "4.3/5 (8)",
    rate: "(tỉ lệ 12.3% / 81 hội thoại)",
    breached: "1 phản hồi · 0 giải quyết",
    breachedBad: true,
    reasons: "Khiếu nại tiền / hoàn tiền: 4 · Khách bức xúc: 1",
    reasonsTitle: "Khiếu nại tiền / hoàn tiền: 4\nKhách bức xúc: 1",
  });
  const empty = dashboardView(null);
  assert.equal(empty.queue, "–");
  assert.equal(empty.outsideHours, false);
  assert.equal(empty.breached, "–");
  assert.equal(empty.reasons, "–");
});
