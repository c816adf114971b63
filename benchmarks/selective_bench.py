"""Selective answering in `make bench`: ours and Rasa's default pipeline under the same thresholding.

Each model parses every evaluation set once (in a child process: fresh TensorFlow state); the same rule
(bot/nlu/selective.py) then chooses each model's thresholds on the dev split and is scored on the test
split. Ours is also scored at the thresholds config.yml deploys.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List

from bot.settings import PROJECT_ROOT
from evaluation.selective import load, model_thresholds, risk_coverage, summary, tune

SVG = PROJECT_ROOT / "benchmarks" / "risk_coverage.svg"


def measure_model(model: Path, out: Path) -> Dict[str, object]:
    """Parse the sets with one model, choose thresholds on dev, score everything."""
    subprocess.run(
        [sys.executable, "-m", "evaluation.selective", str(model), "--out", str(out)],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    records = load(out)
    tuned, _ = tune(records)
    return {
        "tuned": summary(records, tuned),
        "deployed": summary(records, model_thresholds(PROJECT_ROOT / "config.yml")),
        "curve": risk_coverage(records, tuned),
        "tuned_thresholds": asdict(tuned),
    }


def selective_measure(models: Dict[str, Path], workdir: Path) -> Dict[str, object]:
    """{name: figures} for each model."""
    return {name: measure_model(model, workdir / f"selective-{name}.json") for name, model in models.items()}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _group(result: Dict, name: str) -> Dict:
    return result["groups"].get(name) or {"n": 0, "correct_rate": 0, "wrong_rate": 0, "deflected_rate": 0}


def render_selective(s: Dict[str, Dict], date: str = "") -> str:
    """RESULTS.md section."""
    ours, base = s["ours"], s["default"]

    def row(label: str, group: str, field: str, target: str, view: str = "tuned") -> str:
        a, b = _group(ours[view], group), _group(base["tuned"], group)
        return (
            f"| {label} (n={a['n']}) | {_pct(a[field + '_rate'])} | {_pct(b[field + '_rate'])} | {target} |"
        )

    rows = [
        row("Unanswerable test: answered with a fact (wrong)", "unanswerable_test", "wrong", "≤ 3%"),
        row("Answerable test: correct", "answerable_test", "correct", "≥ 96%"),
        row("… wrong label", "answerable_test", "wrong", ""),
        row("… deflected (clarified, refused or handed off)", "answerable_test", "deflected", "≤ 3%"),
        row("… of which held-out set: correct", "heldout_test", "correct", ""),
        row("… of which customer questions: correct", "customer_questions_test", "correct", ""),
        row("… customer questions deflected", "customer_questions_test", "deflected", ""),
        row("Requests for a person, test: handed off", "human_request_test", "correct", "100%"),
        row("Requests for a person, dev: handed off", "human_request_dev", "correct", "100%"),
        row("Unanswerable dev: wrong", "unanswerable_dev", "wrong", "≤ 2% (tuning bound)"),
        row("Answerable dev: deflected", "answerable_dev", "deflected", ""),
    ]
    thresholds = lambda t: ", ".join(f"{k} {v:g}" for k, v in t.items())  # noqa: E731
    curve_rows = "\n".join(
        f"| {a['bar']:g} | {_pct(a['coverage'])} | {_pct(a['risk'])} "
        f"| {_pct(b['coverage'])} | {_pct(b['risk'])} |"
        for a, b in zip(ours["curve"], base["curve"])
    )
    deployed = ours["deployed"]
    return f"""## Selective answering{f' — measured on {date}' if date else ''}

Sets in `evaluation/` (never trained on), each split dev/test: the held-out set and `customer_questions.yml`
(answerable, the latter written by someone who never saw the training data), `unanswerable.yml` (customer
questions the knowledge base does not answer) and `human_requests.yml`. Both models parse every
message; the same rule (`bot/nlu/selective.py`: intent confidence, intent margin, FAQ-topic confidence,
weighted coverage of the message by the label's examples, share of known words) then picks each model's
thresholds on the **dev** split (at most 2% of unanswerable dev messages answered and no request for a
person missed, then the most answerable messages answered correctly), and the **test** split is reported.
A deflection is a clarification, a refusal, or a handoff of a question the bot could answer; a wrong
answer is any answer (FAQ topic, promotion, chit-chat) to an unanswerable message, or the wrong label for
an answerable one.

| Measure | Ours | Rasa default pipeline | Target |
|---|---|---|---|
{chr(10).join(rows)}

Thresholds chosen on dev — ours: {thresholds(ours['tuned_thresholds'])};
default pipeline: {thresholds(base['tuned_thresholds'])}.
Ours at the thresholds `config.yml` deploys ({thresholds(deployed['thresholds'])}): unanswerable test wrong
{_pct(_group(deployed, 'unanswerable_test')['wrong_rate'])}, answerable test correct
{_pct(_group(deployed, 'answerable_test')['correct_rate'])} / deflected
{_pct(_group(deployed, 'answerable_test')['deflected_rate'])}, requests for a person handed off
{_pct(_group(deployed, 'human_request_test')['correct_rate'])}.

Risk–coverage on the test split (answerable + unanswerable): the bar scales every chosen threshold at once
(1 = the chosen ones, 0 = answer everything); coverage = answers / messages, risk = wrong answers / answers.
Picture: [`risk_coverage.svg`](risk_coverage.svg).

| Bar | Ours coverage | Ours risk | Default coverage | Default risk |
|---|---|---|---|---|
{curve_rows}
"""


def write_svg(s: Dict[str, Dict], path: Path = SVG) -> None:
    """The risk–coverage picture of both models (plain SVG, no script)."""
    width, height, pad = 520, 340, 50

    def xy(point: Dict) -> str:
        x = pad + point["coverage"] * (width - 2 * pad)
        y = height - pad - min(point["risk"], 0.6) / 0.6 * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    lines: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">coverage (answers / messages)</text>',
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">'
        "risk (wrong / answers), axis to 60%</text>",
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = pad + tick * (width - 2 * pad)
        lines.append(f'<text x="{x:.0f}" y="{height - pad + 16}" text-anchor="middle">{tick:.0%}</text>')
    for tick in (0, 0.2, 0.4, 0.6):
        y = height - pad - tick / 0.6 * (height - 2 * pad)
        lines.append(f'<text x="{pad - 6}" y="{y + 4:.0f}" text-anchor="end">{tick:.0%}</text>')
    for name, colour, label in (("ours", "#0a7d2c", "ours"), ("default", "#b3261e", "Rasa default")):
        points = sorted(s[name]["curve"], key=lambda p: p["coverage"])
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(xy(p) for p in points)}"/>'
        )
        chosen = next(p for p in s[name]["curve"] if p["bar"] == 1.0)
        lines.append(
            f'<circle cx="{xy(chosen).split(",")[0]}" cy="{xy(chosen).split(",")[1]}" r="4" fill="{colour}"/>'
        )
        y = pad + (0 if name == "ours" else 16)
        lines.append(f'<text x="{width - pad - 110}" y="{y}" fill="{colour}">● {label}</text>')
    lines.append("</svg>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
