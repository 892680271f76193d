//! The C types: status codes, result enums, the property and result structs, and opaque handles.

use std::ffi::c_char;

use hogflags_core::{Evaluation, FlagValue, InconclusiveKind, ReasonCode};

/// The status every fallible function returns. `HF_OK` is 0; on any other status a message is available
/// from `hf_last_error()` on the same thread.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_status {
    /// Success.
    HF_OK = 0,
    /// A required pointer argument was NULL.
    HF_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    HF_ERR_INVALID_UTF8 = 2,
    /// A JSON argument was not JSON, or not of the expected shape.
    HF_ERR_INVALID_JSON = 3,
    /// An argument had a value outside its domain (unknown property kind, NaN, bad timestamp, ...).
    HF_ERR_INVALID_ARGUMENT = 4,
    /// A definitions document exceeded a resource limit (size, number of flags).
    HF_ERR_LIMIT_EXCEEDED = 5,
    /// A caller-provided buffer was too small; the needed size is reported through the out-length.
    HF_ERR_BUFFER_TOO_SMALL = 6,
    /// The networked client could not do what was asked (bad configuration, network or server failure,
    /// shut down); `hf_last_error()` says which.
    HF_ERR_CLIENT = 7,
    /// A wait ran out of time (`hf_client_wait_until_ready`).
    HF_ERR_TIMEOUT = 8,
    /// An internal error (a caught panic). The library stays usable; please report it.
    HF_ERR_PANIC = 99,
}

/// The kind of a flag value in an `hf_result`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_value {
    /// Decided: the flag is off.
    HF_VALUE_FALSE = 0,
    /// Decided: the flag is on (a boolean flag).
    HF_VALUE_TRUE = 1,
    /// Decided: the flag is on with a variant (see `hf_result.variant`).
    HF_VALUE_VARIANT = 2,
    /// Local evaluation could not decide (see `hf_result.inconclusive`); ask PostHog's `/flags`.
    HF_VALUE_INCONCLUSIVE = 3,
}

/// The `/flags` v2 reason code of a decided result.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_reason {
    /// No reason: the result is inconclusive (or the call failed).
    HF_REASON_NONE = 0,
    /// `condition_match`
    HF_REASON_CONDITION_MATCH = 1,
    /// `no_condition_match`
    HF_REASON_NO_CONDITION_MATCH = 2,
    /// `out_of_rollout_bound`
    HF_REASON_OUT_OF_ROLLOUT_BOUND = 3,
    /// `no_group_type`
    HF_REASON_NO_GROUP_TYPE = 4,
    /// `flag_disabled`
    HF_REASON_FLAG_DISABLED = 5,
    /// `holdout_condition_value`
    HF_REASON_HOLDOUT_CONDITION_VALUE = 6,
    /// `super_condition_value`
    HF_REASON_SUPER_CONDITION_VALUE = 7,
}

/// Why local evaluation could not decide.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_inconclusive {
    /// The result is decided (or the call failed).
    HF_INCONCLUSIVE_NONE = 0,
    /// `missing_property`: a filter needs a property that was not passed (`detail` names it).
    HF_INCONCLUSIVE_MISSING_PROPERTY = 1,
    /// `missing_cohort`: a cohort is not in the definitions (`detail` is its id).
    HF_INCONCLUSIVE_MISSING_COHORT = 2,
    /// `experience_continuity`: only the server keeps the hash-key overrides.
    HF_INCONCLUSIVE_EXPERIENCE_CONTINUITY = 3,
    /// `unknown_group_type`: the flag's group type index is not in `group_type_mapping`.
    HF_INCONCLUSIVE_UNKNOWN_GROUP_TYPE = 4,
    /// `missing_device_id`: the flag buckets by device id and none was given.
    HF_INCONCLUSIVE_MISSING_DEVICE_ID = 5,
    /// `dependency`: a flag dependency is missing, cyclic or itself inconclusive.
    HF_INCONCLUSIVE_DEPENDENCY = 6,
    /// `unknown_operator`: an operator that is not evaluated locally.
    HF_INCONCLUSIVE_UNKNOWN_OPERATOR = 7,
    /// `invalid_value`: a filter value that cannot be evaluated locally.
    HF_INCONCLUSIVE_INVALID_VALUE = 8,
    /// `unknown_flag`: the flag is not in the definitions (or was skipped when loading).
    HF_INCONCLUSIVE_UNKNOWN_FLAG = 9,
}

