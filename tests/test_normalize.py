import pytest

from model import NormalizerConfig, normalize

OFF = NormalizerConfig(**{name: False for name in NormalizerConfig().to_dict()})


def only(**switches) -> NormalizerConfig:
    return NormalizerConfig(**{**OFF.to_dict(), **switches})


@pytest.mark.parametrize("rule, raw, expected", [
    ("remove_diacritics", "مُحَمَّدٌ", "محمد"),
    ("remove_diacritics", "السَّلَامُ عَلَيْكُمْ", "السلام عليكم"),
    ("remove_tatweel", "الســـــلام", "السلام"),
    ("unify_alef", "أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),
    ("alef_maqsura_to_ya", "مصطفى على", "مصطفي علي"),
    ("taa_marbuta_to_ha", "مدرسة جميلة", "مدرسه جميله"),
    ("arabic_indic_digits", "عام ٢٠١٨ و۱۴", "عام 2018 و14"),
    ("strip_html", "<p>وزير <b>الدفاع</b></p> &amp; الأمن", "وزير الدفاع & الأمن"),
    ("strip_urls", "المصدر: https://www.bbc.co.uk/arabic/world-43193332 اليوم", "المصدر: اليوم"),
    ("collapse_whitespace", "  كلمة \t\u00a0 أخرى \n\n\n سطر  ", "كلمة أخرى\nسطر"),
])
def test_each_rule_alone(rule, raw, expected):
    out = normalize(raw, only(**{rule: True, "collapse_whitespace": rule in ("collapse_whitespace", "strip_html",
                                                                             "strip_urls")}))
    assert out == expected


def test_rules_are_switchable():
    text = "أَحْمَد"
    assert normalize(text, OFF) == text
    assert normalize(text, only(remove_diacritics=True)) == "أحمد"
    assert normalize(text, only(remove_diacritics=True, unify_alef=True)) == "احمد"


def test_defaults_keep_taa_marbuta():
    assert normalize("مدرسة") == "مدرسة"


def test_settings_round_trip_and_reject_unknown():
    config = NormalizerConfig(taa_marbuta_to_ha=True)
    assert NormalizerConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown normalisation settings: shout"):
        NormalizerConfig.from_dict({"shout": True})
