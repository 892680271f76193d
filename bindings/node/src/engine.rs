//! The per-engine state: the compiled snapshot, the property keys to read, and the intern tables that
//! let outcomes cross N-API as integers.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::sync::Arc;

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue, InconclusiveKind, Properties, Reason, ReasonCode};
use napi::sys;
use serde_json::Value;

use crate::convert::{self, CResult, ConvError, Env, JsVal};

/// Integers per flag in an outcome record.
pub const STRIDE: usize = 5;
/// Integers before the first record.
pub const HEADER: usize = 2;

pub const REASON_CODES: [ReasonCode; 7] = [
    ReasonCode::SuperConditionValue,
    ReasonCode::HoldoutConditionValue,
    ReasonCode::ConditionMatch,
    ReasonCode::OutOfRolloutBound,
    ReasonCode::NoConditionMatch,
    ReasonCode::NoGroupType,
    ReasonCode::FlagDisabled,
];

pub const INCONCLUSIVE_KINDS: [InconclusiveKind; 9] = [
    InconclusiveKind::MissingProperty,
    InconclusiveKind::MissingCohort,
    InconclusiveKind::ExperienceContinuity,
    InconclusiveKind::UnknownGroupType,
    InconclusiveKind::MissingDeviceId,
    InconclusiveKind::Dependency,
    InconclusiveKind::UnknownOperator,
    InconclusiveKind::InvalidValue,
    InconclusiveKind::UnknownFlag,
];

fn reason_index(code: ReasonCode) -> i32 {
    REASON_CODES.iter().position(|c| *c == code).map_or(-1, |i| i as i32)
}

fn kind_index(kind: InconclusiveKind) -> i32 {
    INCONCLUSIVE_KINDS
        .iter()
        .position(|k| *k == kind)
        .map_or(-1, |i| i as i32)
}

/// A property key, ready for `napi_get_named_property` (or, when it holds a NUL, `napi_get_property`).
#[derive(Clone)]
pub struct Key {
    pub name: String,
    c: Option<CString>,
}

impl Key {
    fn new(name: &str) -> Key {
        Key {
            name: name.to_owned(),
            c: CString::new(name).ok(),
        }
    }

    /// `obj[key]`, as posthog-node reads it (prototype chain included), except `__proto__`: only an own
    /// property of that name counts (as `JSON.stringify` and so `/flags` would see it), never the object's
    /// prototype.
    unsafe fn get(&self, env: Env, obj: JsVal) -> CResult<JsVal> {
        if self.name == "__proto__" {
            let k = unsafe { self.js_name(env)? };
            let mut own = false;
            let mut out = std::ptr::null_mut();
            unsafe {
                if sys::napi_has_own_property(env, obj, k, &mut own) != sys::Status::napi_ok {
                    return Err(ConvError::internal("has own property"));
                }
                let status = if own { sys::napi_get_property(env, obj, k, &mut out) } else { sys::napi_get_undefined(env, &mut out) };
                if status != sys::Status::napi_ok {
                    return Err(ConvError::internal("get property"));
                }
            }
            return Ok(out);
        }
        match &self.c {
            Some(c) => unsafe { convert::get_named(env, obj, c) },
            None => {
                let k = unsafe { self.js_name(env)? };
                let mut out = std::ptr::null_mut();
                unsafe {
                    if sys::napi_get_property(env, obj, k, &mut out) != sys::Status::napi_ok {
                        return Err(ConvError::internal("get property"));
                    }
                }
                Ok(out)
            }
        }
    }

    unsafe fn js_name(&self, env: Env) -> CResult<JsVal> {
        let mut k = std::ptr::null_mut();
        if unsafe { sys::napi_create_string_utf8(env, self.name.as_ptr() as *const _, self.name.len() as isize, &mut k) }
            != sys::Status::napi_ok
        {
            return Err(ConvError::internal("create key"));
        }
        Ok(k)
    }
}

/// What to read for one group type: its key in `groups`, and the property keys in `groupProperties[type]`.
#[derive(Clone)]
pub struct GroupReads {
    pub group_type: Key,
    pub keys: Vec<Key>,
}

/// Strings and payloads interned per engine, copied once by the JS side.
#[derive(Default)]
pub struct Tables {
    pub strings: Vec<String>,
    /// (pointer, length) of a string borrowed from the snapshot → index.
    by_ptr: HashMap<(usize, usize), i32>,
    /// Reason descriptions by (code, condition index) → index.
    by_reason: HashMap<(i32, i64), i32>,
    pub payloads: Vec<String>,
    payload_by_ptr: HashMap<usize, i32>,
}

