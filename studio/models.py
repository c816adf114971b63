"""The model registry of the studio (`settings.models_dir`).

`registry.json`:

    {"current": "<id>",
     "models": [{"id", "path", "created_at" (ISO UTC), "editor", "accuracy" (0..1 or null),
                 "eval_file" (path of `<id>.eval.json` or null), "examples_file", "finetuned"}]}

oldest first. The evaluation of a model (studio/evaluate.py's JSON) is `<id>.eval.json` next to it;
the report reads registry.json → current → its eval_file. The training examples a model was trained on
are `<id>.examples.json` ({label: [texts]}): the next job compares the content with the live model's to
find the examples added since.

When the registry is empty the base model (`settings.base_model`, what `make train` builds) is
registered as `base` (by path: it is not copied, `make train` may rebuild it). Its evaluation is the one
`make train` wrote beside it (`evaluation_beside`: `models/senmart.eval.json`) when that is of this
very model file, else the first training job computes it. At most `keep_models` models are kept: the
oldest non-current ones are dropped (and their files deleted when they live in the models directory).
Publish and rollback only change `current`; every write of registry.json is atomic (temporary file +
rename) under a file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple

from common.file_digest import file_sha256
from studio.settings import StudioSettings

BASE_MODEL_ID = "base"
REGISTRY_FILE = "registry.json"


# Rasa's inline entity annotation: [450k](money), [450k]{"entity": "money"}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_EXAMPLE_LINE = re.compile(r"^\s*-\s(.*)$")


class ModelNotFound(KeyError):
    """No model with this id in the registry (or its file is gone)."""


def utc_now() -> Text:
    """Now as ISO 8601 UTC with a Z, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_model_id() -> Text:
    """`YYYYMMDD-HHMMSS-xxxx` (UTC): sortable, unique enough, safe in a path and a URL."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def training_examples(content_dir: Path) -> Dict[Text, List[Text]]:
    """{label: [plain texts]} of every `nlu:` intent block under data/ (entity annotations removed)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    examples: Dict[Text, List[Text]] = {}
    for path in sorted((Path(content_dir) / "data").rglob("*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        blocks = data.get("nlu") if isinstance(data, dict) else None
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, dict) or not isinstance(block.get("intent"), str):
                continue
            texts = examples.setdefault(block["intent"], [])
            for line in str(block.get("examples") or "").splitlines():
                match = _EXAMPLE_LINE.match(line)
                if match:
                    texts.append(" ".join(_ANNOTATION.sub(r"\1", match.group(1)).split()))
    return examples


def evaluation_beside(model: Path) -> Path:
    """Where `make train` writes the evaluation of the model it built: `<name>.eval.json` next to it."""
    name = model.name[: -len(".tar.gz")] if model.name.endswith(".tar.gz") else model.stem
    return model.with_name(f"{name}.eval.json")


def write_examples_json(path: Path, examples: Dict[Text, List[Text]]) -> None:
    """Store the examples a model was trained on."""
    _atomic_write_json(path, examples)


def _atomic_write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ModelRegistry:
    """registry.json in the models directory, the model files and their evaluations."""

    def __init__(self, settings: StudioSettings) -> None:
        self.settings = settings
        self.directory = Path(settings.models_dir)
        self.file = self.directory / REGISTRY_FILE
        self._thread_lock = threading.Lock()

    # -- paths ---------------------------------------------------------------------------------------
    def model_path(self, model_id: Text) -> Path:
        """Where a studio-trained model's tar.gz goes."""
        return self.directory / f"{model_id}.tar.gz"

    def eval_path(self, model_id: Text) -> Path:
        """The evaluation JSON of a model."""
        return self.directory / f"{model_id}.eval.json"

    def examples_path(self, model_id: Text) -> Path:
        """The training examples a model was trained on ({label: [texts]})."""
        return self.directory / f"{model_id}.examples.json"

    # -- reading and writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.directory / ".registry.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> Dict[Text, Any]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = None
        if not isinstance(data, dict) or not data.get("models"):
            data = self._bootstrap()
        return data

    def _bootstrap(self) -> Dict[Text, Any]:
        """The registry of a fresh installation: the base model, when it exists."""
        base = Path(self.settings.base_model)
        if not base.is_file():
            return {"current": None, "models": []}
        created = datetime.fromtimestamp(base.stat().st_mtime, timezone.utc).replace(microsecond=0)
        entry = {
            "id": BASE_MODEL_ID,
            "path": str(base.resolve()),
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "editor": "make train",
            "accuracy": None,
            "eval_file": None,
            "examples_file": None,
            "finetuned": False,
        }
        # what the base model was trained on: the content as it is now (`make run` retrains the base
        # model whenever data/ changes, and the registry is created when Rasa first asks for a model)
        examples_file = self.examples_path(BASE_MODEL_ID)
        write_examples_json(examples_file, training_examples(self.settings.content_dir))
        entry["examples_file"] = str(examples_file)
        evaluation = evaluation_of(base, evaluation_beside(base))
        if evaluation is not None:
            eval_file = self.eval_path(BASE_MODEL_ID)
            _atomic_write_json(eval_file, evaluation)
            entry.update(accuracy=evaluation.get("accuracy"), eval_file=str(eval_file))
        data = {"current": BASE_MODEL_ID, "models": [entry]}
        _atomic_write_json(self.file, data)
        return data

    def read(self) -> Dict[Text, Any]:
        """The registry (bootstrapped with the base model when empty)."""
        with self._locked():
            return self._read()

    def _update(self, change) -> Tuple[Dict[Text, Any], Any]:
        with self._locked():
            data = self._read()
            result = change(data)
            _atomic_write_json(self.file, data)
            return data, result

    # -- queries -------------------------------------------------------------------------------------
    def current(self) -> Optional[Dict[Text, Any]]:
        """The current model's entry, or None when there is no model at all."""
        data = self.read()
        return _find(data, data.get("current"))

    def get(self, model_id: Text) -> Dict[Text, Any]:
        """One model's entry; ModelNotFound if unknown."""
        entry = _find(self.read(), model_id)
        if entry is None:
            raise ModelNotFound(model_id)
        return entry

    def _stored_json(self, model_id: Text, field: Text) -> Any:
        """The JSON file a model's entry names in `field`, or None (no entry, no file, unreadable)."""
        entry = _find(self.read(), model_id)
        path = entry and entry.get(field)
        if not path:
            return None
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def evaluation(self, model_id: Text) -> Optional[Dict[Text, Any]]:
        """The stored evaluation of a model, or None."""
        return self._stored_json(model_id, "eval_file")

    def examples(self, model_id: Text) -> Optional[Dict[Text, List[Text]]]:
        """The training examples a model was trained on, when recorded."""
        return self._stored_json(model_id, "examples_file")

    # -- changes -------------------------------------------------------------------------------------
    def add(
        self,
        model_id: Text,
        path: Path,
        editor: Text,
        make_current: bool,
        accuracy: Optional[float] = None,
        eval_file: Optional[Path] = None,
        examples_file: Optional[Path] = None,
        finetuned: bool = False,
    ) -> Dict[Text, Any]:
        """Register a new model (optionally as current) and drop the oldest beyond keep_models."""
        entry = {
            "id": model_id,
            "path": str(path),
            "created_at": utc_now(),
            "editor": editor,
            "accuracy": accuracy,
            "eval_file": str(eval_file) if eval_file else None,
            "examples_file": str(examples_file) if examples_file else None,
            "finetuned": finetuned,
        }

        def change(data: Dict[Text, Any]) -> List[Dict[Text, Any]]:
            data["models"] = [m for m in data["models"] if m["id"] != model_id] + [entry]
            if make_current or not data.get("current"):
                data["current"] = model_id
            return self._trim(data)

        _, dropped = self._update(change)
        for old in dropped:
            self._delete_files(old)
        return entry

    def set_evaluation(
        self, model_id: Text, accuracy: float, eval_file: Path, examples_file: Optional[Path] = None
    ) -> None:
        """Record a model's held-out accuracy and evaluation file (and its examples, if given)."""

        def change(data: Dict[Text, Any]) -> None:
            entry = _find(data, model_id)
            if entry is None:
                raise ModelNotFound(model_id)
            entry["accuracy"] = accuracy
            entry["eval_file"] = str(eval_file)
            if examples_file is not None:
                entry["examples_file"] = str(examples_file)

        self._update(change)

    def set_current(self, model_id: Text) -> Tuple[Optional[Text], Dict[Text, Any]]:
        """Make a registered model current (publish, rollback): (previous current id, its entry)."""

        def change(data: Dict[Text, Any]) -> Tuple[Optional[Text], Dict[Text, Any]]:
            entry = _find(data, model_id)
            if entry is None or not Path(entry["path"]).is_file():
                raise ModelNotFound(model_id)
            previous = data.get("current")
            data["current"] = model_id
            return previous, entry

        _, result = self._update(change)
        return result

    def _trim(self, data: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        """Drop the oldest models beyond keep_models, never the current one; the dropped entries."""
        keep = max(1, self.settings.keep_models)
        models = data["models"]
        dropped = []
        while len(models) > keep:
            victim = next(m for m in models if m["id"] != data["current"])
            models.remove(victim)
            dropped.append(victim)
        return dropped

    def _delete_files(self, entry: Dict[Text, Any]) -> None:
        """Delete a dropped model's files that live in the models directory (never the base model)."""
        directory = self.directory.resolve()
        for key in ("path", "eval_file", "examples_file"):
            value = entry.get(key)
            if not value:
                continue
            path = Path(value).resolve()
            if path.parent == directory:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def evaluation_of(model: Path, path: Path) -> Optional[Dict[Text, Any]]:
    """The evaluation in `path` if it is of this model file (same sha256), else None."""
    try:
        evaluation = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(evaluation, dict) or evaluation.get("model_sha256") != file_sha256(model):
        return None
    return evaluation


def _find(data: Dict[Text, Any], model_id: Optional[Text]) -> Optional[Dict[Text, Any]]:
    for entry in data.get("models", []):
        if entry["id"] == model_id:
            return entry
    return None


def public_entry(entry: Dict[Text, Any]) -> Dict[Text, Any]:
    """What GET /studio/api/models shows of a model."""
    return {
        "id": entry["id"],
        "created_at": entry["created_at"],
        "accuracy": entry.get("accuracy"),
        "editor": entry.get("editor"),
        "finetuned": bool(entry.get("finetuned")),
    }


class ModelFileHasher:
    """sha256 of model files, cached by (path, mtime, size): the model server's ETag."""

    def __init__(self) -> None:
        self._cache: Dict[Tuple[Text, int, int], Text] = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many hashes were actually computed (tests)

    def etag(self, path: Path) -> Text:
        """The quoted ETag of a file (computes the hash on a cache miss; blocking)."""
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(key)
        if cached:
            return cached
        value = f'"{file_sha256(path)[:32]}"'
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
            self._cache[key] = value
            self.computed += 1
        return value

    def cached_etag(self, path: Path) -> Optional[Text]:
        """The ETag if already computed for the file as it is now, else None (no I/O beyond stat)."""
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            return self._cache.get(key)


def etag_matches(if_none_match: Optional[Text], etag: Text) -> bool:
    """If-None-Match (a list, `*`, weak or unquoted tags as Rasa echoes them) matches the ETag."""
    if not if_none_match:
        return False
    bare = etag.strip('"')
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate.strip('"') == bare:
            return True
    return False
