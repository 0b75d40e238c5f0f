"""kisekae: a Python client of the kisekae avatar API for community sites.

    from kisekae import KisekaeClient, NotOwnedError

    api = KisekaeClient(["http://api1:17010/", "http://api2:17010/"], "site", "secret")
    avatar = api.change_outfit("alice", wear=[12])
    print(avatar.version, avatar.url)

See README.md beside this package.
"""

from .client import RESENDABLE, KisekaeClient
from .errors import (ConflictError, DatabaseUnavailableError, ForbiddenError,
                     ImageServerUnavailableError, InternalError, InvalidArgumentError,
                     KisekaeError, KisekaeFault, NotFoundError, NotOwnedError,
                     OutcomeUnknownError, TooLargeError, UnauthorizedError, UnavailableError)
from .models import (AlbumMember, AlbumPhoto, Avatar, AvatarBatch, Category, DeletedAvatar,
                     Grant, Item, Layer, MemberItem, Page, Preview, Revocation, Scene,
                     SceneSlot)
from .webhook import TOLERANCE_S, verify_webhook

__all__ = [
    "KisekaeClient", "RESENDABLE",
    "KisekaeError", "KisekaeFault", "NotFoundError", "InvalidArgumentError", "NotOwnedError",
    "ConflictError", "UnauthorizedError", "ForbiddenError", "TooLargeError",
    "ImageServerUnavailableError", "DatabaseUnavailableError", "InternalError",
    "UnavailableError", "OutcomeUnknownError",
    "Category", "Layer", "Item", "Avatar", "AvatarBatch", "Preview", "Grant", "Revocation",
    "DeletedAvatar", "MemberItem", "SceneSlot", "Scene", "AlbumMember", "AlbumPhoto", "Page",
    "verify_webhook", "TOLERANCE_S",
]
