import { test } from "node:test";
import assert from "node:assert/strict";
import {
  countdown,
  dayLabel,
  duration,
  pad,
  percentText,
  percentValue,
  timeOfDayWithDate,
  timeWithFullDate,
  toDate,
  todayInVietnam,
} from "../src/shared/format.js";

// 2026-01-31T17:30:05Z is 00:30:05 on 1 February in Vietnam (UTC+7)
const LATE_EVENING_UTC = Date.UTC(2026, 0, 31, 17, 30, 5) / 1000;

test("pad adds a leading zero below ten only", () => {
  assert.equal(pad(0), "00");
  assert.equal(pad(9), "09");
  assert.equal(pad(10), "10");
});

test("console times are Vietnam wall-clock time, the date rolling over at midnight there", () => {
  assert.equal(timeOfDayWithDate(LATE_EVENING_UTC), "00:30:05 01/02");
  assert.equal(timeOfDayWithDate(String(LATE_EVENING_UTC)), "00:30:05 01/02");
  assert.equal(timeOfDayWithDate(0), "07:00:00 01/01");
});

test("console times: missing or garbage is a dash", () => {
  for (const value of [null, undefined, "", "abc"]) assert.equal(timeOfDayWithDate(value), "–", String(value));
});

test("toDate reads seconds, milliseconds, numeric strings and ISO strings", () => {
  assert.equal(toDate(LATE_EVENING_UTC).toISOString(), "2026-01-31T17:30:05.000Z");
  assert.equal(toDate(LATE_EVENING_UTC * 1000).toISOString(), "2026-01-31T17:30:05.000Z");
  assert.equal(toDate("1769880605.5").toISOString(), "2026-01-31T17:30:05.500Z");
  assert.equal(toDate("2026-01-31T17:30:05Z").toISOString(), "2026-01-31T17:30:05.000Z");
  assert.equal(toDate(""), null);
  assert.equal(toDate("not a date"), null);
});

test("studio times carry the year and no seconds, in Vietnam time", () => {
  assert.equal(timeWithFullDate(LATE_EVENING_UTC), "00:30 01/02/2026");
  assert.equal(timeWithFullDate("2025-12-31T17:00:00Z"), "00:00 01/01/2026");
  assert.equal(timeWithFullDate(null), "–");
});

test("today in Vietnam is already tomorrow late in the UTC evening", () => {
  assert.equal(todayInVietnam(LATE_EVENING_UTC * 1000), "2026-02-01");
  assert.equal(todayInVietnam(Date.UTC(2026, 0, 31, 16, 59, 59)), "2026-01-31");
});

test("day labels", () => {
  assert.equal(dayLabel("2026-11-20"), "20/11");
  assert.equal(dayLabel("2026-11-20T10:00:00", true), "20/11/2026");
  assert.equal(dayLabel("hôm qua"), "hôm qua");
  assert.equal(dayLabel(undefined, true), "");
});

test("durations in Vietnamese words", () => {
  assert.equal(duration(0), "0 giây");
  assert.equal(duration(59.4), "59 giây");
  assert.equal(duration(60), "1 phút");
  assert.equal(duration(3599), "59 phút");
  assert.equal(duration(3600 + 5 * 60), "1 giờ 05 phút");
  assert.equal(duration(2 * 86400 + 4 * 3600 + 59), "2 ngày 4 giờ");
  assert.equal(duration(-30), "0 giây");
  assert.equal(duration(null), "–");
  assert.equal(duration(NaN), "–");
});

test("countdowns are MM:SS under an hour", () => {
  assert.equal(countdown(0), "00:00");
  assert.equal(countdown(65.9), "01:05");
  assert.equal(countdown(3599), "59:59");
  assert.equal(countdown(3600), "1 giờ 00 phút");
  assert.equal(countdown(-5), "00:00");
});

test("percentages: fractions up to 1 are scaled, with a decimal comma", () => {
  assert.equal(percentValue(0.873), 87.3);
  assert.equal(percentValue(1), 100);
  assert.equal(percentValue(87.3), 87.3);
  assert.equal(percentValue("0.5"), 50);
  for (const value of [null, undefined, "", "x"]) assert.equal(percentValue(value), null, String(value));
  assert.equal(percentText(87.25), "87,3%");
  assert.equal(percentText(87.25, 0), "87%");
  assert.equal(percentText(5, 2), "5,00%");
});
