//! Secret values for local runs: a Secret's key provided by an environment variable or a file
//! named on the command line, instead of a Kubernetes Secret.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::error::LoadReason;

/// Where one local secret value comes from.
#[derive(Clone)]
#[non_exhaustive]
pub enum LocalValue {
    /// An environment variable, read when the agent is loaded.
    Env(String),
    /// A file, read when the agent is loaded (one trailing newline is dropped).
    File(PathBuf),
    /// A value given in code (tests, embedders that hold the key already).
    Literal(SecretString),
}

impl fmt::Debug for LocalValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalValue::Env(var) => write!(f, "Env({var})"),
            LocalValue::File(path) => write!(f, "File({})", path.display()),
            LocalValue::Literal(_) => f.write_str("Literal([REDACTED])"),
        }
    }
}

/// Why a `--secret` argument cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{arg}` is not a secret mapping: {problem} (write NAME/KEY=env:VAR or NAMESPACE/NAME/KEY=file:PATH)"
)]
#[non_exhaustive]
pub struct SecretArgError {
    /// The argument (it names a variable or a file, never a value).
    pub arg: String,
    /// What is wrong.
    pub problem: &'static str,
}

/// Values for Secret keys in local runs, consulted before the source's Secrets.
///
/// ```
/// use kagent_runtime::LocalSecrets;
///
/// let secrets = LocalSecrets::new()
///     .env(None, "anthropic-api-key", "api-key", "ANTHROPIC_API_KEY")
///     .parse_arg("kagent/mcp-token/token=file:/run/secrets/mcp-token")?;
/// assert_eq!(secrets.len(), 2);
/// # Ok::<(), kagent_runtime::SecretArgError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LocalSecrets {
    entries: BTreeMap<(Option<String>, String, String), LocalValue>,
}

impl LocalSecrets {
    /// No local values.
    pub fn new() -> Self {
        LocalSecrets::default()
    }

    /// Secret `name` (in `namespace`, or any namespace when `None`), key `key`, from the
    /// environment variable `var`.
    #[must_use]
    pub fn env(
        self,
        namespace: Option<&str>,
        name: &str,
        key: &str,
        var: impl Into<String>,
    ) -> Self {
        self.with(namespace, name, key, LocalValue::Env(var.into()))
    }

    /// Secret `name`, key `key`, from the file `path`.
    #[must_use]
    pub fn file(
        self,
        namespace: Option<&str>,
        name: &str,
        key: &str,
        path: impl Into<PathBuf>,
    ) -> Self {
        self.with(namespace, name, key, LocalValue::File(path.into()))
    }

    /// Secret `name`, key `key`, with a value held in code.
    #[must_use]
    pub fn literal(
        self,
        namespace: Option<&str>,
        name: &str,
        key: &str,
        value: impl Into<String>,
    ) -> Self {
        self.with(
            namespace,
            name,
            key,
            LocalValue::Literal(SecretString::from(value.into())),
        )
    }

    /// Adds one mapping.
    #[must_use]
    pub fn with(
        mut self,
        namespace: Option<&str>,
        name: &str,
        key: &str,
        value: LocalValue,
    ) -> Self {
        self.entries.insert(
            (
                namespace.map(str::to_owned),
                name.to_owned(),
                key.to_owned(),
            ),
            value,
        );
        self
    }

