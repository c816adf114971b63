import { test } from "node:test";
import assert from "node:assert/strict";
import {
  accuracyRows,
  accuracySummary,
  confusionRows,
  handoffBars,
  inboxBars,
  riskPoints,
  selectiveFigures,
} from "../src/report/data.js";
import { count, niceMax, pct, quarterMax, truncate } from "../src/report/scale.js";

test("scales: nice and quarter maxima", () => {
  assert.equal(niceMax(0), 1);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(18), 20);
  assert.equal(niceMax(21), 25);
  assert.equal(niceMax(0.3), 0.5);
  assert.equal(quarterMax(3), 4);
  assert.equal(quarterMax(13), 20);
  assert.equal(quarterMax(4001), 8000);
});

test("scales: percentages, counts and cut labels", () => {
  assert.equal(pct(0.5), 50);
  assert.equal(pct(""), 0);
  assert.equal(pct("x"), null);
  assert.equal(count("4.6"), 5);
  assert.equal(count(-1), 0);
  assert.equal(count("x"), 0);
  assert.equal(truncate("abcdef", 4), "abc…");
  assert.equal(truncate("abcd", 4), "abcd");
});

test("accuracy: summary and bars, the worst topic first", () => {
  assert.equal(accuracySummary({ accuracy: 0.9123, model: "m1", n: 200 }), "Bản m1: 91,2% câu kiểm tra được hiểu đúng (trên 200 câu).");
  assert.equal(accuracySummary({ accuracy: 0.9 }), "Bản đang dùng: 90,0% câu kiểm tra được hiểu đúng.");
  assert.equal(accuracySummary(null), "");
  assert.deepEqual(
    accuracyRows([
      { topic: "b", accuracy: 0.95, n: 20 },
      { topic: "a", accuracy: 0.6 },
      { topic: "c", accuracy: null },
      { topic: "d", accuracy: 0.8, n: 0 },
    ]),
    [
      { label: "a", value: 60, text: "60%", color: "#c62828" },
      { label: "d", value: 80, text: "80% (0 câu)", color: "#e0a000" },
      { label: "b", value: 95, text: "95% (20 câu)", color: "#1b7f3b" },
    ],
  );
});

test("confusions: the ten largest", () => {
  const many = Array.from({ length: 12 }, (_, i) => ({ expected: `e${i}`, predicted: "p", count: i }));
  const rows = confusionRows(many);
  assert.equal(rows.length, 10);
  assert.deepEqual(rows[0], { label: "e11 → p", value: 11, text: "11 câu", color: "#c62828" });
  assert.equal(rows[9].value, 2);
});

test("selective answering figures and risk points", () => {
  const selective = {
    answerable: { n: 100, accuracy: 0.9, deflected_rate: 0.05, deflected: 5 },
    unanswerable: { n: 0 },
    human_request: { n: 10, handoff_rate: 1, handoff: 10 },
    risk_coverage: [
      { bar: 1, coverage: 0.8, risk: 0.05, answered: 80, wrong: 4 },
      { bar: "x", coverage: 0.5, risk: 0.01 },
    ],
  };
  assert.deepEqual(selectiveFigures(selective), [
    ["Câu hỏi có câu trả lời: trả lời đúng", "90,0%", "trên 100 câu"],
    ["Hỏi lại hoặc chuyển nhân viên", "5,0%", "5/100 câu có câu trả lời"],
    ["Câu ngoài kiến thức bị trả lời sai", "–", "Chưa có bộ câu này"],
    ["Yêu cầu gặp nhân viên được chuyển", "100,0%", "10/10 câu"],
  ]);
  assert.deepEqual(riskPoints(selective), [{ bar: 1, coverage: 80, risk: 5, answered: 80, wrong: 4 }]);
});

test("handoffs per day as a share of conversations, stacked by reason", () => {
  const shaped = handoffBars([
    { day: "2026-11-19", conversations: 20, reason: { anger: 1, money_complaint: 3 } },
    { day: "2026-11-20", conversations: 0, reason: { custom_reason: 0 } },
  ]);
  assert.deepEqual(
    shaped.series.map((s) => [s.key, s.label, s.color]),
    [
      ["anger", "Khách bực tức", "#1f6feb"],
      ["money_complaint", "Khiếu nại tiền", "#c62828"],
    ],
  );
  assert.equal(shaped.asRate, true);
  assert.equal(shaped.max, 20);
  assert.deepEqual(shaped.bars[0], {
    label: "19/11",
    parts: [
      { key: "anger", value: 5, tip: "1 / 20 cuộc (5,0%)" },
      { key: "money_complaint", value: 15, tip: "3 / 20 cuộc (15,0%)" },
    ],
    total: 20,
    text: "20% (4/20)",
  });
  assert.equal(shaped.bars[1].text, "");
  assert.deepEqual(handoffBars([{ day: "2026-11-20", reason: {} }]), { series: [] });
});

test("handoffs as counts when no day has a conversation count", () => {
  const shaped = handoffBars([{ day: "2026-11-20", reason: { other: 2, partnership: 1 } }]);
  assert.equal(shaped.asRate, false);
  assert.deepEqual(
    shaped.series.map((s) => s.key),
    ["partnership", "other"],
  );
  assert.equal(shaped.bars[0].text, "3");
  assert.equal(shaped.max, 4);
});

test("inbox bars per day", () => {
  assert.deepEqual(inboxBars([{ day: "2026-11-20", count: "3" }, { day: "2026-11-21" }]), [
    { label: "20/11", parts: [{ key: "count", value: 3 }], total: 3, text: "3" },
    { label: "21/11", parts: [{ key: "count", value: 0 }], total: 0, text: "0" },
  ]);
});
