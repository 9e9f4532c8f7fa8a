//! The Grafana tools against a local server answering with Grafana's documented response
//! shapes (HTTP API: search, dashboards by uid, data sources, data source proxy, alerting
//! provisioning, the Prometheus-compatible rules endpoint), Prometheus's and Loki's JSON behind
//! the proxy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolError, Toolset};
use kagent_tools::GrafanaTools;
use kagent_tools::testing::free_port;
use serde_json::{Value, json};

const TOKEN: &str = "glsa_kagentTest_0123456789abcdef";

type Log = Arc<Mutex<Vec<String>>>;

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": format!("{what} not found"), "traceID": ""})),
    )
        .into_response()
}

async fn auth(State(log): State<Log>, req: Request, next: Next) -> Response {
    log.lock().unwrap().push(req.uri().to_string());
    let ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "invalid API key"})),
        )
            .into_response();
    }
    next.run(req).await
}

fn dashboard() -> Value {
    json!({
        "dashboard": {
            "id": 42, "uid": "shop-overview", "title": "Shop overview", "tags": ["shop", "prod"],
            "timezone": "browser", "schemaVersion": 39, "version": 12,
            "templating": {"list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {"text": "Prometheus", "value": "prom-uid"}},
                {"name": "namespace", "type": "query", "current": {"text": "shop", "value": "shop"}}
            ]},
            "panels": [
                {"id": 1, "type": "timeseries", "title": "Request rate",
                 "datasource": {"type": "prometheus", "uid": "${datasource}"},
                 "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                 "targets": [
                    {"refId": "A", "expr": "sum by (service) (rate(http_requests_total{namespace=\"$namespace\"}[$__rate_interval]))", "datasource": {"type": "prometheus", "uid": "${datasource}"}},
                    {"refId": "B", "expr": "sum(rate(http_requests_total{namespace=\"$namespace\", code=~\"5..\"}[5m]))"}
                 ]},
                {"id": 2, "type": "row", "title": "Logs", "collapsed": true, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 8},
                 "panels": [
                    {"id": 3, "type": "logs", "title": "Checkout errors",
                     "datasource": {"type": "loki", "uid": "loki-uid"},
                     "targets": [{"refId": "A", "expr": "{app=\"checkout\", namespace=\"$namespace\"} |= \"error\""}]}
                 ]},
                {"id": 4, "type": "text", "title": "Notes", "options": {"content": "runbook"}}
            ]
        },
        "meta": {
            "type": "db", "canSave": true, "canEdit": true, "canAdmin": false, "canStar": true,
            "slug": "shop-overview", "url": "/d/shop-overview/shop-overview", "expires": "0001-01-01T00:00:00Z",
            "created": "2026-01-02T10:00:00Z", "updated": "2026-01-09T16:30:00Z", "updatedBy": "admin",
            "createdBy": "admin", "version": 12, "hasAcl": false, "isFolder": false,
            "folderId": 7, "folderUid": "prod-folder", "folderTitle": "Production", "folderUrl": "/dashboards/f/prod-folder/production",
            "provisioned": false, "provisionedExternalId": ""
        }
    })
}

fn datasources() -> Value {
    json!([
        {"id": 1, "uid": "prom-uid", "orgId": 1, "name": "Prometheus", "type": "prometheus", "typeName": "Prometheus",
         "typeLogoUrl": "public/app/plugins/datasource/prometheus/img/prometheus_logo.svg", "access": "proxy",
         "url": "http://prometheus.monitoring:9090", "user": "", "database": "", "basicAuth": false, "isDefault": true,
         "jsonData": {"httpMethod": "POST", "timeInterval": "30s"}, "readOnly": false},
        {"id": 2, "uid": "loki-uid", "orgId": 1, "name": "Loki", "type": "loki", "typeName": "Loki",
         "typeLogoUrl": "public/app/plugins/datasource/loki/img/loki_icon.svg", "access": "proxy",
         "url": "http://loki.monitoring:3100", "user": "", "database": "", "basicAuth": false, "isDefault": false,
         "jsonData": {"maxLines": 1000}, "readOnly": false},
        {"id": 3, "uid": "tempo-uid", "orgId": 1, "name": "Tempo", "type": "tempo", "typeName": "Tempo",
         "access": "proxy", "url": "http://tempo:3200", "basicAuth": false, "isDefault": false, "jsonData": {}, "readOnly": true}
    ])
}

