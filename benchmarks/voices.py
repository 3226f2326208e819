#!/usr/bin/env python
"""Podium benchmark: intelligibility, speed and timing accuracy of every English voice.

Run from the project root::

    .venv/bin/python benchmarks/voices.py              # espeak-ng en-us + every Kokoro voice (~4 min)
    .venv/bin/python benchmarks/voices.py --extra      # also Kokoro's unlisted jf_alpha, jf_tebukuro
    .venv/bin/python benchmarks/voices.py --voices en-us kokoro:jm_kumo

Each voice speaks the same :data:`SENTENCES` (20 varied English sentences,
about 70 s of speech), one ``synthesize_text`` call per sentence. For each
voice the table gives:

* **WER**: word error rate of pocketsphinx's en-us recogniser (its default
  acoustic model, language model and dictionary) decoding the audio resampled
  to 16 kHz, against the sentence; words compared lower-case without
  punctuation, edits summed over all sentences. A proxy for how clearly the
  voice speaks: pocketsphinx is a weak recogniser, so only the differences mean
  something. espeak-ng is the baseline.
* **RTF**: synthesis wall time / audio duration (after one warm-up sentence,
  so Kokoro's one-off model load is not counted; it is printed separately).
* **timing err**: mean absolute difference, in ms, between the word starts and
  ends our Utterance reports and those of pocketsphinx forced alignment
  (``speech.align_recording`` with the sentence as transcript) on the same
  audio; **p95** is the 95th percentile. pocketsphinx is itself off by some
  15-30 ms, so this is an upper bound on our error plus its own.

The table goes to stdout, progress notes to stderr. Audio is written to a
temporary folder that is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from podium import speech

SENTENCES = [
    "Welcome to the course, today we will learn how to build a small web application.",
    "Please remember to save your work before closing the program.",
    "The weather tomorrow will be sunny with a light breeze from the west.",
    "Can you tell me where the nearest train station is?",
    "Good presentations are short, clear and well rehearsed.",
    "Our company was founded in nineteen ninety eight by two friends.",
    "The quick brown fox jumps over the lazy dog.",
    "She sells fresh fruit at the market every Saturday morning.",
    "If the light turns red, stop the car and wait.",
    "Thank you for watching, and see you in the next lesson.",
    "Each chapter ends with a short quiz to check what you have learned.",
    "My brother bought a new bicycle last summer.",
    "Why did the meeting start so late this afternoon?",
    "The museum opens at nine and closes at five.",
    "Water boils at one hundred degrees at sea level.",
    "Click the green button in the top right corner to continue.",
    "We measured the results three times to be sure they were right.",
    "Music helps many people relax after a long day at work.",
    "Never share your password with anyone, not even with a friend.",
    "The children played football in the park until it got dark.",
]

EXTRA = {
    "kokoro:jf_alpha": (("jf_alpha", 1.0),),
    "kokoro:jf_tebukuro": (("jf_tebukuro", 1.0),),
}


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    d = np.arange(len(hyp) + 1)
    for i, r in enumerate(ref, 1):
        prev, d = d, np.empty_like(d)
        d[0] = i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return int(d[-1])


class Recogniser:
    """pocketsphinx en-us with its default acoustic model, language model and dictionary."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL")

    def __call__(self, audio: np.ndarray, sample_rate: int) -> str:
        from math import gcd

        g = gcd(16000, sample_rate)
        x = resample_poly(np.asarray(audio, np.float64), 16000 // g, sample_rate // g)
        pcm = (np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp is not None else ""


def backend(voice_id: str):
    """The backend for a listed voice, or one of Kokoro's unlisted styles."""
    if voice_id in EXTRA:
        from podium.speech.kokoro import KokoroBackend, KokoroVoice

        return KokoroBackend(KokoroVoice(voice_id.split(":", 1)[1], EXTRA[voice_id], "female", voice_id))
    return speech.backend_for(voice_id)


def measure(voice_id: str, recognise: Recogniser, workdir: Path) -> dict:
    be = backend(voice_id)
    t0 = time.perf_counter()
    be.synthesize_text("Warming up.")
    warmup = time.perf_counter() - t0
    errors = n_words = 0
    synth_s = audio_s = 0.0
    diffs: list[float] = []
    for i, sentence in enumerate(SENTENCES):
        t0 = time.perf_counter()
        utt = be.synthesize_text(sentence)
        synth_s += time.perf_counter() - t0
        audio_s += utt.duration
        ref = words_of(sentence)
        errors += edit_distance(ref, words_of(recognise(utt.audio, utt.sample_rate)))
        n_words += len(ref)
        path = workdir / f"{i}.wav"
        utt.write_wav(path)
        forced = speech.align_recording(path, transcript=sentence)
        if [w.text for w in forced.words] != [w.text for w in utt.words]:
            note(f"  {voice_id}: word lists differ for {sentence!r}; skipped in timing")
            continue
        for ours, ref_w in zip(utt.words, forced.words):
            diffs.extend([abs(ours.start - ref_w.start), abs(ours.end - ref_w.end)])
    d = np.array(diffs) * 1000.0
    return {
        "voice": voice_id,
        "wer": errors / n_words,
        "rtf": synth_s / audio_s,
        "audio_s": audio_s,
        "timing_ms": float(d.mean()) if d.size else float("nan"),
        "timing_p95_ms": float(np.percentile(d, 95)) if d.size else float("nan"),
        "warmup_s": warmup,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", nargs="+", help="voice ids (default: en-us and every Kokoro voice)")
    parser.add_argument("--extra", action="store_true",
                        help="also Kokoro's unlisted styles jf_alpha and jf_tebukuro")
    args = parser.parse_args(argv)

    voices = args.voices or ["en-us"] + [v.id for v in speech.list_voices() if v.engine == "kokoro"]
    if args.extra:
        voices += [v for v in EXTRA if v not in voices]
    if len(voices) == 1 and not any(v.engine == "kokoro" for v in speech.list_voices()):
        note("Kokoro is not installed; only espeak-ng is measured")

    recognise = Recogniser()
    rows = []
    with tempfile.TemporaryDirectory(prefix="podium-voices-") as tmp:
        for voice_id in voices:
            note(f"measuring {voice_id} ...")
            rows.append(measure(voice_id, recognise, Path(tmp)))

    words = sum(len(words_of(s)) for s in SENTENCES)
    print(f"# Voices: {len(SENTENCES)} English sentences, {words} words "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs)\n")
    print("| voice | WER ↓ | RTF ↓ | timing err ms ↓ | timing p95 ms | audio s | first call s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['voice']} | {r['wer']:.2f} | {r['rtf']:.3f} | {r['timing_ms']:.0f} | "
              f"{r['timing_p95_ms']:.0f} | {r['audio_s']:.1f} | {r['warmup_s']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
