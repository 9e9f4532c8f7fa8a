//! A small client for Alertmanager's API v2, over an [`Endpoint`].

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::{Endpoint, HttpToolError, Reply};

/// One matcher of a silence or filter (`name="value"`, `name=~"re"`, `name!=..`, `name!~..`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value or regular expression.
    pub value: String,
    /// Whether `value` is a regular expression.
    pub is_regex: bool,
    /// Whether it matches equal (`=`, `=~`) rather than not equal (`!=`, `!~`).
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    /// Parses `name="value"`, `name=value`, `name=~"re"`, `name!="v"`, `name!~"re"`.
    pub fn parse(text: &str) -> Result<Self, HttpToolError> {
        let t = text.trim();
        let bad = |why: &str| {
            HttpToolError::invalid(
                "matchers",
                format!(
                    "{text:?} is not a matcher ({why}); write name=\"value\", name=~\"regex\", \
                     name!=\"value\" or name!~\"regex\""
                ),
            )
        };
        let name_end = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| bad("no operator"))?;
        let (name, rest) = t.split_at(name_end);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad("the label name must start with a letter or _"));
        }
        let rest = rest.trim_start();
        let (op, value) = ["=~", "!~", "!=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|v| (*op, v.trim())))
            .ok_or_else(|| bad("no operator"))?;
        let value = if let Some(inner) = value.strip_prefix('"') {
            let inner = inner
                .strip_suffix('"')
                .ok_or_else(|| bad("unclosed quote"))?;
            unescape(inner)
        } else {
            value.to_owned()
        };
        Ok(Matcher {
            name: name.to_owned(),
            value,
            is_regex: op.ends_with('~'),
            is_equal: op.starts_with('='),
        })
    }

    /// Parses a list of matchers; each entry may itself be `{a="b", c=~"d"}`.
    pub fn parse_all(items: &[String]) -> Result<Vec<Self>, HttpToolError> {
        let mut out = Vec::new();
        for item in items {
            let t = item.trim();
            let inner = t
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .unwrap_or(t);
            for part in split_outside_quotes(inner) {
                if !part.trim().is_empty() {
                    out.push(Matcher::parse(&part)?);
                }
            }
        }
        Ok(out)
    }

    /// The operator.
    pub fn op(&self) -> &'static str {
        match (self.is_equal, self.is_regex) {
            (true, false) => "=",
            (true, true) => "=~",
            (false, false) => "!=",
            (false, true) => "!~",
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.name,
            self.op(),
            crate::common::render::quote(&self.value)
        )
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn split_outside_quotes(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Matchers (`alertname="X"`).
    pub matchers: Vec<Matcher>,
    /// Receiver name regex.
    pub receiver: Option<String>,
    /// Include active alerts (default true).
    pub active: Option<bool>,
    /// Include silenced alerts (default true).
    pub silenced: Option<bool>,
    /// Include inhibited alerts (default true).
    pub inhibited: Option<bool>,
    /// Include unprocessed alerts (default true).
    pub unprocessed: Option<bool>,
}

impl AlertFilter {
    fn query(&self, grouped: bool) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> = self
            .matchers
            .iter()
            .map(|m| ("filter", m.to_string()))
            .collect();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        if let Some(r) = &self.receiver {
            q.push(("receiver", r.clone()));
        }
        for (k, v) in [
            ("active", self.active),
            ("silenced", self.silenced),
            ("inhibited", self.inhibited),
        ] {
            if let Some(v) = v {
                q.push((k, flag(v)));
            }
        }
        if !grouped && let Some(v) = self.unprocessed {
            q.push(("unprocessed", flag(v)));
        }
        q
    }
}

/// A silence to create.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSilence {
    /// What it silences.
    pub matchers: Vec<Matcher>,
    /// RFC 3339 start.
    pub starts_at: String,
    /// RFC 3339 end.
    pub ends_at: String,
    /// Who created it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// Alertmanager's API v2 at one endpoint.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    endpoint: Endpoint,
}

/// Alertmanager's error bodies: a JSON string, `{"message": ...}`, or text.
pub(crate) fn api_error(service: &'static str, status: u16, body: &[u8]) -> HttpToolError {
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(s)) => s,
        Ok(v) => v
            .get("message")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string()),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    HttpToolError::Api {
        service,
        status,
        error_type: None,
        message: crate::common::bound_text(message, 400, ""),
    }
}

