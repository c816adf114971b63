"""The held-out evaluation reads the classifiers' label, not AnswerGuard's fallback."""

from evaluation.heldout import classifier_parse

RANKING = [{"name": "nlu_fallback", "confidence": 0.8}, {"name": "faq", "confidence": 0.2}]


def test_classifier_parse_undoes_the_guards_fallback():
    guarded = {"intent": RANKING[0], "intent_ranking": RANKING, "answer_guard": {"decision": "clarify"}}
    assert classifier_parse(guarded)["intent"] == {"name": "faq", "confidence": 0.2}


def test_classifier_parse_keeps_other_parses():
    answered = {"intent": {"name": "greet", "confidence": 0.9}, "answer_guard": {"decision": "answer"}}
    assert classifier_parse(answered) is answered
    plain = {"intent": RANKING[0], "intent_ranking": RANKING}  # a fallback the guard did not make
    assert classifier_parse(plain)["intent"]["name"] == "nlu_fallback"
