//! The result objects handed to Python: plain frozen records built from the core's answers.

use std::sync::{Arc, Mutex};

use hogflags::client::FlagEvaluations as CoreEvaluations;
use hogflags::{Evaluation, FlagValue};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};

use crate::convert;

/// Python's `repr` of a string.
fn pyrepr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_str()?.to_owned())
}

fn opt_index(i: Option<usize>) -> String {
    i.map(|i| i.to_string()).unwrap_or_else(|| "None".into())
}

/// Why a flag has its value: the `/flags` v2 reason code, the 0-based condition index and the server's
/// description.
#[pyclass(module = "hogflags", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
pub struct FlagReason {
    #[pyo3(get)]
    pub code: String,
    #[pyo3(get)]
    pub condition_index: Option<usize>,
    #[pyo3(get)]
    pub description: String,
}

#[pymethods]
impl FlagReason {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("FlagReason(code={}, condition_index={})", pyrepr(py, &self.code)?, opt_index(self.condition_index)))
    }
    fn __str__(&self) -> String {
        self.description.clone()
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.code, self.condition_index).hash(&mut h);
        h.finish()
    }
}

/// Why local evaluation could not decide a flag: `kind` (`missing_property`, `missing_cohort`,
/// `experience_continuity`, `unknown_group_type`, `missing_device_id`, `dependency`, `unknown_operator`,
/// `invalid_value`, `unknown_flag`) and `detail` (the property key, cohort id, dependency key, …).
#[pyclass(module = "hogflags", frozen, eq)]
#[derive(Clone, PartialEq, Eq)]
pub struct Unresolved {
    #[pyo3(get)]
    pub kind: String,
    #[pyo3(get)]
    pub detail: Option<String>,
}

#[pymethods]
impl Unresolved {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let detail = match &self.detail {
            Some(d) => pyrepr(py, d)?,
            None => "None".into(),
        };
        Ok(format!("Unresolved(kind={}, detail={detail})", pyrepr(py, &self.kind)?))
    }
    fn __str__(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} ({d})", self.kind),
            None => self.kind.clone(),
        }
    }
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&self.kind, &self.detail).hash(&mut h);
        h.finish()
    }
}

/// One decided flag, as posthog-python's `FeatureFlagResult` (`key`, `enabled`, `variant`, `payload`,
/// `reason`, `get_value()`), plus the reason code, condition index, flag id and version.
#[pyclass(module = "hogflags", frozen)]
pub struct FeatureFlagResult {
    #[pyo3(get)]
    pub key: Py<PyString>,
    #[pyo3(get)]
    pub enabled: bool,
    #[pyo3(get)]
    pub variant: Option<String>,
    #[pyo3(get)]
    pub payload: Py<PyAny>,
    /// The server's description of the reason (posthog-python's `reason`); `None` when a `/flags` answer
    /// gave none.
    #[pyo3(get)]
    pub reason: Option<String>,
    #[pyo3(get)]
    pub reason_code: Option<String>,
    #[pyo3(get)]
    pub condition_index: Option<usize>,
    #[pyo3(get)]
    pub flag_id: Option<i64>,
    #[pyo3(get)]
    pub version: Option<i64>,
    /// `False` when the value came from PostHog's `/flags` (client fallback).
    #[pyo3(get)]
    pub locally_evaluated: bool,
}

#[pymethods]
impl FeatureFlagResult {
    /// The flag's value: the variant if there is one, else `enabled`.
    fn get_value<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        match &self.variant {
            Some(v) => PyString::new(py, v).into_any(),
            None => PyBool::new(py, self.enabled).to_owned().into_any(),
        }
    }
    /// The flag's value (same as `get_value()`).
    #[getter(value)]
    fn value_attr<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        self.get_value(py)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "FeatureFlagResult(key={}, enabled={}, variant={}, payload={}, reason_code={}, condition_index={})",
            self.key.bind(py).repr()?,
            if self.enabled { "True" } else { "False" },
            match &self.variant {
                Some(v) => pyrepr(py, v)?,
                None => "None".into(),
            },
            self.payload.bind(py).repr()?,
            match &self.reason_code {
                Some(c) => pyrepr(py, c)?,
                None => "None".into(),
            },
            opt_index(self.condition_index),
        ))
    }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let Ok(other) = other.cast::<FeatureFlagResult>() else { return Ok(false) };
        let o = other.get();
        let py = other.py();
        Ok(PyAnyMethods::eq(self.key.bind(py).as_any(), o.key.bind(py))?
            && self.enabled == o.enabled
            && self.variant == o.variant
            && PyAnyMethods::eq(self.payload.bind(py), o.payload.bind(py))?
            && self.reason_code == o.reason_code
            && self.condition_index == o.condition_index
            && self.flag_id == o.flag_id
            && self.version == o.version
            && self.locally_evaluated == o.locally_evaluated)
    }
}

