/* SenMart studio report page: GET /studio/api/report drawn as inline SVG (no chart library).
 * Every text goes into the page with textContent; SVG is built with createElementNS and attributes. */
(() => {
  "use strict";

  const TOKEN_KEY = "senmart.studio.token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 640;
  const REASONS = {
    request_human: "Khách muốn gặp nhân viên",
    anger: "Khách bực tức",
    money_complaint: "Khiếu nại tiền",
    low_confidence: "Bot chưa hiểu",
    account_security: "Bảo mật tài khoản",
    partnership: "Hợp tác, báo chí, tuyển dụng",
    other: "Khác",
  };
  const PALETTE = ["#1f6feb", "#c62828", "#b26a00", "#0f7a5c", "#6b3fa0", "#00838f", "#8d6e63", "#546e7a"];

  const $ = (id) => document.getElementById(id);
  let token = null;

  // ------------------------------------------------------------------ helpers
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function chart(height, label) {
    const root = svg("svg", {
      class: "chart",
      viewBox: `0 0 ${WIDTH} ${height}`,
      width: WIDTH,
      height,
      role: "img",
      "aria-label": label,
    });
    root.appendChild(svg("title", {}, label));
    return root;
  }

  function pct(x) {
    if (x === null || x === undefined || isNaN(Number(x))) return null;
    const n = Number(x);
    return n <= 1 ? n * 100 : n;
  }

  function fmtPct(v, digits) {
    return v.toFixed(digits === undefined ? 1 : digits).replace(".", ",") + "%";
  }

  function fmtDay(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
    return m ? `${m[3]}/${m[2]}` : String(value || "");
  }

  /** A maximum whose quarters are whole numbers (axis ticks 0, ¼, ½, ¾, 1). */
  function quarterMax(value) {
    for (const step of [4, 8, 12, 20, 40, 60, 80, 100, 200, 400, 1000, 2000, 4000]) if (value <= step) return step;
    return Math.ceil(value / 4000) * 4000;
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
    return 10 * power;
  }

  function truncate(text, max) {
    const s = String(text);
    return s.length > max ? s.slice(0, max - 1) + "…" : s;
  }

  function empty(box, text) {
    clear(box);
    box.appendChild(el("p", "empty", text || "Chưa có dữ liệu."));
  }

  function legend(box, items) {
    const list = el("div", "legend");
    for (const item of items) {
      const entry = el("span", "legend-item");
      const swatch = svg("svg", { width: 12, height: 12, class: "legend-swatch", "aria-hidden": "true" });
      swatch.appendChild(svg("rect", { width: 12, height: 12, rx: 3, fill: item.color }));
      entry.appendChild(swatch);
      entry.appendChild(document.createTextNode(item.label));
      list.appendChild(entry);
    }
    box.appendChild(list);
  }

  // ------------------------------------------------------------------ horizontal bars
  /** rows: [{label, value, text, color, tip}], axis from 0 to max; labels on the left. */
  function horizontalBars(box, rows, opts) {
    clear(box);
    const left = opts.labelWidth || 200;
    const right = 96;
    const top = 8;
    const rowH = 24;
    const axisH = 42;
    const height = top + rows.length * rowH + axisH;
    const plot = WIDTH - left - right;
    const max = opts.max || niceMax(Math.max(...rows.map((r) => r.value), 0));
    const root = chart(height, opts.title);
    const x = (v) => left + (plot * Math.max(0, v)) / max;

    const ticks = opts.ticks || [0, max / 4, max / 2, (3 * max) / 4, max];
    for (const t of ticks) {
      root.appendChild(svg("line", { class: "grid", x1: x(t), x2: x(t), y1: top, y2: top + rows.length * rowH }));
      root.appendChild(
        svg("text", { class: "tick", x: x(t), y: top + rows.length * rowH + 14, "text-anchor": "middle" }, opts.tick(t)),
      );
    }
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const label = svg(
        "text",
        { x: left - 8, y: y + rowH / 2 + 4, "text-anchor": "end", "font-size": 12 },
        truncate(r.label, opts.maxChars || 30),
      );
      label.appendChild(svg("title", {}, r.label));
      root.appendChild(label);
      const bar = svg("rect", {
        class: "bar",
        x: left,
        y: y + 4,
        width: Math.max(1, x(r.value) - left),
        height: rowH - 8,
        rx: 3,
        fill: r.color,
      });
      bar.appendChild(svg("title", {}, r.tip || `${r.label}: ${r.text}`));
      root.appendChild(bar);
      root.appendChild(svg("text", { class: "value", x: x(r.value) + 5, y: y + rowH / 2 + 4 }, r.text));
    });
    root.appendChild(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + rows.length * rowH }));
    root.appendChild(
      svg("line", { class: "axis", x1: left, x2: left + plot, y1: top + rows.length * rowH, y2: top + rows.length * rowH }),
    );
    root.appendChild(
      svg("text", { class: "axis-label", x: left + plot / 2, y: height - 6, "text-anchor": "middle" }, opts.axisLabel),
    );
    box.appendChild(root);
  }

  // ------------------------------------------------------------------ vertical (stacked) bars per day
  /** days: [{label, parts: [{key, value}], total, text}]; series: [{key, label, color}]. */
  function dayBars(box, days, series, opts) {
    clear(box);
    const left = 52;
    const right = 12;
    const top = 22;
    const bottom = 46;
    const height = 260;
    const plotW = WIDTH - left - right;
    const plotH = height - top - bottom;
    const max = opts.max || niceMax(Math.max(...days.map((d) => d.total), 0));
    const root = chart(height, opts.title);
    const y = (v) => top + plotH - (plotH * Math.max(0, v)) / max;
    for (let i = 0; i <= 4; i++) {
      const t = (max * i) / 4;
      root.appendChild(svg("line", { class: "grid", x1: left, x2: left + plotW, y1: y(t), y2: y(t) }));
      root.appendChild(svg("text", { class: "tick", x: left - 6, y: y(t) + 4, "text-anchor": "end" }, opts.tick(t)));
    }
    const slot = plotW / Math.max(1, days.length);
    const barW = Math.min(48, slot * 0.7);
    const labelEvery = Math.ceil(days.length / 14);
    days.forEach((d, i) => {
      const cx = left + slot * i + slot / 2;
      let base = 0;
      for (const part of d.parts) {
        if (!(part.value > 0)) continue;
        const s = series.find((x) => x.key === part.key);
        const rect = svg("rect", {
          class: "bar",
          x: cx - barW / 2,
          y: y(base + part.value),
          width: barW,
          height: Math.max(1, y(base) - y(base + part.value)),
          fill: s ? s.color : "#90a4ae",
        });
        rect.appendChild(svg("title", {}, `${d.label} · ${s ? s.label : part.key}: ${part.tip || part.value}`));
        root.appendChild(rect);
        base += part.value;
      }
      if (d.text) root.appendChild(svg("text", { class: "value", x: cx, y: y(d.total) - 5, "text-anchor": "middle" }, d.text));
      if (i % labelEvery === 0) {
        root.appendChild(svg("text", { class: "tick", x: cx, y: top + plotH + 15, "text-anchor": "middle" }, d.label));
      }
    });
    root.appendChild(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + plotH }));
    root.appendChild(svg("line", { class: "axis", x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH }));
    root.appendChild(
      svg("text", { class: "axis-label", x: left + plotW / 2, y: height - 6, "text-anchor": "middle" }, opts.xLabel),
    );
    root.appendChild(
      svg(
        "text",
        { class: "axis-label", x: 12, y: top + plotH / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${top + plotH / 2})` },
        opts.yLabel,
      ),
    );
    box.appendChild(root);
    if (series.length > 1 || opts.alwaysLegend) legend(box, series);
  }

  // ------------------------------------------------------------------ risk against coverage
  /** points: [{bar, coverage, risk, answered, wrong}] (0..1); the bar in use (1.0) drawn apart. */
  function riskCoverage(box, points, opts) {
    clear(box);
    const left = 52;
    const right = 16;
    const top = 14;
    const bottom = 46;
    const height = 280;
    const plotW = WIDTH - left - right;
    const plotH = height - top - bottom;
    const maxRisk = niceMax(Math.max(...points.map((p) => p.risk), 1));
    const root = chart(height, opts.title);
    const x = (v) => left + (plotW * Math.min(100, Math.max(0, v))) / 100;
    const y = (v) => top + plotH - (plotH * Math.min(maxRisk, Math.max(0, v))) / maxRisk;
    for (let i = 0; i <= 4; i++) {
      const r = (maxRisk * i) / 4;
      const c = 25 * i;
      root.appendChild(svg("line", { class: "grid", x1: left, x2: left + plotW, y1: y(r), y2: y(r) }));
      root.appendChild(svg("text", { class: "tick", x: left - 6, y: y(r) + 4, "text-anchor": "end" }, fmtPct(r, maxRisk < 4 ? 1 : 0)));
      root.appendChild(svg("line", { class: "grid", x1: x(c), x2: x(c), y1: top, y2: top + plotH }));
      root.appendChild(svg("text", { class: "tick", x: x(c), y: top + plotH + 15, "text-anchor": "middle" }, fmtPct(c, 0)));
    }
    const sorted = points.slice().sort((a, b) => a.coverage - b.coverage || a.risk - b.risk);
    root.appendChild(
      svg("polyline", {
        points: sorted.map((p) => `${x(p.coverage).toFixed(1)},${y(p.risk).toFixed(1)}`).join(" "),
        fill: "none",
        stroke: "#1f6feb",
        "stroke-width": 2,
      }),
    );
    for (const p of points) {
      const chosen = Math.abs(p.bar - 1) < 1e-9;
      const dot = svg("circle", {
        cx: x(p.coverage),
        cy: y(p.risk),
        r: chosen ? 6 : 4,
        fill: chosen ? "#c62828" : "#1f6feb",
        stroke: "#ffffff",
        "stroke-width": 1.5,
      });
      dot.appendChild(
        svg(
          "title",
          {},
          `Ngưỡng ×${String(p.bar).replace(".", ",")}${chosen ? " (đang dùng)" : ""}: bot trả lời ${fmtPct(p.coverage)} số câu, ` +
            `sai ${fmtPct(p.risk)} câu trả lời (${p.wrong}/${p.answered})`,
        ),
      );
      root.appendChild(dot);
      if (chosen) {
        root.appendChild(
          svg(
            "text",
            { class: "value", x: x(p.coverage) + (p.coverage > 75 ? -9 : 9), y: y(p.risk) - 9, "text-anchor": p.coverage > 75 ? "end" : "start" },
            `Ngưỡng đang dùng: trả lời ${fmtPct(p.coverage, 0)}, sai ${fmtPct(p.risk)}`,
          ),
        );
      }
    }
    root.appendChild(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: top + plotH }));
    root.appendChild(svg("line", { class: "axis", x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH }));
    root.appendChild(
      svg("text", { class: "axis-label", x: left + plotW / 2, y: height - 6, "text-anchor": "middle" }, opts.xLabel),
    );
    root.appendChild(
      svg(
        "text",
        { class: "axis-label", x: 12, y: top + plotH / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${top + plotH / 2})` },
        opts.yLabel,
      ),
    );
    box.appendChild(root);
    legend(box, [
      { label: "Nâng hay hạ mọi ngưỡng cùng lúc", color: "#1f6feb" },
      { label: "Ngưỡng đang dùng", color: "#c62828" },
    ]);
  }

  // ------------------------------------------------------------------ the charts
  function accuracyChart(perTopic, message, evaluation) {
    const box = $("chart-accuracy");
    const overall = $("accuracy-overall");
    const total = evaluation ? pct(evaluation.accuracy) : null;
    overall.textContent =
      total === null
        ? ""
        : `Bản ${evaluation.model || "đang dùng"}: ${fmtPct(total)} câu kiểm tra được hiểu đúng` +
          (evaluation.n ? ` (trên ${evaluation.n} câu).` : ".");
    const rows = (Array.isArray(perTopic) ? perTopic : [])
      .map((t) => ({ topic: String(t.topic), value: pct(t.accuracy), n: t.n }))
      .filter((t) => t.value !== null)
      .sort((a, b) => a.value - b.value || a.topic.localeCompare(b.topic));
    if (!rows.length) return empty(box, message || "Chưa có kết quả kiểm tra của bản đang dùng.");
    horizontalBars(
      box,
      rows.map((t) => ({
        label: t.topic,
        value: t.value,
        text: fmtPct(t.value, 0) + (t.n !== undefined && t.n !== null ? ` (${t.n} câu)` : ""),
        color: t.value < 70 ? "#c62828" : t.value < 90 ? "#e0a000" : "#1b7f3b",
      })),
      {
        title: "Độ chính xác theo chủ đề (kém nhất ở trên)",
        max: 100,
        ticks: [0, 25, 50, 75, 100],
        tick: (t) => `${t}%`,
        axisLabel: "Tỉ lệ câu kiểm tra bot hiểu đúng (%)",
      },
    );
  }

  function stat(box, label, value, detail) {
    const item = el("div", "stat");
    item.appendChild(el("span", "stat-label", label));
    item.appendChild(el("span", "stat-value", value));
    if (detail) item.appendChild(el("span", "muted", detail));
    box.appendChild(item);
  }

  function count(value) {
    const n = Number(value);
    return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
  }

  function selectiveSection(selective, message, evaluation) {
    const figures = $("selective-figures");
    const box = $("chart-risk");
    clear(figures);
    if (!evaluation) return empty(box, message || "Chưa có kết quả kiểm tra của bản đang dùng.");
    if (!selective || typeof selective !== "object") {
      return empty(box, "Kết quả kiểm tra của bản đang dùng chưa có số liệu này (kết quả cũ). Lần huấn luyện tới sẽ tính lại.");
    }
    const answerable = selective.answerable || {};
    const unanswerable = selective.unanswerable || {};
    const human = selective.human_request || {};
    const rate = (x) => (pct(x) === null ? "–" : fmtPct(pct(x)));
    const missing = "Chưa có bộ câu này";
    stat(
      figures,
      "Câu hỏi có câu trả lời: trả lời đúng",
      count(answerable.n) ? rate(answerable.accuracy) : "–",
      count(answerable.n) ? `trên ${count(answerable.n)} câu` : missing,
    );
    stat(
      figures,
      "Hỏi lại hoặc chuyển nhân viên",
      count(answerable.n) ? rate(answerable.deflected_rate) : "–",
      count(answerable.n) ? `${count(answerable.deflected)}/${count(answerable.n)} câu có câu trả lời` : missing,
    );
    stat(
      figures,
      "Câu ngoài kiến thức bị trả lời sai",
      count(unanswerable.n) ? rate(unanswerable.wrong_answer_rate) : "–",
      count(unanswerable.n) ? `${count(unanswerable.wrong)}/${count(unanswerable.n)} câu` : missing,
    );
    stat(
      figures,
      "Yêu cầu gặp nhân viên được chuyển",
      count(human.n) ? rate(human.handoff_rate) : "–",
      count(human.n) ? `${count(human.handoff)}/${count(human.n)} câu` : missing,
    );
    const points = (Array.isArray(selective.risk_coverage) ? selective.risk_coverage : [])
      .map((p) => ({
        bar: Number(p.bar),
        coverage: pct(p.coverage),
        risk: pct(p.risk),
        answered: count(p.answered),
        wrong: count(p.wrong),
      }))
      .filter((p) => Number.isFinite(p.bar) && p.coverage !== null && p.risk !== null);
    if (!points.length) return empty(box, "Chưa có đường rủi ro – độ phủ.");
    riskCoverage(box, points, {
      title: "Rủi ro và độ phủ khi nâng hay hạ mọi ngưỡng",
      xLabel: "Độ phủ: tỉ lệ câu bot trả lời (%)",
      yLabel: "Rủi ro: câu trả lời sai (%)",
    });
  }

  function confusionsChart(confusions) {
    const box = $("chart-confusions");
    const rows = (Array.isArray(confusions) ? confusions : [])
      .filter((c) => Number(c.count) > 0)
      .sort((a, b) => Number(b.count) - Number(a.count))
      .slice(0, 10);
    if (!rows.length) return empty(box, "Không có cặp nào bị nhầm. Tốt lắm!");
    const max = niceMax(Math.max(...rows.map((c) => Number(c.count))));
    horizontalBars(
      box,
      rows.map((c) => ({
        label: `${c.expected} → ${c.predicted}`,
        value: Number(c.count),
        text: `${c.count} câu`,
        color: "#c62828",
      })),
      {
        title: "Các cặp chủ đề hay bị nhầm nhất",
        labelWidth: 330,
        maxChars: 50,
        max,
        ticks: [0, max / 2, max],
        tick: (t) => String(Math.round(t * 10) / 10),
        axisLabel: "Số câu kiểm tra bị hiểu nhầm",
      },
    );
  }

  function handoffsChart(byDay) {
    const box = $("chart-handoffs");
    const days = Array.isArray(byDay) ? byDay : [];
    if (!days.length) return empty(box, "Chưa có cuộc trò chuyện nào được chuyển nhân viên.");
    const keys = [];
    for (const d of days) {
      for (const [k, v] of Object.entries(d.reason || {})) if (Number(v) > 0 && !keys.includes(k)) keys.push(k);
    }
    if (!keys.length) return empty(box, `Không có cuộc trò chuyện nào được chuyển nhân viên trong ${days.length} ngày qua.`);
    const ordered = Object.keys(REASONS).filter((k) => keys.includes(k)).concat(keys.filter((k) => !(k in REASONS)));
    const series = ordered.map((k, i) => ({ key: k, label: REASONS[k] || k, color: PALETTE[i % PALETTE.length] }));
    const asRate = days.some((d) => Number(d.conversations) > 0);
    const bars = days.map((d) => {
      const conv = Number(d.conversations) || 0;
      const counts = ordered.map((k) => Number((d.reason || {})[k]) || 0);
      const handed = counts.reduce((a, b) => a + b, 0);
      const parts = ordered.map((k, i) => {
        const value = asRate ? (conv ? (100 * counts[i]) / conv : 0) : counts[i];
        return { key: k, value, tip: asRate ? `${counts[i]} / ${conv} cuộc (${fmtPct(value)})` : `${counts[i]} cuộc` };
      });
      const total = parts.reduce((a, p) => a + p.value, 0);
      return {
        label: fmtDay(d.day),
        parts,
        total,
        text: handed ? (asRate ? `${fmtPct(total, 0)} (${handed}/${conv})` : String(handed)) : "",
      };
    });
    const max = Math.min(asRate ? 100 : Infinity, quarterMax(Math.max(...bars.map((b) => b.total), 1)));
    dayBars(box, bars, series, {
      title: "Tỉ lệ chuyển nhân viên theo lý do, theo ngày",
      max,
      tick: asRate ? (t) => fmtPct(t, 0) : (t) => String(t),
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
    dayBars(
      box,
      days.map((d) => ({
        label: fmtDay(d.day),
        parts: [{ key: "count", value: Number(d.count) || 0 }],
        total: Number(d.count) || 0,
        text: String(Number(d.count) || 0),
      })),
      series,
      {
        title: "Câu bot chưa hiểu mỗi ngày",
        max: quarterMax(Math.max(...days.map((d) => Number(d.count) || 0))),
        tick: (t) => String(t),
        xLabel: "Ngày",
        yLabel: "Số câu",
      },
    );
  }

  // ------------------------------------------------------------------ loading, login
  function showError(message) {
    $("error-text").textContent = message;
    $("error").hidden = false;
  }

  function showLogin(message) {
    $("app").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("login-error").hidden = !message;
    $("token").focus();
  }

  function refusedMessage(status) {
    if (status === 403) {
      return "Mã này không có quyền xem báo cáo nội dung (đây là mã của nhân viên CSKH hoặc của máy chủ). Hãy dùng mã của đội nội dung.";
    }
    return "Mã đăng nhập không đúng hoặc đã bị thu hồi. Vui lòng đăng nhập lại bằng mã của đội nội dung.";
  }

  async function load(candidate) {
    const use = candidate || token;
    let res;
    try {
      res = await fetch("/studio/api/report", {
        headers: { Authorization: "Bearer " + use, Accept: "application/json" },
        cache: "no-store",
      });
    } catch (problem) {
      showError("Không kết nối được tới máy chủ. Vui lòng kiểm tra mạng và thử lại.");
      return;
    }
    const data = await res.json().catch(() => null);
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      showLogin(refusedMessage(res.status));
      return;
    }
    token = use;
    sessionStorage.setItem(TOKEN_KEY, use);
    $("login-view").hidden = true;
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
    const now = new Date();
    $("updated").textContent = `Cập nhật lúc ${now.toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" })}`;
    document.body.dataset.loaded = "true";
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return showLogin("Vui lòng nhập mã đăng nhập.");
    $("token").value = "";
    load(value);
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    showLogin(null);
  });
  $("reload").addEventListener("click", () => load());
  $("error-close").addEventListener("click", () => {
    $("error").hidden = true;
  });

  token = sessionStorage.getItem(TOKEN_KEY);
  if (token) load();
  else showLogin(null);
})();
