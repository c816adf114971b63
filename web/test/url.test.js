import { test } from "node:test";
import assert from "node:assert/strict";
import { safeUrl, textParts } from "../src/shared/url.js";

const BASE = "https://chat.senmart.vn/";

test("only http(s) URLs are safe", () => {
  assert.equal(safeUrl("https://senmart.vn/a?b=1", BASE), "https://senmart.vn/a?b=1");
  assert.equal(safeUrl("/chat/x.png", BASE), "https://chat.senmart.vn/chat/x.png");
  assert.equal(safeUrl("javascript:alert(1)", BASE), null);
  assert.equal(safeUrl("data:text/html,<b>x</b>", BASE), null);
  assert.equal(safeUrl("http://[bad", BASE), null);
});

test("URLs in text become links without their trailing punctuation", () => {
  assert.deepEqual(textParts("Xem tại https://senmart.vn/doi-tra. Cảm ơn!", BASE), [
    { text: "Xem tại " },
    { text: "https://senmart.vn/doi-tra", href: "https://senmart.vn/doi-tra" },
    { text: ". Cảm ơn!" },
  ]);
});

test("markup and other schemes stay plain text", () => {
  assert.deepEqual(textParts("<b>Lan</b> javascript:alert(1)", BASE), [{ text: "<b>Lan</b> javascript:alert(1)" }]);
  assert.deepEqual(textParts("a http://x.vn\"onmouseover=1 b", BASE), [
    { text: "a " },
    { text: "http://x.vn", href: "http://x.vn/" },
    { text: "\"onmouseover=1 b" },
  ]);
});

test("text without URLs is one part; empty text none", () => {
  assert.deepEqual(textParts("xin chào\nbạn", BASE), [{ text: "xin chào\nbạn" }]);
  assert.deepEqual(textParts("", BASE), []);
});
