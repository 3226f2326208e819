"""The neural lip renderer: a small per-avatar U-Net trained on the avatar's own mouth bank."""

from podium.lipsync.neural.model import LipGenerator, RendererConfig, from_pretrained, save_pretrained
from podium.lipsync.neural.renderer import NeuralRenderer
from podium.lipsync.neural.train import TrainReport, TrainSettings, train_renderer

__all__ = ["LipGenerator", "NeuralRenderer", "RendererConfig", "TrainReport", "TrainSettings",
           "from_pretrained", "save_pretrained", "train_renderer"]
