"""Text to speech with espeak-ng: audio plus phone, word and sentence timings.

``speech`` imports nothing of ours except ``common``.
"""

from speech.script import PauseSegment, Segment, TextSegment, parse_script
from speech.tts import ipa_phonemes, synthesize
from speech.utterance import Phone, Sentence, Utterance, Word
from speech.voices import DEFAULT_VOICE, VoiceInfo, list_voices, resolve_voice
from speech.align import align_recording

__all__ = [
    "DEFAULT_VOICE",
    "PauseSegment",
    "Phone",
    "Segment",
    "Sentence",
    "TextSegment",
    "Utterance",
    "VoiceInfo",
    "Word",
    "ipa_phonemes",
    "list_voices",
    "parse_script",
    "resolve_voice",
    "synthesize",
    "align_recording",
]
