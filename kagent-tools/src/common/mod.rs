//! What the HTTP tool families share: the endpoint (base URL, auth, headers, the embedder's
//! HTTP client), the error type and how it reaches the model, time and duration parsing, and
//! compact rendering helpers.

mod endpoint;
mod error;
pub mod render;
pub mod time;

pub use endpoint::{Auth, Endpoint, EndpointBuilder, Reply};
pub use error::{BuildError, HttpToolError};

pub(crate) use kagent_k8s::render::bound_text;

/// A list of strings that also accepts one string (models send either).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for StringList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::One(s) if s.trim().is_empty() => StringList(Vec::new()),
            Raw::One(s) => StringList(vec![s]),
            Raw::Many(v) => StringList(v.into_iter().filter(|s| !s.trim().is_empty()).collect()),
        })
    }
}

impl schemars::JsonSchema for StringList {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StringList".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["array", "string"],
            "items": {"type": "string"},
            "description": "one string or a list of strings"
        })
    }
}
