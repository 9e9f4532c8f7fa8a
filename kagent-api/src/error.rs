//! Typed errors and warnings. Every error names the field path and says how to fix it, so a
//! controller can put it into a status condition verbatim and a model can act on it.

use std::fmt;

use crate::path::FieldPath;

/// Why a field is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// A required field is missing or empty.
    #[error("is required: {hint}")]
    Required {
        /// What to put there.
        hint: String,
    },
    /// Two fields that exclude each other are both set.
    #[error("must not be set together with `{other}`: {hint}")]
    MutuallyExclusive {
        /// The path of the other field.
        other: String,
        /// Which one to keep.
        hint: String,
    },
    /// A field is set where the rest of the object makes it meaningless.
    #[error("is not allowed here: {hint}")]
    NotAllowed {
        /// Why, and what to do instead.
        hint: String,
    },
    /// A value is not one of the accepted ones.
    #[error("`{value}` is not one of {}", allowed.join(", "))]
    UnknownValue {
        /// The value found.
        value: String,
        /// The accepted values.
        allowed: Vec<String>,
    },
    /// A value has the wrong shape (a list where a string belongs, ...).
    #[error("cannot be read: {message}")]
    Decode {
        /// The decoder's message.
        message: String,
    },
    /// A `requireApproval` entry that is not in `toolNames`.
    #[error(
        "`{tool}` is not listed in toolNames: requireApproval may only name tools this agent uses; add it to toolNames or remove it here"
    )]
    NotInToolNames {
        /// The tool name.
        tool: String,
    },
    /// A provider block that does not belong to the ModelConfig's `provider`.
    #[error(
        "must not be set when provider is {provider}: the block belongs to provider {block_provider}; remove it, or set provider: {block_provider}"
    )]
    ProviderBlockMismatch {
        /// The ModelConfig's provider.
        provider: String,
        /// The provider the block belongs to.
        block_provider: String,
    },
    /// A list with too many entries.
    #[error("has {found} entries; at most {max} are allowed")]
    TooMany {
        /// The limit.
        max: usize,
        /// The count found.
        found: usize,
    },
    /// A list with too few entries.
    #[error("has {found} entries; at least {min} required")]
    TooFew {
        /// The limit.
        min: usize,
        /// The count found.
        found: usize,
    },
    /// A string that is too long.
    #[error("is {found} characters long; at most {max} are allowed")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length found.
        found: usize,
    },
    /// A number below its minimum.
    #[error("is {found}; the minimum is {min}")]
    BelowMinimum {
        /// The limit.
        min: i64,
        /// The value found.
        found: i64,
    },
    /// A string that does not have the required form.
    #[error("`{value}` is not {expected}")]
    Malformed {
        /// The value found.
        value: String,
        /// What was expected, e.g. "an absolute URI".
        expected: String,
    },
    /// A `{{include "source/key"}}` directive whose source is not a declared prompt data source.
    #[error(
        "includes `{include}`, but `{source_name}` is not a data source of promptTemplate (declared: {}); add a promptTemplate.dataSources entry with name or alias `{source_name}`",
        if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
    )]
    UnknownPromptSource {
        /// The whole include argument, `source/key`.
        include: String,
        /// The source part.
        source_name: String,
        /// The names and aliases that are declared.
        declared: Vec<String>,
    },
    /// An Agent that lists itself as one of its tools.
    #[error("refers to the agent itself; an agent cannot be its own tool")]
    SelfReference,
}

/// One invalid field: where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
#[non_exhaustive]
pub struct FieldError {
    /// The field, e.g. `spec.declarative.tools[1].mcpServer.requireApproval[0]`.
    pub path: FieldPath,
    /// What is wrong with it.
    pub reason: Reason,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: FieldPath, reason: Reason) -> Self {
        FieldError { path, reason }
    }
}

/// The object an error or warning is about: `Agent kagent/k8s-agent`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObjectRef {
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind` as written.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name`, when set.
    pub name: Option<String>,
}

impl ObjectRef {
    /// A reference to `kind` `namespace/name`.
    pub fn new(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        namespace: Option<String>,
        name: Option<String>,
    ) -> Self {
        ObjectRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace,
            name,
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.kind.is_empty() {
            "object"
        } else {
            &self.kind
        };
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, "{kind} {ns}/{name}"),
            (None, Some(name)) => write!(f, "{kind} {name}"),
            _ => write!(f, "{kind} (unnamed)"),
        }
    }
}

/// Every rule one object breaks, collected (validation does not stop at the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ValidationErrors {
    /// The object.
    pub object: ObjectRef,
    /// The broken rules, in field order.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// The error at `path`, if any (tests and controllers look errors up by field).
    pub fn at(&self, path: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.path.to_string() == path)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{} is invalid ({n} error{}):",
            self.object,
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

/// What a [`Warning`] is about. Warnings never stop decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A field kagent's schema does not have; it was ignored (a typo, or a newer kagent field).
    UnknownField,
    /// A value written in an accepted non-canonical form was rewritten to kagent's v1alpha2
    /// form (`provider: anthropic` to `Anthropic`, `apiKeySecretRef` to `apiKeySecret`, ...).
    Normalized {
        /// What was written.
        from: String,
        /// What it now reads.
        to: String,
        /// Where the accepted form comes from and what kagent's own form is.
        note: String,
    },
    /// A field that is accepted but has no effect; the text says why.
    Ignored {
        /// Why it has no effect.
        note: String,
    },
    /// A legal but likely unintended declaration.
    Advice {
        /// What to check.
        note: String,
    },
}

/// Something worth telling the author of a resource that does not make it invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The field.
    pub path: FieldPath,
    /// What about it.
    pub kind: WarningKind,
}

impl Warning {
    pub(crate) fn new(path: FieldPath, kind: WarningKind) -> Self {
        Warning { path, kind }
    }

    pub(crate) fn normalized(
        path: FieldPath,
        from: impl Into<String>,
        to: impl Into<String>,
        note: impl Into<String>,
    ) -> Self {
        Warning::new(
            path,
            WarningKind::Normalized {
                from: from.into(),
                to: to.into(),
                note: note.into(),
            },
        )
    }

    pub(crate) fn advice(path: FieldPath, note: impl Into<String>) -> Self {
        Warning::new(path, WarningKind::Advice { note: note.into() })
    }

    pub(crate) fn ignored(path: FieldPath, note: impl Into<String>) -> Self {
        Warning::new(path, WarningKind::Ignored { note: note.into() })
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WarningKind::UnknownField => write!(
                f,
                "{}: unknown field, ignored (kagent's v1alpha2 schema has no such field; check its spelling and indentation)",
                self.path
            ),
            WarningKind::Normalized { from, to, note } => {
                write!(f, "{}: read `{from}` as `{to}` ({note})", self.path)
            }
            WarningKind::Ignored { note } => write!(f, "{}: ignored: {note}", self.path),
            WarningKind::Advice { note } => write!(f, "{}: {note}", self.path),
        }
    }
}
