//! Helm 3 releases as Helm stores them in Kubernetes: one Secret per revision, named
//! `sh.helm.release.v1.<name>.v<revision>`, of type `helm.sh/release.v1`, labelled
//! `owner=helm`, `name`, `status`, `version`, whose `data.release` holds base64 of gzip of the
//! release JSON (on top of the base64 every Secret value has on the wire).
//!
//! [`decode_release`] and [`encode_release`] mirror Helm's `decodeRelease` / `encodeRelease`
//! (`pkg/storage/driver/util.go`): decoding also accepts the uncompressed form Helm wrote before
//! it compressed releases.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The Secret type Helm 3 gives release Secrets.
pub const RELEASE_SECRET_TYPE: &str = "helm.sh/release.v1";

/// The label every release Secret carries (`owner=helm`).
pub const OWNER_SELECTOR: &str = "owner=helm";

/// Largest decompressed release accepted (a guard against a gzip bomb in a Secret).
const MAX_RELEASE_BYTES: u64 = 64 * 1024 * 1024;

/// The name of the Secret holding `revision` of release `name`.
pub fn secret_name(name: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{name}.v{revision}")
}

/// Why release data could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The data is not base64.
    #[error("release data is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The data is gzip but does not decompress.
    #[error("release data does not decompress: {0}")]
    Gzip(#[from] std::io::Error),
    /// The decompressed release is larger than the 64 MiB this crate accepts.
    #[error("release data decompresses to more than {MAX_RELEASE_BYTES} bytes")]
    TooLarge,
    /// The release is not JSON of a release.
    #[error("release data is not a release JSON document: {0}")]
    Json(#[from] serde_json::Error),
}

/// A Helm release (the fields of Helm's `release.Release` this crate uses; others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Release {
    /// Release name.
    #[serde(default)]
    pub name: String,
    /// Deployment information.
    #[serde(default)]
    pub info: ReleaseInfo,
    /// The chart this revision was made from.
    #[serde(default)]
    pub chart: Chart,
    /// The values the user supplied (`-f`, `--set`); `None` when there were none.
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    /// The rendered manifest (every non-hook object, `---`-separated with `# Source:` comments).
    #[serde(default)]
    pub manifest: String,
    /// The hooks (tests, pre/post install jobs, ...).
    #[serde(default)]
    pub hooks: Vec<Hook>,
    /// The revision.
    #[serde(default)]
    pub version: u32,
    /// Namespace of the release.
    #[serde(default)]
    pub namespace: String,
}

/// `release.Info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReleaseInfo {
    /// When the release was first deployed (RFC 3339).
    #[serde(default)]
    pub first_deployed: Option<String>,
    /// When this revision was deployed (RFC 3339).
    #[serde(default)]
    pub last_deployed: Option<String>,
    /// When the release was deleted (RFC 3339; Helm writes the zero time when it was not).
    #[serde(default)]
    pub deleted: Option<String>,
    /// Helm's log line for this revision (`Install complete`, `Upgrade "x" failed: ...`).
    #[serde(default)]
    pub description: String,
    /// `deployed`, `superseded`, `failed`, `uninstalled`, `uninstalling`, `pending-install`,
    /// `pending-upgrade`, `pending-rollback` or `unknown`.
    #[serde(default)]
    pub status: String,
    /// Rendered `NOTES.txt`.
    #[serde(default)]
    pub notes: String,
}

/// The parts of `chart.Chart` this crate uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Chart {
    /// `Chart.yaml`.
    #[serde(default)]
    pub metadata: ChartMetadata,
    /// The chart's default values (`values.yaml`).
    #[serde(default)]
    pub values: Option<Map<String, Value>>,
}

/// The parts of `Chart.yaml` this crate uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChartMetadata {
    /// Chart name.
    #[serde(default)]
    pub name: String,
    /// Chart version.
    #[serde(default)]
    pub version: String,
    /// Version of the application the chart deploys.
    #[serde(default, rename = "appVersion")]
    pub app_version: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
}

