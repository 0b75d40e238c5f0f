"""kisekae.errors: the exceptions the client raises.

Every error is a KisekaeError carrying a stable .code, so a site can branch on
the code (``if e.code == "NotOwned"``) or on the class (``except
kisekae.NotOwnedError``):

- a fault the API answered: KisekaeFault, or one of its subclasses named for
  the fault's code (NotFoundError for "NotFound", ...). .code is the code of
  the fault's <detail><KisekaeFault><code>, .fault_code the SOAP faultcode
  ("SOAP-ENV:Client": the caller must change something; "SOAP-ENV:Server").
  HTTP 401 arrives as a fault too (UnauthorizedError);
- no API URL answered (refused, timed out, or failed before the call was
  sent): UnavailableError, code "Unavailable";
- a call that is not safe to send twice was cut off after it was sent (a
  reset, a timeout, an HTTP 5xx without a fault): OutcomeUnknownError, code
  "OutcomeUnknown". The call may or may not have taken effect: read the
  state again before repeating it.
"""


class KisekaeError(Exception):
    """Base class. code: the stable code; operation: the SOAP operation;
    url: the API URL that gave the error (None when every URL failed)."""

    code = None

    def __init__(self, message, operation=None, url=None, code=None):
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.url = url
        if code is not None:
            self.code = code

    def __str__(self):
        where = "%s: " % self.operation if self.operation else ""
        return "%s%s: %s" % (where, self.code, self.message)


class KisekaeFault(KisekaeError):
    """A SOAP fault from the API. fault_code: the SOAP faultcode."""

    def __init__(self, message, operation=None, url=None, code=None, fault_code=None):
        super().__init__(message, operation, url, code)
        self.fault_code = fault_code


class NotFoundError(KisekaeFault):
    code = "NotFound"


class InvalidArgumentError(KisekaeFault):
    code = "InvalidArgument"


class NotOwnedError(KisekaeFault):
    code = "NotOwned"


class ConflictError(KisekaeFault):
    code = "Conflict"


class UnauthorizedError(KisekaeFault):
    code = "Unauthorized"


class ForbiddenError(KisekaeFault):
    code = "Forbidden"


class TooLargeError(KisekaeFault):
    code = "TooLarge"


class ImageServerUnavailableError(KisekaeFault):
    code = "ImageServerUnavailable"


class DatabaseUnavailableError(KisekaeFault):
    code = "DatabaseUnavailable"


class InternalError(KisekaeFault):
    code = "Internal"


class UnavailableError(KisekaeError):
    code = "Unavailable"


class OutcomeUnknownError(KisekaeError):
    code = "OutcomeUnknown"


FAULT_CLASSES = {cls.code: cls for cls in (
    NotFoundError, InvalidArgumentError, NotOwnedError, ConflictError, UnauthorizedError,
    ForbiddenError, TooLargeError, ImageServerUnavailableError, DatabaseUnavailableError,
    InternalError)}


def fault_error(code, message, operation=None, url=None, fault_code=None):
    """The exception for a fault with this code: the class named for it, or
    KisekaeFault itself for a code this module does not know (code kept)."""
    cls = FAULT_CLASSES.get(code, KisekaeFault)
    return cls(message, operation=operation, url=url, code=code, fault_code=fault_code)
