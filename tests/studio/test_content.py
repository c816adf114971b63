"""studio.content on a temporary copy of the project's data: reading, validation, writing."""

import shutil
from pathlib import Path

import pytest

from studio.content import (
    Conflict,
    FaqContent,
    NotFound,
    Problem,
    ValidationFailed,
    version_of,
)
from studio.models import training_examples
from studio.settings import PROJECT_ROOT, StudioSettings

EXAMPLES = [f"mình muốn hỏi về quà tặng số {n} của SenMart" for n in range(12)]
ANSWER = [{"text": "SenMart tặng quà cho đơn đầu tiên bạn nhé.", "buttons": []}]


@pytest.fixture()
def content(tmp_path) -> FaqContent:
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    return FaqContent(StudioSettings(content_dir=tmp_path))


def problems_of(call, *args):
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.problems


def test_list_and_search_topics(content):
    names = [t["name"] for t in content.list_topics()]
    assert names == sorted(p.stem for p in (PROJECT_ROOT / "data/nlu/faq").glob("*.yml"))
    found = content.list_topics("PHÍ SHIP")
    # the two topics about shipping fees, and any other whose examples mention one (sorted by name)
    assert [t["name"] for t in found] == sorted(t["name"] for t in found)
    assert {"return_shipping_fee", "shipping_fee"} <= {t["name"] for t in found}
    found = [t for t in found if t["name"] in ("return_shipping_fee", "shipping_fee")]
    assert found[1]["answer"] == (
        "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ. Đơn từ 300.000đ được miễn phí giao hàng "
        "tiêu chuẩn nhé bạn."
    )
    assert found[1]["examples_count"] == len(content.get_topic("shipping_fee")["examples"]) >= 12
    assert found[1]["version"] == content.get_topic("shipping_fee")["version"]
    assert [t["name"] for t in content.list_topics("senpay ekyc")] == ["senpay_ekyc"]
    assert content.list_topics("xyz không có chủ đề này") == []
    assert [t["name"] for t in content.list_topics("senpay_ekyc")] == ["senpay_ekyc"]


def test_get_topic_shape_and_version(content):
    topic = content.get_topic("account_locked")
    assert list(topic) == ["name", "responses", "examples", "version"]
    assert topic["responses"] == [
        {
            "text": "Nếu nhập sai mật khẩu 5 lần, tài khoản sẽ bị khóa tạm 30 phút, sau đó tự mở. Bạn vui "
            "lòng đợi hết 30 phút rồi đăng nhập lại nhé.",
            "buttons": [],
        }
    ]
    assert topic["examples"][0] == "tài khoản của mình bị khóa"
    assert len(topic["examples"]) == len(training_examples(PROJECT_ROOT)["faq/account_locked"]) >= 12
    assert topic["version"] == version_of(topic) and len(topic["version"]) == 16
    with pytest.raises(NotFound) as caught:
        content.get_topic("khong_co")
    assert caught.value.message == "Không tìm thấy chủ đề “khong_co”."


def test_new_topic_file_looks_like_the_others(content):
    buttons = [{"title": "Gặp nhân viên", "payload": "/request_human"}]
    topic = content.create_topic(
        "qua_tang", [{"text": 'Quà "đặc biệt" cho bạn.', "buttons": buttons}], EXAMPLES
    )
    assert topic["name"] == "qua_tang" and topic["examples"] == EXAMPLES
    lines = "".join(f"    - {text}\n" for text in EXAMPLES)
    assert (content.faq_dir / "qua_tang.yml").read_text(encoding="utf-8") == (
        'version: "3.1"\nnlu:\n- intent: faq/qua_tang\n  examples: |\n'
        + lines
        + "responses:\n  utter_faq/qua_tang:\n"
        + '  - text: "Quà \\"đặc biệt\\" cho bạn."\n'
        + '    buttons:\n    - title: "Gặp nhân viên"\n      payload: "/request_human"\n'
    )
    assert [p.name for p in content.faq_dir.iterdir() if p.name.startswith(".")] == []