fn datasource_detail(uid: &str) -> Option<Value> {
    let base = datasources()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["uid"] == uid)?
        .clone();
    let mut d = base;
    d["version"] = json!(3);
    d["withCredentials"] = json!(false);
    d["basicAuthUser"] = json!("");
    d["password"] = json!(if uid == "prom-uid" {
        "legacy-plaintext-secret"
    } else {
        ""
    });
    d["secureJsonFields"] = json!({"httpHeaderValue1": true});
    Some(d)
}

fn provisioned_rules() -> Value {
    json!([
        {"id": 11, "uid": "rule-errors", "orgID": 1, "folderUID": "prod-folder", "ruleGroup": "shop",
         "title": "High 5xx rate", "condition": "C",
         "data": [
            {"refId": "A", "queryType": "", "relativeTimeRange": {"from": 600, "to": 0}, "datasourceUid": "prom-uid",
             "model": {"expr": "sum(rate(http_requests_total{code=~\"5..\"}[5m]))", "intervalMs": 1000, "maxDataPoints": 43200, "refId": "A"}},
            {"refId": "B", "queryType": "", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "reduce", "expression": "A", "reducer": "last", "refId": "B"}},
            {"refId": "C", "queryType": "", "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": "__expr__",
             "model": {"type": "threshold", "expression": "B", "conditions": [{"evaluator": {"params": [5], "type": "gt"}}], "refId": "C"}}
         ],
         "updated": "2026-01-09T16:00:00Z", "noDataState": "NoData", "execErrState": "Error", "for": "5m",
         "annotations": {"summary": "More than 5 errors per second", "runbook_url": "https://runbooks/errors"},
         "labels": {"severity": "critical", "team": "shop"}, "provenance": "", "isPaused": false},
        {"id": 12, "uid": "rule-latency", "orgID": 1, "folderUID": "prod-folder", "ruleGroup": "shop",
         "title": "Slow checkout", "condition": "B", "data": [], "updated": "2026-01-09T16:00:00Z",
         "noDataState": "OK", "execErrState": "Error", "for": "10m", "annotations": {},
         "labels": {"severity": "warning", "team": "shop"}, "provenance": "api", "isPaused": false},
        {"id": 13, "uid": "rule-paused", "orgID": 1, "folderUID": "ops", "ruleGroup": "ops",
         "title": "Disk almost full", "condition": "B", "data": [], "updated": "2026-01-09T16:00:00Z",
         "noDataState": "OK", "execErrState": "Error", "for": "0s", "annotations": {},
         "labels": {"severity": "warning"}, "provenance": "", "isPaused": true}
    ])
}

fn runtime_rules() -> Value {
    json!({"status": "success", "data": {"groups": [
        {"name": "shop", "file": "Production", "folderUid": "prod-folder", "interval": 60, "lastEvaluation": "2026-01-10T11:59:00Z", "evaluationTime": 0.01,
         "rules": [
            {"state": "firing", "name": "High 5xx rate", "query": "", "duration": 300, "uid": "rule-errors", "folderUid": "prod-folder",
             "labels": {"severity": "critical", "team": "shop"}, "health": "ok", "type": "alerting",
             "lastEvaluation": "2026-01-10T11:59:00Z", "evaluationTime": 0.01, "activeAt": "2026-01-10T11:40:00Z",
             "alerts": [{"labels": {"alertname": "High 5xx rate"}, "annotations": {}, "state": "Alerting", "activeAt": "2026-01-10T11:40:00Z", "value": "B=7.2"}]},
            {"state": "inactive", "name": "Slow checkout", "query": "", "duration": 600, "uid": "rule-latency", "folderUid": "prod-folder",
             "labels": {"severity": "warning"}, "health": "ok", "type": "alerting", "lastEvaluation": "2026-01-10T11:59:00Z", "evaluationTime": 0.01}
         ]}
    ]}})
}

