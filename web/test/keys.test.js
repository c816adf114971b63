import { test } from "node:test";
import assert from "node:assert/strict";
import { enterPressed, enterSends } from "../src/shared/keys.js";

test("Enter sends; Shift+Enter and an IME's Enter do not", () => {
  assert.equal(enterSends({ key: "Enter", keyCode: 13 }), true);
  assert.equal(enterSends({ key: "Enter", shiftKey: true, keyCode: 13 }), false);
  assert.equal(enterSends({ key: "Enter", isComposing: true, keyCode: 13 }), false);
  assert.equal(enterSends({ key: "Enter", keyCode: 229 }), false);
  assert.equal(enterSends({ key: "a", keyCode: 65 }), false);
  assert.equal(enterPressed({ key: "Enter", shiftKey: true, keyCode: 13 }), true);
});
