//! Call arguments into the core's `EvaluationContext`: the distinct id, groups, person and group
//! properties, device id and clock pin of every evaluation method, converting only the property keys the
//! definitions read (interned once per snapshot by [`Converter`]).

use std::collections::HashSet;
use std::time::Duration;

use hogflags::{EvaluationContext, FlagSnapshot, Properties, PropertyKeys};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyType};

use crate::convert::{self, str_of, text_of, type_name};

pub(crate) static MAPPING: PyOnceLock<Py<PyType>> = PyOnceLock::new();

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
pub(crate) fn as_dict<'a, 'py>(obj: &'a Bound<'py, PyAny>, what: &str) -> PyResult<std::borrow::Cow<'a, Bound<'py, PyDict>>> {
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

/// A number of seconds >= 0 as a `Duration`.
pub(crate) fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    if value.is_finite() && (0.0..1e9).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(PyValueError::new_err(format!("{what} must be a number of seconds >= 0, not {value}")))
    }
}

/// A callback argument: `None` (or absent) or a callable.
pub(crate) fn callable(cb: Option<Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Py<PyAny>>> {
    match cb {
        None => Ok(None),
        Some(c) if c.is_none() => Ok(None),
        Some(c) if c.is_callable() => Ok(Some(c.unbind())),
        Some(c) => Err(PyTypeError::new_err(format!("{what} must be callable, not {}", type_name(&c)))),
    }
}

/// A `str` argument as owned text.
pub(crate) fn text_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(convert::str_of(s)?.to_owned()),
        Err(_) => Err(PyTypeError::new_err(format!("{what} must be a str, not {}", type_name(obj)))),
    }
}
