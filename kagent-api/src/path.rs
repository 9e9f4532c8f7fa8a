//! Field paths in the form kubectl and kagent print them:
//! `spec.declarative.tools[1].mcpServer.requireApproval[0]`.

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// A field of an object (`spec`, `mcpServer`).
    Field(String),
    /// An element of a list (`[1]`).
    Index(usize),
    /// An entry of a map keyed by free text (`defaultHeaders[X-Api-Version]`).
    Key(String),
}

/// Where in a resource a warning or an error is, written `spec.declarative.tools[1].mcpServer`.
///
/// The path names fields by their YAML names (kagent's), so it can be pasted into
/// `kubectl explain agent.<path>` or put verbatim into a status condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The empty path (the object itself).
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// This path followed by the object field `name`.
    #[must_use]
    pub fn field(&self, name: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Field(name.into()));
        next
    }

    /// This path followed by the list index `index`.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// This path followed by the map key `key`.
    #[must_use]
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` starts with the segments of `prefix`.
    pub fn starts_with(&self, prefix: &FieldPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub(crate) fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        let mut first = true;
        for segment in &self.0 {
            match segment {
                Segment::Field(name) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(k) => write!(f, "[{k}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Converts the path `serde_ignored` reports for an ignored field.
pub(crate) fn from_ignored(path: &serde_ignored::Path<'_>) -> FieldPath {
    fn walk(path: &serde_ignored::Path<'_>, out: &mut FieldPath) {
        use serde_ignored::Path as P;
        match path {
            P::Root => {}
            P::Seq { parent, index } => {
                walk(parent, out);
                out.push(Segment::Index(*index));
            }
            P::Map { parent, key } => {
                walk(parent, out);
                out.push(Segment::Field(key.clone()));
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                walk(parent, out)
            }
        }
    }
    let mut out = FieldPath::root();
    walk(path, &mut out);
    out
}

/// Converts the path `serde_path_to_error` reports for a failed field.
pub(crate) fn from_track(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    let mut out = FieldPath::root();
    for segment in path.iter() {
        match segment {
            S::Seq { index } => out.push(Segment::Index(*index)),
            S::Map { key } => out.push(Segment::Field(key.clone())),
            S::Enum { variant } => out.push(Segment::Field(variant.clone())),
            S::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_kubectl() {
        let p = FieldPath::root()
            .field("spec")
            .field("declarative")
            .field("tools")
            .index(1)
            .field("mcpServer")
            .field("requireApproval")
            .index(0);
        assert_eq!(
            p.to_string(),
            "spec.declarative.tools[1].mcpServer.requireApproval[0]"
        );
        assert_eq!(
            FieldPath::root()
                .field("spec")
                .field("defaultHeaders")
                .key("X-Team")
                .to_string(),
            "spec.defaultHeaders[X-Team]"
        );
        assert_eq!(FieldPath::root().to_string(), "(root)");
        assert!(p.starts_with(&FieldPath::root().field("spec")));
        assert!(!FieldPath::root().field("spec").starts_with(&p));
    }
}
