/* The report's charts as inline SVG (no chart library): built with createElementNS and attributes,
 * every text through textContent. */
import { clear, el } from "../shared/dom.js";
import { percentText } from "../shared/format.js";
import { niceMax, truncate } from "./scale.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;

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

/** Replaces a chart box's content with a sentence. */
export function empty(box, text) {
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

/** A chart's plot area: margins around it inside the chart's width and `height`. */
function plotArea(left, right, top, bottom, height) {
  return { left, top, height, plotW: WIDTH - left - right, plotH: height - top - bottom };
}

/** The two axes of a plot area and their labels (x under it, y turned along the left side). */
function axes(root, { left, top, plotW, plotH, height }, opts) {
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
}

// ------------------------------------------------------------------ horizontal bars
/** rows: [{label, value, text, color, tip}], axis from 0 to max; labels on the left. */
export function horizontalBars(box, rows, opts) {
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
export function dayBars(box, days, series, opts) {
  clear(box);
  const area = plotArea(52, 12, 22, 46, 260);
  const { left, top, height, plotW, plotH } = area;
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
  axes(root, area, opts);
  box.appendChild(root);
  if (series.length > 1 || opts.alwaysLegend) legend(box, series);
}

// ------------------------------------------------------------------ risk against coverage
/** points: [{bar, coverage, risk, answered, wrong}] (percentages); the bar in use (1.0) drawn apart. */
export function riskCoverage(box, points, opts) {
  clear(box);
  const area = plotArea(52, 16, 14, 46, 280);
  const { left, top, height, plotW, plotH } = area;
  const maxRisk = niceMax(Math.max(...points.map((p) => p.risk), 1));
  const root = chart(height, opts.title);
  const x = (v) => left + (plotW * Math.min(100, Math.max(0, v))) / 100;
  const y = (v) => top + plotH - (plotH * Math.min(maxRisk, Math.max(0, v))) / maxRisk;
  for (let i = 0; i <= 4; i++) {
    const r = (maxRisk * i) / 4;
    const c = 25 * i;
    root.appendChild(svg("line", { class: "grid", x1: left, x2: left + plotW, y1: y(r), y2: y(r) }));
    root.appendChild(svg("text", { class: "tick", x: left - 6, y: y(r) + 4, "text-anchor": "end" }, percentText(r, maxRisk < 4 ? 1 : 0)));
    root.appendChild(svg("line", { class: "grid", x1: x(c), x2: x(c), y1: top, y2: top + plotH }));
    root.appendChild(svg("text", { class: "tick", x: x(c), y: top + plotH + 15, "text-anchor": "middle" }, percentText(c, 0)));
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
        `Ngưỡng ×${String(p.bar).replace(".", ",")}${chosen ? " (đang dùng)" : ""}: bot trả lời ${percentText(p.coverage)} số câu, ` +
          `sai ${percentText(p.risk)} câu trả lời (${p.wrong}/${p.answered})`,
      ),
    );
    root.appendChild(dot);
    if (chosen) {
      root.appendChild(
        svg(
          "text",
          { class: "value", x: x(p.coverage) + (p.coverage > 75 ? -9 : 9), y: y(p.risk) - 9, "text-anchor": p.coverage > 75 ? "end" : "start" },
          `Ngưỡng đang dùng: trả lời ${percentText(p.coverage, 0)}, sai ${percentText(p.risk)}`,
        ),
      );
    }
  }
  axes(root, area, opts);
  box.appendChild(root);
  legend(box, [
    { label: "Nâng hay hạ mọi ngưỡng cùng lúc", color: "#1f6feb" },
    { label: "Ngưỡng đang dùng", color: "#c62828" },
  ]);
}
