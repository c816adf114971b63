import { test } from "node:test";
import assert from "node:assert/strict";
import { safeNext, signInAddress } from "../src/shared/session.js";

test("next is one of our pages on this site, or the role's home", () => {
  assert.equal(safeNext("/console", "/admin"), "/console");
  assert.equal(safeNext("/console#KN-20260101-0001", "/admin"), "/console#KN-20260101-0001");
  assert.equal(safeNext("/studio/report", "/admin"), "/studio/report");
  assert.equal(safeNext("/studio/", "/admin"), "/studio/");
  for (const bad of ["//evil.example/console", "https://evil.example", "/\\evil", "/metrics", "", null, "console"]) {
    assert.equal(safeNext(bad, "/admin"), "/admin", String(bad));
  }
});

test("the sign-in address comes back to the page, or asks for the new password", () => {
  assert.equal(signInAddress("/studio/report", false), "/signin?next=%2Fstudio%2Freport");
  assert.equal(signInAddress("/console", true), "/signin?change=1");
});
