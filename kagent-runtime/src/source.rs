//! Where declarations come from: YAML files and folders ([`ManifestSource`]) or a live cluster
//! ([`KubeSource`]), behind one small trait ([`ResourceSource`]). The loader asks a source for
//! objects by kind, namespace and name and does everything else the same way for both.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kagent_api::KagentResource;
use kagent_api::manifest::DocumentError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::error::SourceError;

/// The kagent kinds the loader reads from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResourceKind {
    /// `kagent.dev/v1alpha2` Agent.
    Agent,
    /// `kagent.dev/v1alpha2` ModelConfig.
    ModelConfig,
    /// `kagent.dev/v1alpha2` RemoteMCPServer.
    RemoteMCPServer,
}

impl ResourceKind {
    /// The kind as written in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Agent => "Agent",
            ResourceKind::ModelConfig => "ModelConfig",
            ResourceKind::RemoteMCPServer => "RemoteMCPServer",
        }
    }

    /// The resource's plural (its REST path segment).
    pub fn plural(self) -> &'static str {
        match self {
            ResourceKind::Agent => "agents",
            ResourceKind::ModelConfig => "modelconfigs",
            ResourceKind::RemoteMCPServer => "remotemcpservers",
        }
    }

    fn of(resource: &KagentResource) -> Option<ResourceKind> {
        match resource {
            KagentResource::Agent(_) => Some(ResourceKind::Agent),
            KagentResource::ModelConfig(_) => Some(ResourceKind::ModelConfig),
            KagentResource::RemoteMCPServer(_) => Some(ResourceKind::RemoteMCPServer),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object as a source holds it: its JSON, and where it was read from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SourceObject {
    /// The object (apiVersion, kind, metadata, spec); decoded and validated by the loader.
    pub value: Value,
    /// Where it came from (`agent.yaml, document 1 (line 1)`), when the source knows.
    pub origin: Option<String>,
}

impl SourceObject {
    /// An object without a known origin.
    pub fn new(value: Value) -> Self {
        SourceObject {
            value,
            origin: None,
        }
    }
}

/// The data of a Secret: key names in the clear, values as [`SecretString`]s that never show in
/// `Debug`.
#[derive(Clone, Default)]
pub struct SecretData(BTreeMap<String, SecretString>);

impl SecretData {
    /// An empty Secret.
    pub fn new() -> Self {
        SecretData(BTreeMap::new())
    }

    /// Adds a key.
    pub fn insert(&mut self, key: impl Into<String>, value: SecretString) {
        self.0.insert(key.into(), value);
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.0.get(key)
    }

    /// The key names.
    pub fn keys(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "[REDACTED]")))
            .finish()
    }
}

impl FromIterator<(String, SecretString)> for SecretData {
    fn from_iter<I: IntoIterator<Item = (String, SecretString)>>(iter: I) -> Self {
        SecretData(iter.into_iter().collect())
    }
}

/// Where the loader reads declarations from.
///
/// Implement it to load agents from elsewhere (a database, a test's in-memory map); the loader
/// decodes, validates and resolves what it returns exactly as it does for files and clusters.
/// `Ok(None)` means "no such object"; `Err` means the source could not answer.
#[async_trait]
pub trait ResourceSource: Send + Sync {
    /// For messages: `files agent.yaml, model.yaml`, `the cluster at https://...`.
    fn describe(&self) -> String;

    /// A kagent object.
    async fn resource(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<SourceObject>, SourceError>;

    /// The data of a ConfigMap.
    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError>;

    /// The data of a Secret.
    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, SourceError>;
}

#[async_trait]
impl<S: ResourceSource + ?Sized> ResourceSource for std::sync::Arc<S> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    async fn resource(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<SourceObject>, SourceError> {
        (**self).resource(kind, namespace, name).await
    }
    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        (**self).config_map(namespace, name).await
    }
    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, SourceError> {
        (**self).secret(namespace, name).await
    }
}

type Key = (String, String);

