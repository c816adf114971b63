"""The studio's report: how well the live model understands, when it answers, how often customers go to
a person, and how many messages reach the "Bot chưa hiểu" inbox.

- Understanding: the live model's held-out evaluation (`<models_dir>/registry.json` → `current` → its
  `eval_file`: accuracy, per-topic accuracy, confusion pairs). The API never evaluates; when no
  evaluation exists it says so. `python -m studio.report` evaluates the evaluation sets itself then, or
  when the stored evaluation predates the selective figures (studio/evaluate.py; `--no-evaluate` skips
  it).
- Selective answering, from the same evaluation (its `selective` block, every evaluation set at the
  AnswerGuard thresholds of config.yml): answerable messages answered correctly and deflected,
  unanswerable messages answered with a fact (wrong answers), requests for a person handed off, and the
  risk–coverage points (wrong answers ÷ answers against answers ÷ messages as the thresholds move).
- Handoffs: tickets created per day and reason ÷ conversations (distinct senders) that day, and the
  inbox volume per day, from the per-day counters of `studio/inbox.py` in Redis (last 14 days).

    python -m studio.report [--days 14] [--html report.html] [--redis-url redis://…] [--no-evaluate]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text

from common.contracts import DEFAULT_REDIS_URL, VIETNAM_UTC_OFFSET_HOURS
from common.handoff_reasons import REASON_LABELS, REASONS
from common.redis_client import async_client
from studio.inbox import Inbox
from studio.settings import StudioSettings

DEFAULT_DAYS = 14
TOP_CONFUSIONS = 10
NO_EVALUATION = (
    "Chưa có đánh giá cho mô hình đang chạy. Hãy huấn luyện và xuất bản một mô hình từ trang studio."
)
NO_SELECTIVE = (
    "Đánh giá của mô hình đang chạy chưa có số liệu trả lời có chọn lọc (đánh giá cũ). "
    "Lần huấn luyện tới sẽ tính lại."
)


# -- the live model's evaluation ------------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def current_model(settings: StudioSettings) -> Optional[Dict[Text, Any]]:
    """The registry entry of the live model (read only; None without a registry)."""
    registry = _read_json(Path(settings.models_dir) / "registry.json")
    if not isinstance(registry, dict):
        return None
    for entry in registry.get("models") or []:
        if isinstance(entry, dict) and entry.get("id") == registry.get("current"):
            return entry
    return None


def load_evaluation(settings: StudioSettings) -> Optional[Dict[Text, Any]]:
    """The live model's evaluation (`eval_file` of the current model), or None."""
    entry = current_model(settings)
    if not entry or not entry.get("eval_file"):
        return None
    path = Path(entry["eval_file"])
    if not path.is_absolute():
        path = Path(settings.models_dir) / path
    data = _read_json(path)
    if not isinstance(data, dict):
        return None
    return {**data, "model": entry.get("id")}


def run_evaluation(settings: StudioSettings) -> Optional[Dict[Text, Any]]:
    """Evaluate the live model (or the base model) on the evaluation sets, in this process (CLI only)."""
    entry = current_model(settings) or {}
    model = Path(entry.get("path") or settings.base_model)
    if not model.is_file() or not Path(settings.heldout_file).is_file():
        return None
    from studio.evaluate import evaluate_model  # Rasa and TensorFlow: loaded only here

    evaluation = evaluate_model(
        model, Path(settings.heldout_file), config=settings.config_file, data=settings.data_dir
    )
    return {**evaluation, "model": entry.get("id") or model.name}