    /// Adds a command-line mapping: `NAME/KEY=env:VAR`, `NAME/KEY=file:PATH`, optionally with a
    /// namespace in front (`NAMESPACE/NAME/KEY=...`). Values cannot be given inline: they would
    /// land in shell history and process listings.
    pub fn parse_arg(self, arg: &str) -> Result<Self, SecretArgError> {
        let err = |problem| SecretArgError {
            arg: arg.to_owned(),
            problem,
        };
        let (target, from) = arg.split_once('=').ok_or_else(|| err("no `=`"))?;
        let parts: Vec<&str> = target.split('/').collect();
        let (ns, name, key) = match parts.as_slice() {
            [name, key] => (None, *name, *key),
            [ns, name, key] => (Some(*ns), *name, *key),
            _ => return Err(err("the target must be NAME/KEY or NAMESPACE/NAME/KEY")),
        };
        if name.is_empty() || key.is_empty() || ns.is_some_and(str::is_empty) {
            return Err(err("an empty namespace, name or key"));
        }
        let value = if let Some(var) = from.strip_prefix("env:") {
            if var.is_empty() {
                return Err(err("an empty variable name"));
            }
            LocalValue::Env(var.to_owned())
        } else if let Some(path) = from.strip_prefix("file:") {
            if path.is_empty() {
                return Err(err("an empty file name"));
            }
            LocalValue::File(PathBuf::from(path))
        } else {
            return Err(err("the source must be env:VAR or file:PATH"));
        };
        Ok(self.with(ns, name, key, value))
    }

    /// How many mappings there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a mapping exists for the key of Secret `namespace/name`.
    pub fn contains(&self, namespace: &str, name: &str, key: &str) -> bool {
        self.lookup(namespace, name, key).is_some()
    }

    fn lookup(&self, namespace: &str, name: &str, key: &str) -> Option<&LocalValue> {
        self.entries
            .get(&(Some(namespace.to_owned()), name.to_owned(), key.to_owned()))
            .or_else(|| self.entries.get(&(None, name.to_owned(), key.to_owned())))
    }

    /// The value for the key of Secret `namespace/name`, if mapped; reading it may fail (unset
    /// variable, unreadable file).
    pub(crate) fn resolve(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Option<Result<SecretString, LoadReason>> {
        let stands_for = || format!("key `{key}` of Secret {namespace}/{name}");
        self.lookup(namespace, name, key).map(|value| match value {
            LocalValue::Literal(v) => Ok(v.clone()),
            LocalValue::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
                _ => Err(LoadReason::EnvVarMissing {
                    var: var.clone(),
                    stands_for: stands_for(),
                }),
            },
            LocalValue::File(path) => match std::fs::read_to_string(path) {
                Ok(mut v) => {
                    if v.ends_with('\n') {
                        v.pop();
                        if v.ends_with('\r') {
                            v.pop();
                        }
                    }
                    Ok(SecretString::from(v))
                }
                Err(source) => Err(LoadReason::SecretFileUnreadable {
                    path: path.clone(),
                    stands_for: stands_for(),
                    source,
                }),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn arguments_parse_and_bad_ones_say_why() {
        let s = LocalSecrets::new()
            .parse_arg("anthropic-api-key/api-key=env:KAGENT_TEST_UNSET_VAR_1")
            .unwrap()
            .parse_arg("ns/tok/token=file:/nonexistent/token")
            .unwrap();
        assert!(s.contains("any", "anthropic-api-key", "api-key"));
        assert!(s.contains("ns", "tok", "token"));
        assert!(!s.contains("other", "tok", "token"));
        for bad in [
            "noequals",
            "a=env:X",
            "a/b/c/d=env:X",
            "a/b=literal",
            "a/b=env:",
            "/b=env:X",
        ] {
            assert!(LocalSecrets::new().parse_arg(bad).is_err(), "{bad}");
        }
        match s.resolve("x", "anthropic-api-key", "api-key") {
            Some(Err(LoadReason::EnvVarMissing { var, stands_for })) => {
                assert_eq!(var, "KAGENT_TEST_UNSET_VAR_1");
                assert!(stands_for.contains("anthropic-api-key"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            s.resolve("ns", "tok", "token"),
            Some(Err(LoadReason::SecretFileUnreadable { .. }))
        ));
    }

    #[test]
    fn files_lose_one_trailing_newline_and_literals_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "file-canary-value\n").unwrap();
        let s = LocalSecrets::new().file(None, "s", "k", &path).literal(
            Some("ns"),
            "s2",
            "k",
            "literal-canary-value",
        );
        let v = s.resolve("ns", "s", "k").unwrap().unwrap();
        assert_eq!(v.expose_secret(), "file-canary-value");
        assert!(!format!("{s:?}").contains("literal-canary-value"));
    }
}
