/* GET /studio/api/report shaped into chart rows and figures. Pure (no DOM): unit-tested. */
import { dayLabel, percentText } from "../shared/format.js";
import { count, pct, quarterMax } from "./scale.js";

export const REASONS = {
  request_human: "Khách muốn gặp nhân viên",
  anger: "Khách bực tức",
  money_complaint: "Khiếu nại tiền",
  low_confidence: "Bot chưa hiểu",
  account_security: "Bảo mật tài khoản",
  partnership: "Hợp tác, báo chí, tuyển dụng",
  other: "Khác",
};
const PALETTE = ["#1f6feb", "#c62828", "#b26a00", "#0f7a5c", "#6b3fa0", "#00838f", "#8d6e63", "#546e7a"];

/** The sentence above the accuracy chart ("" without an evaluation). */
export function accuracySummary(evaluation) {
  const total = evaluation ? pct(evaluation.accuracy) : null;
  if (total === null) return "";
  return (
    `Bản ${evaluation.model || "đang dùng"}: ${percentText(total)} câu kiểm tra được hiểu đúng` +
    (evaluation.n ? ` (trên ${evaluation.n} câu).` : ".")
  );
}

/** Accuracy bars per topic, the worst first; red under 70 %, amber under 90 %. */
export function accuracyRows(perTopic) {
  return (Array.isArray(perTopic) ? perTopic : [])
    .map((t) => ({ topic: String(t.topic), value: pct(t.accuracy), n: t.n }))
    .filter((t) => t.value !== null)
    .sort((a, b) => a.value - b.value || a.topic.localeCompare(b.topic))
    .map((t) => ({
      label: t.topic,
      value: t.value,
      text: percentText(t.value, 0) + (t.n !== undefined && t.n !== null ? ` (${t.n} câu)` : ""),
      color: t.value < 70 ? "#c62828" : t.value < 90 ? "#e0a000" : "#1b7f3b",
    }));
}

/** The ten most frequent confusions as bars. */
export function confusionRows(confusions) {
  return (Array.isArray(confusions) ? confusions : [])
    .filter((c) => Number(c.count) > 0)
    .sort((a, b) => Number(b.count) - Number(a.count))
    .slice(0, 10)
    .map((c) => ({
      label: `${c.expected} → ${c.predicted}`,
      value: Number(c.count),
      text: `${c.count} câu`,
      color: "#c62828",
    }));
}

/** The four selective-answering figures [label, value, detail]. */
export function selectiveFigures(selective) {
  const answerable = selective.answerable || {};
  const unanswerable = selective.unanswerable || {};
  const human = selective.human_request || {};
  const rate = (x) => (pct(x) === null ? "–" : percentText(pct(x)));
  const missing = "Chưa có bộ câu này";
  return [
    [
      "Câu hỏi có câu trả lời: trả lời đúng",
      count(answerable.n) ? rate(answerable.accuracy) : "–",
      count(answerable.n) ? `trên ${count(answerable.n)} câu` : missing,
    ],
    [
      "Hỏi lại hoặc chuyển nhân viên",
      count(answerable.n) ? rate(answerable.deflected_rate) : "–",
      count(answerable.n) ? `${count(answerable.deflected)}/${count(answerable.n)} câu có câu trả lời` : missing,
    ],
    [
      "Câu ngoài kiến thức bị trả lời sai",
      count(unanswerable.n) ? rate(unanswerable.wrong_answer_rate) : "–",
      count(unanswerable.n) ? `${count(unanswerable.wrong)}/${count(unanswerable.n)} câu` : missing,
    ],
    [
      "Yêu cầu gặp nhân viên được chuyển",
      count(human.n) ? rate(human.handoff_rate) : "–",
      count(human.n) ? `${count(human.handoff)}/${count(human.n)} câu` : missing,
    ],
  ];
}

/** The risk–coverage points (percentages) that can be drawn. */
export function riskPoints(selective) {
  return (Array.isArray(selective.risk_coverage) ? selective.risk_coverage : [])
    .map((p) => ({
      bar: Number(p.bar),
      coverage: pct(p.coverage),
      risk: pct(p.risk),
      answered: count(p.answered),
      wrong: count(p.wrong),
    }))
    .filter((p) => Number.isFinite(p.bar) && p.coverage !== null && p.risk !== null);
}

/** Handoffs per day stacked by reason: {series, bars, asRate, max}, or {series: []} when none. As a share
 * of the day's conversations when the API counts them, else as counts. */
export function handoffBars(days) {
  const keys = [];
  for (const d of days) {
    for (const [k, v] of Object.entries(d.reason || {})) if (Number(v) > 0 && !keys.includes(k)) keys.push(k);
  }
  if (!keys.length) return { series: [] };
  const ordered = Object.keys(REASONS).filter((k) => keys.includes(k)).concat(keys.filter((k) => !(k in REASONS)));
  const series = ordered.map((k, i) => ({ key: k, label: REASONS[k] || k, color: PALETTE[i % PALETTE.length] }));
  const asRate = days.some((d) => Number(d.conversations) > 0);
  const bars = days.map((d) => {
    const conv = Number(d.conversations) || 0;
    const counts = ordered.map((k) => Number((d.reason || {})[k]) || 0);
    const handed = counts.reduce((a, b) => a + b, 0);
    const parts = ordered.map((k, i) => {
      const value = asRate ? (conv ? (100 * counts[i]) / conv : 0) : counts[i];
      return { key: k, value, tip: asRate ? `${counts[i]} / ${conv} cuộc (${percentText(value)})` : `${counts[i]} cuộc` };
    });
    const total = parts.reduce((a, p) => a + p.value, 0);
    return {
      label: dayLabel(d.day),
      parts,
      total,
      text: handed ? (asRate ? `${percentText(total, 0)} (${handed}/${conv})` : String(handed)) : "",
    };
  });
  const max = Math.min(asRate ? 100 : Infinity, quarterMax(Math.max(...bars.map((b) => b.total), 1)));
  return { series, bars, asRate, max };
}

/** Messages the bot did not understand, per day. */
export function inboxBars(days) {
  return days.map((d) => ({
    label: dayLabel(d.day),
    parts: [{ key: "count", value: Number(d.count) || 0 }],
    total: Number(d.count) || 0,
    text: String(Number(d.count) || 0),
  }));
}
