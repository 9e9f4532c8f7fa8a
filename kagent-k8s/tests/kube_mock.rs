//! Fault paths with a `tower-test` mock of the kube client: what the tools do when the API
//! server answers 403, 503 or an aggregated API group is down.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use http::{Request, Response};
use kagent_core::{ToolContext, ToolError};
use kagent_k8s::catalog::builtin_resources;
use kagent_k8s::{K8sTools, ResourceCatalog};
use kube::client::Body;
use serde_json::{Value, json};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

fn mock() -> (kube::Client, Handle) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(svc, "default"), handle)
}

fn respond(status: u16, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason, "message": message})
}

/// Serves requests with `route` until the test ends.
fn serve(mut handle: Handle, route: impl Fn(&str) -> Response<Body> + Send + 'static) {
    tokio::spawn(async move {
        while let Some((req, send)) = handle.next_request().await {
            let path = req.uri().path().to_owned();
            send.send_response(route(&path));
        }
    });
}

#[tokio::test]
async fn discovery_skips_a_group_that_is_down() {
    let (client, handle) = mock();
    serve(handle, |path| match path {
        "/api" => respond(
            200,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        "/api/v1" => respond(
            200,
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"], "shortNames": ["po"]},
                {"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}
            ]}),
        ),
        "/apis" => respond(
            200,
            json!({"kind": "APIGroupList", "groups": [
                {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}], "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}},
                {"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}], "preferredVersion": {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}}
            ]}),
        ),
        "/apis/apps/v1" => respond(
            200,
            json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
                {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "verbs": ["get", "list", "patch"]}
            ]}),
        ),
        _ => respond(
            503,
            status(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
            ),
        ),
    });
    let catalog = ResourceCatalog::new(client);
    let all = tokio::time::timeout(Duration::from_secs(10), catalog.all())
        .await
        .unwrap()
        .unwrap();
    let names: Vec<&str> = all.iter().map(|r| r.resource.plural.as_str()).collect();
    assert_eq!(names, vec!["pods", "deployments"]);
    assert_eq!(all[0].subresources, vec!["log"]);
    assert_eq!(
        catalog.resolve("deploy").await.unwrap().resource.group,
        "apps"
    );
}

#[tokio::test]
async fn discovery_failure_is_a_fault_not_a_panic() {
    let (client, handle) = mock();
    serve(handle, |_| {
        respond(503, status(503, "ServiceUnavailable", "down"))
    });
    let tools = K8sTools::builder(client).build().unwrap();
    let err = tools
        .call(
            "k8s_get_resources",
            json!({"resource_type": "pods"}),
            ToolContext::detached("t"),
        )
        .await
        .unwrap_err();
    assert!(err.is_fault(), "{err:?}");
}

fn tools_with_builtin_catalog(client: kube::Client) -> kagent_core::Toolset {
    K8sTools::builder(client.clone())
        .catalog(ResourceCatalog::with_resources(client, builtin_resources()))
        .default_namespace("shop")
        .build()
        .unwrap()
}

#[tokio::test]
async fn forbidden_is_data_for_the_model() {
    let (client, handle) = mock();
    serve(handle, |path| {
        assert_eq!(path, "/api/v1/namespaces/shop/secrets");
        respond(
            403,
            status(
                403,
                "Forbidden",
                "secrets is forbidden: User \"system:serviceaccount:kagent:agent\" cannot list resource \"secrets\"",
            ),
        )
    });
    let tools = tools_with_builtin_catalog(client);
    let err = tools
        .call(
            "k8s_get_resources",
            json!({"resource_type": "secrets"}),
            ToolContext::detached("t"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ToolError::Forbidden { .. }), "{err:?}");
    assert!(!err.is_fault());
    assert!(err.to_string().contains("cannot list resource"), "{err}");
}

#[tokio::test]
async fn list_sends_selectors_and_limit_and_reports_the_continue_token() {
    let (client, mut handle) = mock();
    let tools = tools_with_builtin_catalog(client);
    let call = tokio::spawn(async move {
        tools
            .call(
                "k8s_get_resources",
                json!({"resource_type": "po", "label_selector": "app=web", "field_selector": "status.phase=Running", "limit": "1"}),
                ToolContext::detached("t"),
            )
            .await
    });
    let (req, send) = handle.next_request().await.unwrap();
    let query = req.uri().query().unwrap_or("").to_owned();
    assert!(query.contains("labelSelector=app%3Dweb"), "{query}");
    assert!(
        query.contains("fieldSelector=status.phase%3DRunning"),
        "{query}"
    );
    assert!(query.contains("limit=1"), "{query}");
    send.send_response(respond(200, json!({"kind": "PodList", "apiVersion": "v1",
        "metadata": {"continue": "tok123", "remainingItemCount": 4},
        "items": [{"metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running"}}]})));
    let out = call.await.unwrap().unwrap();
    let text = kagent_core::message::render_tool_content(&out.content);
    assert!(text.contains("web-1"), "{text}");
    assert!(text.contains("4 more pods not shown"), "{text}");
    assert!(text.contains("continue_token=\"tok123\""), "{text}");
}

