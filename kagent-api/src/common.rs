//! Types shared by several kinds (kagent's `common_types.go` and `TLSConfig`).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube_derive::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// Where a [`ValueSource`] reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ValueSourceType {
    /// A key of a ConfigMap.
    ConfigMap,
    /// A key of a Secret.
    Secret,
}

impl ValueSourceType {
    /// The spelling in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueSourceType::ConfigMap => "ConfigMap",
            ValueSourceType::Secret => "Secret",
        }
    }
}

/// A value read from a key of a ConfigMap or Secret in the referencing object's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name", "key"]))]
pub struct ValueSource {
    /// ConfigMap or Secret.
    #[serde(rename = "type")]
    pub type_: ValueSourceType,
    /// The name of the ConfigMap or Secret.
    #[serde(default)]
    #[schemars(length(max = 253))]
    pub name: String,
    /// The key of the ConfigMap or Secret.
    #[serde(default)]
    #[schemars(length(max = 253))]
    pub key: String,
}

/// A named value given inline (`value`) or read from a ConfigMap or Secret (`valueFrom`);
/// exactly one of the two. Used for HTTP headers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("(has(self.value) && !has(self.valueFrom)) || (!has(self.value) && has(self.valueFrom))").message("Exactly one of value or valueFrom must be specified")
)]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct ValueRef {
    /// The name (for headers: the header name).
    #[serde(default)]
    pub name: String,
    /// The value, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where to read the value from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueSource>,
}

/// A reference to an object in the same namespace (kagent's `TypedLocalReference`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct TypedLocalReference {
    /// Kind of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the object (`""` for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the object.
    #[serde(default)]
    pub name: String,
}

/// A reference to an object, by default in the referencing object's namespace (kagent's
/// `TypedReference`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::Required(&["name"]))]
pub struct TypedReference {
    /// Kind of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the object.
    #[serde(default)]
    pub name: String,
    /// Namespace of the object; the referencing object's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl TypedReference {
    /// The namespace to look the object up in.
    pub fn namespace_or<'a>(&'a self, default_namespace: &'a str) -> &'a str {
        match self.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => default_namespace,
        }
    }
}

/// Which namespaces may reference a resource (Gateway API's cross-namespace pattern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum FromNamespaces {
    /// References from every namespace.
    All,
    /// Only references from the resource's own namespace (the default).
    #[default]
    Same,
    /// References from namespaces matching `selector`.
    Selector,
}

/// Which namespaces may reference this resource. Unset means the resource's own namespace only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(self.from == 'Selector' && !has(self.selector))").message("selector must be specified when from is Selector")
)]
pub struct AllowedNamespaces {
    /// All, Same (default) or Selector.
    #[serde(default)]
    pub from: FromNamespaces,
    /// Label selector for the namespaces allowed when `from` is Selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// TLS settings for outbound HTTPS connections (model provider, MCP server).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    crates(kube_core = "::kube_core"),
    validation = Rule::new("!(has(self.caCertSecretKey) && size(self.caCertSecretKey) > 0 && (!has(self.caCertSecretRef) || size(self.caCertSecretRef) == 0))").message("caCertSecretKey requires caCertSecretRef"),
    validation = Rule::new("!(has(self.caCertSecretRef) && size(self.caCertSecretRef) > 0 && (!has(self.caCertSecretKey) || size(self.caCertSecretKey) == 0))").message("caCertSecretRef requires caCertSecretKey"),
    validation = Rule::new("!(has(self.disableSystemCAs) && self.disableSystemCAs && (!has(self.disableVerify) || !self.disableVerify) && (!has(self.caCertSecretRef) || size(self.caCertSecretRef) == 0))").message("disableSystemCAs requires caCertSecretRef or disableVerify (trust-nothing config rejects every upstream)")
)]
pub struct TlsConfig {
    /// Turns certificate verification off. Development only.
    #[serde(default)]
    pub disable_verify: bool,
    /// Name of a Secret in the same namespace holding PEM CA certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_secret_ref: Option<String>,
    /// Key in `caCertSecretRef` holding the PEM data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_secret_key: Option<String>,
    /// Trust only the CA from `caCertSecretRef`, not the system's.
    #[serde(default, rename = "disableSystemCAs")]
    pub disable_system_cas: bool,
}

impl TlsConfig {
    /// Whether the block carries any setting (kagent's `IsEmpty`, negated).
    pub fn is_empty(&self) -> bool {
        !self.disable_verify
            && self.ca_cert_secret_ref.as_deref().unwrap_or("").is_empty()
            && self.ca_cert_secret_key.as_deref().unwrap_or("").is_empty()
            && !self.disable_system_cas
    }
}