/// Declarations read from YAML (or JSON) files and folders: multi-document streams as
/// `kubectl apply -f` takes them, `helm template` output, GitOps folders.
///
/// kagent's kinds are read with kagent-api (tolerant forms normalised, unknown fields reported
/// in [`ManifestSource::warnings`]); `v1` Secrets and ConfigMaps in the same streams are kept
/// for the loader; every other kind (RBAC, Deployments, ...) is skipped with a note
/// ([`ManifestSource::skipped`]). Objects without a namespace get the default namespace, as
/// `kubectl apply -n` gives them. A document that cannot be read, or an object declared twice,
/// is an error naming the file, document and line.
///
/// ```
/// use kagent_runtime::{ManifestSource, ResourceKind, ResourceSource};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut source = ManifestSource::new("kagent");
/// source.add_yaml("apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata: {name: m}\nspec: {provider: openai, model: gpt-4.1-mini}\n", "model.yaml")?;
/// let mc = source.resource(ResourceKind::ModelConfig, "kagent", "m").await?.unwrap();
/// assert_eq!(mc.value["spec"]["provider"], "OpenAI");
/// assert_eq!(mc.origin.as_deref(), Some("model.yaml, document 1 (line 1)"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ManifestSource {
    default_namespace: String,
    files: Vec<String>,
    objects: BTreeMap<(ResourceKind, String, String), SourceObject>,
    config_maps: BTreeMap<Key, (BTreeMap<String, String>, String)>,
    secrets: BTreeMap<Key, (SecretData, String)>,
    warnings: Vec<String>,
    skipped: Vec<String>,
}

