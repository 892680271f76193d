//! `hogflags.FlagsEngine`: a compiled definitions document, evaluated with posthog-python's method names.
//! Everything here converts arguments into an `EvaluationContext` and the core's answers into Python
//! objects; every decision is the core's.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue, Properties, PropertyKeys};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::convert::{self, str_of, text_of, type_name};
use crate::results::{FeatureFlagEvaluations, FeatureFlagResult, FlagReason, Unresolved};

static ERRORS: [PyOnceLock<Py<PyType>>; 2] = [PyOnceLock::new(), PyOnceLock::new()];
/// Evaluating at least this many flags in one call releases the GIL. Handing the GIL over costs a thread
/// wake-up each way, so it pays only for long evaluations: measured with two threads sharing one engine
/// (python/README.md, "Threads and the GIL"), releasing it made total throughput *fall* to 0.7× for 100
/// flags (~14 µs of Rust work) and stay flat at 150, and made it grow 1.6–1.7× from 250 flags up.
pub const DETACH_MIN_FLAGS: usize = 200;

static MAPPING: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn hogflags_error(py: Python<'_>, which: usize, msg: String) -> PyErr {
    let name = ["InvalidDefinitionsError", "InternalError"][which];
    match ERRORS[which].import(py, "hogflags._errors", name) {
        Ok(t) => PyErr::from_type(t.clone(), msg),
        Err(e) => e,
    }
}

pub fn invalid_definitions(py: Python<'_>, msg: String) -> PyErr {
    hogflags_error(py, 0, msg)
}

/// A panic caught at the boundary: never crosses into Python as a crash.
pub fn internal_error(py: Python<'_>, payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    hogflags_error(py, 1, format!("internal error in hogflags (please report it): {what}"))
}

/// Runs `f` without the GIL, catching any panic.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f))).map_err(|p| internal_error(py, p))
}

/// Runs `f` with the GIL held, catching any panic.
pub fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(internal_error(py, p)))
}

/// Property keys some flag reads: interned Python strings to look up in the caller's dict, and the set to
/// filter a small dict by.
struct KeySet {
    keys: Vec<(Py<PyString>, String)>,
    set: HashSet<String>,
}

impl KeySet {
    fn new<'a>(py: Python<'_>, keys: impl Iterator<Item = &'a String>) -> KeySet {
        let keys: Vec<(Py<PyString>, String)> =
            keys.map(|k| (PyString::intern(py, k).unbind(), k.clone())).collect();
        let set = keys.iter().map(|(_, k)| k.clone()).collect();
        KeySet { keys, set }
    }

    /// The read properties of `dict`, converted; nothing else in the dict is looked at.
    fn collect(&self, dict: &Bound<'_, PyDict>, what: &str) -> PyResult<Properties> {
        if self.keys.is_empty() {
            return Ok(Properties::default());
        }
        let mut props = Properties::with_capacity_and_hasher(self.keys.len().min(dict.len()), Default::default());
        let py = dict.py();
        if dict.len() < self.keys.len() {
            // A small dict against many read keys: walk the dict.
            for (k, v) in dict.iter() {
                let Ok(Some(text)) = text_of(&k) else { continue };
                if self.set.contains(text) {
                    let value = convert::to_json(&v, &|| format!("{what}[{}]", convert::key_repr(text)))?;
                    props.insert(text.to_owned(), value);
                }
            }
        } else {
            for (pykey, key) in &self.keys {
                if let Some(v) = dict.get_item(pykey.bind(py))? {
                    let value = convert::to_json(&v, &|| format!("{what}[{}]", convert::key_repr(key)))?;
                    props.insert(key.clone(), value);
                }
            }
        }
        Ok(props)
    }
}

