//! Schema helpers for what schemars cannot say about a Kubernetes field on its own.

use schemars::transform::Transform;
use schemars::{Schema, SchemaGenerator, json_schema};

/// Free-form JSON kept as written (`x-kubernetes-preserve-unknown-fields`), as kagent's
/// `apiextensionsv1.JSON` fields are.
pub(crate) fn preserve_unknown_fields(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// Marks fields `required` in an object schema and drops their `default`.
///
/// Required string fields decode with `#[serde(default)]` (a missing one becomes `""`), so that
/// validation can report every missing field with its path instead of decoding stopping at the
/// first. schemars then treats them as optional with a default of `""`; this puts kagent's
/// `required` back into the CRD schema.
pub(crate) struct Required(pub(crate) &'static [&'static str]);

impl Transform for Required {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(props) = schema
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            for name in self.0 {
                if let Some(prop) = props
                    .get_mut(*name)
                    .and_then(serde_json::Value::as_object_mut)
                {
                    prop.remove("default");
                }
            }
        }
        let Some(obj) = schema.as_object_mut() else {
            return;
        };
        let required = obj
            .entry("required")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(list) = required.as_array_mut() {
            for name in self.0 {
                if !list.iter().any(|v| v.as_str() == Some(name)) {
                    list.push(serde_json::Value::String((*name).to_string()));
                }
            }
            list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
}
