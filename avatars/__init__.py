"""Avatars: footage probing and validation, face tracking, avatar creation, the library."""

from podium.avatars.create import AVATAR_FPS, create_from_footage
from podium.avatars.library import AvatarLibrary, AvatarRecord, check_name, default_home
from podium.avatars.photo import create_from_photo

__all__ = ["AVATAR_FPS", "AvatarLibrary", "AvatarRecord", "check_name", "create_from_footage",
           "create_from_photo", "default_home"]
