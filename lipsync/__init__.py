"""Lip sync: visemes and coarticulation, the warp renderer, compositing, the render pipeline."""

from podium.lipsync.coarticulation import MouthTrack, mouth_track
from podium.lipsync.pipeline import RenderOptions, RenderResult, render_script, render_utterance

__all__ = ["MouthTrack", "RenderOptions", "RenderResult", "mouth_track", "render_script",
           "render_utterance"]
