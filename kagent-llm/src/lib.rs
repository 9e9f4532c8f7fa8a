#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod anthropic;
pub mod bedrock;
pub mod config;
pub mod driver;
pub mod error;
pub mod framing;
pub mod gemini;
pub mod http;
pub mod ollama;
pub mod openai;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vertex;

pub use config::{ConfigError, ModelConfig, ProviderKind, build_provider};
