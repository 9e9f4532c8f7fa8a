//! The Istio tools end to end against the in-process fake API server with Istio's CRDs loaded
//! (trimmed fixtures), a healthy mesh and a broken one, and sidecars' Envoy admin and istiod's
//! debug endpoint answered through the fake's pod proxy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use kagent_core::message::render_tool_content;
use kagent_core::{ToolContext, ToolEffect, ToolError, Toolset};
use kagent_fake_apiserver::{FakeCluster, PodPortResponse};
use kagent_tools::istio::{EnvoyAdminAccess, IstioTools};
use serde_json::{Value, json};

const CRDS: &str = include_str!("fixtures/istio-crds.yaml");
const CRDS_V1BETA1: &str = include_str!("fixtures/istio-crds-v1beta1.yaml");
const HEALTHY: &str = include_str!("fixtures/mesh-healthy.yaml");
const BROKEN: &str = include_str!("fixtures/mesh-broken.yaml");
const CONFIG_DUMP: &str = include_str!("fixtures/config_dump.json");

/// A kube client for the fake that does not retry 503 answers (the pod proxy gives them for
/// closed ports; kube's default client retries them for minutes).
fn client(fake: &FakeCluster) -> kube::Client {
    let mut config = fake.kube_config();
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

fn cluster(fixtures: &[&str]) -> FakeCluster {
    let fake = FakeCluster::start().unwrap();
    for f in fixtures {
        fake.load_yaml(f).unwrap();
    }
    fake
}

/// The tools reaching pods' ports through the API server's pod proxy.
fn tools(fake: &FakeCluster) -> Toolset {
    IstioTools::builder(client(fake))
        .default_namespace("shop")
        .envoy_admin_access(EnvoyAdminAccess::PodProxy)
        .proxy_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The tools with their default access to Envoy: a port-forward, as istioctl does.
fn tools_port_forward(fake: &FakeCluster) -> Toolset {
    IstioTools::builder(client(fake))
        .default_namespace("shop")
        .proxy_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn call(tools: &Toolset, name: &str, args: Value) -> (String, Option<Value>) {
    match tools
        .call(name, args.clone(), ToolContext::detached("t"))
        .await
    {
        Ok(out) => (render_tool_content(&out.content), out.structured),
        Err(e) => panic!("{name} {args} failed: {e:?}"),
    }
}

async fn text(tools: &Toolset, name: &str, args: Value) -> String {
    call(tools, name, args).await.0
}

async fn call_err(tools: &Toolset, name: &str, args: Value) -> ToolError {
    tools
        .call(name, args.clone(), ToolContext::detached("t"))
        .await
        .expect_err(&format!("{name} {args} should fail"))
}

fn findings(structured: &Option<Value>) -> Vec<Value> {
    structured.as_ref().unwrap()["findings"]
        .as_array()
        .unwrap()
        .clone()
}

/// (code or name, kind, namespace/object) of each finding.
fn keys(fs: &[Value]) -> Vec<(String, String, String)> {
    let mut k: Vec<_> = fs
        .iter()
        .map(|f| {
            (
                f["code"]
                    .as_str()
                    .unwrap_or(f["name"].as_str().unwrap())
                    .to_owned(),
                f["kind"].as_str().unwrap().to_owned(),
                format!(
                    "{}/{}",
                    f["namespace"].as_str().unwrap_or(""),
                    f["object"].as_str().unwrap()
                ),
            )
        })
        .collect();
    k.sort();
    k
}

fn find<'a>(fs: &'a [Value], code: &str, object: &str) -> &'a Value {
    fs.iter()
        .find(|f| {
            (f["code"] == code || f["name"] == code)
                && format!(
                    "{}/{}",
                    f["namespace"].as_str().unwrap_or(""),
                    f["object"].as_str().unwrap()
                ) == object
        })
        .unwrap_or_else(|| panic!("no {code} on {object} in {fs:#?}"))
}

fn evidence(f: &Value) -> String {
    let mut all = f["message"].as_str().unwrap().to_owned();
    for e in f["evidence"].as_array().into_iter().flatten() {
        all.push('\n');
        all.push_str(e.as_str().unwrap());
    }
    if let Some(fix) = f["fix"].as_str() {
        all.push_str("\nfix: ");
        all.push_str(fix);
    }
    all
}

#[tokio::test]
async fn a_healthy_mesh_has_no_findings() {
    let fake = cluster(&[CRDS, HEALTHY]);
    let t = tools(&fake);
    for args in [
        json!({"all_namespaces": true}),
        json!({}),
        json!({"namespace": "istio-system"}),
    ] {
        let (out, st) = call(&t, "istio_analyze_cluster_configuration", args.clone()).await;
        assert!(
            out.starts_with("No validation issues found"),
            "{args}: {out}"
        );
        assert!(findings(&st).is_empty(), "{args}: {st:?}");
    }
    let out = text(
        &t,
        "istio_analyze_cluster_configuration",
        json!({"all_namespaces": "true"}),
    )
    .await;
    assert!(
        out.contains("3 VirtualService") || out.contains("2 VirtualService"),
        "{out}"
    );
}

#[tokio::test]
async fn each_broken_configuration_is_found_with_evidence() {
    let fake = cluster(&[CRDS, HEALTHY, BROKEN]);
    let t = tools(&fake);
    let (out, st) = call(
        &t,
        "istio_analyze_cluster_configuration",
        json!({"all_namespaces": true}),
    )
    .await;
    let fs = findings(&st);
    let expected: Vec<(String, String, String)> = [
        ("GatewayNotBound", "Gateway", "store/promo-gateway"),
        ("IST0101", "VirtualService", "store/catalog"),
        ("IST0101", "VirtualService", "store/catalog"),
        ("IST0101", "VirtualService", "store/checkout"),
        ("IST0102", "Namespace", "/legacy"),
        ("IST0103", "Pod", "store/batch-7c9d8-x2x9q"),
        ("IST0113", "DestinationRule", "store/payments"),
        ("IST0118", "Service", "store/cart"),
        ("IST0127", "AuthorizationPolicy", "store/allow-payments"),
        ("RouteWeightsNot100", "VirtualService", "store/cart"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(keys(&fs), expected, "{out}");

    // a route to a host with no Service
    let host = fs
        .iter()
        .find(|f| f["code"] == "IST0101" && f["message"].as_str().unwrap().contains("catalogue"))
        .unwrap();
    assert_eq!(host["path"], "spec.http[0].route[0].destination");
    assert_eq!(host["level"], "error");
    let e = evidence(host);
    assert!(
        e.contains("Referenced host not found: \"catalogue\""),
        "{e}"
    );
    assert!(e.contains("catalogue.store.svc.cluster.local"), "{e}");
    assert!(
        e.contains("Services in store: cart, catalog, payments"),
        "{e}"
    );

    // a subset no DestinationRule defines
    let subset = fs
        .iter()
        .find(|f| f["code"] == "IST0101" && f["message"].as_str().unwrap().contains("subset"))
        .unwrap();
    let e = evidence(subset);
    assert!(e.contains("\"catalog+v3\""), "{e}");
    assert!(e.contains("DestinationRule store/catalog (host catalog.store.svc.cluster.local) defines subsets: v1, v2"), "{e}");
    assert!(e.contains("by label version: v1 (1), v2 (1)"), "{e}");

    // weights that do not add up to 100
    let w = evidence(find(&fs, "RouteWeightsNot100", "store/cart"));
    assert!(w.contains("add up to 110"), "{w}");
    assert!(
        w.contains("cart:v1 72.7%") && w.contains("cart:v2 27.3%"),
        "{w}"
    );

    // conflicting mTLS
    let m = find(&fs, "IST0113", "store/payments");
    assert_eq!(m["path"], "spec.trafficPolicy.tls");
    let e = evidence(m);
    assert!(
        e.contains("mTLS must be false but the Policy object \"store/strict\" specifies STRICT"),
        "{e}"
    );
    assert!(
        e.contains("PeerAuthentication store/strict (namespace-wide)"),
        "{e}"
    );
    assert!(e.contains("mode DISABLE"), "{e}");
    assert!(e.contains("affected ports: 8443"), "{e}");

    // an AuthorizationPolicy whose selector matches no pod
    let e = evidence(find(&fs, "IST0127", "store/allow-payments"));
    assert!(e.contains("app=paymnets"), "{e}");
    assert!(e.contains("values of app on pods in namespace store: batch (1), cart (2), catalog (2), payments (1)"), "{e}");
    assert!(e.contains("ALLOW rules grant nothing"), "{e}");

    // a Gateway no VirtualService binds, and a VirtualService bound to a missing Gateway
    let e = evidence(find(&fs, "GatewayNotBound", "store/promo-gateway"));
    assert!(
        e.contains("port 443 (HTTPS) hosts promo.example.com"),
        "{e}"
    );
    assert!(e.contains("shop/bookinfo-gateway"), "{e}");
    let e = evidence(find(&fs, "IST0101", "store/checkout"));
    assert!(
        e.contains("Referenced gateway not found: \"store/missing-gateway\""),
        "{e}"
    );

    // a namespace without injection where its peers have it
    let e = evidence(find(&fs, "IST0102", "/legacy"));
    assert!(
        e.contains(
            "injected peers: shop (istio-injection=enabled), store (istio-injection=enabled)"
        ),
        "{e}"
    );
    assert!(
        e.contains("1 live pods here, 0 with an istio-proxy sidecar"),
        "{e}"
    );
    let e = evidence(find(&fs, "IST0103", "store/batch-7c9d8-x2x9q"));
    assert!(e.contains("containers: batch"), "{e}");

    // a Service port without a protocol name
    let p = find(&fs, "IST0118", "store/cart");
    assert_eq!(p["path"], "spec.ports[0]");
    assert!(evidence(p).contains("Port name web (port: 8080, targetPort: 8080)"));

    // the text form: errors first, istioctl-like headlines, evidence and fixes
    assert!(
        out.starts_with("10 findings in all namespaces (4 errors, 4 warnings, 2 info)"),
        "{out}"
    );
    let first_warning = out.find("\nWarning [").unwrap();
    let last_error = out.rfind("\nError [").unwrap();
    assert!(last_error < first_warning, "{out}");
    assert!(out.contains("Error [IST0113 MTLSPolicyConflict] (DestinationRule store/payments spec.trafficPolicy.tls)"), "{out}");
    assert!(out.contains("  fix: "), "{out}");
}

#[tokio::test]
async fn analysis_is_scoped_to_a_namespace_but_reads_across_them() {
    let fake = cluster(&[CRDS, HEALTHY, BROKEN]);
    let t = tools(&fake);
    let (_, st) = call(
        &t,
        "istio_analyze_cluster_configuration",
        json!({"namespace": "shop"}),
    )
    .await;
    assert!(findings(&st).is_empty(), "{st:?}");
    let (_, st) = call(
        &t,
        "istio_analyze_cluster_configuration",
        json!({"namespace": "legacy"}),
    )
    .await;
    assert_eq!(
        keys(&findings(&st)),
        vec![(
            "IST0102".to_owned(),
            "Namespace".to_owned(),
            "/legacy".to_owned()
        )]
    );
    // bounded output says what it left out
    let small = IstioTools::builder(client(&fake))
        .max_output_chars(1_500)
        .build()
        .unwrap();
    let out = text(
        &small,
        "istio_analyze_cluster_configuration",
        json!({"all_namespaces": true}),
    )
    .await;
    assert!(out.len() < 2_000, "{}", out.len());
    assert!(out.contains("more findings not shown ("), "{out}");
    assert!(out.contains("Analyze one namespace at a time"), "{out}");
}

#[tokio::test]
async fn istio_resources_read_through_discovery_in_any_served_version() {
    let fake = cluster(&[CRDS, HEALTHY]);
    let t = tools(&fake);
    let out = text(&t, "istio_get_resources", json!({})).await;
    for needle in [
        "== VirtualService (networking.istio.io/v1, 2 in namespace shop)",
        "http[0]→reviews:v1 90%,reviews:v2 10%",
        "v1(version=v1), v2(version=v2)",
        "80/HTTP bookinfo.example.com",
        "api.example.com  MESH_EXTERNAL  DNS",
        "./*, istio-system/*",
        "allow-nothing",
        "none (ALLOW: denies everything else)",
        "from ns:shop to ports:9080,methods:GET",
        "https://auth.example.com",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    let all = text(
        &t,
        "istio_get_resources",
        json!({"resource_type": "pa", "all_namespaces": true}),
    )
    .await;
    assert!(
        all.contains("NAMESPACE") && all.contains("istio-system") && all.contains("STRICT"),
        "{all}"
    );
    let one = text(
        &t,
        "istio_get_resources",
        json!({"resource_type": "dr", "resource_name": "reviews"}),
    )
    .await;
    assert!(
        one.contains("kind: DestinationRule") && one.contains("subsets:"),
        "{one}"
    );
    assert!(!one.contains("resourceVersion"), "{one}");

    // bad argument, missing object
    let e = call_err(&t, "istio_get_resources", json!({"resource_type": "pods"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    assert!(e.to_string().contains("virtualservice (vs)"), "{e}");
    let e = call_err(
        &t,
        "istio_get_resources",
        json!({"resource_type": "vs", "resource_name": "nope"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    // names that are no Kubernetes names are refused before they reach a URL
    for (name, args) in [
        (
            "istio_get_resources",
            json!({"namespace": "shop/../kube-system"}),
        ),
        (
            "istio_get_resources",
            json!({"resource_type": "vs", "resource_name": "Reviews"}),
        ),
        (
            "istio_analyze_cluster_configuration",
            json!({"namespace": "Shop"}),
        ),
        ("istio_proxy_config", json!({"pod_name": "web/1"})),
        (
            "istio_set_route_weights",
            json!({"virtual_service": "a b", "weights": {"v1": 100}}),
        ),
    ] {
        let e = call_err(&t, name, args.clone()).await;
        assert!(
            matches!(e, ToolError::InvalidArguments { .. })
                && e.to_string().contains("is not a valid"),
            "{name} {args}: {e:?}"
        );
    }

    // an older Istio serving only v1beta1 / v1alpha3
    let old = cluster(&[CRDS_V1BETA1]);
    old.load_yaml(
        &HEALTHY
            .replace("networking.istio.io/v1\n", "networking.istio.io/v1beta1\n")
            .replace("security.istio.io/v1\n", "security.istio.io/v1beta1\n"),
    )
    .unwrap();
    old.load_yaml(
        &BROKEN
            .replace("networking.istio.io/v1\n", "networking.istio.io/v1beta1\n")
            .replace("security.istio.io/v1\n", "security.istio.io/v1beta1\n"),
    )
    .unwrap();
    let t = tools(&old);
    let out = text(
        &t,
        "istio_get_resources",
        json!({"resource_type": "virtualservice"}),
    )
    .await;
    assert!(
        out.contains("(networking.istio.io/v1beta1, 2 in namespace shop)"),
        "{out}"
    );
    let (_, st) = call(
        &t,
        "istio_analyze_cluster_configuration",
        json!({"namespace": "store"}),
    )
    .await;
    assert_eq!(findings(&st).len(), 9, "{st:?}");
}

#[tokio::test]
async fn without_istio_crds_the_tools_say_so() {
    let fake = cluster(&[]);
    let t = tools(&fake);
    let e = call_err(&t, "istio_analyze_cluster_configuration", json!({})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("Istio's CRDs"), "{e}");
    let out = text(&t, "istio_get_resources", json!({})).await;
    assert!(
        out.contains("not served by this cluster (CRD missing): VirtualService"),
        "{out}"
    );
}

/// Serves the reviews sidecar's config dump (with endpoints only for ?include_eds), and
/// istiod's syncz when `syncz` is given; everything else refuses connections.
fn serve_admin(fake: &FakeCluster, syncz: Option<Value>) {
    let dump: Value = serde_json::from_str(CONFIG_DUMP).unwrap();
    fake.set_pod_port_handler(move |req| match (req.port, req.path.as_str()) {
        (15000, "/config_dump") if req.pod.starts_with("reviews-v1") => {
            let mut d = dump.clone();
            if !req.query.contains("include_eds") {
                d["configs"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|c| !c["@type"].as_str().unwrap().ends_with("EndpointsConfigDump"));
            }
            Some(PodPortResponse::json(&d))
        }
        (15000, "/config_dump") if req.pod.starts_with("reviews-v2") => {
            // a proxy that rejected a listener
            let mut d = dump.clone();
            let listeners = d["configs"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|c| c["@type"].as_str().unwrap().ends_with("ListenersConfigDump"))
                .unwrap();
            listeners["dynamic_listeners"].as_array_mut().unwrap().push(json!({
                "name": "0.0.0.0_8443",
                "error_state": {"failed_configuration": {}, "last_update_attempt": "2025-06-01T10:01:00Z",
                    "details": "Error adding/updating listener(s) 0.0.0.0_8443: duplicate listener 0.0.0.0_8443 found"}
            }));
            d["configs"][0]["bootstrap"]["node"]["id"] = json!("sidecar~10.244.1.12~reviews-v2-5b667bcbf8-xq7vd.shop~shop.svc.cluster.local");
            Some(PodPortResponse::json(&d))
        }
        (15014, "/debug/syncz") if req.pod.starts_with("istiod") => syncz.as_ref().map(PodPortResponse::json),
        _ => None,
    });
}

#[tokio::test]
async fn proxy_config_summarizes_a_sidecars_envoy() {
    let fake = cluster(&[CRDS, HEALTHY]);
    serve_admin(&fake, None);
    let t = tools_port_forward(&fake);
    let pod = "reviews-v1-5b5d6494f4-wsrwp";
    let clusters = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "cluster"}),
    )
    .await;
    for needle in [
        "SERVICE FQDN",
        "reviews.shop.svc.cluster.local  9080  v1      outbound   EDS",
        "auto mTLS",
        "reviews.shop",
        "api.example.com",
        "TLS sni=api.example.com",
        "STRICT_DNS",
        "PassthroughCluster",
        "inbound|9080||                  9080  -       inbound    ORIGINAL_DST",
    ] {
        assert!(clusters.contains(needle), "missing {needle}:\n{clusters}");
    }
    let routes = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": format!("{pod}.shop"), "config_type": "routes"}),
    )
    .await;
    assert!(
        routes.contains("reviews.shop:9080 v1 90%, reviews.shop:9080 v2 10%"),
        "{routes}"
    );
    assert!(
        routes.contains("reviews.shop.svc.cluster.local +4 more"),
        "{routes}"
    );
    let listeners = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "listener"}),
    )
    .await;
    for needle in [
        "Route: 9080",
        "Cluster: PassthroughCluster",
        "Port: 9080; Trans: tls",
        "Inline Route: /stats/prometheus*",
        "Cluster: BlackHoleCluster",
    ] {
        assert!(listeners.contains(needle), "missing {needle}:\n{listeners}");
    }
    let secrets = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "secret"}),
    )
    .await;
    assert!(
        secrets.contains("default  Cert Chain  ACTIVE") && secrets.contains("ROOTCA   CA"),
        "{secrets}"
    );
    assert!(
        !secrets.contains("LS0t") && !secrets.contains("W3Jl"),
        "certificate bytes leaked:\n{secrets}"
    );
    let eps = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "endpoint"}),
    )
    .await;
    assert!(
        eps.contains("10.244.1.12:9080  UNHEALTHY  eu-west-1/eu-west-1b"),
        "{eps}"
    );
    let boot = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "bootstrap"}),
    )
    .await;
    assert!(
        boot.contains("istio version: 1.22.1")
            && boot.contains("control plane: istiod.istio-system.svc:15012"),
        "{boot}"
    );
    let filtered = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "cluster", "filter": "ratings"}),
    )
    .await;
    assert!(
        filtered.contains("ratings.shop") && !filtered.contains("reviews.shop"),
        "{filtered}"
    );
    let all = text(&t, "istio_proxy_config", json!({"pod_name": pod})).await;
    assert!(
        all.contains("== listeners")
            && all.contains("== routes")
            && all.contains("== clusters")
            && all.contains("== secrets"),
        "{all}"
    );

    // bad argument, missing pod, pod without sidecar, admin port that refuses connections
    let e = call_err(
        &t,
        "istio_proxy_config",
        json!({"pod_name": pod, "config_type": "log"}),
    )
    .await;
    assert!(
        matches!(e, ToolError::InvalidArguments { .. }) && e.to_string().contains("POST"),
        "{e:?}"
    );
    let e = call_err(&t, "istio_proxy_config", json!({"pod_name": "nope"})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    let e = call_err(
        &t,
        "istio_proxy_config",
        json!({"pod_name": "istiod-7d4b9c6f8-abcde", "namespace": "istio-system"}),
    )
    .await;
    assert!(
        e.to_string()
            .contains("has no istio-proxy sidecar (containers: discovery)"),
        "{e}"
    );
    let e = call_err(
        &t,
        "istio_proxy_config",
        json!({"pod_name": "ratings-v1-b6994bb9-gl27w"}),
    )
    .await;
    assert!(e.is_fault(), "{e:?}");
    assert!(e.to_string().contains("connect: connection refused"), "{e}");
    let seen = fake.requests();
    assert!(
        seen.iter().any(|r| r
            .path
            .ends_with("/pods/reviews-v1-5b5d6494f4-wsrwp/portforward")),
        "port-forward expected"
    );
    assert!(
        !seen.iter().any(|r| r.path.contains("/proxy")),
        "no pod proxy expected"
    );
}