/// A mapping argument as a dict (dicts and subclasses as they are; other mappings copied).
fn as_dict<'a, 'py>(obj: &'a Bound<'py, PyAny>, what: &str) -> PyResult<std::borrow::Cow<'a, Bound<'py, PyDict>>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(std::borrow::Cow::Borrowed(d));
    }
    let py = obj.py();
    if obj.is_instance(MAPPING.import(py, "collections.abc", "Mapping")?)? {
        let d = PyDict::new(py);
        d.update(obj.cast::<pyo3::types::PyMapping>()?)?;
        return Ok(std::borrow::Cow::Owned(d));
    }
    Err(PyTypeError::new_err(format!("{what} must be a dict (a mapping), not {}", type_name(obj))))
}

/// The call arguments every evaluation method takes.
#[derive(Clone, Copy)]
pub struct Args<'a, 'py> {
    pub distinct_id: &'a Bound<'py, PyAny>,
    pub groups: Option<&'a Bound<'py, PyAny>>,
    pub person_properties: Option<&'a Bound<'py, PyAny>>,
    pub group_properties: Option<&'a Bound<'py, PyAny>>,
    pub device_id: Option<&'a Bound<'py, PyAny>>,
    pub now: Option<&'a Bound<'py, PyAny>>,
}

/// The property keys some evaluation reads, as interned Python strings: a whole snapshot's, or one flag's.
pub struct Reads {
    person: KeySet,
    /// Group type name (as a Python str) → the property keys read for that type.
    groups: Vec<(Py<PyString>, String, KeySet)>,
}

impl Reads {
    fn new(py: Python<'_>, keys: &PropertyKeys) -> Reads {
        let groups = keys
            .groups
            .iter()
            .map(|(g, keys)| (PyString::intern(py, g).unbind(), g.clone(), KeySet::new(py, keys.iter())))
            .collect();
        Reads { person: KeySet::new(py, keys.person.iter()), groups }
    }
}

/// What converting Python arguments needs from one snapshot: the property keys its flags read (as
/// interned Python strings), per flag and in all, and its flag keys.
pub struct Converter {
    document: Reads,
    /// Per flag position, built on first use: a one-flag call converts only what that flag reads
    /// (a 100-flag document would otherwise convert every key any flag reads, on every call).
    per_flag: Vec<PyOnceLock<Reads>>,
    /// The loaded flag keys in document order, as Python strings.
    pub flag_keys: Vec<Py<PyString>>,
}

impl Converter {
    pub fn new(py: Python<'_>, snapshot: &FlagSnapshot) -> Converter {
        let document = Reads::new(py, snapshot.property_keys());
        let per_flag = (0..snapshot.len()).map(|_| PyOnceLock::new()).collect();
        let flag_keys = snapshot.flags().map(|f| PyString::intern(py, f.key).unbind()).collect();
        Converter { document, per_flag, flag_keys }
    }

    /// The keys to convert for one call: the flag's own (with its dependencies' and cohorts') when one
    /// loaded flag is evaluated, the whole document's otherwise.
    pub fn reads(&self, py: Python<'_>, snapshot: &FlagSnapshot, position: Option<usize>) -> &Reads {
        match position.and_then(|i| Some((self.per_flag.get(i)?, snapshot.flag_property_keys_at(i)?))) {
            Some((cell, keys)) => cell.get_or_init(py, || Reads::new(py, keys)),
            None => &self.document,
        }
    }

