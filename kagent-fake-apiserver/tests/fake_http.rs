//! The fake API server at the HTTP level: discovery documents, Table responses, and the
//! fault paths (bad bodies, unsupported media types, methods, expired watches, mismatches).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use kagent_fake_apiserver::FakeCluster;
use serde_json::{Value, json};

struct Http {
    fake: FakeCluster,
    client: reqwest::Client,
}

impl Http {
    fn new(fake: FakeCluster) -> Self {
        Self {
            fake,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fake.url())
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, String, Value) {
        let resp = tokio::time::timeout(Duration::from_secs(20), req.send())
            .await
            .expect("request hung")
            .unwrap();
        let code = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (code, ct, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (code, _, body) = self.send(self.client.get(self.url(path))).await;
        (code, body)
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (code, _, body) = self.send(self.client.post(self.url(path)).json(body)).await;
        (code, body)
    }
}

fn assert_status(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["reason"], reason, "{body}");
}

#[tokio::test]
async fn discovery_documents() {
    let h = Http::new(FakeCluster::start().unwrap());
    let (code, api) = h.get("/api").await;
    assert_eq!((code, api["kind"].as_str()), (200, Some("APIVersions")));
    let (_, apis) = h.get("/apis").await;
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for g in [
        "apps",
        "batch",
        "autoscaling",
        "networking.k8s.io",
        "apiextensions.k8s.io",
    ] {
        assert!(groups.contains(&g), "{g} missing from {groups:?}");
    }
    let (_, core) = h.get("/api/v1").await;
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["namespaced"], true);
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "pods/log")
    );
    let (code, body) = h.get("/apis/nope.example.com/v1").await;
    assert_status(&body, 404, "NotFound");
    assert_eq!(code, 404);

    let (code, ct, agg) = h
        .send(h.client.get(h.url("/apis")).header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        ))
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        ct,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let apps = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    let deploy = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    assert!(
        deploy["subresources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["subresource"] == "scale")
    );
    // v2beta1 only: the fake answers with the legacy document, which clients accept as a fallback
    let (_, ct, _) = h
        .send(h.client.get(h.url("/apis")).header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
        ))
        .await;
    assert_eq!(ct, "application/json");
}

#[tokio::test]
async fn tables_for_kubectl() {
    let h = Http::new(FakeCluster::start_with_scenario().unwrap());
    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (code, _, table) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/pods?labelSelector=app%3Dcheckout"))
                .header("accept", accept),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(table["kind"], "Table");
    let cols: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&cols[..5], ["Name", "Ready", "Status", "Restarts", "Age"]);
    let row = &table["rows"][0];
    assert_eq!(row["cells"][2], "CrashLoopBackOff");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    // kubectl asks for the whole object with includeObject=Object
    let (_, _, table) = h
        .send(
            h.client
                .get(h.url("/api/v1/nodes/worker-1?includeObject=Object"))
                .header("accept", accept),
        )
        .await;
    assert_eq!(table["rows"][0]["object"]["kind"], "Node");
    assert_eq!(table["rows"][0]["cells"][1], "Ready");
    // an empty list still has columns
    let (_, _, table) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/default/pods"))
                .header("accept", accept),
        )
        .await;
    assert_eq!(table["rows"], json!([]));
    assert_eq!(table["columnDefinitions"][2]["name"], "Status");
}

