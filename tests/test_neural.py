"""The neural lip renderer: short real trainings, save/reload, resume, rendering.

No mocks: every test trains the real network on a real avatar bank for a few
dozen steps (seconds on a 2-core CPU).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import FOOTAGE_DIR, PORTRAIT, needs_shared, run_cli

from podium.avatars import AvatarLibrary, create_from_footage, create_from_photo
from podium.avatars.bank import MouthBank, extract_crop
from podium.lipsync.neural import NeuralRenderer, TrainSettings, from_pretrained, train_renderer
from podium.lipsync.neural.model import RendererConfig
from podium.lipsync.neural.renderer import transfer_detail
from podium.lipsync.neural.train import CHECKPOINT, CHECKPOINT_META, PairSource, evaluate, prepare_model, weighted_l1

#: Small batches keep each test well under a minute on a 2-core CPU.
FAST = TrainSettings(batch=4, checkpoint_every=10)


@pytest.fixture(scope="module")
def photo_record(tmp_path_factory):
    """The sample portrait as an avatar: 45 crops (one real closed mouth, the rest warped/painted)."""
    lib = AvatarLibrary(tmp_path_factory.mktemp("neural-photo"))
    return create_from_photo(lib, "p", PORTRAIT, consent="x")


@pytest.fixture(scope="module")
def footage_record(tmp_path_factory):
    lib = AvatarLibrary(tmp_path_factory.mktemp("neural-footage"))
    return create_from_footage(lib, "pe", FOOTAGE_DIR / "presenter_e.mp4", consent="x")


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / CHECKPOINT))


def _fixed_batch(model, bank, n=4):
    """The same inputs every call: bank crops with their own landmarks, no augmentation."""
    data = PairSource(bank, model.config, n_real=len(bank), include=list(range(n)), settings=FAST)
    target, aligned, maps, _, _, _ = data.sample(None, n, augment=False, idx=np.arange(n))
    return target, maps, aligned


def _initial_model(folder, bank):
    """The network as training started (same seed, same references)."""
    meta = json.loads((folder / CHECKPOINT_META).read_text())
    torch.manual_seed(meta["settings"]["seed"])
    return prepare_model(bank, RendererConfig.from_json(json.dumps(meta["config"])), meta["refs"]).eval()


def _fixed_losses(folder, bank, idx) -> tuple[float, float]:
    """Training L1 on fixed, unaugmented bank crops: (network before training, after)."""
    model = from_pretrained(folder)
    data = PairSource(bank, model.config, n_real=len(bank), include=list(idx), settings=FAST)
    target, aligned, maps, mouth, _, _ = data.sample(None, len(idx), augment=False, idx=np.arange(len(idx)))
    m = model.mask
    weight = m * (1 + FAST.mouth_weight * mouth)
    with torch.no_grad():
        before = weighted_l1(_initial_model(folder, bank)(target, maps, aligned), target, weight)
        after = weighted_l1(model(target, maps, aligned), target, weight)
    return float(before), float(after)


@pytest.mark.slow
def test_photo_avatar_trains_saves_reloads_and_renders(photo_record):
    folder = photo_record.path / "parts" / "renderer"
    calls = []
    # Few crops, so that 40 steps are enough to fit them measurably.
    bank = MouthBank.load(photo_record.part("mouth_bank"))
    keep = [0, 10, 20, 30]
    exclude = [i for i in range(len(bank)) if i not in keep]
    report = train_renderer(photo_record, steps=40, settings=FAST, exclude=exclude,
                            progress=lambda *a: calls.append(a))
    bank = MouthBank.load(photo_record.part("mouth_bank"))
    # progress after every step, with the total
    assert [c[1] for c in calls] == list(range(1, 41)) and {c[2] for c in calls} == {40}
    assert report.steps == 40 and report.resumed_from == 0 and report.seconds > 0
    json.dumps(report.as_dict())  # goes into the avatar manifest
    assert "40 steps" in report.summary()
    model = from_pretrained(folder)
    before, after = _fixed_losses(folder, bank, keep)
    assert after < before
    # weights + config on disk, no pickles, and they reload to the same outputs
    assert {"config.json", "model.safetensors", CHECKPOINT, CHECKPOINT_META} <= {p.name for p in folder.iterdir()}
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.tmp"))
    trained = _weights(folder)
    live = {k[2:]: v for k, v in trained.items() if k.startswith("G.")}
    again = from_pretrained(folder)
    with torch.no_grad():
        batch = _fixed_batch(model, bank)
        a, b = model(*batch), again(*batch)
        again.load_state_dict(live)
        c = again(*batch)
    assert torch.equal(a, b) and torch.equal(a, c)

    # rendering: shape, dtype, determinism, the base kept outside the mask
    renderer = NeuralRenderer(bank, folder)
    h, w = bank.crops.shape[1:3]
    base = bank.crops[0].copy()
    frame = (bank.lips[0], bank.jaw[0], bank.nose[0])
    lips = bank.lips[len(bank) // 2] - bank.nose[len(bank) // 2].mean(0) + renderer.ref_nose
    out = renderer.render(lips, frame, base)
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    assert np.array_equal(out, renderer.render(lips.copy(), frame, base.copy()))
    assert np.array_equal(out, NeuralRenderer(bank, folder).render(lips, frame, base))
    outside = renderer.model.mask[0, 0, :h, :w].numpy() == 0
    assert np.array_equal(out[outside], base[outside])
    # a different mouth shape gives a different mouth
    closed = bank.lips[0] - bank.nose[0].mean(0) + renderer.ref_nose
    assert np.abs(out.astype(int) - renderer.render(closed, frame, base)).max() > 30


@pytest.mark.slow
def test_interrupted_training_resumes_from_checkpoint(photo_record, tmp_path):
    folder = photo_record.path / "parts" / "renderer"

    class Stop(Exception):
        pass

    def interrupt(stage, done, total):
        if done == 25:
            raise Stop

    with pytest.raises(Stop):
        train_renderer(photo_record, steps=30, settings=FAST, progress=interrupt, resume=False)
    meta = json.loads((folder / CHECKPOINT_META).read_text())
    assert meta["step"] == 20 and meta["total"] == 30  # the last checkpoint before the interrupt
    assert float(_weights(folder)["opt_g.0.step"]) == 20

    report = train_renderer(photo_record, steps=30)  # settings come from the checkpoint
    assert report.resumed_from == 20 and report.steps == 30
    resumed = _weights(folder)
    assert float(resumed["opt_g.0.step"]) == 30  # Adam state continued, not restarted

    # An uninterrupted run of the same length ends with the same weights: the data of
    # every step and the optimizer state were restored exactly.
    train_renderer(photo_record, steps=30, settings=FAST, resume=False)
    straight = _weights(folder)
    for key in (k for k in straight if k.startswith("G.")):
        torch.testing.assert_close(resumed[key], straight[key], rtol=1e-4, atol=1e-5)

    # a finished run asked again does nothing but reports the whole run
    again = train_renderer(photo_record, steps=30)
    assert again.steps == 30 and again.resumed_from == 30


@pytest.mark.slow
@needs_shared
def test_footage_avatar_short_training(footage_record):
    train_renderer(footage_record, steps=40, settings=FAST)
    folder = footage_record.path / "parts" / "renderer"
    bank = MouthBank.load(footage_record.part("mouth_bank"))
    before, after = _fixed_losses(folder, bank, range(0, len(bank), 12))
    assert after < before
    # the network already improves on the warp renderer's output (its aligned input)
    scores = evaluate(from_pretrained(folder), bank, range(0, len(bank), 10))
    assert scores["l1_mouth"] < scores["warp_l1_mouth"]
    # renders the way the pipeline calls it: on a base-loop frame's crop
    from podium.lipsync.loaded_avatar import load_avatar

    avatar = load_avatar(footage_record)
    renderer = NeuralRenderer(bank, folder)
    base = extract_crop(avatar.frames[0], avatar.frame_to_canon[0], bank.geometry)
    lips = avatar.model.lips(np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    closed, opened = (renderer.render(lp, avatar.frame_marks[0], base) for lp in lips)
    assert closed.shape == base.shape and closed.dtype == np.uint8
    assert np.abs(closed.astype(int) - opened).mean() > 1.0


def test_transfer_detail_takes_fine_detail_from_the_source_only_where_weighted():
    import cv2

    rng = np.random.default_rng(3)
    coarse = cv2.resize(rng.uniform(60, 200, (12, 12, 3)).astype(np.float32), (96, 96))
    sharp = np.clip(coarse + rng.normal(0, 25, coarse.shape), 0, 255).astype(np.uint8)
    # the image: blurry, and shaded brighter than the source
    blurred = np.clip(cv2.GaussianBlur(sharp, (0, 0), 3.0).astype(int) + 30, 0, 255).astype(np.uint8)
    weight = np.zeros((96, 96), np.float32)
    weight[:, :48] = 1.0
    out = transfer_detail(blurred, sharp, weight, 3.0)
    assert out.dtype == np.uint8 and out.shape == sharp.shape
    assert np.array_equal(out[:, 48:], blurred[:, 48:])  # weight 0: untouched
    lap = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F)[4:-4, 4:44].var()
    assert lap(blurred) < 0.2 * lap(sharp) and lap(out) > 0.8 * lap(sharp)
    # the coarse picture is the image's: blurring the result gives the image's blur back
    low = lambda img: cv2.GaussianBlur(img.astype(np.float32), (0, 0), 6.0)[8:-8, 8:40]
    assert np.abs(low(out) - low(blurred)).mean() < 2.0 < np.abs(low(out) - low(sharp)).mean()
    assert np.array_equal(transfer_detail(blurred, sharp, weight, 0.0), blurred)


@pytest.mark.slow
def test_cli_create_with_the_neural_renderer_renders_with_it(tmp_path):
    """`avatar create --renderer neural` trains, and the avatar then renders with its network."""
    from podium.lipsync.loaded_avatar import load_avatar
    from podium.lipsync.pipeline import make_renderer

    proc = run_cli("avatar", "create", "n", "--photo", str(PORTRAIT), "--consent", "Eileen Collins",
                   "--renderer", "neural", "--train-minutes", "0.01", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "trained the neural renderer of 'n'" in proc.stdout and "--renderer neural" not in proc.stdout
    record = AvatarLibrary(tmp_path).get("n")
    assert record.manifest.renderer == "neural" and record.manifest.renderer_training["steps"] > 0
    assert isinstance(make_renderer(load_avatar(record)), NeuralRenderer)
    out = tmp_path / "hi.mp4"
    proc = run_cli("say", "--avatar", "n", "--voice", "en-us", "--text", "Hello there.", "--out", str(out),
                   home=tmp_path)
    assert proc.returncode == 0 and out.stat().st_size > 10_000, proc.stderr