    /// Builds the evaluation context. Only the properties in `reads` are converted; with `None`, every
    /// property the caller passed (for a `/flags` request, which must carry them all).
    pub fn context(&self, args: &Args<'_, '_>, reads: Option<&Reads>) -> PyResult<EvaluationContext> {
        let py = args.distinct_id.py();
        let distinct_id = match convert::identifier(args.distinct_id) {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Err(PyTypeError::new_err(format!(
                    "distinct_id must be a str or an int, not {}",
                    type_name(args.distinct_id)
                )))
            }
            Err(e) => return Err(PyValueError::new_err(format!("distinct_id: {}", e.value(py)))),
        };
        let mut ctx = EvaluationContext::new(distinct_id);
        if let Some(p) = args.person_properties.filter(|p| !p.is_none()) {
            let dict = as_dict(p, "person_properties")?;
            let props = match reads {
                None => collect_all(&dict, "person_properties")?,
                Some(r) => r.person.collect(&dict, "person_properties")?,
            };
            ctx = ctx.with_person_properties(props);
        }
        if let Some(g) = args.groups.filter(|g| !g.is_none()) {
            let dict = as_dict(g, "groups")?;
            for (t, k) in dict.iter() {
                let Some(group_type) = text_of(&t)? else {
                    return Err(PyTypeError::new_err(format!(
                        "groups: group types must be str, not {}",
                        type_name(&t)
                    )));
                };
                // Bool, None, list, dict, NaN: no identifier, the group counts as absent (as on the server).
                if let Ok(Some(key)) = convert::identifier(&k) {
                    ctx = ctx.with_group(group_type, key);
                }
            }
        }
        if let Some(gp) = args.group_properties.filter(|g| !g.is_none()) {
            let dict = as_dict(gp, "group_properties")?;
            if let Some(reads) = reads {
                for (pytype, group_type, keys) in &reads.groups {
                    if let Some(props) = dict.get_item(pytype.bind(py))? {
                        if props.is_none() {
                            continue;
                        }
                        let what = format!("group_properties[{}]", convert::key_repr(group_type));
                        let props = as_dict(&props, &what)?;
                        ctx = ctx.with_group_properties(group_type.clone(), keys.collect(&props, &what)?);
                    }
                }
            } else {
                for (t, props) in dict.iter() {
                    let Some(group_type) = text_of(&t)? else {
                        return Err(PyTypeError::new_err(format!(
                            "group_properties: group types must be str, not {}",
                            type_name(&t)
                        )));
                    };
                    if props.is_none() {
                        continue;
                    }
                    let what = format!("group_properties[{}]", convert::key_repr(group_type));
                    let props = as_dict(&props, &what)?;
                    ctx = ctx.with_group_properties(group_type, collect_all(&props, &what)?);
                }
            }
        }
        if let Some(d) = args.device_id.filter(|d| !d.is_none()) {
            match d.cast::<PyString>() {
                Ok(s) => ctx = ctx.with_device_id(str_of(s)?),
                Err(_) => {
                    return Err(PyTypeError::new_err(format!("device_id must be a str or None, not {}", type_name(d))))
                }
            }
        }
        if let Some(now) = args.now.filter(|n| !n.is_none()) {
            ctx = ctx.with_now(to_utc(now)?);
        }
        Ok(ctx)
    }

    /// The Python key of the `i`-th flag of the snapshot (interned), or a new string if `key` differs.
    pub fn flag_key<'py>(&self, py: Python<'py>, i: usize, key: &str) -> Bound<'py, PyString> {
        match self.flag_keys.get(i) {
            Some(k) if str_of(k.bind(py)).map(|s| s == key).unwrap_or(false) => k.bind(py).clone(),
            _ => PyString::new(py, key),
        }
    }
}

/// Every `str`-keyed property of `dict`, converted (non-`str` keys are skipped).
fn collect_all(dict: &Bound<'_, PyDict>, what: &str) -> PyResult<Properties> {
    let mut props = Properties::with_capacity_and_hasher(dict.len(), Default::default());
    for (k, v) in dict.iter() {
        let Ok(Some(text)) = text_of(&k) else { continue };
        let value = convert::to_json(&v, &|| format!("{what}[{}]", convert::key_repr(text)))?;
        props.insert(text.to_owned(), value);
    }
    Ok(props)
}

/// A list of flag keys given by the caller (any iterable of `str`, not a `str` itself).
pub fn flag_key_list<'py>(keys: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyString>>> {
    if keys.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("the list of flag keys must be a list of str, not a str"));
    }
    let mut pykeys = Vec::new();
    for k in keys
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("the list of flag keys must be a list of str, not {}", type_name(keys))))?
    {
        match k?.cast_into::<PyString>() {
            Ok(s) => pykeys.push(s),
            Err(e) => {
                return Err(PyTypeError::new_err(format!("flag keys must be str, not {}", type_name(&e.into_inner()))))
            }
        }
    }
    Ok(pykeys)
}

