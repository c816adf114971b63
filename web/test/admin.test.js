import { test } from "node:test";
import assert from "node:assert/strict";
import { auditQuery, detailsLine, takesTickets, userState } from "../src/admin/logic.js";

test("audit filters become a query string without empty fields", () => {
  assert.equal(auditQuery({ actor: " Lan ", action: "", since: "2026-01-01", until: "" }), "?actor=Lan&since=2026-01-01");
  assert.equal(auditQuery({}), "");
  assert.equal(auditQuery({ action: "ticket.&x=1" }), "?action=ticket.%26x%3D1");
});

test("a user's state: disabled, waiting for a new password, not taking tickets, or presence", () => {
  assert.deepEqual(userState({ role: "agent", active: false, presence: "online" }), { text: "Đã khoá", cls: "disabled" });
  assert.deepEqual(userState({ role: "agent", active: true, must_change_password: true }), {
    text: "Chờ đổi mật khẩu",
    cls: "",
  });
  assert.deepEqual(userState({ role: "supervisor", active: true, presence: "away" }), { text: "Tạm vắng", cls: "away" });
  assert.deepEqual(userState({ role: "admin", active: true, presence: "offline" }), { text: "Ngoại tuyến", cls: "" });
  assert.deepEqual(userState({ role: "agent", active: true, presence: "online" }), { text: "Trực tuyến", cls: "online" });
  // a content editor never opens the console: no presence to show
  assert.deepEqual(userState({ role: "content", active: true, presence: "offline" }), {
    text: "Không nhận phiếu",
    cls: "",
  });
});

test("agents, supervisors and admins take tickets (and have a capacity); content editors do not", () => {
  assert.deepEqual(["agent", "supervisor", "admin", "content", "", undefined].map(takesTickets), [
    true, true, true, false, false, false,
  ]);
});

test("details on one line", () => {
  assert.equal(detailsLine({ before: "agent", after: "admin", status: 200 }), "before=agent, after=admin, status=200");
  assert.equal(detailsLine(null), "");
});
