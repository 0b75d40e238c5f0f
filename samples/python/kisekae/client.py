"""kisekae.client: KisekaeClient, a site's client of the kisekae SOAP API.

One KisekaeClient per thread (it holds a requests.Session). It loads the WSDL
from the first API URL that answers (URL + "?wsdl") at the first call, then
sends every call to a URL of its list: the one that answered last, else the
next ones in order. How a failure moves the call on (see README.md):

- nothing was sent (the connection was refused or timed out while
  connecting; an HTTP 4xx without a SOAP fault: no API server there): any
  call moves on to the next URL;
- the call was sent but no answer came (a reset, a timeout, an HTTP 5xx
  without a SOAP fault) or the answer is a DatabaseUnavailable fault: only
  calls that end the same when sent twice move on (RESENDABLE: the reads,
  PreviewAvatar, ChangeOutfit, GrantItem, RevokeItem). The others raise
  OutcomeUnknownError (or the fault).

Faults become KisekaeError subclasses (kisekae.errors) carrying the stable
code; answers become the dataclasses of kisekae.models.
"""

import socket
import threading
import time

import requests
import urllib3.exceptions
import zeep
import zeep.exceptions

from . import errors
from .models import (AlbumPhoto, Avatar, AvatarBatch, Category, DeletedAvatar, Grant, Item,
                     MemberItem, Page, Preview, Revocation, Scene, as_bytes, as_list,
                     colours_from_zeep)

NS = "urn:kisekae:v1"
BINDING = "{%s}Kisekae" % NS

# Operations that end the same when sent twice: sent again to the next URL
# when a URL failed after the call was sent.
RESENDABLE = frozenset({
    "ListCategories", "ListItems", "GetItem", "ListScenes", "GetAvatar", "GetAvatars",
    "PreviewAvatar", "ListMemberItems", "ListAlbumPhotos",
    "ChangeOutfit", "GrantItem", "RevokeItem"})


class _Transport(zeep.Transport):
    """zeep's transport with a connect timeout and a timeout for the whole
    call: the answer's headers must come within `timeout` seconds (the read
    timeout) and its body before the same deadline (a timer shuts the
    socket down then). An HTTP error that is no SOAP answer (an HTML page
    of a proxy) becomes a zeep TransportError with its status."""

    def __init__(self, session, connect_timeout, timeout):
        super().__init__(session=session, timeout=(connect_timeout, timeout),
                         operation_timeout=(connect_timeout, timeout))
        self.total_timeout = timeout

    def post(self, address, message, headers):
        deadline = time.monotonic() + self.total_timeout
        response = self.session.post(address, data=message, headers=headers,
                                     timeout=self.operation_timeout, stream=True)
        sock = getattr(response.raw.connection, "sock", None)
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, [sock])
        timer.start()
        try:
            response.content                    # reads the body
        except requests.RequestException:
            if time.monotonic() < deadline:
                raise
            raise requests.exceptions.ReadTimeout(
                "no whole answer from %s within %g s" % (address, self.total_timeout)) from None
        finally:
            timer.cancel()
            response.close()
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if response.status_code != 200 and media_type not in ("text/xml", "application/soap+xml"):
            raise zeep.exceptions.TransportError(
                "HTTP %d without a SOAP answer" % response.status_code,
                status_code=response.status_code, content=response.content)
        return response


def _cut(sock):
    """Ends a call past its deadline: the blocked read returns."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _not_sent(error):
    """True when a requests error happened before the request left: refused,
    unreachable, or timed out while connecting (urllib3 reports all three as
    a ConnectTimeoutError, NewConnectionError being one)."""
    seen = set()
    pending = [error]
    while pending:
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (requests.exceptions.ConnectTimeout,
                          urllib3.exceptions.ConnectTimeoutError)):
            return True
        pending += [getattr(e, "reason", None), e.__cause__]
        pending += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return False


def _fault(fault, operation, url):
    """The KisekaeError of a zeep Fault: the code of its KisekaeFault detail,
    else the faultcode's local name (Client, Server)."""
    code = message = None
    if fault.detail is not None:
        code = fault.detail.findtext("{%s}KisekaeFault/{%s}code" % (NS, NS))
        message = fault.detail.findtext("{%s}KisekaeFault/{%s}message" % (NS, NS))
    if not code:
        code = (fault.code or "Server").rpartition(":")[2]
    return errors.fault_error(code, message or fault.message or "", operation, url, fault.code)


def _colours(colours):
    """{item id: "#RRGGBB"} as ChangeOutfit's and PreviewAvatar's colour list."""
    return [{"itemId": item_id, "colour": colour}
            for item_id, colour in sorted((colours or {}).items())]