/// A loaded definitions document. Immutable and safe to share between threads; bulk evaluation releases
/// the GIL.
#[pyclass(module = "hogflags", frozen)]
pub struct FlagsEngine {
    snapshot: Arc<FlagSnapshot>,
    conv: Converter,
}

impl FlagsEngine {
    pub fn from_snapshot(py: Python<'_>, snapshot: Arc<FlagSnapshot>) -> FlagsEngine {
        let conv = Converter::new(py, &snapshot);
        FlagsEngine { snapshot, conv }
    }

    /// The context for evaluating every flag: the properties any flag reads.
    pub fn context(&self, py: Python<'_>, args: &Args<'_, '_>) -> PyResult<EvaluationContext> {
        self.conv.context(args, Some(self.conv.reads(py, &self.snapshot, None)))
    }

    /// Converts the arguments for one flag (only the properties that flag reads) and evaluates it, with the
    /// GIL held: one flag is a few hundred nanoseconds of work, less than handing the GIL to another
    /// thread and taking it back, which under contention made total throughput fall (python/README.md).
    pub fn evaluate_one<'s>(&'s self, py: Python<'_>, key: &str, args: &Args<'_, '_>) -> PyResult<Evaluation<'s>> {
        let position = self.snapshot.position(key);
        let ctx = self.conv.context(args, Some(self.conv.reads(py, &self.snapshot, position)))?;
        guarded(py, || {
            Ok(match position {
                Some(i) => self.snapshot.evaluate_at(i, &ctx),
                None => self.snapshot.evaluate(key, &ctx),
            })
        })
    }

    /// Evaluates every flag (or the listed ones), without the GIL when there are enough of them to pay for
    /// the hand-over; pairs each result with its Python key.
    fn evaluate_many<'s, 'py>(
        &'s self,
        py: Python<'py>,
        ctx: &EvaluationContext,
        only: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<(Bound<'py, PyString>, Evaluation<'s>)>> {
        let snapshot: &FlagSnapshot = &self.snapshot;
        match only.filter(|o| !o.is_none()) {
            None => {
                let all = if snapshot.len() >= DETACH_MIN_FLAGS {
                    detached(py, || snapshot.evaluate_all(ctx))?
                } else {
                    guarded(py, || Ok(snapshot.evaluate_all(ctx)))?
                };
                Ok(all.into_iter().enumerate().map(|(i, (key, e))| (self.conv.flag_key(py, i, key), e)).collect())
            }
            Some(keys) => {
                let pykeys = flag_key_list(keys)?;
                let texts: Vec<&str> = pykeys.iter().map(|k| str_of(k)).collect::<PyResult<_>>()?;
                let run = || texts.iter().map(|k| snapshot.evaluate(k, ctx)).collect::<Vec<_>>();
                let evals = if texts.len() >= DETACH_MIN_FLAGS { detached(py, run)? } else { guarded(py, || Ok(run()))? };
                Ok(pykeys.iter().cloned().zip(evals).collect())
            }
        }
    }
}

/// A `datetime` (naive: UTC) as the core's clock pin.
fn to_utc(now: &Bound<'_, PyAny>) -> PyResult<chrono::DateTime<chrono::Utc>> {
    let py = now.py();
    if !now.is_instance(convert::datetime_type(py)?)? {
        return Err(PyTypeError::new_err(format!("now must be a datetime.datetime, not {}", type_name(now))));
    }
    let aware = if now.getattr("tzinfo")?.is_none() {
        let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("tzinfo", utc)?;
        now.call_method("replace", (), Some(&kwargs))?
    } else {
        now.clone()
    };
    let iso: String = aware.call_method0("isoformat")?.extract()?;
    chrono::DateTime::parse_from_rfc3339(&iso)
        .map(|d| d.with_timezone(&chrono::Utc))
        .map_err(|e| PyValueError::new_err(format!("now: cannot read {iso:?}: {e}")))
}

pub fn key_text<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match key.cast::<PyString>() {
        Ok(s) => str_of(s),
        Err(_) => Err(PyTypeError::new_err(format!("flag key must be a str, not {}", type_name(key)))),
    }
}