/// The kind of an `hf_property` value (the `kind` field holds one of these as an `int32_t`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_property_kind {
    /// `string_value`: a NUL-terminated UTF-8 string.
    HF_PROP_STRING = 0,
    /// `int_value`: a 64-bit integer.
    HF_PROP_INT = 1,
    /// `float_value`: a finite double (NaN and infinities are refused).
    HF_PROP_FLOAT = 2,
    /// `int_value`: 0 is false, anything else is true.
    HF_PROP_BOOL = 3,
    /// JSON `null` (no field is read).
    HF_PROP_NULL = 4,
    /// `string_value`: any JSON text (an array, an object, ...), parsed.
    HF_PROP_JSON = 5,
}

/// One property (key and typed value) passed to the typed calls. Only the field its `kind` names is
/// read; the `hf_prop_*` inline helpers at the end of this header build one. The strings are borrowed
/// for the duration of the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hf_property {
    /// The property key (NUL-terminated UTF-8).
    pub key: *const c_char,
    /// One of `hf_property_kind`.
    pub kind: i32,
    /// For `HF_PROP_STRING` and `HF_PROP_JSON`.
    pub string_value: *const c_char,
    /// For `HF_PROP_INT` and `HF_PROP_BOOL`.
    pub int_value: i64,
    /// For `HF_PROP_FLOAT`.
    pub float_value: f64,
}

/// The outcome of a typed evaluation. Nothing in it is owned by the caller: `variant` and `detail` are
/// borrowed from the engine and stay valid until that engine is freed. They are NOT NUL-terminated: use
/// their lengths (`printf("%.*s", (int)r.variant_len, r.variant)`) or `hf_result_copy_variant`.
/// On a non-OK status the struct is reset (value `HF_VALUE_FALSE`, no reason, pointers NULL).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hf_result {
    /// False, true, a variant, or inconclusive.
    pub value: hf_value,
    /// The reason of a decided result; `HF_REASON_NONE` when inconclusive.
    pub reason: hf_reason,
    /// The 0-based condition index of the reason, or -1 when there is none.
    pub condition_index: i32,
    /// Why the result is inconclusive; `HF_INCONCLUSIVE_NONE` when decided.
    pub inconclusive: hf_inconclusive,
    /// The variant key when `value == HF_VALUE_VARIANT`, else NULL (borrowed, not NUL-terminated).
    pub variant: *const c_char,
    /// Length of `variant` in bytes.
    pub variant_len: usize,
    /// Detail of an inconclusive result (property key, cohort id, flag key), else NULL (borrowed, not
    /// NUL-terminated).
    pub detail: *const c_char,
    /// Length of `detail` in bytes.
    pub detail_len: usize,
    /// 1 when the definitions hold a payload for the decided value (its JSON may be `null`), else 0.
    /// Read the payload itself through the JSON calls.
    pub has_payload: i32,
    /// 1 when `flag_id` is set, else 0.
    pub has_flag_id: i32,
    /// The flag's database id from the definitions.
    pub flag_id: i64,
    /// 1 when `version` is set, else 0.
    pub has_version: i32,
    /// The flag's version from the definitions.
    pub version: i64,
}

impl hf_result {
    pub(crate) const EMPTY: hf_result = hf_result {
        value: hf_value::HF_VALUE_FALSE,
        reason: hf_reason::HF_REASON_NONE,
        condition_index: -1,
        inconclusive: hf_inconclusive::HF_INCONCLUSIVE_NONE,
        variant: std::ptr::null(),
        variant_len: 0,
        detail: std::ptr::null(),
        detail_len: 0,
        has_payload: 0,
        has_flag_id: 0,
        flag_id: 0,
        has_version: 0,
        version: 0,
    };

