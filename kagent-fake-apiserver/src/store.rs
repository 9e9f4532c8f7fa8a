//! Schemaless object storage with resourceVersions, a change history for watches, pod logs and
//! the API semantics of create / update / patch / delete (validation, defaults, conflicts,
//! finalizers, owner-reference cascading).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::patch::{PatchKind, apply_patch, removal_patch, strategic_merge};
use super::resources::{ResourceInfo, builtins};
use super::selector::{FieldSelector, LabelSelector, valid_value};

/// An API error, rendered as a `Status` object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) details: Option<Value>,
}

impl ApiError {
    fn details(ri: &ResourceInfo, name: &str) -> Option<Value> {
        let mut d = json!({"name": name, "kind": ri.plural});
        if !ri.group.is_empty()
            && let Some(m) = d.as_object_mut()
        {
            m.insert("group".into(), json!(ri.group));
        }
        Some(d)
    }

    pub(crate) fn not_found(ri: &ResourceInfo, name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", ri.qualified()),
            details: Self::details(ri, name),
        }
    }

    pub(crate) fn namespace_not_found(ns: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("namespaces \"{ns}\" not found"),
            details: Some(json!({"name": ns, "kind": "namespaces"})),
        }
    }

    pub(crate) fn no_resource() -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource".into(),
            details: None,
        }
    }

    pub(crate) fn already_exists(ri: &ResourceInfo, name: &str) -> Self {
        Self {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{name}\" already exists", ri.qualified()),
            details: Self::details(ri, name),
        }
    }

    pub(crate) fn conflict(ri: &ResourceInfo, name: &str, why: &str) -> Self {
        Self {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                ri.qualified()
            ),
            details: Self::details(ri, name),
        }
    }

    /// `causes`: (field, reason, message)
    pub(crate) fn invalid(
        ri: &ResourceInfo,
        name: &str,
        causes: Vec<(String, &str, String)>,
    ) -> Self {
        let list: Vec<String> = causes.iter().map(|(f, _, m)| format!("{f}: {m}")).collect();
        let joined = if list.len() == 1 {
            list.concat()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut details = Self::details(ri, name).unwrap_or_else(|| json!({}));
        if let Some(m) = details.as_object_mut() {
            m.insert("kind".into(), json!(ri.kind));
            m.insert(
                "causes".into(),
                Value::Array(
                    causes
                        .iter()
                        .map(|(f, r, m)| json!({"reason": r, "message": m, "field": f}))
                        .collect(),
                ),
            );
        }
        Self {
            code: 422,
            reason: "Invalid",
            message: format!("{} \"{name}\" is invalid: {joined}", ri.kind),
            details: Some(details),
        }
    }

    pub(crate) fn bad_request(msg: impl Into<String>) -> Self {
        Self {
            code: 400,
            reason: "BadRequest",
            message: msg.into(),
            details: None,
        }
    }

    pub(crate) fn method_not_allowed(msg: impl Into<String>) -> Self {
        Self {
            code: 405,
            reason: "MethodNotAllowed",
            message: msg.into(),
            details: None,
        }
    }

    pub(crate) fn unsupported_media(ct: &str) -> Self {
        Self {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {ct:?})"
            ),
            details: None,
        }
    }

    pub(crate) fn gone(msg: impl Into<String>) -> Self {
        Self {
            code: 410,
            reason: "Expired",
            message: msg.into(),
            details: None,
        }
    }

    /// The `Status` body.
    pub(crate) fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(m)) = (&self.details, s.as_object_mut()) {
            m.insert("details".into(), d.clone());
        }
        s
    }
}

/// What happened to an object (a watch event before filtering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One recorded change.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) rv: u64,
    pub(crate) key: String,
    pub(crate) kind: ChangeKind,
    pub(crate) old: Option<Value>,
    pub(crate) new: Value,
}

/// Which part of an object a write targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sub {
    Main,
    Status,
    Scale,
}

/// Options of a write.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOpts {
    pub(crate) dry_run: bool,
    /// Coming from the HTTP API (drops `status` on create where a status subresource exists)
    /// rather than from fixture loading (stores objects as given).
    pub(crate) from_api: bool,
    pub(crate) field_manager: Option<String>,
}

/// Options of a delete.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub(crate) dry_run: bool,
    pub(crate) precondition_rv: Option<String>,
    pub(crate) precondition_uid: Option<String>,
    pub(crate) propagation: Option<String>,
}

/// What a watch starts with.
pub(crate) enum WatchStart {
    /// Current objects, sent as ADDED.
    Objects(Vec<Value>),
    /// Recorded changes after the requested resourceVersion.
    Changes(Vec<Arc<Change>>),
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Request path, e.g. `/api/v1/namespaces/default/pods`.
    pub path: String,
    /// Raw query string (empty when absent).
    pub query: String,
}

type LogKey = (String, String, String, bool);

/// The whole cluster state, behind one mutex.
pub(crate) struct State {
    pub(crate) rv: u64,
    pub(crate) resources: Vec<ResourceInfo>,
    pub(crate) objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    pub(crate) history: VecDeque<Arc<Change>>,
    pub(crate) history_limit: usize,
    pub(crate) logs: HashMap<LogKey, String>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) tx: broadcast::Sender<Arc<Change>>,
    next_ip: u32,
    /// (storage key, namespace, name, field manager) -> the configuration it last applied
    applied: HashMap<(String, String, String, String), Value>,
    /// owner uid -> (storage key, namespace, name) of the objects whose ownerReferences name it
    owned: HashMap<String, std::collections::BTreeSet<(String, String, String)>>,
}

pub(crate) fn now_rfc3339() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn random_suffix(n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(n)
        .map(|b| {
            ALPHABET
                .get(usize::from(*b) % ALPHABET.len())
                .copied()
                .map(char::from)
                .unwrap_or('x')
        })
        .collect()
}

fn meta(obj: &Value, field: &str) -> Option<String> {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn meta_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let m = obj.as_object_mut()?;
    if !m.get("metadata").is_some_and(Value::is_object) {
        m.insert("metadata".into(), Value::Object(Map::new()));
    }
    m.get_mut("metadata").and_then(Value::as_object_mut)
}

fn set_meta(obj: &mut Value, field: &str, v: Value) {
    if let Some(m) = meta_mut(obj) {
        m.insert(field.into(), v);
    }
}

/// `obj` without the fields the server owns (for "did anything change" comparisons).
fn comparable(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    o
}

fn spec_part(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    o
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        })
}

fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

/// Sets `target[path...] = value`, creating objects on the way.
fn set_path(target: &mut Value, path: &[&str], value: Value) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = target;
    for seg in init {
        if !cur.get(*seg).is_some_and(Value::is_object) {
            if let Some(m) = cur.as_object_mut() {
                m.insert((*seg).to_string(), Value::Object(Map::new()));
            } else {
                return;
            }
        }
        match cur.get_mut(*seg) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.insert((*last).to_string(), value);
    }
}