#[tokio::test]
async fn fault_paths() {
    let h = Http::new(FakeCluster::start().unwrap());
    let cms = "/api/v1/namespaces/default/configmaps";

    // malformed JSON
    let (code, _, body) = h
        .send(
            h.client
                .post(h.url(cms))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(code, 400);
    assert_status(&body, 400, "BadRequest");

    // body kind / apiVersion / namespace must match the URL
    let (code, body) = h
        .post(
            cms,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        )
        .await;
    assert_eq!(code, 400);
    assert!(body["message"].as_str().unwrap().contains("kind"), "{body}");
    let (code, _) = h
        .post(
            cms,
            &json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        )
        .await;
    assert_eq!(code, 400);
    let (code, body) = h
        .post(
            cms,
            &json!({"metadata": {"name": "x", "namespace": "kube-system"}}),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not match the namespace")
    );

    // invalid objects carry causes
    let (code, body) = h
        .post(
            "/api/v1/namespaces/default/pods",
            &json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}),
        )
        .await;
    assert_eq!(code, 422);
    assert_status(&body, 422, "Invalid");
    assert_eq!(
        body["details"]["causes"][0]["field"],
        "spec.containers[0].image"
    );
    assert_eq!(
        body["message"],
        "Pod \"p\" is invalid: spec.containers[0].image: Required value"
    );

    // create, then the remaining verbs' failures
    let (code, _) = h
        .post(
            cms,
            &json!({"metadata": {"name": "cm"}, "data": {"a": "1"}}),
        )
        .await;
    assert_eq!(code, 201);
    let (code, _, body) = h
        .send(
            h.client
                .patch(h.url(&format!("{cms}/cm")))
                .header("content-type", "text/plain")
                .body("x"),
        )
        .await;
    assert_eq!(code, 415);
    assert_eq!(body["reason"], "UnsupportedMediaType");
    let (code, _, body) = h
        .send(h.client.post(h.url(&format!("{cms}/cm"))).json(&json!({})))
        .await;
    assert_eq!(code, 405);
    assert_eq!(body["reason"], "MethodNotAllowed");
    let (code, _, body) = h
        .send(
            h.client
                .put(h.url(&format!("{cms}/cm")))
                .json(&json!({"metadata": {"name": "other"}})),
        )
        .await;
    assert_eq!(code, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not match the name on the URL")
    );
    let (code, _, body) = h
        .send(
            h.client
                .put(h.url(&format!("{cms}/missing")))
                .json(&json!({"metadata": {"name": "missing"}})),
        )
        .await;
    assert_status(&body, 404, "NotFound");
    assert_eq!(code, 404);
    let (code, body) = h.get(&format!("{cms}?dryRun=Sometimes")).await;
    assert_eq!(code, 200, "dryRun is ignored on reads: {body}");
    let (code, _, body) = h
        .send(
            h.client
                .post(h.url(&format!("{cms}?dryRun=Sometimes")))
                .json(&json!({"metadata": {"name": "y"}})),
        )
        .await;
    assert_eq!(code, 400, "{body}");

    // unknown resources, cluster-scoped resources under a namespace, unknown subresources
    assert_eq!(h.get("/api/v1/namespaces/default/widgets").await.0, 404);
    assert_eq!(h.get("/api/v1/namespaces/default/nodes").await.0, 404);
    assert_eq!(h.get(&format!("{cms}/cm/status")).await.0, 404);
    assert_eq!(h.get("/metrics").await.0, 404);

    // precondition on delete
    let (code, _, body) = h
        .send(
            h.client
                .delete(h.url(&format!("{cms}/cm")))
                .json(&json!({"preconditions": {"resourceVersion": "1"}})),
        )
        .await;
    assert_eq!(code, 409);
    assert!(
        body["message"].as_str().unwrap().contains("precondition"),
        "{body}"
    );
    // dry-run delete keeps the object
    let (code, _, body) = h
        .send(h.client.delete(h.url(&format!("{cms}/cm?dryRun=All"))))
        .await;
    assert_eq!((code, body["status"].as_str()), (200, Some("Success")));
    assert_eq!(h.get(&format!("{cms}/cm")).await.0, 200);
}

#[tokio::test]
async fn watch_expired_and_streaming_list() {
    let h = Http::new(
        FakeCluster::builder()
            .history_limit(3)
            .bookmark_interval(Duration::from_millis(20))
            .start()
            .unwrap(),
    );
    let cms = "/api/v1/namespaces/default/configmaps";
    let first = h.fake.resource_version();
    for i in 0..6 {
        h.post(cms, &json!({"metadata": {"name": format!("c{i}")}}))
            .await;
    }
    let (code, body) = h
        .get(&format!("{cms}?watch=true&resourceVersion={first}"))
        .await;
    assert_eq!(code, 410);
    assert_status(&body, 410, "Expired");
    let (code, _) = h
        .get(&format!("{cms}?watch=true&resourceVersion=abc"))
        .await;
    assert_eq!(code, 400);

    // sendInitialEvents: every object as ADDED, then the initial-events-end bookmark
    let resp = h
        .client
        .get(h.url(&format!(
            "{cms}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1"
        )))
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .unwrap()
        .unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.iter().filter(|e| e["type"] == "ADDED").count(), 6);
    let bookmark = events.iter().find(|e| e["type"] == "BOOKMARK").unwrap();
    assert_eq!(
        bookmark["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(bookmark["object"]["kind"], "ConfigMap");
}

#[tokio::test]
async fn watch_translates_selector_transitions() {
    let h = Http::new(FakeCluster::start().unwrap());
    let cms = "/api/v1/namespaces/default/configmaps";
    h.post(
        cms,
        &json!({"metadata": {"name": "a", "labels": {"x": "1"}}}),
    )
    .await;
    let rv = h.fake.resource_version();
    // relabel out of the selector, back in, then delete
    for labels in [json!({"x": "2"}), json!({"x": "1"})] {
        let (code, _, _) = h
            .send(
                h.client
                    .patch(h.url(&format!("{cms}/a")))
                    .header("content-type", "application/merge-patch+json")
                    .body(json!({"metadata": {"labels": labels}}).to_string()),
            )
            .await;
        assert_eq!(code, 200);
    }
    h.send(h.client.delete(h.url(&format!("{cms}/a")))).await;
    let resp = h
        .client
        .get(h.url(&format!(
            "{cms}?watch=1&resourceVersion={rv}&labelSelector=x%3D1&timeoutSeconds=1"
        )))
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .unwrap()
        .unwrap();
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["DELETED", "ADDED", "DELETED"]);
}

