import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SESSION_ID,
  botMessage,
  handoffFrom,
  handoffLines,
  isCount,
  lengthHintText,
  lostMessages,
  roleOf,
  signedInCustomer,
  waitText,
} from "../src/chat/logic.js";

const HASH = "a".repeat(64);

test("session ids are two 32-hex halves", () => {
  assert.ok(SESSION_ID.test("0".repeat(32) + "." + "f".repeat(32)));
  assert.ok(!SESSION_ID.test("0".repeat(32) + "." + "F".repeat(32)));
  assert.ok(!SESSION_ID.test("0".repeat(32)));
});

test("a signed-in customer needs an id and a 64-hex hash in the fragment", () => {
  assert.deepEqual(signedInCustomer(`#customer_id=KH%2042&customer_hash=${HASH}`), { id: "KH 42", hash: HASH });
  assert.equal(signedInCustomer(`#customer_id=KH42&customer_hash=${HASH.slice(1)}`), null);
  assert.equal(signedInCustomer(`#customer_hash=${HASH}`), null);
  assert.equal(signedInCustomer(""), null);
});

test("wait times in minutes and hours", () => {
  assert.equal(waitText(0), "0 phút");
  assert.equal(waitText(44.6), "45 phút");
  assert.equal(waitText(60), "1 giờ");
  assert.equal(waitText(125), "2 giờ 5 phút");
});

test("queue counts must be non-negative numbers", () => {
  assert.equal(isCount(0), true);
  assert.equal(isCount("3"), true);
  for (const value of [null, undefined, "", -1, "x", Infinity]) assert.equal(isCount(value), false, String(value));
});

test("the handoff banner while waiting, then with an agent", () => {
  const waiting = handoffFrom({ ticket_id: "KN-20261120-0001", queue_position: 2, estimated_wait_minutes: 75 });
  assert.deepEqual(handoffLines(waiting), {
    title: "Đang kết nối nhân viên…",
    ticket: "Mã phiếu: KN-20261120-0001",
    position: "Vị trí trong hàng chờ: 2",
    wait: "Thời gian chờ dự kiến: khoảng 1 giờ 15 phút",
  });
  assert.deepEqual(handoffLines({ ...waiting, agent: "Lan" }), {
    title: "Nhân viên Lan đang hỗ trợ bạn",
    ticket: "Mã phiếu: KN-20261120-0001",
    position: "",
    wait: "",
  });
  assert.deepEqual(handoffLines(handoffFrom({})), {
    title: "Đang kết nối nhân viên…",
    ticket: "",
    position: "",
    wait: "",
  });
});

test("bot_uttered: an agent's message, quick replies and an image attachment", () => {
  assert.deepEqual(botMessage({ text: "Chào bạn", custom: { agent: { name: "Lan" } } }), {
    role: "agent",
    text: "Chào bạn",
    buttons: undefined,
    image: null,
    custom: { agent: { name: "Lan" } },
    agent: "Lan",
  });
  const shaped = botMessage({
    text: "Chọn",
    quick_replies: [{ title: "A", payload: "/a" }],
    attachment: { type: "image", payload: { src: "https://senmart.vn/x.png" } },
  });
  assert.equal(shaped.role, "bot");
  assert.deepEqual(shaped.buttons, [{ title: "A", payload: "/a" }]);
  assert.equal(shaped.image, "https://senmart.vn/x.png");
  assert.equal(shaped.agent, null);
  assert.equal(botMessage({ custom: "x" }).custom, null);
});

test("roles other than customer and agent are shown as the bot", () => {
  assert.equal(roleOf({ role: "customer" }), "customer");
  assert.equal(roleOf({ role: "agent" }), "agent");
  assert.equal(roleOf({ role: "system" }), "bot");
  assert.equal(roleOf({}), "bot");
});

test("after a reconnect, messages the history lacks are sent again, in order", () => {
  const inflight = [
    { payload: "phí ship?", shown: "phí ship?" },
    { payload: '/give_rating{"rating": 4}', shown: "⭐ 4" },
    { payload: "còn hàng không", shown: "còn hàng không" },
  ];
  const history = [
    { role: "customer", text: "phí ship?" },
    { role: "bot", text: "25.000đ" },
    { role: "customer", text: "⭐ 4" },
  ];
  assert.deepEqual(lostMessages(inflight, history), [{ payload: "còn hàng không", shown: "còn hàng không" }]);
  assert.deepEqual(lostMessages(inflight, []), inflight);
  assert.deepEqual(lostMessages([], history), []);
});

test("the length hint appears 200 characters before the limit", () => {
  assert.equal(lengthHintText(1799), null);
  assert.equal(lengthHintText(1800), "Tin nhắn tối đa 2000 ký tự (còn 200 ký tự).");
  assert.equal(lengthHintText(2000), "Tin nhắn tối đa 2000 ký tự (còn 0 ký tự).");
});
