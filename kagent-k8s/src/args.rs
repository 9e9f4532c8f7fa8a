//! Lenient argument types: kagent's tool server declares some booleans and numbers as strings
//! (`all_namespaces: "true"`), and models send either form. These accept both.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};

/// A boolean that also accepts `"true"`/`"false"` (and `"yes"`/`"no"`, `"1"`/`"0"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Str(String),
            Num(i64),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(b) => Ok(Flag(b)),
            Raw::Num(n) => Ok(Flag(n != 0)),
            Raw::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "y" => Ok(Flag(true)),
                "false" | "no" | "0" | "n" | "" => Ok(Flag(false)),
                other => Err(serde::de::Error::custom(format!(
                    "expected true or false, got {other:?}"
                ))),
            },
        }
    }
}

impl JsonSchema for Flag {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["boolean", "string"], "description": "true or false"})
    }
}

/// A non-negative integer that also accepts a numeric string (`"50"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Float(f64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(Count(n)),
            Raw::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => Ok(Count(f as u64)),
            Raw::Float(f) => Err(serde::de::Error::custom(format!(
                "expected a non-negative whole number, got {f}"
            ))),
            Raw::Str(s) => s.trim().parse::<u64>().map(Count).map_err(|_| {
                serde::de::Error::custom(format!("expected a non-negative whole number, got {s:?}"))
            }),
        }
    }
}

impl JsonSchema for Count {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]+$"})
    }
}

/// Reads an optional string argument, treating an empty string as absent (kagent's tools pass
/// `""` for "not given").
pub(crate) fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flag_accepts_bools_and_strings() {
        for (v, want) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("TRUE"), true),
            (json!("false"), false),
            (json!(""), false),
            (json!(0), false),
        ] {
            assert_eq!(serde_json::from_value::<Flag>(v).unwrap(), Flag(want));
        }
        assert!(serde_json::from_value::<Flag>(json!("maybe")).is_err());
    }

    #[test]
    fn count_accepts_numbers_and_numeric_strings() {
        assert_eq!(serde_json::from_value::<Count>(json!(5)).unwrap(), Count(5));
        assert_eq!(
            serde_json::from_value::<Count>(json!("50")).unwrap(),
            Count(50)
        );
        assert_eq!(
            serde_json::from_value::<Count>(json!(3.0)).unwrap(),
            Count(3)
        );
        assert!(serde_json::from_value::<Count>(json!(-1)).is_err());
        assert!(serde_json::from_value::<Count>(json!("ten")).is_err());
        assert!(serde_json::from_value::<Count>(json!(2.5)).is_err());
    }
}