pub fn value_to_py<'py>(py: Python<'py>, v: FlagValue<'_>) -> Bound<'py, PyAny> {
    match v {
        FlagValue::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        FlagValue::Variant(s) => PyString::new(py, s).into_any(),
    }
}

pub fn payload_to_py<'py>(py: Python<'py>, p: Option<&serde_json::Value>) -> PyResult<Bound<'py, PyAny>> {
    match p {
        Some(v) => convert::to_py(py, v),
        None => Ok(py.None().into_bound(py)),
    }
}

pub fn result_object(py: Python<'_>, key: Bound<'_, PyString>, e: &Evaluation<'_>) -> PyResult<Option<FeatureFlagResult>> {
    let Evaluation::Decided(r) = e else { return Ok(None) };
    Ok(Some(FeatureFlagResult {
        key: key.unbind(),
        enabled: r.value.is_enabled(),
        variant: r.value.variant().map(str::to_owned),
        payload: payload_to_py(py, r.payload)?.unbind(),
        reason: Some(r.reason.description()),
        reason_code: Some(r.reason.code.as_str().to_owned()),
        condition_index: r.reason.condition_index,
        flag_id: r.flag_id,
        version: r.version,
        locally_evaluated: true,
    }))
}

macro_rules! args {
    ($distinct_id:expr, $groups:expr, $pp:expr, $gp:expr, $device:expr, $now:expr) => {
        Args {
            distinct_id: $distinct_id,
            groups: $groups,
            person_properties: $pp,
            group_properties: $gp,
            device_id: $device,
            now: $now,
        }
    };
}

#[pymethods]
impl FlagsEngine {
    /// Loads a definitions document (the body of PostHog's `/flags/definitions`): a JSON `str`, `bytes`
    /// or a `dict`. A malformed document raises `InvalidDefinitionsError`; a single bad flag is skipped
    /// (see `skipped_flags`) and logged on the `hogflags` logger.
    #[new]
    fn new(py: Python<'_>, definitions: &Bound<'_, PyAny>) -> PyResult<Self> {
        guarded(py, || {
            let snapshot = if let Ok(s) = definitions.cast::<PyString>() {
                let text = str_of(s)?;
                detached(py, || FlagSnapshot::from_json(text.as_bytes()))?
            } else if let Ok(b) = definitions.cast::<PyBytes>() {
                let bytes = b.as_bytes();
                detached(py, || FlagSnapshot::from_json(bytes))?
            } else if let Ok(b) = definitions.cast::<PyByteArray>() {
                let bytes = b.to_vec();
                detached(py, || FlagSnapshot::from_json(&bytes))?
            } else if definitions.is_instance_of::<PyDict>()
                || definitions.is_instance(MAPPING.import(py, "collections.abc", "Mapping")?)?
            {
                let dumps = JSON_DUMPS.get_or_try_init(py, || {
                    Ok::<_, PyErr>(py.import("json")?.getattr("dumps")?.unbind())
                })?;
                let kwargs = PyDict::new(py);
                kwargs.set_item("allow_nan", false)?;
                kwargs.set_item("separators", (",", ":"))?;
                let dict = as_dict(definitions, "definitions")?;
                let text = dumps.bind(py).call((&*dict,), Some(&kwargs)).map_err(|e| {
                    invalid_definitions(py, format!("definitions cannot be written as JSON: {}", e.value(py)))
                })?;
                let text = text.cast_into::<PyString>()?;
                let text = str_of(&text)?;
                detached(py, || FlagSnapshot::from_json(text.as_bytes()))?
            } else {
                return Err(PyTypeError::new_err(format!(
                    "definitions must be a JSON str, bytes or a dict, not {}",
                    type_name(definitions)
                )));
            };
            let snapshot = snapshot.map_err(|e| invalid_definitions(py, e.to_string()))?;
            if !snapshot.skipped().is_empty() {
                log_skipped(py, &snapshot);
            }
            Ok(FlagsEngine::from_snapshot(py, Arc::new(snapshot)))
        })
    }

