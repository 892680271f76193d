"""hogflags: PostHog feature flags evaluated locally with the server's exact semantics.

Every answer comes from the Rust core (``hogflags._hogflags``); this package only re-exports it with
posthog-python's names: ``FlagsEngine`` (offline, a definitions document you pass) and ``FlagsClient``
(polls definitions, falls back to PostHog's ``/flags``, reports ``$feature_flag_called`` events).
See README.md for the API and the value-conversion rules.
"""

from typing import Union

from ._client import FlagsClient
from ._errors import ClientError, ConfigurationError, HogflagsError, InternalError, InvalidDefinitionsError
from ._hogflags import (
    CORE_VERSION as _CORE_VERSION,
    FeatureFlagEvaluations,
    FeatureFlagResult,
    FlagReason,
    FlagsEngine,
    Unresolved,
)

FlagValue = Union[bool, str]
"""A decided flag value: ``True``, ``False`` or a variant key."""

__version__ = _CORE_VERSION

__all__ = [
    "ClientError",
    "ConfigurationError",
    "FlagsClient",
    "FeatureFlagEvaluations",
    "FeatureFlagResult",
    "FlagReason",
    "FlagValue",
    "FlagsEngine",
    "HogflagsError",
    "InternalError",
    "InvalidDefinitionsError",
    "Unresolved",
    "__version__",
]
