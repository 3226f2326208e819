"""Script markup (pronunciations, rate spans, SSML), the lexicon, and how numbers, dates
and abbreviations are read in English, German, French and Spanish."""

from __future__ import annotations

import pytest
from conftest import run_cli

from podium.common.errors import ScriptError, UserInputError
from podium.speech import FAST_VOICE, ipa_phonemes, parse_script, synthesize
from podium.speech.lexicon import Lexicon


def phones(text: str, voice: str = FAST_VOICE) -> str:
    return "".join(ipa_phonemes(text, voice=voice))


# --- pronunciations ---------------------------------------------------------------------


@pytest.mark.parametrize("voice", [FAST_VOICE, "kokoro:jm_kumo"])
def test_ipa_pronunciation_is_spoken_and_captions_keep_the_word(voice):
    u = synthesize("Please welcome {Nguyen|ŋˈwiən} to the team.", voice=voice)
    plain = synthesize("Please welcome Nguyen to the team.", voice=voice)
    said = [p.symbol for p in u.phonemes]
    assert said[said.index("m") + 1:said.index("m") + 5] == ["ŋ", "w", "iə", "n"]
    assert [p.symbol for p in plain.phonemes] != said
    assert [w.text for w in u.words] == ["Please", "welcome", "Nguyen", "to", "the", "team"]
    assert u.sentences[0].text == "Please welcome Nguyen to the team."
    w = u.words[2]
    inside = [p.symbol for p in u.phonemes if w.start - 1e-6 <= p.start and p.end <= w.end + 1e-6]
    assert inside == ["ŋ", "w", "iə", "n"]  # the written word carries the sounds it was given


def test_respelling_and_ipa_between_slashes():
    assert phones("We use {SQL|sequel}.") == phones("We use sequel.")
    # Between slashes, plain letters are IPA too: /bi/ is "bee", not the word "bi".
    assert phones("Hi {Bi|/bi/}.") == phones("Hi [[bi]].")
    assert phones("Hi {Bi|/bi/}.") != phones("Hi {Bi|bi}.")


def test_rate_span_slows_only_its_words():
    u = synthesize("Now [rate 60%]very slowly[/rate] and back to normal.", voice=FAST_VOICE)
    ref = synthesize("Now very slowly and back to normal.", voice=FAST_VOICE)
    def span(utt, a, b):
        return next(w for w in utt.words if w.text == b).end - next(w for w in utt.words if w.text == a).start
    assert span(u, "very", "slowly") > 1.4 * span(ref, "very", "slowly")
    assert abs(span(u, "back", "normal") - span(ref, "back", "normal")) < 0.1 * span(ref, "back", "normal")
    assert [s.text for s in u.sentences] == ["Now very slowly and back to normal."]


@pytest.mark.parametrize("script, where, what", [
    ("Hi {Nguyen|}.", "line 1, column 4", "needs both parts"),
    ("Hi\n{Bo|ʕa} there.", "line 2, column 1", "'ʕ'"),
    ("Hi {Bo there.", "line 1, column 4", "unmatched '{'"),
    ("Go [rate 900%]fast[/rate].", "line 1, column 4", "bad rate markup"),
    ("Go [rate 80%]slow.", "line 1, column 4", "never closed"),
    ("Go [/rate] now.", "line 1, column 4", "closes nothing"),
])
def test_markup_errors_point_at_line_and_column(script, where, what):
    with pytest.raises(ScriptError) as err:
        parse_script(script)
    assert where in str(err.value) and what in str(err.value)


# --- SSML ---------------------------------------------------------------------------------

SSML = """<speak>Welcome to <sub alias="sequel">SQL</sub> training.<break time="700ms"/>
<p>Ask <phoneme alphabet="ipa" ph="ŋˈwiən">Nguyen</phoneme> at <say-as interpret-as="characters">IBM</say-as>.</p>
<prosody rate="slow">Take it easy.</prosody></speak>"""


def test_ssml_is_read_like_the_same_markup():
    u = synthesize(SSML, voice=FAST_VOICE)
    native = synthesize("Welcome to {SQL|sequel} training. [pause 700ms] Ask {Nguyen|ŋˈwiən} at "
                        "{IBM|I. B. M.}.\n\n[rate slow]Take it easy.[/rate]", voice=FAST_VOICE)
    assert [p.symbol for p in u.phonemes] == [p.symbol for p in native.phonemes]
    assert [s.text for s in u.sentences] == ["Welcome to SQL training.", "Ask Nguyen at IBM.", "Take it easy."]
    gap = u.sentences[1].start - u.sentences[0].end
    assert abs(gap - 0.7) < 0.01
    ibm = next(w for w in u.words if w.text == "IBM")
    letters = [p.symbol for p in u.phonemes if ibm.start - 1e-6 <= p.start and p.end <= ibm.end + 1e-6]
    assert letters[:2] == ["aɪ", "b"]  # "I", "B"... spelled, not read as a word


@pytest.mark.parametrize("doc, what", [
    ("<speak>Hi <break time='soon'/></speak>", 'break time="soon"'),
    ("<speak>Hi\n<audio src='x.wav'/></speak>", "line 2: <audio> is not supported"),
    ("<speak>Hi <s>there</speak>", "not well-formed at line 1, column"),
    ("<speak><phoneme alphabet='x-sampa' ph='n'>N</phoneme></speak>", "write the sounds in IPA"),
])
def test_ssml_errors(doc, what):
    with pytest.raises(ScriptError) as err:
        parse_script(doc)
    assert what in str(err.value)


