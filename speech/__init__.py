"""Text to speech with espeak-ng, Kokoro-82M or Piper: audio plus phone, word and sentence timings.

``speech`` imports nothing of ours except ``common``. The engines register themselves in
:mod:`speech.engines` when imported; importing ``speech`` (which any ``podium.speech.*``
import does first) imports the three built in here.
"""

# The built-in engines, imported for their registration (speech.engines).
from podium.speech import espeak_engine, kokoro, piper  # noqa: E402,F401
from podium.speech.align import align_recording
from podium.speech.backend import SynthesisOptions, VoiceBackend
from podium.speech.script import PauseSegment, Segment, TextSegment, parse_script
from podium.speech.tts import backend_for, ipa_phonemes, synthesize
from podium.speech.utterance import Phone, Sentence, Utterance, Word
from podium.speech.voices import DEFAULT_VOICE, FAST_VOICE, VoiceInfo, list_voices, resolve_voice

__all__ = [
    "DEFAULT_VOICE",
    "FAST_VOICE",
    "PauseSegment",
    "Phone",
    "Segment",
    "Sentence",
    "SynthesisOptions",
    "TextSegment",
    "Utterance",
    "VoiceBackend",
    "VoiceInfo",
    "Word",
    "ipa_phonemes",
    "list_voices",
    "parse_script",
    "resolve_voice",
    "synthesize",
    "align_recording",
    "backend_for",
]