def per_topic_rows(evaluation: Mapping[Text, Any]) -> List[Dict[Text, Any]]:
    """[{"topic", "accuracy", "n"}], weakest first (then by name); `per_topic` may be a list or a map."""
    raw = evaluation.get("per_topic") or []
    if isinstance(raw, Mapping):
        raw = [{"topic": topic, **(values or {})} for topic, values in raw.items()]
    rows = []
    for row in raw:
        if isinstance(row, Mapping) and isinstance(row.get("topic"), str):
            rows.append(
                {
                    "topic": row["topic"],
                    "accuracy": float(row.get("accuracy") or 0),
                    "n": int(row.get("n") or 0),
                }
            )
    rows.sort(key=lambda row: (row["accuracy"], row["topic"]))
    return rows


def confusion_rows(evaluation: Mapping[Text, Any], limit: int = TOP_CONFUSIONS) -> List[Dict[Text, Any]]:
    """The most frequent (expected, predicted) pairs, most frequent first."""
    rows = [
        {"expected": row["expected"], "predicted": row["predicted"], "count": int(row.get("count") or 0)}
        for row in evaluation.get("confusions") or []
        if isinstance(row, Mapping) and "expected" in row and "predicted" in row
    ]
    rows.sort(key=lambda row: (-row["count"], row["expected"], row["predicted"]))
    return rows[:limit]