#[tokio::test]
async fn namespaces_finalizers_and_requests() {
    let h = Http::new(FakeCluster::start().unwrap());
    h.post("/api/v1/namespaces", &json!({"metadata": {"name": "team"}}))
        .await;
    let cms = "/api/v1/namespaces/team/configmaps";
    h.post(cms, &json!({"metadata": {"name": "plain"}})).await;
    h.post(
        cms,
        &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .await;

    // an object with a finalizer is only marked
    let (code, _, marked) = h.send(h.client.delete(h.url(&format!("{cms}/held")))).await;
    assert_eq!(code, 200);
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    let (_, held) = h.get(&format!("{cms}/held")).await;
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    // removing the finalizer completes the deletion
    let (code, _, _) = h
        .send(
            h.client
                .patch(h.url(&format!("{cms}/held")))
                .header("content-type", "application/json-patch+json")
                .body(r#"[{"op":"remove","path":"/metadata/finalizers"}]"#),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(h.get(&format!("{cms}/held")).await.0, 404);

    // deleting the namespace removes what is in it
    let (code, _, _) = h
        .send(h.client.delete(h.url("/api/v1/namespaces/team")))
        .await;
    assert_eq!(code, 200);
    assert_eq!(h.get(&format!("{cms}/plain")).await.0, 404);
    let (code, body) = h.post(cms, &json!({"metadata": {"name": "late"}})).await;
    assert_eq!(
        (code, body["message"].as_str()),
        (404, Some("namespaces \"team\" not found"))
    );

    // built-in list items carry no apiVersion/kind, like a real server
    let (_, list) = h.get("/api/v1/namespaces").await;
    assert_eq!(list["kind"], "NamespaceList");
    assert!(list["items"][0].get("kind").is_none());

    let reqs = h.fake.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "DELETE" && r.path == "/api/v1/namespaces/team")
    );
    h.fake.clear_requests();
    assert!(h.fake.requests().is_empty());
}

#[test]
fn fixture_loading_errors() {
    let fake = FakeCluster::start().unwrap();
    let err = fake.load_yaml("a: [unclosed").unwrap_err();
    assert!(
        matches!(err, kagent_fake_apiserver::FakeError::Yaml { index: 0, .. }),
        "{err}"
    );
    let err = fake
        .load_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Widget\napiVersion: example.com/v1\nmetadata: {name: w}\n")
        .unwrap_err();
    assert!(err.to_string().contains("fixture document 1"), "{err}");
    assert!(err.to_string().contains("Widget"), "{err}");
    let err = fake
        .load_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: absent}\n")
        .unwrap_err();
    assert!(
        err.to_string().contains("namespaces \"absent\" not found"),
        "{err}"
    );
    let err = fake.load_yaml("- just\n- a list\n").unwrap_err();
    assert!(err.to_string().contains("mapping"), "{err}");
    assert!(fake.load_yaml_relative("", "yesterday").is_err());

    // documents in any order: the namespace is created first; PodLogs attach afterwards
    let n = fake
        .load_yaml(
            "apiVersion: testing.kagent.dev/v1\nkind: PodLogs\nmetadata: {name: p, namespace: late}\ncontainers:\n- name: c\n  current: hi\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: late}\nspec: {containers: [{name: c, image: busybox}]}\nstatus: {phase: Running}\n---\n\
             apiVersion: v1\nkind: Namespace\nmetadata: {name: late}\n",
        )
        .unwrap();
    assert_eq!(n, 3);
    let pod = fake.get_object("v1", "Pod", "late", "p").unwrap();
    assert_eq!(pod["status"]["phase"], "Running", "fixtures keep status");
    // loading again replaces, keeping the uid
    let uid = pod["metadata"]["uid"].clone();
    fake.load_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: late}\nspec: {containers: [{name: c, image: busybox:2}]}\nstatus: {phase: Succeeded}\n")
        .unwrap();
    let pod = fake.get_object("v1", "Pod", "late", "p").unwrap();
    assert_eq!(
        (pod["status"]["phase"].as_str(), &pod["metadata"]["uid"]),
        (Some("Succeeded"), &uid)
    );
    assert_eq!(fake.objects("v1", "Pod").len(), 1);
}

