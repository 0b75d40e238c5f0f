"""kisekae.models: the answers of the API as small frozen dataclasses.

Names follow Python (user_id for userId); lists are always lists (empty when
the API sent none), PNGs are bytes, times are datetime objects. Each class
has a from_zeep() that reads zeep's object for the same schema type.
"""

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional


def as_list(value):
    """zeep gives None for an absent list and a list otherwise."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def as_bytes(value):
    """base64Binary as bytes (zeep decodes it; a str would be base64 text)."""
    if value is None:
        return b""
    return base64.b64decode(value) if isinstance(value, str) else bytes(value)


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    z_order: int
    exclusive: bool          # its items are worn one at a time
    required: bool           # an item of it is always worn
    default_item_id: Optional[int]

    @classmethod
    def from_zeep(cls, z):
        return cls(z.id, z.name, z.zOrder, bool(z.exclusive), bool(z.required),
                   z.defaultItemId)


@dataclass(frozen=True)
class Layer:
    layer_no: int
    z_order: int
    x: int
    y: int
    width: int
    height: int
    sha256: str
    tintable: bool = False   # recoloured when its item is worn with a colour
    role: str = ""           # what hide rules name ("front", "back"...)

    @classmethod
    def from_zeep(cls, z):
        return cls(z.layerNo, z.zOrder, z.x, z.y, z.width, z.height, z.sha256,
                   bool(getattr(z, "tintable", False)), getattr(z, "role", None) or "")


@dataclass(frozen=True)
class Item:
    id: int
    category_id: int
    name: str
    status: str              # draft | published | retired
    price: int
    layers: List[Layer]

    @classmethod
    def from_zeep(cls, z):
        return cls(z.id, z.categoryId, z.name, z.status, z.price,
                   [Layer.from_zeep(layer) for layer in as_list(z.layer)])


@dataclass(frozen=True)
class Avatar:
    user_id: str
    version: int
    image_server: str
    url: str                 # the full image; carries the version
    thumb_url: str           # the bust-up thumbnail of the same version
    worn_item_ids: List[int]
    colours: Dict[int, str] = field(default_factory=dict)   # item id -> "#RRGGBB" (tints)
    anim_url: Optional[str] = None   # the APNG when it wears animated items

    @classmethod
    def from_zeep(cls, z):
        return cls(z.userId, z.version, z.imageServer, z.url, z.thumbUrl,
                   as_list(z.wornItemId), colours_from_zeep(z), getattr(z, "animUrl", None))


@dataclass(frozen=True)
class AvatarBatch:
    """GetAvatars: the avatars in the order asked, and the ids of no member."""
    avatars: List[Avatar]
    missing_user_ids: List[str]


@dataclass(frozen=True)
class Preview:
    png: bytes
    worn_item_ids: List[int]
    colours: Dict[int, str] = field(default_factory=dict)   # item id -> "#RRGGBB" (tints)


def colours_from_zeep(z):
    """The wornColour list of an Avatar or a preview as {item id: "#RRGGBB"}."""
    return {c.itemId: c.colour for c in as_list(getattr(z, "wornColour", None))}


@dataclass(frozen=True)
class Grant:
    item_id: int
    already_owned: bool


@dataclass(frozen=True)
class Revocation:
    item_id: int
    was_owned: bool
    was_worn: bool
    avatar: Avatar


@dataclass(frozen=True)
class DeletedAvatar:
    user_id: str
    album_photos_deleted: int


@dataclass(frozen=True)
class MemberItem:
    item_id: int
    category_id: int
    name: str
    status: str              # a retired item stays owned (and worn)
    worn: bool
    granted_at: datetime

    @classmethod
    def from_zeep(cls, z):
        return cls(z.itemId, z.categoryId, z.name, z.status, bool(z.worn), z.grantedAt)


@dataclass(frozen=True)
class SceneSlot:
    x: int                   # the top-left corner of an avatar canvas on the scene
    y: int


@dataclass(frozen=True)
class Scene:
    id: int
    name: str
    width: int
    height: int
    sha256: str
    slots: List[SceneSlot]   # slot 0 is the member's own, the others friends'

    @classmethod
    def from_zeep(cls, z):
        return cls(z.id, z.name, z.width, z.height, z.sha256,
                   [SceneSlot(s.x, s.y) for s in as_list(z.slot)])


@dataclass(frozen=True)
class AlbumMember:
    slot: int
    user_id: str
    avatar_version: int


@dataclass(frozen=True)
class AlbumPhoto:
    id: int
    user_id: str
    scene_id: int
    caption: Optional[str]
    url: str                 # the JPEG on the member's image server
    created_at: datetime
    members: List[AlbumMember]

    @classmethod
    def from_zeep(cls, z):
        return cls(z.id, z.userId, z.sceneId, z.caption, z.url, z.createdAt,
                   [AlbumMember(m.slot, m.userId, m.avatarVersion) for m in as_list(z.member)])


@dataclass(frozen=True)
class Page:
    """One page of a list: total counts every match, items holds this page."""
    total: int
    items: list
