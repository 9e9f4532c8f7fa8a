//! Mapping provider errors (HTTP status, headers, JSON body, in-band stream errors) to
//! [`ProviderError`].
//!
//! Every provider in this crate funnels its failures through here so that the engine sees one
//! classification: [`ProviderError::is_retryable`] and [`ProviderError::retry_after`] decide
//! whether and when to retry. Providers themselves never retry.
//!
//! What is read:
//! - the retry hint from `retry-after-ms` (milliseconds, OpenAI/Anthropic SDK convention),
//!   `retry-after` (delta-seconds, fractional seconds accepted, or an HTTP-date), and Google's
//!   `google.rpc.RetryInfo.retryDelay` in the error body's `details`;
//! - Anthropic's `x-should-retry: true|false` as an explicit verdict;
//! - the request id from `x-request-id`, `request-id`, `apim-request-id`, `x-ms-request-id`,
//!   `x-goog-request-id`, `x-amzn-requestid`, `x-amz-request-id`, or a `request_id` in the body;
//! - the body in the OpenAI (`{"error":{message,type,code}}`), Anthropic
//!   (`{"type":"error","error":{type,message}}`), Google (`{"error":{code,message,status,details}}`,
//!   also wrapped in an array), Ollama (`{"error":"..."}`) and AWS (`{"message":"..."}` plus the
//!   `x-amzn-errortype` header) shapes. A body in none of these shapes becomes the message,
//!   cut to a few hundred bytes.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use kagent_core::{ApiErrorDetails, ApiErrorKind, ProviderError};
use serde_json::Value;

/// Longest body text kept as an error message when the body is not a known JSON shape.
const MAX_RAW_MESSAGE: usize = 512;

/// Header names that carry a request id, in order of preference.
const REQUEST_ID_HEADERS: &[&str] = &[
    "x-request-id",
    "request-id",
    "apim-request-id",
    "x-ms-request-id",
    "x-goog-request-id",
    "x-amzn-requestid",
    "x-amzn-request-id",
    "x-amz-request-id",
];

/// An error body parsed from any of the known provider shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedErrorBody {
    /// The provider's message.
    pub(crate) message: Option<String>,
    /// Error type (`invalid_request_error`, `overloaded_error`, or Google's `status` such as
    /// `RESOURCE_EXHAUSTED`).
    pub(crate) error_type: Option<String>,
    /// Error code (`insufficient_quota`, `context_length_exceeded`, Azure's inner
    /// `ResponsibleAIPolicyViolation`, Google's numeric `code` as text).
    pub(crate) code: Option<String>,
    /// Azure's `innererror.code` when present (e.g. `ResponsibleAIPolicyViolation`).
    pub(crate) inner_code: Option<String>,
    /// A request id found in the body (Anthropic `request_id`).
    pub(crate) request_id: Option<String>,
    /// Google `RetryInfo.retryDelay`.
    pub(crate) retry_delay: Option<Duration>,
}

/// Parses an error body in any of the known shapes. Returns `None` when the bytes are not JSON
/// or carry no recognizable error.
pub(crate) fn parse_error_body(body: &[u8]) -> Option<ParsedErrorBody> {
    let value: Value = serde_json::from_slice(body).ok()?;
    parse_error_value(&value)
}