def _child(answer, name):
    """zeep hands a response with one child as that child; take the child
    whether or not it was unwrapped."""
    if isinstance(answer, (list, tuple)) or answer is None:
        return answer
    inner = getattr(answer, name, None)
    return answer if inner is None else inner


class KisekaeClient:
    """A client of the site operations of the kisekae API.

    urls: the API URLs (a list, or one string of space-separated URLs),
    tried in this order. user, password: the site's API credentials (HTTP
    Basic). connect_timeout: seconds to open a connection; timeout: seconds
    for a whole call once connected. Connections are kept open between calls
    (HTTP keep-alive) in one requests.Session.
    """

    def __init__(self, urls, user, password, timeout=30.0, connect_timeout=3.0):
        if isinstance(urls, str):
            urls = urls.split()
        self.urls = list(urls)
        if not self.urls:
            raise ValueError("KisekaeClient needs at least one API URL")
        for url in self.urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError("not an http(s) URL: %r" % url)
        self.session = requests.Session()
        self.session.auth = (user, password)
        self._transport = _Transport(self.session, connect_timeout, timeout)
        self._zeep = None                 # the zeep.Client of the WSDL, once loaded
        self._services = {}               # url -> zeep service proxy bound to it
        self._current = 0                 # index of the URL that answered last

    # ---- plumbing -------------------------------------------------------------

    def close(self):
        """Closes the kept-alive connections."""
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def current_url(self):
        """The URL that answered last (the first one calls go to)."""
        return self.urls[self._current]

    def _order(self):
        n = len(self.urls)
        return [(self._current + k) % n for k in range(n)]

    def _load_wsdl(self):
        """Loads the WSDL from the first URL that answers (a GET: any failure
        moves on)."""
        problems = []
        for i in self._order():
            url = self.urls[i]
            try:
                self._zeep = zeep.Client(url + "?wsdl", transport=self._transport)
                self._current = i
                return
            except (requests.RequestException, zeep.exceptions.Error) as e:
                problems.append("%s: %s" % (url, e))
        raise errors.UnavailableError("no WSDL from any API URL (%s)" % "; ".join(problems),
                                      operation="WSDL")

    def _service(self, url):
        if url not in self._services:
            self._services[url] = self._zeep.create_service(BINDING, url)
        return self._services[url]

    def call(self, operation, **params):
        """Sends one operation with failover; returns zeep's answer or raises
        a KisekaeError. The methods below are the typed way to call."""
        if self._zeep is None:
            self._load_wsdl()
        resendable = operation in RESENDABLE
        problems = []
        last_fault = None
        for i in self._order():
            url = self.urls[i]
            try:
                answer = getattr(self._service(url), operation)(**params)
            except zeep.exceptions.Fault as fault:
                if fault.code is None and not hasattr(fault.detail, "findtext"):
                    # XML that is no SOAP answer: as an HTTP 5xx, outcome unknown
                    if not resendable:
                        raise errors.OutcomeUnknownError(
                            "an answer that is no SOAP answer", operation, url) from None
                    problems.append("%s: no SOAP answer" % url)
                    continue
                error = _fault(fault, operation, url)
                if resendable and isinstance(error, errors.DatabaseUnavailableError):
                    problems.append("%s: %s" % (url, error.message))
                    last_fault = error
                    continue
                self._current = i           # it answered
                raise error from None
            except zeep.exceptions.TransportError as e:
                # An HTTP answer that is no SOAP answer: a 4xx says no API
                # server took the call (nothing done); anything else (a
                # proxy's 5xx) leaves the outcome unknown.
                if not 400 <= e.status_code < 500 and not resendable:
                    raise errors.OutcomeUnknownError(
                        "HTTP %d without a SOAP answer after the call was sent" % e.status_code,
                        operation, url) from None
                problems.append("%s: HTTP %d" % (url, e.status_code))
                continue
            except requests.RequestException as e:
                if not resendable and not _not_sent(e):
                    raise errors.OutcomeUnknownError(
                        "the call was sent, then: %s" % e, operation, url) from None
                problems.append("%s: %s" % (url, e))
                continue
            self._current = i
            return answer
        if last_fault is not None and len(problems) == len(self.urls):
            raise last_fault
        raise errors.UnavailableError("no API URL answered (%s)" % "; ".join(problems),
                                      operation=operation)

    # ---- the catalog ------------------------------------------------------------

    def list_categories(self, name=None):
        """Every category, or with name the one of that name ([] if none)."""
        answer = self.call("ListCategories", name=name)
        return [Category.from_zeep(c) for c in as_list(_child(answer, "category"))]

    def list_items(self, category_id=None, offset=0, limit=50):
        """A Page of published items (limit 1..100); total counts all."""
        answer = self.call("ListItems", categoryId=category_id, offset=offset, limit=limit)
        return Page(answer.total, [Item.from_zeep(i) for i in as_list(answer.item)])

    def get_item(self, item_id):
        """One item with its layers, whatever its status."""
        return Item.from_zeep(_child(self.call("GetItem", itemId=item_id), "item"))

    def list_scenes(self):
        """Every album scene."""
        return [Scene.from_zeep(s) for s in as_list(_child(self.call("ListScenes"), "scene"))]

    # ---- avatars ------------------------------------------------------------------

    def create_avatar(self, user_id, image_server=None):
        """A new member wearing the default items (not resent: see README)."""
        answer = self.call("CreateAvatar", userId=user_id, imageServer=image_server)
        return Avatar.from_zeep(_child(answer, "avatar"))

    def get_avatar(self, user_id, min_version=None):
        """The member's avatar; with min_version never an older one."""
        answer = self.call("GetAvatar", userId=user_id, minVersion=min_version)
        return Avatar.from_zeep(_child(answer, "avatar"))

    def get_avatars(self, user_ids):
        """An AvatarBatch for up to 100 ids: avatars in the order asked, and
        the ids that name no member."""
        answer = self.call("GetAvatars", userId=list(user_ids))
        return AvatarBatch([Avatar.from_zeep(a) for a in as_list(answer.avatar)],
                           as_list(answer.missingUserId))

    def delete_avatar(self, user_id):
        """Deletes the member, its items, outfit and album photos."""
        answer = self.call("DeleteAvatar", userId=user_id)
        return DeletedAvatar(answer.userId, answer.albumPhotosDeleted)

    def change_outfit(self, user_id, wear=(), remove=(), colours=None):
        """Puts items on and takes items off, and colours worn tintable items
        (colours: {item id: "#RRGGBB"}); the new Avatar."""
        answer = self.call("ChangeOutfit", userId=user_id, wear=list(wear), remove=list(remove),
                           colour=_colours(colours))
        return Avatar.from_zeep(_child(answer, "avatar"))

    def preview_avatar(self, user_id, wear=(), remove=(), colours=None):
        """A try-on, nothing saved: a Preview with the PNG bytes."""
        answer = self.call("PreviewAvatar", userId=user_id, wear=list(wear),
                           remove=list(remove), colour=_colours(colours))
        return Preview(as_bytes(answer.png), as_list(answer.wornItemId),
                       colours_from_zeep(answer))

    def regenerate_avatar(self, user_id):
        """Composes the avatar again as a new version."""
        return Avatar.from_zeep(_child(self.call("RegenerateAvatar", userId=user_id), "avatar"))

    # ---- a member's items -------------------------------------------------------

    def grant_item(self, user_id, item_id):
        """Gives the member an item; Grant.already_owned when it had it."""
        answer = self.call("GrantItem", userId=user_id, itemId=item_id)
        return Grant(answer.itemId, bool(answer.alreadyOwned))

    def revoke_item(self, user_id, item_id):
        """Takes an item away (off the avatar if worn)."""
        answer = self.call("RevokeItem", userId=user_id, itemId=item_id)
        return Revocation(answer.itemId, bool(answer.wasOwned), bool(answer.wasWorn),
                          Avatar.from_zeep(answer.avatar))

    def list_member_items(self, user_id, category_id=None, offset=0, limit=50):
        """A Page of MemberItem, newest grant first."""
        answer = self.call("ListMemberItems", userId=user_id, categoryId=category_id,
                           offset=offset, limit=limit)
        return Page(answer.total, [MemberItem.from_zeep(i) for i in as_list(answer.item)])

    # ---- the album --------------------------------------------------------------

    def create_album_photo(self, user_id, scene_id, friend_user_ids=(), caption=None):
        """A photo of the member (slot 0) and up to 4 friends on a scene."""
        answer = self.call("CreateAlbumPhoto", userId=user_id, sceneId=scene_id,
                           friendUserId=list(friend_user_ids), caption=caption)
        return AlbumPhoto.from_zeep(_child(answer, "photo"))

    def list_album_photos(self, user_id, offset=0, limit=50):
        """A Page of AlbumPhoto, newest first."""
        answer = self.call("ListAlbumPhotos", userId=user_id, offset=offset, limit=limit)
        return Page(answer.total, [AlbumPhoto.from_zeep(p) for p in as_list(answer.photo)])

    def delete_album_photo(self, user_id, photo_id):
        """Deletes one of the member's photos; returns its id."""
        return _child(self.call("DeleteAlbumPhoto", userId=user_id, photoId=photo_id),
                      "photoId")