/// `release.Hook`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hook {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Object kind.
    #[serde(default)]
    pub kind: String,
    /// Template path in the chart.
    #[serde(default)]
    pub path: String,
    /// The rendered object.
    #[serde(default)]
    pub manifest: String,
    /// Events that run the hook (`pre-install`, `test`, ...).
    #[serde(default)]
    pub events: Vec<String>,
    /// The last run.
    #[serde(default)]
    pub last_run: HookRun,
}

/// `release.HookExecution`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HookRun {
    /// Start (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
    /// End (RFC 3339).
    #[serde(default)]
    pub completed_at: Option<String>,
    /// `Unknown`, `Running`, `Succeeded` or `Failed` (empty when it never ran).
    #[serde(default)]
    pub phase: String,
}

impl Release {
    /// `name-version` of the chart, as `helm list` prints it.
    pub fn chart_ref(&self) -> String {
        let m = &self.chart.metadata;
        match (m.name.as_str(), m.version.as_str()) {
            ("", _) => "-".to_owned(),
            (n, "") => n.to_owned(),
            (n, v) => format!("{n}-{v}"),
        }
    }

    /// The values Helm renders with: the chart's defaults overridden by the user's values
    /// (`helm get values --all`). A `null` user value removes the default, as in Helm.
    pub fn computed_values(&self) -> Map<String, Value> {
        let mut out = self.chart.values.clone().unwrap_or_default();
        if let Some(config) = &self.config {
            coalesce(&mut out, config);
        }
        out
    }
}

/// Merges `over` into `base`: maps merge recursively, `null` deletes, everything else replaces.
fn coalesce(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (_, Value::Null) => {
                base.remove(k);
            }
            (Some(Value::Object(b)), Value::Object(o)) => coalesce(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Decodes `data.release` of a release Secret (after the Secret's own base64 has been removed,
/// i.e. the text Helm wrote): base64, then gunzip when the gzip magic is there, then JSON.
pub fn decode_release(data: &[u8]) -> Result<Release, DecodeError> {
    let json = decode_release_json(data)?;
    Ok(serde_json::from_slice(&json)?)
}

/// Like [`decode_release`], but returns the release JSON bytes (every field Helm wrote).
pub fn decode_release_json(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let trimmed = data.trim_ascii();
    let raw = B64.decode(trimmed)?;
    if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(MAX_RELEASE_BYTES + 1)
            .read_to_end(&mut out)?;
        if out.len() as u64 > MAX_RELEASE_BYTES {
            return Err(DecodeError::TooLarge);
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Encodes release JSON the way Helm's Secrets driver does: gzip at best compression, then
/// base64 (standard alphabet). The result is what goes into the Secret's `data.release` (which
/// the Secret's wire format base64-encodes once more).
pub fn encode_release(release_json: &[u8]) -> Result<String, std::io::Error> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(release_json)?;
    Ok(B64.encode(gz.finish()?))
}

/// A release Secret as Helm's Secrets driver creates it (`newSecretsObject`): name, labels
/// `name`, `owner=helm`, `status`, `version` (and `createdAt`, seconds since the epoch), type
/// `helm.sh/release.v1`, and `data.release`. `release_json` must be a release JSON document
/// (its `name`, `namespace`, `version` and `info.status` are read for the labels).
pub fn release_secret(release_json: &[u8], created_at: i64) -> Result<Value, DecodeError> {
    let rel: Release = serde_json::from_slice(release_json)?;
    let encoded = encode_release(release_json)?;
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(&rel.name, rel.version),
            "namespace": rel.namespace,
            "labels": {
                "name": rel.name,
                "owner": "helm",
                "status": rel.info.status,
                "version": rel.version.to_string(),
                "createdAt": created_at.to_string(),
            },
        },
        "type": RELEASE_SECRET_TYPE,
        "data": {"release": B64.encode(encoded.as_bytes())},
    }))
}