async fn proxy(
    Path((uid, rest)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let query = q.get("query").cloned().unwrap_or_default();
    match (uid.as_str(), rest.as_str()) {
        ("prom-uid", "api/v1/query_range") => {
            if query.contains("((") {
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"status": "error", "errorType": "bad_data", "error": "invalid parameter \"query\": 1:2: parse error: unexpected left parenthesis '('"}))).into_response();
            }
            let start: f64 = q["start"].parse().unwrap();
            let step: f64 = q["step"].parse().unwrap();
            let result: Vec<Value> = ["cart", "checkout", "payments"]
                .iter()
                .enumerate()
                .map(|(i, svc)| {
                    let values: Vec<Value> = (0..5)
                        .map(|k| json!([start + k as f64 * step, format!("{}", (i + 1) as f64 * 10.0 + k as f64)]))
                        .collect();
                    json!({"metric": {"service": svc, "namespace": "shop", "job": "api"}, "values": values})
                })
                .collect();
            axum::Json(
                json!({"status": "success", "data": {"resultType": "matrix", "result": result}}),
            )
            .into_response()
        }
        ("prom-uid", "api/v1/query") => axum::Json(
            json!({"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"service": "checkout"}, "value": [1768046400.0, "0.25"]}
            ]}}),
        )
        .into_response(),
        ("loki-uid", "loki/api/v1/query_range") => {
            if query.starts_with("count_over_time") {
                return axum::Json(json!({"status": "success", "data": {"resultType": "matrix", "result": [
                    {"metric": {"app": "checkout"}, "values": [[1768046400, "3"], [1768046460, "9"]]}
                ], "stats": {}}}))
                .into_response();
            }
            if query.contains("nomatch") {
                return axum::Json(json!({"status": "success", "data": {"resultType": "streams", "result": [], "stats": {}}})).into_response();
            }
            let limit: usize = q["limit"].parse().unwrap();
            let lines = [
                (
                    "checkout-7d9c-abcde",
                    "1768046401000000000",
                    "level=error msg=\"payment declined\" order=1001",
                ),
                (
                    "checkout-7d9c-abcde",
                    "1768046403000000000",
                    "level=error msg=\"payment declined\" order=1002",
                ),
                (
                    "checkout-7d9c-fghij",
                    "1768046402000000000",
                    "level=error msg=\"db timeout\"",
                ),
            ];
            let mut streams: HashMap<&str, Vec<Value>> = HashMap::new();
            for (pod, ts, line) in lines.iter().take(limit) {
                streams.entry(pod).or_default().push(json!([ts, line]));
            }
            let result: Vec<Value> = streams
                .into_iter()
                .map(|(pod, values)| json!({"stream": {"app": "checkout", "namespace": "shop", "pod": pod}, "values": values}))
                .collect();
            axum::Json(json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": {}}})).into_response()
        }
        _ => not_found("route"),
    }
}

