#![doc = include_str!("../README.md")]

pub mod agent;
pub mod common;
pub mod crd;
mod decode;
pub mod error;
pub mod manifest;
pub mod model_config;
pub mod model_provider_config;
mod normalize;
pub mod path;
pub mod remote_mcp_server;
mod schema;
pub mod validate;

pub use agent::{Agent, AgentSpec};
pub use decode::{
    API_VERSION, DecodeError, Decoded, GROUP, KagentKind, KagentResource, VERSION, decode,
    decode_as,
};
pub use error::{FieldError, ObjectRef, Reason, ValidationErrors, Warning, WarningKind};
pub use manifest::{Manifests, read_yaml};
pub use model_config::{ModelConfig, ModelConfigSpec, ModelProvider};
pub use model_provider_config::{ModelProviderConfig, ModelProviderConfigSpec};
pub use path::FieldPath;
pub use remote_mcp_server::{RemoteMCPServer, RemoteMCPServerSpec};
pub use validate::Validate;
