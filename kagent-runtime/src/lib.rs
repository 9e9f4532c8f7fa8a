#![doc = include_str!("../README.md")]

mod builtin;
mod error;
mod loader;
mod mcp;
pub mod model;
pub mod prompt;
mod resolve;
mod secrets;
mod source;

pub use builtin::{BuiltinTools, BuiltinToolsError, InProcess, KAGENT_TOOL_SERVER};
pub use error::{LoadError, LoadErrors, LoadReason, SourceError};
pub use loader::{AgentLoader, ApprovalMode, LoadedAgent, ToolOrigin, agent_tool_name};
pub use model::{IgnoredField, ModelConversion, ResolvedModelSecrets};
pub use secrets::{LocalSecrets, LocalValue, SecretArgError};
pub use source::{
    KubeSource, ManifestSource, ResourceKind, ResourceSource, SecretData, SourceObject,
};
