"""Exceptions raised by hogflags."""


class HogflagsError(Exception):
    """Base class of every hogflags exception."""


class InvalidDefinitionsError(HogflagsError, ValueError):
    """The definitions document cannot be loaded (not JSON, wrong shape, over a resource limit)."""


class InternalError(HogflagsError, RuntimeError):
    """A bug inside hogflags was caught at the boundary instead of crashing the process; please report it."""


class ConfigurationError(HogflagsError, ValueError):
    """A FlagsClient setting is invalid (empty key, a project key given as the secret key, bad host, …)."""

    code: str  # the core's code of the error (``config``), set when hogflags raises it


class ClientError(HogflagsError):
    """A FlagsClient operation failed. ``code`` says why: ``unauthorized``, ``forbidden``,
    ``quota_limited``, ``rate_limited``, ``server_error``, ``timeout``, ``connection_error``,
    ``malformed_body``, ``shut_down``, …"""

    code: str  # the core's code of the error, set when hogflags raises it