impl AlertmanagerClient {
    /// A client for the Alertmanager at `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        AlertmanagerClient { endpoint }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&impl Serialize>,
    ) -> Result<Reply, HttpToolError> {
        let url = self
            .endpoint
            .url(path, query.iter().map(|(k, v)| (*k, v.as_str())))?;
        let mut req = self.endpoint.request(method, url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let reply = self.endpoint.send(req).await?;
        if !reply.is_success() {
            return Err(api_error(
                self.endpoint.service(),
                reply.status,
                &reply.bytes,
            ));
        }
        Ok(reply)
    }

    /// `GET /api/v2/alerts`.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Value>, HttpToolError> {
        self.send(
            Method::GET,
            "api/v2/alerts",
            &filter.query(false),
            None::<&()>,
        )
        .await?
        .json(self.endpoint.service())
    }

    /// `GET /api/v2/alerts/groups`.
    pub async fn alert_groups(&self, filter: &AlertFilter) -> Result<Vec<Value>, HttpToolError> {
        self.send(
            Method::GET,
            "api/v2/alerts/groups",
            &filter.query(true),
            None::<&()>,
        )
        .await?
        .json(self.endpoint.service())
    }

    /// `GET /api/v2/silences`.
    pub async fn silences(&self, matchers: &[Matcher]) -> Result<Vec<Value>, HttpToolError> {
        let q: Vec<(&str, String)> = matchers.iter().map(|m| ("filter", m.to_string())).collect();
        self.send(Method::GET, "api/v2/silences", &q, None::<&()>)
            .await?
            .json(self.endpoint.service())
    }

    /// `GET /api/v2/silence/<id>`.
    pub async fn silence(&self, id: &str) -> Result<Value, HttpToolError> {
        self.send(
            Method::GET,
            &format!("api/v2/silence/{id}"),
            &[],
            None::<&()>,
        )
        .await?
        .json(self.endpoint.service())
    }

    /// `POST /api/v2/silences`; returns the new silence's id.
    pub async fn create_silence(&self, silence: &NewSilence) -> Result<String, HttpToolError> {
        let v: Value = self
            .send(Method::POST, "api/v2/silences", &[], Some(silence))
            .await?
            .json(self.endpoint.service())?;
        v.get("silenceID")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HttpToolError::Decode {
                service: self.endpoint.service(),
                url: self.endpoint.display_url(),
                message: format!("no silenceID in {v}"),
            })
    }

    /// `DELETE /api/v2/silence/<id>` (expires it).
    pub async fn expire_silence(&self, id: &str) -> Result<(), HttpToolError> {
        self.send(
            Method::DELETE,
            &format!("api/v2/silence/{id}"),
            &[],
            None::<&()>,
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_parse_in_every_form() {
        let m = Matcher::parse("alertname=\"High CPU\"").unwrap();
        assert_eq!(
            (m.name.as_str(), m.value.as_str(), m.is_regex, m.is_equal),
            ("alertname", "High CPU", false, true)
        );
        assert_eq!(m.to_string(), "alertname=\"High CPU\"");
        let r = Matcher::parse("severity =~ crit.*").unwrap();
        assert_eq!(r.to_string(), "severity=~\"crit.*\"");
        assert_eq!(Matcher::parse("team!=\"a\\\"b\"").unwrap().value, "a\"b");
        assert_eq!(Matcher::parse("env!~dev|test").unwrap().op(), "!~");
        let all = Matcher::parse_all(&[
            "{alertname=\"X\", job=~\"a,b\"}".to_owned(),
            "team=shop".to_owned(),
        ])
        .unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].value, "a,b");
        for bad in ["alertname", "=x", "1a=b", "a=\"open"] {
            let e = Matcher::parse(bad).unwrap_err();
            assert!(e.to_string().contains("is not a matcher"), "{bad}: {e}");
        }
    }

    #[test]
    fn alertmanager_errors_are_read_in_every_shape() {
        assert_eq!(
            api_error("Alertmanager", 400, b"\"bad matcher format\"").to_string(),
            "Alertmanager answered 400: bad matcher format"
        );
        assert_eq!(
            api_error(
                "Alertmanager",
                404,
                b"{\"code\":404,\"message\":\"silence not found\"}"
            )
            .to_string(),
            "Alertmanager answered 404: silence not found"
        );
        assert_eq!(
            api_error("Alertmanager", 500, b"oops\n").to_string(),
            "Alertmanager answered 500: oops"
        );
    }
}
