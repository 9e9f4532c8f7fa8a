#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod anthropic;
pub mod bedrock;
pub mod config;
mod driver;
mod error;
mod estimate;
mod framing;
pub mod gemini;
mod http;
pub mod ollama;
pub mod openai;
pub mod options;
mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod vertex;
mod wire;

pub use config::{ModelConfig, build_provider};
pub use options::{Auth, ConfigError, ProviderKind, ProviderOptions, Timeouts, header_map};
