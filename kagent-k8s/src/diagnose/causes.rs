//! From evidence to a specific cause: the decisive line of a log or message, and the objects it
//! points at (the Service behind a host and port, the ConfigMap or Secret behind an
//! environment variable, the RoleBinding behind a 403, the claim behind a full disk).
//!
//! Everything here is pure and works on any workload: it reads the text a container or the API
//! server wrote and the objects of the [`Snapshot`].

use std::collections::BTreeSet;

use serde_json::Value;

use crate::diagnose::Snapshot;
use crate::render::table::one_line;
use crate::render::{arr, i, s};

/// Phrases that name a cause (score 4): authorization, authentication, missing or duplicate
/// things, invalid values, full disks, crashes in the code.
const SPECIFIC: &[&str] = &[
    "authentication failed",
    "password authentication",
    "unauthorized",
    "forbidden",
    "permission denied",
    "access denied",
    "accessdenied",
    "not authorized",
    "no such host",
    "no such file",
    "not found",
    "does not exist",
    "doesn't exist",
    "already exists",
    "no space left",
    "disk full",
    "out of memory",
    "x509",
    "certificate",
    "missing required",
    "is required",
    "must be set",
    "not set",
    "invalid value",
    "invalid configuration",
    "unknown unit",
    "parse error",
    "cannot parse",
    "nil pointer",
    "segmentation",
    "panic:",
    "duplicate",
    "undefined",
    "cannot list",
    "cannot get",
    "cannot create",
    "cannot patch",
    "cannot update",
    "cannot watch",
];

/// Transport failures (score 3): often the consequence of a cause elsewhere (a wrong port, a
/// policy, a peer that is down), so a line naming a cause beats them.
const TRANSPORT: &[&str] = &[
    "connection refused",
    "econnrefused",
    "i/o timeout",
    "etimedout",
    "timed out",
    "connection reset",
    "no route to host",
];

const FAILURE: &[&str] = &[
    "fatal",
    "panic",
    "exception",
    "error",
    "failed",
    "failure",
    "refused",
    "denied",
    "unable",
    "cannot",
    "can't",
    "could not",
    "timeout",
];

/// Words after which a line is only an exit notice, not a cause.
const BOILERPLATE: &[&str] = &[
    "exiting",
    "shutting down",
    "giving up",
    "worker exiting",
    "exited with code",
    "aborting startup",
    "database system is shut down",
    "traceback (most recent call last)",
    "the above exception was the direct cause",
];

/// Whether a log line carries a severity below warning (INFO, DEBUG, TRACE).
fn is_low_severity(low: &str) -> bool {
    const MARKS: &[&str] = &[
        " info ",
        " info:",
        "[info]",
        "level=info",
        "\"level\":\"info\"",
        "\"log.level\": \"info\"",
        "\"log.level\":\"info\"",
        " debug ",
        "level=debug",
        "\"level\":\"debug\"",
        " trace ",
        "\"severity\":\"info\"",
        " log:  ",
    ];
    let padded = format!(" {low}");
    if MARKS.iter().any(|m| padded.contains(m)) {
        return true;
    }
    // klog: I0601 11:58:01.123456
    let b = low.as_bytes();
    b.first() == Some(&b'i')
        && b.get(1..5)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(5) == Some(&b' ')
}

fn line_score(line: &str) -> u8 {
    let low = line.to_ascii_lowercase();
    if is_low_severity(&low) {
        return 0;
    }
    if SPECIFIC.iter().any(|m| low.contains(m)) {
        return 4;
    }
    if TRANSPORT.iter().any(|m| low.contains(m)) {
        return 3;
    }
    if BOILERPLATE.iter().any(|m| low.contains(m)) {
        return 0;
    }
    if FAILURE.iter().any(|m| low.contains(m)) {
        return 2;
    }
    0
}

