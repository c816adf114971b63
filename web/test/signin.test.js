import { test } from "node:test";
import assert from "node:assert/strict";
import { passwordProblem } from "../src/signin/logic.js";

test("a new password needs 10 characters, typed twice alike", () => {
  assert.equal(passwordProblem("ngắn", "ngắn"), "Mật khẩu mới cần ít nhất 10 ký tự.");
  assert.equal(passwordProblem("", ""), "Mật khẩu mới cần ít nhất 10 ký tự.");
  assert.equal(passwordProblem("đủ mười ký tự", "đủ mười ký tư"), "Hai lần nhập mật khẩu mới chưa khớp nhau.");
  assert.equal(passwordProblem("đủ mười ký tự", "đủ mười ký tự"), null);
});
