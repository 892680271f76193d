//! `hogflags.FlagsEngine`: a compiled definitions document, evaluated with posthog-python's method names.
//! Everything here converts arguments into an `EvaluationContext` and the core's answers into Python
//! objects; every decision is the core's.

use std::sync::Arc;

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::arguments::{as_dict, flag_key_list, key_text, Args, Converter, MAPPING};
use crate::boundary::{detached, guarded, invalid_definitions};
use crate::convert::{self, str_of, type_name};
use crate::results::{payload_to_py, result_object, value_to_py, FeatureFlagEvaluations, FeatureFlagResult, FlagReason, Unresolved};

/// Evaluating at least this many flags in one call releases the GIL. Handing the GIL over costs a thread
/// wake-up each way, so it pays only for long evaluations: measured with two threads sharing one engine
/// (python/README.md, "Threads and the GIL"), releasing it made total throughput *fall* to 0.7× for 100
/// flags (~14 µs of Rust work) and stay flat at 150, and made it grow 1.6–1.7× from 250 flags up.
pub const DETACH_MIN_FLAGS: usize = 200;

static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

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
                reads: None,
                accessed: Default::default(),
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