impl Tables {
    fn intern(&mut self, s: &str) -> i32 {
        let key = (s.as_ptr() as usize, s.len());
        if let Some(&i) = self.by_ptr.get(&key) {
            return i;
        }
        let i = self.strings.len() as i32;
        self.strings.push(s.to_owned());
        self.by_ptr.insert(key, i);
        i
    }

    fn description(&mut self, reason: &Reason) -> i32 {
        let key = (
            reason_index(reason.code),
            reason.condition_index.map_or(-1, |i| i as i64),
        );
        if let Some(&i) = self.by_reason.get(&key) {
            return i;
        }
        let i = self.strings.len() as i32;
        self.strings.push(reason.description());
        self.by_reason.insert(key, i);
        i
    }

    fn payload(&mut self, v: &Value) -> i32 {
        let key = v as *const Value as usize;
        if let Some(&i) = self.payload_by_ptr.get(&key) {
            return i;
        }
        let i = self.payloads.len() as i32;
        self.payloads.push(v.to_string());
        self.payload_by_ptr.insert(key, i);
        i
    }

    /// Writes one outcome record. Strings and payloads are borrowed from the snapshot, which lives as long
    /// as the tables, so their addresses identify them.
    pub fn encode(&mut self, e: &Evaluation<'_>, rec: &mut [i32]) {
        match e {
            Evaluation::Decided(r) => {
                rec[0] = match r.value {
                    FlagValue::Bool(false) => 0,
                    FlagValue::Bool(true) => 1,
                    FlagValue::Variant(v) => 2 + self.intern(v),
                };
                rec[1] = r.payload.map_or(-1, |p| self.payload(p));
                rec[2] = reason_index(r.reason.code);
                rec[3] = r.reason.condition_index.map_or(-1, |i| i.min(i32::MAX as usize) as i32);
                rec[4] = self.description(&r.reason);
            }
            Evaluation::Inconclusive(i) => {
                rec[0] = -1 - kind_index(i.kind);
                rec[1] = -1;
                rec[2] = i.detail.map_or(-1, |d| self.intern(d));
                rec[3] = -1;
                rec[4] = -1;
            }
        }
    }

    pub fn header(&self, out: &mut [i32]) {
        out[0] = self.strings.len() as i32;
        out[1] = self.payloads.len() as i32;
    }
}

/// Where the person properties come from.
#[derive(Clone, Copy)]
pub enum Person {
    /// An array of values aligned with the keys of the [`Reads`] (the JS side read them).
    Values(JsVal),
    /// The caller's object: the keys of the [`Reads`] are read from it by name.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    Object(JsVal),
}

/// The inputs one evaluation converts: person property keys (indices into [`EngineState::person_keys`],
/// in the order the JS side passes their values) and, per known group type, the group property keys.
pub struct Reads {
    pub person: Vec<u32>,
    pub groups: Vec<GroupReads>,
}

/// One engine: an immutable snapshot (shared, `Send + Sync`) plus this JS engine's conversion state.
pub struct EngineState {
    pub snap: Arc<FlagSnapshot>,
    /// Every person property key the snapshot reads ([`FlagSnapshot::property_keys`]).
    pub person_keys: Vec<String>,
    /// The same keys, ready for reading them by name from a JS object.
    person_key_refs: Vec<Key>,
    /// What evaluating every flag reads.
    pub all: Reads,
    /// What evaluating one flag reads ([`FlagSnapshot::flag_property_keys`]: its own filters', its cohorts'
    /// and its dependencies' keys).
    pub per_flag: HashMap<String, Reads>,
    /// No flag: nothing to read.
    pub none: Reads,
    /// Only borrowed while no JS runs (after the context is built), so re-entrant calls from property
    /// getters never meet a live borrow.
    pub tables: RefCell<Tables>,
}