# --- lexicon ------------------------------------------------------------------------------


def test_lexicon_applies_to_every_occurrence_and_engine(tmp_path):
    pytest.importorskip("piper")
    pytest.importorskip("onnx")
    import tiny_piper

    lex = Lexicon()
    lex.add("Nguyen", "ŋˈwiən")
    lex.add("SQL", "sequel")
    text = "Nguyen knows SQL. Ask nguyen."
    u = synthesize(text, voice=FAST_VOICE, lexicon=lex)
    assert phones("[[ŋˈwiən]] knows sequel. Ask [[ŋˈwiən]].") == "".join(p.symbol for p in u.phonemes)
    assert [w.text for w in u.words] == ["Nguyen", "knows", "SQL", "Ask", "nguyen"]
    model = tiny_piper.build_voice(tmp_path)
    piper_u = synthesize(text, voice=f"piper:{model}", lexicon=lex)
    piper_plain = synthesize(text, voice=f"piper:{model}")
    assert [w.text for w in piper_u.words] == ["Nguyen", "knows", "SQL", "Ask", "nguyen"]
    said = "".join(p.symbol for p in piper_u.phonemes)
    assert said.startswith("ŋwiən") and not "".join(p.symbol for p in piper_plain.phonemes).startswith("ŋ")
    # saved and loaded back
    lex.save(tmp_path / "lexicon.json")
    assert Lexicon.load(tmp_path / "lexicon.json").entries == lex.entries
    for word, pron in (("two words", "x"), ("Bo", "ʕa"), ("Bo", " ")):
        with pytest.raises(UserInputError):
            lex.add(word, pron)


def test_lexicon_cli_and_preview_audio(photo_avatar, tmp_path):
    import shutil

    import soundfile as sf

    home = tmp_path / "home"
    shutil.copytree(photo_avatar.path.parent.parent, home)
    assert run_cli("lexicon", "add", "Nguyen", "ŋˈwiən", home=home).returncode == 0
    assert run_cli("lexicon", "add", "SQL", "sequel", "--avatar", photo_avatar.name, home=home).returncode == 0
    listed = run_cli("lexicon", "list", home=home).stdout
    assert "nguyen" in listed and "sql" not in listed  # the avatar's entry is its own
    out = tmp_path / "check.mp4"
    proc = run_cli("say", "--avatar", photo_avatar.name, "--voice", "en-us", "--text", "Ask Nguyen about SQL.",
                   "--preview-audio", "--out", str(out), home=home)
    assert proc.returncode == 0, proc.stderr
    assert not out.exists() and out.with_suffix(".wav").is_file()
    audio, sr = sf.read(out.with_suffix(".wav"))
    lex = Lexicon({"nguyen": "ŋˈwiən", "sql": "sequel"})
    expected = synthesize("Ask Nguyen about SQL.", voice="en-us", lexicon=lex)
    padded = expected.duration + 0.75  # the same lead-in and tail as the video
    assert sr == expected.sample_rate and abs(len(audio) / sr - padded) < 0.02
    assert run_cli("lexicon", "remove", "Nguyen", home=home).returncode == 0
    gone = run_cli("lexicon", "remove", "Nguyen", home=home)
    assert gone.returncode == 2 and "not in the lexicon" in gone.stderr


# --- readings in four languages --------------------------------------------------------------

READINGS = {
    "en-us": [("21 apples", "twenty one apples"), ("Dr. Smith is here", "Doctor Smith is here"),
              ("It costs $5.50", "It costs five dollars fifty cents"), ("born in 1999", "born in nineteen ninety nine"),
              ("tea, e.g. green", "tea, for example green")],
    "de": [("21 Äpfel", "einundzwanzig Äpfel"), ("am 3. Mai", "am dritten Mai"), ("z.B. heute", "zum Beispiel heute"),
           ("Dr. Müller", "Doktor Müller"), ("Es kostet 5 €", "Es kostet fünf Euro")],
    "fr-fr": [("le 3 mai", "le trois mai"), ("M. Dupont", "Monsieur Dupont"), ("Mme Martin", "Madame Martin"),
              ("21 pommes", "vingt et un pommes")],
    "es": [("el 3 de mayo", "el tres de mayo"), ("Sr. García", "Señor García"),
           ("en 1999", "en mil novecientos noventa y nueve"),
           ("Ud. tiene", "usted tiene")],
}


@pytest.mark.parametrize("voice", sorted(READINGS))
def test_numbers_dates_and_abbreviations_read_as_spelled_out(voice):
    for written, said in READINGS[voice]:
        assert phones(written, voice) == phones(said, voice), (voice, written)
        u = synthesize(written + ".", voice=voice)
        assert u.sentences[0].text == written + "."  # captions keep the written form


@pytest.mark.parametrize("script", [
    "Willkommen zum Kurs. Heute lernen wir drei neue Dinge über das Wetter.",
    "Bienvenue au cours. Aujourd'hui nous apprenons trois choses nouvelles.",
    "你好，世界。这是一个很长的句子。",
])
def test_english_only_voice_refuses_other_languages_with_a_hint(script):
    with pytest.raises(ScriptError, match="English only; choose a voice"):
        synthesize(script, voice="kokoro:jm_kumo")
    assert synthesize(script, voice={"W": "de", "B": "fr-fr"}.get(script[0], "cmn")).duration > 1


def test_english_with_names_and_acronyms_is_still_english():
    u = synthesize("Nguyen, Kowalski and Nakamura present the quarterly KPIs for EMEA.", voice="kokoro:jm_kumo")
    assert u.duration > 2
