"""Arabic text normalisation, saved with every checkpoint and applied identically at predict time.

Each rule is a switch in `NormalizerConfig`; the defaults suit news topic classification, where spelling
variants of the same word (أ/إ/آ/ا, ى/ي, ة/ه) and diacritics carry no topic signal.
"""
from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, fields

DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
TATWEEL = "\u0640"
ALEF_VARIANTS = re.compile("[\u0622\u0623\u0625\u0671]")  # آ أ إ ٱ -> ا
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
HTML_TAG = re.compile(r"<[^>\n]{1,200}>")
URL = re.compile(r"(?:https?://|www\.)\S+")
SPACES = re.compile(r"[ \t\u00a0\u200b-\u200f]+")
BLANK_LINES = re.compile(r"\s*\n\s*")


@dataclass(frozen=True)
class NormalizerConfig:
    remove_diacritics: bool = True
    remove_tatweel: bool = True
    unify_alef: bool = True
    alef_maqsura_to_ya: bool = True
    taa_marbuta_to_ha: bool = False  # off by default: ة/ه distinguishes real words (مدرسة / مدرسه)
    arabic_indic_digits: bool = True
    strip_html: bool = True
    strip_urls: bool = True
    collapse_whitespace: bool = True

    @classmethod
    def from_dict(cls, data: dict | None) -> "NormalizerConfig":
        data = data or {}
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown normalisation settings: {', '.join(sorted(unknown))}")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


def normalize(text: str, config: NormalizerConfig = NormalizerConfig()) -> str:
    """Apply the switched-on rules until the text stops changing, so that normalising twice changes nothing:
    one rule can expose work for another ("&amp;lt;b&amp;gt;" unescapes to "&lt;b&gt;", then to a tag).
    A pass that changes the text shortens it, apart from the one-to-one letter rules, which are done in the
    first pass; so the loop ends, after two passes for ordinary text."""
    while True:
        again = _normalize_once(text, config)
        if again == text:
            return again
        text = again


def _normalize_once(text: str, config: NormalizerConfig) -> str:
    if config.strip_html:
        text = html.unescape(HTML_TAG.sub(" ", text))
    if config.strip_urls:
        text = URL.sub(" ", text)
    if config.remove_diacritics:
        text = DIACRITICS.sub("", text)
    if config.remove_tatweel:
        text = text.replace(TATWEEL, "")
    if config.unify_alef:
        text = ALEF_VARIANTS.sub("\u0627", text)
    if config.alef_maqsura_to_ya:
        text = text.replace("\u0649", "\u064a")
    if config.taa_marbuta_to_ha:
        text = text.replace("\u0629", "\u0647")
    if config.arabic_indic_digits:
        text = text.translate(DIGITS)
    if config.collapse_whitespace:
        text = BLANK_LINES.sub("\n", SPACES.sub(" ", text)).strip()
    return text