/// Like [`parse_error_body`] for an already parsed JSON value (e.g. an in-band stream event).
pub(crate) fn parse_error_value(value: &Value) -> Option<ParsedErrorBody> {
    // Google sometimes wraps the error object in an array: `[{"error": {...}}]`.
    if let Value::Array(items) = value {
        return items.iter().find_map(parse_error_value);
    }
    let obj = value.as_object()?;
    let mut out = ParsedErrorBody {
        request_id: obj
            .get("request_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..Default::default()
    };
    match obj.get("error") {
        // OpenAI, Anthropic, Google, Azure.
        Some(Value::Object(err)) => {
            out.message = str_field(err, "message");
            out.error_type = str_field(err, "type").or_else(|| str_field(err, "status"));
            out.code = match err.get("code") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            out.inner_code = err
                .get("innererror")
                .and_then(Value::as_object)
                .and_then(|inner| str_field(inner, "code"));
            if let Some(details) = err.get("details") {
                out.retry_delay = google_retry_delay(details);
            }
            // Google puts the status next to a numeric code; keep the status as the type.
            if let Some(status) = str_field(err, "status") {
                out.error_type = Some(status);
            }
            Some(out)
        }
        // Ollama and many OpenAI-compatible servers.
        Some(Value::String(message)) => {
            out.message = Some(message.clone());
            Some(out)
        }
        _ => {
            // AWS (`{"message": "...", "__type": "..."}`) and bare `{"message": "..."}` bodies.
            let message = str_field(obj, "message").or_else(|| str_field(obj, "Message"))?;
            out.message = Some(message);
            out.error_type = str_field(obj, "__type").or_else(|| str_field(obj, "type"));
            out.code = str_field(obj, "code");
            Some(out)
        }
    }
}

fn str_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Reads Google's `google.rpc.RetryInfo.retryDelay` (e.g. `"37s"`, `"1.5s"`) from an error's
/// `details` array.
pub(crate) fn google_retry_delay(details: &Value) -> Option<Duration> {
    details.as_array()?.iter().find_map(|d| {
        let is_retry_info = d
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"));
        if !is_retry_info {
            return None;
        }
        match d.get("retryDelay")? {
            Value::String(s) => parse_google_duration(s),
            // The JSON mapping of a Duration is a string, but accept `{seconds, nanos}` too.
            Value::Object(o) => {
                let secs = o.get("seconds").and_then(json_u64).unwrap_or(0);
                let nanos = o.get("nanos").and_then(json_u64).unwrap_or(0);
                Some(Duration::from_secs(secs) + Duration::from_nanos(nanos))
            }
            _ => None,
        }
    })
}

fn json_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Parses a protobuf JSON duration such as `"37s"`, `"1.500s"` or `"0.25s"`.
pub(crate) fn parse_google_duration(s: &str) -> Option<Duration> {
    let secs = s.trim().strip_suffix('s')?;
    let secs: f64 = secs.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

/// The retry hint in response headers: `retry-after-ms` first, then `retry-after` as
/// delta-seconds (fractions accepted) or an HTTP-date (a date in the past means "now").
pub(crate) fn retry_after_from_headers(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
    {
        return Some(ms);
    }
    let value = header_str(headers, "retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    parse_http_date_delay(value)
}

/// Seconds from now until an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`); zero when past.
pub(crate) fn parse_http_date_delay(value: &str) -> Option<Duration> {
    let when = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let now = jiff::Timestamp::now();
    if when <= now {
        return Some(Duration::ZERO);
    }
    let span = when.duration_since(now);
    Duration::try_from(span).ok()
}

/// Anthropic's `x-should-retry` header as a verdict.
pub(crate) fn should_retry_from_headers(headers: &HeaderMap) -> Option<bool> {
    match header_str(headers, "x-should-retry")?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The first request id header present.
pub(crate) fn request_id_from_headers(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| header_str(headers, name))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Builds the typed error for an HTTP error response. The body is the raw response body (any
/// content type: the status decides, not the `content-type` header).
pub(crate) fn from_http_response(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ProviderError {
    let parsed = parse_error_body(body).unwrap_or_default();
    let message = match parsed.message.clone() {
        Some(m) => m,
        None => raw_message(status, body),
    };
    let aws_type = header_str(headers, "x-amzn-errortype")
        .map(|t| t.split(':').next().unwrap_or(t).to_owned());
    let mut details = ApiErrorDetails::new(message).with_status(status.as_u16());
    details.error_type = parsed.error_type.clone().or(aws_type);
    details.code = parsed.inner_code.clone().or(parsed.code.clone());
    details.request_id = request_id_from_headers(headers).or(parsed.request_id.clone());
    details.retry_after = retry_after_from_headers(headers).or(parsed.retry_delay);
    details.should_retry = should_retry_from_headers(headers);
    classify(provider, details, &parsed)
}

fn raw_message(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no error message")
            .to_owned();
    }
    let mut end = text.len().min(MAX_RAW_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

/// Builds the typed error for an error that arrived inside a `200 OK` stream (OpenAI
/// `data: {"error":...}`, Anthropic `event: error`, Gemini raw error object, Ollama
/// `{"error":"..."}`). Without a status the classification uses the error type and code.
pub(crate) fn from_in_band(provider: &str, value: &Value) -> ProviderError {
    let parsed = parse_error_value(value).unwrap_or_default();
    from_parsed_in_band(provider, parsed)
}

/// [`from_in_band`] for a body that is already parsed.
pub(crate) fn from_parsed_in_band(provider: &str, parsed: ParsedErrorBody) -> ProviderError {
    // Google in-band errors carry the HTTP code in `error.code` (e.g. 429, 503).
    let status = parsed
        .code
        .as_deref()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (400..600).contains(c));
    let mut details = ApiErrorDetails::new(
        parsed
            .message
            .clone()
            .unwrap_or_else(|| "error event in stream".to_owned()),
    );
    details.status = status;
    details.error_type = parsed.error_type.clone();
    details.code = parsed.inner_code.clone().or(parsed.code.clone());
    details.request_id = parsed.request_id.clone();
    details.retry_after = parsed.retry_delay;
    classify(provider, details, &parsed)
}

/// What an error is about, from its type, code and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ContextLength,
    ContentFilter,
    Quota,
    RateLimit,
    Overloaded,
    Auth,
    Permission,
    NotFound,
    Invalid,
    Server,
    Unknown,
}

fn kind_of(details: &ApiErrorDetails, parsed: &ParsedErrorBody) -> Kind {
    let ty = details.error_type.as_deref().unwrap_or("");
    let codes = [
        parsed.code.as_deref().unwrap_or(""),
        parsed.inner_code.as_deref().unwrap_or(""),
    ];
    let has_code = |c: &str| codes.iter().any(|x| x.eq_ignore_ascii_case(c)) || ty == c;
    let msg = details.message.to_ascii_lowercase();

    if has_code("context_length_exceeded")
        || has_code("string_above_max_length")
        || msg.contains("maximum context length")
        || msg.contains("context length exceeded")
        || msg.contains("context window")
        || msg.contains("prompt is too long")
        || msg.contains("input is too long")
        || msg.contains("exceeds the maximum number of tokens")
        || msg.contains("too many tokens")
    {
        return Kind::ContextLength;
    }
    if has_code("content_filter")
        || has_code("content_policy_violation")
        || has_code("ResponsibleAIPolicyViolation")
    {
        return Kind::ContentFilter;
    }
    if has_code("insufficient_quota")
        || has_code("billing_hard_limit_reached")
        || has_code("billing_not_active")
    {
        return Kind::Quota;
    }
    match ty {
        "rate_limit_error"
        | "rate_limit_exceeded"
        | "RESOURCE_EXHAUSTED"
        | "ThrottlingException"
        | "tokens"
        | "requests" => Kind::RateLimit,
        "overloaded_error" | "UNAVAILABLE" | "ServiceUnavailableException" => Kind::Overloaded,
        "authentication_error" | "UNAUTHENTICATED" | "UnrecognizedClientException" => Kind::Auth,
        "permission_error" | "PERMISSION_DENIED" | "AccessDeniedException" => Kind::Permission,
        "not_found_error" | "NOT_FOUND" | "ResourceNotFoundException" => Kind::NotFound,
        "invalid_request_error"
        | "INVALID_ARGUMENT"
        | "FAILED_PRECONDITION"
        | "ValidationException" => Kind::Invalid,
        "api_error"
        | "server_error"
        | "INTERNAL"
        | "UNKNOWN"
        | "DEADLINE_EXCEEDED"
        | "InternalServerException"
        | "ModelStreamErrorException" => Kind::Server,
        _ => {
            if has_code("rate_limit_exceeded") {
                Kind::RateLimit
            } else if has_code("invalid_api_key") {
                Kind::Auth
            } else if has_code("model_not_found") {
                Kind::NotFound
            } else {
                Kind::Unknown
            }
        }
    }
}

/// Spend caps reported as 429 without a retry hint (e.g. "You exceeded your current quota,
/// please check your plan and billing details").
fn looks_like_spend_cap(details: &ApiErrorDetails) -> bool {
    let msg = details.message.to_ascii_lowercase();
    msg.contains("quota")
        || msg.contains("spend limit")
        || msg.contains("spending limit")
        || msg.contains("billing")
        || msg.contains("credit balance")
}

/// Classifies an error from its HTTP status (when known) and the body's type/code/message.
pub(crate) fn classify(
    provider: &str,
    details: ApiErrorDetails,
    parsed: &ParsedErrorBody,
) -> ProviderError {
    let kind = api_kind(&details, parsed);
    ProviderError::api(provider, kind, details)
}

fn api_kind(details: &ApiErrorDetails, parsed: &ParsedErrorBody) -> ApiErrorKind {
    use ApiErrorKind as K;
    let kind = kind_of(details, parsed);
    match (details.status, kind) {
        // Throttling and server failures are decided by the status: their messages may mention
        // tokens or limits without being about the context window.
        (Some(429), Kind::ContextLength | Kind::ContentFilter) => K::RateLimited,
        (Some(s), Kind::ContextLength | Kind::ContentFilter) if s >= 500 => {
            if s == 503 || s == 529 {
                K::Overloaded
            } else {
                K::Server
            }
        }
        (_, Kind::ContextLength) => K::ContextLengthExceeded,
        (_, Kind::ContentFilter) => K::ContentFiltered,
        (_, Kind::Quota) => K::QuotaExceeded,
        (Some(400 | 422), _) => K::InvalidRequest,
        (Some(401), _) => K::Authentication,
        (Some(403), _) => K::PermissionDenied,
        (Some(404), _) => K::NotFound,
        (Some(429), _) => {
            if details.retry_after.is_none() && looks_like_spend_cap(details) {
                K::QuotaExceeded
            } else {
                K::RateLimited
            }
        }
        (Some(503 | 529), _) => K::Overloaded,
        (Some(408 | 409), _) => K::Server,
        (Some(s), _) if s >= 500 => K::Server,
        (Some(_), Kind::RateLimit) | (None, Kind::RateLimit) => K::RateLimited,
        (_, Kind::Overloaded) => K::Overloaded,
        (_, Kind::Auth) => K::Authentication,
        (_, Kind::Permission) => K::PermissionDenied,
        (_, Kind::NotFound) => K::NotFound,
        (_, Kind::Invalid) => K::InvalidRequest,
        // Other 4xx statuses: the request is at fault.
        (Some(s), Kind::Server | Kind::Unknown) if (400..500).contains(&s) => K::InvalidRequest,
        // In-band errors of unknown or server type: treat as a server-side failure.
        _ => K::Server,
    }
}

/// A transport failure from reqwest (connect, TLS, broken connection, body read).
pub(crate) fn from_reqwest(provider: &str, err: reqwest::Error, phase: &str) -> ProviderError {
    let message = if err.is_connect() {
        format!("could not connect ({phase})")
    } else if err.is_body() || err.is_decode() {
        format!("connection broke while reading the body ({phase})")
    } else if err.is_request() {
        format!("request failed ({phase})")
    } else {
        format!("HTTP failure ({phase})")
    };
    // reqwest errors carry the URL, which may contain a key in its query (Gemini `?key=`):
    // drop it before keeping the error as the source.
    ProviderError::transport(provider, message, Some(Box::new(err.without_url())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let h = headers(&[("retry-after-ms", "1500"), ("retry-after", "30")]);
        assert_eq!(
            retry_after_from_headers(&h),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn retry_after_seconds_and_fractions() {
        let h = headers(&[("retry-after", "20")]);
        assert_eq!(retry_after_from_headers(&h), Some(Duration::from_secs(20)));
        let h = headers(&[("retry-after", "0.5")]);
        assert_eq!(
            retry_after_from_headers(&h),
            Some(Duration::from_millis(500))
        );
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(retry_after_from_headers(&h), None);
        let h = headers(&[("retry-after", "-3")]);
        assert_eq!(retry_after_from_headers(&h), None);
    }

    #[test]
    fn retry_after_http_date() {
        let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after_from_headers(&past), Some(Duration::ZERO));
        let future = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&future)
            .unwrap();
        let h = headers(&[("retry-after", &text)]);
        let d = retry_after_from_headers(&h).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
    }

    #[test]
    fn google_retry_info() {
        let body = json!({"error": {"code": 429, "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}});
        let p = parse_error_value(&body).unwrap();
        assert_eq!(p.retry_delay, Some(Duration::from_secs(37)));
        assert_eq!(p.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(
            parse_google_duration("1.5s"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_google_duration("oops"), None);
    }

    #[test]
    fn body_shapes() {
        let openai = br#"{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":"x"}}"#;
        let p = parse_error_body(openai).unwrap();
        assert_eq!(p.message.as_deref(), Some("bad"));
        assert_eq!(p.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(p.code.as_deref(), Some("x"));
        let anthropic = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_9"}"#;
        let p = parse_error_body(anthropic).unwrap();
        assert_eq!(p.error_type.as_deref(), Some("overloaded_error"));
        assert_eq!(p.request_id.as_deref(), Some("req_9"));
        let google =
            br#"[{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}]"#;
        let p = parse_error_body(google).unwrap();
        assert_eq!(p.error_type.as_deref(), Some("NOT_FOUND"));
        assert_eq!(p.code.as_deref(), Some("404"));
        let ollama = br#"{"error":"model 'x' not found"}"#;
        assert_eq!(
            parse_error_body(ollama).unwrap().message.as_deref(),
            Some("model 'x' not found")
        );
        let aws = br#"{"message":"Too many requests"}"#;
        assert_eq!(
            parse_error_body(aws).unwrap().message.as_deref(),
            Some("Too many requests")
        );
        assert!(parse_error_body(b"<html>502</html>").is_none());
        assert!(parse_error_body(b"{}").is_none());
    }

    #[test]
    fn status_classification() {
        let h = HeaderMap::new();
        let e = |s: u16, body: &[u8]| {
            from_http_response("p", StatusCode::from_u16(s).unwrap(), &h, body)
        };
        assert!(matches!(
            e(400, b"{}"),
            ProviderError::Api {
                kind: ApiErrorKind::InvalidRequest,
                ..
            }
        ));
        assert!(matches!(
            e(422, b""),
            ProviderError::Api {
                kind: ApiErrorKind::InvalidRequest,
                ..
            }
        ));
        assert!(matches!(
            e(401, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Authentication,
                ..
            }
        ));
        assert!(matches!(
            e(403, b""),
            ProviderError::Api {
                kind: ApiErrorKind::PermissionDenied,
                ..
            }
        ));
        assert!(matches!(
            e(404, b""),
            ProviderError::Api {
                kind: ApiErrorKind::NotFound,
                ..
            }
        ));
        assert!(matches!(
            e(408, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ));
        assert!(matches!(
            e(409, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ));
        assert!(matches!(
            e(500, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ));
        assert!(matches!(
            e(503, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ));
        assert!(matches!(
            e(529, b""),
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ));
        assert!(matches!(
            e(429, b""),
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ));
        assert!(matches!(
            e(429, br#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#),
            ProviderError::Api { kind: ApiErrorKind::QuotaExceeded, .. }
        ));
        assert!(matches!(
            e(400, br#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#),
            ProviderError::Api { kind: ApiErrorKind::ContextLengthExceeded, .. }
        ));
        assert!(matches!(
            e(400, br#"{"error":{"message":"filtered","code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#),
            ProviderError::Api { kind: ApiErrorKind::ContentFiltered, .. }
        ));
        let raw = e(502, b"<html>bad gateway</html>");
        assert_eq!(raw.details().unwrap().message, "<html>bad gateway</html>");
        assert!(raw.is_retryable());
    }

    #[test]
    fn token_wording_on_429_and_5xx_does_not_mean_context_length() {
        let body = br#"{"error":{"message":"Too many tokens per minute, please slow down"}}"#;
        let e = from_http_response("p", StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), body);
        assert!(
            matches!(
                e,
                ProviderError::Api {
                    kind: ApiErrorKind::RateLimited,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = from_http_response(
            "p",
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            body,
        );
        assert!(
            matches!(
                e,
                ProviderError::Api {
                    kind: ApiErrorKind::Overloaded,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = from_http_response("p", StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        assert!(
            matches!(
                e,
                ProviderError::Api {
                    kind: ApiErrorKind::ContextLengthExceeded,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn spend_cap_429_with_retry_after_is_a_rate_limit() {
        let h = headers(&[("retry-after", "5")]);
        let e = from_http_response(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            br#"{"error":{"message":"quota exceeded for requests per minute"}}"#,
        );
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ));
        let e = from_http_response(
            "p",
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            br#"{"error":{"message":"quota exceeded for requests per minute"}}"#,
        );
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::QuotaExceeded,
                ..
            }
        ));
        assert!(!e.is_retryable());
    }

    #[test]
    fn headers_fill_details() {
        let h = headers(&[
            ("x-request-id", "req_123"),
            ("x-should-retry", "false"),
            ("retry-after", "2"),
        ]);
        let e = from_http_response("anthropic", StatusCode::INTERNAL_SERVER_ERROR, &h, b"");
        let d = e.details().unwrap();
        assert_eq!(d.request_id.as_deref(), Some("req_123"));
        assert_eq!(d.should_retry, Some(false));
        assert_eq!(d.retry_after, Some(Duration::from_secs(2)));
        assert!(!e.is_retryable());
        let h = headers(&[("apim-request-id", "a-1")]);
        assert_eq!(request_id_from_headers(&h).as_deref(), Some("a-1"));
    }

    #[test]
    fn in_band_classification() {
        let e = from_in_band(
            "anthropic",
            &json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
        );
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ));
        assert!(e.is_retryable());
        let e = from_in_band(
            "gemini",
            &json!({"error":{"code":503,"message":"x","status":"UNAVAILABLE"}}),
        );
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::Overloaded,
                ..
            }
        ));
        assert_eq!(e.status(), Some(503));
        let e = from_in_band("ollama", &json!({"error":"something broke"}));
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::Server,
                ..
            }
        ));
        let e = from_in_band(
            "openai",
            &json!({"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}}),
        );
        assert!(matches!(
            e,
            ProviderError::Api {
                kind: ApiErrorKind::RateLimited,
                ..
            }
        ));
    }

    #[test]
    fn raw_message_is_cut_at_a_char_boundary() {
        let body = "é".repeat(600);
        let e = from_http_response(
            "p",
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            body.as_bytes(),
        );
        let msg = &e.details().unwrap().message;
        assert!(msg.len() <= MAX_RAW_MESSAGE);
        assert!(msg.starts_with('é'));
    }
}