impl EngineState {
    pub fn new(snap: Arc<FlagSnapshot>) -> EngineState {
        let reads = snap.property_keys();
        let person_keys: Vec<String> = reads.person.iter().cloned().collect();
        let position: HashMap<&str, u32> = person_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as u32))
            .collect();
        let mut types: BTreeSet<&str> = snap.group_type_mapping().values().map(String::as_str).collect();
        types.extend(reads.groups.keys().map(String::as_str));
        let group_reads = |keys: &hogflags::PropertyKeys| -> Vec<GroupReads> {
            types
                .iter()
                .map(|t| GroupReads {
                    group_type: Key::new(t),
                    keys: keys
                        .groups
                        .get(*t)
                        .map(|ks| ks.iter().map(|k| Key::new(k)).collect())
                        .unwrap_or_default(),
                })
                .collect()
        };
        let all = Reads {
            person: (0..person_keys.len() as u32).collect(),
            groups: group_reads(reads),
        };
        let person_key_refs = person_keys.iter().map(|k| Key::new(k)).collect();
        let mut per_flag = HashMap::with_capacity(snap.len());
        for f in snap.flags() {
            let own = snap.flag_property_keys(f.key).unwrap_or(reads);
            let r = Reads {
                person: own
                    .person
                    .iter()
                    .filter_map(|k| position.get(k.as_str()).copied())
                    .collect(),
                groups: group_reads(own),
            };
            per_flag.insert(f.key.to_owned(), r);
        }
        let none = Reads {
            person: Vec::new(),
            groups: Vec::new(),
        };
        EngineState {
            snap,
            person_keys,
            person_key_refs,
            all,
            per_flag,
            none,
            tables: RefCell::new(Tables::default()),
        }
    }

    /// What evaluating `key` alone reads.
    pub fn reads_for(&self, key: &str) -> &Reads {
        self.per_flag.get(key).unwrap_or(&self.none)
    }

    /// Builds the evaluation context from the caller's JS values.
    ///
    /// `person_values` is `undefined`/`null` (no person properties) or an array holding, for each key of
    /// `reads.person`, the caller's value (`undefined` when absent): the JS side reads only those keys from
    /// the caller's object. `groups` and `group_props` are the caller's objects; only the group types the
    /// snapshot knows and the group property keys of `reads` are looked up.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn context(
        &self,
        env: Env,
        reads: &Reads,
        distinct_id: JsVal,
        person: Person,
        groups: JsVal,
        group_props: JsVal,
        device_id: JsVal,
        now: JsVal,
    ) -> CResult<EvaluationContext> {
        let id = unsafe { convert::to_json(env, distinct_id, 0)? }
            .as_ref()
            .and_then(hogflags::identifier_text)
            .ok_or_else(|| ConvError::type_error("distinctId must be a string or a number"))?;
        let mut ctx = EvaluationContext::new(id);

        if let Person::Object(obj) = person {
            if !unsafe { convert::is_nullish(env, obj)? } {
                if !unsafe { convert::is_plain_object(env, obj)? } {
                    return Err(ConvError::type_error("personProperties must be an object"));
                }
                let mut props = Properties::with_capacity_and_hasher(reads.person.len(), Default::default());
                for &k in &reads.person {
                    let key = &self.person_key_refs[k as usize];
                    let v = unsafe { key.get(env, obj)? };
                    if let Some(v) = unsafe { convert::to_json(env, v, 0)? } {
                        props.insert(key.name.clone(), v);
                    }
                }
                ctx = ctx.with_person_properties(props);
            }
        }
        if let Person::Values(person_values) = person {
            if !unsafe { convert::is_nullish(env, person_values)? } {
                let mut is_array = false;
                unsafe { convert::check(sys::napi_is_array(env, person_values, &mut is_array), "is array")? };
                let mut len = 0u32;
                if is_array {
                    unsafe {
                        convert::check(sys::napi_get_array_length(env, person_values, &mut len), "array length")?
                    };
                }
                if !is_array || len as usize != reads.person.len() {
                    return Err(ConvError::type_error(
                        "person property values must be an array aligned with the keys read",
                    ));
                }
                let mut props = Properties::with_capacity_and_hasher(reads.person.len(), Default::default());
                for (i, &k) in reads.person.iter().enumerate() {
                    let mut v = std::ptr::null_mut();
                    unsafe {
                        convert::check(
                            sys::napi_get_element(env, person_values, i as u32, &mut v),
                            "array element",
                        )?
                    };
                    if let Some(v) = unsafe { convert::to_json(env, v, 0)? } {
                        props.insert(self.person_keys[k as usize].clone(), v);
                    }
                }
                ctx = ctx.with_person_properties(props);
            }
        }

        if !unsafe { convert::is_nullish(env, groups)? } {
            if !unsafe { convert::is_plain_object(env, groups)? } {
                return Err(ConvError::type_error("groups must be an object"));
            }
            for g in &reads.groups {
                let v = unsafe { g.group_type.get(env, groups)? };
                // Numbers become their decimal text; other types mean "group absent" (docs/semantics.md D3).
                if let Some(key) = unsafe { convert::to_json(env, v, 0)? }
                    .as_ref()
                    .and_then(hogflags::identifier_text)
                {
                    ctx = ctx.with_group(g.group_type.name.as_str(), key);
                }
            }
        }

        if !unsafe { convert::is_nullish(env, group_props)? } {
            if !unsafe { convert::is_plain_object(env, group_props)? } {
                return Err(ConvError::type_error("groupProperties must be an object"));
            }
            for g in &reads.groups {
                let obj = unsafe { g.group_type.get(env, group_props)? };
                if unsafe { convert::is_nullish(env, obj)? } {
                    continue;
                }
                if !unsafe { convert::is_plain_object(env, obj)? } {
                    return Err(ConvError::type_error(format!(
                        "groupProperties[{:?}] must be an object",
                        g.group_type.name
                    )));
                }
                if g.keys.is_empty() {
                    continue;
                }
                let mut props = Properties::with_capacity_and_hasher(g.keys.len(), Default::default());
                for k in &g.keys {
                    let v = unsafe { k.get(env, obj)? };
                    if let Some(v) = unsafe { convert::to_json(env, v, 0)? } {
                        props.insert(k.name.clone(), v);
                    }
                }
                ctx = ctx.with_group_properties(g.group_type.name.as_str(), props);
            }
        }

        if !unsafe { convert::is_nullish(env, device_id)? } {
            if unsafe { convert::type_of(env, device_id)? } != sys::ValueType::napi_string {
                return Err(ConvError::type_error("deviceId must be a string"));
            }
            ctx = ctx.with_device_id(unsafe { convert::read_string(env, device_id)? });
        }

        if !unsafe { convert::is_nullish(env, now)? } {
            ctx = ctx.with_now(unsafe { read_now(env, now)? });
        }
        Ok(ctx)
    }
}