impl ManifestSource {
    /// An empty source; objects without a namespace get `default_namespace`.
    pub fn new(default_namespace: impl Into<String>) -> Self {
        ManifestSource {
            default_namespace: default_namespace.into(),
            files: Vec::new(),
            objects: BTreeMap::new(),
            config_maps: BTreeMap::new(),
            secrets: BTreeMap::new(),
            warnings: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Reads files and folders (see [`ManifestSource::add_path`]).
    pub fn from_paths<P: AsRef<Path>>(
        paths: &[P],
        default_namespace: impl Into<String>,
    ) -> Result<Self, SourceError> {
        let mut source = ManifestSource::new(default_namespace);
        for p in paths {
            source.add_path(p.as_ref())?;
        }
        Ok(source)
    }

    /// The namespace given to objects that name none.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Reads a file, or every `*.yaml`, `*.yml` and `*.json` file under a folder (recursively,
    /// in name order; hidden entries are skipped).
    pub fn add_path(&mut self, path: &Path) -> Result<(), SourceError> {
        let io = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                })
                .collect();
            entries.sort();
            for entry in entries {
                let is_manifest = entry
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
                if entry.is_dir() || is_manifest {
                    self.add_path(&entry)?;
                }
            }
            Ok(())
        } else {
            let text = std::fs::read_to_string(path).map_err(io)?;
            self.add_yaml(&text, &path.display().to_string())
        }
    }

    /// Reads one YAML stream; `origin` names it in messages (a file name).
    pub fn add_yaml(&mut self, text: &str, origin: &str) -> Result<(), SourceError> {
        self.files.push(origin.to_owned());
        let manifests = kagent_api::read_yaml(text);
        if !manifests.errors.is_empty() {
            return Err(SourceError::Documents {
                origin: origin.to_owned(),
                problems: manifests
                    .errors
                    .iter()
                    .map(DocumentError::to_string)
                    .collect(),
            });
        }
        for doc in &manifests.resources {
            let at = format!("{origin}, {}", doc.position);
            for w in &doc.warnings {
                self.warnings.push(format!(
                    "{} {}: {w} [{at}]",
                    doc.resource.kind(),
                    doc.resource.name().unwrap_or("(unnamed)")
                ));
            }
            let Some(kind) = ResourceKind::of(&doc.resource) else {
                self.skipped.push(format!(
                    "{at}: skipped {} {}: the loader does not use this kind",
                    doc.resource.kind(),
                    doc.resource.name().unwrap_or("(unnamed)")
                ));
                continue;
            };
            let mut value = match &doc.resource {
                KagentResource::Agent(a) => serde_json::to_value(a),
                KagentResource::ModelConfig(m) => serde_json::to_value(m),
                KagentResource::RemoteMCPServer(r) => serde_json::to_value(r),
                _ => continue,
            }
            .map_err(|e| SourceError::Malformed {
                origin: at.clone(),
                message: format!("cannot re-encode the object: {e}"),
            })?;
            let name = doc.resource.name().unwrap_or_default().to_owned();
            let namespace = self.namespace_of(&mut value);
            let key = (kind, namespace.clone(), name.clone());
            if let Some(first) = self.objects.get(&key) {
                return Err(SourceError::Duplicate {
                    kind: kind.as_str().to_owned(),
                    namespace,
                    name,
                    first: first.origin.clone().unwrap_or_default(),
                    second: at,
                });
            }
            self.objects.insert(
                key,
                SourceObject {
                    value,
                    origin: Some(at),
                },
            );
        }
        let mut wants_core = false;
        for s in &manifests.skipped {
            if s.api_version == "v1" && matches!(s.kind.as_str(), "Secret" | "ConfigMap") {
                wants_core = true;
            } else {
                self.skipped.push(format!("{origin}, {s}"));
            }
        }
        if wants_core {
            self.read_core_objects(text, origin)?;
        }
        Ok(())
    }

    /// Sets `metadata.namespace` to the default when missing; returns the namespace.
    fn namespace_of(&self, value: &mut Value) -> String {
        let given = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        match given {
            Some(ns) => ns,
            None => {
                if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert(
                        "namespace".into(),
                        Value::String(self.default_namespace.clone()),
                    );
                }
                self.default_namespace.clone()
            }
        }
    }

    /// Picks the v1 Secrets and ConfigMaps out of a stream (kagent-api skips them).
    fn read_core_objects(&mut self, text: &str, origin: &str) -> Result<(), SourceError> {
        use serde::Deserialize;
        for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let at = format!("{origin}, document {}", i + 1);
            // Parse errors were reported by kagent-api already; a document that reached here
            // parses.
            let Ok(yaml) = serde_yaml::Value::deserialize(doc) else {
                continue;
            };
            let Ok(value) = serde_yaml::from_value::<Value>(yaml) else {
                continue;
            };
            let items = if value.get("kind").and_then(Value::as_str) == Some("List") {
                value
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            } else {
                vec![value]
            };
            for mut item in items {
                if item.get("apiVersion").and_then(Value::as_str) != Some("v1") {
                    continue;
                }
                match item.get("kind").and_then(Value::as_str) {
                    Some("Secret") => {
                        let namespace = self.namespace_of(&mut item);
                        self.add_secret_value(item, namespace, &at)?;
                    }
                    Some("ConfigMap") => {
                        let namespace = self.namespace_of(&mut item);
                        let cm: ConfigMap =
                            serde_json::from_value(item).map_err(|e| SourceError::Malformed {
                                origin: at.clone(),
                                message: format!("a ConfigMap that cannot be read: {e}"),
                            })?;
                        let name = cm.metadata.name.clone().unwrap_or_default();
                        let key = (namespace.clone(), name.clone());
                        if let Some((_, first)) = self.config_maps.get(&key) {
                            return Err(SourceError::Duplicate {
                                kind: "ConfigMap".into(),
                                namespace,
                                name,
                                first: first.clone(),
                                second: at,
                            });
                        }
                        self.config_maps
                            .insert(key, (cm.data.unwrap_or_default(), at.clone()));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn add_secret_value(
        &mut self,
        item: Value,
        namespace: String,
        at: &str,
    ) -> Result<(), SourceError> {
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // serde's messages could quote a value: they are not passed on.
        let secret: Secret = serde_json::from_value(item).map_err(|_| SourceError::Malformed {
            origin: at.to_owned(),
            message: format!(
                "Secret {namespace}/{name} cannot be read: `data` must map keys to base64 text and `stringData` keys to text"
            ),
        })?;
        let data = secret_data(&secret).map_err(|key| SourceError::Malformed {
            origin: at.to_owned(),
            message: format!(
                "Secret {namespace}/{name}: the value of key `{key}` is not UTF-8 text"
            ),
        })?;
        let key = (namespace.clone(), name.clone());
        if let Some((_, first)) = self.secrets.get(&key) {
            return Err(SourceError::Duplicate {
                kind: "Secret".into(),
                namespace,
                name,
                first: first.clone(),
                second: at.to_owned(),
            });
        }
        self.secrets.insert(key, (data, at.to_owned()));
        Ok(())
    }

    /// Unknown fields, rewritten forms and likely mistakes found while reading, each with the
    /// object, the field and where it was.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Documents of other kinds that were skipped, with a note each.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The Agents read, as `(namespace, name)`, in name order.
    pub fn agents(&self) -> Vec<(String, String)> {
        self.names(ResourceKind::Agent)
    }

    /// The objects of `kind` read, as `(namespace, name)`.
    pub fn names(&self, kind: ResourceKind) -> Vec<(String, String)> {
        self.objects
            .keys()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, ns, n)| (ns.clone(), n.clone()))
            .collect()
    }

    /// Adds (or replaces) an object after reading, e.g. a RemoteMCPServer built for a test.
    pub fn insert(&mut self, kind: ResourceKind, value: Value) {
        let mut value = value;
        let namespace = self.namespace_of(&mut value);
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.objects
            .insert((kind, namespace, name), SourceObject::new(value));
    }
}

/// A Secret's `data` and `stringData` (which wins, as the API server does) as text.
fn secret_data(secret: &Secret) -> Result<SecretData, String> {
    let mut out = SecretData::new();
    for (k, v) in secret.data.iter().flatten() {
        let text = String::from_utf8(v.0.clone()).map_err(|_| k.clone())?;
        out.insert(k.clone(), SecretString::from(text));
    }
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), SecretString::from(v.clone()));
    }
    Ok(out)
}

