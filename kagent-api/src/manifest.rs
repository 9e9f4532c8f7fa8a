//! Reading multi-document YAML streams (`kubectl apply -f` files, `helm template` output,
//! GitOps folders) into kagent resources. Other kinds in the stream (RBAC, Deployments,
//! ConfigMaps, ...) are skipped with a note; each document is decoded on its own, so one bad
//! document does not hide the others.

use std::fmt;

use serde_json::Value;

use crate::decode::{DecodeError, KagentResource, decode};
use crate::error::Warning;

/// Where a document is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentPos {
    /// Position of the document in the stream, counting from 1 (the first document is 1,
    /// also when it has no leading `---`).
    pub number: usize,
    /// Line (from 1) where the document's content starts.
    pub line: usize,
    /// For the items of a `kind: List` document, the item's index (from 0).
    pub item: Option<usize>,
}

impl fmt::Display for DocumentPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {} (line {})", self.number, self.line)?;
        if let Some(i) = self.item {
            write!(f, ", items[{i}]")?;
        }
        Ok(())
    }
}

/// A kagent resource read from the stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ParsedDocument {
    /// Where it was.
    pub position: DocumentPos,
    /// The resource, in kagent's v1alpha2 shape.
    pub resource: KagentResource,
    /// Unknown fields, rewritten forms and likely mistakes.
    pub warnings: Vec<Warning>,
}

/// A document that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedDocument {
    /// Where it was.
    pub position: DocumentPos,
    /// apiVersion as written.
    pub api_version: String,
    /// kind as written.
    pub kind: String,
    /// metadata.name, when set.
    pub name: Option<String>,
    /// Why it was skipped.
    pub note: String,
}

impl fmt::Display for SkippedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: skipped {} {}",
            self.position, self.api_version, self.kind
        )?;
        if let Some(n) = &self.name {
            write!(f, " {n}")?;
        }
        write!(f, ": {}", self.note)
    }
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Not valid YAML.
    #[error("{position}: invalid YAML at line {line}, column {column}: {message}")]
    Yaml {
        /// The document.
        position: DocumentPos,
        /// Line in the whole stream (from 1).
        line: usize,
        /// Column (from 1).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A kagent resource that is invalid, or a kagent kind in an unsupported version.
    #[error("{position}: {error}")]
    Resource {
        /// The document.
        position: DocumentPos,
        /// What is wrong.
        #[source]
        error: DecodeError,
    },
}

impl DocumentError {
    /// The document the error is in.
    pub fn position(&self) -> DocumentPos {
        match self {
            DocumentError::Yaml { position, .. } | DocumentError::Resource { position, .. } => {
                *position
            }
        }
    }
}

/// Everything read from one stream.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Manifests {
    /// The kagent resources, in stream order.
    pub resources: Vec<ParsedDocument>,
    /// Documents of other kinds, with a note each.
    pub skipped: Vec<SkippedDocument>,
    /// Documents that could not be read.
    pub errors: Vec<DocumentError>,
}

impl Manifests {
    /// The Agents read.
    pub fn agents(&self) -> impl Iterator<Item = &crate::agent::Agent> {
        self.resources.iter().filter_map(|d| d.resource.as_agent())
    }

    /// The ModelConfigs read.
    pub fn model_configs(&self) -> impl Iterator<Item = &crate::model_config::ModelConfig> {
        self.resources
            .iter()
            .filter_map(|d| d.resource.as_model_config())
    }

    /// The RemoteMCPServers read.
    pub fn remote_mcp_servers(
        &self,
    ) -> impl Iterator<Item = &crate::remote_mcp_server::RemoteMCPServer> {
        self.resources
            .iter()
            .filter_map(|d| d.resource.as_remote_mcp_server())
    }

    /// Adds what another stream held (for folders of files).
    pub fn extend(&mut self, other: Manifests) {
        self.resources.extend(other.resources);
        self.skipped.extend(other.skipped);
        self.errors.extend(other.errors);
    }
}

/// One document's text and where it starts.
struct RawDocument<'a> {
    number: usize,
    /// The line the text starts at (for placing parser errors).
    first_line: usize,
    /// The first line that is neither blank nor a comment (for naming the document).
    content_line: usize,
    text: std::borrow::Cow<'a, str>,
}

