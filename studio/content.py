"""FAQ topic files (`data/nlu/faq/<topic>.yml`): read, search, validate and write them for the studio.

A topic file holds the intent `faq/<topic>` (its examples in an `examples: |` block) and the response
`utter_faq/<topic>`. Files are written with ruamel.yaml round-trip, so comments, key order and the
literal block of a hand-edited file survive an edit made in the studio.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text, Tuple

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from common.text import TeencodeFile, fold
from studio.settings import StudioSettings

TOPIC_NAME = re.compile(r"\A[a-z][a-z0-9_]{1,49}\Z")
MIN_EXAMPLES = 12
MAX_ANSWER_CHARS = 2000
MAX_EXAMPLE_CHARS = 300
OUT_OF_SCOPE_INTENT = "out_of_scope"
# `<b>`, `</p>`, `<br/>` or `&amp;`, `&#39;`: what a chat bubble would show as markup, not text
_HTML = re.compile(
    r"<\s*/?\s*[A-Za-z!][^<>]*>|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
)
_WORD = re.compile(r"\w+", re.UNICODE)

INVALID_MESSAGE = "Nội dung chưa hợp lệ, vui lòng sửa các mục được đánh dấu."

# Every write in this process goes through this lock: read, check the version, write, replace.
WRITE_LOCK = threading.RLock()


class ContentError(Exception):
    """Base of the studio's content errors; `message` is Vietnamese, shown to the editor."""

    def __init__(self, message: Text) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One validation problem: the field (`examples[3]`, `responses[0].text`) and what is wrong."""

    field: Text
    message: Text

    def as_json(self) -> Dict[Text, Text]:
        """The JSON shape of the API."""
        return {"field": self.field, "message": self.message}


class ValidationFailed(ContentError):
    """Input the studio refuses; `problems` lists every field that is wrong."""

    def __init__(self, problems: Sequence[Problem], message: Text = INVALID_MESSAGE) -> None:
        super().__init__(message)
        self.problems = list(problems)


class Conflict(ContentError):
    """The stored object is not the version the editor started from; `current` is what is stored now."""

    def __init__(self, current: Optional[Dict[Text, Any]], message: Text) -> None:
        super().__init__(message)
        self.current = current


class NotFound(ContentError):
    """No such topic or promotion."""


def version_of(obj: Mapping[Text, Any]) -> Text:
    """First 16 hex of sha256 of the canonical JSON of an object (its `version` key left out)."""
    body = {key: value for key, value in obj.items() if key != "version"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def round_trip_yaml(sequence_indent: int = 2, offset: int = 0) -> YAML:
    """A ruamel round-trip YAML set up like the project's files (no line wrapping)."""
    handler = YAML()
    handler.indent(mapping=2, sequence=sequence_indent, offset=offset)
    handler.width = 1_000_000
    handler.preserve_quotes = True
    return handler


def dump_yaml(handler: YAML, data: Any) -> Text:
    """YAML text of a round-trip document."""
    buffer = io.StringIO()
    handler.dump(data, buffer)
    return buffer.getvalue()


# how many content files this process has written: readers that cache content (the NLG server's
# ResponseBook) re-check their files at once when it moves
_writes = 0


def content_writes() -> int:
    """Number of `write_atomic` calls so far in this process."""
    return _writes


def write_atomic(path: Path, text: Text) -> None:
    """Write a file so readers see the old or the new content, never half of it."""
    global _writes
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _writes += 1
    finally:
        if tmp.exists():
            tmp.unlink()


# -- folding: the same text for the NLU after diacritics and teencode ------------------------------
def search_key(text: Text) -> Text:
    """Lower case without diacritics, for search."""
    return fold(text)