/// A Go `time.Duration` string as Kubernetes' `metav1.Duration` writes it: `30s`, `5m0s`,
/// `1h30m`, `250ms`.
///
/// The text is kept as written (so it round-trips); [`GoDuration::to_duration`] parses it.
/// Decoding never fails on the content: validation reports a malformed duration with its path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GoDuration(String);

impl GoDuration {
    /// Wraps a duration string (checked by [`GoDuration::to_duration`], not here).
    pub fn new(text: impl Into<String>) -> Self {
        GoDuration(text.into())
    }

    /// Formats `d` the way Go does (`5m0s`, `30s`, `1h0m0s`, `250ms`).
    pub fn from_duration(d: Duration) -> Self {
        let total_ms = d.as_millis();
        if total_ms < 1000 && d.subsec_nanos().is_multiple_of(1_000_000) && !d.is_zero() {
            return GoDuration(format!("{total_ms}ms"));
        }
        let secs = d.as_secs();
        let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
        let frac = d.subsec_nanos();
        let s_text = if frac == 0 {
            format!("{s}")
        } else {
            let text = format!("{s}.{frac:09}");
            text.trim_end_matches('0').to_string()
        };
        GoDuration(if h > 0 {
            format!("{h}h{m}m{s_text}s")
        } else if m > 0 {
            format!("{m}m{s_text}s")
        } else {
            format!("{s_text}s")
        })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses the text with Go's `time.ParseDuration` grammar. Negative durations are rejected:
    /// every duration in these resources is a timeout.
    pub fn to_duration(&self) -> Result<Duration, DurationError> {
        parse_go_duration(&self.0)
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for GoDuration {
    fn schema_name() -> Cow<'static, str> {
        "GoDuration".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// Why a duration string is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration: {problem} (write it the way Kubernetes does: `30s`, `5m0s`, `1h30m`, `250ms`)"
)]
#[non_exhaustive]
pub struct DurationError {
    /// The text.
    pub text: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

fn parse_go_duration(text: &str) -> Result<Duration, DurationError> {
    let err = |problem| DurationError {
        text: text.to_string(),
        problem,
    };
    let mut rest = text;
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    } else if rest.starts_with('-') {
        return Err(err("negative durations are not allowed"));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err("it is empty"));
    }
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after_int) = rest.split_at(int_len);
        let (frac_part, after_num) = match after_int.strip_prefix('.') {
            Some(f) => {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(n)
            }
            None => ("", after_int),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err("a number is missing before a unit"));
        }
        let unit_len = after_num
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after_num.len(), |(i, _)| i);
        let (unit, next) = after_num.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(err("a unit (ns, us, ms, s, m, h) is missing")),
            _ => return Err(err("the unit is not one of ns, us, ms, s, m, h")),
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| err("a number is too large"))?
        };
        let mut nanos = int
            .checked_mul(unit_nanos)
            .ok_or_else(|| err("it is too large"))?;
        if !frac_part.is_empty() {
            let mut scale: u128 = 1;
            let mut frac: u128 = 0;
            for digit in frac_part.bytes().take(18) {
                frac = frac * 10 + u128::from(digit - b'0');
                scale *= 10;
            }
            nanos += frac * unit_nanos / scale;
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or_else(|| err("it is too large"))?;
        rest = next;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err("it is too large"))?;
    let sub = u32::try_from(total_nanos % 1_000_000_000).map_err(|_| err("it is too large"))?;
    Ok(Duration::new(secs, sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_go() {
        let ok = [
            ("30s", Duration::from_secs(30)),
            ("5m0s", Duration::from_secs(300)),
            ("1h30m", Duration::from_secs(5400)),
            ("250ms", Duration::from_millis(250)),
            ("1.5s", Duration::from_millis(1500)),
            ("0", Duration::ZERO),
            ("+2m", Duration::from_secs(120)),
            ("10us", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            (".5h", Duration::from_secs(1800)),
        ];
        for (text, want) in ok {
            assert_eq!(GoDuration::new(text).to_duration(), Ok(want), "{text}");
        }
        for bad in ["", "30", "5 m", "-1s", "1d", "s", "1.s2", "abc"] {
            let e = GoDuration::new(bad).to_duration();
            assert!(e.is_err(), "{bad:?} parsed as {e:?}");
        }
        let msg = GoDuration::new("1d").to_duration().unwrap_err().to_string();
        assert!(msg.contains("`1d`") && msg.contains("5m0s"), "{msg}");
    }

    #[test]
    fn go_durations_format_like_go() {
        for (d, text) in [
            (Duration::from_secs(300), "5m0s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1500), "1.5s"),
        ] {
            assert_eq!(GoDuration::from_duration(d).as_str(), text);
            assert_eq!(GoDuration::from_duration(d).to_duration(), Ok(d));
        }
    }
}