def test_validation_messages(content):
    taken = content.get_topic("account_locked")["examples"][11]  # "tk bị khóa r ad ơi"
    examples = [
        *EXAMPLES[:9],
        "mình muốn hỏi về quà tặng số 1 của SenMart",
        "Mình muốn hỏi về quà tặng số 2 của senmart",
        taken,
        "tai khoan cua minh bi khoa",
    ]
    responses = [
        {"text": "", "buttons": []},
        {"text": "Xem <b>tại đây</b>", "buttons": [{"title": "", "payload": "/x"}]},
        {"text": "Giá &amp; phí"},
        {"text": "a" * 2001, "buttons": [{"title": "Gọi", "payload": ""}]},
    ]
    problems = problems_of(content.create_topic, "Qua-Tang", responses, examples)
    html = (
        "Câu trả lời không được chứa mã HTML (thẻ <…> hay ký tự dạng &…;). Vui lòng viết nội dung "
        "bằng chữ thường."
    )
    assert problems == [
        Problem(
            "name",
            "Tên chủ đề chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng một chữ cái, "
            "dài 2–50 ký tự (ví dụ: doi_tra_hang).",
        ),
        Problem("responses[0].text", "Câu trả lời không được để trống."),
        Problem("responses[1].text", html),
        Problem("responses[1].buttons[0].title", "Nút bấm cần có tiêu đề."),
        Problem("responses[2].text", html),
        Problem(
            "responses[3].text",
            "Câu trả lời dài 2001 ký tự, vượt quá giới hạn 2000 ký tự. Vui lòng rút gọn.",
        ),
        Problem("responses[3].buttons[0].payload", "Nút bấm cần có nội dung gửi đi (payload)."),
        Problem(
            "examples[9]",
            "Câu ví dụ “mình muốn hỏi về quà tặng số 1 của SenMart” bị lặp lại trong chủ đề này.",
        ),
        Problem(
            "examples[10]",
            "Câu ví dụ “Mình muốn hỏi về quà tặng số 2 của senmart” trùng với câu “mình muốn hỏi về quà "
            "tặng số 2 của SenMart” trong chủ đề này (khi bỏ dấu và viết tắt).",
        ),
        Problem("examples[11]", "Câu ví dụ “tk bị khóa r ad ơi” đã thuộc chủ đề “account_locked”."),
        Problem(
            "examples[12]",
            "Câu ví dụ “tai khoan cua minh bi khoa” đã thuộc chủ đề “account_locked” (trùng với câu "
            "“tài khoản của mình bị khóa” khi bỏ dấu và viết tắt).",
        ),
    ]
    assert not (content.faq_dir / "Qua-Tang.yml").exists()


def test_too_few_examples_teencode_and_other_intents(content):
    examples = [*EXAMPLES[:10], "ko đc thì sao", "Chào shop"]
    content_dir = content.settings.data_dir / "nlu"
    (content_dir / "greet.yml").read_text(encoding="utf-8").index("- chào shop\n")
    assert problems_of(content.create_topic, "qua_tang", ANSWER, examples[:11]) == [
        Problem("examples", "Cần ít nhất 12 câu ví dụ để bot học được chủ đề này (hiện có 11 câu).")
    ]
    problems = problems_of(content.create_topic, "qua_tang", ANSWER, [*examples, "không được thì sao"])
    assert problems == [
        Problem(
            "examples[11]",
            "Câu ví dụ “Chào shop” đã thuộc ý định “greet” "
            "(trùng với câu “chào shop” khi bỏ dấu và viết tắt).",
        ),
        Problem(
            "examples[12]",
            "Câu ví dụ “không được thì sao” trùng với câu “ko đc thì sao” trong chủ đề này "
            "(khi bỏ dấu và viết tắt).",
        ),
    ]


def test_existing_name_is_refused(content):
    assert problems_of(content.create_topic, "hotline", ANSWER, EXAMPLES) == [
        Problem("name", "Chủ đề “hotline” đã có. Vui lòng chọn tên khác.")
    ]