#[tokio::test]
async fn dry_run_reaches_the_server_as_dry_run_all() {
    let (client, mut handle) = mock();
    let tools = tools_with_builtin_catalog(client);
    let mut ctx = ToolContext::detached("t");
    ctx.dry_run = true;
    let call = tokio::spawn(async move {
        tools
            .call(
                "k8s_delete_resource",
                json!({"resource_type": "pod", "resource_name": "web-1"}),
                ctx,
            )
            .await
    });
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {}});
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.method(), "GET");
    send.send_response(respond(200, pod.clone()));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.method(), "DELETE");
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = {
        use http_body_util::BodyExt;
        req.into_body().collect().await.unwrap().to_bytes()
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert!(
        query.contains("dryRun=All") || body["dryRun"] == json!(["All"]),
        "query {query:?} body {body}"
    );
    send.send_response(respond(200, pod));
    let out = call.await.unwrap().unwrap();
    let text = kagent_core::message::render_tool_content(&out.content);
    assert!(text.starts_with("DRY RUN"), "{text}");
    assert_eq!(out.structured.unwrap()["dry_run"], true);
}

/// kagent's tool server (kagent-dev/tools, pkg/k8s): tool name and its arguments, required
/// ones marked with `*`.
const UPSTREAM: &[(&str, &[&str])] = &[
    (
        "k8s_get_resources",
        &[
            "resource_type*",
            "resource_name",
            "namespace",
            "all_namespaces",
            "output",
            "limit",
        ],
    ),
    (
        "k8s_get_pod_logs",
        &["pod_name*", "namespace", "container", "tail_lines"],
    ),
    ("k8s_get_events", &["namespace"]),
    ("k8s_get_available_api_resources", &[]),
    ("k8s_get_cluster_configuration", &[]),
    (
        "k8s_get_resource_yaml",
        &["resource_type*", "resource_name*", "namespace"],
    ),
    (
        "k8s_describe_resource",
        &["resource_type*", "resource_name*", "namespace"],
    ),
    (
        "k8s_generate_resource",
        &["resource_description*", "resource_type*"],
    ),
    ("k8s_scale", &["name*", "namespace", "replicas*"]),
    (
        "k8s_patch_resource",
        &[
            "resource_type*",
            "resource_name*",
            "patch*",
            "patch_type",
            "namespace",
        ],
    ),
    (
        "k8s_patch_status",
        &["resource_type*", "resource_name*", "patch*", "namespace"],
    ),
    ("k8s_apply_manifest", &["manifest*"]),
    (
        "k8s_delete_resource",
        &["resource_type*", "resource_name*", "namespace"],
    ),
    (
        "k8s_check_service_connectivity",
        &["service_name*", "namespace"],
    ),
    (
        "k8s_execute_command",
        &["pod_name*", "namespace", "container", "command*"],
    ),
    (
        "k8s_rollout",
        &["action*", "resource_type*", "resource_name*", "namespace"],
    ),
    (
        "k8s_label_resource",
        &["resource_type*", "resource_name*", "labels*", "namespace"],
    ),
    (
        "k8s_annotate_resource",
        &[
            "resource_type*",
            "resource_name*",
            "annotations*",
            "namespace",
        ],
    ),
    (
        "k8s_remove_annotation",
        &[
            "resource_type*",
            "resource_name*",
            "annotation_key*",
            "namespace",
        ],
    ),
    (
        "k8s_remove_label",
        &[
            "resource_type*",
            "resource_name*",
            "label_key*",
            "namespace",
        ],
    ),
    ("k8s_create_resource", &["yaml_content*"]),
    ("k8s_create_resource_from_url", &["url*", "namespace"]),
];

#[tokio::test]
async fn names_and_arguments_match_kagents_tool_server() {
    let (client, _handle) = mock();
    let tools = K8sTools::builder(client).build().unwrap();
    assert_eq!(UPSTREAM.len(), 22);
    for (name, args) in UPSTREAM {
        let tool = tools.get(name).unwrap_or_else(|| panic!("{name} missing"));
        let schema = &tool.spec().input_schema;
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for arg in *args {
            let plain = arg.trim_end_matches('*');
            assert!(
                schema["properties"].get(plain).is_some(),
                "{name}: argument {plain} missing from {schema}"
            );
        }
        // Nothing we require is optional upstream (calls that work there work here).
        for r in &required {
            assert!(
                args.contains(&format!("{r}*").as_str()),
                "{name}: {r} is required here but not upstream"
            );
        }
    }
}