    /// The flag's value for this user: `True`, `False` or the variant key; `None` when local evaluation
    /// cannot decide (a missing property, a static cohort, an unknown flag, …).
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let key = key_text(key)?;
            Ok(match self.evaluate_one(py, key, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?.value() {
                Some(v) => value_to_py(py, v),
                None => py.None().into_bound(py),
            })
        })
    }

    /// Whether the flag is enabled (`True` for `true` and every variant); `None` when undecided.
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn feature_enabled(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        distinct_id: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
        person_properties: Option<&Bound<'_, PyAny>>,
        group_properties: Option<&Bound<'_, PyAny>>,
        device_id: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<bool>> {
        guarded(py, || {
            let key = key_text(key)?;
            Ok(self.evaluate_one(py, key, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?.value().map(|v| v.is_enabled()))
        })
    }

    /// The payload of the flag's value for this user (parsed JSON), or `None` (no payload, or undecided).
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag_payload<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let key = key_text(key)?;
            let e = self.evaluate_one(py, key, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?;
            payload_to_py(py, e.decided().and_then(|r| r.payload))
        })
    }

    /// The full result (value, payload, reason, flag id, version), or `None` when undecided.
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag_result(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        distinct_id: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
        person_properties: Option<&Bound<'_, PyAny>>,
        group_properties: Option<&Bound<'_, PyAny>>,
        device_id: Option<&Bound<'_, PyAny>>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<FeatureFlagResult>> {
        guarded(py, || {
            let text = key_text(key)?;
            let e = self.evaluate_one(py, text, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?;
            result_object(py, key.cast::<PyString>()?.clone(), &e)
        })
    }

    /// Every decided flag's value for this user (key → value); undecided flags are left out.
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, flag_keys_to_evaluate=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_all_flags<'py>(
        &self,
        py: Python<'py>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        flag_keys_to_evaluate: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let ctx = self.context(py, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?;
            let out = PyDict::new(py);
            for (key, e) in self.evaluate_many(py, &ctx, flag_keys_to_evaluate)? {
                if let Some(v) = e.value() {
                    out.set_item(key, value_to_py(py, v))?;
                }
            }
            Ok(out)
        })
    }

    /// `{"featureFlags": {key: value}, "featureFlagPayloads": {key: payload}}` for the decided flags
    /// (payloads only where there is one), as posthog-python returns it.
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, flag_keys_to_evaluate=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_all_flags_and_payloads<'py>(
        &self,
        py: Python<'py>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        flag_keys_to_evaluate: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let ctx = self.context(py, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?;
            let flags = PyDict::new(py);
            let payloads = PyDict::new(py);
            for (key, e) in self.evaluate_many(py, &ctx, flag_keys_to_evaluate)? {
                if let Evaluation::Decided(r) = e {
                    if let Some(p) = r.payload {
                        payloads.set_item(&key, convert::to_py(py, p)?)?;
                    }
                    flags.set_item(key, value_to_py(py, r.value))?;
                }
            }
            let out = PyDict::new(py);
            out.set_item("featureFlags", flags)?;
            out.set_item("featureFlagPayloads", payloads)?;
            Ok(out)
        })
    }

    /// Evaluates every flag (or those in `flag_keys`) once and returns a `FeatureFlagEvaluations` with
    /// `flags`, `payloads`, `reasons` and `unresolved` (key → why it could not be decided locally).
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, flag_keys=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate_flags<'py>(
        &self,
        py: Python<'py>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        flag_keys: Option<&Bound<'py, PyAny>>,
        now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<FeatureFlagEvaluations> {
        guarded(py, || {
            let ctx = self.context(py, &args!(distinct_id, groups, person_properties, group_properties, device_id, now))?;
            let flags = PyDict::new(py);
            let payloads = PyDict::new(py);
            let reasons = PyDict::new(py);
            let unresolved = PyDict::new(py);
            for (key, e) in self.evaluate_many(py, &ctx, flag_keys)? {
                match e {
                    Evaluation::Decided(r) => {
                        if let Some(p) = r.payload {
                            payloads.set_item(&key, convert::to_py(py, p)?)?;
                        }
                        let reason = FlagReason {
                            code: r.reason.code.as_str().to_owned(),
                            condition_index: r.reason.condition_index,
                            description: r.reason.description(),
                        };
                        reasons.set_item(&key, Bound::new(py, reason)?)?;
                        flags.set_item(key, value_to_py(py, r.value))?;
                    }
                    Evaluation::Inconclusive(i) => {
                        let u = Unresolved { kind: i.kind.as_str().to_owned(), detail: i.detail.map(str::to_owned) };
                        unresolved.set_item(key, Bound::new(py, u)?)?;
                    }
                }
            }
            Ok(FeatureFlagEvaluations {
                distinct_id: ctx.distinct_id().to_owned(),
                flags: flags.unbind(),
                payloads: payloads.unbind(),
                reasons: reasons.unbind(),
                unresolved: unresolved.unbind(),
            })
        })
    }

    /// The keys of the loaded flags, in document order.
    #[getter]
    fn flag_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.conv.flag_keys.iter().map(|k| k.bind(py)))
    }

    /// Flags that were not loaded: a list of `(key, reason)`.
    #[getter]
    fn skipped_flags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<Bound<'py, PyTuple>> = self
            .snapshot
            .skipped()
            .iter()
            .map(|s| PyTuple::new(py, [s.key.as_str(), s.reason.as_str()]))
            .collect::<PyResult<_>>()?;
        PyList::new(py, items)
    }

    /// Cohorts that flags reference but that could not be compiled: a list of `(id, reason)`.
    #[getter]
    fn broken_cohorts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items: Vec<Bound<'py, PyTuple>> = self
            .snapshot
            .broken_cohorts()
            .iter()
            .map(|s| PyTuple::new(py, [s.id.as_str(), s.reason.as_str()]))
            .collect::<PyResult<_>>()?;
        PyList::new(py, items)
    }

    /// The document's `group_type_mapping` (index as text → group type name).
    #[getter]
    fn group_type_mapping<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let mut pairs: Vec<_> = self.snapshot.group_type_mapping().iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.snapshot.len()
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        match key.cast::<PyString>() {
            Ok(s) => Ok(self.snapshot.flag(str_of(s)?).is_some()),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self) -> String {
        format!("FlagsEngine(flags={}, skipped={})", self.snapshot.len(), self.snapshot.skipped().len())
    }
}

/// Warns about skipped flags on logger `hogflags`. Logging never fails the load that logged: an exception
/// from a handler or filter goes to `sys.unraisablehook`, and the engine is returned all the same.
fn log_skipped(py: Python<'_>, snapshot: &FlagSnapshot) {
    if let Err(e) = try_log_skipped(py, snapshot) {
        e.write_unraisable(py, None);
    }
}

fn try_log_skipped(py: Python<'_>, snapshot: &FlagSnapshot) -> PyResult<()> {
    let skipped = snapshot.skipped();
    let shown: Vec<String> = skipped.iter().take(5).map(|s| format!("{:?} ({})", s.key, s.reason)).collect();
    let more = if skipped.len() > 5 { format!(" and {} more", skipped.len() - 5) } else { String::new() };
    let logger = py.import("logging")?.call_method1("getLogger", ("hogflags",))?;
    logger.call_method1(
        "warning",
        (format!("{} flag(s) not loaded: {}{more}; see FlagsEngine.skipped_flags", skipped.len(), shown.join(", ")),),
    )?;
    Ok(())
}
