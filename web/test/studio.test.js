import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../src/shared/api.js";
import {
  benefitText,
  changeParts,
  delta,
  errorMessage,
  exampleCountText,
  fieldCandidates,
  fieldLabel,
  importContentType,
  importFormat,
  listText,
  logLines,
  money,
  newExampleLines,
  parseExamples,
  percent,
  perTopicMap,
  progressOf,
  promotionFromForm,
  shortValue,
  sortNewest,
  stateBadgeClass,
  topicOfIntent,
  topicsByChange,
  validTopicName,
} from "../src/studio/logic.js";

test("topic names: lower-case ASCII, digits and _, starting with a letter, 2–50 characters", () => {
  for (const name of ["shipping_fee", "ab", "a".repeat(50), "senpay2"]) assert.equal(validTopicName(name), true, name);
  for (const name of ["a", "a".repeat(51), "Shipping", "phí_ship", "2fa", "_x", "ship-fee", ""]) {
    assert.equal(validTopicName(name), false, name);
  }
});

test("examples: one a line, YAML dashes and blank lines dropped", () => {
  assert.deepEqual(parseExamples("- phí ship bao nhiêu\n\n  ship  \n-không dash\n - a - b"), [
    "phí ship bao nhiêu",
    "ship",
    "-không dash",
    "a - b",
  ]);
  assert.equal(exampleCountText(11), "11 ví dụ — cần tối thiểu 12 (thiếu 1)");
  assert.equal(exampleCountText(12), "12 ví dụ (tối thiểu 12)");
});

test("field labels and the candidate paths of a problem", () => {
  assert.equal(fieldLabel("responses[0].buttons[1]"), "Câu trả lời");
  assert.equal(fieldLabel("min_order"), "Đơn tối thiểu");
  assert.equal(fieldLabel("unknown.x"), "unknown.x");
  assert.deepEqual(fieldCandidates("responses[0].buttons[1]"), [
    "responses.0.buttons.1",
    "responses.0.buttons",
    "responses.0",
    "responses",
  ]);
  assert.deepEqual(fieldCandidates(""), []);
});

test("money, percentages and accuracy changes", () => {
  assert.equal(money(25000), "25.000đ");
  assert.equal(money("300000"), "300.000đ");
  assert.equal(money(""), "–");
  assert.equal(percent(0.9125), "91,3%");
  assert.equal(percent(null), "–");
  assert.deepEqual(delta(0.9, 0.925), { text: "+2,5 điểm", cls: "delta-up" });
  assert.deepEqual(delta(92.5, 90), { text: "−2,5 điểm", cls: "delta-down" });
  assert.deepEqual(delta(0.9, 0.9004), { text: "+0,0 điểm", cls: "" });
  assert.deepEqual(delta(0.9, 0.9), { text: "±0,0 điểm", cls: "" });
  assert.deepEqual(delta(null, 0.9), { text: "–", cls: "" });
});

test("error messages of the studio", () => {
  assert.equal(
    errorMessage(new ApiError(403, { message: "x" })),
    "Tài khoản của bạn không có quyền sửa nội dung của bot.",
  );
  assert.equal(errorMessage(new ApiError(409, {})), "Nội dung này vừa được người khác sửa.");
  assert.equal(errorMessage(new ApiError(422, { message: "Thiếu câu trả lời." })), "Thiếu câu trả lời.");
  assert.equal(errorMessage(new ApiError(400, {})), "Yêu cầu không hợp lệ.");
  assert.equal(errorMessage(new Error("offline")), "Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.");
});

test("a promotion's benefit and lists", () => {
  assert.equal(benefitText({ kind: "discount", percent: 10, cap: 50000 }), "10%, tối đa 50.000đ");
  assert.equal(benefitText({ kind: "freeship", amount: 30000 }), "Miễn phí giao hàng, 30.000đ");
  assert.equal(benefitText({ kind: "campaign", percent: "" }), "–");
  assert.equal(listText(["momo", "x"], { momo: "MoMo" }, "Mọi phương thức"), "MoMo, x");
  assert.equal(listText([], null, "Mọi hạng"), "Mọi hạng");
});

test("the promotion form becomes the API body", () => {
  const form = {
    code: " tet10 ",
    kind: "discount",
    name: " Tết ",
    limits: "",
    notes: "",
    percent: "10",
    amount: "",
    cap: "50000",
    min_order: "abc",
    start: "2026-02-01",
    end: "",
    stack_group: "",
    tiers: ["Vàng"],
    payment_methods: [],
    excludes_groups: [],
    aliases: "TET\n\n tết 10 \n",
  };
  assert.deepEqual(promotionFromForm(form), {
    code: "TET10",
    kind: "discount",
    name: "Tết",
    percent: 10,
    cap: 50000,
    min_order: "abc", // not a number: sent as typed, the server explains
    start: "2026-02-01",
    tiers: ["Vàng"],
    aliases: ["TET", "tết 10"],
  });
});