unsafe fn read_now(env: Env, now: JsVal) -> CResult<chrono::DateTime<chrono::Utc>> {
    let bad = || ConvError::type_error("now must be a Date, an RFC 3339 string or milliseconds since the epoch");
    let ms = match unsafe { convert::type_of(env, now)? } {
        sys::ValueType::napi_string => {
            let s = unsafe { convert::read_string(env, now)? };
            return chrono::DateTime::parse_from_rfc3339(&s)
                .map(|d| d.to_utc())
                .map_err(|_| bad());
        }
        sys::ValueType::napi_number => {
            let mut x = 0f64;
            unsafe { convert::check(sys::napi_get_value_double(env, now, &mut x), "number")? };
            x
        }
        sys::ValueType::napi_object => {
            let mut is_date = false;
            unsafe { convert::check(sys::napi_is_date(env, now, &mut is_date), "is date")? };
            if !is_date {
                return Err(bad());
            }
            let mut x = 0f64;
            unsafe { convert::check(sys::napi_get_date_value(env, now, &mut x), "date value")? };
            x
        }
        _ => return Err(bad()),
    };
    if !ms.is_finite() {
        return Err(bad());
    }
    chrono::DateTime::from_timestamp_millis(ms as i64).ok_or_else(bad)
}

/// The record area of the caller's output `Int32Array`, checked to hold `records` records.
pub unsafe fn out_records<'a>(env: Env, out: JsVal, records: usize) -> CResult<&'a mut [i32]> {
    let mut is_ta = false;
    unsafe { convert::check(sys::napi_is_typedarray(env, out, &mut is_ta), "is typed array")? };
    if !is_ta {
        return Err(ConvError::type_error("out must be an Int32Array"));
    }
    let (ty, len, data) = unsafe { convert::typed_array(env, out)? };
    if ty != sys::TypedarrayType::int32_array {
        return Err(ConvError::type_error("out must be an Int32Array"));
    }
    let need = HEADER + STRIDE * records;
    if len < need {
        return Err(ConvError::type_error(format!(
            "out holds {len} integers, {need} needed"
        )));
    }
    if len == 0 {
        return Ok(&mut []);
    }
    Ok(unsafe { std::slice::from_raw_parts_mut(data as *mut i32, len) })
}