/// The line of `text` that most specifically states why something failed: a line naming a
/// cause (an authentication failure, a missing object, a full disk, a forbidden request, a
/// panic) beats a transport failure (a refused or timed-out connection), which beats a generic
/// error line; among equals the last one
/// wins (the final exception of a traceback, the last attempt). Lines logged at INFO or DEBUG
/// level and exit notices ("exiting", "giving up") never count. `None` when nothing looks like
/// a cause.
pub fn cause_line(text: &str) -> Option<String> {
    decisive_line(text).map(condense)
}

/// The decisive line of [`cause_line`], as written.
pub(crate) fn decisive_line(text: &str) -> Option<&str> {
    let mut best: Option<(u8, &str)> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let sc = line_score(line);
        if sc >= 2 && best.is_none_or(|(b, _)| sc >= b) {
            best = Some((sc, line));
        }
    }
    best.map(|(_, l)| l)
}

/// A long line cut to the part around its cause; structured logs reduced to message and error.
fn condense(line: &str) -> String {
    let structured = structured_message(line);
    let text = structured.as_deref().unwrap_or(line);
    if text.chars().count() <= 260 {
        return one_line(text, 260);
    }
    let low = text.to_ascii_lowercase();
    let at = SPECIFIC
        .iter()
        .chain(TRANSPORT)
        .filter_map(|m| low.find(m))
        .min()
        .unwrap_or(0);
    // keep about 160 characters before the cause and 100 after, on character boundaries
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let pos = chars.iter().position(|(b, _)| *b >= at).unwrap_or(0);
    let start = pos.saturating_sub(160);
    let end = (pos + 100).min(chars.len());
    let piece: String = chars
        .get(start..end)
        .map(|cs| cs.iter().map(|(_, c)| *c).collect())
        .unwrap_or_default();
    format!(
        "{}{}{}",
        if start > 0 { "…" } else { "" },
        one_line(&piece, 300),
        if end < chars.len() { "…" } else { "" }
    )
}

/// `msg: error` of a JSON log line, or of a logfmt line with `msg=` and `err=`/`error=`.
fn structured_message(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(t)
    {
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let msg = pick(&["msg", "message", "event"]);
        let err = pick(&["error", "err", "exception", "reason"]);
        return match (msg, err) {
            (Some(m), Some(e)) => Some(format!("{m}: {e}")),
            (Some(m), None) => Some(m),
            (None, Some(e)) => Some(e),
            (None, None) => None,
        };
    }
    let field = |key: &str| -> Option<String> {
        let at = t.find(&format!("{key}="))? + key.len() + 1;
        let rest = t.get(at..)?;
        if let Some(q) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = q.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next()?),
                    '"' => return Some(out),
                    c => out.push(c),
                }
            }
            Some(out)
        } else {
            Some(rest.split_whitespace().next()?.to_owned())
        }
    };
    let msg = field("msg");
    let err = field("err").or_else(|| field("error"));
    match (msg, err) {
        (Some(m), Some(e)) => Some(format!("{m}: {e}")),
        _ => None,
    }
}

fn container<'a>(pod: &'a Value, name: &str) -> Option<&'a Value> {
    arr(pod, "/spec/containers")
        .iter()
        .chain(arr(pod, "/spec/initContainers"))
        .find(|c| s(c, "/name") == name)
}

fn find_ns<'a>(snap: &'a Snapshot, kind: &str, ns: &str, name: &str) -> Option<&'a Value> {
    snap.of(kind)
        .iter()
        .find(|o| s(o, "/metadata/name") == name && s(o, "/metadata/namespace") == ns)
}