test("inbox: newest first, the topic of a faq intent", () => {
  const items = [
    { id: "a", last_seen: 100 },
    { id: "b", first_seen: "2026-11-20T00:00:00Z" },
    { id: "c" },
    { id: "d", last_seen: 200 },
  ];
  assert.deepEqual(
    sortNewest(items).map((x) => x.id),
    ["b", "d", "a", "c"],
  );
  assert.equal(topicOfIntent("faq/shipping_fee"), "shipping_fee");
  assert.equal(topicOfIntent("greet"), null);
  assert.equal(topicOfIntent(undefined), null);
});

test("training jobs: progress, badge, log without colours", () => {
  assert.equal(progressOf({ progress: 42.6 }), 43);
  assert.equal(progressOf({ progress: 130 }), 100);
  assert.equal(progressOf({ progress: "x" }), 0);
  assert.equal(stateBadgeClass("published"), "badge ok");
  assert.equal(stateBadgeClass("failed"), "badge bad");
  assert.equal(stateBadgeClass("training"), "badge run");
  assert.deepEqual(logLines(["\u001b[92mEpoch 1\u001b[0m", 2]), ["Epoch 1", "2"]);
  assert.deepEqual(logLines(null), []);
});

test("per-topic accuracies and their order by change", () => {
  assert.deepEqual(perTopicMap([{ topic: "a", accuracy: 0.9 }, { accuracy: 1 }]), { a: 0.9 });
  assert.deepEqual(perTopicMap({ a: { accuracy: 0.8 }, b: 0.7 }), { a: 0.8, b: 0.7 });
  assert.deepEqual(perTopicMap(null), {});
  const before = { a: 0.9, b: 0.8, c: 0.5 };
  const after = { a: 0.7, b: 0.8, c: 0.6, d: 0.4 };
  assert.deepEqual(topicsByChange(before, after), ["a", "b", "c", "d"]);
});

test("the new examples' check as lines", () => {
  assert.equal(newExampleLines(null), null);
  assert.equal(newExampleLines({}), null);
  assert.deepEqual(newExampleLines({ count: 0 }), []);
  assert.deepEqual(newExampleLines({ n: 5, accuracy: 0.8, correct: 4, shipping_fee: { n: 2, accuracy: 1 }, errors: ["x"] }), [
    "Số câu: 5",
    "Bot nhận đúng: 80,0%",
    "Nhận đúng: 4 câu",
    "shipping_fee: 2 câu, nhận đúng 100,0%",
    "Câu bot nhận sai: 1 câu",
  ]);
});

test("history: short values", () => {
  assert.equal(shortValue(""), "(trống)");
  assert.equal(shortValue(["a", 2]), "a, 2");
  assert.equal(shortValue({ text: "Chào", buttons: [{ title: "A" }, { title: "B" }] }), "Chào [nút: A, B]");
  assert.equal(shortValue({ x: 1 }), '{"x":1}');
});

test("history: what changed between two versions", () => {
  assert.deepEqual(
    changeParts(
      { version: 1, examples: ["a", "b"], responses: [{ text: "x" }] },
      { version: 2, examples: ["b", "c"], responses: [{ text: "y" }] },
    ),
    [
      { label: "Câu hỏi mẫu: ", before: undefined, after: "+ c" },
      { label: "Câu hỏi mẫu: ", before: "− a", after: undefined },
      { label: "Câu trả lời: ", before: "x", after: "y" },
    ],
  );
  assert.deepEqual(changeParts({ examples: ["a", "b"] }, { examples: ["b", "a"] }), [
    { label: "Câu hỏi mẫu: ", before: undefined, after: "đổi thứ tự" },
  ]);
  assert.deepEqual(changeParts(null, { name: "x", examples: ["1", "2", "3", "4"] }), [
    { note: ["div", "change-line after", "Tạo mới"] },
    { label: "Tên: ", before: undefined, after: "x" },
    { label: "Câu hỏi mẫu: ", before: undefined, after: "4 mục" },
  ]);
  assert.deepEqual(changeParts({ a: 1, version: 1 }, { a: 1, version: 2 }), [
    { note: ["span", "muted", "Không có khác biệt."] },
  ]);
  assert.deepEqual(changeParts("cũ", null), [{ label: "Trước: ", before: "cũ", after: undefined }]);
  assert.deepEqual(changeParts(undefined, undefined), [{ note: ["span", "muted", "–"] }]);
});

test("spreadsheet uploads: .csv or .xlsx only", () => {
  assert.equal(importFormat("FAQ.CSV"), "csv");
  assert.equal(importFormat("khuyen-mai.xlsx"), "xlsx");
  assert.equal(importFormat("a.xls"), null);
  assert.equal(importContentType("csv"), "text/csv; charset=utf-8");
  assert.equal(importContentType("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
});
