//! A small typed client for Prometheus's HTTP API (`/api/v1/...`), over an [`Endpoint`].
//!
//! Also used through Grafana's datasource proxy (a path prefix in front of `api/v1`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::common::time::unix_param;
use crate::common::{Endpoint, HttpToolError};

/// Prometheus's response envelope.
#[derive(Debug, Deserialize)]
struct Envelope<T> {
    status: String,
    #[serde(default = "Option::default")]
    data: Option<T>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

/// The data of a successful call, with the warnings Prometheus attached.
#[derive(Debug, Clone)]
pub struct ApiResult<T> {
    /// The `data` field.
    pub data: T,
    /// `warnings` and `infos` (for example a partial response).
    pub warnings: Vec<String>,
}

/// One sample value: `[<unix seconds>, "<value>"]`.
pub type SamplePair = (f64, String);

/// One series of an instant vector.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorSample {
    /// Its labels.
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// The float sample.
    #[serde(default)]
    pub value: Option<SamplePair>,
    /// A native histogram sample, when the series is a histogram.
    #[serde(default)]
    pub histogram: Option<(f64, Value)>,
}

/// One series of a range vector.
#[derive(Debug, Clone, Deserialize)]
pub struct RangeSeries {
    /// Its labels.
    #[serde(default)]
    pub metric: BTreeMap<String, String>,
    /// The float samples.
    #[serde(default)]
    pub values: Vec<SamplePair>,
    /// Native histogram samples.
    #[serde(default)]
    pub histograms: Vec<(f64, Value)>,
}

/// The result of a query.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryResult {
    /// An instant vector.
    Vector(Vec<VectorSample>),
    /// A range vector.
    Matrix(Vec<RangeSeries>),
    /// A scalar.
    Scalar(SamplePair),
    /// A string.
    String(SamplePair),
}

/// Metadata of one metric.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricMetadata {
    /// counter, gauge, histogram, summary, unknown, ...
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The HELP text.
    #[serde(default)]
    pub help: String,
    /// The unit, when exposed.
    #[serde(default)]
    pub unit: String,
}

/// Prometheus's HTTP API at one endpoint.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    endpoint: Endpoint,
    prefix: String,
}