#[async_trait]
impl ResourceSource for ManifestSource {
    fn describe(&self) -> String {
        match self.files.as_slice() {
            [] => "no files".to_owned(),
            [one] => format!("file {one}"),
            many => format!("files {}", many.join(", ")),
        }
    }

    async fn resource(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<SourceObject>, SourceError> {
        Ok(self
            .objects
            .get(&(kind, namespace.to_owned(), name.to_owned()))
            .cloned())
    }

    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        Ok(self
            .config_maps
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|(d, _)| d.clone()))
    }

    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, SourceError> {
        Ok(self
            .secrets
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|(d, _)| d.clone()))
    }
}

/// Declarations read from a live cluster through kube (the `kagent.dev/v1alpha2` resources,
/// Secrets and ConfigMaps), with the client's credentials. Needs `get` on those resources in
/// the namespaces involved.
#[derive(Clone)]
pub struct KubeSource {
    client: kube::Client,
    label: String,
}

impl fmt::Debug for KubeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeSource")
            .field("cluster", &self.label)
            .finish()
    }
}

impl KubeSource {
    /// Reads through `client`.
    pub fn new(client: kube::Client) -> Self {
        KubeSource {
            client,
            label: "the cluster".to_owned(),
        }
    }

    /// Names the cluster in messages (`the cluster at https://...`).
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    fn error(kind: &str, namespace: &str, name: &str, source: kube::Error) -> SourceError {
        SourceError::Kube {
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source,
        }
    }
}

#[async_trait]
impl ResourceSource for KubeSource {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn resource(
        &self,
        kind: ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<SourceObject>, SourceError> {
        use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
        let gvk = GroupVersionKind::gvk(kagent_api::GROUP, kagent_api::VERSION, kind.as_str());
        let ar = ApiResource::from_gvk_with_plural(&gvk, kind.plural());
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), namespace, &ar);
        let found = api
            .get_opt(name)
            .await
            .map_err(|e| Self::error(kind.as_str(), namespace, name, e))?;
        match found {
            None => Ok(None),
            Some(obj) => {
                let value = serde_json::to_value(&obj).map_err(|e| SourceError::Malformed {
                    origin: format!("{} {namespace}/{name} in {}", kind, self.label),
                    message: e.to_string(),
                })?;
                Ok(Some(SourceObject {
                    value,
                    origin: Some(format!("{} {namespace}/{name} in {}", kind, self.label)),
                }))
            }
        }
    }

    async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, SourceError> {
        let api: kube::Api<ConfigMap> = kube::Api::namespaced(self.client.clone(), namespace);
        let cm = api
            .get_opt(name)
            .await
            .map_err(|e| Self::error("ConfigMap", namespace, name, e))?;
        Ok(cm.map(|c| c.data.unwrap_or_default()))
    }

    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<SecretData>, SourceError> {
        let api: kube::Api<Secret> = kube::Api::namespaced(self.client.clone(), namespace);
        let secret = api
            .get_opt(name)
            .await
            .map_err(|e| Self::error("Secret", namespace, name, e))?;
        match secret {
            None => Ok(None),
            Some(s) => secret_data(&s)
                .map(Some)
                .map_err(|key| SourceError::Malformed {
                    origin: format!("Secret {namespace}/{name} in {}", self.label),
                    message: format!("the value of key `{key}` is not UTF-8 text"),
                }),
        }
    }
}

/// Exposes a secret value to the code that must send it (an API key in a provider, a header).
pub(crate) fn expose(value: &SecretString) -> &str {
    value.expose_secret()
}
