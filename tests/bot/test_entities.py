"""Rule entity extractor (spaCy Matcher): entity, normalised value and exact span."""

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import DEFAULT_PROMOTIONS_FILE, EntityMatcher, RuleEntityExtractor, load_promotion_names


@pytest.fixture(scope="module")
def matcher():
    return EntityMatcher(load_promotion_names(DEFAULT_PROMOTIONS_FILE))


def found(matcher, text):
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in matcher.extract(text)]


CASES = [
    # money
    ("đơn 450k dùng được không", [("money", 450_000, "450k")]),
    ("đơn 450 nghìn thì sao?", [("money", 450_000, "450 nghìn")]),
    ("don 450 nghin thi sao", [("money", 450_000, "450 nghin")]),
    ("mua 1tr5 được giảm bn", [("money", 1_500_000, "1tr5")]),
    ("tầm 1 triệu rưỡi", [("money", 1_500_000, "1 triệu rưỡi")]),
    ("đơn 600.000đ.", [("money", 600_000, "600.000đ")]),
    ("tổng 2 triệu", [("money", 2_000_000, "2 triệu")]),
    ("đơn 1.500.000 đ thì sao", [("money", 1_500_000, "1.500.000 đ")]),
    ("còn 300 ngàn thì sao", [("money", 300_000, "300 ngàn")]),
    ("(600k)", [("money", 600_000, "600k")]),
    ("1,5 triệu nhé", [("money", 1_500_000, "1,5 triệu")]),
    ("giá 20000", [("money", 20_000, "20000")]),
    ("đơn 1 triệu 200 nghìn", [("money", 1_200_000, "1 triệu 200 nghìn")]),
    ("hotline 1900 6868", []),
    # promotion codes
    ("Cho tôi hỏi mã GIAM50K", [("promo_code", "GIAM50K", "GIAM50K")]),
    ("giam50k con dung dc ko", [("promo_code", "GIAM50K", "giam50k")]),
    (
        "dùng GIAM50K+FREESHIP dc k",
        [("promo_code", "GIAM50K", "GIAM50K"), ("promo_code", "FREESHIP", "FREESHIP")],
    ),
    (
        "GIAM50K với GIAM10 được không",
        [("promo_code", "GIAM50K", "GIAM50K"), ("promo_code", "GIAM10", "GIAM10")],
    ),
    ("mã hoan10 hoàn bao nhiêu", [("promo_code", "HOAN10", "hoan10")]),
    ("mã ABC123 còn dùng được không", [("promo_code", "ABC123", "ABC123")]),
    ("mã gì đang có", []),
    ("SINHNHAT dùng khi nào", [("promo_code", "SINHNHAT", "SINHNHAT")]),
    # order and ticket ids
    ("đơn SM12345678 của tôi", [("order_id", "SM12345678", "SM12345678")]),
    ("don sm87654321 dau r", [("order_id", "SM87654321", "sm87654321")]),
    ("SM1234567 sai", []),
    ("kiểm tra khiếu nại KN-20261122-0042", [("ticket_id", "KN-20261122-0042", "KN-20261122-0042")]),
    ("kn-20261122-0042?", [("ticket_id", "KN-20261122-0042", "kn-20261122-0042")]),
    # phones and emails
    ("sdt 0912345678", [("phone", "0912345678", "0912345678")]),
    ("số mình 0912 345 678", [("phone", "0912345678", "0912 345 678")]),
    ("gọi +84 912 345 678", [("phone", "0912345678", "+84 912 345 678")]),
    ("0912.345.678 nhé", [("phone", "0912345678", "0912.345.678")]),
    ("email Lan.Nguyen@gmail.com", [("email", "lan.nguyen@gmail.com", "Lan.Nguyen@gmail.com")]),
    # tiers
    ("mình hạng bạc", [("member_tier", "Bạc", "hạng bạc")]),
    ("minh hang vang", [("member_tier", "Vàng", "hang vang")]),
    ("thành viên Kim Cương", [("member_tier", "Kim Cương", "thành viên Kim Cương")]),
    ("mình là vàng", [("member_tier", "Vàng", "vàng")]),
    ("hạng Đồng dùng được không", [("member_tier", "Đồng", "hạng Đồng")]),
    ("500 nghìn đồng", [("money", 500_000, "500 nghìn đồng")]),
    # payment methods
    ("thanh toán bằng ví SenPay", [("payment_method", "senpay", "ví SenPay")]),
    ("tra qua momo", [("payment_method", "momo", "momo")]),
    ("thanh toan khi nhan hang", [("payment_method", "cod", "thanh toan khi nhan hang")]),
    ("quẹt thẻ Visa", [("payment_method", "card", "thẻ Visa")]),
    ("trả bằng visa", [("payment_method", "card", "visa")]),
    ("chuyển khoản nhé", [("payment_method", "vietqr", "chuyển khoản")]),
    ("zalopay", [("payment_method", "zalopay", "zalopay")]),
    ("trả bằng tiền mặt", [("payment_method", "cod", "tiền mặt")]),
    ("tra tien mat", [("payment_method", "cod", "tien mat")]),
    ("hoàn tiền mất bao lâu", []),
    # several at once
    (
        "mình hạng Kim Cương, trả bằng SenPay, đơn 600.000đ dùng GIAM10",
        [
            ("member_tier", "Kim Cương", "hạng Kim Cương"),
            ("payment_method", "senpay", "SenPay"),
            ("money", 600_000, "600.000đ"),
            ("promo_code", "GIAM10", "GIAM10"),
        ],
    ),
    # CSAT ratings
    ("5 sao", [("rating", 5, "5 sao")]),
    ("cho 4* nhé", [("rating", 4, "4*")]),
    ("⭐⭐⭐", [("rating", 3, "⭐⭐⭐")]),
    ("2/5 thôi", [("rating", 2, "2/5")]),
    ("", []),
    ("😀😀", []),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_extracts(matcher, text, expected):
    assert found(matcher, text) == expected


def test_component_adds_entities_with_extractor_name():
    component = RuleEntityExtractor({**RuleEntityExtractor.get_default_config()})
    message = Message({TEXT: "đơn 600k dùng GIAM50K"})
    component.process([message])
    entities = message.get(ENTITIES)
    assert [(e["entity"], e["value"], e["extractor"]) for e in entities] == [
        ("money", 600_000, "RuleEntityExtractor"),
        ("promo_code", "GIAM50K", "RuleEntityExtractor"),
    ]


def test_component_dimensions_filter():
    component = RuleEntityExtractor({**RuleEntityExtractor.get_default_config(), "dimensions": ["money"]})
    message = Message({TEXT: "đơn 600k dùng GIAM50K"})
    component.process([message])
    assert [e["entity"] for e in message.get(ENTITIES)] == ["money"]
