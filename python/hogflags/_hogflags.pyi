"""Type stubs of the native module (re-exported by ``hogflags``)."""

from datetime import datetime
import os
from types import TracebackType
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

_FlagValue = Union[bool, str]
_Id = Union[str, int]
_Props = Mapping[str, Any]

CORE_VERSION: str

def _panic_for_test(detached: bool) -> None: ...
def _set_finalizing() -> None: ...

class FlagReason:
    """Why a flag has its value (``/flags`` v2 reason)."""

    @property
    def code(self) -> str: ...
    @property
    def condition_index(self) -> Optional[int]: ...
    @property
    def description(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Unresolved:
    """Why local evaluation could not decide a flag."""

    @property
    def kind(self) -> str: ...
    @property
    def detail(self) -> Optional[str]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class FeatureFlagResult:
    """One decided flag (posthog-python's ``FeatureFlagResult`` plus code, index, id and version)."""

    @property
    def key(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def variant(self) -> Optional[str]: ...
    @property
    def payload(self) -> Any: ...
    @property
    def reason(self) -> Optional[str]: ...
    @property
    def reason_code(self) -> Optional[str]: ...
    @property
    def condition_index(self) -> Optional[int]: ...
    @property
    def flag_id(self) -> Optional[int]: ...
    @property
    def version(self) -> Optional[int]: ...
    @property
    def locally_evaluated(self) -> bool: ...
    @property
    def value(self) -> _FlagValue: ...
    def get_value(self) -> _FlagValue: ...

class FeatureFlagEvaluations:
    """Every flag evaluated once for one user."""

    @property
    def distinct_id(self) -> str: ...
    @property
    def flags(self) -> Dict[str, _FlagValue]: ...
    @property
    def payloads(self) -> Dict[str, Any]: ...
    @property
    def reasons(self) -> Dict[str, FlagReason]: ...
    @property
    def unresolved(self) -> Dict[str, Unresolved]: ...
    @property
    def unresolved_flags(self) -> Dict[str, Unresolved]: ...
    def is_enabled(self, key: str, default_value: bool = False, *, send_feature_flag_events: bool = True) -> bool: ...
    def get_flag(self, key: str, *, send_feature_flag_events: bool = True) -> Optional[_FlagValue]: ...
    def get_flag_payload(self, key: str) -> Any: ...
    def only_accessed(self) -> "FeatureFlagEvaluations": ...
    def only(self, keys: List[str]) -> "FeatureFlagEvaluations": ...
    def keys(self) -> List[str]: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...

class FlagsEngine:
    """A loaded definitions document, evaluated locally. Immutable; share one across threads."""

    def __init__(self, definitions: Union[str, bytes, bytearray, Mapping[str, Any]]) -> None: ...
    def get_feature_flag(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        now: Optional[datetime] = None,
    ) -> Optional[_FlagValue]: ...
    def feature_enabled(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        now: Optional[datetime] = None,
    ) -> Optional[bool]: ...
    def get_feature_flag_payload(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        now: Optional[datetime] = None,
    ) -> Any: ...
    def get_feature_flag_result(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        now: Optional[datetime] = None,
    ) -> Optional[FeatureFlagResult]: ...
    def get_all_flags(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        flag_keys_to_evaluate: Optional[Iterable[str]] = None,
        now: Optional[datetime] = None,
    ) -> Dict[str, _FlagValue]: ...
    def get_all_flags_and_payloads(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        flag_keys_to_evaluate: Optional[Iterable[str]] = None,
        now: Optional[datetime] = None,
    ) -> Dict[str, Dict[str, Any]]: ...
    def evaluate_flags(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        flag_keys: Optional[Iterable[str]] = None,
        now: Optional[datetime] = None,
    ) -> FeatureFlagEvaluations: ...
    @property
    def flag_keys(self) -> List[str]: ...
    @property
    def skipped_flags(self) -> List[Tuple[str, str]]: ...
    @property
    def broken_cohorts(self) -> List[Tuple[str, str]]: ...
    @property
    def group_type_mapping(self) -> Dict[str, str]: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...

class FlagsClient:
    """Polls flag definitions, evaluates locally, asks PostHog's /flags for what it cannot decide."""

    def __init__(
        self,
        project_api_key: str,
        *,
        secret_key: Optional[str] = None,
        personal_api_key: Optional[str] = None,
        host: Optional[str] = None,
        poll_interval: float = 30.0,
        definitions_timeout: float = 10.0,
        feature_flags_request_timeout_seconds: float = 3.0,
        only_evaluate_locally: bool = False,
        cache_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        on_feature_flag_called: Optional[Callable[[Dict[str, Any]], Any]] = None,
        on_error: Optional[Callable[[BaseException], Any]] = None,
        on_definitions_updated: Optional[Callable[[Dict[str, Any]], Any]] = None,
        dedupe_capacity: int = 50_000,
        max_backoff: float = 300.0,
        max_retry_after: Optional[float] = None,
        jitter: float = 0.1,
        manual: bool = False,
        use_system_proxy: bool = True,
        evaluation_contexts: Optional[Sequence[str]] = None,
        disable_geoip: bool = True,
    ) -> None: ...
    def get_feature_flag(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        send_feature_flag_events: bool = True,
    ) -> Optional[_FlagValue]: ...
    def feature_enabled(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        send_feature_flag_events: bool = True,
    ) -> Optional[bool]: ...
    def get_feature_flag_payload(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        send_feature_flag_events: bool = False,
    ) -> Any: ...
    def get_feature_flag_result(
        self,
        key: str,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        send_feature_flag_events: bool = True,
    ) -> Optional[FeatureFlagResult]: ...
    def get_all_flags(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        flag_keys_to_evaluate: Optional[Iterable[str]] = None,
    ) -> Dict[str, _FlagValue]: ...
    def get_all_flags_and_payloads(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        flag_keys_to_evaluate: Optional[Iterable[str]] = None,
    ) -> Dict[str, Dict[str, Any]]: ...
    def evaluate_flags(
        self,
        distinct_id: _Id,
        *,
        groups: Optional[Mapping[str, _Id]] = None,
        person_properties: Optional[_Props] = None,
        group_properties: Optional[Mapping[str, _Props]] = None,
        device_id: Optional[str] = None,
        only_evaluate_locally: bool = False,
        flag_keys: Optional[Iterable[str]] = None,
    ) -> FeatureFlagEvaluations: ...
    def get_remote_config_payload(self, key: str) -> Any: ...
    def reload_feature_flags(self) -> None: ...
    def wait_until_ready(self, timeout: float = 10.0) -> bool: ...
    def tick(self) -> Dict[str, Any]: ...
    @property
    def status(self) -> Dict[str, Any]: ...
    @property
    def engine(self) -> FlagsEngine: ...
    def shutdown(self) -> None: ...
    def __enter__(self) -> "FlagsClient": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    def _after_fork(self) -> None: ...