async fn start() -> (String, Log) {
    let log: Log = Arc::default();
    let app = Router::new()
        .route(
            "/api/search",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let hits = json!([
                    {"id": 42, "uid": "shop-overview", "orgId": 1, "title": "Shop overview", "uri": "db/shop-overview",
                     "url": "/d/shop-overview/shop-overview", "slug": "", "type": "dash-db", "tags": ["shop", "prod"],
                     "isStarred": false, "folderId": 7, "folderUid": "prod-folder", "folderTitle": "Production",
                     "folderUrl": "/dashboards/f/prod-folder/production", "sortMeta": 0},
                    {"id": 43, "uid": "k8s-nodes", "orgId": 1, "title": "Kubernetes nodes", "uri": "db/kubernetes-nodes",
                     "url": "/d/k8s-nodes/kubernetes-nodes", "slug": "", "type": "dash-db", "tags": [],
                     "isStarred": true, "sortMeta": 0}
                ]);
                let needle = q.get("query").map(|s| s.to_lowercase()).unwrap_or_default();
                let found: Vec<Value> = hits
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|h| h["title"].as_str().unwrap().to_lowercase().contains(&needle))
                    .cloned()
                    .collect();
                axum::Json(found)
            }),
        )
        .route(
            "/api/dashboards/uid/{uid}",
            get(|Path(uid): Path<String>| async move {
                if uid == "shop-overview" { axum::Json(dashboard()).into_response() } else { not_found("Dashboard") }
            }),
        )
        .route("/api/datasources", get(|| async { axum::Json(datasources()) }))
        .route(
            "/api/datasources/uid/{uid}",
            get(|Path(uid): Path<String>| async move {
                datasource_detail(&uid).map(|d| axum::Json(d).into_response()).unwrap_or_else(|| not_found("Data source"))
            }),
        )
        .route(
            "/api/datasources/name/{name}",
            get(|Path(name): Path<String>| async move {
                let uid = datasources().as_array().unwrap().iter().find(|d| d["name"] == name.as_str()).map(|d| d["uid"].as_str().unwrap().to_owned());
                uid.and_then(|u| datasource_detail(&u)).map(|d| axum::Json(d).into_response()).unwrap_or_else(|| not_found("Data source"))
            }),
        )
        .route("/api/datasources/proxy/uid/{uid}/{*rest}", get(proxy))
        .route("/api/v1/provisioning/alert-rules", get(|| async { axum::Json(provisioned_rules()) }))
        .route(
            "/api/v1/provisioning/alert-rules/{uid}",
            get(|Path(uid): Path<String>| async move {
                provisioned_rules()
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["uid"] == uid.as_str())
                    .map(|r| axum::Json(r.clone()).into_response())
                    .unwrap_or_else(|| not_found("Alert rule"))
            }),
        )
        .route("/api/prometheus/grafana/api/v1/rules", get(|| async { axum::Json(runtime_rules()) }))
        .route(
            "/api/prometheus/{uid}/api/v1/rules",
            get(|Path(uid): Path<String>| async move {
                if uid != "prom-uid" {
                    return not_found("Data source");
                }
                axum::Json(json!({"status": "success", "data": {"groups": [
                    {"name": "node", "file": "/etc/prometheus/rules.yml", "interval": 30, "rules": [
                        {"state": "pending", "name": "NodeDown", "query": "up{job=\"node\"} == 0", "duration": 120,
                         "labels": {"severity": "critical"}, "annotations": {}, "alerts": [], "health": "ok", "type": "alerting"},
                        {"name": "job:up:sum", "query": "sum by (job) (up)", "health": "ok", "type": "recording"}
                    ]}
                ]}}))
                .into_response()
            }),
        )
        .layer(middleware::from_fn_with_state(log.clone(), auth));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, log)
}

async fn call(tools: &Toolset, name: &str, args: Value) -> Result<String, ToolError> {
    tools
        .call(name, args, ToolContext::detached("t"))
        .await
        .map(|o| render_tool_content(&o.content))
}

async fn ok(tools: &Toolset, name: &str, args: Value) -> String {
    match call(tools, name, args.clone()).await {
        Ok(t) => t,
        Err(e) => panic!("{name} {args} failed: {e}"),
    }
}

fn grafana(url: &str) -> Toolset {
    GrafanaTools::builder(url)
        .service_account_token(TOKEN.to_owned())
        .build()
        .unwrap()
}

