//! Fidelity of the fake API server against a real `kube::Client`: typed `Api` calls, errors,
//! patches, server-side apply, discovery (with a CRD added at run time), dynamic objects,
//! `runtime::watcher` and `pods/log`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kagent_fake_apiserver::FakeCluster;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams, Patch,
    PatchParams, PostParams,
};
use kube::discovery::{Discovery, Scope};
use kube::runtime::watcher;
use serde_json::json;

fn cm(name: &str, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "demo", "tier": name}},
        "data": data,
    }))
    .unwrap()
}

fn api_err(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected kube::Error::Api, got {other:?}"),
    }
}

async fn timeout<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("operation hung")
}

#[tokio::test]
async fn crud_errors_and_conflicts() {
    let fake = FakeCluster::start().unwrap();
    let client = fake.client().unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = cms
        .create(&PostParams::default(), &cm("a", json!({"k": "v"})))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    let rv1 = meta.resource_version.clone().unwrap();

    let (code, reason, msg) = api_err(
        cms.create(&PostParams::default(), &cm("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(msg, "configmaps \"a\" already exists");

    let (code, reason, _) = api_err(cms.get("nope").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert!(cms.get_opt("nope").await.unwrap().is_none());

    // replace with the current resourceVersion works, a stale one conflicts
    let mut fresh = cms.get("a").await.unwrap();
    fresh.data = Some([("k".to_string(), "v2".to_string())].into());
    let replaced = cms
        .replace("a", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_ne!(
        replaced.metadata.resource_version.as_deref(),
        Some(rv1.as_str())
    );
    let (code, reason, msg) = api_err(
        cms.replace("a", &PostParams::default(), &fresh)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(msg.contains("the object has been modified"), "{msg}");

    // invalid objects are 422 Invalid
    let bad = cm("Not_Valid", json!({}));
    let (code, reason, msg) = api_err(cms.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (422, "Invalid"), "{msg}");

    // a namespace that does not exist
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "missing-ns");
    let (code, _, msg) = api_err(
        other
            .create(&PostParams::default(), &cm("x", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, msg.as_str()),
        (404, "namespaces \"missing-ns\" not found")
    );

    // generateName
    let mut g = cm("", json!({}));
    g.metadata.name = None;
    g.metadata.generate_name = Some("gen-".into());
    let g = cms.create(&PostParams::default(), &g).await.unwrap();
    assert!(g.metadata.name.unwrap().starts_with("gen-"));

    // dry run does not store
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    cms.create(&dry, &cm("dry", json!({}))).await.unwrap();
    assert!(cms.get_opt("dry").await.unwrap().is_none());

    // delete, then NotFound
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    let (code, _, _) = api_err(cms.delete("a", &DeleteParams::default()).await.unwrap_err());
    assert_eq!(code, 404);
}

#[tokio::test]
async fn list_with_label_and_field_selectors_and_paging() {
    let fake = FakeCluster::start().unwrap();
    let client = fake.client().unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for name in ["one", "two", "three"] {
        cms.create(&PostParams::default(), &cm(name, json!({})))
            .await
            .unwrap();
    }
    let names = |l: kube::core::ObjectList<ConfigMap>| {
        let mut v: Vec<String> = l
            .items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect();
        v.sort();
        v
    };
    let lp = ListParams::default().labels("app=demo,tier in (one,two)");
    assert_eq!(names(cms.list(&lp).await.unwrap()), ["one", "two"]);
    let lp = ListParams::default().labels("tier!=one");
    assert_eq!(names(cms.list(&lp).await.unwrap()), ["three", "two"]);
    let lp = ListParams::default().labels("!tier");
    assert!(cms.list(&lp).await.unwrap().items.is_empty());
    let lp = ListParams::default().fields("metadata.name=two");
    assert_eq!(names(cms.list(&lp).await.unwrap()), ["two"]);
    let (code, reason, msg) = api_err(
        cms.list(&ListParams::default().fields("data.k=v"))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
    assert!(msg.contains("field label not supported"), "{msg}");
    let (code, _, _) = api_err(
        cms.list(&ListParams::default().labels("a in b"))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);

    // paging
    let page1 = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page1.items.len(), 2);
    let token = page1.metadata.continue_.clone().unwrap();
    let page2 = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(page2.items.len(), 1);
    assert!(page2.metadata.continue_.is_none());

    // all namespaces
    let all: Api<ConfigMap> = Api::all(client);
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        3
    );
}

#[tokio::test]
async fn patches_and_server_side_apply() {
    let fake = FakeCluster::start().unwrap();
    let client = fake.client().unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx:1.27"},
                {"name": "sidecar", "image": "envoy:1.31"}
            ]}}
        }
    }))
    .unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));

    // merge patch
    let pp = PatchParams::default();
    let p = deploys
        .patch(
            "web",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.labels.unwrap()["team"], "a");

    // JSON patch
    let jp: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 4}
    ]))
    .unwrap();
    let p = deploys
        .patch("web", &pp, &Patch::<()>::Json(jp))
        .await
        .unwrap();
    assert_eq!(p.spec.replicas, Some(4));
    assert_eq!(p.metadata.generation, Some(2));
    let bad: json_patch::Patch =
        serde_json::from_value(json!([{"op": "remove", "path": "/spec/nothing"}])).unwrap();
    let (code, _, _) = api_err(
        deploys
            .patch("web", &pp, &Patch::<()>::Json(bad))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 422);

    // strategic merge: containers merge by name
    let p = deploys
        .patch(
            "web",
            &pp,
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "nginx:1.28"}
            ]}}}})),
        )
        .await
        .unwrap();
    let cs = p.spec.template.spec.unwrap().containers;
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].image.as_deref(), Some("nginx:1.28"));
    assert_eq!(cs[1].image.as_deref(), Some("envoy:1.31"));

    // patching something that does not exist
    let (code, reason, _) = api_err(
        deploys
            .patch("nope", &pp, &Patch::Merge(json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (404, "NotFound"));

    // patch carrying a stale resourceVersion conflicts
    let (code, reason, _) = api_err(
        deploys
            .patch(
                "web",
                &pp,
                &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}})),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));

    // server-side apply creates, then merges
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let ssa = PatchParams::apply("kagent-test").force();
    let applied = cms
        .patch("applied", &ssa, &Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "1"}
        })))
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["a"], "1");
    let applied = cms
        .patch("applied", &ssa, &Patch::Apply(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"b": "2"}
        })))
        .await
        .unwrap();
    let data = applied.data.unwrap();
    // the same manager stopped applying `a`: it is removed, as server-side apply does
    assert_eq!(data.get("a"), None);
    assert_eq!(data["b"], "2");
    // a field set by someone else (merge patch) survives the next apply
    cms.patch("applied", &pp, &Patch::Merge(json!({"data": {"c": "3"}})))
        .await
        .unwrap();
    let applied = cms
        .patch(
            "applied",
            &ssa,
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"b": "2"}
            })),
        )
        .await
        .unwrap();
    let data = applied.data.unwrap();
    assert_eq!((data["b"].as_str(), data["c"].as_str()), ("2", "3"));
    // apply needs a field manager
    let (code, _, _) = api_err(
        cms.patch(
            "applied",
            &PatchParams::default(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(code, 400);

    // dry-run patch changes nothing
    let dry = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    let would = cms
        .patch("applied", &dry, &Patch::Merge(json!({"data": {"d": "4"}})))
        .await
        .unwrap();
    assert!(would.data.unwrap().contains_key("d"));
    assert!(
        !cms.get("applied")
            .await
            .unwrap()
            .data
            .unwrap()
            .contains_key("d")
    );
}

#[tokio::test]
async fn status_and_scale_subresources() {
    let fake = FakeCluster::start().unwrap();
    let client = fake.client().unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "api"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "a", "image": "a:1"}]}}},
        "status": {"replicas": 99}
    }))
    .unwrap();
    let created = deploys.create(&PostParams::default(), &d).await.unwrap();
    assert!(
        created.status.is_none(),
        "status is not settable through create"
    );

    let pp = PatchParams::default();
    let st = deploys
        .patch_status(
            "api",
            &pp,
            &Patch::Merge(json!({"status": {"replicas": 1, "readyReplicas": 1}})),
        )
        .await
        .unwrap();
    assert_eq!(st.status.unwrap().ready_replicas, Some(1));

    let scale: Scale = deploys.get_scale("api").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(1));
    assert_eq!(scale.status.unwrap().selector.as_deref(), Some("app=api"));
    deploys
        .patch_scale("api", &pp, &Patch::Merge(json!({"spec": {"replicas": 3}})))
        .await
        .unwrap();
    let after = deploys.get("api").await.unwrap();
    assert_eq!(after.spec.replicas, Some(3));
    assert_eq!(after.status.unwrap().ready_replicas, Some(1));

    // pods have no scale subresource
    let pods: Api<Pod> = Api::namespaced(client, "default");
    assert_eq!(api_err(pods.get_scale("x").await.unwrap_err()).0, 404);
}