#[tokio::test]
async fn the_pod_proxy_reaches_envoy_too() {
    let fake = cluster(&[CRDS, HEALTHY]);
    serve_admin(&fake, None);
    let t = tools(&fake);
    let clusters = text(
        &t,
        "istio_proxy_config",
        json!({"pod_name": "reviews-v1-5b5d6494f4-wsrwp", "config_type": "cluster"}),
    )
    .await;
    assert!(
        clusters.contains("reviews.shop.svc.cluster.local  9080  v1"),
        "{clusters}"
    );
    assert!(fake.requests().iter().any(|r| {
        r.path
            .ends_with("/pods/reviews-v1-5b5d6494f4-wsrwp:15000/proxy/config_dump")
    }));
    let e = call_err(
        &t,
        "istio_proxy_config",
        json!({"pod_name": "ratings-v1-b6994bb9-gl27w"}),
    )
    .await;
    assert!(e.is_fault(), "{e:?}");
    assert!(
        e.to_string().contains(
            "dial tcp 10.244.1.13:15000: connect: connection refused (503 ServiceUnavailable)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn proxy_status_from_istiod_and_from_the_sidecars() {
    let fake = cluster(&[CRDS, HEALTHY]);
    serve_admin(
        &fake,
        Some(json!([
            {"cluster_id": "Kubernetes", "proxy": "reviews-v1-5b5d6494f4-wsrwp.shop", "istio_version": "1.22.1",
             "cluster_sent": "a1", "cluster_acked": "a1", "listener_sent": "b1", "listener_acked": "b1",
             "route_sent": "c1", "route_acked": "c1", "endpoint_sent": "d1", "endpoint_acked": "d1"},
            {"cluster_id": "Kubernetes", "proxy": "reviews-v2-5b667bcbf8-xq7vd.shop", "istio_version": "1.22.1",
             "cluster_sent": "a2", "cluster_acked": "a2", "listener_sent": "b2", "listener_acked": "b1",
             "route_sent": "c2", "route_acked": "c2"},
            {"cluster_id": "Kubernetes", "proxy": "istio-ingressgateway-5f8c9d7b6-xk2lp.istio-system", "istio_version": "1.22.1",
             "cluster_sent": "a3", "cluster_acked": "a3"}
        ])),
    );
    let t = tools(&fake);
    let out = text(&t, "istio_proxy_status", json!({"namespace": "shop"})).await;
    assert!(
        out.starts_with("2 proxies connected to istiod in namespace shop"),
        "{out}"
    );
    assert!(
        out.contains("reviews-v2-5b667bcbf8-xq7vd.shop  SYNCED  STALE"),
        "{out}"
    );
    assert!(out.contains("NOT SENT"), "{out}");
    let all = text(&t, "istio_proxy_status", json!({})).await;
    assert!(all.starts_with("3 proxies connected to istiod:"), "{all}");

    let one = text(
        &t,
        "istio_proxy_status",
        json!({"pod_name": "reviews-v1-5b5d6494f4-wsrwp"}),
    )
    .await;
    assert!(
        one.contains("istiod's view:")
            && one.contains("reviews-v1-5b5d6494f4-wsrwp.shop  SYNCED  SYNCED"),
        "{one}"
    );
    assert!(
        one.contains("CDS (clusters)   10      0        2025-06-01T10:00:07Z/14"),
        "{one}"
    );
    assert!(one.contains("no rejected (NACKed) configuration"), "{one}");

    // istiod unreachable: ask the sidecars themselves
    serve_admin(&fake, None);
    let out = text(&t, "istio_proxy_status", json!({"namespace": "shop"})).await;
    assert!(out.contains("istiod's view unavailable"), "{out}");
    assert!(
        out.contains("4 sidecars in namespace shop, 4 asked"),
        "{out}"
    );
    assert!(
        out.contains("reviews-v1-5b5d6494f4-wsrwp.shop  1.22.1"),
        "{out}"
    );
    assert!(out.contains("REJECTED reviews-v2-5b667bcbf8-xq7vd.shop: listener 0.0.0.0_8443: Error adding/updating listener(s) 0.0.0.0_8443: duplicate listener"), "{out}");
    assert!(
        out.contains("unreachable ratings-v1-b6994bb9-gl27w.shop"),
        "{out}"
    );
    let one = text(
        &t,
        "istio_proxy_status",
        json!({"pod_name": "reviews-v2-5b667bcbf8-xq7vd", "namespace": "shop"}),
    )
    .await;
    assert!(one.contains("REJECTED listener 0.0.0.0_8443"), "{one}");
}

fn dry_run_writes_nothing(fake: &FakeCluster) {
    let writes: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .collect();
    assert!(!writes.is_empty(), "expected dry-run writes");
    for w in writes {
        assert!(w.query.contains("dryRun=All"), "a real write: {w:?}");
    }
}

#[tokio::test]
async fn zero_trust_manifests_are_derived_and_dry_run() {
    let fake = cluster(&[CRDS, HEALTHY]);
    let t = tools(&fake);
    fake.clear_requests();
    let out = text(
        &t,
        "istio_generate_authorization_policies",
        json!({"namespace": "shop", "allow_from_namespaces": ["default,istio-system"]}),
    )
    .await;
    dry_run_writes_nothing(&fake);
    assert!(
        out.contains("the API server accepted them in a dry run (nothing changed)"),
        "{out}"
    );
    assert!(out.contains("would be authorizationpolicy.security.istio.io/allow-nothing unchanged in namespace shop")
        || out.contains("would be authorizationpolicy.security.istio.io/allow-nothing configured in namespace shop"), "{out}");
    assert!(
        out.contains(
            "would be authorizationpolicy.security.istio.io/allow-ratings created in namespace shop"
        ),
        "{out}"
    );
    // the gateway's service account, derived from Gateway -> pods -> serviceAccountName
    assert!(out.contains("cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account (gateway pod istio-system/istio-ingressgateway-5f8c9d7b6-xk2lp of Gateway shop/bookinfo-gateway, bound by VirtualService shop/bookinfo)"), "{out}");
    // named target port resolved through the pods' container ports
    assert!(
        out.contains("allow-ratings: pods of Service ratings (1 selected) on ports 9080"),
        "{out}"
    );
    assert!(out.contains("apply with k8s_apply_manifest"), "{out}");
    assert!(
        fake.get_object(
            "security.istio.io/v1",
            "AuthorizationPolicy",
            "shop",
            "allow-ratings"
        )
        .is_none()
    );
    let e = call_err(
        &t,
        "istio_generate_authorization_policies",
        json!({"namespace": "shop", "allow_from_namespaces": ["nope"]}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &t,
        "istio_generate_authorization_policies",
        json!({"namespace": "ghost"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");

    // STRICT mTLS: a DestinationRule that disables TLS would start to conflict
    fake.load_yaml(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ratings-plain, namespace: shop}\nspec:\n  host: ratings\n  trafficPolicy: {tls: {mode: DISABLE}}\n",
    )
    .unwrap();
    let mesh_pa = fake
        .get_object(
            "security.istio.io/v1",
            "PeerAuthentication",
            "istio-system",
            "default",
        )
        .unwrap();
    let mut permissive = mesh_pa.clone();
    permissive["spec"]["mtls"]["mode"] = json!("PERMISSIVE");
    fake.apply_object(permissive).unwrap();
    fake.clear_requests();
    let (out, st) = call(
        &t,
        "istio_generate_peer_authentication",
        json!({"namespace": "shop"}),
    )
    .await;
    dry_run_writes_nothing(&fake);
    assert!(
        out.contains(
            "would be peerauthentication.security.istio.io/default created in namespace shop"
        ),
        "{out}"
    );
    assert!(out.contains("mode: STRICT"), "{out}");
    assert!(
        out.contains("applying them would introduce 1 findings"),
        "{out}"
    );
    assert!(
        out.contains("Error [IST0113 MTLSPolicyConflict] (DestinationRule shop/ratings-plain"),
        "{out}"
    );
    assert_eq!(st.unwrap()["introduced_findings"][0]["code"], "IST0113");
    assert!(
        out.contains("4 pods with sidecars in scope will enforce it"),
        "{out}"
    );
    assert!(
        !out.contains("can no longer call"),
        "every caller has a sidecar:\n{out}"
    );
    assert!(
        fake.get_object(
            "security.istio.io/v1",
            "PeerAuthentication",
            "shop",
            "default"
        )
        .is_none()
    );
    let e = call_err(
        &t,
        "istio_generate_peer_authentication",
        json!({"mode": "OFF"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
}

#[tokio::test]
async fn canary_routes_are_generated_and_dry_run() {
    let fake = cluster(&[CRDS, HEALTHY]);
    let t = tools(&fake);
    fake.clear_requests();
    let out = text(&t, "istio_generate_canary", json!({"service": "reviews", "stable_version": "v1", "canary_version": "v2", "canary_weight": "30"})).await;
    dry_run_writes_nothing(&fake);
    assert!(
        out.contains(
            "would be virtualservice.networking.istio.io/reviews configured in namespace shop"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "would be destinationrule.networking.istio.io/reviews unchanged in namespace shop"
        ),
        "{out}"
    );
    assert!(
        out.contains("-      weight: 90\n+      weight: 70"),
        "{out}"
    );
    assert!(out.contains("applying them introduces no finding"), "{out}");
    let vs = fake
        .get_object(
            "networking.istio.io/v1",
            "VirtualService",
            "shop",
            "reviews",
        )
        .unwrap();
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["weight"], 90,
        "dry run changed the route"
    );

    // a new canary for a Service without routing yet: new DestinationRule and VirtualService
    let out = text(&t, "istio_generate_canary", json!({"service": "ratings", "stable_version": "v1", "canary_version": "v2", "canary_weight": 0})).await;
    assert!(
        out.contains("destinationrule.networking.istio.io/ratings created")
            && out.contains("virtualservice.networking.istio.io/ratings created"),
        "{out}"
    );

    let e = call_err(&t, "istio_generate_canary", json!({"service": "reviews", "stable_version": "v1", "canary_version": "v3", "canary_weight": 10})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string().contains("Pods by version: v1 (1), v2 (1)"),
        "{e}"
    );
    let e = call_err(&t, "istio_generate_canary", json!({"service": "reviews", "stable_version": "v1", "canary_version": "v2", "canary_weight": 150})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(&t, "istio_generate_canary", json!({"service": "reviewz", "stable_version": "v1", "canary_version": "v2", "canary_weight": 10})).await;
    assert!(
        e.to_string()
            .contains("Services in shop: productpage, ratings, reviews"),
        "{e}"
    );
}

#[tokio::test]
async fn route_weights_shift_with_a_dry_run_preview() {
    let fake = cluster(&[CRDS, HEALTHY, BROKEN]);
    let t = tools(&fake);
    let mut ctx = ToolContext::detached("t");
    ctx.dry_run = true;
    let out = t
        .call(
            "istio_set_route_weights",
            json!({"virtual_service": "reviews", "weights": {"v1": 50, "v2": 50}}),
            ctx,
        )
        .await
        .unwrap();
    let out = render_tool_content(&out.content);
    assert!(out.starts_with("DRY RUN (server-side, nothing changed): would set weights of VirtualService shop/reviews spec.http[0].route: reviews:v1 90→50, reviews:v2 10→50"), "{out}");
    assert!(
        out.contains("-      weight: 90\n+      weight: 50"),
        "{out}"
    );
    let vs = fake
        .get_object(
            "networking.istio.io/v1",
            "VirtualService",
            "shop",
            "reviews",
        )
        .unwrap();
    assert_eq!(vs["spec"]["http"][0]["route"][0]["weight"], 90);

    let out = text(
        &t,
        "istio_set_route_weights",
        json!({"virtual_service": "reviews", "weights": {"reviews:v2": 100}, "route": "default"}),
    )
    .await;
    assert!(out.starts_with("set weights of VirtualService shop/reviews spec.http[0].route: reviews:v1 90→0, reviews:v2 10→100"), "{out}");
    let vs = fake
        .get_object(
            "networking.istio.io/v1",
            "VirtualService",
            "shop",
            "reviews",
        )
        .unwrap();
    assert_eq!(vs["spec"]["http"][0]["route"][0]["weight"], 0);
    assert_eq!(vs["spec"]["http"][0]["route"][1]["weight"], 100);

    let e = call_err(
        &t,
        "istio_set_route_weights",
        json!({"virtual_service": "reviews", "weights": {"v1": 50, "v2": 40}}),
    )
    .await;
    assert!(
        matches!(e, ToolError::InvalidArguments { .. }) && e.to_string().contains("add up to 90"),
        "{e:?}"
    );
    let e = call_err(
        &t,
        "istio_set_route_weights",
        json!({"virtual_service": "reviews", "weights": {"v9": 100}}),
    )
    .await;
    assert!(
        matches!(e, ToolError::NotFound { .. })
            && e.to_string().contains("reviews:v1 0, reviews:v2 100"),
        "{e:?}"
    );
    let e = call_err(
        &t,
        "istio_set_route_weights",
        json!({"virtual_service": "nope", "weights": {"v1": 100}}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    // a subset no DestinationRule defines gets no traffic
    let e = call_err(
        &t,
        "istio_set_route_weights",
        json!({"virtual_service": "catalog", "namespace": "store", "weights": {"v3": 100}}),
    )
    .await;
    assert!(
        e.to_string()
            .contains("subset v3 of host catalog is defined by no DestinationRule"),
        "{e}"
    );
}

#[tokio::test]
async fn read_only_mode_and_effects() {
    let fake = cluster(&[CRDS]);
    let all = tools(&fake);
    let ro = IstioTools::builder(client(&fake))
        .read_only(true)
        .build()
        .unwrap();
    assert!(all.contains("istio_set_route_weights"));
    assert!(!ro.contains("istio_set_route_weights"));
    assert_eq!(ro.len() + 1, all.len());
    for spec in all.specs() {
        let want = kagent_tools::istio::TOOLS
            .iter()
            .find(|(n, _)| *n == spec.name)
            .unwrap()
            .1;
        assert_eq!(spec.effect, want, "{}", spec.name);
        if spec.name != "istio_set_route_weights" {
            assert_eq!(spec.effect, ToolEffect::ReadOnly, "{}", spec.name);
        }
    }
    // kagent's argument names
    let schema = |name: &str| all.get(name).unwrap().spec().input_schema.to_string();
    assert!(
        schema("istio_proxy_config").contains("\"pod_name\"")
            && schema("istio_proxy_config").contains("\"config_type\"")
    );
    assert!(schema("istio_analyze_cluster_configuration").contains("\"all_namespaces\""));
}

#[tokio::test]
async fn an_unreachable_api_server_is_a_fault() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(2));
    let t = IstioTools::builder(kube::Client::try_from(config).unwrap())
        .default_namespace("shop")
        .build()
        .unwrap();
    for (name, args) in [
        ("istio_analyze_cluster_configuration", json!({})),
        ("istio_get_resources", json!({})),
        ("istio_proxy_config", json!({"pod_name": "web-1"})),
    ] {
        let e = call_err(&t, name, args).await;
        assert!(e.is_fault(), "{name}: {e:?}");
    }
}
