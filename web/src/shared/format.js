/* Dates, durations and percentages as the pages show them. Pure (no DOM): unit-tested.
 * Staff pages show Vietnam time (UTC+7, no daylight saving) whatever the browser's zone. */

export const TZ_OFFSET_SECONDS = 7 * 3600;

export function pad(n) {
  return (n < 10 ? "0" : "") + n;
}

/** A Date whose UTC fields are the Vietnam wall clock of `date`. */
function vietnam(date) {
  return new Date(date.getTime() + TZ_OFFSET_SECONDS * 1000);
}

/** A Date from epoch seconds, epoch milliseconds (> 1e12), a numeric string or an ISO string; null if none. */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  let d;
  if (typeof value === "number" || /^\d+(\.\d+)?$/.test(String(value))) {
    const n = Number(value);
    d = new Date(n > 1e12 ? n : n * 1000);
  } else {
    d = new Date(String(value));
  }
  return isNaN(d.getTime()) ? null : d;
}

/** Epoch seconds as "HH:MM:SS DD/MM" in Vietnam time (agent console); "–" when missing. */
export function timeOfDayWithDate(ts) {
  if (ts === null || ts === undefined || ts === "") return "–";
  const d = new Date((Number(ts) + TZ_OFFSET_SECONDS) * 1000);
  if (isNaN(d.getTime())) return "–";
  return (
    pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) +
    " " + pad(d.getUTCDate()) + "/" + pad(d.getUTCMonth() + 1)
  );
}

/** Any toDate() value as "HH:MM DD/MM/YYYY" in Vietnam time (studio); "–" when missing. */
export function timeWithFullDate(value) {
  const d = toDate(value);
  if (!d) return "–";
  const v = vietnam(d);
  return (
    pad(v.getUTCHours()) + ":" + pad(v.getUTCMinutes()) + " " +
    pad(v.getUTCDate()) + "/" + pad(v.getUTCMonth() + 1) + "/" + v.getUTCFullYear()
  );
}

/** Today's date in Vietnam as YYYY-MM-DD (`nowMs`: epoch milliseconds, the real clock by default). */
export function todayInVietnam(nowMs = Date.now()) {
  const v = vietnam(new Date(nowMs));
  return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())}`;
}

/** "YYYY-MM-DD…" as "DD/MM/YYYY" (withYear) or "DD/MM"; anything else as it is. */
export function dayLabel(value, withYear) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
  if (!m) return String(value || "");
  return withYear ? `${m[3]}/${m[2]}/${m[1]}` : `${m[3]}/${m[2]}`;
}

/** Hours and minutes of `date` in the browser's own zone, as Vietnamese pages print a clock ("14:05"). */
export function clockTime(date) {
  return date.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
}

/** A duration in seconds in words: "45 giây", "12 phút", "3 giờ 05 phút", "2 ngày 4 giờ"; "–" if unknown. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + " giây";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " phút";
  const h = Math.floor(m / 60);
  if (h < 24) return h + " giờ " + pad(m % 60) + " phút";
  return Math.floor(h / 24) + " ngày " + (h % 24) + " giờ";
}

/** A countdown: "MM:SS" under an hour, duration() above. */
export function countdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 3600) return duration(s);
  return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
}

/** A share as a percentage: the API gives 0..1 or 0..100 (values <= 1 are fractions); null if not a number. */
export function percentValue(x) {
  if (x === null || x === undefined || x === "" || isNaN(Number(x))) return null;
  const n = Number(x);
  return n <= 1 ? n * 100 : n;
}

/** A percentage (already 0..100) with a decimal comma: 87.25 → "87,3%". */
export function percentText(value, digits = 1) {
  return value.toFixed(digits).replace(".", ",") + "%";
}