/// Where an environment variable of a container comes from: `value "..."`, `ConfigMap x key y`,
/// `Secret x key y`, or `envFrom ConfigMap x` (with its value when the ConfigMap is listed).
fn env_origin(snap: &Snapshot, ns: &str, c: &Value, var: &str) -> Option<String> {
    for e in arr(c, "/env") {
        if s(e, "/name") != var {
            continue;
        }
        if let Some(v) = e.get("value").and_then(Value::as_str) {
            return Some(format!("{var} is set to {v:?} in the pod template"));
        }
        if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
            let (cm, key) = (s(r, "/name"), s(r, "/key"));
            let value = find_ns(snap, "ConfigMap", ns, cm)
                .and_then(|o| {
                    o.pointer(&format!(
                        "/data/{}",
                        key.replace('~', "~0").replace('/', "~1")
                    ))
                })
                .and_then(Value::as_str)
                .map(|v| format!(" = {:?}", one_line(v, 80)))
                .unwrap_or_default();
            return Some(format!("{var} comes from ConfigMap {cm} key {key}{value}"));
        }
        if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
            return Some(format!(
                "{var} comes from Secret {} key {}",
                s(r, "/name"),
                s(r, "/key")
            ));
        }
    }
    for src in arr(c, "/envFrom") {
        if let Some(cm) = src.pointer("/configMapRef/name").and_then(Value::as_str)
            && let Some(v) = find_ns(snap, "ConfigMap", ns, cm)
                .and_then(|o| o.pointer("/data"))
                .and_then(|d| d.get(var))
                .and_then(Value::as_str)
        {
            return Some(format!(
                "{var} comes from ConfigMap {cm} (envFrom) = {:?}",
                one_line(v, 80)
            ));
        }
    }
    None
}

/// Environment variables of `c` whose value (direct or from a listed ConfigMap) contains
/// `needle`, with where they come from.
fn env_containing(snap: &Snapshot, ns: &str, c: &Value, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in arr(c, "/env") {
        let name = s(e, "/name");
        let value = e
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let r = e.pointer("/valueFrom/configMapKeyRef")?;
                find_ns(snap, "ConfigMap", ns, s(r, "/name"))?
                    .pointer("/data")?
                    .get(s(r, "/key"))?
                    .as_str()
                    .map(str::to_owned)
            });
        if value.is_some_and(|v| v.contains(needle))
            && let Some(o) = env_origin(snap, ns, c, name)
        {
            out.push(o);
        }
    }
    for src in arr(c, "/envFrom") {
        if let Some(cm) = src.pointer("/configMapRef/name").and_then(Value::as_str)
            && let Some(data) = find_ns(snap, "ConfigMap", ns, cm)
                .and_then(|o| o.pointer("/data"))
                .and_then(Value::as_object)
        {
            for (k, v) in data {
                if v.as_str().is_some_and(|v| v.contains(needle)) {
                    out.push(format!("{k} comes from ConfigMap {cm} (envFrom)"));
                }
            }
        }
    }
    out
}

/// `UPPER_CASE` words of `text` that are environment variables the container declares (or
/// that the text says are missing).
fn env_names_in(text: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if w.len() >= 3
            && w.contains('_')
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && w.starts_with(|c: char| c.is_ascii_uppercase())
        {
            out.insert(w.to_owned());
        }
    }
    out.into_iter().collect()
}

/// A Service a text refers to: by cluster DNS name (`name.ns.svc[.cluster.local]`), or by its
/// cluster IP; with the port mentioned next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceRef {
    name: String,
    namespace: String,
    port: Option<i64>,
}