/// Splits a stream at `---` lines (and after `...` end markers), as YAML does: a document
/// marker is only recognised at the start of a line, so text inside block scalars (always
/// indented) is never split.
fn split_documents<'a>(text: &'a str) -> Vec<RawDocument<'a>> {
    let mut docs = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut first_prefix: Option<String> = None;
    let mut offset = 0;
    let push = |docs: &mut Vec<RawDocument<'a>>,
                from: usize,
                to: usize,
                line: usize,
                prefix: Option<String>| {
        let body: &'a str = text.get(from..to).unwrap_or("");
        let text = match prefix {
            Some(p) => std::borrow::Cow::Owned(format!("{p}\n{body}")),
            None => std::borrow::Cow::Borrowed(body),
        };
        docs.push(RawDocument {
            number: 0,
            first_line: line,
            content_line: line,
            text,
        });
    };
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        let content = line.trim_end_matches(['\n', '\r']);
        let is_start = content == "---"
            || content
                .strip_prefix("---")
                .is_some_and(|r| r.starts_with([' ', '\t']));
        let is_end = content == "..."
            || content
                .strip_prefix("...")
                .is_some_and(|r| r.starts_with([' ', '\t']));
        if is_start || is_end {
            push(
                &mut docs,
                start_byte,
                offset,
                start_line,
                first_prefix.take(),
            );
            if is_start {
                let rest = content.get(3..).unwrap_or("").trim();
                if !rest.is_empty() && !rest.starts_with('#') {
                    first_prefix = Some(rest.to_string());
                    start_line = line_no;
                } else {
                    start_line = line_no + 1;
                }
            } else {
                start_line = line_no + 1;
            }
            start_byte = offset + line.len();
        }
        offset += line.len();
    }
    push(
        &mut docs,
        start_byte,
        text.len(),
        start_line,
        first_prefix.take(),
    );
    // Number the documents that have content, as kubectl counts them.
    let mut number = 0;
    docs.retain(|d| {
        d.text.lines().any(|l| {
            !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with('%')
        })
    });
    for d in &mut docs {
        number += 1;
        d.number = number;
        let skip = d
            .text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
            .count();
        d.content_line = d.first_line + skip;
    }
    docs
}

/// Reads every document of a YAML stream.
///
/// kagent resources are decoded (tolerant forms normalised, unknown fields reported as
/// warnings) and validated; other kinds are skipped with a note; documents that are not YAML,
/// invalid resources and unsupported kagent versions are errors naming the document and line.
/// A `kind: List` document is read item by item.
pub fn read_yaml(text: &str) -> Manifests {
    let mut out = Manifests::default();
    for doc in split_documents(text) {
        let position = DocumentPos {
            number: doc.number,
            line: doc.content_line,
            item: None,
        };
        // Through serde_yaml's own Value first: it rejects duplicate keys, which a
        // serde_json::Value would silently resolve to the last one.
        let parsed = serde_yaml::from_str::<serde_yaml::Value>(&doc.text)
            .and_then(serde_yaml::from_value::<Value>);
        let value: Value = match parsed {
            Ok(v) => v,
            Err(e) => {
                let (line, column) = e.location().map_or((doc.first_line, 1), |l| {
                    (doc.first_line + l.line() - 1, l.column())
                });
                out.errors.push(DocumentError::Yaml {
                    position,
                    line,
                    column,
                    message: strip_location(&e.to_string()),
                });
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        let is_list = value.get("kind").and_then(Value::as_str) == Some("List")
            && value.get("items").is_some_and(Value::is_array);
        if is_list {
            if let Some(Value::Array(items)) = value.get("items").cloned() {
                for (i, item) in items.into_iter().enumerate() {
                    let position = DocumentPos {
                        item: Some(i),
                        ..position
                    };
                    read_value(item, position, &mut out);
                }
            }
        } else {
            read_value(value, position, &mut out);
        }
    }
    out
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_string(),
        None => message.to_string(),
    }
}

fn read_value(value: Value, position: DocumentPos, out: &mut Manifests) {
    let name = value
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match decode(value) {
        Ok(d) => out.resources.push(ParsedDocument {
            position,
            resource: d.object,
            warnings: d.warnings,
        }),
        Err(DecodeError::NotKagent { api_version, kind }) => out.skipped.push(SkippedDocument {
            position,
            note: "not a kagent.dev resource".into(),
            api_version,
            kind,
            name,
        }),
        Err(DecodeError::UnsupportedKind { api_version, kind }) => {
            out.skipped.push(SkippedDocument {
                position,
                note: "a kagent.dev kind kagent-api does not model (it reads Agent, ModelConfig, RemoteMCPServer, ModelProviderConfig)".into(),
                api_version,
                kind,
                name,
            })
        }
        Err(error) => out.errors.push(DocumentError::Resource { position, error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_yaml() {
        let text =
            "a: 1\n---\n# only a comment\n---\nb: |\n  ---\n  text\n--- {c: 3}\n...\n---\nd: 4\n";
        let docs = split_documents(text);
        let got: Vec<(usize, usize, &str)> = docs
            .iter()
            .map(|d| (d.number, d.content_line, d.text.as_ref()))
            .collect();
        assert_eq!(
            got,
            [
                (1, 1, "a: 1\n"),
                (2, 5, "b: |\n  ---\n  text\n"),
                (3, 8, "{c: 3}\n"),
                (4, 11, "d: 4\n"),
            ]
        );
    }
}