fn default_field(target: &mut Value, path: &[&str], value: Value) {
    let mut cur = Some(&*target);
    for seg in path {
        cur = cur.and_then(|c| c.get(*seg));
    }
    if cur.is_none() {
        set_path(target, path, value);
    }
}

impl State {
    pub(crate) fn new(history_limit: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            rv: 1000,
            resources: builtins(),
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit,
            logs: HashMap::new(),
            requests: Vec::new(),
            tx,
            next_ip: 10,
            owned: HashMap::new(),
            applied: HashMap::new(),
        }
    }

    pub(crate) fn find(&self, group: &str, version: &str, plural: &str) -> Option<ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    pub(crate) fn find_kind(&self, api_version: &str, kind: &str) -> Option<ResourceInfo> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    /// Gives the object the apiVersion/kind of the resource version it is read through.
    pub(crate) fn present(ri: &ResourceInfo, obj: &Value) -> Value {
        let mut o = obj.clone();
        if let Some(m) = o.as_object_mut() {
            m.insert("apiVersion".into(), json!(ri.api_version()));
            m.insert("kind".into(), json!(ri.kind));
        }
        o
    }

    fn record(&mut self, key: String, kind: ChangeKind, old: Option<Value>, new: Value) {
        let change = Arc::new(Change {
            rv: self.rv,
            key,
            kind,
            old,
            new,
        });
        self.history.push_back(change.clone());
        while self.history.len() > self.history_limit {
            self.history.pop_front();
        }
        // no receivers is fine
        let _ = self.tx.send(change);
    }

    pub(crate) fn get_raw(&self, ri: &ResourceInfo, ns: &str, name: &str) -> Option<&Value> {
        let ns = if ri.namespaced { ns } else { "" };
        self.objects
            .get(&ri.storage_key())
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
    }

    pub(crate) fn get(&self, ri: &ResourceInfo, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.get_raw(ri, ns, name)
            .map(|o| Self::present(ri, o))
            .ok_or_else(|| ApiError::not_found(ri, name))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("/namespaces")
            .is_some_and(|m| m.contains_key(&(String::new(), ns.to_string())))
    }

    fn check_type(ri: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON object",
            ));
        }
        if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
            && av != ri.api_version()
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                ri.api_version()
            )));
        }
        if let Some(k) = obj.get("kind").and_then(Value::as_str)
            && k != ri.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                ri.kind
            )));
        }
        Ok(())
    }

    fn validate(ri: &ResourceInfo, obj: &Value) -> Result<(), ApiError> {
        let name = meta(obj, "name").unwrap_or_default();
        let mut causes: Vec<(String, &str, String)> = Vec::new();
        let label_only = matches!(ri.kind.as_str(), "Namespace" | "Service");
        let ok = if label_only {
            is_dns_label(&name)
        } else {
            is_dns_subdomain(&name)
        };
        if !ok {
            causes.push((
                "metadata.name".into(),
                "FieldValueInvalid",
                format!(
                    "Invalid value: \"{name}\": a lowercase RFC 1123 {} must consist of lower case alphanumeric characters, '-'{}, and must start and end with an alphanumeric character",
                    if label_only { "label" } else { "subdomain" },
                    if label_only { "" } else { " or '.'" }
                ),
            ));
        }
        if let Some(labels) = obj.pointer("/metadata/labels") {
            match labels.as_object() {
                Some(m) => {
                    for (k, v) in m {
                        let vs = v.as_str();
                        if vs.is_none_or(|s| !valid_value(s)) {
                            causes.push((
                                "metadata.labels".into(),
                                "FieldValueInvalid",
                                format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                            ));
                        }
                        if LabelSelector::parse(k).is_err() {
                            causes.push((
                                "metadata.labels".into(),
                                "FieldValueInvalid",
                                format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.'"),
                            ));
                        }
                    }
                }
                None if labels.is_null() => {}
                None => causes.push((
                    "metadata.labels".into(),
                    "FieldValueInvalid",
                    "Invalid value: must be a map of strings".into(),
                )),
            }
        }
        if !ri.custom {
            match ri.kind.as_str() {
                "Pod" => Self::validate_pod_spec(obj.get("spec"), "spec", &mut causes),
                "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
                    match obj.pointer("/spec/selector") {
                        None => causes.push((
                            "spec.selector".into(),
                            "FieldValueRequired",
                            "Required value".into(),
                        )),
                        Some(sel) => {
                            let s = LabelSelector::from_label_selector_object(sel);
                            let template = obj
                                .pointer("/spec/template")
                                .cloned()
                                .unwrap_or(Value::Null);
                            if s.0.is_empty() {
                                causes.push((
                                    "spec.selector".into(),
                                    "FieldValueInvalid",
                                    "Invalid value: empty selector is invalid for deployment"
                                        .into(),
                                ));
                            } else if !s.matches(&template) {
                                causes.push((
                                    "spec.template.metadata.labels".into(),
                                    "FieldValueInvalid",
                                    "Invalid value: `selector` does not match template `labels`"
                                        .into(),
                                ));
                            }
                        }
                    }
                    Self::validate_pod_spec(
                        obj.pointer("/spec/template/spec"),
                        "spec.template.spec",
                        &mut causes,
                    );
                }
                "CustomResourceDefinition" => {
                    if let Err(e) = ResourceInfo::from_crd(obj) {
                        let (f, m) = e.split_once(": ").unwrap_or(("spec", e.as_str()));
                        causes.push((f.to_string(), "FieldValueRequired", m.to_string()));
                    }
                }
                _ => {}
            }
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(ri, &name, causes))
        }
    }

    fn validate_pod_spec(spec: Option<&Value>, at: &str, causes: &mut Vec<(String, &str, String)>) {
        let containers = spec
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_array);
        match containers {
            None => causes.push((
                format!("{at}.containers"),
                "FieldValueRequired",
                "Required value".into(),
            )),
            Some(cs) if cs.is_empty() => causes.push((
                format!("{at}.containers"),
                "FieldValueRequired",
                "Required value".into(),
            )),
            Some(cs) => {
                for (i, c) in cs.iter().enumerate() {
                    for field in ["name", "image"] {
                        if c.get(field)
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty)
                        {
                            causes.push((
                                format!("{at}.containers[{i}].{field}"),
                                "FieldValueRequired",
                                "Required value".into(),
                            ));
                        }
                    }
                }
            }
        }
    }

    fn apply_defaults(&mut self, ri: &ResourceInfo, obj: &mut Value) {
        if ri.custom {
            return;
        }
        match ri.kind.as_str() {
            "Namespace" => {
                default_field(obj, &["spec", "finalizers"], json!(["kubernetes"]));
                default_field(obj, &["status", "phase"], json!("Active"));
            }
            "Pod" => {
                Self::default_pod_spec(obj, &["spec"]);
                let has_resources = obj
                    .pointer("/spec/containers")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c.get("resources")
                                .is_some_and(|r| r.as_object().is_some_and(|m| !m.is_empty()))
                        })
                    });
                default_field(obj, &["status", "phase"], json!("Pending"));
                default_field(
                    obj,
                    &["status", "qosClass"],
                    json!(if has_resources {
                        "Burstable"
                    } else {
                        "BestEffort"
                    }),
                );
            }
            "Deployment" => {
                default_field(obj, &["spec", "replicas"], json!(1));
                default_field(obj, &["spec", "revisionHistoryLimit"], json!(10));
                default_field(obj, &["spec", "progressDeadlineSeconds"], json!(600));
                default_field(
                    obj,
                    &["spec", "strategy"],
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
                Self::default_pod_spec(obj, &["spec", "template", "spec"]);
            }
            "ReplicaSet" | "StatefulSet" => {
                default_field(obj, &["spec", "replicas"], json!(1));
                Self::default_pod_spec(obj, &["spec", "template", "spec"]);
            }
            "DaemonSet" => Self::default_pod_spec(obj, &["spec", "template", "spec"]),
            "Service" => {
                default_field(obj, &["spec", "type"], json!("ClusterIP"));
                default_field(obj, &["spec", "sessionAffinity"], json!("None"));
                let external =
                    obj.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
                if !external && obj.pointer("/spec/clusterIP").is_none() {
                    self.next_ip += 1;
                    let ip = format!(
                        "10.96.{}.{}",
                        (self.next_ip / 250) % 250,
                        self.next_ip % 250 + 1
                    );
                    set_path(obj, &["spec", "clusterIP"], json!(ip));
                    set_path(obj, &["spec", "clusterIPs"], json!([ip]));
                }
                if let Some(ports) = obj.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        default_field(p, &["protocol"], json!("TCP"));
                        if let Some(port) = p.get("port").cloned() {
                            default_field(p, &["targetPort"], port);
                        }
                    }
                }
            }
            "Secret" => default_field(obj, &["type"], json!("Opaque")),
            "PersistentVolumeClaim" => {
                default_field(obj, &["spec", "volumeMode"], json!("Filesystem"));
                default_field(obj, &["status", "phase"], json!("Pending"));
            }
            "CustomResourceDefinition" => {
                let names = obj.pointer("/spec/names").cloned().unwrap_or(Value::Null);
                let stored: Vec<Value> = obj
                    .pointer("/spec/versions")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                            .filter_map(|v| v.get("name").cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                let now = now_rfc3339();
                set_path(
                    obj,
                    &["status"],
                    json!({
                        "acceptedNames": names,
                        "storedVersions": stored,
                        "conditions": [
                            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                             "message": "no conflicts found", "lastTransitionTime": now},
                            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                             "message": "the initial names have been accepted", "lastTransitionTime": now},
                        ]
                    }),
                );
            }
            _ => {}
        }
    }

    fn default_pod_spec(obj: &mut Value, at: &[&str]) {
        let mut cur = Some(&*obj);
        for seg in at {
            cur = cur.and_then(|c| c.get(*seg));
        }
        if cur.is_none() {
            return;
        }
        let p = |f: &'static str| -> Vec<&str> {
            let mut v = at.to_vec();
            v.push(f);
            v
        };
        default_field(obj, &p("restartPolicy"), json!("Always"));
        default_field(obj, &p("dnsPolicy"), json!("ClusterFirst"));
        default_field(obj, &p("schedulerName"), json!("default-scheduler"));
        default_field(obj, &p("terminationGracePeriodSeconds"), json!(30));
        let mut ptr = String::new();
        for seg in at {
            ptr.push('/');
            ptr.push_str(seg);
        }
        ptr.push_str("/containers");
        if let Some(cs) = obj.pointer_mut(&ptr).and_then(Value::as_array_mut) {
            for c in cs {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                let tag = image
                    .rsplit('/')
                    .next()
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, t)| t);
                let policy = if tag.is_none() || tag == Some("latest") {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                default_field(c, &["imagePullPolicy"], json!(policy));
                default_field(
                    c,
                    &["terminationMessagePath"],
                    json!("/dev/termination-log"),
                );
                default_field(c, &["terminationMessagePolicy"], json!("File"));
            }
        }
    }

    /// Creates an object. `ns` is the namespace from the URL (or the object, for fixtures).
    pub(crate) fn create(
        &mut self,
        ri: &ResourceInfo,
        ns: Option<&str>,
        mut obj: Value,
        o: &WriteOpts,
    ) -> Result<Value, ApiError> {
        Self::check_type(ri, &obj)?;
        let body_ns = meta(&obj, "namespace");
        let ns = if ri.namespaced {
            let ns = match (ns, body_ns.as_deref()) {
                (Some(u), Some(b)) if u != b => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                (Some(u), _) => u.to_string(),
                (None, Some(b)) => b.to_string(),
                (None, None) => "default".to_string(),
            };
            set_meta(&mut obj, "namespace", json!(ns));
            ns
        } else {
            if let Some(m) = meta_mut(&mut obj) {
                m.remove("namespace");
            }
            String::new()
        };
        if ri.kind == "SelfSubjectAccessReview" {
            // a virtual, create-only resource: answered, never stored
            let mut out = Self::present(ri, &obj);
            set_path(
                &mut out,
                &["status"],
                json!({"allowed": true, "reason": "the fake API server allows everything"}),
            );
            return Ok(out);
        }
        if meta(&obj, "name").is_none_or(|n| n.is_empty()) {
            match meta(&obj, "generateName") {
                Some(g) if !g.is_empty() => {
                    let name = format!("{g}{}", random_suffix(5));
                    set_meta(&mut obj, "name", json!(name));
                }
                _ => {
                    return Err(ApiError::invalid(
                        ri,
                        "",
                        vec![(
                            "metadata.name".into(),
                            "FieldValueRequired",
                            "Required value: name or generateName is required".into(),
                        )],
                    ));
                }
            }
        }
        let name = meta(&obj, "name").unwrap_or_default();
        Self::validate(ri, &obj)?;
        if ri.namespaced && !self.namespace_exists(&ns) {
            return Err(ApiError::namespace_not_found(&ns));
        }
        if self.get_raw(ri, &ns, &name).is_some() {
            return Err(ApiError::already_exists(ri, &name));
        }
        if o.from_api {
            if ri.has_sub("status")
                && let Some(m) = obj.as_object_mut()
            {
                m.remove("status");
            }
            if let Some(m) = meta_mut(&mut obj) {
                for f in [
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "resourceVersion",
                    "generation",
                    "managedFields",
                    "selfLink",
                ] {
                    m.remove(f);
                }
            }
        }
        if let Some(m) = meta_mut(&mut obj) {
            m.entry("uid")
                .or_insert_with(|| json!(uuid::Uuid::new_v4().to_string()));
            m.entry("creationTimestamp")
                .or_insert_with(|| json!(now_rfc3339()));
            if let Some(fm) = &o.field_manager {
                m.insert(
                    "managedFields".into(),
                    json!([{"manager": fm, "operation": "Update", "apiVersion": ri.api_version(), "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}}]),
                );
            }
        }
        if obj.get("spec").is_some() || ri.custom {
            set_meta(&mut obj, "generation", json!(1));
        }
        self.apply_defaults(ri, &mut obj);
        if o.dry_run {
            return Ok(Self::present(ri, &obj));
        }
        if ri.kind == "CustomResourceDefinition" {
            self.register_crd(&obj)?;
        }
        self.rv += 1;
        set_meta(&mut obj, "resourceVersion", json!(self.rv.to_string()));
        let stored = Self::present(ri, &obj);
        self.put_object(ri.storage_key(), (ns, name), stored.clone());
        self.record(ri.storage_key(), ChangeKind::Added, None, stored.clone());
        Ok(stored)
    }

    fn register_crd(&mut self, crd: &Value) -> Result<(), ApiError> {
        let infos = ResourceInfo::from_crd(crd).map_err(ApiError::bad_request)?;
        if let Some(first) = infos.first() {
            let key = first.storage_key();
            self.resources
                .retain(|r| !(r.custom && r.storage_key() == key));
        }
        self.resources.extend(infos);
        Ok(())
    }

    /// Replaces an object (PUT), or its status (`/status`).
    pub(crate) fn update(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        obj: Value,
        sub: Sub,
        o: &WriteOpts,
    ) -> Result<Value, ApiError> {
        if sub == Sub::Scale {
            return self.update_scale(ri, ns, name, obj, o);
        }
        Self::check_type(ri, &obj)?;
        let existing = self
            .get_raw(ri, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(ri, name))?;
        if let Some(n) = meta(&obj, "name")
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        if ri.namespaced
            && let Some(n) = meta(&obj, "namespace")
            && n != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if let Some(rv) = meta(&obj, "resourceVersion")
            && !rv.is_empty()
            && Some(rv) != meta(&existing, "resourceVersion")
        {
            return Err(ApiError::conflict(
                ri,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let mut new = match sub {
            Sub::Status => {
                let mut n = existing.clone();
                if let Some(m) = n.as_object_mut() {
                    match obj.get("status") {
                        Some(s) => m.insert("status".into(), s.clone()),
                        None => m.remove("status"),
                    };
                }
                n
            }
            _ => {
                let mut n = obj;
                if ri.has_sub("status")
                    && let Some(m) = n.as_object_mut()
                {
                    match existing.get("status") {
                        Some(s) => m.insert("status".into(), s.clone()),
                        None => m.remove("status"),
                    };
                }
                for f in [
                    "uid",
                    "creationTimestamp",
                    "deletionTimestamp",
                    "generation",
                    "name",
                ] {
                    match existing.get("metadata").and_then(|m| m.get(f)) {
                        Some(v) => set_meta(&mut n, f, v.clone()),
                        None => {
                            if let Some(m) = meta_mut(&mut n) {
                                m.remove(f);
                            }
                        }
                    }
                }
                if ri.namespaced {
                    set_meta(&mut n, "namespace", json!(ns));
                }
                n
            }
        };
        Self::validate(ri, &new)?;
        self.apply_defaults(ri, &mut new);
        if sub == Sub::Main && spec_part(&new) != spec_part(&existing) {
            let g = existing
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if g > 0 || new.get("spec").is_some() {
                set_meta(&mut new, "generation", json!(g + 1));
            }
        }
        if let Some(fm) = &o.field_manager
            && !o.dry_run
        {
            let mut managers: Vec<Value> = existing
                .pointer("/metadata/managedFields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !managers
                .iter()
                .any(|m| m.get("manager").and_then(Value::as_str) == Some(fm))
            {
                managers.push(json!({"manager": fm, "operation": "Update", "apiVersion": ri.api_version(), "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}}));
            }
            set_meta(&mut new, "managedFields", Value::Array(managers));
        }
        self.commit_update(ri, ns, name, existing, new, o)
    }

    fn commit_update(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        existing: Value,
        mut new: Value,
        o: &WriteOpts,
    ) -> Result<Value, ApiError> {
        new = Self::present(ri, &new);
        if let Some(rv) = existing.pointer("/metadata/resourceVersion") {
            set_meta(&mut new, "resourceVersion", rv.clone());
        }
        if comparable(&new) == comparable(&existing) {
            return Ok(Self::present(ri, &existing));
        }
        if o.dry_run {
            return Ok(new);
        }
        if ri.kind == "CustomResourceDefinition" {
            self.register_crd(&new)?;
        }
        self.rv += 1;
        set_meta(&mut new, "resourceVersion", json!(self.rv.to_string()));
        let key = (
            if ri.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.to_string(),
        );
        let finalized = new.pointer("/metadata/deletionTimestamp").is_some()
            && new
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
        self.put_object(ri.storage_key(), key.clone(), new.clone());
        self.record(
            ri.storage_key(),
            ChangeKind::Modified,
            Some(existing),
            new.clone(),
        );
        if finalized {
            self.remove_object(ri, &key.0, name, "Background");
        }
        Ok(new)
    }

    /// Replaces an object as given (fixture loading: status and metadata kept).
    pub(crate) fn replace_raw(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        existing: Value,
        mut new: Value,
    ) -> Result<Value, ApiError> {
        Self::validate(ri, &new)?;
        self.apply_defaults(ri, &mut new);
        self.commit_update(ri, ns, name, existing, new, &WriteOpts::default())
    }

    /// The `autoscaling/v1` Scale of a scalable object.
    pub(crate) fn get_scale(
        &self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        if !ri.has_sub("scale") {
            return Err(ApiError::no_resource());
        }
        let obj = self
            .get_raw(ri, ns, name)
            .ok_or_else(|| ApiError::not_found(ri, name))?;
        let (spec_path, status_path, sel_path) = ri
            .scale_paths
            .clone()
            .unwrap_or_else(|| (".spec.replicas".into(), ".status.replicas".into(), None));
        let ptr = |p: &str| p.replace('.', "/");
        let selector = match &sel_path {
            Some(p) => obj
                .pointer(&ptr(p))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            None => obj
                .pointer("/spec/selector")
                .map(|s| {
                    if let Some(m) = s.as_object()
                        && !m.contains_key("matchLabels")
                        && !m.contains_key("matchExpressions")
                    {
                        // ReplicationController: a plain map
                        LabelSelector::from_label_selector_object(&json!({"matchLabels": s}))
                            .to_query_string()
                    } else {
                        LabelSelector::from_label_selector_object(s).to_query_string()
                    }
                })
                .unwrap_or_default(),
        };
        Ok(json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": obj.pointer("/metadata/uid"),
                "resourceVersion": obj.pointer("/metadata/resourceVersion"),
                "creationTimestamp": obj.pointer("/metadata/creationTimestamp"),
            },
            "spec": {"replicas": obj.pointer(&ptr(&spec_path)).and_then(Value::as_i64).unwrap_or(1)},
            "status": {
                "replicas": obj.pointer(&ptr(&status_path)).and_then(Value::as_i64).unwrap_or(0),
                "selector": selector,
            }
        }))
    }

    fn update_scale(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        scale: Value,
        o: &WriteOpts,
    ) -> Result<Value, ApiError> {
        let current = self.get_scale(ri, ns, name)?;
        if let Some(rv) = meta(&scale, "resourceVersion")
            && !rv.is_empty()
            && Some(rv) != meta(&current, "resourceVersion")
        {
            return Err(ApiError::conflict(
                ri,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
        let replicas = scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .ok_or_else(|| {
                ApiError::invalid(
                    ri,
                    name,
                    vec![(
                        "spec.replicas".into(),
                        "FieldValueRequired",
                        "Required value".into(),
                    )],
                )
            })?;
        if replicas < 0 {
            return Err(ApiError::invalid(
                ri,
                name,
                vec![(
                    "spec.replicas".into(),
                    "FieldValueInvalid",
                    format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                )],
            ));
        }
        let existing = self
            .get_raw(ri, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(ri, name))?;
        let mut new = existing.clone();
        let spec_path = ri
            .scale_paths
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| ".spec.replicas".into());
        let segs: Vec<&str> = spec_path.trim_start_matches('.').split('.').collect();
        set_path(&mut new, &segs, json!(replicas));
        if spec_part(&new) != spec_part(&existing) {
            let g = existing
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            set_meta(&mut new, "generation", json!(g + 1));
        }
        self.commit_update(ri, ns, name, existing, new, o)?;
        let mut out = if o.dry_run {
            current
        } else {
            self.get_scale(ri, ns, name)?
        };
        set_path(&mut out, &["spec", "replicas"], json!(replicas));
        Ok(out)
    }

    /// Applies a patch. Returns the object and whether it was created (server-side apply).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        kind: PatchKind,
        patch: &Value,
        sub: Sub,
        o: &WriteOpts,
    ) -> Result<(Value, bool), ApiError> {
        if kind == PatchKind::Apply {
            if o.field_manager.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::bad_request(
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                ));
            }
            Self::check_type(ri, patch)?;
            if let Some(n) = meta(patch, "name")
                && n != name
            {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
        }
        let existing = match self.get_raw(ri, ns, name) {
            Some(e) => e.clone(),
            None if kind == PatchKind::Apply && sub == Sub::Main => {
                let mut obj = patch.clone();
                set_meta(&mut obj, "name", json!(name));
                let ns = ri.namespaced.then_some(ns);
                let mut o2 = o.clone();
                o2.from_api = true;
                let mut created = self.create(ri, ns, obj, &o2)?;
                if !o.dry_run {
                    self.remember_applied(ri, ns.unwrap_or_default(), name, o, patch);
                }
                if let Some(m) = meta_mut(&mut created)
                    && let Some(Value::Array(mf)) = m.get_mut("managedFields")
                    && let Some(first) = mf.first_mut()
                    && let Some(fm) = first.as_object_mut()
                {
                    fm.insert("operation".into(), json!("Apply"));
                }
                return Ok((created, true));
            }
            None => return Err(ApiError::not_found(ri, name)),
        };
        let base = match sub {
            Sub::Scale => self.get_scale(ri, ns, name)?,
            _ => existing,
        };
        let mut patched = apply_patch(kind, &base, patch).map_err(|m| {
            if kind == PatchKind::Json {
                ApiError {
                    code: 422,
                    reason: "Invalid",
                    message: m,
                    details: None,
                }
            } else {
                ApiError::bad_request(m)
            }
        })?;
        if kind != PatchKind::Apply
            && meta(patch, "resourceVersion").is_none()
            && let Some(rv) = base.pointer("/metadata/resourceVersion")
        {
            // patches without a resourceVersion are unconditional
            set_meta(&mut patched, "resourceVersion", rv.clone());
        }
        if kind == PatchKind::Apply {
            if let Some(rv) = base.pointer("/metadata/resourceVersion") {
                set_meta(&mut patched, "resourceVersion", rv.clone());
            }
            if let Some(prev) = self.applied.get(&self.applied_key(ri, ns, name, o)) {
                strategic_merge(&mut patched, &removal_patch(prev, patch));
            }
        }
        let out = self.update(ri, ns, name, patched, sub, o)?;
        if kind == PatchKind::Apply && !o.dry_run {
            self.remember_applied(ri, ns, name, o, patch);
        }
        Ok((out, false))
    }

    fn applied_key(
        &self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        o: &WriteOpts,
    ) -> (String, String, String, String) {
        (
            ri.storage_key(),
            if ri.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.to_string(),
            o.field_manager.clone().unwrap_or_default(),
        )
    }

    fn remember_applied(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        o: &WriteOpts,
        patch: &Value,
    ) {
        let key = self.applied_key(ri, ns, name, o);
        self.applied.insert(key, patch.clone());
    }

    /// Lists objects, with selectors and `limit`/`continue` paging.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn list(
        &self,
        ri: &ResourceInfo,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        cont: Option<&str>,
    ) -> Result<Value, ApiError> {
        let start: Option<(String, String)> = match cont {
            Some(c) if !c.is_empty() => {
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("continue key is not valid: {c}"))
                    })?;
                let (a, b) = raw
                    .split_once('\u{0}')
                    .ok_or_else(|| ApiError::bad_request("continue key is not valid"))?;
                Some((a.to_string(), b.to_string()))
            }
            _ => None,
        };
        let items: Vec<(&(String, String), &Value)> = self
            .objects
            .get(&ri.storage_key())
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| ns.is_none_or(|n| !ri.namespaced || k.0 == n))
                    .filter(|(k, _)| start.as_ref().is_none_or(|s| *k > s))
                    .filter(|(_, v)| labels.matches(v) && fields.matches(v))
                    .collect()
            })
            .unwrap_or_default();
        let total = items.len();
        let take = limit.filter(|l| *l > 0).unwrap_or(usize::MAX).min(total);
        let page: Vec<Value> = items
            .iter()
            .take(take)
            .map(|(_, v)| {
                let mut o = Self::present(ri, v);
                if !ri.custom
                    && let Some(m) = o.as_object_mut()
                {
                    // typed lists carry no per-item apiVersion/kind
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                o
            })
            .collect();
        let mut metadata = json!({"resourceVersion": self.rv.to_string()});
        if take < total
            && let Some((last, _)) = items.get(take.saturating_sub(1))
            && let Some(m) = metadata.as_object_mut()
        {
            let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{}\u{0}{}", last.0, last.1));
            m.insert("continue".into(), json!(token));
            m.insert("remainingItemCount".into(), json!(total - take));
        }
        Ok(json!({
            "kind": format!("{}List", ri.kind),
            "apiVersion": ri.api_version(),
            "metadata": metadata,
            "items": page,
        }))
    }

    /// Deletes an object (or marks it for deletion when it has finalizers).
    /// Returns the response body.
    pub(crate) fn delete(
        &mut self,
        ri: &ResourceInfo,
        ns: &str,
        name: &str,
        o: &DeleteOpts,
    ) -> Result<Value, ApiError> {
        let existing = self
            .get_raw(ri, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(ri, name))?;
        if let Some(rv) = &o.precondition_rv
            && Some(rv.clone()) != meta(&existing, "resourceVersion")
        {
            return Err(ApiError::conflict(
                ri,
                name,
                &format!(
                    "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                    meta(&existing, "resourceVersion").unwrap_or_default()
                ),
            ));
        }
        if let Some(uid) = &o.precondition_uid
            && Some(uid.clone()) != meta(&existing, "uid")
        {
            return Err(ApiError::conflict(
                ri,
                name,
                &format!(
                    "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                    meta(&existing, "uid").unwrap_or_default()
                ),
            ));
        }
        let has_finalizers = existing
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        let ns_key = if ri.namespaced { ns } else { "" };
        if has_finalizers {
            if existing.pointer("/metadata/deletionTimestamp").is_some() {
                return Ok(Self::present(ri, &existing));
            }
            let mut new = existing.clone();
            set_meta(&mut new, "deletionTimestamp", json!(now_rfc3339()));
            set_meta(&mut new, "deletionGracePeriodSeconds", json!(0));
            if o.dry_run {
                return Ok(Self::present(ri, &new));
            }
            return self.commit_update(ri, ns_key, name, existing, new, &WriteOpts::default());
        }
        if !o.dry_run {
            let propagation = o.propagation.clone().unwrap_or_else(|| "Background".into());
            self.remove_object(ri, ns_key, name, &propagation);
        }
        if ri.custom || ri.kind == "Pod" {
            Ok(Self::present(ri, &existing))
        } else {
            let mut details =
                json!({"name": name, "kind": ri.plural, "uid": existing.pointer("/metadata/uid")});
            if !ri.group.is_empty()
                && let Some(m) = details.as_object_mut()
            {
                m.insert("group".into(), json!(ri.group));
            }
            Ok(
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
            )
        }
    }

    /// Removes an object now, then its dependents (namespace contents, CRD instances, owned objects).
    fn remove_object(&mut self, ri: &ResourceInfo, ns: &str, name: &str, propagation: &str) {
        let key = ri.storage_key();
        let Some(obj) = self.take_object(&key, &(ns.to_string(), name.to_string())) else {
            return;
        };
        if !self.applied.is_empty() {
            self.applied
                .retain(|k, _| !(k.0 == key && k.1 == ns && k.2 == name));
        }
        self.rv += 1;
        let mut gone = obj.clone();
        set_meta(&mut gone, "resourceVersion", json!(self.rv.to_string()));
        self.record(key.clone(), ChangeKind::Deleted, Some(obj.clone()), gone);
        let mut dependents: Vec<(ResourceInfo, String, String)> = Vec::new();
        if ri.kind == "Namespace" && !ri.custom {
            for r in self.served_storage() {
                if r.namespaced
                    && let Some(m) = self.objects.get(&r.storage_key())
                {
                    dependents.extend(
                        m.keys()
                            .filter(|k| k.0 == name)
                            .map(|k| (r.clone(), k.0.clone(), k.1.clone())),
                    );
                }
            }
        }
        if ri.kind == "CustomResourceDefinition" && !ri.custom {
            if let Ok(infos) = ResourceInfo::from_crd(&obj)
                && let Some(first) = infos.first()
            {
                if let Some(m) = self.objects.get(&first.storage_key()) {
                    dependents.extend(m.keys().map(|k| (first.clone(), k.0.clone(), k.1.clone())));
                }
                let sk = first.storage_key();
                for (r, ns, n) in std::mem::take(&mut dependents) {
                    self.remove_object(&r, &ns, &n, "Background");
                }
                self.resources
                    .retain(|r| !(r.custom && r.storage_key() == sk));
            }
            return;
        }
        if let Some(uid) = obj.pointer("/metadata/uid").and_then(Value::as_str) {
            let owned: Vec<(String, String, String)> = self
                .owned
                .get(uid)
                .map(|set| set.iter().cloned().collect())
                .unwrap_or_default();
            for (skey, dns, dn) in owned {
                if dns != ns && !ns.is_empty() {
                    continue;
                }
                if let Some(r) = self.resources.iter().find(|r| r.storage_key() == skey) {
                    dependents.push((r.clone(), dns, dn));
                }
            }
            if propagation == "Orphan" {
                for (r, dns, dn) in std::mem::take(&mut dependents) {
                    if let Some(old) = self.get_raw(&r, &dns, &dn).cloned() {
                        let mut new = old.clone();
                        if let Some(Value::Array(refs)) =
                            new.pointer_mut("/metadata/ownerReferences")
                        {
                            refs.retain(|o| o.get("uid").and_then(Value::as_str) != Some(uid));
                        }
                        let _ = self.commit_update(&r, &dns, &dn, old, new, &WriteOpts::default());
                    }
                }
            }
        }
        for (r, dns, dn) in dependents {
            self.remove_object(&r, &dns, &dn, propagation);
        }
    }

    /// Stores an object and keeps the owner index (ownerReferences uid -> dependents) current.
    fn put_object(&mut self, skey: String, key: (String, String), obj: Value) {
        let new_owners = owner_uids(&obj);
        let old = self
            .objects
            .entry(skey.clone())
            .or_default()
            .insert(key.clone(), obj);
        let entry = (skey, key.0, key.1);
        if let Some(old) = old {
            for uid in owner_uids(&old) {
                if let Some(set) = self.owned.get_mut(&uid) {
                    set.remove(&entry);
                    if set.is_empty() {
                        self.owned.remove(&uid);
                    }
                }
            }
        }
        for uid in new_owners {
            self.owned.entry(uid).or_default().insert(entry.clone());
        }
    }

    /// Removes an object from storage and from the owner index.
    fn take_object(&mut self, skey: &str, key: &(String, String)) -> Option<Value> {
        let obj = self.objects.get_mut(skey).and_then(|m| m.remove(key))?;
        let entry = (skey.to_string(), key.0.clone(), key.1.clone());
        for uid in owner_uids(&obj) {
            if let Some(set) = self.owned.get_mut(&uid) {
                set.remove(&entry);
                if set.is_empty() {
                    self.owned.remove(&uid);
                }
            }
        }
        Some(obj)
    }

    /// One `ResourceInfo` per storage key (the first served version).
    fn served_storage(&self) -> Vec<ResourceInfo> {
        let mut seen = std::collections::BTreeSet::new();
        self.resources
            .iter()
            .filter(|r| seen.insert(r.storage_key()))
            .cloned()
            .collect()
    }

    /// Deletes every object the selectors match; returns the list of deleted objects.
    pub(crate) fn delete_collection(
        &mut self,
        ri: &ResourceInfo,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        o: &DeleteOpts,
    ) -> Result<Value, ApiError> {
        let list = self.list(ri, ns, labels, fields, None, None)?;
        let mut deleted = Vec::new();
        for item in list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let n = meta(&item, "name").unwrap_or_default();
            let ins = meta(&item, "namespace").unwrap_or_default();
            if self.delete(ri, &ins, &n, o).is_ok() {
                deleted.push(item);
            }
        }
        Ok(json!({
            "kind": format!("{}List", ri.kind),
            "apiVersion": ri.api_version(),
            "metadata": {"resourceVersion": self.rv.to_string()},
            "items": deleted,
        }))
    }

    /// Starts a watch: what to replay, plus a receiver for live changes (subscribed under the
    /// same lock so nothing falls between the two).
    pub(crate) fn watch_start(
        &self,
        ri: &ResourceInfo,
        ns: Option<&str>,
        since: Option<u64>,
    ) -> Result<(WatchStart, broadcast::Receiver<Arc<Change>>), ApiError> {
        let rx = self.tx.subscribe();
        let key = ri.storage_key();
        let start = match since {
            None | Some(0) => WatchStart::Objects(
                self.objects
                    .get(&key)
                    .map(|m| {
                        m.iter()
                            .filter(|(k, _)| ns.is_none_or(|n| !ri.namespaced || k.0 == n))
                            .map(|(_, v)| v.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Some(rv) => {
                if let Some(oldest) = self.history.front()
                    && rv + 1 < oldest.rv
                    && self.history.len() >= self.history_limit
                {
                    return Err(ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        oldest.rv - 1
                    )));
                }
                WatchStart::Changes(
                    self.history
                        .iter()
                        .filter(|c| c.rv > rv && c.key == key)
                        .cloned()
                        .collect(),
                )
            }
        };
        Ok((start, rx))
    }

    /// Reads a pod's log for one container the way the kubelet answers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pod_log(
        &self,
        ns: &str,
        pod: &str,
        container: Option<&str>,
        previous: bool,
        tail_lines: Option<i64>,
        limit_bytes: Option<usize>,
    ) -> Result<String, ApiError> {
        let Some(ri) = self.find("", "v1", "pods") else {
            return Err(ApiError::no_resource());
        };
        let obj = self
            .get_raw(&ri, ns, pod)
            .ok_or_else(|| ApiError::not_found(&ri, pod))?;
        let names: Vec<String> = obj
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let init_names: Vec<String> = obj
            .pointer("/spec/initContainers")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let container = match container {
            Some(c) if !c.is_empty() => {
                if !names.iter().chain(init_names.iter()).any(|n| n == c) {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {pod}"
                    )));
                }
                c.to_string()
            }
            _ => {
                let default = obj
                    .pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match (default, names.as_slice()) {
                    (Some(d), _) => d,
                    (None, [only]) => only.clone(),
                    (None, _) => {
                        return Err(ApiError::bad_request(format!(
                            "a container name must be specified for pod {pod}, choose one of: [{}]",
                            names.join(" ")
                        )));
                    }
                }
            }
        };
        let key = (ns.to_string(), pod.to_string(), container.clone(), previous);
        let status = obj
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .chain(
                obj.pointer("/status/initContainerStatuses")
                    .and_then(Value::as_array),
            )
            .flatten()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(container.as_str()));
        let text = match self.logs.get(&key) {
            Some(t) => t.clone(),
            None if previous => {
                return Err(ApiError::bad_request(format!(
                    "previous terminated container \"{container}\" in pod \"{pod}\" not found"
                )));
            }
            None => {
                let waiting = status
                    .and_then(|s| s.pointer("/state/waiting/reason"))
                    .and_then(Value::as_str);
                match waiting {
                    Some(
                        r @ ("ContainerCreating"
                        | "PodInitializing"
                        | "ErrImagePull"
                        | "ImagePullBackOff"
                        | "CreateContainerConfigError"
                        | "InvalidImageName"),
                    ) => {
                        let why = match r {
                            "ErrImagePull" | "ImagePullBackOff" => {
                                "trying and failing to pull image".to_string()
                            }
                            other => other.to_string(),
                        };
                        return Err(ApiError::bad_request(format!(
                            "container \"{container}\" in pod \"{pod}\" is waiting to start: {why}"
                        )));
                    }
                    _ => String::new(),
                }
            }
        };
        let mut text = match tail_lines {
            Some(n) if n >= 0 => {
                let lines: Vec<&str> = text.lines().collect();
                let keep = usize::try_from(n).unwrap_or(usize::MAX).min(lines.len());
                let mut t = lines
                    .get(lines.len() - keep..)
                    .map(|l| l.join("\n"))
                    .unwrap_or_default();
                if keep > 0 {
                    t.push('\n');
                }
                t
            }
            _ => text,
        };
        if let Some(limit) = limit_bytes
            && text.len() > limit
        {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok(text)
    }

    pub(crate) fn set_log(
        &mut self,
        ns: &str,
        pod: &str,
        container: &str,
        previous: bool,
        text: String,
    ) {
        self.logs.insert(
            (
                ns.to_string(),
                pod.to_string(),
                container.to_string(),
                previous,
            ),
            text,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let mut s = State::new(100);
        let ns = s.find("", "v1", "namespaces").unwrap();
        s.create(
            &ns,
            None,
            json!({"metadata": {"name": "default"}}),
            &WriteOpts::default(),
        )
        .unwrap();
        s
    }

    fn api() -> WriteOpts {
        WriteOpts {
            from_api: true,
            ..Default::default()
        }
    }

    #[test]
    fn create_get_conflict_and_generate_name() {
        let mut s = state();
        let cm = s.find("", "v1", "configmaps").unwrap();
        let out = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}, "data": {"k": "v"}}),
                &api(),
            )
            .unwrap();
        assert_eq!(out["metadata"]["namespace"], "default");
        assert!(out["metadata"]["uid"].is_string());
        let err = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}}),
                &api(),
            )
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "AlreadyExists"));
        assert_eq!(err.message, "configmaps \"a\" already exists");
        let g = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"generateName": "gen-"}}),
                &api(),
            )
            .unwrap();
        assert!(g["metadata"]["name"].as_str().unwrap().starts_with("gen-"));
        assert_eq!(g["metadata"]["name"].as_str().unwrap().len(), 9);
        let err = s
            .create(
                &cm,
                Some("nope"),
                json!({"metadata": {"name": "a"}}),
                &api(),
            )
            .unwrap_err();
        assert_eq!(err.message, "namespaces \"nope\" not found");
        let err = s
            .create(&cm, Some("default"), json!({"metadata": {}}), &api())
            .unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        let err = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "Bad_Name"}}),
                &api(),
            )
            .unwrap_err();
        assert_eq!(err.code, 422);
        let err = s
            .create(
                &cm,
                Some("default"),
                json!({"kind": "Secret", "metadata": {"name": "x"}}),
                &api(),
            )
            .unwrap_err();
        assert_eq!(err.code, 400);
    }

    #[test]
    fn update_conflict_and_noop() {
        let mut s = state();
        let cm = s.find("", "v1", "configmaps").unwrap();
        let a = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}}),
                &api(),
            )
            .unwrap();
        let mut b = a.clone();
        b["data"] = json!({"x": "1"});
        let b2 = s
            .update(&cm, "default", "a", b.clone(), Sub::Main, &api())
            .unwrap();
        assert_ne!(
            b2["metadata"]["resourceVersion"],
            a["metadata"]["resourceVersion"]
        );
        let err = s
            .update(&cm, "default", "a", b, Sub::Main, &api())
            .unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        let same = s
            .update(&cm, "default", "a", b2.clone(), Sub::Main, &api())
            .unwrap();
        assert_eq!(
            same["metadata"]["resourceVersion"],
            b2["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn pod_validation_and_status_subresource() {
        let mut s = state();
        let po = s.find("", "v1", "pods").unwrap();
        let err = s
            .create(
                &po,
                Some("default"),
                json!({"metadata": {"name": "p"}, "spec": {"containers": []}}),
                &api(),
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "Pod \"p\" is invalid: spec.containers: Required value"
        );
        let p = s
            .create(
                &po,
                Some("default"),
                json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}, "status": {"phase": "Running"}}),
                &api(),
            )
            .unwrap();
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(
            p["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        let mut upd = p.clone();
        upd["status"]["phase"] = json!("Running");
        let after = s
            .update(&po, "default", "p", upd.clone(), Sub::Main, &api())
            .unwrap();
        assert_eq!(after["status"]["phase"], "Pending");
        let after = s
            .update(&po, "default", "p", upd, Sub::Status, &api())
            .unwrap();
        assert_eq!(after["status"]["phase"], "Running");
    }

    #[test]
    fn finalizers_and_cascade() {
        let mut s = state();
        let cm = s.find("", "v1", "configmaps").unwrap();
        let owner = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "owner", "finalizers": ["x/y"]}}),
                &api(),
            )
            .unwrap();
        let uid = owner["metadata"]["uid"].clone();
        s.create(&cm, Some("default"), json!({"metadata": {"name": "child", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}}), &api()).unwrap();
        let marked = s
            .delete(&cm, "default", "owner", &DeleteOpts::default())
            .unwrap();
        assert!(marked["metadata"]["deletionTimestamp"].is_string());
        assert!(s.get_raw(&cm, "default", "owner").is_some());
        let (mut cur, _) = (s.get(&cm, "default", "owner").unwrap(), ());
        cur["metadata"]["finalizers"] = json!([]);
        s.update(&cm, "default", "owner", cur, Sub::Main, &api())
            .unwrap();
        assert!(s.get_raw(&cm, "default", "owner").is_none());
        assert!(s.get_raw(&cm, "default", "child").is_none());
    }

    #[test]
    fn owner_index_follows_updates_and_orphaning() {
        let mut s = state();
        let cm = s.find("", "v1", "configmaps").unwrap();
        let a = s
            .create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": "a"}}),
                &api(),
            )
            .unwrap();
        let owned = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": a["metadata"]["uid"]}]);
        for n in ["b", "c"] {
            s.create(
                &cm,
                Some("default"),
                json!({"metadata": {"name": n, "ownerReferences": owned}}),
                &api(),
            )
            .unwrap();
        }
        // b stops being owned
        let mut b = s.get(&cm, "default", "b").unwrap();
        b["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("ownerReferences");
        s.update(&cm, "default", "b", b, Sub::Main, &api()).unwrap();
        let orphan = DeleteOpts {
            propagation: Some("Orphan".into()),
            ..Default::default()
        };
        s.delete(&cm, "default", "a", &orphan).unwrap();
        assert!(s.get_raw(&cm, "default", "b").is_some());
        let c = s.get(&cm, "default", "c").unwrap();
        assert_eq!(c["metadata"]["ownerReferences"], json!([]));
        assert!(s.owned.is_empty(), "{:?}", s.owned);
    }

    #[test]
    fn pod_logs() {
        let mut s = state();
        let po = s.find("", "v1", "pods").unwrap();
        s.create(&po, Some("default"), json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}), &api()).unwrap();
        s.set_log("default", "p", "a", false, "1\n2\n3\n".into());
        assert_eq!(
            s.pod_log("default", "p", Some("a"), false, Some(2), None)
                .unwrap(),
            "2\n3\n"
        );
        assert_eq!(
            s.pod_log("default", "p", Some("a"), false, None, Some(3))
                .unwrap(),
            "1\n2"
        );
        let err = s
            .pod_log("default", "p", None, false, None, None)
            .unwrap_err();
        assert_eq!(
            err.message,
            "a container name must be specified for pod p, choose one of: [a b]"
        );
        let err = s
            .pod_log("default", "p", Some("zz"), false, None, None)
            .unwrap_err();
        assert_eq!(err.code, 400);
        let err = s
            .pod_log("default", "p", Some("a"), true, None, None)
            .unwrap_err();
        assert_eq!(
            err.message,
            "previous terminated container \"a\" in pod \"p\" not found"
        );
        assert_eq!(
            s.pod_log("default", "missing", None, false, None, None)
                .unwrap_err()
                .code,
            404
        );
    }
}