    /// Converts an outcome; the pointers borrow from the snapshot the outcome came from.
    pub(crate) fn from_evaluation(e: &Evaluation<'_>) -> hf_result {
        let mut r = hf_result::EMPTY;
        match e {
            Evaluation::Decided(d) => {
                match d.value {
                    FlagValue::Bool(false) => r.value = hf_value::HF_VALUE_FALSE,
                    FlagValue::Bool(true) => r.value = hf_value::HF_VALUE_TRUE,
                    FlagValue::Variant(v) => {
                        r.value = hf_value::HF_VALUE_VARIANT;
                        r.variant = v.as_ptr().cast();
                        r.variant_len = v.len();
                    }
                }
                r.reason = reason(d.reason.code);
                r.condition_index = d.reason.condition_index.map_or(-1, |i| i32::try_from(i).unwrap_or(i32::MAX));
                r.has_payload = i32::from(d.payload.is_some());
                if let Some(id) = d.flag_id {
                    r.has_flag_id = 1;
                    r.flag_id = id;
                }
                if let Some(v) = d.version {
                    r.has_version = 1;
                    r.version = v;
                }
            }
            Evaluation::Inconclusive(i) => {
                r.value = hf_value::HF_VALUE_INCONCLUSIVE;
                r.inconclusive = inconclusive(i.kind);
                if let Some(d) = i.detail {
                    r.detail = d.as_ptr().cast();
                    r.detail_len = d.len();
                }
            }
        }
        r
    }
}

pub(crate) fn reason(code: ReasonCode) -> hf_reason {
    match code {
        ReasonCode::ConditionMatch => hf_reason::HF_REASON_CONDITION_MATCH,
        ReasonCode::NoConditionMatch => hf_reason::HF_REASON_NO_CONDITION_MATCH,
        ReasonCode::OutOfRolloutBound => hf_reason::HF_REASON_OUT_OF_ROLLOUT_BOUND,
        ReasonCode::NoGroupType => hf_reason::HF_REASON_NO_GROUP_TYPE,
        ReasonCode::FlagDisabled => hf_reason::HF_REASON_FLAG_DISABLED,
        ReasonCode::HoldoutConditionValue => hf_reason::HF_REASON_HOLDOUT_CONDITION_VALUE,
        ReasonCode::SuperConditionValue => hf_reason::HF_REASON_SUPER_CONDITION_VALUE,
    }
}

pub(crate) fn inconclusive(kind: InconclusiveKind) -> hf_inconclusive {
    match kind {
        InconclusiveKind::MissingProperty => hf_inconclusive::HF_INCONCLUSIVE_MISSING_PROPERTY,
        InconclusiveKind::MissingCohort => hf_inconclusive::HF_INCONCLUSIVE_MISSING_COHORT,
        InconclusiveKind::ExperienceContinuity => hf_inconclusive::HF_INCONCLUSIVE_EXPERIENCE_CONTINUITY,
        InconclusiveKind::UnknownGroupType => hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_GROUP_TYPE,
        InconclusiveKind::MissingDeviceId => hf_inconclusive::HF_INCONCLUSIVE_MISSING_DEVICE_ID,
        InconclusiveKind::Dependency => hf_inconclusive::HF_INCONCLUSIVE_DEPENDENCY,
        InconclusiveKind::UnknownOperator => hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_OPERATOR,
        InconclusiveKind::InvalidValue => hf_inconclusive::HF_INCONCLUSIVE_INVALID_VALUE,
        InconclusiveKind::UnknownFlag => hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_FLAG,
    }
}

