/* SenMart studio report page: GET /studio/api/report drawn as inline SVG (no chart library).
 * Every text goes into the page with textContent; SVG is built with createElementNS and attributes. */
import { $, clear, el } from "../shared/dom.js";
import { NETWORK_ERROR, requestInit } from "../shared/api.js";
import { clockTime, percentText } from "../shared/format.js";
import { loadSession, sessionEnded, wireSessionControls } from "../shared/session.js";
import { dayBars, empty, horizontalBars, riskCoverage } from "./charts.js";
import {
  accuracyRows,
  accuracySummary,
  confusionRows,
  handoffBars,
  inboxBars,
  riskPoints,
  selectiveFigures,
} from "./data.js";
import { niceMax, quarterMax } from "./scale.js";


// ------------------------------------------------------------------ the charts
function accuracyChart(perTopic, message, evaluation) {
  const box = $("chart-accuracy");
  $("accuracy-overall").textContent = accuracySummary(evaluation);
  const rows = accuracyRows(perTopic);
  if (!rows.length) return empty(box, message || "Chưa có kết quả kiểm tra của bản đang dùng.");
  horizontalBars(box, rows, {
    title: "Độ chính xác theo chủ đề (kém nhất ở trên)",
    max: 100,
    ticks: [0, 25, 50, 75, 100],
    tick: (t) => `${t}%`,
    axisLabel: "Tỉ lệ câu kiểm tra bot hiểu đúng (%)",
  });
}

function stat(box, label, value, detail) {
  const item = el("div", "stat");
  item.appendChild(el("span", "stat-label", label));
  item.appendChild(el("span", "stat-value", value));
  if (detail) item.appendChild(el("span", "muted", detail));
  box.appendChild(item);
}

function selectiveSection(selective, message, evaluation) {
  const figures = $("selective-figures");
  const box = $("chart-risk");
  clear(figures);
  if (!evaluation) return empty(box, message || "Chưa có kết quả kiểm tra của bản đang dùng.");
  if (!selective || typeof selective !== "object") {
    return empty(box, "Kết quả kiểm tra của bản đang dùng chưa có số liệu này (kết quả cũ). Lần huấn luyện tới sẽ tính lại.");
  }
  for (const [label, value, detail] of selectiveFigures(selective)) stat(figures, label, value, detail);
  const points = riskPoints(selective);
  if (!points.length) return empty(box, "Chưa có đường rủi ro – độ phủ.");
  riskCoverage(box, points, {
    title: "Rủi ro và độ phủ khi nâng hay hạ mọi ngưỡng",
    xLabel: "Độ phủ: tỉ lệ câu bot trả lời (%)",
    yLabel: "Rủi ro: câu trả lời sai (%)",
  });
}

function confusionsChart(confusions) {
  const box = $("chart-confusions");
  const rows = confusionRows(confusions);
  if (!rows.length) return empty(box, "Không có cặp nào bị nhầm. Tốt lắm!");
  const max = niceMax(Math.max(...rows.map((r) => r.value)));
  horizontalBars(box, rows, {
    title: "Các cặp chủ đề hay bị nhầm nhất",
    labelWidth: 330,
    maxChars: 50,
    max,
    ticks: [0, max / 2, max],
    tick: (t) => String(Math.round(t * 10) / 10),
    axisLabel: "Số câu kiểm tra bị hiểu nhầm",
  });
}

function handoffsChart(byDay) {
  const box = $("chart-handoffs");
  const days = Array.isArray(byDay) ? byDay : [];
  if (!days.length) return empty(box, "Chưa có cuộc trò chuyện nào được chuyển nhân viên.");
  const { series, bars, asRate, max } = handoffBars(days);
  if (!series.length) return empty(box, `Không có cuộc trò chuyện nào được chuyển nhân viên trong ${days.length} ngày qua.`);
  dayBars(box, bars, series, {
    title: "Tỉ lệ chuyển nhân viên theo lý do, theo ngày",
    max,
    tick: asRate ? (t) => percentText(t, 0) : (t) => String(t),
    xLabel: "Ngày",
    yLabel: asRate ? "% cuộc trò chuyện" : "Số cuộc chuyển",
    alwaysLegend: true,
  });
}

function inboxChart(byDay) {
  const box = $("chart-inbox");
  const days = Array.isArray(byDay) ? byDay : [];
  if (!days.some((d) => Number(d.count) > 0)) {
    return empty(box, `Không có câu nào trong ${days.length || 14} ngày qua.`);
  }
  const series = [{ key: "count", label: "Câu bot chưa hiểu", color: "#b26a00" }];
  dayBars(box, inboxBars(days), series, {
    title: "Câu bot chưa hiểu mỗi ngày",
    max: quarterMax(Math.max(...days.map((d) => Number(d.count) || 0))),
    tick: (t) => String(t),
    xLabel: "Ngày",
    yLabel: "Số câu",
  });
}

// ------------------------------------------------------------------ loading
function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}

async function load() {
  let res;
  try {
    res = await fetch("/studio/api/report", requestInit("GET", ""));
  } catch {
    showError(NETWORK_ERROR);
    return;
  }
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    sessionEnded();
    return;
  }
  $("app").hidden = false;
  if (!res.ok || !data) {
    showError((data && data.message) || `Không tải được báo cáo (lỗi ${res.status}).`);
    return;
  }
  $("error").hidden = true;
  accuracyChart(data.per_topic, data.message, data.evaluation);
  confusionsChart(data.confusions);
  selectiveSection(data.selective, data.message, data.evaluation);
  handoffsChart(data.handoffs_by_day);
  inboxChart(data.inbox_by_day);
  $("updated").textContent = `Cập nhật lúc ${clockTime(new Date())}`;
  document.body.dataset.loaded = "true";
}

$("reload").addEventListener("click", () => load());
$("error-close").addEventListener("click", () => {
  $("error").hidden = true;
});

loadSession().then((session) => {
  if (!session) return;
  wireSessionControls(session);
  load();
});
