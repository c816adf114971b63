"""Train, check and publish a model from the studio: one background job at a time.

A job (POST /studio/api/train):

1. training — `nice -n 10 python -m rasa train --config config.yml --domain domain.yml --data data
   --out <tmp> --fixed-model-name <id>` in the content directory, as an asyncio subprocess. Rasa's
   cache is the project's `.rasa/cache` (`RASA_CACHE_DIRECTORY`, also for a temporary content
   directory), so components whose inputs did not change (the dialogue policies when only NLU examples
   or answers changed) are restored instead of retrained. Progress 0–85 is read from Rasa's log
   ("Starting to train component …", "Restored component … from cache", tqdm "Epochs: xx%").
2. evaluating (85–99) — `python -m studio.evaluate` on the new model and on the live one (its
   evaluation is cached in `<id>.eval.json` while the model file, the evaluation sets and the AnswerGuard
   thresholds of config.yml are unchanged; `make train` writes the base model's; the job's
   `live_evaluation` says "stored" or "computed"): held-out accuracy, per topic, confusion pairs, the
   new model's accuracy on the examples added since the live model, and selective answering on the
   evaluation sets (wrong answers to unanswerable messages, deflections, requests for a person handed
   off).
3. gate — refused when held-out accuracy drops by more than `settings.max_accuracy_drop` points, or
   when the share of unanswerable messages answered with a fact rises by more than
   `settings.max_wrong_answer_rise` points; otherwise published: registered as current (the model
   server hands it to every Rasa instance).

Only `data/` is trained on (`rasa train --data data`); the evaluation sets (`evaluation/`) are read by
the evaluation alone.

The job state is JSON in Redis under `senmart:studio:train:` (`job:<id>`, kept 7 days) and
`senmart:studio:train:active` (the running job's id, with a TTL the job keeps refreshing: a service
that dies mid-job frees the slot, and its job then reads as failed/interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Set, Text, Tuple

from studio.models import (
    ModelRegistry,
    new_model_id,
    public_entry,
    training_examples,
    utc_now,
    write_examples_json,
)
from studio.settings import PROJECT_ROOT, StudioSettings

logger = logging.getLogger(__name__)

KEY_PREFIX = "senmart:studio:train:"
ACTIVE_KEY = KEY_PREFIX + "active"
JOB_TTL_SECONDS = 7 * 86400
ACTIVE_TTL_SECONDS = 90
HEARTBEAT_SECONDS = 20
LOG_LINES = 40
SAVE_EVERY_SECONDS = 1.0
# where Rasa's training cache lives, whatever the content directory (tests train in a temporary copy)
RASA_CACHE_DIR = PROJECT_ROOT / ".rasa" / "cache"
# `rasa train --finetune` when only examples were added (same labels): off, see README (measured slower
# to pay off than the cache and not better on the gate)
FINETUNE = os.environ.get("STUDIO_FINETUNE", "0") == "1"
FINETUNE_EPOCH_FRACTION = os.environ.get("STUDIO_FINETUNE_EPOCH_FRACTION", "0.5")

FINAL_STATES = ("published", "refused", "failed")

# progress (0..85) while Rasa trains: (start, end) per component, in the order Rasa trains them
COMPONENT_RANGES: Dict[Text, Tuple[int, int]] = {
    "CountVectorsFeaturizer": (6, 10),
    "DIETClassifier": (10, 45),
    "ResponseSelector": (45, 68),
    "AnswerGuard": (68, 69),
    "AngerDetector": (68, 69),
    "MemoizationPolicy": (69, 70),
    "RulePolicy": (70, 72),
    "TEDPolicy": (72, 84),
}
COMPONENT_PHASES = {
    "CountVectorsFeaturizer": "Trích đặc trưng từ câu ví dụ",
    "DIETClassifier": "Huấn luyện nhận diện ý định (DIETClassifier)",
    "ResponseSelector": "Huấn luyện chọn câu trả lời FAQ (ResponseSelector)",
    "MemoizationPolicy": "Huấn luyện hội thoại (quy tắc)",
    "RulePolicy": "Huấn luyện hội thoại (quy tắc)",
    "TEDPolicy": "Huấn luyện hội thoại (TEDPolicy)",
}
TRAINED_PROGRESS = 85
_STARTING = re.compile(r"Starting to train component '([^']+)'")


def component_family(name: Text) -> Text:
    """The Rasa component a logged class name stands for: our subclasses are named `<What><RasaName>`
    (`DirectDIETClassifier`, `StateCachedTEDPolicy`), so they keep the progress range of their base."""
    return next((known for known in COMPONENT_RANGES if name.endswith(known)), name)


_RESTORED = re.compile(r"Restored component '([^']+)' from cache")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%")

HistoryHook = Callable[..., Awaitable[None]]
# called with (who started the job — what `start` was given as `actor` —, the job's final state) when a job
# ends published, refused or failed (the staff service audits it; studio/ knows nothing of the audit)
FinishListener = Callable[[Any, Dict[Text, Any]], Awaitable[None]]


class TrainingBusy(RuntimeError):
    """A job is already running."""

    def __init__(self, job_id: Text) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def job_key(job_id: Text) -> Text:
    """Redis key of a job's state."""
    return f"{KEY_PREFIX}job:{job_id}"


