import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError, commonMessage, listFrom, ownMessage, readBody, requestInit } from "../src/shared/api.js";

test("a JSON call carries the CSRF token, the cookie and no cache", () => {
  assert.deepEqual(requestInit("POST", "csrf", { a: 1 }), {
    method: "POST",
    headers: { "X-CSRF-Token": "csrf", Accept: "application/json", "Content-Type": "application/json" },
    cache: "no-store",
    credentials: "same-origin",
    body: '{"a":1}',
  });
  assert.deepEqual(requestInit("GET", ""), {
    method: "GET",
    headers: { Accept: "application/json" },
    cache: "no-store",
    credentials: "same-origin",
  });
  assert.equal(requestInit("GET", "csrf").headers.Authorization, undefined);
});

test("a raw body is sent as it is with its content type", () => {
  const init = requestInit("POST", "t", undefined, { rawBody: "a;b", contentType: "text/csv; charset=utf-8" });
  assert.equal(init.body, "a;b");
  assert.equal(init.headers["Content-Type"], "text/csv; charset=utf-8");
  assert.equal(requestInit("POST", "t", undefined, { rawBody: "x" }).headers["Content-Type"], "application/octet-stream");
});

test("ApiError keeps only an object body", () => {
  assert.deepEqual(new ApiError(409, { message: "m" }).data, { message: "m" });
  assert.deepEqual(new ApiError(500, "plain text").data, {});
  assert.deepEqual(new ApiError(500, null).data, {});
  assert.ok(new ApiError(404) instanceof Error);
  assert.equal(new ApiError(404).status, 404);
});

test("readBody parses JSON (null when broken) or reads text", async () => {
  const json = new Response('{"a":1}', { headers: { "Content-Type": "application/json" } });
  assert.deepEqual(await readBody(json), { a: 1 });
  const broken = new Response("{", { headers: { "Content-Type": "application/json" } });
  assert.equal(await readBody(broken), null);
  assert.equal(await readBody(new Response("ok", { headers: { "Content-Type": "text/plain" } })), "ok");
});

test("listFrom finds the list under the given keys, then items", () => {
  assert.deepEqual(listFrom([1]), [1]);
  assert.deepEqual(listFrom({ tickets: [1, 2] }, "tickets"), [1, 2]);
  assert.deepEqual(listFrom({ entries: [3] }, "history", "entries"), [3]);
  assert.deepEqual(listFrom({ items: [4] }, "tickets"), [4]);
  assert.deepEqual(listFrom({ tickets: "no" }, "tickets"), []);
  assert.deepEqual(listFrom(null, "tickets"), []);
});

test("the service's own message wins over the fall-backs", () => {
  assert.equal(ownMessage(new ApiError(400, { message: "Sai mã" })), "Sai mã");
  assert.equal(ownMessage(new ApiError(400, { message: "" })), null);
  assert.equal(commonMessage(new ApiError(400, {})), "Yêu cầu không hợp lệ.");
  assert.equal(commonMessage(new ApiError(503, {})), "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại.");
  assert.equal(commonMessage(new ApiError(500, {})), "Máy chủ gặp lỗi (500). Vui lòng thử lại.");
  assert.equal(commonMessage(new ApiError(500, { message: "Redis lỗi" })), "Redis lỗi");
});
