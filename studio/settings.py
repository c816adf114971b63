"""Settings of the content studio, read once from the environment."""

from __future__ import annotations

import hmac
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Text

from common.name_tokens import parse_name_tokens

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class StudioSettingsError(ValueError):
    """A studio setting is malformed."""


@dataclass(frozen=True)
class Editor:
    """Who holds a content token: an editor of the content team (or the admin)."""

    name: Text
    is_admin: bool = False


@dataclass(frozen=True)
class StudioSettings:
    """Where the content lives, who may edit it, where models go and how strict the gate is."""

    # the project the studio edits: data/, domain.yml, config.yml live here, and evaluation/ (the
    # evaluation sets: read by the gate, never trained on)
    content_dir: Path = PROJECT_ROOT
    # content-role tokens, separate from the agents' (token -> editor name)
    editor_tokens: Dict[Text, Text] = field(default_factory=dict)
    # studio-trained models and their registry (the last `keep_models` are kept)
    models_dir: Path = PROJECT_ROOT / "models" / "studio"
    # the model `make train` built: the first published model when the registry is empty
    base_model: Path = PROJECT_ROOT / "models" / "senmart.tar.gz"
    keep_models: int = 5
    # a new model is refused when held-out intent accuracy drops by more than this (points)
    max_accuracy_drop: float = 0.5
    # … or when the share of unanswerable messages answered with a fact rises by more than this (points)
    max_wrong_answer_rise: float = 1.0

    @property
    def data_dir(self) -> Path:
        """The training data and content files."""
        return self.content_dir / "data"

    @property
    def faq_dir(self) -> Path:
        """One FAQ topic a file."""
        return self.data_dir / "nlu" / "faq"

    @property
    def promotions_file(self) -> Path:
        """The promotion table (read live by the action server)."""
        return self.data_dir / "promotions.yml"

    @property
    def config_file(self) -> Path:
        """The Rasa pipeline (AnswerGuard's thresholds are read from it)."""
        return self.content_dir / "config.yml"

    @property
    def evaluation_dir(self) -> Path:
        """The evaluation sets (evaluation/sets.py): outside data/, never trained on."""
        return self.content_dir / "evaluation"

    @property
    def heldout_file(self) -> Path:
        """The held-out NLU test set the accuracy gate uses."""
        return self.evaluation_dir / "heldout.yml"

    @classmethod
    def from_env(cls, env: Optional[Mapping[Text, Text]] = None) -> "StudioSettings":
        """STUDIO_CONTENT_DIR, STUDIO_TOKENS (name:token,…), STUDIO_MODELS_DIR, RASA_MODEL,
        STUDIO_MAX_WRONG_ANSWER_RISE (points)."""
        env = os.environ if env is None else env
        content_dir = Path(env.get("STUDIO_CONTENT_DIR") or PROJECT_ROOT).resolve()
        models_dir = Path(env.get("STUDIO_MODELS_DIR") or PROJECT_ROOT / "models" / "studio")
        base_model = Path(env.get("RASA_MODEL") or PROJECT_ROOT / "models" / "senmart.tar.gz")
        return cls(
            content_dir=content_dir,
            editor_tokens=parse_editor_tokens(env.get("STUDIO_TOKENS", "")),
            models_dir=models_dir,
            base_model=base_model,
            max_wrong_answer_rise=parse_points(
                "STUDIO_MAX_WRONG_ANSWER_RISE",
                env.get("STUDIO_MAX_WRONG_ANSWER_RISE"),
                cls.max_wrong_answer_rise,
            ),
        )

    def editor_for_token(self, token: Text, admin_token: Text = "") -> Optional[Editor]:
        """The editor a bearer token belongs to (the handoff admin token counts as admin), or None."""
        if not token:
            return None
        if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
            return Editor("admin", is_admin=True)
        for known, name in self.editor_tokens.items():
            if hmac.compare_digest(token.encode(), known.encode()):
                return Editor(name)
        return None


def copy_content(target: Path, source: Path = PROJECT_ROOT) -> Path:
    """A copy of what the studio edits — config.yml, domain.yml, data/ — and of the evaluation sets
    (evaluation/*.yml) for tests and benchmarks that must not write the project's files. `.rasa` is
    linked: Rasa's cache entries written by `make train` name their files relative to the project, so a
    training in the copy finds them."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(source / name, target / name)
    shutil.copytree(source / "data", target / "data", dirs_exist_ok=True)
    (target / "evaluation").mkdir(parents=True, exist_ok=True)
    for path in sorted((source / "evaluation").glob("*.yml")):
        shutil.copy2(path, target / "evaluation" / path.name)
    if (source / ".rasa").is_dir() and not (target / ".rasa").exists():
        (target / ".rasa").symlink_to(source / ".rasa")
    return target


def parse_points(name: Text, value: Optional[Text], default: float) -> float:
    """A non-negative number of percentage points from the environment (empty: the default)."""
    if value is None or not value.strip():
        return default
    try:
        points = float(value)
    except ValueError:
        raise StudioSettingsError(f"{name}: expected a number of points, got {value!r}") from None
    if not points >= 0:  # also refuses nan
        raise StudioSettingsError(f"{name}: expected a number of points >= 0, got {value!r}")
    return points


def parse_editor_tokens(value: Text) -> Dict[Text, Text]:
    """STUDIO_TOKENS: `name:token,name2:token2` → {token: name}."""
    return parse_name_tokens(value, "STUDIO_TOKENS", StudioSettingsError)
