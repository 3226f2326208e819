"""Provenance: invisible watermarks in frames and sound, signed C2PA manifests, ``verify``.

Imports only :mod:`podium.common`; the render pipeline marks frames and audio while it draws
them, and the front door signs the finished MP4 as the very last step.
"""
