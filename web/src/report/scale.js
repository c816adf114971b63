/* Numbers of the report's charts: percentages, axis maxima, label cutting. Pure: unit-tested. */
import { percentValue } from "../shared/format.js";

/** A share as a percentage (0..1 or 0..100 from the API); "" counts as 0 here; null if not a number. */
export function pct(x) {
  return x === "" ? 0 : percentValue(x);
}

/** A count from the API: a positive whole number, else 0. */
export function count(value) {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** A maximum whose quarters are whole numbers (axis ticks 0, ¼, ½, ¾, 1). */
export function quarterMax(value) {
  for (const step of [4, 8, 12, 20, 40, 60, 80, 100, 200, 400, 1000, 2000, 4000]) if (value <= step) return step;
  return Math.ceil(value / 4000) * 4000;
}

/** The axis maximum: 1, 2, 2.5 or 5 times a power of ten, at least `value`. */
export function niceMax(value) {
  if (value <= 0) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** At most `max` characters, "…" ending a cut text. */
export function truncate(text, max) {
  const s = String(text);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}
