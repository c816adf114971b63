import { test } from "node:test";
import assert from "node:assert/strict";
import { auditQuery, detailsLine, userState } from "../src/admin/logic.js";

test("audit filters become a query string without empty fields", () => {
  assert.equal(auditQuery({ actor: " Lan ", action: "", since: "2026-01-01", until: "" }), "?actor=Lan&since=2026-01-01");
  assert.equal(auditQuery({}), "");
  assert.equal(auditQuery({ action: "ticket.&x=1" }), "?action=ticket.%26x%3D1");
});

test("a user's state: disabled, waiting for a new password, or presence", () => {
  assert.deepEqual(userState({ active: false, presence: "online" }), { text: "Đã khoá", cls: "disabled" });
  assert.deepEqual(userState({ active: true, must_change_password: true }), { text: "Chờ đổi mật khẩu", cls: "" });
  assert.deepEqual(userState({ active: true, presence: "away" }), { text: "Tạm vắng", cls: "away" });
  assert.deepEqual(userState({ active: true, presence: "offline" }), { text: "Ngoại tuyến", cls: "" });
});

test("details on one line", () => {
  assert.equal(detailsLine({ before: "agent", after: "admin", status: 200 }), "before=agent, after=admin, status=200");
  assert.equal(detailsLine(null), "");
});
