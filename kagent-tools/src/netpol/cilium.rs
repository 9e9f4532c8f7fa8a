//! Structural validation of CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy, after
//! Cilium's own rule sanitizing (`pkg/policy/api/rule_validation.go`) and CRD schema: subject
//! selectors, ingress / egress / deny rule fields, L3 peer combinations, entities, CIDRs, ports
//! and protocols, L7 (HTTP, Kafka, DNS) rules, FQDN selectors — and fields Cilium does not know,
//! which the API server would silently prune.

use std::net::IpAddr;

use serde_json::Value;

use super::model::{PolicyKind, cilium_rules};
use crate::family::{arr, name_of, ns_of, s};
use crate::findings::{Finding, Level};

const RULE_FIELDS: &[&str] = &[
    "endpointSelector",
    "nodeSelector",
    "ingress",
    "ingressDeny",
    "egress",
    "egressDeny",
    "labels",
    "description",
    "enableDefaultDeny",
    "log",
];
const INGRESS_FIELDS: &[&str] = &[
    "fromEndpoints",
    "fromRequires",
    "fromCIDR",
    "fromCIDRSet",
    "fromEntities",
    "fromGroups",
    "fromNodes",
    "toPorts",
    "icmps",
    "authentication",
];
const INGRESS_DENY_FIELDS: &[&str] = &[
    "fromEndpoints",
    "fromRequires",
    "fromCIDR",
    "fromCIDRSet",
    "fromEntities",
    "fromGroups",
    "fromNodes",
    "toPorts",
    "icmps",
];
const EGRESS_FIELDS: &[&str] = &[
    "toEndpoints",
    "toRequires",
    "toCIDR",
    "toCIDRSet",
    "toEntities",
    "toServices",
    "toFQDNs",
    "toGroups",
    "toNodes",
    "toPorts",
    "icmps",
    "authentication",
];
const EGRESS_DENY_FIELDS: &[&str] = &[
    "toEndpoints",
    "toRequires",
    "toCIDR",
    "toCIDRSet",
    "toEntities",
    "toServices",
    "toGroups",
    "toNodes",
    "toPorts",
    "icmps",
];
const INGRESS_L3: &[&str] = &[
    "fromEndpoints",
    "fromCIDR",
    "fromCIDRSet",
    "fromEntities",
    "fromGroups",
    "fromNodes",
];
const EGRESS_L3: &[&str] = &[
    "toCIDR",
    "toCIDRSet",
    "toEndpoints",
    "toEntities",
    "toServices",
    "toFQDNs",
    "toGroups",
    "toNodes",
];
const PORT_RULE_FIELDS: &[&str] = &[
    "ports",
    "rules",
    "terminatingTLS",
    "originatingTLS",
    "serverNames",
    "listener",
];
const PORT_FIELDS: &[&str] = &["port", "endPort", "protocol"];
const L7_FIELDS: &[&str] = &["http", "kafka", "dns", "l7proto", "l7"];
const HTTP_FIELDS: &[&str] = &["method", "path", "host", "headers", "headerMatches"];
const FQDN_FIELDS: &[&str] = &["matchName", "matchPattern"];
const SELECTOR_FIELDS: &[&str] = &["matchLabels", "matchExpressions"];
const ENTITIES: &[&str] = &[
    "all",
    "world",
    "world-ipv4",
    "world-ipv6",
    "cluster",
    "host",
    "remote-node",
    "kube-apiserver",
    "init",
    "health",
    "unmanaged",
    "ingress",
    "none",
];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "ANY"];
const MAX_PORTS: usize = 40;

/// Collects the problems of one policy.
struct Check<'a> {
    kind: PolicyKind,
    policy: &'a Value,
    out: Vec<Finding>,
}