/// Every flag evaluated for one user at once (`evaluate_flags`): `flags` (key → value) and `payloads`
/// (key → payload, only flags that have one) and `reasons` (key → `FlagReason`) for the decided flags,
/// `unresolved` (key → `Unresolved`) for those without a value. From a `FlagsClient`, reading a flag
/// (`is_enabled`, `get_flag`) reports its `$feature_flag_called` event, deduplicated as one-flag calls
/// are, so exposures are reported for the flags the code read, not for every flag evaluated.
#[pyclass(module = "hogflags", frozen)]
pub struct FeatureFlagEvaluations {
    #[pyo3(get)]
    pub distinct_id: String,
    #[pyo3(get)]
    pub flags: Py<PyDict>,
    #[pyo3(get)]
    pub payloads: Py<PyDict>,
    #[pyo3(get)]
    pub reasons: Py<PyDict>,
    #[pyo3(get)]
    pub unresolved: Py<PyDict>,
    /// The client's evaluation, which records reads and emits their events (`None` from an engine).
    pub reads: Option<Arc<CoreEvaluations>>,
    /// The keys read so far, in order (for `only_accessed`).
    pub accessed: Mutex<Vec<String>>,
}

impl FeatureFlagEvaluations {
    fn read(&self, key: &Bound<'_, PyAny>, send_feature_flag_events: bool) -> PyResult<()> {
        let Ok(text) = key.cast::<PyString>() else { return Ok(()) };
        let text = convert::str_of(text)?;
        let mut accessed = self.accessed.lock().unwrap_or_else(|p| p.into_inner());
        if !accessed.iter().any(|k| k == text) {
            accessed.push(text.to_owned());
        }
        drop(accessed);
        if let Some(reads) = &self.reads {
            reads.get_flag(text, send_feature_flag_events);
        }
        Ok(())
    }

    /// The same evaluation narrowed to `keys` (those it holds), keeping the reads made so far.
    fn subset(&self, py: Python<'_>, keys: &[String], reads: Option<CoreEvaluations>) -> PyResult<FeatureFlagEvaluations> {
        let pick = |from: &Py<PyDict>| -> PyResult<Py<PyDict>> {
            let out = PyDict::new(py);
            for k in keys {
                if let Some(v) = from.bind(py).get_item(k)? {
                    out.set_item(k, v)?;
                }
            }
            Ok(out.unbind())
        };
        // The unresolved flags a slice keeps (those the server marked failed) are the core slice's.
        let unresolved = PyDict::new(py);
        for (k, u) in reads.iter().flat_map(|r| r.unresolved().iter()) {
            unresolved.set_item(k, Bound::new(py, Unresolved::from_client(u))?)?;
        }
        Ok(FeatureFlagEvaluations {
            distinct_id: self.distinct_id.clone(),
            flags: pick(&self.flags)?,
            payloads: pick(&self.payloads)?,
            reasons: pick(&self.reasons)?,
            unresolved: unresolved.unbind(),
            reads: reads.map(Arc::new),
            accessed: Mutex::new(self.accessed.lock().unwrap_or_else(|p| p.into_inner()).clone()),
        })
    }
}

