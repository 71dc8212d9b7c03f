"""Korean that reads as Korean: particles chosen for the value, and the glossary's rules over the ko catalogue.

The rules and the words they guard are in cnnlib/locales/ko/GLOSSARY.md.
"""

import re

import pytest

from cnnlib import text
from cnnlib.text import PARTICLES, catalogue, fill, korean_particle, t

KOREAN = catalogue(text.KOREAN)
CODE_SPAN = re.compile(r"`[^`]*`")
CLOSERS = "*`'\"’”"  # what may stand between a placeholder and its particle
PAIR = "|".join(re.escape(pair) for pair in PARTICLES)
# A particle written out right after a placeholder (not as a pair): 을, 를, …, a lone 이, 이라는 / 라고, 으로 / 로.
FIXED_PARTICLE = re.compile(r"\}[" + CLOSERS + r"]*(?!" + PAIR + r")(?:[을를은는과와가]|이(?![가-힣])|이?라[는고]|으?로)")
PAIR_AFTER_PLACEHOLDER = re.compile(r"\}[" + CLOSERS + r"]*(?:" + PAIR + r")")

# Words the glossary settled against, each with the word to use instead.
FORBIDDEN = {
    "네트워크": "신경망 (or 인터넷 for a computer network)",
    "감쇠": "코사인 감소",
    "장난감": "간단한 합성곱 예제",
    "예산": "허용 범위 ε",
    "우연 수준": "무작위 추측 수준",
    "숫자 값": "값 (숫자 is a digit 0-9)",
    "숫자값": "값 (숫자 is a digit 0-9)",
    "풀링 맵": "풀링된 맵",
    "풀링 출력": "풀링된 맵",
    "dense 층": "완전 연결 층",
    "He-normal 초기화": "He 초기화",
    "돌출 맵": "살리언시 맵",
    "창 크기": "윈도우 크기",
    "잃": "확률이 떨어집니다 / 낮아집니다",
    "그래디언트": "기울기",
    "바이어스": "편향",
}


@pytest.mark.parametrize(("word", "pair", "particle"), [
    ("모델", "을(를)", "을"),  # 델 ends in ㄹ
    ("신경망", "을(를)", "을"),
    ("필터", "을(를)", "를"),
    ("모델", "(으)로", "로"),  # ㄹ takes 로
    ("신경망", "(으)로", "으로"),
    ("필터", "(으)로", "로"),
    ("층", "이(가)", "이"),
    ("채널", "은(는)", "은"),
    ("이미지", "과(와)", "와"),
    ("7", "(으)로", "로"),  # 칠
    ("3", "(으)로", "으로"),  # 삼
    ("1", "(으)로", "로"),  # 일
    ("8", "(으)로", "로"),  # 팔
    ("6", "(으)로", "으로"),  # 육
    ("2", "을(를)", "를"),  # 이
    ("9", "이(가)", "가"),  # 구
    ("0", "이(가)", "이"),  # 영
    ("10", "을(를)", "을"),  # 십
    ("20", "(으)로", "으로"),  # 이십
    ("100", "은(는)", "은"),  # 백
    ("5,000", "이(가)", "이"),  # 오천
    ("60000", "과(와)", "과"),  # 육만
    ("12", "이(가)", "가"),  # 십이
    ("0.25", "이(가)", "가"),  # 영 점 이오
    ("1.0", "은(는)", "은"),  # 일 점 영
    ("97.5%", "(으)로", "로"),  # 퍼센트
    ("-16", "을(를)", "을"),  # 마이너스 십육
    ("conv1", "을(를)", "을"),  # …일
    ("conv2", "을(를)", "를"),  # …이
    ("model.keras", "을(를)", "를"),  # 케라스
    ("model", "이(가)", "이"),
    ("model", "(으)로", "로"),
    ("input", "을(를)", "을"),  # 인풋
    ("dropout", "이(가)", "이"),  # 드롭아웃
    ("relu", "를", None),
    ("CNN", "이(가)", "이"),  # 씨엔엔
    ("GPU", "이(가)", "가"),  # 지피유
    ("URL", "(으)로", "로"),  # 유알엘
    ("x", "은(는)", "는"),  # 엑스
    ("--train-limit", "은(는)", "은"),  # 리밋
    ('"7"', "(으)로", "로"),
    ("'3'", "(으)로", "으로"),
    ("(None, 28, 28, 1)", "이(가)", "이"),
    ("x_train[5000]", "을(를)", "을"),
    ("'keras'", "(이)", ""),  # 'keras'라는
    ("'모델'", "(이)", "이"),  # '모델'이라는
    ("→", "을(를)", "을(를)"),  # unsure: the written pair stays
    ("", "이(가)", "이(가)"),
])
def test_the_particle_follows_the_last_sound_of_the_value(word, pair, particle):
    if particle is None:  # a fixed particle is not a pair
        with pytest.raises(KeyError):
            korean_particle(word, pair)
    else:
        assert korean_particle(word, pair) == particle