def test_update_with_a_stale_version_is_a_conflict(content):
    topic = content.get_topic("hotline")
    first = content.update_topic("hotline", topic["version"], ANSWER, topic["examples"])
    assert first["responses"] == ANSWER and first["version"] != topic["version"]
    with pytest.raises(Conflict) as caught:
        content.update_topic("hotline", topic["version"], [{"text": "Khác"}], topic["examples"])
    assert caught.value.current == first
    assert caught.value.message == (
        "Chủ đề này vừa được người khác thay đổi. Vui lòng xem nội dung mới nhất rồi sửa lại."
    )
    assert content.get_topic("hotline") == first


def test_update_keeps_comments_and_the_rest_of_the_file(content):
    path = content.path_of("zalo")
    original = path.read_text(encoding="utf-8")
    edited = original.replace("nlu:\n", "# Chủ đề Zalo — do chị Hoa phụ trách\nnlu:\n", 1)
    edited += "# cuối tệp: đừng xóa dòng này\n"
    path.write_text(edited, encoding="utf-8")
    topic = content.get_topic("zalo")
    updated = content.update_topic(
        "zalo", topic["version"], topic["responses"], [*topic["examples"], "zalo oa của shop tên gì"]
    )
    text = path.read_text(encoding="utf-8")
    last = f"    - {topic['examples'][-1]}\n"
    assert text == edited.replace(last, last + "    - zalo oa của shop tên gì\n")
    assert updated["examples"][-1] == "zalo oa của shop tên gì"


def test_rename_moves_the_file(content):
    topic = content.get_topic("zalo")
    renamed = content.rename_topic("zalo", topic["version"], "zalo_oa")
    assert not content.path_of("zalo").exists()
    assert renamed["examples"] == topic["examples"] and renamed["responses"] == topic["responses"]
    text = content.path_of("zalo_oa").read_text(encoding="utf-8")
    assert "- intent: faq/zalo_oa\n" in text and "  utter_faq/zalo_oa:\n" in text and "faq/zalo\n" not in text
    assert problems_of(content.rename_topic, "zalo_oa", renamed["version"], "hotline") == [
        Problem("new_name", "Chủ đề “hotline” đã có. Vui lòng chọn tên khác.")
    ]


def test_add_example_and_out_of_scope(content):
    topic = content.add_example("hotline", "  tổng đài có số nào khác không  ")
    assert topic["examples"][-1] == "tổng đài có số nào khác không"
    assert problems_of(content.add_example, "hotline", "tong dai co so nao khac khong") == [
        Problem(
            "text",
            "Câu ví dụ “tong dai co so nao khac khong” trùng với câu “tổng đài có số nào khác không” "
            "trong chủ đề này (khi bỏ dấu và viết tắt).",
        )
    ]
    assert problems_of(content.add_out_of_scope_example, "tổng đài có số nào khác không") == [
        Problem("text", "Câu ví dụ “tổng đài có số nào khác không” đã thuộc chủ đề “hotline”.")
    ]
    result = content.add_out_of_scope_example("giá vàng hôm nay bao nhiêu")
    assert result["intent"] == "out_of_scope" and result["examples"][-1] == "giá vàng hôm nay bao nhiêu"
    text = (content.settings.data_dir / "nlu/out_of_scope.yml").read_text(encoding="utf-8")
    original = (PROJECT_ROOT / "data/nlu/out_of_scope.yml").read_text(encoding="utf-8")
    assert text == original + "    - giá vàng hôm nay bao nhiêu\n"


def test_delete_and_preview(content):
    topic = content.get_topic("zalo")
    with pytest.raises(Conflict):
        content.delete_topic("zalo", "0" * 16)
    assert content.delete_topic("zalo", topic["version"]) == topic
    assert not Path(content.path_of("zalo")).exists()
    buttons = [{"title": "Gặp nhân viên", "payload": "/request_human"}]
    assert content.preview([{"text": " Xin chào ", "buttons": buttons}, {"text": "Bạn cần gì?"}]) == [
        {"text": "Xin chào", "buttons": buttons},
        {"text": "Bạn cần gì?"},
    ]
    assert problems_of(content.preview, [{"text": "<script>x</script>"}])[0].field == "responses[0].text"