#[tokio::test]
async fn discovery_sees_builtins_and_runtime_crds() {
    let fake = FakeCluster::start().unwrap();
    let client = fake.client().unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "31")
    );

    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let (ar, caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .unwrap();
    assert_eq!(ar.plural, "deployments");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(caps.subresources.iter().any(|(s, _)| s.plural == "scale"));
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk("kagent.dev", "v1alpha2", "Agent"))
            .is_none()
    );

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "agents.kagent.dev"},
        "spec": {
            "group": "kagent.dev", "scope": "Namespaced",
            "names": {"plural": "agents", "singular": "agent", "kind": "Agent", "listKind": "AgentList", "shortNames": ["ag"]},
            "versions": [{"name": "v1alpha2", "served": true, "storage": true,
                          "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                          "subresources": {"status": {}}}]
        }
    }))
    .unwrap();
    let created = crds.create(&PostParams::default(), &crd).await.unwrap();
    let conds = created.status.unwrap().conditions.unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );

    for discovery in [
        Discovery::new(client.clone()).run().await.unwrap(),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap(),
    ] {
        let (ar, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk("kagent.dev", "v1alpha2", "Agent"))
            .expect("runtime CRD is discoverable");
        assert_eq!(ar.plural, "agents");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(discovery.has_group("apps"));
    }

    // dynamic objects through the discovered ApiResource
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("kagent.dev", "v1alpha2", "Agent"),
        "agents",
    );
    let agents: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let mut obj = DynamicObject::new("k8s-agent", &ar);
    obj.data = json!({"spec": {"description": "troubleshoots"}});
    agents.create(&PostParams::default(), &obj).await.unwrap();
    let listed = agents.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    let item = &listed.items[0];
    assert_eq!(item.data["spec"]["description"], "troubleshoots");
    assert_eq!(item.types.as_ref().unwrap().kind, "Agent");

    // deleting the CRD removes the resource and its objects
    crds.delete("agents.kagent.dev", &DeleteParams::default())
        .await
        .unwrap();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    assert!(
        discovery
            .resolve_gvk(&GroupVersionKind::gvk("kagent.dev", "v1alpha2", "Agent"))
            .is_none()
    );
    assert_eq!(
        api_err(agents.list(&ListParams::default()).await.unwrap_err()).0,
        404
    );
}