fn port_after(text: &str, at: usize) -> Option<i64> {
    let rest = text.get(at..)?;
    let rest_trim = rest.trim_start_matches(['"', '\'', ')']);
    if let Some(p) = rest_trim.strip_prefix(':') {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        return digits.parse().ok();
    }
    // psycopg2: `"host" (10.0.0.1), port 5432 failed`
    let window: String = rest.chars().take(60).collect();
    let idx = window.find("port ")?;
    let digits: String = window
        .get(idx + 5..)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn service_refs(snap: &Snapshot, text: &str) -> Vec<ServiceRef> {
    let mut out: Vec<ServiceRef> = Vec::new();
    let mut push = |r: ServiceRef| {
        if !out
            .iter()
            .any(|o| o.name == r.name && o.namespace == r.namespace)
        {
            out.push(r);
        }
    };
    // DNS names: <svc>.<ns>.svc[.cluster.local]
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find(".svc")) {
        let at = from + rel;
        from = at + 4;
        let start = text
            .get(..at)
            .map(|h| {
                h.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                    .map_or(0, |p| p + 1)
            })
            .unwrap_or(0);
        let Some(host) = text.get(start..at) else {
            continue;
        };
        let mut parts = host.split('.');
        let (Some(name), Some(ns), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if name.is_empty() || ns.is_empty() {
            continue;
        }
        let mut end = at + 4;
        if text
            .get(end..)
            .is_some_and(|t| t.starts_with(".cluster.local"))
        {
            end += ".cluster.local".len();
        }
        push(ServiceRef {
            name: name.to_owned(),
            namespace: ns.to_owned(),
            port: port_after(text, end),
        });
    }
    // cluster IPs
    for svc in snap.of("Service") {
        let ip = s(svc, "/spec/clusterIP");
        if ip.is_empty() || ip == "None" {
            continue;
        }
        let mut search = 0;
        while let Some(rel) = text.get(search..).and_then(|t| t.find(ip)) {
            let at = search + rel;
            search = at + ip.len();
            let before_ok = text
                .get(..at)
                .and_then(|h| h.chars().last())
                .is_none_or(|c| !(c.is_ascii_digit() || c == '.'));
            let after_ok = text
                .get(search..)
                .and_then(|t| t.chars().next())
                .is_none_or(|c| !(c.is_ascii_digit() || c == '.'));
            if before_ok && after_ok {
                push(ServiceRef {
                    name: s(svc, "/metadata/name").to_owned(),
                    namespace: s(svc, "/metadata/namespace").to_owned(),
                    port: port_after(text, search),
                });
            }
        }
    }
    out
}

/// The pods a Service selects (none when it has no selector, or an empty or invalid one).
fn selected_pods<'a>(snap: &'a Snapshot, svc: &Value) -> Vec<&'a Value> {
    use crate::labels::{map_selector, selects};
    let Some(sel) = svc
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .and_then(|m| map_selector(m).ok())
    else {
        return Vec::new();
    };
    let ns = s(svc, "/metadata/namespace");
    snap.of("Pod")
        .iter()
        .filter(|p| s(p, "/metadata/namespace") == ns && selects(&sel, p))
        .collect()
}

/// The container ports (`name:number`) a pod declares.
fn declared_ports(pod: &Value) -> Vec<(String, i64)> {
    arr(pod, "/spec/containers")
        .iter()
        .flat_map(|c| arr(c, "/ports"))
        .map(|p| (s(p, "/name").to_owned(), i(p, "/containerPort")))
        .collect()
}