#[pymethods]
impl FeatureFlagEvaluations {
    /// `True` when the flag has a value and it is enabled (true or any variant); `default_value` when
    /// this evaluation has no value for it (a decided `False` stays `False`). Counts as a read.
    #[pyo3(signature = (key, default_value=false, *, send_feature_flag_events=true))]
    fn is_enabled(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default_value: bool, send_feature_flag_events: bool) -> PyResult<bool> {
        self.read(key, send_feature_flag_events)?;
        match self.flags.bind(py).get_item(key)? {
            Some(v) => v.is_truthy(),
            None => Ok(default_value),
        }
    }
    /// The flag's value (`True`, `False` or the variant), or `None` if it has none. Counts as a read.
    #[pyo3(signature = (key, *, send_feature_flag_events=true))]
    fn get_flag<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>, send_feature_flag_events: bool) -> PyResult<Bound<'py, PyAny>> {
        self.read(key, send_feature_flag_events)?;
        Ok(self.flags.bind(py).get_item(key)?.unwrap_or_else(|| py.None().into_bound(py)))
    }
    /// The flag's payload, or `None`. Not a read: no event.
    fn get_flag_payload<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.payloads.bind(py).get_item(key)?.unwrap_or_else(|| py.None().into_bound(py)))
    }
    /// The keys of the decided flags.
    fn keys<'py>(&self, py: Python<'py>) -> Bound<'py, PyList> {
        self.flags.bind(py).keys()
    }
    /// The flags without a value, and why (as `unresolved`; posthog-python's name).
    #[getter]
    fn unresolved_flags(&self, py: Python<'_>) -> Py<PyDict> {
        self.unresolved.clone_ref(py)
    }
    /// A slice holding only the flags with a value read so far (empty if none was), for a captured
    /// event: no unresolved flags but those the server marked failed, the reads made so far, and reading
    /// a key it left out reports nothing.
    fn only_accessed(&self, py: Python<'_>) -> PyResult<FeatureFlagEvaluations> {
        let keys = self.accessed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.subset(py, &keys, self.reads.as_ref().map(|r| r.only_accessed()))
    }
    /// A slice holding only `keys`, as `only_accessed` (keys without a value are dropped, with a warning
    /// from a client's evaluation).
    fn only(&self, py: Python<'_>, keys: Vec<String>) -> PyResult<FeatureFlagEvaluations> {
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.subset(py, &keys, self.reads.as_ref().map(|r| r.only(&refs)))
    }
    fn __len__(&self, py: Python<'_>) -> usize {
        self.flags.bind(py).len()
    }
    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.flags.bind(py).contains(key)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "FeatureFlagEvaluations(distinct_id={}, flags={}, unresolved={})",
            pyrepr(py, &self.distinct_id)?,
            self.flags.bind(py).repr()?,
            self.unresolved.bind(py).repr()?
        ))
    }
}

// ---- the core's answers as Python objects -------------------------------------------------------

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

// ---- the client's answers as Python objects -----------------------------------------------------

impl Unresolved {
    /// A client's unresolved flag: the core's kind and detail.
    pub fn from_client(u: &hogflags::client::Unresolved) -> Unresolved {
        Unresolved { kind: u.kind().to_owned(), detail: u.detail() }
    }
}

impl FeatureFlagResult {
    /// A client's resolved flag (`locally_evaluated=False` when `/flags` answered).
    pub fn from_client(py: Python<'_>, d: &hogflags::client::FlagDetails) -> PyResult<FeatureFlagResult> {
        Ok(FeatureFlagResult {
            key: PyString::new(py, &d.key).unbind(),
            enabled: d.value.is_enabled(),
            variant: d.value.variant().map(str::to_owned),
            payload: payload_to_py(py, d.payload.as_ref())?.unbind(),
            reason: d.reason.as_ref().map(|r| r.description.clone().unwrap_or_else(|| r.code.clone())),
            reason_code: d.reason.as_ref().map(|r| r.code.clone()),
            condition_index: d.reason.as_ref().and_then(|r| r.condition_index),
            flag_id: d.flag_id,
            version: d.version,
            locally_evaluated: d.source == hogflags::client::Source::Local,
        })
    }
}

/// A client's value: `True`, `False` or the variant.
pub fn client_value_to_py<'py>(py: Python<'py>, v: &hogflags::client::OwnedFlagValue) -> Bound<'py, PyAny> {
    match v {
        hogflags::client::OwnedFlagValue::Bool(b) => value_to_py(py, FlagValue::Bool(*b)),
        hogflags::client::OwnedFlagValue::Variant(v) => PyString::new(py, v).into_any(),
    }
}