#[tokio::test]
async fn watcher_sees_replayed_and_live_events() {
    let fake = FakeCluster::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .unwrap();
    let client = fake.client().unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .unwrap();

    let mut stream = watcher(cms.clone(), watcher::Config::default().labels("app=demo")).boxed();
    // initial list
    let mut initial = Vec::new();
    loop {
        match timeout(stream.try_next()).await.unwrap().unwrap() {
            watcher::Event::Init => {}
            watcher::Event::InitApply(o) => initial.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(initial, ["before"]);

    cms.create(&PostParams::default(), &cm("live", json!({})))
        .await
        .unwrap();
    let mut unrelated = cm("unrelated", json!({}));
    unrelated.metadata.labels = None;
    cms.create(&PostParams::default(), &unrelated)
        .await
        .unwrap();
    cms.delete("before", &DeleteParams::default())
        .await
        .unwrap();

    let mut seen = Vec::new();
    while seen.len() < 2 {
        match timeout(stream.try_next()).await.unwrap().unwrap() {
            watcher::Event::Apply(o) => seen.push(format!("apply {}", o.metadata.name.unwrap())),
            watcher::Event::Delete(o) => seen.push(format!("delete {}", o.metadata.name.unwrap())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["apply live", "delete before"]);
}

#[tokio::test]
async fn raw_watch_replays_from_resource_version_and_sends_bookmarks() {
    let fake = FakeCluster::builder()
        .bookmark_interval(Duration::from_millis(50))
        .start()
        .unwrap();
    let client = fake.client().unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let a = cms
        .create(&PostParams::default(), &cm("a", json!({})))
        .await
        .unwrap();
    let rv = a.metadata.resource_version.unwrap();
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "1"}})),
    )
    .await
    .unwrap();
    cms.create(&PostParams::default(), &cm("b", json!({})))
        .await
        .unwrap();

    let wp = kube::api::WatchParams {
        bookmarks: true,
        ..Default::default()
    }
    .timeout(10);
    let mut events = cms.watch(&wp, &rv).await.unwrap().boxed();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let ev = timeout(events.try_next()).await.unwrap().unwrap();
        match ev {
            kube::api::WatchEvent::Added(o) => {
                kinds.push(format!("ADDED {}", o.metadata.name.unwrap()))
            }
            kube::api::WatchEvent::Modified(o) => {
                kinds.push(format!("MODIFIED {}", o.metadata.name.unwrap()))
            }
            kube::api::WatchEvent::Bookmark(_) => kinds.push("BOOKMARK".into()),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(kinds, ["MODIFIED a", "ADDED b", "BOOKMARK"]);
}