class ProgressParser:
    """Turns Rasa's training log into (progress 0..85, phase) and keeps the log tail."""

    def __init__(self) -> None:
        self.progress = 1
        self.phase = "Chuẩn bị huấn luyện"
        self.component: Optional[Text] = None
        self.restored: List[Text] = []
        self.trained: List[Text] = []
        self.tail: Deque[Text] = deque(maxlen=LOG_LINES)

    def feed(self, line: Text) -> None:
        """One line (tqdm updates arrive as separate lines split on \\r)."""
        line = line.rstrip()
        if not line.strip():
            return
        # a tqdm bar updates in place: keep only its last state in the tail
        if self.tail and line.lstrip().startswith(("Epochs:", "Processed")):
            previous = self.tail[-1].lstrip()
            if previous.split(":")[0] == line.lstrip().split(":")[0]:
                self.tail.pop()
        self.tail.append(line[:500])
        if "Started validating domain and training data" in line:
            self._set(3, "Kiểm tra dữ liệu huấn luyện")
        elif match := _STARTING.search(line):
            self.component = component_family(match.group(1))
            self.trained.append(self.component)
            start, _ = COMPONENT_RANGES.get(self.component, (self.progress, self.progress))
            self._set(start, COMPONENT_PHASES.get(self.component, self.phase))
        elif match := _RESTORED.search(line):
            name = component_family(match.group(1))
            self.restored.append(name)
            _, end = COMPONENT_RANGES.get(name, (self.progress, self.progress))
            self._set(end, self.phase)
        elif (match := _EPOCHS.search(line)) and self.component in COMPONENT_RANGES:
            start, end = COMPONENT_RANGES[self.component]
            self._set(start + (end - start) * int(match.group(1)) // 100, self.phase)
        elif "Your Rasa model is trained and saved" in line:
            self._set(TRAINED_PROGRESS, "Đóng gói mô hình")

    def _set(self, progress: int, phase: Text) -> None:
        self.progress = max(self.progress, min(progress, TRAINED_PROGRESS))
        self.phase = phase


def rasa_train_command(
    python: Text, out_dir: Path, model_id: Text, finetune_from: Optional[Path] = None
) -> List[Text]:
    """The training command (run in the content directory)."""
    command = ["nice", "-n", "10", python, "-m", "rasa", "train"]
    command += ["--config", "config.yml", "--domain", "domain.yml", "--data", "data"]
    command += ["--out", str(out_dir), "--fixed-model-name", model_id]
    if finetune_from is not None:
        command += ["--finetune", str(finetune_from), "--epoch-fraction", FINETUNE_EPOCH_FRACTION]
    return command


def subprocess_env() -> Dict[Text, Text]:
    """Environment of the training and evaluation subprocesses."""
    env = dict(os.environ)
    env.setdefault("RASA_CACHE_DIRECTORY", str(RASA_CACHE_DIR))
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return env


def new_examples(
    now: Dict[Text, List[Text]], live: Optional[Dict[Text, List[Text]]]
) -> List[Tuple[Text, Text]]:
    """(text, label) pairs in `now` that the live model was not trained on (none when unknown)."""
    if live is None:
        return []
    known = {(label, text) for label, texts in live.items() for text in texts}
    return [
        (text, label) for label, texts in sorted(now.items()) for text in texts if (label, text) not in known
    ]


def only_additions(now: Dict[Text, List[Text]], live: Optional[Dict[Text, List[Text]]]) -> bool:
    """Same labels and every live example still there: what `--finetune` allows."""
    if live is None or set(now) != set(live):
        return False
    return all(set(live[label]) <= set(now[label]) for label in live)


def selective_summary(evaluation: Optional[Dict[Text, Any]]) -> Optional[Dict[Text, Any]]:
    """The selective-answering figures of an evaluation (studio/evaluate.py), without the curve."""
    selective = (evaluation or {}).get("selective")
    if not isinstance(selective, dict):
        return None
    keys = ("thresholds", "n", "answerable", "unanswerable", "human_request")
    return {key: selective[key] for key in keys if key in selective}


def summary(evaluation: Optional[Dict[Text, Any]], model_id: Optional[Text]) -> Optional[Dict[Text, Any]]:
    """The before/after part of a job result."""
    if evaluation is None:
        return None
    return {
        "model": model_id,
        "accuracy": evaluation["accuracy"],
        "n": evaluation["n"],
        "per_topic": evaluation["per_topic"],
        "selective": selective_summary(evaluation),
    }


def wrong_answer_rate(evaluation: Optional[Dict[Text, Any]]) -> Optional[float]:
    """Share of the unanswerable messages answered with a fact (None without that set)."""
    unanswerable = ((evaluation or {}).get("selective") or {}).get("unanswerable") or {}
    return float(unanswerable["wrong_answer_rate"]) if unanswerable.get("n") else None


@dataclass(frozen=True)
class Verdict:
    """What the gate decided about a new model, and why (Vietnamese, for content staff)."""

    passed: bool
    reason: Text
    drop_points: float
    wrong_answer_rise_points: Optional[float]


REFUSED = "mô hình mới không được xuất bản, bot vẫn dùng mô hình hiện tại."


def gate(
    before: Optional[Dict[Text, Any]],
    after: Dict[Text, Any],
    max_drop: float,
    max_wrong_answer_rise: float,
) -> Verdict:
    """Compare the new model's evaluation with the live one's (None: no live model, nothing to lose)."""
    drop = round((before["accuracy"] - after["accuracy"]) * 100, 4) if before else 0.0
    wrong_before, wrong_after = wrong_answer_rate(before), wrong_answer_rate(after)
    rise = None
    if wrong_before is not None and wrong_after is not None:
        rise = round((wrong_after - wrong_before) * 100, 4)
    problems = []
    if drop > max_drop + 1e-9:
        problems.append(
            f"Độ chính xác trên bộ câu kiểm tra giảm {drop:.1f} điểm ({before['accuracy'] * 100:.1f}% → "
            f"{after['accuracy'] * 100:.1f}%), quá mức cho phép {max_drop:g} điểm"
        )
    if rise is not None and rise > max_wrong_answer_rise + 1e-9:
        problems.append(
            f"Tỷ lệ trả lời sai cho câu hỏi ngoài kiến thức tăng {rise:.1f} điểm "
            f"({wrong_before * 100:.1f}% → {wrong_after * 100:.1f}%), "
            f"quá mức cho phép {max_wrong_answer_rise:g} điểm"
        )
    if problems:
        return Verdict(False, "; ".join(problems) + ": " + REFUSED, drop, rise)
    if before:
        figures = f"Độ chính xác {after['accuracy'] * 100:.1f}% (trước đó {before['accuracy'] * 100:.1f}%)"
    else:
        figures = f"Độ chính xác {after['accuracy'] * 100:.1f}%"
    if wrong_after is not None:
        figures += f", trả lời sai cho câu hỏi ngoài kiến thức {wrong_after * 100:.1f}%"
        if wrong_before is not None:
            figures += f" (trước đó {wrong_before * 100:.1f}%)"
    verdict = ": đạt, mô hình mới đã được xuất bản." if before else ": mô hình mới đã được xuất bản."
    return Verdict(True, figures + verdict, drop, rise)


def evaluation_is_current(
    cached: Optional[Dict[Text, Any]],
    heldout_file: Path,
    sets_dir: Path,
    config_file: Path,
    model_file: Path,
) -> bool:
    """Whether a stored evaluation still holds: of this model file, on the same evaluation sets, at the
    same AnswerGuard thresholds.

    An evaluation written before the selective figures or the model's sha256 existed is stale too.
    """
    from common.file_digest import file_sha256
    from evaluation.selective import model_thresholds
    from studio.evaluate import sets_sha256

    if not cached or not isinstance(cached.get("selective"), dict):
        return False
    return (
        cached.get("model_sha256") == file_sha256(model_file)
        and cached.get("heldout_sha256") == file_sha256(heldout_file)
        and cached.get("sets_sha256") == sets_sha256(sets_dir)
        and cached["selective"].get("thresholds") == asdict(model_thresholds(config_file))
    )


def confusions_changed(before: Optional[Dict[Text, Any]], after: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """Confusion pairs whose count changed: [{"expected", "predicted", "before", "after"}]."""

    def counts(evaluation: Optional[Dict[Text, Any]]) -> Dict[Tuple[Text, Text], int]:
        return {(c["expected"], c["predicted"]): c["count"] for c in (evaluation or {}).get("confusions", [])}

    old, new = counts(before), counts(after)
    changed = [
        {"expected": e, "predicted": p, "before": old.get((e, p), 0), "after": new.get((e, p), 0)}
        for (e, p) in set(old) | set(new)
        if old.get((e, p), 0) != new.get((e, p), 0)
    ]
    changed.sort(key=lambda c: (-abs(c["after"] - c["before"]), c["expected"], c["predicted"]))
    return changed


async def record_model_history(
    redis: Any,
    editor: Text,
    action: Text,
    before: Optional[Dict[Text, Any]],
    after: Optional[Dict[Text, Any]],
) -> None:
    """One history entry (studio/history.py) of kind "model", target "model", action "publish" or
    "rollback", before/after = the public entries of the models ({"id", "created_at", "accuracy", …})."""
    try:
        from studio.history import History

        await History(redis).record(editor, "model", "model", action, before, after)
    except Exception:  # history must never break a publish or a rollback
        logger.exception("Could not record the model %s in the history.", action)


class TrainingManager:
    """Starts jobs, runs them in the background, keeps their state in Redis."""

    def __init__(
        self,
        settings: StudioSettings,
        redis_of: Callable[[], Any],
        registry: Optional[ModelRegistry] = None,
        python: Text = sys.executable,
        history_hook: HistoryHook = record_model_history,
    ) -> None:
        self.settings = settings
        self.redis_of = redis_of
        self.registry = registry or ModelRegistry(settings)
        self.python = python
        self.history_hook = history_hook
        self.finish_listeners: List[FinishListener] = []
        self.tasks: Set[asyncio.Task] = set()
        self._processes: Set[asyncio.subprocess.Process] = set()

    @property
    def redis(self) -> Any:
        return self.redis_of()

    # -- public --------------------------------------------------------------------------------------
    async def start(self, editor: Text, actor: Any = None) -> Text:
        """Start a job; TrainingBusy if one runs. `actor` (who asked) is handed to the finish listeners."""
        job_id = datetime_job_id()
        if not await self.redis.set(ACTIVE_KEY, job_id, nx=True, ex=ACTIVE_TTL_SECONDS):
            raise TrainingBusy(await self.redis.get(ACTIVE_KEY) or "")
        state = {
            "job_id": job_id,
            "state": "training",
            "progress": 0,
            "phase": "Chuẩn bị huấn luyện",
            "log": [],
            "result": None,
            "editor": editor,
            "started_at": utc_now(),
            "updated_at": utc_now(),
            "finished_at": None,
            "model_id": None,
            "finetune": False,
            "live_evaluation": None,
            "seconds": {},
        }
        await self._save(state)
        task = asyncio.create_task(self._run(state, actor), name=f"studio-train-{job_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job_id

    async def get(self, job_id: Text) -> Optional[Dict[Text, Any]]:
        """A job's state; a job left unfinished by a service that stopped reads as failed."""
        raw = await self.redis.get(job_key(job_id))
        if raw is None:
            return None
        state = json.loads(raw)
        if state["state"] not in FINAL_STATES and await self.redis.get(ACTIVE_KEY) != job_id:
            state.update(
                state="failed",
                phase="Bị gián đoạn",
                result={
                    "published": False,
                    "reason": "Quá trình huấn luyện bị gián đoạn (dịch vụ khởi động lại).",
                },
            )
            await self._save(state)
        return state

    async def stop(self) -> None:
        """Cancel running jobs and kill their subprocesses (service shutdown)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # -- the job -------------------------------------------------------------------------------------
    async def _save(self, state: Dict[Text, Any]) -> None:
        state["updated_at"] = utc_now()
        await self.redis.set(
            job_key(state["job_id"]), json.dumps(state, ensure_ascii=False), ex=JOB_TTL_SECONDS
        )

    async def _heartbeat(self, job_id: Text) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                await self.redis.set(ACTIVE_KEY, job_id, ex=ACTIVE_TTL_SECONDS)

    async def _run(self, state: Dict[Text, Any], actor: Any = None) -> None:
        job_id = state["job_id"]
        heartbeat = asyncio.create_task(self._heartbeat(job_id))
        work = self.settings.models_dir / f".job-{job_id}"
        try:
            await self._job(state, work)
        except asyncio.CancelledError:
            state.update(
                state="failed",
                phase="Đã dừng",
                result={"published": False, "reason": "Dịch vụ dừng khi đang huấn luyện."},
            )
            with contextlib.suppress(Exception):
                await asyncio.shield(self._save(state))
            raise
        except Exception as problem:
            logger.exception("Training job %s failed.", job_id)
            state.update(
                state="failed",
                phase="Lỗi",
                result={"published": False, "reason": f"Lỗi khi huấn luyện: {problem}"},
                finished_at=utc_now(),
            )
            await self._save(state)
        finally:
            heartbeat.cancel()
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(Exception):
                if await self.redis.get(ACTIVE_KEY) == job_id:
                    await self.redis.delete(ACTIVE_KEY)
            if state.get("state") in FINAL_STATES:
                for listener in self.finish_listeners:
                    try:
                        await asyncio.shield(listener(actor, dict(state)))
                    except Exception:  # a listener must never break the job's end
                        logger.exception("A listener of training job %s failed.", job_id)

    async def _job(self, state: Dict[Text, Any], work: Path) -> None:
        settings, registry = self.settings, self.registry
        work.mkdir(parents=True, exist_ok=True)
        live = await asyncio.to_thread(registry.current)
        live_examples = await asyncio.to_thread(registry.examples, live["id"]) if live else None
        examples = await asyncio.to_thread(training_examples, settings.content_dir)
        added = new_examples(examples, live_examples)
        finetune_from = None
        if FINETUNE and live and only_additions(examples, live_examples):
            finetune_from = Path(live["path"])
        model_id = new_model_id()
        state.update(model_id=model_id, finetune=finetune_from is not None)

        # 1. train
        started = time.monotonic()
        parser = ProgressParser()
        rc = await self._train(state, parser, work, model_id, finetune_from)
        if rc != 0 and finetune_from is not None:  # Rasa refused to finetune: train from scratch
            parser.feed("--- finetune refused by Rasa: training from scratch ---")
            state["finetune"] = False
            rc = await self._train(state, parser, work, model_id, None)
        state["seconds"]["train"] = round(time.monotonic() - started, 1)
        state["restored_from_cache"] = sorted(set(parser.restored))
        state["trained_components"] = parser.trained
        trained = work / f"{model_id}.tar.gz"
        if rc != 0 or not trained.is_file():
            state.update(
                state="failed",
                phase="Lỗi huấn luyện",
                result={
                    "published": False,
                    "reason": f"Rasa không huấn luyện được (mã thoát {rc}); xem nhật ký.",
                },
                finished_at=utc_now(),
            )
            await self._save(state)
            return
        model_path = registry.model_path(model_id)
        os.replace(trained, model_path)

        # 2. evaluate the new model and the live one (cached)
        state.update(state="evaluating", progress=TRAINED_PROGRESS + 1, phase="Đánh giá trên bộ câu kiểm tra")
        await self._save(state)
        started = time.monotonic()
        extra = None
        if added:
            extra = work / "new_examples.yml"
            from studio.evaluate import write_examples_file

            write_examples_file(extra, added)
        after_file = registry.eval_path(model_id)
        before, after = await asyncio.gather(
            self._live_evaluation(live, work, state),
            self._evaluate(model_path, extra, after_file, work / "eval-new.log"),
        )
        state["seconds"]["evaluate"] = round(time.monotonic() - started, 1)
        if after is None:
            model_path.unlink(missing_ok=True)
            state.update(
                state="failed",
                phase="Lỗi đánh giá",
                result={"published": False, "reason": "Không đánh giá được mô hình mới; xem nhật ký."},
                finished_at=utc_now(),
            )
            await self._save(state)
            return

        # 3. gate
        verdict = gate(before, after, settings.max_accuracy_drop, settings.max_wrong_answer_rise)
        passed = verdict.passed
        result = {
            "before": summary(before, live["id"] if live else None),
            "after": summary(after, model_id),
            "new_examples": after["new_examples"],
            "confusions_changed": confusions_changed(before, after),
            "drop_points": verdict.drop_points,
            "max_drop_points": settings.max_accuracy_drop,
            "wrong_answer_rise_points": verdict.wrong_answer_rise_points,
            "max_wrong_answer_rise_points": settings.max_wrong_answer_rise,
            "published": passed,
            "model_id": model_id if passed else None,
            "reason": verdict.reason,
        }
        if passed:
            examples_file = registry.examples_path(model_id)
            write_examples_json(examples_file, examples)
            registry.add(
                model_id,
                model_path,
                state["editor"],
                make_current=True,
                accuracy=after["accuracy"],
                eval_file=after_file,
                examples_file=examples_file,
                finetuned=state["finetune"],
            )
            await self.history_hook(
                self.redis,
                state["editor"],
                "publish",
                public_entry(live) if live else None,
                public_entry(registry.get(model_id)),
            )
            final = "published"
        else:
            model_path.unlink(missing_ok=True)
            after_file.unlink(missing_ok=True)
            final = "refused"
        state.update(
            state=final,
            progress=100,
            phase="Đã xuất bản" if passed else "Bị từ chối",
            result=result,
            finished_at=utc_now(),
        )
        await self._save(state)

    async def _train(
        self,
        state: Dict[Text, Any],
        parser: ProgressParser,
        work: Path,
        model_id: Text,
        finetune_from: Optional[Path],
    ) -> int:
        command = rasa_train_command(self.python, work, model_id, finetune_from)
        parser.feed("$ " + " ".join(command[3:]))
        last_save = 0.0

        async def on_line(line: Text) -> None:
            nonlocal last_save
            parser.feed(line)
            now = time.monotonic()
            if now - last_save >= SAVE_EVERY_SECONDS:
                last_save = now
                state.update(progress=parser.progress, phase=parser.phase, log=list(parser.tail))
                await self._save(state)

        rc = await self._run_process(command, self.settings.content_dir, on_line, work / "train.log")
        state.update(progress=parser.progress, phase=parser.phase, log=list(parser.tail))
        await self._save(state)
        return rc

    async def _live_evaluation(
        self, live: Optional[Dict[Text, Any]], work: Path, state: Dict[Text, Any]
    ) -> Optional[Dict[Text, Any]]:
        """The live model's evaluation: cached while the model file, the evaluation sets and the thresholds
        are unchanged, else computed again."""
        if live is None:
            return None
        settings = self.settings
        cached = self.registry.evaluation(live["id"])
        current = await asyncio.to_thread(
            evaluation_is_current,
            cached,
            settings.heldout_file,
            settings.evaluation_dir,
            settings.config_file,
            Path(live["path"]),
        )
        state["live_evaluation"] = "stored" if current else "computed"
        if current:
            return cached
        out = self.registry.eval_path(live["id"])
        evaluation = await self._evaluate(Path(live["path"]), None, out, work / "eval-live.log")
        if evaluation is None:
            raise RuntimeError(f"could not evaluate the live model {live['id']}")
        self.registry.set_evaluation(live["id"], evaluation["accuracy"], out)
        return evaluation

    async def _evaluate(
        self, model: Path, extra: Optional[Path], out: Path, log_path: Path
    ) -> Optional[Dict[Text, Any]]:
        settings = self.settings
        command = ["nice", "-n", "10", self.python, "-m", "studio.evaluate", str(model)]
        command += [str(settings.heldout_file)] + ([str(extra)] if extra else []) + ["--out", str(out)]
        command += ["--config", str(settings.config_file), "--data", str(settings.data_dir)]

        async def ignore(_line: Text) -> None:
            return None

        rc = await self._run_process(command, PROJECT_ROOT, ignore, log_path)
        if rc != 0:
            logger.error("Evaluation of %s failed (exit %s): %s", model, rc, _tail(log_path))
            return None
        return json.loads(out.read_text(encoding="utf-8"))

    async def _run_process(
        self, command: List[Text], cwd: Path, on_line: Callable[[Text], Awaitable[None]], log_path: Path
    ) -> int:
        """Run a subprocess in its own process group, feeding each output line (split on \\r and \\n)."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=str(cwd),
            env=subprocess_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._processes.add(process)
        try:
            with open(log_path, "ab") as log:
                pending = b""
                while True:
                    chunk = await process.stdout.read(65536)
                    if not chunk:
                        break
                    log.write(chunk)
                    pending += chunk
                    *lines, pending = re.split(rb"[\r\n]", pending)
                    for line in lines:
                        await on_line(line.decode("utf-8", errors="replace"))
                if pending:
                    await on_line(pending.decode("utf-8", errors="replace"))
            return await process.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
        finally:
            self._processes.discard(process)


def datetime_job_id() -> Text:
    """A job id: time-sortable and unguessable enough."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)


def _tail(path: Path, lines: int = 15) -> Text:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