def test_fill_picks_the_particle_after_each_placeholder_and_formats_like_str_format():
    values = {"a": "conv2", "b": 0.5, "c": 7, "d": "x"}
    assert fill("{a}을(를) {b:.1%}(으)로 **{c}**(으)로 {d!r}(이)라고", values) == "conv2를 50.0%로 **7**로 'x'라고"
    values = {"x": 1, "width": 3, "y": 5000}
    assert fill("{x:{width}} {y:,}", values) == "{x:{width}} {y:,}".format(**values)


def test_a_pair_not_right_after_a_placeholder_is_left_alone():
    assert fill("{{x}}을(를) {y}, 모델을(를)", {"y": 2}) == "{x}을(를) 2, 모델을(를)"


def test_korean_sentences_get_their_particles(monkeypatch):
    monkeypatch.setattr(text, "_language_resolver", lambda: text.KOREAN)
    assert t("why.answer.prediction", model="conv1", digit=7, probability=0.9).startswith(
        "모델 **conv1**은 내 숫자를 **7**로 봅니다.")
    assert t("why.answer.prediction", model="빠른 모델", digit=3, probability=0.9).startswith(
        "모델 **빠른 모델**은 내 숫자를 **3**으로 봅니다.")
    assert t("train.diagnosis.reason.dead", digits="3, 5").startswith("숫자 3, 5를 한 번도")
    assert t("why.nudge.already", target=2) == "신경망은 이미 2라고 답합니다."
    assert t("why.nudge.already", target=1) == "신경망은 이미 1이라고 답합니다."


@pytest.mark.parametrize("key", sorted(KOREAN))
def test_no_fixed_particle_follows_a_placeholder(key):
    assert not FIXED_PARTICLE.search(KOREAN[key]), f"{key}: write the pair, e.g. {{x}}을(를), {{x}}(으)로"


@pytest.mark.parametrize("key", sorted(KOREAN))
def test_every_particle_pair_follows_a_placeholder(key):
    entry = KOREAN[key]
    pairs = len(re.findall(PAIR, entry))
    assert pairs == len(PAIR_AFTER_PLACEHOLDER.findall(entry)), f"{key}: a pair not after a placeholder is shown as is"


@pytest.mark.parametrize("key", sorted(KOREAN))
def test_no_semicolon_outside_code(key):
    prose = CODE_SPAN.sub("", KOREAN[key])
    assert ";" not in prose and "；" not in prose, f"{key}: end the sentence with a full stop instead"


@pytest.mark.parametrize("key", sorted(KOREAN))
def test_questions_are_polite(key):
    assert not re.search(r"[^요]\?", CODE_SPAN.sub("", KOREAN[key])), f"{key}: ask in 합니다체, e.g. …을까요?"


@pytest.mark.parametrize("word", sorted(FORBIDDEN))
def test_the_glossary_words_hold(word):
    offenders = sorted(key for key, entry in KOREAN.items() if word in entry)
    assert not offenders, f"{word!r} in {offenders}: write {FORBIDDEN[word]}"


def ends_in_punctuation(bold: str) -> bool:
    """Whether bold text ends in punctuation as shown: a mark, or a placeholder formatted as a percentage."""
    return bold.endswith("%}") or not (bold[-1:].isalnum() or bold.endswith("}"))


def test_bold_ends_where_markdown_can_close_it():
    """CommonMark closes ``**`` after punctuation only before a space or punctuation: ``**93.6%**입니다`` shows its
    asterisks, so such a sentence puts the particle or 입니다 elsewhere."""
    unclosed = []
    for key, entry in KOREAN.items():
        parts = CODE_SPAN.sub("", entry).split("**")
        unclosed += [key for bold, after in zip(parts[1::2], parts[2::2])
                     if ends_in_punctuation(bold) and after[:1].isalnum()]
    assert not unclosed, unclosed
