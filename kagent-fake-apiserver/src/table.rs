//! Server-side printing: `meta.k8s.io/v1` `Table` responses, which `kubectl get` asks for.
//! Columns follow the real API server's printers for the common kinds; other kinds get
//! `Name` and `Age` (CRDs: their `additionalPrinterColumns` with simple `.a.b` paths).

use serde_json::{Value, json};

use super::resources::ResourceInfo;

/// Kubernetes' `HumanDuration`.
pub(crate) fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 192 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if d < 365 * 8 {
        let y = d / 365;
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{}y", d / 365)
    }
}

fn age_of(ts: Option<&Value>) -> String {
    let Some(t) = ts
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".into();
    };
    human_duration(jiff::Timestamp::now().as_second() - t.as_second())
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

fn i(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(x: &str) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x.into()
    }
}

fn col(name: &str, ty: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

/// The STATUS, READY and RESTARTS cells of a pod, as `kubectl get pods` prints them.
pub(crate) fn pod_cells(pod: &Value) -> (String, String, String) {
    let empty = vec![];
    let statuses = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let init_statuses = pod
        .pointer("/status/initContainerStatuses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let total = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let init_total = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut reason = s(pod, "/status/phase").to_string();
    if !s(pod, "/status/reason").is_empty() {
        reason = s(pod, "/status/reason").to_string();
    }
    let mut restarts = 0;
    let mut last_restart: Option<String> = None;
    let mut note_restart = |c: &Value, restarts: &mut i64| {
        *restarts += i(c, "/restartCount");
        if let Some(f) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            && last_restart.as_deref().is_none_or(|l| f > l)
        {
            last_restart = Some(f.to_string());
        }
    };
    let mut initializing = false;
    for (idx, c) in init_statuses.iter().enumerate() {
        note_restart(c, &mut restarts);
        if c.pointer("/state/terminated").is_some() && i(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        initializing = true;
        if c.pointer("/state/terminated").is_some() {
            let r = s(c, "/state/terminated/reason");
            reason = if r.is_empty() {
                format!("Init:ExitCode:{}", i(c, "/state/terminated/exitCode"))
            } else {
                format!("Init:{r}")
            };
        } else if !s(c, "/state/waiting/reason").is_empty()
            && s(c, "/state/waiting/reason") != "PodInitializing"
        {
            reason = format!("Init:{}", s(c, "/state/waiting/reason"));
        } else {
            reason = format!("Init:{idx}/{init_total}");
        }
        break;
    }
    let mut ready = 0;
    if !initializing {
        restarts = 0;
        let mut has_running = false;
        for c in statuses.iter().rev() {
            note_restart(c, &mut restarts);
            if !s(c, "/state/waiting/reason").is_empty() {
                reason = s(c, "/state/waiting/reason").to_string();
            } else if !s(c, "/state/terminated/reason").is_empty() {
                reason = s(c, "/state/terminated/reason").to_string();
            } else if c.pointer("/state/terminated").is_some() {
                let sig = i(c, "/state/terminated/signal");
                reason = if sig != 0 {
                    format!("Signal:{sig}")
                } else {
                    format!("ExitCode:{}", i(c, "/state/terminated/exitCode"))
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(pod, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts_cell = match last_restart {
        Some(t) => format!("{restarts} ({} ago)", age_of(Some(&json!(t)))),
        None => restarts.to_string(),
    };
    (format!("{ready}/{total}"), reason, restarts_cell)
}

fn ports(svc: &Value) -> String {
    let list: Vec<String> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                    match p.get("nodePort").and_then(Value::as_i64) {
                        Some(np) => format!("{}:{np}/{proto}", i(p, "/port")),
                        None => format!("{}/{proto}", i(p, "/port")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if list.is_empty() {
        "<none>".into()
    } else {
        list.join(",")
    }
}

fn selector_string(sel: Option<&Value>) -> String {
    let Some(m) = sel.and_then(Value::as_object) else {
        return "<none>".into();
    };
    let src = m.get("matchLabels").and_then(Value::as_object).unwrap_or(m);
    let parts: Vec<String> = src
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

/// The JSONPath subset CRDs use in `additionalPrinterColumns`: `.a.b`, `.a[0]`, `.a[*].b` and
/// `.a[?(@.type=="Ready")].status`. Several matches are joined with commas.
pub(crate) fn jsonpath(obj: &Value, path: &str) -> Value {
    let mut nodes: Vec<&Value> = vec![obj];
    let chars: Vec<char> = path.trim().chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars.get(i) {
            Some('.') => i += 1,
            Some('[') => {
                let mut depth = 0;
                let mut quote: Option<char> = None;
                let mut j = i;
                while let Some(&c) = chars.get(j) {
                    match (c, quote) {
                        ('"' | '\'', None) => quote = Some(c),
                        (q, Some(open)) if q == open => quote = None,
                        ('[', None) => depth += 1,
                        (']', None) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let inner: String = chars
                    .get(i + 1..j)
                    .map(|c| c.iter().collect())
                    .unwrap_or_default();
                nodes = select(nodes, inner.trim());
                i = j + 1;
            }
            Some(_) => {
                let mut j = i;
                while chars.get(j).is_some_and(|c| *c != '.' && *c != '[') {
                    j += 1;
                }
                let key: String = chars
                    .get(i..j)
                    .map(|c| c.iter().collect())
                    .unwrap_or_default();
                nodes = nodes
                    .into_iter()
                    .filter_map(|n| n.get(key.as_str()))
                    .collect();
                i = j;
            }
            None => break,
        }
    }
    match nodes.as_slice() {
        [] => Value::Null,
        [one] => (*one).clone(),
        many => Value::String(
            many.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}

fn select<'a>(nodes: Vec<&'a Value>, sel: &str) -> Vec<&'a Value> {
    let items = nodes.into_iter().filter_map(Value::as_array).flatten();
    if sel == "*" {
        return items.collect();
    }
    if let Ok(n) = sel.parse::<usize>() {
        return items.skip(n).take(1).collect();
    }
    let Some(expr) = sel
        .strip_prefix("?(")
        .and_then(|e| e.strip_suffix(')'))
        .and_then(|e| e.trim().strip_prefix("@."))
    else {
        return Vec::new();
    };
    let Some((field, want)) = expr.split_once("==").or_else(|| expr.split_once('=')) else {
        // `?(@.field)`: the field exists
        return items.filter(|it| it.get(expr.trim()).is_some()).collect();
    };
    let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
    items
        .filter(|it| {
            let mut cur = Some(*it);
            for seg in field.trim().split('.') {
                cur = cur.and_then(|c| c.get(seg));
            }
            match cur {
                Some(Value::String(s)) => s == want,
                Some(Value::Number(n)) => want.parse::<f64>().ok() == n.as_f64(),
                Some(Value::Bool(b)) => want.parse::<bool>().ok() == Some(*b),
                Some(_) => false,
                None => false,
            }
        })
        .collect()
}

fn columns_and_cells(ri: &ResourceInfo, o: &Value) -> (Vec<Value>, Vec<Value>) {
    let name = json!(s(o, "/metadata/name"));
    let age = json!(age_of(o.pointer("/metadata/creationTimestamp")));
    if ri.custom {
        let mut cols = vec![col("Name", "string", 0)];
        let mut cells = vec![name];
        for (n, t, p) in &ri.printer_columns {
            cols.push(col(n, t, 0));
            let v = jsonpath(o, p);
            cells.push(if t == "date" {
                json!(age_of(Some(&v)))
            } else {
                v
            });
        }
        cols.push(col("Age", "date", 0));
        cells.push(age);
        return (cols, cells);
    }
    match ri.kind.as_str() {
        "Pod" => {
            let (ready, status, restarts) = pod_cells(o);
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Status", "string", 0),
                    col("Restarts", "string", 0),
                    col("Age", "string", 0),
                    col("IP", "string", 1),
                    col("Node", "string", 1),
                    col("Nominated Node", "string", 1),
                    col("Readiness Gates", "string", 1),
                ],
                vec![
                    name,
                    json!(ready),
                    json!(status),
                    json!(restarts),
                    age,
                    json!(or_none(s(o, "/status/podIP"))),
                    json!(or_none(s(o, "/spec/nodeName"))),
                    json!(or_none(s(o, "/status/nominatedNodeName"))),
                    json!("<none>"),
                ],
            )
        }
        "Deployment" => {
            let (containers, images) = template_containers(o);
            (
                vec![
                    col("Name", "string", 0),
                    col("Ready", "string", 0),
                    col("Up-to-date", "string", 0),
                    col("Available", "string", 0),
                    col("Age", "string", 0),
                    col("Containers", "string", 1),
                    col("Images", "string", 1),
                    col("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(format!(
                        "{}/{}",
                        i(o, "/status/readyReplicas"),
                        i(o, "/spec/replicas")
                    )),
                    json!(i(o, "/status/updatedReplicas")),
                    json!(i(o, "/status/availableReplicas")),
                    age,
                    json!(containers),
                    json!(images),
                    json!(selector_string(o.pointer("/spec/selector"))),
                ],
            )
        }
        "ReplicaSet" => (
            vec![
                col("Name", "string", 0),
                col("Desired", "integer", 0),
                col("Current", "integer", 0),
                col("Ready", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(i(o, "/spec/replicas")),
                json!(i(o, "/status/replicas")),
                json!(i(o, "/status/readyReplicas")),
                age,
            ],
        ),
        "StatefulSet" => (
            vec![
                col("Name", "string", 0),
                col("Ready", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    i(o, "/status/readyReplicas"),
                    i(o, "/spec/replicas")
                )),
                age,
            ],
        ),
        "DaemonSet" => (
            vec![
                col("Name", "string", 0),
                col("Desired", "integer", 0),
                col("Current", "integer", 0),
                col("Ready", "integer", 0),
                col("Up-to-date", "integer", 0),
                col("Available", "integer", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(i(o, "/status/desiredNumberScheduled")),
                json!(i(o, "/status/currentNumberScheduled")),
                json!(i(o, "/status/numberReady")),
                json!(i(o, "/status/updatedNumberScheduled")),
                json!(i(o, "/status/numberAvailable")),
                age,
            ],
        ),
        "Service" => {
            let external: Vec<String> = o
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.get("ip").or_else(|| x.get("hostname")))
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let ext = if !external.is_empty() {
                external.join(",")
            } else if s(o, "/spec/type") == "LoadBalancer" {
                "<pending>".into()
            } else if s(o, "/spec/type") == "ExternalName" {
                s(o, "/spec/externalName").to_string()
            } else {
                "<none>".into()
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Type", "string", 0),
                    col("Cluster-IP", "string", 0),
                    col("External-IP", "string", 0),
                    col("Port(s)", "string", 0),
                    col("Age", "string", 0),
                    col("Selector", "string", 1),
                ],
                vec![
                    name,
                    json!(s(o, "/spec/type")),
                    json!(or_none(s(o, "/spec/clusterIP"))),
                    json!(ext),
                    json!(ports(o)),
                    age,
                    json!(selector_string(o.pointer("/spec/selector"))),
                ],
            )
        }
        "Node" => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| s(c, "/type") == "Ready"))
                .map(|c| {
                    if s(c, "/status") == "True" {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                })
                .unwrap_or("Unknown");
            let mut status = ready.to_string();
            if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<String> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            (
                vec![
                    col("Name", "string", 0),
                    col("Status", "string", 0),
                    col("Roles", "string", 0),
                    col("Age", "string", 0),
                    col("Version", "string", 0),
                    col("Internal-IP", "string", 1),
                    col("External-IP", "string", 1),
                    col("OS-Image", "string", 1),
                    col("Kernel-Version", "string", 1),
                    col("Container-Runtime", "string", 1),
                ],
                vec![
                    name,
                    json!(status),
                    json!(if roles.is_empty() {
                        "<none>".into()
                    } else {
                        roles.join(",")
                    }),
                    age,
                    json!(s(o, "/status/nodeInfo/kubeletVersion")),
                    json!(
                        o.pointer("/status/addresses")
                            .and_then(Value::as_array)
                            .and_then(|a| a.iter().find(|x| s(x, "/type") == "InternalIP"))
                            .map(|x| s(x, "/address").to_string())
                            .unwrap_or_else(|| "<none>".into())
                    ),
                    json!(
                        o.pointer("/status/addresses")
                            .and_then(Value::as_array)
                            .and_then(|a| a.iter().find(|x| s(x, "/type") == "ExternalIP"))
                            .map(|x| s(x, "/address").to_string())
                            .unwrap_or_else(|| "<none>".into())
                    ),
                    json!(or_none(s(o, "/status/nodeInfo/osImage"))),
                    json!(or_none(s(o, "/status/nodeInfo/kernelVersion"))),
                    json!(or_none(s(o, "/status/nodeInfo/containerRuntimeVersion"))),
                ],
            )
        }
        "Namespace" => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Age", "string", 0),
            ],
            vec![name, json!(s(o, "/status/phase")), age],
        ),
        "Event" => {
            let last = o
                .get("lastTimestamp")
                .filter(|v| v.is_string())
                .or_else(|| o.get("eventTime"))
                .or_else(|| o.pointer("/metadata/creationTimestamp"));
            let count = o.get("count").and_then(Value::as_i64).unwrap_or(1);
            let last_seen = if count > 1 {
                format!(
                    "{} (x{count} over {})",
                    age_of(last),
                    age_of(o.get("firstTimestamp"))
                )
            } else {
                age_of(last)
            };
            (
                vec![
                    col("Last Seen", "string", 0),
                    col("Type", "string", 0),
                    col("Reason", "string", 0),
                    col("Object", "string", 0),
                    col("Message", "string", 0),
                    col("Source", "string", 1),
                    col("Count", "integer", 1),
                    col("Name", "string", 1),
                ],
                vec![
                    json!(last_seen),
                    json!(s(o, "/type")),
                    json!(s(o, "/reason")),
                    json!(format!(
                        "{}/{}",
                        s(o, "/involvedObject/kind").to_lowercase(),
                        s(o, "/involvedObject/name")
                    )),
                    json!(s(o, "/message")),
                    json!(s(o, "/source/component")),
                    json!(count),
                    name,
                ],
            )
        }
        "PersistentVolumeClaim" => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Volume", "string", 0),
                col("Capacity", "string", 0),
                col("Access Modes", "string", 0),
                col("StorageClass", "string", 0),
                col("VolumeAttributesClass", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(s(o, "/status/phase")),
                json!(s(o, "/spec/volumeName")),
                json!(s(o, "/status/capacity/storage")),
                json!(access_modes(o.pointer("/status/accessModes"))),
                json!(or_none(s(o, "/spec/storageClassName"))),
                json!("<unset>"),
                age,
            ],
        ),
        "HorizontalPodAutoscaler" => {
            let target = format!(
                "{}/{}",
                s(o, "/spec/scaleTargetRef/kind"),
                s(o, "/spec/scaleTargetRef/name")
            );
            let metrics: Vec<String> = o
                .pointer("/spec/metrics")
                .and_then(Value::as_array)
                .map(|ms| {
                    ms.iter()
                        .filter(|m| s(m, "/type") == "Resource")
                        .map(|m| {
                            let res = s(m, "/resource/name");
                            let cur = o
                                .pointer("/status/currentMetrics")
                                .and_then(Value::as_array)
                                .and_then(|cs| cs.iter().find(|c| s(c, "/resource/name") == res))
                                .and_then(|c| c.pointer("/resource/current/averageUtilization"))
                                .and_then(Value::as_i64)
                                .map_or("<unknown>".to_string(), |v| format!("{v}%"));
                            format!(
                                "{res}: {cur}/{}%",
                                i(m, "/resource/target/averageUtilization")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                vec![
                    col("Name", "string", 0),
                    col("Reference", "string", 0),
                    col("Targets", "string", 0),
                    col("MinPods", "string", 0),
                    col("MaxPods", "integer", 0),
                    col("Replicas", "integer", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(target),
                    json!(if metrics.is_empty() {
                        "<none>".into()
                    } else {
                        metrics.join(", ")
                    }),
                    json!(
                        o.pointer("/spec/minReplicas")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                            .to_string()
                    ),
                    json!(i(o, "/spec/maxReplicas")),
                    json!(i(o, "/status/currentReplicas")),
                    age,
                ],
            )
        }
        "ConfigMap" => (
            vec![
                col("Name", "string", 0),
                col("Data", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(
                    o.get("data")
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len())
                        + o.get("binaryData")
                            .and_then(Value::as_object)
                            .map_or(0, |m| m.len())
                ),
                age,
            ],
        ),
        "Secret" => (
            vec![
                col("Name", "string", 0),
                col("Type", "string", 0),
                col("Data", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(s(o, "/type")),
                json!(
                    o.get("data")
                        .and_then(Value::as_object)
                        .map_or(0, |m| m.len())
                ),
                age,
            ],
        ),
        "Job" => {
            let cond = |t: &str| {
                o.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| s(c, "/type") == t && s(c, "/status") == "True")
                    })
            };
            let status = if cond("Complete") {
                "Complete"
            } else if cond("Failed") {
                "Failed"
            } else if cond("FailureTarget") {
                "FailureTarget"
            } else if o.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                "Suspended"
            } else {
                "Running"
            };
            let start = o
                .pointer("/status/startTime")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            let end = o
                .pointer("/status/completionTime")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .unwrap_or_else(jiff::Timestamp::now);
            let duration = start.map_or(String::new(), |st| {
                human_duration(end.as_second() - st.as_second())
            });
            (
                vec![
                    col("Name", "string", 0),
                    col("Status", "string", 0),
                    col("Completions", "string", 0),
                    col("Duration", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(status),
                    json!(format!(
                        "{}/{}",
                        i(o, "/status/succeeded"),
                        o.pointer("/spec/completions")
                            .and_then(Value::as_i64)
                            .unwrap_or(1)
                    )),
                    json!(duration),
                    age,
                ],
            )
        }
        "CronJob" => (
            vec![
                col("Name", "string", 0),
                col("Schedule", "string", 0),
                col("Timezone", "string", 0),
                col("Suspend", "boolean", 0),
                col("Active", "integer", 0),
                col("Last Schedule", "string", 0),
                col("Age", "string", 0),
            ],
            vec![
                name,
                json!(s(o, "/spec/schedule")),
                json!(or_none(s(o, "/spec/timeZone"))),
                json!(
                    if o.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                        "True"
                    } else {
                        "False"
                    }
                ),
                json!(
                    o.pointer("/status/active")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                ),
                json!(
                    o.pointer("/status/lastScheduleTime")
                        .map_or("<none>".to_string(), |t| age_of(Some(t)))
                ),
                age,
            ],
        ),
        "PodDisruptionBudget" => {
            let opt = |p: &str| {
                o.pointer(p).map_or("N/A".to_string(), |v| {
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                })
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Min Available", "string", 0),
                    col("Max Unavailable", "string", 0),
                    col("Allowed Disruptions", "integer", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(opt("/spec/minAvailable")),
                    json!(opt("/spec/maxUnavailable")),
                    json!(i(o, "/status/disruptionsAllowed")),
                    age,
                ],
            )
        }
        "PersistentVolume" => {
            let claim = if s(o, "/spec/claimRef/name").is_empty() {
                String::new()
            } else {
                format!(
                    "{}/{}",
                    s(o, "/spec/claimRef/namespace"),
                    s(o, "/spec/claimRef/name")
                )
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Capacity", "string", 0),
                    col("Access Modes", "string", 0),
                    col("Reclaim Policy", "string", 0),
                    col("Status", "string", 0),
                    col("Claim", "string", 0),
                    col("StorageClass", "string", 0),
                    col("VolumeAttributesClass", "string", 0),
                    col("Reason", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(s(o, "/spec/capacity/storage")),
                    json!(access_modes(o.pointer("/spec/accessModes"))),
                    json!(s(o, "/spec/persistentVolumeReclaimPolicy")),
                    json!(s(o, "/status/phase")),
                    json!(claim),
                    json!(s(o, "/spec/storageClassName")),
                    json!("<unset>"),
                    json!(s(o, "/status/reason")),
                    age,
                ],
            )
        }
        "StorageClass" => {
            let default = o
                .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true");
            (
                vec![
                    col("Name", "string", 0),
                    col("Provisioner", "string", 0),
                    col("ReclaimPolicy", "string", 0),
                    col("VolumeBindingMode", "string", 0),
                    col("AllowVolumeExpansion", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    json!(if default {
                        format!("{} (default)", s(o, "/metadata/name"))
                    } else {
                        s(o, "/metadata/name").to_string()
                    }),
                    json!(s(o, "/provisioner")),
                    json!(
                        o.get("reclaimPolicy")
                            .and_then(Value::as_str)
                            .unwrap_or("Delete")
                    ),
                    json!(
                        o.get("volumeBindingMode")
                            .and_then(Value::as_str)
                            .unwrap_or("Immediate")
                    ),
                    json!(
                        o.get("allowVolumeExpansion")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    ),
                    age,
                ],
            )
        }
        "Endpoints" => {
            let addrs: Vec<String> = o
                .get("subsets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|sub| {
                    let ports: Vec<i64> = sub
                        .get("ports")
                        .and_then(Value::as_array)
                        .map(|ps| ps.iter().map(|p| i(p, "/port")).collect())
                        .unwrap_or_default();
                    sub.get("addresses")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .flat_map(move |a| {
                            let ip = s(a, "/ip").to_string();
                            let ports = ports.clone();
                            if ports.is_empty() {
                                vec![ip]
                            } else {
                                ports.into_iter().map(|p| format!("{ip}:{p}")).collect()
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            let shown = if addrs.is_empty() {
                "<none>".to_string()
            } else if addrs.len() > 3 {
                format!(
                    "{} + {} more...",
                    addrs.iter().take(3).cloned().collect::<Vec<_>>().join(","),
                    addrs.len() - 3
                )
            } else {
                addrs.join(",")
            };
            (
                vec![
                    col("Name", "string", 0),
                    col("Endpoints", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![name, json!(shown), age],
            )
        }
        "Ingress" => {
            let hosts: Vec<&str> = o
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .map(|rs| {
                    rs.iter()
                        .map(|r| s(r, "/host"))
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let address: Vec<&str> = o
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            if s(x, "/ip").is_empty() {
                                s(x, "/hostname")
                            } else {
                                s(x, "/ip")
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                vec![
                    col("Name", "string", 0),
                    col("Class", "string", 0),
                    col("Hosts", "string", 0),
                    col("Address", "string", 0),
                    col("Ports", "string", 0),
                    col("Age", "string", 0),
                ],
                vec![
                    name,
                    json!(or_none(s(o, "/spec/ingressClassName"))),
                    json!(if hosts.is_empty() {
                        "*".to_string()
                    } else {
                        hosts.join(",")
                    }),
                    json!(address.join(",")),
                    json!(if o.pointer("/spec/tls").is_some() {
                        "80, 443"
                    } else {
                        "80"
                    }),
                    age,
                ],
            )
        }
        "CustomResourceDefinition" => (
            vec![col("Name", "string", 0), col("Created At", "date", 0)],
            vec![name, json!(s(o, "/metadata/creationTimestamp"))],
        ),
        _ => (
            vec![col("Name", "string", 0), col("Age", "string", 0)],
            vec![name, age],
        ),
    }
}

fn access_modes(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|m| match m {
                    "ReadWriteOnce" => "RWO",
                    "ReadOnlyMany" => "ROX",
                    "ReadWriteMany" => "RWX",
                    "ReadWriteOncePod" => "RWOP",
                    other => other,
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn template_containers(o: &Value) -> (String, String) {
    let cs = o
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    (
        cs.iter()
            .map(|c| s(c, "/name"))
            .collect::<Vec<_>>()
            .join(","),
        cs.iter()
            .map(|c| s(c, "/image"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// A `Table` for some objects. `include`: `None`, `Object` or `PartialObjectMetadata`.
pub(crate) fn objects_table(
    ri: &ResourceInfo,
    objs: &[Value],
    include: &str,
    list_meta: Option<&Value>,
) -> Value {
    let mut columns: Option<Vec<Value>> = None;
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let (cols, cells) = columns_and_cells(ri, o);
            columns.get_or_insert(cols);
            let object = match include {
                "None" => Value::Null,
                "Object" => {
                    let mut full = o.clone();
                    if let Some(m) = full.as_object_mut() {
                        m.insert("apiVersion".into(), json!(ri.api_version()));
                        m.insert("kind".into(), json!(ri.kind));
                    }
                    full
                }
                _ => json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o.get("metadata"),
                }),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    let columns = columns.unwrap_or_else(|| columns_and_cells(ri, &json!({})).0);
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta.cloned().unwrap_or_else(|| json!({})),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// A `Table` for a list response.
pub(crate) fn list_table(ri: &ResourceInfo, list: &Value, include: &str) -> Value {
    let items = list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    objects_table(ri, &items, include, list.get("metadata"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(100 * 86400), "100d");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    fn ri(kind: &str) -> ResourceInfo {
        crate::resources::builtins()
            .into_iter()
            .find(|r| r.kind == kind)
            .unwrap()
    }

    #[test]
    fn job_endpoints_and_storage_class_rows() {
        let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 1},
            "status": {"succeeded": 1, "startTime": "2020-01-01T00:00:00Z", "completionTime": "2020-01-01T00:02:30Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}});
        let (_, cells) = columns_and_cells(&ri("Job"), &job);
        assert_eq!(
            cells[1..4],
            [json!("Complete"), json!("1/1"), json!("2m30s")]
        );
        let ep = json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]}]});
        assert_eq!(
            columns_and_cells(&ri("Endpoints"), &ep).1[1],
            "10.0.0.1:80,10.0.0.2:80"
        );
        let empty = json!({"metadata": {"name": "e"}});
        assert_eq!(columns_and_cells(&ri("Endpoints"), &empty).1[1], "<none>");
        let sc = json!({"metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "ebs.csi.aws.com"});
        let (cols, cells) = columns_and_cells(&ri("StorageClass"), &sc);
        assert_eq!(cells[0], "gp3 (default)");
        assert_eq!(cols.len(), cells.len());
        let table = objects_table(&ri("Pod"), &[], "None", None);
        assert_eq!(table["columnDefinitions"].as_array().unwrap().len(), 9);
    }

    #[test]
    fn printer_column_json_paths() {
        let o = json!({"spec": {"type": "Declarative", "ports": [{"port": 80}, {"port": 443}]},
                       "status": {"conditions": [{"type": "Accepted", "status": "True"}, {"type": "Ready", "status": "False"}]}});
        assert_eq!(jsonpath(&o, ".spec.type"), "Declarative");
        assert_eq!(jsonpath(&o, ".spec.ports[1].port"), 443);
        assert_eq!(jsonpath(&o, ".spec.ports[*].port"), "80,443");
        assert_eq!(
            jsonpath(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            "False"
        );
        assert_eq!(
            jsonpath(&o, ".status.conditions[?(@.type=='Accepted')].status"),
            "True"
        );
        assert_eq!(jsonpath(&o, ".status.missing[0]"), Value::Null);
        assert_eq!(jsonpath(&o, ".spec.ports[?(@.port==443)].port"), 443);
        assert_eq!(jsonpath(&o, ".spec.ports[9].port"), Value::Null);
    }

    #[test]
    fn pod_status_cells() {
        let crash = json!({
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "a", "ready": false, "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2020-01-01T00:00:00Z"}}
            }]}
        });
        let (ready, status, restarts) = pod_cells(&crash);
        assert_eq!(
            (ready.as_str(), status.as_str()),
            ("0/1", "CrashLoopBackOff")
        );
        assert!(restarts.starts_with("7 ("), "{restarts}");
        let ok = json!({
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}
            ]}
        });
        assert_eq!(pod_cells(&ok), ("2/2".into(), "Running".into(), "0".into()));
        let pending =
            json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}});
        assert_eq!(pod_cells(&pending).1, "Pending");
    }
}