/// Splits a rendered manifest into its objects' `Kind/name` (with namespace when set), in order.
pub fn manifest_objects(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(manifest) {
        let Ok(v) = Value::deserialize(doc) else {
            continue;
        };
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind.is_empty() && name.is_empty() {
            continue;
        }
        match v.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => out.push(format!("{kind}/{name} (namespace {ns})")),
            None => out.push(format!("{kind}/{name}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({
            "name": "web", "namespace": "shop", "version": 2,
            "info": {"status": "deployed", "description": "Upgrade complete",
                     "last_deployed": "2026-01-10T11:00:00Z", "deleted": "", "notes": "hi"},
            "chart": {"metadata": {"name": "demo", "version": "0.1.0", "appVersion": "1.16.0"},
                      "values": {"replicaCount": 1, "image": {"tag": "", "repository": "nginx"}},
                      "templates": [{"name": "templates/x.yaml", "data": "eA=="}]},
            "config": {"replicaCount": 3, "image": {"repository": null}},
            "manifest": "---\n# Source: demo/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n",
            "hooks": [{"name": "web-test", "kind": "Pod", "events": ["test"], "last_run": {"phase": ""}}]
        })
    }

    #[test]
    fn round_trips_like_helm() {
        let json = serde_json::to_vec(&sample()).unwrap();
        let enc = encode_release(&json).unwrap();
        let raw = B64.decode(&enc).unwrap();
        assert_eq!(&raw[..3], &[0x1f, 0x8b, 0x08], "gzip magic");
        let rel = decode_release(enc.as_bytes()).unwrap();
        assert_eq!(rel.name, "web");
        assert_eq!(rel.version, 2);
        assert_eq!(rel.info.status, "deployed");
        assert_eq!(rel.chart_ref(), "demo-0.1.0");
        assert_eq!(rel.chart.metadata.app_version, "1.16.0");
        assert_eq!(rel.hooks[0].events, ["test"]);
        // uncompressed (pre-compression Helm) releases decode too
        let plain = B64.encode(&json);
        assert_eq!(decode_release(plain.as_bytes()).unwrap(), rel);
    }

    #[test]
    fn bad_data_is_a_typed_error() {
        assert!(matches!(
            decode_release(b"%%%"),
            Err(DecodeError::Base64(_))
        ));
        let not_json = B64.encode(b"hello");
        assert!(matches!(
            decode_release(not_json.as_bytes()),
            Err(DecodeError::Json(_))
        ));
        let mut gz = B64.decode(encode_release(b"{}").unwrap()).unwrap();
        gz.truncate(12);
        assert!(matches!(
            decode_release(B64.encode(&gz).as_bytes()),
            Err(DecodeError::Gzip(_))
        ));
    }

    #[test]
    fn computed_values_follow_helm_coalescing() {
        let rel: Release = serde_json::from_value(sample()).unwrap();
        let v = Value::Object(rel.computed_values());
        assert_eq!(v["replicaCount"], 3);
        assert_eq!(v["image"], json!({"tag": ""}), "null removes the default");
    }

    #[test]
    fn secrets_carry_helms_labels() {
        let s = release_secret(&serde_json::to_vec(&sample()).unwrap(), 1_700_000_000).unwrap();
        assert_eq!(s["metadata"]["name"], "sh.helm.release.v1.web.v2");
        assert_eq!(s["metadata"]["labels"]["owner"], "helm");
        assert_eq!(s["metadata"]["labels"]["status"], "deployed");
        assert_eq!(s["metadata"]["labels"]["version"], "2");
        assert_eq!(s["type"], RELEASE_SECRET_TYPE);
        let outer = B64.decode(s["data"]["release"].as_str().unwrap()).unwrap();
        assert_eq!(decode_release(&outer).unwrap().name, "web");
    }

    #[test]
    fn manifest_objects_in_order() {
        let rel: Release = serde_json::from_value(sample()).unwrap();
        assert_eq!(
            manifest_objects(&rel.manifest),
            ["Service/web", "Deployment/web (namespace shop)"]
        );
    }
}