impl Check<'_> {
    fn push(
        &mut self,
        level: Level,
        name: &str,
        path: String,
        message: String,
        fix: Option<String>,
    ) {
        let ns = (self.kind == PolicyKind::CiliumNetworkPolicy).then(|| ns_of(self.policy));
        let mut f = Finding::new(
            level,
            name,
            self.kind.kind(),
            ns,
            match name_of(self.policy) {
                "" => "<unnamed>",
                n => n,
            },
            message,
        )
        .at(path);
        if let Some(fix) = fix {
            f = f.fix(fix);
        }
        self.out.push(f);
    }

    fn error(&mut self, path: String, message: String) {
        self.push(Level::Error, "InvalidPolicy", path, message, None);
    }

    /// Fields outside `allowed`, with the closest known field as a suggestion.
    fn fields(&mut self, v: &Value, path: &str, allowed: &[&str], what: &str) {
        let Some(m) = v.as_object() else {
            self.error(path.to_owned(), format!("{what} must be an object"));
            return;
        };
        for key in m.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let suggestion = closest(key, allowed);
            self.push(
                Level::Error,
                "UnknownField",
                format!("{path}.{key}"),
                format!(
                    "unknown field {key:?} in {what}{}: the API server prunes it (or rejects it with strict field validation), so it has no effect",
                    suggestion
                        .map(|s| format!(" (did you mean {s:?}?)"))
                        .unwrap_or_default()
                ),
                Some(match suggestion {
                    Some(s) => format!("rename it to {s}"),
                    None => format!("remove it; {what} fields are {}", allowed.join(", ")),
                }),
            );
        }
    }

    fn selector(&mut self, sel: &Value, path: &str) {
        self.fields(sel, path, SELECTOR_FIELDS, "label selector");
        if let Some(ml) = sel.get("matchLabels") {
            match ml.as_object() {
                Some(m) => {
                    for (k, v) in m {
                        if !v.is_string() {
                            self.error(
                                format!("{path}.matchLabels.{k}"),
                                format!("label values must be strings, got {v}"),
                            );
                        }
                    }
                }
                None => self.error(
                    format!("{path}.matchLabels"),
                    "must be a map of strings".into(),
                ),
            }
        }
        for (i, e) in arr(sel, "/matchExpressions").iter().enumerate() {
            let p = format!("{path}.matchExpressions[{i}]");
            let op = s(e, "/operator");
            let values = arr(e, "/values");
            if s(e, "/key").is_empty() {
                self.error(p.clone(), "key is required".into());
            }
            match op {
                "In" | "NotIn" if values.is_empty() => {
                    self.error(p, format!("operator {op} needs at least one value"))
                }
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    self.error(p, format!("operator {op} takes no values"))
                }
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                other => self.error(
                    p,
                    format!("unknown operator {other:?}; use In, NotIn, Exists or DoesNotExist"),
                ),
            }
        }
    }

    fn rule(&mut self, rule: &Value, base: &str, has_dns_rule: bool) {
        self.fields(rule, base, RULE_FIELDS, "policy rule");
        let ep = rule.get("endpointSelector");
        let node = rule.get("nodeSelector");
        match (ep, node) {
            (None, None) => self.error(
                base.to_owned(),
                "rule must have one of EndpointSelector or NodeSelector".into(),
            ),
            (Some(_), Some(_)) => self.error(
                base.to_owned(),
                "rule cannot have both EndpointSelector and NodeSelector".into(),
            ),
            _ => {}
        }
        if let Some(sel) = ep {
            self.selector(sel, &format!("{base}.endpointSelector"));
        }
        if let Some(sel) = node {
            if self.kind == PolicyKind::CiliumNetworkPolicy {
                self.error(
                    format!("{base}.nodeSelector"),
                    "a CiliumNetworkPolicy cannot select nodes; host policies are CiliumClusterwideNetworkPolicies".into(),
                );
            }
            self.selector(sel, &format!("{base}.nodeSelector"));
        }
        if let Some(d) = rule.get("enableDefaultDeny") {
            self.fields(
                d,
                &format!("{base}.enableDefaultDeny"),
                &["ingress", "egress"],
                "enableDefaultDeny",
            );
        }
        let host_policy = node.is_some();
        for (section, ingress, deny, allowed) in [
            ("ingress", true, false, INGRESS_FIELDS),
            ("ingressDeny", true, true, INGRESS_DENY_FIELDS),
            ("egress", false, false, EGRESS_FIELDS),
            ("egressDeny", false, true, EGRESS_DENY_FIELDS),
        ] {
            let Some(list) = rule.get(section) else {
                continue;
            };
            let Some(items) = list.as_array() else {
                self.error(
                    format!("{base}.{section}"),
                    format!("{section} must be a list of rules"),
                );
                continue;
            };
            for (i, r) in items.iter().enumerate() {
                let p = format!("{base}.{section}[{i}]");
                self.direction_rule(r, &p, ingress, deny, allowed, host_policy, has_dns_rule);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn direction_rule(
        &mut self,
        r: &Value,
        p: &str,
        ingress: bool,
        deny: bool,
        allowed: &[&str],
        host_policy: bool,
        has_dns_rule: bool,
    ) {
        self.fields(
            r,
            p,
            allowed,
            if ingress {
                "ingress rule"
            } else {
                "egress rule"
            },
        );
        let Some(m) = r.as_object() else {
            return;
        };
        if m.is_empty() && !deny {
            self.push(
                Level::Info,
                "EmptyRule",
                p.to_owned(),
                format!(
                    "empty rule: turns on default deny for {} and allows nothing",
                    if ingress { "ingress" } else { "egress" }
                ),
                None,
            );
        }
        let l3: Vec<&str> = (if ingress { INGRESS_L3 } else { EGRESS_L3 })
            .iter()
            .copied()
            .filter(|k| {
                !arr(r, &format!("/{k}")).is_empty() || m.get(*k).is_some_and(|v| !v.is_array())
            })
            .collect();
        if let [a, b, ..] = l3.as_slice() {
            self.error(
                p.to_owned(),
                format!(
                    "Combining {} and {} is not supported yet",
                    upper_first(a),
                    upper_first(b)
                ),
            );
        }
        let has_ports = !arr(r, "/toPorts").is_empty();
        if !ingress && has_ports && l3.contains(&"toServices") {
            self.error(
                p.to_owned(),
                "Combining ToServices and ToPorts is not supported yet".into(),
            );
        }
        if !arr(r, "/icmps").is_empty() && has_ports {
            self.error(
                p.to_owned(),
                "The ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts.".into(),
            );
        }
        for key in ["fromRequires", "toRequires"] {
            if m.contains_key(key) {
                self.push(
                    Level::Warning,
                    "DeprecatedField",
                    format!("{p}.{key}"),
                    format!("{key} is deprecated in Cilium 1.17 and will be removed"),
                    Some(
                        "express the constraint with an explicit endpoint selector instead".into(),
                    ),
                );
            }
        }
        for key in [
            "fromEndpoints",
            "toEndpoints",
            "fromRequires",
            "toRequires",
            "fromNodes",
            "toNodes",
        ] {
            for (i, sel) in arr(r, &format!("/{key}")).iter().enumerate() {
                self.selector(sel, &format!("{p}.{key}[{i}]"));
            }
        }
        for key in ["fromEntities", "toEntities"] {
            for (i, e) in arr(r, &format!("/{key}")).iter().enumerate() {
                let e = e.as_str().unwrap_or_default();
                if !ENTITIES.contains(&e) {
                    self.error(
                        format!("{p}.{key}[{i}]"),
                        format!(
                            "unsupported entity: {e} (entities: {})",
                            ENTITIES.join(", ")
                        ),
                    );
                }
            }
        }
        for key in ["fromCIDR", "toCIDR"] {
            for (i, c) in arr(r, &format!("/{key}")).iter().enumerate() {
                let c = c.as_str().unwrap_or_default();
                if parse_cidr(c).is_none() && c.parse::<IpAddr>().is_err() {
                    self.error(
                        format!("{p}.{key}[{i}]"),
                        format!("unable to parse CIDR: {c:?}"),
                    );
                }
            }
        }
        for key in ["fromCIDRSet", "toCIDRSet"] {
            for (i, set) in arr(r, &format!("/{key}")).iter().enumerate() {
                let path = format!("{p}.{key}[{i}]");
                self.fields(
                    set,
                    &path,
                    &["cidr", "except", "cidrGroupRef", "cidrGroupSelector"],
                    "CIDR rule",
                );
                if set.get("cidrGroupRef").is_some() || set.get("cidrGroupSelector").is_some() {
                    continue;
                }
                let cidr = s(set, "/cidr");
                match parse_cidr(cidr) {
                    None => self.error(path, format!("Unable to parse CIDRRule {cidr:?}")),
                    Some(outer) => {
                        for ex in arr(set, "/except").iter().filter_map(Value::as_str) {
                            match parse_cidr(ex) {
                                None => self.error(path.clone(), format!("unable to parse except CIDR {ex:?}")),
                                Some(inner) if !contains(outer, inner) => self.error(
                                    path.clone(),
                                    format!("allow CIDR prefix {cidr} does not contain exclude CIDR prefix {ex}"),
                                ),
                                Some(_) => {}
                            }
                        }
                    }
                }
            }
        }
        for (i, f) in arr(r, "/toFQDNs").iter().enumerate() {
            let path = format!("{p}.toFQDNs[{i}]");
            self.fqdn(f, &path);
        }
        if !ingress && !deny && !arr(r, "/toFQDNs").is_empty() && !has_dns_rule {
            self.push(
                Level::Warning,
                "FQDNWithoutDNSVisibility",
                format!("{p}.toFQDNs"),
                "toFQDNs only matches names Cilium's DNS proxy has seen, and no policy here sends DNS through it: the rule allows nothing".into(),
                Some("add an egress rule to kube-dns (toEndpoints k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns) with toPorts port 53 ANY and rules: dns: [matchPattern: \"*\"]".into()),
            );
        }
        for (i, tp) in arr(r, "/toPorts").iter().enumerate() {
            let path = format!("{p}.toPorts[{i}]");
            self.port_rule(tp, &path, ingress, deny, host_policy);
        }
    }

    fn fqdn(&mut self, f: &Value, path: &str) {
        self.fields(f, path, FQDN_FIELDS, "FQDN selector");
        let name = s(f, "/matchName");
        let pattern = s(f, "/matchPattern");
        match (name.is_empty(), pattern.is_empty()) {
            (true, true) => self.error(
                path.to_owned(),
                "an FQDN selector needs matchName or matchPattern".into(),
            ),
            (false, false) => self.error(
                path.to_owned(),
                "only one of matchName or matchPattern is allowed in an FQDN selector".into(),
            ),
            _ => {}
        }
        if !name.is_empty()
            && !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            self.error(
                format!("{path}.matchName"),
                format!("invalid name {name:?}: letters, digits, '-', '.', '_' only"),
            );
        }
        if !pattern.is_empty()
            && !pattern
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '*'))
        {
            self.error(
                format!("{path}.matchPattern"),
                format!("invalid pattern {pattern:?}: letters, digits, '-', '.', '_', '*' only"),
            );
        }
    }

    fn port_rule(&mut self, tp: &Value, path: &str, ingress: bool, deny: bool, host_policy: bool) {
        let allowed: &[&str] = if deny { &["ports"] } else { PORT_RULE_FIELDS };
        self.fields(
            tp,
            path,
            allowed,
            if deny { "deny port rule" } else { "port rule" },
        );
        let ports = arr(tp, "/ports");
        if ports.len() > MAX_PORTS {
            self.error(
                path.to_owned(),
                format!("too many ports, the max is {MAX_PORTS}"),
            );
        }
        let mut zero = false;
        let mut protos = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let pp = format!("{path}.ports[{i}]");
            self.fields(port, &pp, PORT_FIELDS, "port");
            let number = match port.get("port") {
                Some(Value::String(p)) => p.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            if number.is_empty() {
                self.error(pp.clone(), "Port must be specified".into());
            } else if let Ok(n) = number.parse::<u64>() {
                if n > 65_535 {
                    self.error(
                        pp.clone(),
                        format!("Unable to parse port: {n} is out of range (0-65535)"),
                    );
                }
                zero |= n == 0;
                if let Some(end) = port.get("endPort").and_then(Value::as_u64)
                    && end < n
                {
                    self.error(pp.clone(), format!("endPort {end} is below port {n}"));
                }
            } else if !is_service_name(&number) {
                self.error(
                    pp.clone(),
                    format!("Unable to parse port: {number:?} is neither a number nor a port name"),
                );
            }
            let proto = match s(port, "/protocol") {
                "" => "ANY".to_owned(),
                p => p.to_ascii_uppercase(),
            };
            if !PROTOCOLS.contains(&proto.as_str()) {
                self.error(
                    pp,
                    format!("unknown protocol {proto:?} (use TCP, UDP, SCTP, ICMP, ICMPv6 or ANY)"),
                );
            }
            protos.push(proto);
        }
        let Some(rules) = tp.get("rules") else {
            return;
        };
        let rp = format!("{path}.rules");
        self.fields(rules, &rp, L7_FIELDS, "L7 rules");
        let kinds: Vec<&str> = ["http", "kafka", "dns"]
            .into_iter()
            .filter(|k| rules.get(*k).is_some())
            .chain(rules.get("l7proto").map(|_| "l7proto"))
            .collect();
        if kinds.len() > 1 {
            self.error(
                rp.clone(),
                "multiple L7 protocol rule types specified in single rule".into(),
            );
        }
        if rules.get("l7").is_some() && rules.get("l7proto").is_none() {
            self.error(
                rp.clone(),
                "'l7' may only be specified when a 'l7proto' is also specified".into(),
            );
        }
        if kinds.is_empty() {
            return;
        }
        if host_policy {
            self.error(
                rp.clone(),
                "host policies do not support L7 rules yet".into(),
            );
        }
        let is_dns = rules.get("dns").is_some();
        if is_dns && ingress {
            self.error(rp.clone(), "DNS rules are not allowed on ingress".into());
        }
        if is_dns && ports.is_empty() {
            self.error(rp.clone(), "Port 53 must be specified for DNS rules".into());
        }
        if zero {
            self.error(
                rp.clone(),
                "L7 rules can not be used when a port is 0".into(),
            );
        }
        if !is_dns && let Some(p) = protos.iter().find(|p| *p != "TCP") {
            self.error(
                rp.clone(),
                format!("L7 rules can only apply to TCP (not {p}) except for DNS rules"),
            );
        }
        if tp.get("serverNames").is_some() && tp.get("terminatingTLS").is_none() {
            self.error(
                path.to_owned(),
                "ServerNames are not allowed with L7 rules without TLS termination".into(),
            );
        }
        if ingress && tp.get("listener").is_some() {
            self.error(path.to_owned(), "Listener is not allowed on ingress".into());
        }
        for (i, h) in arr(rules, "/http").iter().enumerate() {
            let hp = format!("{rp}.http[{i}]");
            self.fields(h, &hp, HTTP_FIELDS, "HTTP rule");
            for key in ["method", "path", "host"] {
                let re = s(h, &format!("/{key}"));
                if !re.is_empty()
                    && let Err(e) = regex::Regex::new(&format!("^(?:{re})$"))
                {
                    self.error(
                        format!("{hp}.{key}"),
                        format!(
                            "invalid regular expression {re:?}: {}",
                            e.to_string().lines().last().unwrap_or_default()
                        ),
                    );
                }
            }
        }
        for (i, d) in arr(rules, "/dns").iter().enumerate() {
            self.fqdn(d, &format!("{rp}.dns[{i}]"));
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// IANA service name: 1–15 characters, lowercase letters, digits and '-', at least one letter.
fn is_service_name(p: &str) -> bool {
    (1..=15).contains(&p.len())
        && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && p.chars().any(|c| c.is_ascii_alphabetic())
        && !p.starts_with('-')
        && !p.ends_with('-')
}

fn parse_cidr(c: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = c.trim().split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

fn contains(outer: (IpAddr, u8), inner: (IpAddr, u8)) -> bool {
    match (outer.0, inner.0) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if outer.1 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(outer.1))
            };
            inner.1 >= outer.1 && (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if outer.1 == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(outer.1))
            };
            inner.1 >= outer.1 && (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

/// The allowed name closest to `key` (case-insensitive equality or edit distance ≤ 2).
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if let Some(a) = allowed.iter().find(|a| a.eq_ignore_ascii_case(key)) {
        return Some(a);
    }
    allowed
        .iter()
        .map(|a| {
            (
                levenshtein(&key.to_ascii_lowercase(), &a.to_ascii_lowercase()),
                *a,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Whether any rule of `policies` sends DNS through Cilium's proxy (a `rules.dns` block).
pub fn has_dns_visibility<'a>(policies: impl IntoIterator<Item = &'a Value>) -> bool {
    policies.into_iter().any(|p| {
        cilium_rules(p).iter().any(|(_, r)| {
            arr(r, "/egress")
                .iter()
                .flat_map(|e| arr(e, "/toPorts"))
                .any(|tp| tp.pointer("/rules/dns").is_some())
        })
    })
}

/// Validates one Cilium policy. `dns_elsewhere` says whether another policy already sends DNS
/// through Cilium's proxy (so `toFQDNs` rules can match).
pub fn validate(policy: &Value, dns_elsewhere: bool) -> Vec<Finding> {
    let Some(kind) = PolicyKind::of(policy).filter(|k| k.is_cilium()) else {
        return vec![Finding::new(
            Level::Error,
            "InvalidPolicy",
            s(policy, "/kind"),
            None,
            name_of(policy),
            "not a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy",
        )];
    };
    let mut c = Check {
        kind,
        policy,
        out: Vec::new(),
    };
    let api = s(policy, "/apiVersion");
    if api != "cilium.io/v2" && api != "cilium.io/v2alpha1" {
        c.error(
            "apiVersion".into(),
            format!("apiVersion {api:?}: Cilium policies are cilium.io/v2"),
        );
    }
    if name_of(policy).is_empty() {
        c.error("metadata.name".into(), "metadata.name is required".into());
    }
    let top: Vec<&str> = policy
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for key in top {
        if !["apiVersion", "kind", "metadata", "spec", "specs", "status"].contains(&key) {
            let sugg = closest(key, &["spec", "specs", "metadata"]);
            c.push(
                Level::Error,
                "UnknownField",
                key.to_owned(),
                format!(
                    "unknown top-level field {key:?}{}",
                    sugg.map(|s| format!(" (did you mean {s:?}?)"))
                        .unwrap_or_default()
                ),
                None,
            );
        }
    }
    let rules = cilium_rules(policy);
    if rules.is_empty() {
        if policy.get("specs").is_some() && !policy.get("specs").is_some_and(Value::is_array) {
            c.error("specs".into(), "specs must be a list of rules".into());
        } else {
            c.error(
                "spec".into(),
                "the policy has neither spec nor specs (a rule with endpointSelector or nodeSelector)".into(),
            );
        }
    }
    let dns_here = has_dns_visibility(std::iter::once(policy));
    for (base, rule) in rules {
        c.rule(rule, &base, dns_here || dns_elsewhere);
    }
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cnp(spec: Value) -> Value {
        json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
               "metadata": {"name": "p", "namespace": "shop"}, "spec": spec})
    }

    fn messages(fs: &[Finding]) -> Vec<String> {
        fs.iter()
            .map(|f| {
                format!(
                    "{} {}: {}",
                    f.path.clone().unwrap_or_default(),
                    f.name,
                    f.message
                )
            })
            .collect()
    }

    #[test]
    fn a_good_policy_has_no_findings() {
        let p = cnp(json!({
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "lb"}}], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET", "path": "/api/.*"}]}}]}],
            "egress": [
                {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
                 "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}]},
                {"toFQDNs": [{"matchName": "api.example.com"}], "toPorts": [{"ports": [{"port": "443"}]}]}
            ],
            "egressDeny": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.96.0.0/12"]}]}]
        }));
        assert!(validate(&p, false).is_empty(), "{:#?}", validate(&p, false));
    }

    #[test]
    fn structural_errors_follow_ciliums_messages() {
        let p = cnp(json!({
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "nodeSelector": {},
            "ingress": [
                {"fromEndpoints": [{}], "fromCIDR": ["10.0.0.0/8"]},
                {"fromEntities": ["everything"], "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}
            ],
            "egress": [
                {"toFqdns": [{"matchName": "x.com"}]},
                {"toFQDNs": [{"matchName": "api.example.com", "matchPattern": "*.example.com"}]},
                {"toCIDRSet": [{"cidr": "10.0.0.0/16", "except": ["192.168.0.0/24"]}]},
                {"toEndpoints": [{}], "toPorts": [{"ports": [{"port": "8080", "protocol": "UDP"}], "rules": {"http": [{"path": "/("}]}}]},
                {"toServices": [{"k8sService": {"serviceName": "x"}}], "toPorts": [{"ports": [{"port": "80"}]}]},
                {"toEndpoints": [{}], "toPorts": [{"ports": [{"port": "99999", "protocol": "HTTP"}]}], "icmps": [{"fields": [{"type": 8}]}]}
            ],
            "ingressDeny": [{"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "80"}], "rules": {"http": [{}]}}]}]
        }));
        let m = messages(&validate(&p, false)).join("\n");
        for needle in [
            "rule cannot have both EndpointSelector and NodeSelector",
            "a CiliumNetworkPolicy cannot select nodes",
            "spec.ingress[0] InvalidPolicy: Combining FromEndpoints and FromCIDR is not supported yet",
            "unsupported entity: everything",
            "DNS rules are not allowed on ingress",
            "spec.egress[0].toFqdns UnknownField: unknown field \"toFqdns\" in egress rule (did you mean \"toFQDNs\"?)",
            "only one of matchName or matchPattern",
            "allow CIDR prefix 10.0.0.0/16 does not contain exclude CIDR prefix 192.168.0.0/24",
            "L7 rules can only apply to TCP (not UDP) except for DNS rules",
            "invalid regular expression \"/(\"",
            "Combining ToServices and ToPorts is not supported yet",
            "out of range",
            "unknown protocol \"HTTP\"",
            "The ICMPs block may only be present without ToPorts",
            "spec.ingressDeny[0].toPorts[0].rules UnknownField: unknown field \"rules\" in deny port rule",
            "FQDNWithoutDNSVisibility",
        ] {
            assert!(m.contains(needle), "missing {needle}:\n{m}");
        }
    }

    #[test]
    fn subjects_and_spec_shape_are_required() {
        let none = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "x"}, "spec": {"ingress": []}});
        assert!(
            messages(&validate(&none, false))
                .join("\n")
                .contains("rule must have one of EndpointSelector or NodeSelector")
        );
        let empty = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x"}});
        assert!(
            messages(&validate(&empty, false))
                .join("\n")
                .contains("neither spec nor specs")
        );
        let host_l7 = json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "h"},
            "spec": {"nodeSelector": {"matchLabels": {"role": "worker"}}, "ingress": [{"fromEntities": ["cluster"], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}]}});
        assert!(
            messages(&validate(&host_l7, false))
                .join("\n")
                .contains("host policies do not support L7 rules yet")
        );
        let bad_expr = cnp(
            json!({"endpointSelector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}),
        );
        assert!(
            messages(&validate(&bad_expr, false))
                .join("\n")
                .contains("needs at least one value")
        );
        assert_eq!(closest("toport", EGRESS_FIELDS), Some("toPorts"));
        assert_eq!(closest("zzzzzz", EGRESS_FIELDS), None);
        assert!(contains(
            parse_cidr("10.0.0.0/8").unwrap(),
            parse_cidr("10.1.0.0/16").unwrap()
        ));
        assert!(!contains(
            parse_cidr("10.0.0.0/16").unwrap(),
            parse_cidr("10.0.0.0/8").unwrap()
        ));
        assert!(
            is_service_name("http-alt") && !is_service_name("80x-") && !is_service_name("1234")
        );
    }
}