#[tokio::test]
async fn pod_logs_and_scenario() {
    let fake = FakeCluster::start_with_scenario().unwrap();
    let client = fake.client().unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");

    let crashing = pods.get("checkout-6d8f7b9c5d-x7k2p").await.unwrap();
    let cs = &crashing.status.unwrap().container_statuses.unwrap()[0];
    assert_eq!(cs.restart_count, 7);
    assert_eq!(
        cs.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("CrashLoopBackOff")
    );
    assert_eq!(
        cs.last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        1
    );

    let log = pods
        .logs("checkout-6d8f7b9c5d-x7k2p", &LogParams::default())
        .await
        .unwrap();
    assert!(log.contains("connection refused"), "{log}");
    let tail = pods
        .logs(
            "checkout-6d8f7b9c5d-x7k2p",
            &LogParams {
                tail_lines: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail.lines().count(), 2);
    let prev = pods
        .logs(
            "checkout-6d8f7b9c5d-x7k2p",
            &LogParams {
                previous: true,
                container: Some("checkout".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(prev.contains("fatal: could not connect to database"));

    // a container that never started
    let (code, _, msg) = api_err(
        pods.logs("frontend-7b9c6d5f8-q2w8r", &LogParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 400);
    assert!(
        msg.contains("is waiting to start: trying and failing to pull image"),
        "{msg}"
    );

    // OOM-killed container
    let oom = pods.get("report-worker-5c7d9f8b6-m4n7t").await.unwrap();
    let t = oom.status.unwrap().container_statuses.unwrap()[0]
        .last_state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!((t.reason.as_deref(), t.exit_code), (Some("OOMKilled"), 137));

    // events by involved object
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "shop");
    let lp = ListParams::default()
        .fields("involvedObject.kind=Pod,involvedObject.name=search-7f8d6c5b9-z3v6n,type=Warning");
    let evs = events.list(&lp).await.unwrap();
    assert_eq!(evs.items.len(), 1);
    assert_eq!(evs.items[0].reason.as_deref(), Some("Unhealthy"));

    // the Service whose selector matches no pod
    let svc: Api<Service> = Api::namespaced(client.clone(), "shop");
    let payments = svc.get("payments").await.unwrap();
    let sel = payments.spec.unwrap().selector.unwrap();
    let lp = ListParams::default().labels(
        &sel.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    assert!(pods.list(&lp).await.unwrap().items.is_empty());

    // a running pod has relative timestamps: created in the past, not in 2025
    let ns: Api<Namespace> = Api::all(client);
    let shop = ns.get("shop").await.unwrap();
    let created = shop.metadata.creation_timestamp.unwrap().0;
    let age = jiff::Timestamp::now().duration_since(created);
    assert!(
        age.as_secs() > 86_400 && age.as_secs() < 30 * 86_400,
        "{age:?}"
    );
}

#[tokio::test]
async fn cascading_delete_and_deletecollection() {
    let fake = FakeCluster::start_with_scenario().unwrap();
    let client = fake.client().unwrap();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "shop");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let web = ListParams::default().labels("app=web");
    assert_eq!(pods.list(&web).await.unwrap().items.len(), 5);
    deploys
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        pods.list(&web).await.unwrap().items.is_empty(),
        "owned ReplicaSet and pods go too"
    );

    let cart = ListParams::default().labels("app=cart");
    let deleted = pods
        .delete_collection(&DeleteParams::default(), &cart)
        .await
        .unwrap();
    assert_eq!(deleted.left().unwrap().items.len(), 2);
    assert!(pods.list(&cart).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn exec_over_websocket() {
    use tokio::io::AsyncReadExt;
    let fake = FakeCluster::start_with_scenario().unwrap();
    let pods: Api<Pod> = Api::namespaced(fake.client().unwrap(), "shop");
    let ap = kube::api::AttachParams::default().stderr(true);

    let mut attached = timeout(pods.exec("cart-66b8d7c9f5-5mzsq", ["echo", "hello", "world"], &ap))
        .await
        .unwrap();
    let mut out = String::new();
    attached
        .stdout()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    assert_eq!(out, "hello world\n");
    let status = attached.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));

    fake.set_exec_handler(|req| {
        assert_eq!(req.container, "cart");
        kagent_fake_apiserver::ExecResult::failed(format!("cannot run {:?}\n", req.command), 2)
    });
    let mut attached = timeout(pods.exec("cart-66b8d7c9f5-5mzsq", ["ls", "/nope"], &ap))
        .await
        .unwrap();
    let mut err = String::new();
    attached
        .stderr()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    assert_eq!(err, "cannot run [\"ls\", \"/nope\"]\n");
    let status = attached.take_status().unwrap().await.unwrap();
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
    assert_eq!(status.status.as_deref(), Some("Failure"));

    // a container that is not running cannot be exec'd into
    let e = timeout(pods.exec("checkout-6d8f7b9c5d-x7k2p", ["true"], &ap)).await;
    assert!(e.is_err(), "exec into a crash-looping container must fail");
    let e = timeout(pods.exec("nope", ["true"], &ap)).await;
    assert!(e.is_err());
}

#[tokio::test]
async fn pod_proxy_reaches_the_registered_port_handler() {
    use kagent_fake_apiserver::{PodPortRequest, PodPortResponse};
    let fake = FakeCluster::start_with_scenario().unwrap();
    // kube's default client retries 503 answers for minutes; the test wants to see them
    let mut config = fake.kube_config();
    config.default_retry = false;
    let client = kube::Client::try_from(config).unwrap();
    let get = |path: &str| http::Request::get(path).body(Vec::new()).unwrap();
    let pod = "/api/v1/namespaces/shop/pods/cart-66b8d7c9f5-5mzsq";

    // nothing listens yet: 503 like a refused dial
    let e = timeout(client.request_text(get(&format!("{pod}:15000/proxy/config_dump"))))
        .await
        .unwrap_err();
    let (code, reason, message) = api_err(e);
    assert_eq!((code, reason.as_str()), (503, "ServiceUnavailable"));
    assert!(message.contains("connection refused"), "{message}");

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<PodPortRequest>::new()));
    let log = seen.clone();
    fake.set_pod_port_handler(move |req| {
        log.lock().unwrap().push(req.clone());
        match (req.port, req.path.as_str()) {
            (15000, "/config_dump") => Some(PodPortResponse::json(&json!({"configs": []}))),
            (15000, _) => Some(PodPortResponse::new(404, "text/plain", "invalid path\n")),
            _ => None,
        }
    });
    let body = timeout(client.request_text(get(&format!(
        "{pod}:15000/proxy/config_dump?include_eds=true"
    ))))
    .await
    .unwrap();
    assert_eq!(body, r#"{"configs":[]}"#);
    {
        let seen = seen.lock().unwrap();
        let r = seen.last().unwrap();
        assert_eq!(
            (
                r.namespace.as_str(),
                r.pod.as_str(),
                r.port,
                r.method.as_str()
            ),
            ("shop", "cart-66b8d7c9f5-5mzsq", 15000, "GET")
        );
        assert_eq!(
            (r.path.as_str(), r.query.as_str()),
            ("/config_dump", "include_eds=true")
        );
        assert!(!r.pod_ip.is_empty());
    }
    // the handler's own error status passes through
    let e = timeout(client.request_text(get(&format!("{pod}:15000/proxy/nope"))))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("404"), "{e:?}");
    // another port of the same pod still refuses
    let e = timeout(client.request_text(get(&format!("{pod}:15020/proxy/healthz/ready"))))
        .await
        .unwrap_err();
    assert_eq!(api_err(e).0, 503);
    // a pod that does not exist
    let e = timeout(client.request_text(get(
        "/api/v1/namespaces/shop/pods/nope:15000/proxy/config_dump",
    )))
    .await
    .unwrap_err();
    assert_eq!(api_err(e).0, 404);
}

#[tokio::test]
async fn port_forward_carries_http_to_the_registered_port_handler() {
    use kagent_fake_apiserver::{PodPortResponse, PodPortVia};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = FakeCluster::start_with_scenario().unwrap();
    let pods: Api<Pod> = Api::namespaced(fake.client().unwrap(), "shop");
    fake.set_pod_port_handler(|req| {
        (req.port == 15000 && req.via == PodPortVia::PortForward).then(|| {
            PodPortResponse::text(format!(
                "{} {}?{} from {}",
                req.method, req.path, req.query, req.pod
            ))
        })
    });
    let mut pf = timeout(pods.portforward("cart-66b8d7c9f5-5mzsq", &[15000]))
        .await
        .unwrap();
    let mut stream = pf.take_stream(15000).unwrap();
    stream
        .write_all(b"GET /config_dump?include_eds HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    timeout(stream.read_to_string(&mut answer)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with("GET /config_dump?include_eds from cart-66b8d7c9f5-5mzsq"),
        "{answer}"
    );
    // the answer said `Connection: close`: the fake closes the WebSocket, as the pod's server
    // closing its connection ends a real port-forward stream
    pf.abort();

    // nothing listens on the port: kubelet's message on the error channel
    let mut pf = timeout(pods.portforward("cart-66b8d7c9f5-5mzsq", &[9999]))
        .await
        .unwrap();
    let mut stream = pf.take_stream(9999).unwrap();
    let error = pf.take_error(9999).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let message = timeout(error).await.unwrap();
    assert!(message.contains("connect: connection refused"), "{message}");

    // a missing pod, a pod that is not running
    let e = timeout(pods.portforward("nope", &[80]))
        .await
        .err()
        .unwrap();
    assert_eq!(api_err(e).0, 404);
    assert!(
        timeout(pods.portforward("model-training-x8k2l", &[80]))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn metadata_calls_and_streaming_list_watcher() {
    let fake = FakeCluster::start_with_scenario().unwrap();
    let client = fake.client().unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let metas = pods
        .list_metadata(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(metas.items.len(), 5);
    assert!(
        metas.items[0]
            .metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("web-")
    );
    let one = pods.get_metadata("postgres-0").await.unwrap();
    assert_eq!(
        one.metadata.labels.unwrap()["statefulset.kubernetes.io/pod-name"],
        "postgres-0"
    );

    // kube's streaming lists: sendInitialEvents + the initial-events-end bookmark
    let cfg = watcher::Config::default()
        .labels("app=cart")
        .streaming_lists();
    let mut stream = watcher(pods.clone(), cfg).boxed();
    let mut names = Vec::new();
    loop {
        match timeout(stream.try_next()).await.unwrap().unwrap() {
            watcher::Event::Init => {}
            watcher::Event::InitApply(p) => names.push(p.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    names.sort();
    assert_eq!(names, ["cart-66b8d7c9f5-5mzsq", "cart-66b8d7c9f5-9wkdl"]);

    // metadata watcher sees a live label change
    let meta_api: Api<kube::core::PartialObjectMeta<Pod>> = Api::namespaced(client.clone(), "shop");
    let mut meta_stream = watcher(meta_api, watcher::Config::default().labels("app=cart")).boxed();
    loop {
        if let watcher::Event::InitDone = timeout(meta_stream.try_next()).await.unwrap().unwrap() {
            break;
        }
    }
    pods.patch(
        "cart-66b8d7c9f5-5mzsq",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"canary": "true"}}})),
    )
    .await
    .unwrap();
    match timeout(meta_stream.try_next()).await.unwrap().unwrap() {
        watcher::Event::Apply(m) => assert_eq!(m.metadata.labels.unwrap()["canary"], "true"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn client_from_generated_kubeconfig_and_shutdown_on_drop() {
    let fake = FakeCluster::start().unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        fake.kubeconfig(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(config.default_namespace, "default");
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|n| n.metadata.name.unwrap())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );

    drop(fake);
    let err = timeout(namespaces.list(&ListParams::default())).await;
    assert!(
        err.is_err(),
        "the server is gone once the FakeCluster is dropped"
    );
}