/// A Service port whose target is not a port the selected pods declare: `(port, target,
/// what the pods declare)`. Only judged when every selected pod declares its ports.
pub(crate) fn unexposed_target_ports(snap: &Snapshot, svc: &Value) -> Vec<(i64, String, String)> {
    let pods = selected_pods(snap, svc);
    if pods.is_empty() || pods.iter().any(|p| declared_ports(p).is_empty()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for port in arr(svc, "/spec/ports") {
        let number = i(port, "/port");
        let target = match port.get("targetPort") {
            Some(Value::String(n)) => n.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => number.to_string(),
        };
        let matches = |p: &Value| {
            declared_ports(p)
                .iter()
                .any(|(name, num)| target.parse::<i64>().map_or(name == &target, |t| *num == t))
        };
        if !pods.iter().any(|p| matches(p)) {
            let declared: BTreeSet<String> = pods
                .iter()
                .flat_map(|p| declared_ports(p))
                .map(|(n, num)| {
                    if n.is_empty() {
                        num.to_string()
                    } else {
                        format!("{n}:{num}")
                    }
                })
                .collect();
            out.push((
                number,
                target,
                declared.into_iter().collect::<Vec<_>>().join(", "),
            ));
        }
    }
    out
}

fn ready(pod: &Value) -> bool {
    arr(pod, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
}

/// Services of `ns` whose names share a word with `name` (`postgres` → `inventory-postgres`).
fn similar_services(snap: &Snapshot, ns: &str, name: &str) -> Vec<String> {
    let words: Vec<&str> = name.split('-').filter(|w| w.len() >= 3).collect();
    snap.of("Service")
        .iter()
        .filter(|svc| s(svc, "/metadata/namespace") == ns)
        .map(|svc| s(svc, "/metadata/name"))
        .filter(|n| *n != name && n.split('-').any(|w| words.contains(&w)))
        .take(3)
        .map(str::to_owned)
        .collect()
}

/// What a Service a failing container talks to says about the failure.
fn follow_service(
    snap: &Snapshot,
    r: &ServiceRef,
    c: Option<&Value>,
    client: Option<&Value>,
    pod_ns: &str,
) -> Option<String> {
    let namespace_listed = snap
        .of("Service")
        .iter()
        .any(|svc| s(svc, "/metadata/namespace") == r.namespace);
    let Some(svc) = find_ns(snap, "Service", &r.namespace, &r.name) else {
        if !namespace_listed {
            return None;
        }
        let mut msg = format!(
            "there is no Service {} in namespace {}",
            r.name, r.namespace
        );
        let similar = similar_services(snap, &r.namespace, &r.name);
        if !similar.is_empty() {
            msg.push_str(&format!(" (similar: {})", similar.join(", ")));
        }
        if let Some(c) = c {
            let origins = env_containing(snap, pod_ns, c, &format!("{}.{}", r.name, r.namespace));
            if !origins.is_empty() {
                msg.push_str(&format!("; {}", origins.join("; ")));
            }
        }
        return Some(msg);
    };
    let mut notes = Vec::new();
    for (port, target, declared) in unexposed_target_ports(snap, svc) {
        if r.port.is_none_or(|p| p == port) {
            notes.push(format!(
                "Service {} forwards port {port} to targetPort {target}, but its pods listen on {declared}",
                r.name
            ));
        }
    }
    let pods = selected_pods(snap, svc);
    if let (Some(client), Some(target)) = (client, pods.first())
        && let Some(note) = ingress_denied(snap, client, target)
    {
        notes.push(format!("traffic to Service {}: {note}", r.name));
    }
    if svc.pointer("/spec/selector").is_some() && !pods.iter().any(|p| ready(p)) {
        notes.push(format!(
            "Service {} has no ready endpoints ({} pod(s) selected, none ready)",
            r.name,
            pods.len()
        ));
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Whether NetworkPolicies isolate `target` for ingress and none of their rules admits
/// `client`: the policies that select the target, and what they admit. Rules with a namespace
/// selector or IP blocks are taken to admit (they are not evaluated here).
fn ingress_denied(snap: &Snapshot, client: &Value, target: &Value) -> Option<String> {
    use crate::labels::{label_selector, selects};
    let ns = s(target, "/metadata/namespace");
    let isolating: Vec<&Value> = snap
        .of("NetworkPolicy")
        .iter()
        .filter(|np| s(np, "/metadata/namespace") == ns)
        .filter(|np| {
            let types: Vec<&str> = arr(np, "/spec/policyTypes")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            types.is_empty() || types.contains(&"Ingress")
        })
        .filter(|np| {
            np.pointer("/spec/podSelector")
                .and_then(|sel| label_selector(sel).ok())
                .is_some_and(|sel| selects(&sel, target))
        })
        .collect();
    if isolating.is_empty() {
        return None;
    }
    let same_ns = s(client, "/metadata/namespace") == ns;
    let mut admitted_by = Vec::new();
    for np in &isolating {
        for rule in arr(np, "/spec/ingress") {
            let from = arr(rule, "/from");
            let admits = from.is_empty()
                || from.iter().any(|peer| {
                    if peer.get("namespaceSelector").is_some() || peer.get("ipBlock").is_some() {
                        return true;
                    }
                    same_ns
                        && peer
                            .get("podSelector")
                            .and_then(|sel| label_selector(sel).ok())
                            .is_some_and(|sel| selects(&sel, client))
                });
            if admits {
                admitted_by.push(s(np, "/metadata/name"));
            }
        }
    }
    if !admitted_by.is_empty() {
        return None;
    }
    let names: Vec<String> = isolating
        .iter()
        .map(|np| {
            let peers: Vec<String> = arr(np, "/spec/ingress")
                .iter()
                .flat_map(|r| arr(r, "/from"))
                .filter_map(|p| p.get("podSelector"))
                .filter_map(|sel| label_selector(sel).ok())
                .map(|sel| sel.to_string())
                .collect();
            if peers.is_empty() {
                format!("NetworkPolicy {} (admits nothing)", s(np, "/metadata/name"))
            } else {
                format!(
                    "NetworkPolicy {} (admits only pods {})",
                    s(np, "/metadata/name"),
                    peers.join(" or ")
                )
            }
        })
        .collect();
    let labels: Vec<String> = client
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .filter(|(k, _)| *k != "pod-template-hash")
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    Some(format!(
        "{} isolate its pods, and none admits traffic from this pod ({})",
        names.join(", "),
        labels.join(",")
    ))
}

/// What a 403 of the API server says about RBAC: the bindings of the ServiceAccount.
fn follow_forbidden(snap: &Snapshot, text: &str) -> Option<String> {
    let at = text.find("system:serviceaccount:")?;
    let rest = text.get(at + "system:serviceaccount:".len()..)?;
    let end = rest.find(|c: char| c == '"' || c == '\\' || c.is_whitespace())?;
    let (sa_ns, sa) = rest.get(..end)?.split_once(':')?;
    let verb_res = rest
        .find("cannot ")
        .and_then(|i| rest.get(i + 7..))
        .map(|t| {
            t.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
                .replace(['"', '\\'], "")
        })
        .unwrap_or_default();
    let target_ns = rest
        .find("in the namespace ")
        .and_then(|i| rest.get(i + 17..))
        .map(|t| {
            t.trim_start_matches(['"', '\\'])
                .split(['"', '\\'])
                .next()
                .unwrap_or("")
                .to_owned()
        });
    if !snap.objects.contains_key("RoleBinding") && !snap.objects.contains_key("ClusterRoleBinding")
    {
        return None;
    }
    let mut exact = Vec::new();
    let mut wrong_ns = Vec::new();
    let bindings = snap
        .of("RoleBinding")
        .iter()
        .filter(|b| {
            target_ns
                .as_deref()
                .is_none_or(|n| s(b, "/metadata/namespace") == n)
        })
        .chain(snap.of("ClusterRoleBinding"));
    for b in bindings {
        let label =
            if s(b, "/kind") == "ClusterRoleBinding" || s(b, "/metadata/namespace").is_empty() {
                format!("ClusterRoleBinding {}", s(b, "/metadata/name"))
            } else {
                format!(
                    "RoleBinding {}/{}",
                    s(b, "/metadata/namespace"),
                    s(b, "/metadata/name")
                )
            };
        let role = format!("{} {}", s(b, "/roleRef/kind"), s(b, "/roleRef/name"));
        for sub in arr(b, "/subjects") {
            if s(sub, "/kind") != "ServiceAccount" || s(sub, "/name") != sa {
                continue;
            }
            let ns = s(sub, "/namespace");
            if ns == sa_ns {
                exact.push(format!("{label} binds it to {role}"));
            } else {
                wrong_ns.push(format!(
                    "{label} binds {role} to ServiceAccount {sa} of namespace {}, not of namespace {sa_ns}",
                    if ns.is_empty() { "<none>" } else { ns }
                ));
            }
        }
    }
    let subject = format!("ServiceAccount {sa_ns}/{sa}");
    Some(if !wrong_ns.is_empty() {
        format!("{subject} is not bound: {}", wrong_ns.join("; "))
    } else if !exact.is_empty() {
        format!(
            "{subject} is bound ({}), but that role does not allow `{verb_res}`",
            exact.join("; ")
        )
    } else {
        format!("no RoleBinding or ClusterRoleBinding grants {subject} `{verb_res}`")
    })
}

/// The PVC-backed volumes a container writes to.
fn claim_mounts(snap: &Snapshot, pod: &Value, c: &Value) -> Vec<String> {
    let ns = s(pod, "/metadata/namespace");
    let mut out = Vec::new();
    for m in arr(c, "/volumeMounts") {
        let vol = s(m, "/name");
        let Some(claim) = arr(pod, "/spec/volumes")
            .iter()
            .find(|v| s(v, "/name") == vol)
            .and_then(|v| v.pointer("/persistentVolumeClaim/claimName"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let size = find_ns(snap, "PersistentVolumeClaim", ns, claim)
            .map(|p| {
                let cap = s(p, "/status/capacity/storage");
                if cap.is_empty() {
                    s(p, "/spec/resources/requests/storage").to_owned()
                } else {
                    cap.to_owned()
                }
            })
            .filter(|x| !x.is_empty())
            .map(|x| format!(", {x}"))
            .unwrap_or_default();
        out.push(format!(
            "volume {vol} at {} is PersistentVolumeClaim {claim}{size}",
            s(m, "/mountPath")
        ));
    }
    out
}

/// Facts on other objects that explain `cause` (a line a container of `pod` wrote, or a
/// message about it): the Service behind a host and port, the origin of an environment
/// variable, the bindings behind a 403, the claim behind a full disk.
pub(crate) fn follow(
    snap: &Snapshot,
    pod: Option<&Value>,
    container_name: &str,
    cause: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    let pod_ns = pod.map(|p| s(p, "/metadata/namespace")).unwrap_or("");
    let c = pod.and_then(|p| container(p, container_name));
    let low = cause.to_ascii_lowercase();
    for r in service_refs(snap, cause) {
        if let Some(note) = follow_service(snap, &r, c, pod, pod_ns) {
            out.push(note);
        }
    }
    if let Some(c) = c {
        for var in env_names_in(cause) {
            if let Some(o) = env_origin(snap, pod_ns, c, &var) {
                out.push(o);
            } else if low.contains("missing") || low.contains("required") || low.contains("not set")
            {
                out.push(format!("the container does not set {var}"));
            }
        }
        if (low.contains("no space left") || low.contains("disk full"))
            && let Some(p) = pod
        {
            out.extend(claim_mounts(snap, p, c));
        }
    }
    if (low.contains("forbidden") || low.contains("cannot ") && low.contains("serviceaccount"))
        && let Some(note) = follow_forbidden(snap, cause)
    {
        out.push(note);
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_specific_line_wins_over_generic_and_boilerplate_lines() {
        let log = concat!(
            "{\"level\":\"info\",\"msg\":\"starting\"}\n",
            "{\"level\":\"error\",\"msg\":\"database ping failed\",\"error\":\"failed SASL auth: FATAL: password authentication failed for user \\\"orders\\\"\"}\n",
            "{\"level\":\"fatal\",\"msg\":\"cannot start without a database\",\"error\":\"giving up after 3 attempts\"}\n",
        );
        assert_eq!(
            cause_line(log).unwrap(),
            "database ping failed: failed SASL auth: FATAL: password authentication failed for user \"orders\""
        );
        let traceback = "Traceback (most recent call last):\n  File \"x.py\"\npsycopg2.errors.DuplicateColumn: column \"d\" already exists\n\nThe above exception was the direct cause of the following exception:\nsqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column \"d\" of relation \"orders\" already exists\n[SQL: ALTER TABLE]\n";
        assert!(
            cause_line(traceback)
                .unwrap()
                .starts_with("sqlalchemy.exc.ProgrammingError")
        );
        let info_only = "2025-06-01 INFO Schema history table does not exist yet\nI0601 12:00:00.000000 1 main.go] not found\n";
        assert_eq!(cause_line(info_only), None);
        assert_eq!(cause_line("all good\n"), None);
        let logfmt = "time=x level=ERROR msg=\"invalid configuration\" err=\"FLUSH_INTERVAL: time: unknown unit \\\"sec\\\"\"\n";
        assert_eq!(
            cause_line(logfmt).unwrap(),
            "invalid configuration: FLUSH_INTERVAL: time: unknown unit \"sec\""
        );
        let long = format!(
            "ERROR {} connection refused {}",
            "x".repeat(400),
            "y".repeat(400)
        );
        let c = cause_line(&long).unwrap();
        assert!(
            c.contains("connection refused") && c.chars().count() < 320,
            "{c}"
        );
    }

    fn snap(items: Vec<Value>) -> Snapshot {
        let mut s = Snapshot::default();
        for i in items {
            let k = i["kind"].as_str().unwrap().to_owned();
            s.objects.entry(k).or_default().push(i);
        }
        for k in [
            "Pod",
            "Service",
            "ConfigMap",
            "RoleBinding",
            "ClusterRoleBinding",
        ] {
            s.objects.entry(k.into()).or_default();
        }
        s
    }

    #[test]
    fn following_hosts_ports_env_and_bindings() {
        let db_pod = json!({"kind": "Pod", "metadata": {"name": "db-0", "namespace": "w", "labels": {"app": "db"}},
            "spec": {"containers": [{"name": "pg", "ports": [{"name": "postgres", "containerPort": 5433}]}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let app = json!({"kind": "Pod", "metadata": {"name": "api-1", "namespace": "w"},
            "spec": {"containers": [{"name": "api", "env": [
                {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": "api-env", "key": "host"}}},
                {"name": "FLUSH_INTERVAL", "valueFrom": {"configMapKeyRef": {"name": "api-env", "key": "flush"}}}]}]}});
        let s = snap(vec![
            db_pod,
            app.clone(),
            json!({"kind": "Service", "metadata": {"name": "db", "namespace": "w"},
                "spec": {"clusterIP": "10.0.0.7", "selector": {"app": "db"}, "ports": [{"port": 5432, "targetPort": 5432}]}}),
            json!({"kind": "ConfigMap", "metadata": {"name": "api-env", "namespace": "w"}, "data": {"host": "pg.w.svc.cluster.local", "flush": "30sec"}}),
            json!({"kind": "RoleBinding", "metadata": {"name": "deployer", "namespace": "shop"},
                "roleRef": {"kind": "Role", "name": "deployer"},
                "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "default"}]}),
        ]);
        let f = follow(
            &s,
            Some(&app),
            "api",
            "connection to server at \"db.w.svc.cluster.local\" (10.0.0.7), port 5432 failed: Connection refused",
        );
        assert_eq!(
            f,
            vec![
                "Service db forwards port 5432 to targetPort 5432, but its pods listen on postgres:5433"
            ]
        );
        let f = follow(
            &s,
            Some(&app),
            "api",
            "dial tcp 10.0.0.7:5432: connect: connection refused",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        let f = follow(
            &s,
            Some(&app),
            "api",
            "lookup pg.w.svc.cluster.local on 10.96.0.10:53: no such host",
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].starts_with("there is no Service pg in namespace w"),
            "{f:?}"
        );
        assert!(
            f[0].contains("DB_HOST comes from ConfigMap api-env key host"),
            "{f:?}"
        );
        let f = follow(&s, Some(&app), "api", "FLUSH_INTERVAL: time: unknown unit");
        assert_eq!(
            f,
            vec!["FLUSH_INTERVAL comes from ConfigMap api-env key flush = \"30sec\""]
        );
        let f = follow(
            &s,
            Some(&app),
            "api",
            "Error: Missing required environment variable: STRIPE_KEY",
        );
        assert_eq!(f, vec!["the container does not set STRIPE_KEY"]);
        let f = follow(
            &s,
            None,
            "",
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"shop\"",
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].contains("RoleBinding shop/deployer binds Role deployer to ServiceAccount deployer of namespace default, not of namespace ci"), "{f:?}");
        let f = follow(
            &s,
            None,
            "",
            "pods is forbidden: User \"system:serviceaccount:mon:exp\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
        );
        assert_eq!(
            f,
            vec![
                "no RoleBinding or ClusterRoleBinding grants ServiceAccount mon/exp `list resource pods`"
            ]
        );
    }
}