#[tokio::test]
async fn dashboards_are_searched_summarised_and_their_queries_listed() {
    let (url, log) = start().await;
    let tools = grafana(&url);

    let found = ok(&tools, "search_dashboards", json!({"query": "shop"})).await;
    println!("{found}");
    assert!(found.starts_with("1 dashboards (page 1)\n"), "{found}");
    assert!(
        found.contains(
            "shop-overview  Shop overview  Production  shop,prod  /d/shop-overview/shop-overview"
        ),
        "{found}"
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|u| u.starts_with("/api/search?type=dash-db&limit=50&page=1&query=shop")),
        "{:?}",
        log.lock().unwrap()
    );
    let page = ok(&tools, "search_dashboards", json!({"limit": 2})).await;
    assert!(
        page.starts_with("2 dashboards (page 1); more may exist: page=2"),
        "{page}"
    );

    let d = ok(
        &tools,
        "get_dashboard_by_uid",
        json!({"uid": "shop-overview"}),
    )
    .await;
    println!("{d}");
    assert!(
        d.starts_with(
            "dashboard \"Shop overview\" (uid shop-overview), folder \"Production\", version 12"
        ),
        "{d}"
    );
    assert!(
        d.contains(
            "variables: datasource (datasource, current prom-uid); namespace (query, current shop)"
        ),
        "{d}"
    );
    assert!(
        d.contains("panels (3):"),
        "rows are walked, the row itself is not a panel: {d}"
    );
    assert!(
        d.contains("3   logs        Checkout errors  loki-uid (loki)"),
        "{d}"
    );
    assert!(d.contains("dashboard JSON:\n{"), "{d}");

    let small = GrafanaTools::builder(&url)
        .service_account_token(TOKEN.to_owned())
        .max_output_chars(1_000)
        .build()
        .unwrap();
    let cut = ok(
        &small,
        "get_dashboard_by_uid",
        json!({"uid": "shop-overview"}),
    )
    .await;
    assert!(cut.len() < 1_400, "{}", cut.len());
    assert!(
        cut.contains("truncated") && cut.contains("get_dashboard_panel_queries"),
        "{cut}"
    );

    let q = ok(
        &tools,
        "get_dashboard_panel_queries",
        json!({"uid": "shop-overview"}),
    )
    .await;
    println!("{q}");
    assert!(
        q.starts_with("3 queries in 3 panels of dashboard \"Shop overview\""),
        "{q}"
    );
    assert!(q.contains("${datasource} (prometheus)"), "{q}");
    assert!(
        q.contains("{app=\"checkout\", namespace=\"$namespace\"} |= \"error\""),
        "{q}"
    );
    assert!(
        q.contains("dashboard variables (current values): datasource=prom-uid, namespace=shop"),
        "{q}"
    );

    let sub = ok(
        &tools,
        "get_dashboard_panel_queries",
        json!({"uid": "shop-overview", "panelId": 1, "variables": {"namespace": "shop"}}),
    )
    .await;
    assert!(sub.starts_with("2 queries in 1 panels"), "{sub}");
    assert!(
        sub.contains("http_requests_total{namespace=\"shop\"}[$__rate_interval]"),
        "{sub}"
    );
    assert!(sub.contains("unresolved variables: datasource"), "{sub}");

    let no_panel = call(
        &tools,
        "get_dashboard_panel_queries",
        json!({"uid": "shop-overview", "panelId": 9}),
    )
    .await
    .unwrap_err();
    assert!(matches!(no_panel, ToolError::NotFound { .. }));
    assert!(
        no_panel.to_string().contains("its panel ids are 1, 3, 4"),
        "{no_panel}"
    );

    let missing = call(&tools, "get_dashboard_by_uid", json!({"uid": "nope"}))
        .await
        .unwrap_err();
    assert!(matches!(missing, ToolError::NotFound { .. }), "{missing:?}");
    assert!(
        missing
            .to_string()
            .contains("dashboard nope does not exist; find dashboards with search_dashboards"),
        "{missing}"
    );
    let blank = call(&tools, "get_dashboard_by_uid", json!({"uid": " "}))
        .await
        .unwrap_err();
    assert!(
        matches!(blank, ToolError::InvalidArguments { .. }),
        "{blank:?}"
    );
    // A uid cannot walk the API's paths.
    let sneaky = call(
        &tools,
        "get_dashboard_by_uid",
        json!({"uid": "../../datasources"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(sneaky, ToolError::NotFound { .. }), "{sneaky:?}");
}

#[tokio::test]
async fn datasources_are_listed_and_described_without_secrets() {
    let (url, _log) = start().await;
    let tools = grafana(&url);
    let all = ok(&tools, "list_datasources", json!({})).await;
    println!("{all}");
    assert!(all.starts_with("3 of 3 matching datasources\n"), "{all}");
    assert!(
        all.contains(
            "prom-uid   Prometheus  prometheus  yes      http://prometheus.monitoring:9090"
        ),
        "{all}"
    );
    let loki = ok(&tools, "list_datasources", json!({"type": "loki"})).await;
    assert!(
        loki.starts_with("1 of 1 matching") && loki.contains("loki-uid"),
        "{loki}"
    );
    let paged = ok(&tools, "list_datasources", json!({"limit": 1, "offset": 1})).await;
    assert!(
        paged.starts_with("1 of 3 matching datasources; more with offset=2"),
        "{paged}"
    );

    let by_uid = ok(&tools, "get_datasource", json!({"uid": "prom-uid"})).await;
    println!("{by_uid}");
    assert!(
        by_uid.starts_with(
            "datasource \"Prometheus\" (uid prom-uid), type prometheus, access proxy, default true"
        ),
        "{by_uid}"
    );
    assert!(!by_uid.contains("legacy-plaintext-secret"), "{by_uid}");
    assert!(by_uid.contains("password: <set, redacted>"), "{by_uid}");
    assert!(
        by_uid.contains("secure fields set: httpHeaderValue1"),
        "{by_uid}"
    );
    assert!(by_uid.contains("\"timeInterval\":\"30s\""), "{by_uid}");
    let by_name = ok(&tools, "get_datasource", json!({"name": "Loki"})).await;
    assert!(by_name.contains("(uid loki-uid)"), "{by_name}");
    let neither = call(&tools, "get_datasource", json!({})).await.unwrap_err();
    assert!(
        neither.to_string().contains("give uid or name"),
        "{neither}"
    );
    let missing = call(&tools, "get_datasource", json!({"uid": "gone"}))
        .await
        .unwrap_err();
    assert!(matches!(missing, ToolError::NotFound { .. }));
    assert!(
        missing.to_string().contains("list_datasources"),
        "{missing}"
    );
}

#[tokio::test]
async fn prometheus_and_loki_are_queried_through_the_datasource_proxy() {
    let (url, log) = start().await;
    let tools = grafana(&url);

    let range = ok(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "prom-uid", "expr": "sum by (service) (rate(http_requests_total[5m]))", "startTime": "now-1h", "endTime": "now", "stepSeconds": 60}),
    )
    .await;
    println!("{range}");
    assert!(range.starts_with("matrix: 3 series, "), "{range}");
    assert!(
        range.contains("labels common to all: {job=\"api\", namespace=\"shop\"}"),
        "{range}"
    );
    assert!(
        range.contains("payments  30   34   34    up 13%"),
        "{range}"
    );
    assert!(
        log.lock().unwrap().iter().any(|u| u
            .starts_with("/api/datasources/proxy/uid/prom-uid/api/v1/query_range?query=sum+by")),
        "{:?}",
        log.lock().unwrap()
    );
    let instant = ok(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "prom-uid", "expr": "x", "queryType": "instant", "endTime": "2026-01-10T12:00:00Z"}),
    )
    .await;
    assert!(
        instant.contains("vector: 1 series at 2026-01-10T12:00:00Z"),
        "{instant}"
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|u| u.contains("/api/v1/query?query=x&time=1768046400")),
        "{:?}",
        log.lock().unwrap()
    );

    let bad = call(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "prom-uid", "expr": "((up"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(bad, ToolError::InvalidArguments { .. }), "{bad:?}");
    assert!(
        bad.to_string().contains("(bad_data)") && bad.to_string().contains("parse error"),
        "{bad}"
    );
    let wrong = call(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "loki-uid", "expr": "up"}),
    )
    .await
    .unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("is of type \"loki\", not prometheus; use query_loki_logs"),
        "{wrong}"
    );
    let unknown = call(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "nope", "expr": "up"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(unknown, ToolError::NotFound { .. }), "{unknown:?}");
    let kind = call(
        &tools,
        "query_prometheus",
        json!({"datasourceUid": "prom-uid", "expr": "up", "queryType": "table"}),
    )
    .await
    .unwrap_err();
    assert!(kind.to_string().contains("not range or instant"), "{kind}");

    let logs = ok(
        &tools,
        "query_loki_logs",
        json!({"datasourceUid": "loki-uid", "logql": "{app=\"checkout\"} |= \"error\"", "limit": 3}),
    )
    .await;
    println!("{logs}");
    let lines: Vec<&str> = logs.lines().collect();
    assert!(lines[0].starts_with("3 log lines from 2 streams, newest first; labels common to all: {app=\"checkout\", namespace=\"shop\"}"), "{logs}");
    assert_eq!(
        lines[1],
        "12:00:03.000 [pod=checkout-7d9c-abcde] level=error msg=\"payment declined\" order=1002"
    );
    assert_eq!(
        lines[2],
        "12:00:02.000 [pod=checkout-7d9c-fghij] level=error msg=\"db timeout\""
    );
    assert!(logs.contains("the limit of 3 lines was reached"), "{logs}");
    let forward = ok(
        &tools,
        "query_loki_logs",
        json!({"datasourceUid": "loki-uid", "logql": "{app=\"checkout\"}", "direction": "forward", "startRfc3339": "2026-01-10T11:00:00Z", "endRfc3339": "2026-01-10T12:30:00Z"}),
    )
    .await;
    assert!(
        forward.lines().nth(1).unwrap().starts_with("12:00:01.000"),
        "{forward}"
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|u| u.contains("start=1768042800000000000") && u.contains("limit=10")),
        "{:?}",
        log.lock().unwrap()
    );
    let metric = ok(
        &tools,
        "query_loki_logs",
        json!({"datasourceUid": "loki-uid", "logql": "count_over_time({app=\"checkout\"}[1m])"}),
    )
    .await;
    assert!(
        metric.starts_with("matrix: 1 series") && metric.contains("up 200%"),
        "{metric}"
    );
    let none = ok(
        &tools,
        "query_loki_logs",
        json!({"datasourceUid": "loki-uid", "logql": "{app=\"nomatch\"}"}),
    )
    .await;
    assert!(none.starts_with("no log lines match"), "{none}");
    let dir = call(
        &tools,
        "query_loki_logs",
        json!({"datasourceUid": "loki-uid", "logql": "{a=\"b\"}", "direction": "sideways"}),
    )
    .await
    .unwrap_err();
    assert!(dir.to_string().contains("not backward or forward"), "{dir}");
}