#[tokio::test]
async fn service_proxy_needs_ready_endpoints() {
    let h = Http::new(FakeCluster::start_with_scenario().unwrap());
    let (code, _, body) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/services/payments:443/proxy/healthz")),
        )
        .await;
    assert_eq!(code, 503);
    assert_eq!(body["reason"], "ServiceUnavailable");
    assert_eq!(
        body["message"],
        "no endpoints available for service \"payments:443\""
    );
    // only a not-ready address
    let (code, _, _) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/services/search:9200/proxy/")),
        )
        .await;
    assert_eq!(code, 503);
    let (code, _, body) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/services/http:web:80/proxy/ready")),
        )
        .await;
    assert_eq!(code, 200);
    assert!(
        body.as_str()
            .unwrap()
            .starts_with("fake response from pod web-"),
        "{body}"
    );
    // no Endpoints object: the selector's ready pods decide
    let (code, _, _) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/services/api-gateway/proxy")),
        )
        .await;
    assert_eq!(code, 200);
    let (code, _, _) = h
        .send(
            h.client
                .get(h.url("/api/v1/namespaces/shop/services/nope:80/proxy/")),
        )
        .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn table_watch_and_followed_logs() {
    let h = Http::new(FakeCluster::start_with_scenario().unwrap());
    let resp = h
        .client
        .get(
            h.url("/api/v1/namespaces/shop/pods?watch=1&labelSelector=app%3Dcart&timeoutSeconds=1"),
        )
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .send()
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), resp.text())
        .await
        .unwrap()
        .unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["kind"], "Table");
    assert_eq!(events[0]["object"]["rows"][0]["cells"][2], "Running");

    // follow returns the text there is and ends (no kubelet keeps it open)
    let (code, ct, body) = h
        .send(h.client.get(h.url(
            "/api/v1/namespaces/shop/pods/checkout-6d8f7b9c5d-x7k2p/log?follow=true&tailLines=1",
        )))
        .await;
    assert_eq!((code, ct.as_str()), (200, "text/plain"));
    assert!(body.as_str().unwrap().contains("shutting down"), "{body}");
    let (code, _, body) = h
        .send(h.client.get(
            h.url("/api/v1/namespaces/shop/pods/checkout-6d8f7b9c5d-x7k2p/log?tailLines=many"),
        ))
        .await;
    assert_eq!(code, 400, "{body}");
    let (code, _, _) = h
        .send(
            h.client
                .post(h.url("/api/v1/namespaces/shop/pods/checkout-6d8f7b9c5d-x7k2p/log")),
        )
        .await;
    assert_eq!(code, 405);
}

/// The server is bounded like every server of the workspace, and says so in `Status` objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_answer_with_kubernetes_status_objects() {
    use kagent_fake_apiserver::ServerLimits;
    let fake = FakeCluster::builder()
        .limits(
            ServerLimits::default()
                .with_max_requests_per_client(2)
                .with_max_request_body_bytes(1024),
        )
        .start()
        .unwrap();
    let http = Http::new(fake);
    // Too large a body: 413 RequestEntityTooLarge, before anything is stored.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "big"}, "data": {"x": "y".repeat(4096)}});
    let (code, _, status) = http
        .send(
            http.client
                .post(http.url("/api/v1/namespaces/default/configmaps"))
                .json(&cm),
        )
        .await;
    assert_eq!(code, 413);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "RequestEntityTooLarge");
    assert_eq!(status["code"], 413);
    // Two open watches fill this client's request slots: the next request is 429.
    let mut watches = Vec::new();
    for _ in 0..2 {
        let resp = http
            .client
            .get(http.url("/api/v1/namespaces/default/configmaps?watch=true"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        watches.push(resp);
    }
    let (code, _, status) = http
        .send(http.client.get(http.url("/api/v1/namespaces")))
        .await;
    assert_eq!(code, 429, "{status}");
    assert_eq!(status["reason"], "TooManyRequests");
    // Ending a watch frees its slot.
    drop(watches.pop());
    let mut served = false;
    for _ in 0..100 {
        let (code, _, _) = http
            .send(http.client.get(http.url("/api/v1/namespaces")))
            .await;
        if code == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the ended watch kept its slot");
}
