"""The phoneme-to-viseme table covers what espeak-ng says in every language."""

from __future__ import annotations

import pytest

from podium import speech
from podium.lipsync.visemes import base_letters, visemes_for

# Numbers are read in each voice's own language, so they yield native phonemes
# in every one of espeak's languages without needing 100+ sample texts.
NUMBERS = "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 30 40 50 60 70 80 90 100 1000"
SAMPLES = {
    "en-us": "The quick brown fox jumps over the lazy dog; thin, then, measure, church, judge.",
    "de": "Größere Übungen machen zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich.",
    "fr": "Portez ce vieux whisky au juge blond qui fume; œuvre, huître, peu.",
    "es": "El veloz murciélago hindú comía feliz cardillo y kiwi; la cigüeña tocaba el saxofón.",
    "ru": "Съешь же ещё этих мягких французских булок да выпей чаю.",
    "cmn": "我能吞下玻璃而不伤身体。",
    "ja": "いろはにほへと ちりぬるを わかよたれそ つねならむ",
    "ar": "نص حكيم له سر قاطع وذو شأن عظيم",
    "hi": "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले",
    "vi": "Tôi có thể ăn thủy tinh mà không hại gì.",
}


def test_every_voice_maps_every_phoneme():
    unknown: dict[str, set[str]] = {}
    voices = speech.list_voices()
    assert len(voices) > 100
    for voice in voices:
        text = SAMPLES.get(voice.id, NUMBERS + ". " + SAMPLES["en-us"][:40])
        for symbol in speech.ipa_phonemes(text, voice=voice.id):
            try:
                visemes_for(symbol)
            except KeyError as exc:
                unknown.setdefault(str(exc), set()).add(f"{voice.id}:{symbol}")
    assert not unknown, f"phoneme letters with no viseme: {unknown}"


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_sample_languages_give_mouth_shapes(lang):
    symbols = speech.ipa_phonemes(SAMPLES[lang], voice=lang)
    vis = [v for s in symbols for v in visemes_for(s)]
    assert len(vis) > 10
    assert any(v.openness >= 0.7 for v in vis), "no open vowel at all"
    assert any(v.openness <= 0.2 for v in vis), "no near-closed consonant at all"


def test_articulation_classes():
    closed = [visemes_for(s)[0] for s in ("p", "b", "m", "pʰ", "bː")]
    assert all(v.closure and v.openness == 0 for v in closed)
    assert not visemes_for("t")[0].closure
    assert visemes_for("u")[0].spread < -0.5 and visemes_for("i")[0].spread > 0.5
    assert visemes_for("a")[0].openness > visemes_for("e")[0].openness > visemes_for("i")[0].openness
    assert [v.name for v in visemes_for("aɪ")] == [visemes_for("a")[0].name, visemes_for("ɪ")[0].name]
    assert base_letters("ˈoːʊ̯") == ["o", "ʊ"]
    assert visemes_for("ˈ") == [] and visemes_for("˥˩") == []
    with pytest.raises(KeyError):
        visemes_for("☃")