# -- parsing the files ------------------------------------------------------------------------------
def parse_examples(block: Any) -> List[Text]:
    """The examples of an `examples: |` block, one per `- ` line."""
    examples = []
    for line in str(block or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            examples.append(line[2:].strip())
        elif line == "-":
            continue
        elif line:
            examples.append(line)
    return examples


def examples_block(examples: Iterable[Text]) -> LiteralScalarString:
    """The literal block Rasa reads: `- text` lines."""
    return LiteralScalarString("".join(f"- {text}\n" for text in examples))


def response_json(item: Any) -> Dict[Text, Any]:
    """One response variation as the API shows it: text and buttons."""
    item = item if isinstance(item, Mapping) else {}
    buttons = [
        {"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))}
        for button in (item.get("buttons") or [])
        if isinstance(button, Mapping)
    ]
    return {"text": str(item.get("text") or ""), "buttons": buttons}


def topic_json(
    name: Text, responses: Sequence[Mapping[Text, Any]], examples: Sequence[Text]
) -> Dict[Text, Any]:
    """A topic as the API shows it, with its version."""
    topic: Dict[Text, Any] = {
        "name": name,
        "responses": [response_json(item) for item in responses],
        "examples": list(examples),
    }
    topic["version"] = version_of(topic)
    return topic


def _intent_item(data: Any, intent: Text) -> Optional[Any]:
    """The `- intent: …` item of an NLU file."""
    for item in (data or {}).get("nlu") or []:
        if isinstance(item, Mapping) and item.get("intent") == intent:
            return item
    return None


def topic_from_data(name: Text, data: Any) -> Dict[Text, Any]:
    """The topic of a parsed topic file."""
    item = _intent_item(data, f"faq/{name}") or {}
    responses = ((data or {}).get("responses") or {}).get(f"utter_faq/{name}") or []
    return topic_json(name, responses, parse_examples(item.get("examples")))


def response_node(response: Mapping[Text, Any]) -> CommentedMap:
    """A response variation as written in the files: `- text: "…"` with optional buttons."""
    node = CommentedMap()
    node["text"] = DoubleQuotedScalarString(response["text"])
    if response.get("buttons"):
        buttons = CommentedSeq()
        for button in response["buttons"]:
            entry = CommentedMap()
            entry["title"] = DoubleQuotedScalarString(button["title"])
            entry["payload"] = DoubleQuotedScalarString(button["payload"])
            buttons.append(entry)
        node["buttons"] = buttons
    return node


def new_topic_document(name: Text, responses: Sequence[Mapping[Text, Any]], examples: Sequence[Text]) -> Any:
    """A new topic file's document, shaped like the existing ones."""
    intent = CommentedMap()
    intent["intent"] = f"faq/{name}"
    intent["examples"] = examples_block(examples)
    nlu = CommentedSeq([intent])
    answers = CommentedSeq([response_node(item) for item in responses])
    utter = CommentedMap()
    utter[f"utter_faq/{name}"] = answers
    document = CommentedMap()
    document["version"] = DoubleQuotedScalarString("3.1")
    document["nlu"] = nlu
    document["responses"] = utter
    return document


def clean(text: Any) -> Text:
    """NFC text without surrounding spaces."""
    return unicodedata.normalize("NFC", str(text)).strip()


def example_text(text: Any) -> Text:
    """An example being added, cleaned; ValidationFailed (field `text`) when it is not text."""
    if not isinstance(text, str):
        raise ValidationFailed([Problem("text", "Câu ví dụ phải là chữ.")])
    return clean(text)


def clean_input(responses: Any, examples: Any) -> Tuple[List[Dict[Text, Any]], List[Text], List[Problem]]:
    """Responses and examples from JSON, normalised; shape problems (not lists, not text) reported."""
    problems: List[Problem] = []
    cleaned_responses: List[Dict[Text, Any]] = []
    if not isinstance(responses, list):
        problems.append(Problem("responses", "Danh sách câu trả lời không hợp lệ."))
        responses = []
    for index, item in enumerate(responses):
        where = f"responses[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("text", ""), str):
            problems.append(Problem(where, "Câu trả lời phải có nội dung dạng chữ."))
            continue
        buttons_in = item.get("buttons") or []
        buttons: List[Dict[Text, Text]] = []
        if not isinstance(buttons_in, list):
            problems.append(Problem(f"{where}.buttons", "Danh sách nút bấm không hợp lệ."))
            buttons_in = []
        for number, button in enumerate(buttons_in):
            spot = f"{where}.buttons[{number}]"
            if not isinstance(button, Mapping):
                problems.append(Problem(spot, "Nút bấm cần có tiêu đề và nội dung gửi đi (payload)."))
                continue
            title, payload = button.get("title"), button.get("payload")
            title = clean(title) if isinstance(title, (str, int, float)) else ""
            payload = clean(payload) if isinstance(payload, (str, int, float)) else ""
            buttons.append({"title": title, "payload": payload})
        cleaned_responses.append({"text": clean(item.get("text") or ""), "buttons": buttons})
    cleaned_examples: List[Text] = []
    if not isinstance(examples, list):
        problems.append(Problem("examples", "Danh sách câu ví dụ không hợp lệ."))
        examples = []
    for index, text in enumerate(examples):
        if not isinstance(text, str):
            problems.append(Problem(f"examples[{index}]", "Câu ví dụ phải là chữ."))
            cleaned_examples.append("")
            continue
        cleaned_examples.append(clean(text))
    return cleaned_responses, cleaned_examples, problems


def response_problems(responses: Sequence[Mapping[Text, Any]]) -> List[Problem]:
    """What is wrong with the answers: empty, HTML, too long, buttons without title or payload."""
    problems: List[Problem] = []
    if not responses:
        problems.append(Problem("responses", "Vui lòng nhập câu trả lời cho chủ đề này."))
    for index, response in enumerate(responses):
        where = f"responses[{index}]"
        text = response["text"]
        if not text:
            problems.append(Problem(f"{where}.text", "Câu trả lời không được để trống."))
        elif _HTML.search(text):
            problems.append(
                Problem(
                    f"{where}.text",
                    "Câu trả lời không được chứa mã HTML (thẻ <…> hay ký tự dạng &…;). "
                    "Vui lòng viết nội dung bằng chữ thường.",
                )
            )
        if len(text) > MAX_ANSWER_CHARS:
            problems.append(
                Problem(
                    f"{where}.text",
                    f"Câu trả lời dài {len(text)} ký tự, vượt quá giới hạn {MAX_ANSWER_CHARS} ký tự. "
                    "Vui lòng rút gọn.",
                )
            )
        for number, button in enumerate(response.get("buttons") or []):
            spot = f"{where}.buttons[{number}]"
            if not button["title"]:
                problems.append(Problem(f"{spot}.title", "Nút bấm cần có tiêu đề."))
            if not button["payload"]:
                problems.append(Problem(f"{spot}.payload", "Nút bấm cần có nội dung gửi đi (payload)."))
            if _HTML.search(button["title"]):
                problems.append(Problem(f"{spot}.title", "Tiêu đề nút bấm không được chứa mã HTML."))
    return problems


def preview_messages(responses: Sequence[Mapping[Text, Any]]) -> List[Dict[Text, Any]]:
    """What the chat page shows for these answers: one bubble per variation, as Rasa's REST channel."""
    messages = []
    for response in responses:
        message: Dict[Text, Any] = {"text": response["text"]}
        if response.get("buttons"):
            message["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in response["buttons"]]
        messages.append(message)
    return messages


def _owner_label(owner: Text) -> Text:
    """How an example's owner is named to the editor."""
    if owner.startswith("faq/"):
        return f"chủ đề “{owner[4:]}”"
    return f"ý định “{owner}”"


class FaqContent:
    """The FAQ topics of one content directory."""

    def __init__(self, settings: StudioSettings) -> None:
        self.settings = settings
        self.folder = TeencodeFile(settings.data_dir / "teencode.yml")
        self._read_cache: Dict[Path, Tuple[Tuple[int, int], Any]] = {}

    # -- reading ------------------------------------------------------------------------------------
    @property
    def faq_dir(self) -> Path:
        """Where the topic files are."""
        return self.settings.faq_dir

    def path_of(self, name: Text) -> Path:
        """The file of a topic."""
        return self.faq_dir / f"{name}.yml"

    def _safe_load(self, path: Path) -> Any:
        """A YAML file parsed (plain data), cached by mtime and size."""
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._read_cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        self._read_cache[path] = (stamp, data)
        return data

    def topic_names(self) -> List[Text]:
        """Every topic, by name."""
        if not self.faq_dir.is_dir():
            return []
        return sorted(p.stem for p in self.faq_dir.glob("*.yml") if TOPIC_NAME.match(p.stem))

    def exists(self, name: Text) -> bool:
        """Whether a topic file exists."""
        return bool(TOPIC_NAME.match(name)) and self.path_of(name).is_file()

    def find(self, name: Text) -> Optional[Dict[Text, Any]]:
        """A topic, or None."""
        if not self.exists(name):
            return None
        return topic_from_data(name, self._safe_load(self.path_of(name)))

    def get_topic(self, name: Text) -> Dict[Text, Any]:
        """A topic; NotFound if there is none."""
        topic = self.find(name)
        if topic is None:
            raise NotFound(f"Không tìm thấy chủ đề “{name}”.")
        return topic

    def all_topics(self) -> List[Dict[Text, Any]]:
        """Every topic, by name."""
        return [topic for topic in (self.find(name) for name in self.topic_names()) if topic]

    def list_topics(self, query: Text = "") -> List[Dict[Text, Any]]:
        """Topic summaries, filtered by a search over name, answer and examples (diacritics ignored)."""
        needle = " ".join(search_key(query).split())
        summaries = []
        for topic in self.all_topics():
            if needle:
                haystack = [topic["name"].replace("_", " "), topic["name"]]
                haystack += [r["text"] for r in topic["responses"]] + topic["examples"]
                if not any(needle in " ".join(search_key(text).split()) for text in haystack):
                    continue
            summaries.append(
                {
                    "name": topic["name"],
                    "answer": topic["responses"][0]["text"] if topic["responses"] else "",
                    "examples_count": len(topic["examples"]),
                    "version": topic["version"],
                }
            )
        return summaries

    def example_owners(
        self, skip_topics: Iterable[Text] = (), extra: Optional[Mapping[Text, Sequence[Text]]] = None
    ) -> Dict[Text, Tuple[Text, Text]]:
        """Folded example → (owner intent, example as written) for every NLU file of data/nlu.

        `skip_topics` are left out (the topic being edited); `extra` adds topics not written yet
        (an import), by name.
        """
        owners: Dict[Text, Tuple[Text, Text]] = {}
        skip = {f"faq/{name}" for name in skip_topics}
        nlu_dir = self.settings.data_dir / "nlu"
        for path in sorted(nlu_dir.rglob("*.yml")) if nlu_dir.is_dir() else []:
            try:
                data = self._safe_load(path)
            except (OSError, yaml.YAMLError):
                continue
            items = data.get("nlu") if isinstance(data, Mapping) else None
            for item in items or []:
                if not isinstance(item, Mapping) or "intent" not in item:
                    continue
                intent = str(item["intent"])
                if intent in skip:
                    continue
                for text in parse_examples(item.get("examples")):
                    owners.setdefault(self.folder.folded_words(text), (intent, text))
        for name, examples in (extra or {}).items():
            for text in examples:
                owners.setdefault(self.folder.folded_words(text), (f"faq/{name}", text))
        return owners

    # -- validation ---------------------------------------------------------------------------------
    def check_added_example(self, examples: Sequence[Text], owners: Mapping[Text, Tuple[Text, Text]]) -> None:
        """ValidationFailed (field `text`) when the last of `examples`, the one being added, has a problem."""
        added = f"examples[{len(examples) - 1}]"
        problems = [
            Problem("text", p.message) for p in self.example_problems(examples, owners) if p.field == added
        ]
        if problems:
            raise ValidationFailed(problems)

    def example_problems(
        self, examples: Sequence[Text], owners: Mapping[Text, Tuple[Text, Text]]
    ) -> List[Problem]:
        """Empty, multi-line, too long, repeated or already used by another intent."""
        problems: List[Problem] = []
        seen: Dict[Text, Text] = {}
        for index, text in enumerate(examples):
            where = f"examples[{index}]"
            if not text:
                problems.append(Problem(where, "Câu ví dụ không được để trống."))
                continue
            if "\n" in text or "\r" in text:
                problems.append(Problem(where, "Mỗi câu ví dụ chỉ được viết trên một dòng."))
                continue
            if len(text) > MAX_EXAMPLE_CHARS:
                problems.append(
                    Problem(where, f"Câu ví dụ dài quá {MAX_EXAMPLE_CHARS} ký tự. Vui lòng rút gọn.")
                )
                continue
            key = self.folder.folded_words(text)
            if not key:
                problems.append(Problem(where, f"Câu ví dụ “{text}” cần có ít nhất một chữ hoặc số."))
                continue
            if key in seen:
                first = seen[key]
                if first == text:
                    message = f"Câu ví dụ “{text}” bị lặp lại trong chủ đề này."
                else:
                    message = (
                        f"Câu ví dụ “{text}” trùng với câu “{first}” trong chủ đề này "
                        "(khi bỏ dấu và viết tắt)."
                    )
                problems.append(Problem(where, message))
                continue
            seen[key] = text
            if key in owners:
                owner, written = owners[key]
                same = "" if written == text else f" (trùng với câu “{written}” khi bỏ dấu và viết tắt)"
                problems.append(Problem(where, f"Câu ví dụ “{text}” đã thuộc {_owner_label(owner)}{same}."))
        return problems

    def topic_problems(
        self,
        name: Text,
        responses: Sequence[Mapping[Text, Any]],
        examples: Sequence[Text],
        owners: Mapping[Text, Tuple[Text, Text]],
    ) -> List[Problem]:
        """Every problem of a whole topic (answers, number of examples, each example)."""
        problems = response_problems(responses)
        if len(examples) < MIN_EXAMPLES:
            problems.append(
                Problem(
                    "examples",
                    f"Cần ít nhất {MIN_EXAMPLES} câu ví dụ để bot học được chủ đề này "
                    f"(hiện có {len(examples)} câu).",
                )
            )
        return problems + self.example_problems(examples, owners)

    def name_problems(self, name: Any, field: Text = "name") -> List[Problem]:
        """A malformed or already used topic name."""
        if not isinstance(name, str) or not TOPIC_NAME.match(name):
            return [
                Problem(
                    field,
                    "Tên chủ đề chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng "
                    "một chữ cái, dài 2–50 ký tự (ví dụ: doi_tra_hang).",
                )
            ]
        if self.exists(name):
            return [Problem(field, f"Chủ đề “{name}” đã có. Vui lòng chọn tên khác.")]
        return []

    def check(
        self, name: Text, responses: Any, examples: Any, skip: Iterable[Text] = ()
    ) -> Tuple[List[Dict[Text, Any]], List[Text]]:
        """Cleaned responses and examples of a topic; ValidationFailed listing every problem."""
        responses, examples, problems = clean_input(responses, examples)
        if not problems:
            owners = self.example_owners(skip_topics={name, *skip})
            problems = self.topic_problems(name, responses, examples, owners)
        if problems:
            raise ValidationFailed(problems)
        return responses, examples

    def preview(self, responses: Any) -> List[Dict[Text, Any]]:
        """The chat bubbles for these answers; ValidationFailed when they are not valid."""
        cleaned, _, problems = clean_input(responses, [])
        problems = problems or response_problems(cleaned)
        if problems:
            raise ValidationFailed(problems)
        return preview_messages(cleaned)

    # -- writing ------------------------------------------------------------------------------------
    def _require_version(self, name: Text, version: Any) -> Dict[Text, Any]:
        """The stored topic when it is at `version` (None = any); NotFound or Conflict otherwise."""
        current = self.get_topic(name)
        if version is not None and version != current["version"]:
            raise Conflict(
                current,
                "Chủ đề này vừa được người khác thay đổi. Vui lòng xem nội dung mới nhất rồi sửa lại.",
            )
        return current

    def _load_document(self, name: Text) -> Any:
        """The round-trip document of a topic file."""
        return round_trip_yaml().load(self.path_of(name).read_text(encoding="utf-8"))

    def _write_document(self, path: Path, document: Any) -> None:
        write_atomic(path, dump_yaml(round_trip_yaml(), document))

    def create_topic(self, name: Any, responses: Any, examples: Any) -> Dict[Text, Any]:
        """A new topic file; ValidationFailed when anything is wrong or the name is taken."""
        with WRITE_LOCK:
            problems = self.name_problems(name)
            if problems:
                cleaned_responses, cleaned_examples, shape = clean_input(responses, examples)
                if not shape:
                    skip = {name} if isinstance(name, str) else set()
                    owners = self.example_owners(skip_topics=skip)
                    shape = self.topic_problems(str(name), cleaned_responses, cleaned_examples, owners)
                raise ValidationFailed(problems + shape)
            cleaned_responses, cleaned_examples = self.check(name, responses, examples)
            document = new_topic_document(name, cleaned_responses, cleaned_examples)
            self._write_document(self.path_of(name), document)
            return self.get_topic(name)

    def update_topic(self, name: Text, version: Any, responses: Any, examples: Any) -> Dict[Text, Any]:
        """New answers and examples for a topic at `version`; the rest of the file is kept."""
        with WRITE_LOCK:
            current = self._require_version(name, version)
            cleaned_responses, cleaned_examples = self.check(name, responses, examples)
            if cleaned_responses == current["responses"] and cleaned_examples == current["examples"]:
                return current
            document = self._load_document(name)
            self._apply(document, name, cleaned_responses, cleaned_examples)
            self._write_document(self.path_of(name), document)
            return self.get_topic(name)

    def add_example(self, name: Text, text: Any, version: Any = None) -> Dict[Text, Any]:
        """One more example for a topic (the inbox's "assign to topic"); `version` None = any."""
        with WRITE_LOCK:
            current = self._require_version(name, version)
            text = example_text(text)
            examples = [*current["examples"], text]
            self.check_added_example(examples, self.example_owners(skip_topics={name}))
            document = self._load_document(name)
            item = _intent_item(document, f"faq/{name}")
            item["examples"] = examples_block(examples)
            self._write_document(self.path_of(name), document)
            return self.get_topic(name)

    def rename_topic(self, name: Text, version: Any, new_name: Any) -> Dict[Text, Any]:
        """The topic under a new name: a new file with the same content, then the old one removed."""
        with WRITE_LOCK:
            current = self._require_version(name, version)
            problems = self.name_problems(new_name, "new_name")
            if problems:
                raise ValidationFailed(problems)
            document = self._load_document(name)
            item = _intent_item(document, f"faq/{name}")
            item["intent"] = f"faq/{new_name}"
            answers = document["responses"]
            old_key, new_key = f"utter_faq/{name}", f"utter_faq/{new_name}"
            position = list(answers.keys()).index(old_key)
            value = answers[old_key]
            comment = answers.ca.items.pop(old_key, None)
            del answers[old_key]
            answers.insert(position, new_key, value)
            if comment is not None:
                answers.ca.items[new_key] = comment
            self._write_document(self.path_of(new_name), document)
            self.path_of(name).unlink()
            renamed = self.get_topic(new_name)
            assert renamed["examples"] == current["examples"]
            return renamed

    def delete_topic(self, name: Text, version: Any) -> Dict[Text, Any]:
        """Remove a topic file; returns the topic as it was."""
        with WRITE_LOCK:
            current = self._require_version(name, version)
            self.path_of(name).unlink()
            return current

    def _apply(
        self, document: Any, name: Text, responses: Sequence[Mapping[Text, Any]], examples: Sequence[Text]
    ) -> None:
        """Put answers and examples into a round-trip document, keeping unchanged nodes as they are."""
        item = _intent_item(document, f"faq/{name}")
        if item is None:
            item = CommentedMap()
            item["intent"] = f"faq/{name}"
            document.setdefault("nlu", CommentedSeq()).append(item)
        if parse_examples(item.get("examples")) != list(examples):
            item["examples"] = examples_block(examples)
        answers_map = document.get("responses")
        if answers_map is None:
            answers_map = document["responses"] = CommentedMap()
        key = f"utter_faq/{name}"
        answers = answers_map.get(key)
        if answers is None:
            answers = answers_map[key] = CommentedSeq()
        for index, response in enumerate(responses):
            if index < len(answers):
                if response_json(answers[index]) != response:
                    answers[index] = response_node(response)
            else:
                answers.append(response_node(response))
        del answers[len(responses) :]

    # -- other intents ------------------------------------------------------------------------------
    def intent_file(self, intent: Text) -> Path:
        """The file of a non-FAQ intent in data/nlu (NotFound if none holds it)."""
        for path in sorted((self.settings.data_dir / "nlu").glob("*.yml")):
            data = self._safe_load(path)
            if _intent_item(data, intent) is not None:
                return path
        raise NotFound(f"Không tìm thấy ý định “{intent}”.")

    def add_intent_example(self, intent: Text, text: Any) -> Dict[Text, Any]:
        """One more example for a non-FAQ intent (the inbox's "out of scope"); its examples back."""
        with WRITE_LOCK:
            path = self.intent_file(intent)
            text = example_text(text)
            document = round_trip_yaml().load(path.read_text(encoding="utf-8"))
            item = _intent_item(document, intent)
            examples = [*parse_examples(item.get("examples")), text]
            owners = self.example_owners()
            self.check_added_example(
                examples, {key: owner for key, owner in owners.items() if owner[0] != intent}
            )
            item["examples"] = examples_block(examples)
            write_atomic(path, dump_yaml(round_trip_yaml(), document))
            return {"intent": intent, "examples": examples}

    def add_out_of_scope_example(self, text: Any) -> Dict[Text, Any]:
        """One more example for `out_of_scope` (data/nlu/out_of_scope.yml)."""
        return self.add_intent_example(OUT_OF_SCOPE_INTENT, text)

    # -- restoring (undo, import) -------------------------------------------------------------------
    def write_topic(
        self, name: Text, responses: Sequence[Mapping[Text, Any]], examples: Sequence[Text]
    ) -> Dict[Text, Any]:
        """Write already validated answers and examples (an import checks the whole sheet first)."""
        with WRITE_LOCK:
            if self.exists(name):
                document = self._load_document(name)
                self._apply(document, name, responses, examples)
            else:
                document = new_topic_document(name, responses, examples)
            self._write_document(self.path_of(name), document)
            return self.get_topic(name)

    def put_topic(self, topic: Mapping[Text, Any]) -> Dict[Text, Any]:
        """Create or overwrite a topic with these answers and examples (validated, no version check)."""
        with WRITE_LOCK:
            name = topic["name"]
            current = self.find(name)
            if current is None:
                return self.create_topic(name, topic["responses"], topic["examples"])
            return self.update_topic(name, current["version"], topic["responses"], topic["examples"])