/// Turns an error answer into [`HttpToolError::Api`] with Prometheus's `errorType` and message.
pub(crate) fn api_error(service: &'static str, status: u16, body: &[u8]) -> HttpToolError {
    #[derive(Deserialize)]
    struct ErrBody {
        #[serde(default, rename = "errorType")]
        error_type: Option<String>,
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    match serde_json::from_slice::<ErrBody>(body) {
        Ok(e) if e.error.is_some() || e.message.is_some() => HttpToolError::Api {
            service,
            status,
            error_type: e.error_type,
            message: e.error.or(e.message).unwrap_or_default(),
        },
        _ => HttpToolError::Api {
            service,
            status,
            error_type: None,
            message: kagent_k8s::render::bound_text(
                String::from_utf8_lossy(body).trim().to_owned(),
                300,
                "",
            ),
        },
    }
}

impl PrometheusClient {
    /// A client for the Prometheus at `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        PrometheusClient {
            endpoint,
            prefix: String::new(),
        }
    }

    /// A client for a Prometheus reached under a path of `endpoint` (Grafana's datasource
    /// proxy: `api/datasources/proxy/uid/<uid>/`).
    pub fn with_prefix(endpoint: Endpoint, prefix: impl Into<String>) -> Self {
        let mut prefix: String = prefix.into();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        PrometheusClient {
            endpoint,
            prefix: prefix.trim_start_matches('/').to_owned(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn call<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<ApiResult<T>, HttpToolError> {
        let service = self.endpoint.service();
        let url = self.endpoint.url(
            &format!("{}api/v1/{path}", self.prefix),
            query.iter().map(|(k, v)| (*k, v.as_str())),
        )?;
        let reply = self
            .endpoint
            .send(self.endpoint.request(reqwest::Method::GET, url))
            .await?;
        if !reply.is_success() {
            return Err(api_error(service, reply.status, &reply.bytes));
        }
        let env: Envelope<T> = reply.json(service)?;
        if env.status != "success" {
            return Err(HttpToolError::Api {
                service,
                status: reply.status,
                error_type: env.error_type,
                message: env
                    .error
                    .unwrap_or_else(|| format!("status {:?}", env.status)),
            });
        }
        let data = env.data.ok_or_else(|| HttpToolError::Decode {
            service,
            url: reply.url.clone(),
            message: "success without data".into(),
        })?;
        let mut warnings = env.warnings;
        warnings.extend(env.infos);
        Ok(ApiResult { data, warnings })
    }

    /// `GET /api/v1/query`.
    pub async fn query(
        &self,
        expr: &str,
        time: Option<f64>,
    ) -> Result<ApiResult<QueryResult>, HttpToolError> {
        let mut q = vec![("query", expr.to_owned())];
        if let Some(t) = time {
            q.push(("time", unix_param(t)));
        }
        self.call("query", &q).await
    }

    /// `GET /api/v1/query_range`.
    pub async fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<ApiResult<QueryResult>, HttpToolError> {
        let q = vec![
            ("query", expr.to_owned()),
            ("start", unix_param(start)),
            ("end", unix_param(end)),
            ("step", unix_param(step)),
        ];
        self.call("query_range", &q).await
    }

    fn window(
        matches: &[String],
        start: Option<f64>,
        end: Option<f64>,
    ) -> Vec<(&'static str, String)> {
        let mut q: Vec<(&'static str, String)> =
            matches.iter().map(|m| ("match[]", m.clone())).collect();
        if let Some(s) = start {
            q.push(("start", unix_param(s)));
        }
        if let Some(e) = end {
            q.push(("end", unix_param(e)));
        }
        q
    }

    /// `GET /api/v1/labels`.
    pub async fn label_names(
        &self,
        matches: &[String],
        start: Option<f64>,
        end: Option<f64>,
    ) -> Result<ApiResult<Vec<String>>, HttpToolError> {
        self.call("labels", &Self::window(matches, start, end))
            .await
    }

    /// `GET /api/v1/label/<name>/values`.
    pub async fn label_values(
        &self,
        label: &str,
        matches: &[String],
        start: Option<f64>,
        end: Option<f64>,
    ) -> Result<ApiResult<Vec<String>>, HttpToolError> {
        let path = format!("label/{}/values", encode_segment(label));
        self.call(&path, &Self::window(matches, start, end)).await
    }

    /// `GET /api/v1/series`.
    pub async fn series(
        &self,
        matches: &[String],
        start: Option<f64>,
        end: Option<f64>,
    ) -> Result<ApiResult<Vec<BTreeMap<String, String>>>, HttpToolError> {
        self.call("series", &Self::window(matches, start, end))
            .await
    }

    /// `GET /api/v1/metadata`.
    pub async fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<u64>,
    ) -> Result<ApiResult<BTreeMap<String, Vec<MetricMetadata>>>, HttpToolError> {
        let mut q = Vec::new();
        if let Some(m) = metric {
            q.push(("metric", m.to_owned()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        self.call("metadata", &q).await
    }

    /// `GET /api/v1/targets` (`state`: active, dropped or any).
    pub async fn targets(&self, state: Option<&str>) -> Result<ApiResult<Value>, HttpToolError> {
        let q: Vec<(&str, String)> = state.map(|s| ("state", s.to_owned())).into_iter().collect();
        self.call("targets", &q).await
    }

    /// `GET /api/v1/alerts`.
    pub async fn alerts(&self) -> Result<ApiResult<Value>, HttpToolError> {
        self.call("alerts", &[]).await
    }

    /// `GET /api/v1/rules` (`kind`: `alert` or `record`).
    pub async fn rules(&self, kind: Option<&str>) -> Result<ApiResult<Value>, HttpToolError> {
        let q: Vec<(&str, String)> = kind.map(|k| ("type", k.to_owned())).into_iter().collect();
        self.call("rules", &q).await
    }

    /// `GET /api/v1/status/tsdb`.
    pub async fn tsdb_status(&self) -> Result<ApiResult<Value>, HttpToolError> {
        self.call("status/tsdb", &[]).await
    }

    /// `GET /api/v1/status/buildinfo`.
    pub async fn build_info(&self) -> Result<ApiResult<Value>, HttpToolError> {
        self.call("status/buildinfo", &[]).await
    }

    /// `GET /api/v1/format_query`: Prometheus parses the expression and prints it back
    /// (a syntax check without evaluating anything).
    pub async fn format_query(&self, expr: &str) -> Result<ApiResult<String>, HttpToolError> {
        self.call("format_query", &[("query", expr.to_owned())])
            .await
    }
}

/// Percent-encodes one path segment.
fn encode_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_parse_in_every_shape() {
        let v: QueryResult = serde_json::from_value(json!({
            "resultType": "vector",
            "result": [{"metric": {"job": "a"}, "value": [1700000000.5, "1.5"]}]
        }))
        .unwrap();
        let QueryResult::Vector(s) = v else { panic!() };
        assert_eq!(s[0].value.as_ref().unwrap().1, "1.5");
        let m: QueryResult = serde_json::from_value(json!({
            "resultType": "matrix",
            "result": [{"metric": {}, "values": [[1, "1"], [2, "NaN"]]}]
        }))
        .unwrap();
        assert!(matches!(m, QueryResult::Matrix(ref s) if s[0].values.len() == 2));
        let sc: QueryResult =
            serde_json::from_value(json!({"resultType": "scalar", "result": [1, "3"]})).unwrap();
        assert!(matches!(sc, QueryResult::Scalar((_, ref v)) if v == "3"));
    }

    #[test]
    fn errors_keep_prometheus_error_type() {
        let e = api_error(
            "Prometheus",
            400,
            br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#,
        );
        assert_eq!(
            e.to_string(),
            "Prometheus answered 400 (bad_data): 1:5: parse error: unclosed left parenthesis"
        );
        let plain = api_error("Prometheus", 502, b"Bad Gateway");
        assert_eq!(plain.to_string(), "Prometheus answered 502: Bad Gateway");
    }
}