def _count(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _rate(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def selective_view(evaluation: Mapping[Text, Any]) -> Optional[Dict[Text, Any]]:
    """The selective-answering figures of an evaluation (None when it has none: an older evaluation)."""
    selective = evaluation.get("selective")
    if not isinstance(selective, Mapping):
        return None

    def part(name: Text) -> Mapping[Text, Any]:
        value = selective.get(name)
        return value if isinstance(value, Mapping) else {}

    answerable, unanswerable, human = part("answerable"), part("unanswerable"), part("human_request")
    points = [
        {key: _rate(point.get(key)) or 0.0 for key in ("bar", "coverage", "risk")}
        | {"answered": _count(point.get("answered")), "wrong": _count(point.get("wrong"))}
        for point in selective.get("risk_coverage") or []
        if isinstance(point, Mapping)
    ]
    return {
        "thresholds": dict(part("thresholds")),
        "answerable": {
            "n": _count(answerable.get("n")),
            "accuracy": _rate(answerable.get("accuracy")),
            "deflected": _count(answerable.get("deflected")),
            "deflected_rate": _rate(answerable.get("deflected_rate")),
        },
        "unanswerable": {
            "n": _count(unanswerable.get("n")),
            "wrong": _count(unanswerable.get("wrong")),
            "wrong_answer_rate": _rate(unanswerable.get("wrong_answer_rate")),
        },
        "human_request": {
            "n": _count(human.get("n")),
            "handoff": _count(human.get("handoff")),
            "handoff_rate": _rate(human.get("handoff_rate")),
        },
        "risk_coverage": sorted(points, key=lambda point: point["bar"]),
    }


# -- the whole report -------------------------------------------------------------------------------------
def handoff_rows(daily: Sequence[Mapping[Text, Any]]) -> List[Dict[Text, Any]]:
    """Per day: tickets by reason, conversations, total and rates (tickets ÷ conversations)."""
    rows = []
    for day in daily:
        reasons = {reason: 0 for reason in REASONS}
        reasons.update(day["handoffs"])
        conversations = day["conversations"]
        total = sum(reasons.values())
        rows.append(
            {
                "day": day["day"],
                "reason": reasons,
                "conversations": conversations,
                "handoffs": total,
                "rate": round(total / conversations, 4) if conversations else None,
                "rate_by_reason": {
                    reason: round(count / conversations, 4) if conversations else None
                    for reason, count in reasons.items()
                },
            }
        )
    return rows


def assemble(
    evaluation: Optional[Mapping[Text, Any]],
    daily: Optional[Sequence[Mapping[Text, Any]]],
) -> Dict[Text, Any]:
    """The report (GET /studio/api/report) from an evaluation (or None) and the per-day figures."""
    report: Dict[Text, Any] = {
        "evaluation": None,
        "message": NO_EVALUATION,
        "per_topic": [],
        "confusions": [],
        "selective": None,
        "handoffs_by_day": handoff_rows(daily or []),
        "inbox_by_day": [{"day": day["day"], "count": day["inbox"]} for day in daily or []],
    }
    if evaluation is not None:
        report["evaluation"] = {
            "model": evaluation.get("model"),
            "accuracy": evaluation.get("accuracy"),
            "n": evaluation.get("n"),
        }
        report["message"] = None
        report["per_topic"] = per_topic_rows(evaluation)
        report["confusions"] = confusion_rows(evaluation)
        report["selective"] = selective_view(evaluation)
    return report


async def build_report(
    inbox: Inbox,
    settings: StudioSettings,
    days: int = DEFAULT_DAYS,
    today: Optional[date] = None,
    evaluation: Optional[Mapping[Text, Any]] = None,
) -> Dict[Text, Any]:
    """The report from the stored evaluation (or the given one) and Redis."""
    if evaluation is None:
        evaluation = load_evaluation(settings)
    return assemble(evaluation, await inbox.daily(days, today))


# -- text -----------------------------------------------------------------------------------------------
def share(count: int, n: int) -> Text:
    """`(4/120 câu)`, or that the set is missing."""
    return f"({count}/{n} câu)" if n else "(chưa có bộ câu này)"


def selective_lines(report: Mapping[Text, Any]) -> List[Text]:
    """The selective-answering figures as lines of text (shared by the text and HTML reports)."""
    if not report.get("evaluation"):
        return [report.get("message") or NO_EVALUATION]
    selective = report.get("selective")
    if not selective:
        return [NO_SELECTIVE]
    answerable, unanswerable = selective["answerable"], selective["unanswerable"]
    human = selective["human_request"]
    return [
        f"Câu hỏi bot có câu trả lời: trả lời đúng {percent(answerable['accuracy'])}, "
        f"hỏi lại hoặc chuyển nhân viên {percent(answerable['deflected_rate'])} "
        + (f"(trên {answerable['n']} câu)" if answerable["n"] else "(chưa có bộ câu này)"),
        "Câu hỏi ngoài kiến thức bị trả lời sai: "
        + (percent(unanswerable["wrong_answer_rate"]) + " " if unanswerable["n"] else "")
        + share(unanswerable["wrong"], unanswerable["n"]),
        "Yêu cầu gặp nhân viên được chuyển ngay: "
        + (percent(human["handoff_rate"]) + " " if human["n"] else "")
        + share(human["handoff"], human["n"]),
    ]


def risk_coverage_lines(points: Sequence[Mapping[Text, Any]]) -> List[Text]:
    """One line per point of the risk–coverage curve."""
    lines = []
    for point in points:
        chosen = "  ← ngưỡng đang dùng" if point["bar"] == 1.0 else ""
        lines.append(
            f"ngưỡng ×{point['bar']:.2f}".replace(".", ",")
            + f"  trả lời {percent(point['coverage']):>6}  sai {percent(point['risk']):>6}"
            f"  ({point['wrong']}/{point['answered']}){chosen}"
        )
    return lines


def percent(value: Optional[float], digits: int = 1) -> Text:
    """0.964 → `96,4%` (Vietnamese decimal comma); None → `–`."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%".replace(".", ",")


def bar(value: float, maximum: float, width: int = 20) -> Text:
    """A bar of `width` cells: █ for the value, ░ for the rest."""
    filled = 0 if maximum <= 0 else round(width * min(max(value / maximum, 0.0), 1.0))
    return "█" * filled + "░" * (width - filled)


def render_text(report: Mapping[Text, Any]) -> Text:
    """The report for a terminal, with bar charts."""
    lines: List[Text] = ["BÁO CÁO TRỢ LÝ ẢO SENMART", ""]
    evaluation = report.get("evaluation")
    lines.append("1. Độ chính xác trên bộ câu kiểm tra (held-out)")
    if not evaluation:
        lines.append(f"   {report.get('message') or NO_EVALUATION}")
    else:
        lines.append(
            f"   Mô hình {evaluation.get('model') or '?'}: {percent(evaluation.get('accuracy'))}"
            + (f" trên {evaluation['n']} câu" if evaluation.get("n") else "")
        )
        width = max([len(row["topic"]) for row in report["per_topic"]] + [10])
        lines.append("   Theo chủ đề (thấp nhất trước):")
        for row in report["per_topic"]:
            lines.append(
                f"   {row['topic']:<{width}}  {bar(row['accuracy'], 1.0)}  "
                f"{percent(row['accuracy']):>6}  ({row['n']} câu)"
            )
        lines.append("   Nhầm lẫn nhiều nhất (đúng → bot hiểu thành):")
        if not report["confusions"]:
            lines.append("   Không có nhầm lẫn nào.")
        for row in report["confusions"]:
            lines.append(f"   {row['expected']} → {row['predicted']}: {row['count']} lần")
    lines += ["", "2. Khi nào bot trả lời (mọi bộ câu đánh giá, ngưỡng của config.yml)"]
    lines += [f"   {line}" for line in selective_lines(report)]
    points = (report.get("selective") or {}).get("risk_coverage") or []
    if points:
        lines.append("   Rủi ro – độ phủ khi nâng hay hạ mọi ngưỡng cùng lúc (trả lời = câu bot trả lời;")
        lines.append("   sai = câu trả lời sai trên số câu trả lời; câu hỏi trong và ngoài kiến thức):")
        lines += [f"   {line}" for line in risk_coverage_lines(points)]
    lines += ["", "3. Tỉ lệ chuyển cho nhân viên theo ngày (phiếu ÷ cuộc trò chuyện)"]
    handoffs = report.get("handoffs_by_day") or []
    if not handoffs:
        lines.append("   Không có số liệu (chưa kết nối được Redis).")
    top_rate = max([row["rate"] or 0 for row in handoffs] + [0])
    for row in handoffs:
        reasons = ", ".join(f"{reason} {count}" for reason, count in row["reason"].items() if count)
        lines.append(
            f"   {row['day']}  {bar(row['rate'] or 0, top_rate)}  {percent(row['rate']):>6}  "
            f"({row['handoffs']}/{row['conversations']})" + (f"  {reasons}" if reasons else "")
        )
    lines += ["", "4. Số câu vào hộp “Bot chưa hiểu” theo ngày"]
    inbox = report.get("inbox_by_day") or []
    if not inbox:
        lines.append("   Không có số liệu (chưa kết nối được Redis).")
    top_count = max([row["count"] for row in inbox] + [0])
    for row in inbox:
        lines.append(f"   {row['day']}  {bar(row['count'], top_count)}  {row['count']}")
    return "\n".join(lines) + "\n"


# -- HTML with inline SVG -----------------------------------------------------------------------------
def _svg_bars(rows: Sequence[tuple], maximum: float, value_text, label_width: int = 230) -> Text:
    """Horizontal bars: rows of (label, value)."""
    height, width, bar_width = 22, label_width + 420, 300
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{max(1, len(rows)) * height + 4}" '
        'role="img">'
    ]
    for index, (label, value) in enumerate(rows):
        y = index * height + 2
        length = 0 if maximum <= 0 else round(bar_width * min(max((value or 0) / maximum, 0.0), 1.0))
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{html.escape(str(label))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="15" fill="#eef1f5"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="15" fill="#2f6fdf"/>'
            f'<text x="{label_width + bar_width + 8}" y="{y + 15}" font-size="13">'
            f"{html.escape(value_text(value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_risk_coverage(points: Sequence[Mapping[Text, Any]]) -> Text:
    """Risk (y) against coverage (x), one dot per bar; the bar in use is filled red."""
    left, top, plot_w, plot_h = 56, 10, 460, 220
    top_risk = max([point["risk"] for point in points] + [0.05])
    top_risk = min(1.0, -(-top_risk * 20 // 1) / 20)  # the next 5 %

    def x(coverage: float) -> float:
        return round(left + plot_w * min(max(coverage, 0.0), 1.0), 1)

    def y(risk: float) -> float:
        return round(top + plot_h - plot_h * min(max(risk / top_risk, 0.0), 1.0), 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot_w + 20}" height="{top + plot_h + 44}" '
        'role="img" aria-label="Rủi ro và độ phủ">'
    ]
    for index in range(5):
        coverage, risk = index / 4, top_risk * index / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(risk)}" y2="{y(risk)}" stroke="#eef1f5"/>'
            f'<text x="{left - 6}" y="{y(risk) + 4}" font-size="11" text-anchor="end">'
            f"{percent(risk)}</text>"
            f'<text x="{x(coverage)}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle">'
            f"{percent(coverage, 0)}</text>"
        )
    path = " ".join(f"{x(p['coverage'])},{y(p['risk'])}" for p in sorted(points, key=lambda p: p["coverage"]))
    parts.append(f'<polyline points="{path}" fill="none" stroke="#2f6fdf" stroke-width="2"/>')
    for point in points:
        chosen = point["bar"] == 1.0
        tip = (
            f"ngưỡng ×{point['bar']:g}: trả lời {percent(point['coverage'])}, sai {percent(point['risk'])} "
            f"({point['wrong']}/{point['answered']})"
        )
        parts.append(
            f'<circle cx="{x(point["coverage"])}" cy="{y(point["risk"])}" r="{6 if chosen else 4}" '
            f'fill="{"#c62828" if chosen else "#2f6fdf"}"><title>{html.escape(tip)}</title></circle>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 36}" font-size="12" text-anchor="middle">'
        "Độ phủ: tỉ lệ câu bot trả lời</text></svg>"
    )
    return "".join(parts)


def render_html(report: Mapping[Text, Any]) -> Text:
    """A standalone HTML page (no script, charts as inline SVG)."""
    body: List[Text] = ["<h1>Báo cáo trợ lý ảo SenMart</h1>", "<h2>Độ chính xác trên bộ câu kiểm tra</h2>"]
    evaluation = report.get("evaluation")
    if not evaluation:
        body.append(f"<p>{html.escape(report.get('message') or NO_EVALUATION)}</p>")
    else:
        body.append(
            f"<p>Mô hình {html.escape(str(evaluation.get('model') or '?'))}: "
            f"<strong>{percent(evaluation.get('accuracy'))}</strong></p>"
        )
        rows = [(f"{row['topic']} ({row['n']})", row["accuracy"]) for row in report["per_topic"]]
        body.append(_svg_bars(rows, 1.0, percent))
        body.append("<h3>Nhầm lẫn nhiều nhất</h3>")
        body.append("<table><tr><th>Đúng là</th><th>Bot hiểu thành</th><th>Số lần</th></tr>")
        for row in report["confusions"]:
            body.append(
                f"<tr><td>{html.escape(row['expected'])}</td><td>{html.escape(row['predicted'])}</td>"
                f"<td>{row['count']}</td></tr>"
            )
        body.append("</table>")
    body.append("<h2>Khi nào bot trả lời</h2>")
    body.extend(f"<p>{html.escape(line)}</p>" for line in selective_lines(report))
    points = (report.get("selective") or {}).get("risk_coverage") or []
    if points:
        body.append(
            "<h3>Rủi ro (tỉ lệ trả lời sai) và độ phủ khi nâng hay hạ mọi ngưỡng; "
            "chấm đỏ: ngưỡng đang dùng</h3>"
        )
        body.append(_svg_risk_coverage(points))
    body.append("<h2>Tỉ lệ chuyển cho nhân viên theo ngày</h2>")
    handoffs = report.get("handoffs_by_day") or []
    top_rate = max([row["rate"] or 0 for row in handoffs] + [0])
    body.append(
        _svg_bars(
            [(f"{row['day']} ({row['handoffs']}/{row['conversations']})", row["rate"]) for row in handoffs],
            top_rate,
            percent,
        )
    )
    body.append(
        "<table><tr><th>Ngày</th>" + "".join(f"<th>{html.escape(REASON_LABELS[r])}</th>" for r in REASONS)
    )
    body.append("<th>Cuộc trò chuyện</th></tr>")
    for row in handoffs:
        cells = "".join(f"<td>{row['reason'].get(reason, 0)}</td>" for reason in REASONS)
        body.append(f"<tr><td>{row['day']}</td>{cells}<td>{row['conversations']}</td></tr>")
    body.append("</table><h2>Số câu vào hộp “Bot chưa hiểu” theo ngày</h2>")
    inbox = report.get("inbox_by_day") or []
    top_count = max([row["count"] for row in inbox] + [0])
    body.append(_svg_bars([(row["day"], row["count"]) for row in inbox], top_count, lambda v: str(v or 0)))
    style = (
        "body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330}"
        "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccd3dd;padding:4px 8px}"
    )
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo SenMart</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


# -- command line ---------------------------------------------------------------------------------------
async def _daily_from_redis(url: Text, days: int, tz) -> Optional[List[Dict[Text, Any]]]:
    client = async_client(url, decode_responses=True, socket_connect_timeout=3)
    try:
        return await Inbox(client, tz=tz).daily(days)
    except Exception as problem:  # Redis down or unreachable: the report still shows the evaluation
        print(f"Không đọc được số liệu từ Redis ({url}): {problem}", file=sys.stderr)
        return None
    finally:
        await client.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m studio.report`."""
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="how many days (default 14)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="also write an HTML report (inline SVG)")
    parser.add_argument(
        "--redis-url", help="Redis of the handoff service (default: REDIS_URL or the local one)"
    )
    parser.add_argument(
        "--no-evaluate",
        action="store_true",
        help="do not evaluate the held-out set when the live model has no stored evaluation",
    )


def run(args: argparse.Namespace, out=None) -> int:
    """`python -m studio.report`: print the report, optionally write the HTML file."""
    import os
    from datetime import timedelta, timezone

    out = out or sys.stdout
    if not 1 <= args.days <= 366:
        print("--days phải từ 1 đến 366.", file=sys.stderr)
        return 2
    settings = StudioSettings.from_env()
    # the handoff service's Redis and time zone (its tokens are not needed here)
    redis_url = args.redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        offset = float(os.environ.get("HANDOFF_TIMEZONE_OFFSET") or VIETNAM_UTC_OFFSET_HOURS)
    except ValueError:
        print("HANDOFF_TIMEZONE_OFFSET phải là một số giờ.", file=sys.stderr)
        return 2
    tz = timezone(timedelta(hours=offset))
    evaluation = load_evaluation(settings)
    if (evaluation is None or "selective" not in evaluation) and not args.no_evaluate:
        print(
            "Chưa có đánh giá đã lưu (hoặc đánh giá cũ): đang chạy các bộ câu đánh giá "
            "trên mô hình hiện tại…",
            file=sys.stderr,
        )
        try:
            evaluation = run_evaluation(settings) or evaluation
        except Exception as problem:  # a model this code cannot load: report what is stored
            print(f"Không đánh giá được mô hình hiện tại: {problem}", file=sys.stderr)
    daily = asyncio.run(_daily_from_redis(redis_url, args.days, tz))
    report = assemble(evaluation, daily)
    out.write(render_text(report))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(report), encoding="utf-8")
        out.write(f"\nĐã ghi báo cáo HTML: {args.html}\n")
    return 0


def main(argv=None) -> int:
    """Entry point of `python -m studio.report`."""
    parser = argparse.ArgumentParser(prog="python -m studio.report", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
