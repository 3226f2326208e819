"""Text is text: control characters, byte-order marks, SSML prologues, lexicon entries and
consent names are handled the same way for the audio, the captions and the library."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, tree_snapshot

import podium
from podium import speech
from podium.common.errors import UserInputError
from podium.samples import PORTRAIT
from podium.speech import FAST_VOICE
from podium.speech.lexicon import Lexicon


@pytest.mark.parametrize("pronunciation", ["[pause 10s]", "a\x1bb", "<break/>", "x|y", "q" * 300])
def test_lexicon_refuses_an_entry_at_add(tmp_path, pronunciation):
    library = podium.Library(tmp_path)
    with pytest.raises(UserInputError):
        library.add_word("word", pronunciation)
    assert not (tmp_path / "lexicon.json").exists()


def test_a_hand_edited_bad_entry_names_itself_and_can_be_removed(tmp_path):
    library = podium.Library(tmp_path)
    library.add_word("SQL", "sequel")
    path = tmp_path / "lexicon.json"
    data = json.loads(path.read_text("utf-8"))
    data["entries"]["broken"] = "<b>"
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(UserInputError, match="broken"):
        library.lexicon()
    library.remove_word("broken")
    assert library.lexicon().entries == {"sql": "sequel"}


@pytest.mark.parametrize("word", ["SQL\nDROP", "two words", "-x"])
def test_lexicon_words_are_matched_whole(word):
    with pytest.raises(UserInputError):
        Lexicon().add(word, "sequel")


@pytest.mark.parametrize("name", ["anna\n", "anna\r", "anna "])
def test_avatar_names_are_matched_whole(name):
    from podium.avatars import check_name

    with pytest.raises(UserInputError):
        check_name(name)


@pytest.mark.parametrize("consent", ["Ann\x1b[31mEvil", "Ann\u202eeviL", "<b>Ann</b>", "Ann {{x}}",
                                     "A" * 300])
def test_consent_names_with_control_characters_or_markup_are_refused(tmp_path, consent):
    home = tmp_path / "home"
    before = tree_snapshot(home)
    proc = run_cli("avatar", "create", "ann", "--photo", str(PORTRAIT), "--consent", consent, home=home)
    assert proc.returncode == 2, proc.stderr
    assert "consent name" in proc.stderr and "\x1b" not in proc.stderr
    assert tree_snapshot(home) == before


def test_a_consent_name_in_any_script_is_kept():
    from podium.avatars.create import check_consent_name

    for name in ("Zoë Ångström", "محمد علي", "李小龍", "O'Brien-Smith"):
        assert check_consent_name(f"  {name} ") == name
    with pytest.raises(podium.UserInputError):
        podium.Library("/nonexistent-home").create_avatar("x", photo=PORTRAIT, consent="Ann\x00")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x08", "\u202e", "\u2066"])
def test_control_characters_are_refused_with_where(char):
    with pytest.raises(podium.UserInputError, match=rf"U\+{ord(char):04X} at line 2, column 6"):
        podium.Speech.from_script(f"First line.\nHello{char} world, the rest.")


def _said(script):
    utt = speech.synthesize(script, voice=FAST_VOICE)
    return [w.text for w in utt.words], [s.text for s in utt.sentences]


@pytest.mark.parametrize("prologue", ["\ufeff", "<!-- reviewed by legal -->\n",
                                      '<?xml version="1.0"?>\n<!DOCTYPE speak PUBLIC "-//W3C//DTD '
                                      'SYNTHESIS 1.0//EN" "synthesis.dtd">\n'])
def test_ssml_after_a_bom_comment_or_doctype_is_ssml(prologue):
    words, sentences = _said(prologue + '<speak>Hello <break time="300ms"/> there.</speak>')
    assert words == ["Hello", "there."] or [w.strip(".") for w in words] == ["Hello", "there"]
    assert not any("speak" in s or "\ufeff" in s or "<" in s for s in sentences), sentences


def test_a_bom_never_leads_the_first_caption():
    words, sentences = _said("\ufeffWelcome aboard.")
    assert sentences[0].startswith("Welcome") and words[0] == "Welcome"


def test_ssml_entities_are_refused():
    with pytest.raises(podium.UserInputError, match="DOCTYPE"):
        podium.Speech.from_script('<!DOCTYPE speak [<!ENTITY x "xxxxxxxx">]><speak>&x;&x;</speak>')