/// The wire code of a reason (`"condition_match"`, ...), or `""` for `HF_REASON_NONE` and unknown values.
pub(crate) fn reason_code_str(r: i32) -> &'static std::ffi::CStr {
    const CONDITION_MATCH: i32 = hf_reason::HF_REASON_CONDITION_MATCH as i32;
    const NO_CONDITION_MATCH: i32 = hf_reason::HF_REASON_NO_CONDITION_MATCH as i32;
    const OUT_OF_ROLLOUT_BOUND: i32 = hf_reason::HF_REASON_OUT_OF_ROLLOUT_BOUND as i32;
    const NO_GROUP_TYPE: i32 = hf_reason::HF_REASON_NO_GROUP_TYPE as i32;
    const FLAG_DISABLED: i32 = hf_reason::HF_REASON_FLAG_DISABLED as i32;
    const HOLDOUT: i32 = hf_reason::HF_REASON_HOLDOUT_CONDITION_VALUE as i32;
    const SUPER: i32 = hf_reason::HF_REASON_SUPER_CONDITION_VALUE as i32;
    match r {
        CONDITION_MATCH => c"condition_match",
        NO_CONDITION_MATCH => c"no_condition_match",
        OUT_OF_ROLLOUT_BOUND => c"out_of_rollout_bound",
        NO_GROUP_TYPE => c"no_group_type",
        FLAG_DISABLED => c"flag_disabled",
        HOLDOUT => c"holdout_condition_value",
        SUPER => c"super_condition_value",
        _ => c"",
    }
}

/// The wire name of an inconclusive kind, or `""` for `HF_INCONCLUSIVE_NONE` and unknown values.
pub(crate) fn inconclusive_str(k: i32) -> &'static std::ffi::CStr {
    const ALL: [(hf_inconclusive, &std::ffi::CStr); 9] = [
        (hf_inconclusive::HF_INCONCLUSIVE_MISSING_PROPERTY, c"missing_property"),
        (hf_inconclusive::HF_INCONCLUSIVE_MISSING_COHORT, c"missing_cohort"),
        (hf_inconclusive::HF_INCONCLUSIVE_EXPERIENCE_CONTINUITY, c"experience_continuity"),
        (hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_GROUP_TYPE, c"unknown_group_type"),
        (hf_inconclusive::HF_INCONCLUSIVE_MISSING_DEVICE_ID, c"missing_device_id"),
        (hf_inconclusive::HF_INCONCLUSIVE_DEPENDENCY, c"dependency"),
        (hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_OPERATOR, c"unknown_operator"),
        (hf_inconclusive::HF_INCONCLUSIVE_INVALID_VALUE, c"invalid_value"),
        (hf_inconclusive::HF_INCONCLUSIVE_UNKNOWN_FLAG, c"unknown_flag"),
    ];
    ALL.iter().find(|(kind, _)| *kind as i32 == k).map_or(c"", |(_, name)| name)
}

/// The name of a status (`"HF_OK"`, ...), or `"HF_ERR_UNKNOWN"` for an unknown value.
pub(crate) fn status_str(s: i32) -> &'static std::ffi::CStr {
    const ALL: [(hf_status, &std::ffi::CStr); 10] = [
        (hf_status::HF_OK, c"HF_OK"),
        (hf_status::HF_ERR_NULL_ARGUMENT, c"HF_ERR_NULL_ARGUMENT"),
        (hf_status::HF_ERR_INVALID_UTF8, c"HF_ERR_INVALID_UTF8"),
        (hf_status::HF_ERR_INVALID_JSON, c"HF_ERR_INVALID_JSON"),
        (hf_status::HF_ERR_INVALID_ARGUMENT, c"HF_ERR_INVALID_ARGUMENT"),
        (hf_status::HF_ERR_LIMIT_EXCEEDED, c"HF_ERR_LIMIT_EXCEEDED"),
        (hf_status::HF_ERR_BUFFER_TOO_SMALL, c"HF_ERR_BUFFER_TOO_SMALL"),
        (hf_status::HF_ERR_CLIENT, c"HF_ERR_CLIENT"),
        (hf_status::HF_ERR_TIMEOUT, c"HF_ERR_TIMEOUT"),
        (hf_status::HF_ERR_PANIC, c"HF_ERR_PANIC"),
    ];
    ALL.iter().find(|(st, _)| *st as i32 == s).map_or(c"HF_ERR_UNKNOWN", |(_, name)| name)
}