#[tokio::test]
async fn alert_rules_are_listed_with_their_state_and_described() {
    let (url, _log) = start().await;
    let tools = grafana(&url);
    let rules = ok(&tools, "list_alert_rules", json!({})).await;
    println!("{rules}");
    let lines: Vec<&str> = rules.lines().collect();
    assert!(
        lines[0].starts_with(
            "3 of 3 Grafana-managed rules shown (page 1; 3 match the selectors, 1 firing)"
        ),
        "{rules}"
    );
    let squashed = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squashed(lines[2]).starts_with("rule-errors High 5xx rate firing ok"),
        "firing first: {rules}"
    );
    assert!(
        rules
            .lines()
            .any(|l| squashed(l).starts_with("rule-paused Disk almost full paused")),
        "{rules}"
    );
    assert!(
        rules.contains("{severity=\"critical\", team=\"shop\"}"),
        "{rules}"
    );

    let critical = ok(
        &tools,
        "list_alert_rules",
        json!({"label_selectors": [{"filters": [{"name": "severity", "type": "=", "value": "critical"}]}]}),
    )
    .await;
    assert!(
        critical.starts_with("1 of 3 Grafana-managed rules shown (page 1; 1 match"),
        "{critical}"
    );
    let paged = ok(&tools, "list_alert_rules", json!({"limit": 1, "page": 2})).await;
    assert!(paged.contains("more on page=3"), "{paged}");
    let bad = call(
        &tools,
        "list_alert_rules",
        json!({"label_selectors": [{"filters": [{"name": "severity", "type": "~=", "value": "x"}]}]}),
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("is not =, !=, =~ or !~"), "{bad}");

    let ds = ok(
        &tools,
        "list_alert_rules",
        json!({"datasourceUid": "prom-uid"}),
    )
    .await;
    assert!(
        ds.starts_with("1 of 1 rules of datasource prom-uid shown"),
        "{ds}"
    );
    assert!(
        ds.contains("NodeDown") && ds.contains("pending") && ds.contains("2m"),
        "{ds}"
    );
    let tempo = call(
        &tools,
        "list_alert_rules",
        json!({"datasourceUid": "tempo-uid"}),
    )
    .await
    .unwrap_err();
    assert!(
        tempo
            .to_string()
            .contains("only Prometheus and Loki datasources"),
        "{tempo}"
    );

    let rule = ok(
        &tools,
        "get_alert_rule_by_uid",
        json!({"uid": "rule-errors"}),
    )
    .await;
    println!("{rule}");
    assert!(rule.starts_with("alert rule \"High 5xx rate\" (uid rule-errors), folder prod-folder, group \"shop\", for 5m, paused false"), "{rule}");
    assert!(
        rule.contains("condition: C; no data -> NoData; error -> Error"),
        "{rule}"
    );
    assert!(
        rule.contains("annotation summary: More than 5 errors per second"),
        "{rule}"
    );
    assert!(
        rule.contains(
            "A    prom-uid    10m to now  sum(rate(http_requests_total{code=~\"5..\"}[5m]))"
        ),
        "{rule}"
    );
    assert!(
        rule.contains("B    expression  -           reduce last of A"),
        "{rule}"
    );
    assert!(
        rule.contains("C    expression  -           threshold B gt 5"),
        "{rule}"
    );
    let missing = call(&tools, "get_alert_rule_by_uid", json!({"uid": "gone"}))
        .await
        .unwrap_err();
    assert!(matches!(missing, ToolError::NotFound { .. }));
    assert!(
        missing
            .to_string()
            .contains("list rules with list_alert_rules"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_bad_token_is_forbidden_and_an_unreachable_grafana_is_a_fault() {
    let (url, _log) = start().await;
    let wrong = GrafanaTools::builder(&url)
        .service_account_token("glsa_wrong".to_owned())
        .build()
        .unwrap();
    let e = call(&wrong, "search_dashboards", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::Forbidden { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("Grafana answered 401: invalid API key"),
        "{e}"
    );
    assert!(!format!("{wrong:?}").contains("glsa_wrong"));

    let down = format!("http://127.0.0.1:{}", free_port().unwrap());
    let tools = grafana(&down);
    for (name, args) in [
        ("search_dashboards", json!({})),
        (
            "query_prometheus",
            json!({"datasourceUid": "prom-uid", "expr": "up"}),
        ),
        ("list_alert_rules", json!({})),
    ] {
        let e = call(&tools, name, args).await.unwrap_err();
        assert!(matches!(e, ToolError::Transport { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains("Grafana at "), "{e}");
    }
    let names: Vec<&str> = tools.names().collect();
    assert_eq!(names, GrafanaTools::tool_names().collect::<Vec<_>>());
    for spec in tools.specs() {
        assert!(spec.effect.is_read_only(), "{}", spec.name);
    }
    let schema = &tools.get("query_prometheus").unwrap().spec().input_schema;
    for arg in [
        "datasourceUid",
        "expr",
        "startTime",
        "endTime",
        "stepSeconds",
        "queryType",
    ] {
        assert!(schema["properties"].get(arg).is_some(), "{arg}: {schema}");
    }
    let loki = &tools.get("query_loki_logs").unwrap().spec().input_schema;
    for arg in [
        "datasourceUid",
        "logql",
        "startRfc3339",
        "endRfc3339",
        "limit",
        "direction",
    ] {
        assert!(loki["properties"].get(arg).is_some(), "{arg}: {loki}");
    }
}
