//! Values from Secrets and ConfigMaps: local mappings first, then the source.

use std::collections::BTreeMap;
use std::sync::Arc;

use kagent_api::common::{ValueSource, ValueSourceType};
use kagent_core::SecretValues;
use secrecy::SecretString;

use crate::error::LoadReason;
use crate::secrets::LocalSecrets;
use crate::source::ResourceSource;

#[derive(Clone)]
pub(crate) struct Resolver {
    pub(crate) source: Arc<dyn ResourceSource>,
    pub(crate) secrets: LocalSecrets,
    /// Every Secret value resolved so far (API keys, `headersFrom` values, TLS material, at
    /// load and at every MCP reconnect), redacted by the agents built from it.
    pub(crate) seen: SecretValues,
}

impl Resolver {
    /// A Secret key's value (a local mapping first, then the source), registered in
    /// [`Resolver::seen`].
    pub(crate) async fn secret_key(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<SecretString, LoadReason> {
        let value = self.read_secret_key(namespace, name, key).await?;
        self.seen.insert_secret(&value);
        Ok(value)
    }

    async fn read_secret_key(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<SecretString, LoadReason> {
        if let Some(local) = self.secrets.resolve(namespace, name, key) {
            return local;
        }
        let data = self
            .source
            .secret(namespace, name)
            .await
            .map_err(|source| LoadReason::Source { source })?;
        let Some(data) = data else {
            return Err(LoadReason::SecretNotFound {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                source_name: self.source.describe(),
                hint: format!(
                    "create it (kubectl create secret generic {name} -n {namespace} --from-literal={key}=...), add it to the files, or for a local run map the key: --secret {namespace}/{name}/{key}=env:VAR or =file:PATH"
                ),
            });
        };
        data.get(key)
            .cloned()
            .ok_or_else(|| LoadReason::SecretKeyMissing {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                key: key.to_owned(),
                available: data.keys(),
            })
    }

    pub(crate) async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<BTreeMap<String, String>, LoadReason> {
        let data = self
            .source
            .config_map(namespace, name)
            .await
            .map_err(|source| LoadReason::Source { source })?;
        data.ok_or_else(|| LoadReason::ConfigMapNotFound {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source_name: self.source.describe(),
            hint: "create it, or add the ConfigMap's YAML to the files given".to_owned(),
        })
    }

    pub(crate) async fn config_map_key(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<String, LoadReason> {
        let data = self.config_map(namespace, name).await?;
        data.get(key)
            .cloned()
            .ok_or_else(|| LoadReason::ConfigMapKeyMissing {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                key: key.to_owned(),
                available: data.keys().cloned().collect(),
            })
    }

    /// A `valueFrom`: a ConfigMap or Secret key in `namespace`. Values from either kind are
    /// handled as secrets from here on.
    pub(crate) async fn value(
        &self,
        namespace: &str,
        from: &ValueSource,
    ) -> Result<SecretString, LoadReason> {
        match from.type_ {
            ValueSourceType::Secret => self.secret_key(namespace, &from.name, &from.key).await,
            ValueSourceType::ConfigMap => self
                .config_map_key(namespace, &from.name, &from.key)
                .await
                .map(SecretString::from),
        }
    }
}
