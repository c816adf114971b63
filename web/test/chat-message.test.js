import { test } from "node:test";
import assert from "node:assert/strict";
import { ratingOf, starOrder, usableButtons } from "../src/shared/chat-message.js";

const star = (n) => ({ title: `⭐ ${n}`, payload: `/give_rating{"rating": ${n}}` });

test("a rating payload gives its number", () => {
  assert.equal(ratingOf(star(4)), 4);
  assert.equal(ratingOf({ payload: ' /give_rating{ "rating" :1} ' }), 1);
  assert.equal(ratingOf({ payload: '/give_rating{"rating": 6}' }), null);
  assert.equal(ratingOf({ payload: "/request_human" }), null);
});

test("buttons without a payload are not shown", () => {
  const ok = { title: "Gặp nhân viên", payload: "/request_human" };
  assert.deepEqual(usableButtons([ok, null, "x", { title: "no payload" }, { payload: null }]), [ok]);
  assert.deepEqual(usableButtons(undefined), []);
});

test("a row of ratings is ordered from one star up; anything else is not a star row", () => {
  const order = starOrder([star(3), star(1), star(5), star(2), star(4)]);
  assert.deepEqual(
    order.map((entry) => entry.rating),
    [1, 2, 3, 4, 5],
  );
  assert.equal(order[0].button.title, "⭐ 1");
  assert.equal(starOrder([star(1), { payload: "/deny" }]), null);
});
