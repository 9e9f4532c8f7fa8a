//! The NetworkPolicy / Cilium tools end to end against the in-process fake API server with
//! Cilium's CRDs loaded and a scenario of realistic policies (tests/fixtures/netpol.yaml).
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
use kagent_fake_apiserver::FakeCluster;
use kagent_tools::netpol::NetworkPolicyTools;
use serde_json::{Value, json};

const CILIUM_CRDS: &str = include_str!("fixtures/cilium-crds.yaml");
const SCENARIO: &str = include_str!("fixtures/netpol.yaml");

fn cluster(fixtures: &[&str]) -> FakeCluster {
    let fake = FakeCluster::start().unwrap();
    for f in fixtures {
        fake.load_yaml(f).unwrap();
    }
    fake
}

fn tools(fake: &FakeCluster) -> Toolset {
    NetworkPolicyTools::builder(fake.client().unwrap())
        .default_namespace("web")
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

async fn call_err(tools: &Toolset, name: &str, args: Value) -> ToolError {
    tools
        .call(name, args.clone(), ToolContext::detached("t"))
        .await
        .expect_err(&format!("{name} {args} should fail"))
}

fn findings(st: &Option<Value>) -> Vec<Value> {
    st.as_ref().unwrap()["findings"].as_array().unwrap().clone()
}

fn keys(fs: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = fs
        .iter()
        .map(|f| {
            format!(
                "{} {} {}/{}",
                f["name"].as_str().unwrap(),
                f["kind"].as_str().unwrap(),
                f["namespace"].as_str().unwrap_or(""),
                f["object"].as_str().unwrap()
            )
        })
        .collect();
    k.sort();
    k
}

fn text_of(f: &Value) -> String {
    let mut t = format!(
        "{} {}",
        f["message"].as_str().unwrap(),
        f["path"].as_str().unwrap_or("")
    );
    for e in f["evidence"].as_array().into_iter().flatten() {
        t.push('\n');
        t.push_str(e.as_str().unwrap());
    }
    t
}

fn find<'a>(fs: &'a [Value], name: &str, object: &str) -> &'a Value {
    fs.iter()
        .find(|f| f["name"] == name && f["object"] == object)
        .unwrap_or_else(|| panic!("no {name} on {object}: {fs:#?}"))
}

#[tokio::test]
async fn the_analysis_finds_each_gap_across_all_three_kinds() {
    let fake = cluster(&[CILIUM_CRDS, SCENARIO]);
    let t = tools(&fake);
    let (out, st) = call(
        &t,
        "network_policy_analyze",
        json!({"all_namespaces": true}),
    )
    .await;
    let fs = findings(&st);
    assert_eq!(
        keys(&fs),
        vec![
            "EgressToAnyDestination CiliumNetworkPolicy shop/checkout",
            "EgressToAnyDestination CiliumNetworkPolicy shop/open-world",
            "EgressToAnyDestination NetworkPolicy web/egress-all",
            "IngressFromAllNamespaces CiliumNetworkPolicy shop/ingress-cluster",
            "IngressFromAllNamespaces NetworkPolicy web/allow-frontend",
            "NoDefaultDeny Namespace /legacy",
            "NoDefaultDeny Namespace /web",
            "PodsWithoutPolicy Namespace /legacy",
            "PodsWithoutPolicy Namespace /web",
            "PolicySelectsNothing CiliumClusterwideNetworkPolicy /host-firewall",
            "PolicySelectsNothing NetworkPolicy web/allow-monitoring",
        ],
        "{out}"
    );
    // pods no policy selects (the hostNetwork exporter is not on the pod network)
    let p = text_of(find(&fs, "PodsWithoutPolicy", "web"));
    assert!(p.starts_with("1 of 2 pods in namespace web"), "{p}");
    assert!(p.contains("unselected pods: worker-7f6e5d4c3-z9x8c"), "{p}");
    assert!(p.contains("policies in web: NetworkPolicy web/allow-frontend, NetworkPolicy web/allow-monitoring, NetworkPolicy web/egress-all"), "{p}");
    let p = text_of(find(&fs, "PodsWithoutPolicy", "legacy"));
    assert!(
        p.contains("namespace legacy has no NetworkPolicy or CiliumNetworkPolicy"),
        "{p}"
    );
    // namespaces without default deny (and the ones with it are not reported)
    let d = text_of(find(&fs, "NoDefaultDeny", "web"));
    assert!(
        d.contains("no default-deny policy for ingress or egress"),
        "{d}"
    );
    // a policy that selects nothing, with the label values that exist
    let n = text_of(find(&fs, "PolicySelectsNothing", "allow-monitoring"));
    assert!(n.contains("selector app=metrics-exportr"), "{n}");
    assert!(
        n.contains("values of app on pods in namespace web: frontend (1), worker (1)"),
        "{n}"
    );
    let h = text_of(find(&fs, "PolicySelectsNothing", "host-firewall"));
    assert!(h.contains("nodeSelector role=ingress-edge"), "{h}");
    // egress open to everything: an empty rule, the world entity, and a pruned (misspelled) toFQDNs
    let e = text_of(find(&fs, "EgressToAnyDestination", "egress-all"));
    assert!(
        e.contains("egress to any destination on all ports") && e.contains("the rule has no `to`"),
        "{e}"
    );
    assert!(
        e.contains("applies to 1 pods: frontend-5d8c7b6f9-q7w8e"),
        "{e}"
    );
    let e = text_of(find(&fs, "EgressToAnyDestination", "open-world"));
    assert!(
        e.contains("toEntities world") && e.contains("spec.egress[0]"),
        "{e}"
    );
    let e = text_of(find(&fs, "EgressToAnyDestination", "checkout"));
    assert!(
        e.contains("on 443/TCP") && e.contains("names ports but no destination"),
        "{e}"
    );
    // ingress open to all namespaces
    let i = text_of(find(&fs, "IngressFromAllNamespaces", "allow-frontend"));
    assert!(
        i.contains("peer namespaceSelector: {}") && i.contains("on 80/TCP"),
        "{i}"
    );
    let i = text_of(find(&fs, "IngressFromAllNamespaces", "ingress-cluster"));
    assert!(i.contains("fromEntities cluster"), "{i}");
    assert!(
        out.starts_with("11 findings in all namespaces (0 errors, 11 warnings, 0 info)"),
        "{out}"
    );

    // scoped to one namespace; payments is clean
    let (out, st) = call(
        &t,
        "network_policy_analyze",
        json!({"namespace": "payments"}),
    )
    .await;
    assert!(findings(&st).is_empty(), "{out}");
    assert!(
        out.starts_with("No network policy problems found in namespace payments."),
        "{out}"
    );
    let (_, st) = call(&t, "network_policy_analyze", json!({})).await;
    assert_eq!(findings(&st).len(), 5, "web (the default namespace) only");
    let e = call_err(&t, "network_policy_analyze", json!({"namespace": "ghost"})).await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn policies_are_listed_compactly() {
    let fake = cluster(&[CILIUM_CRDS, SCENARIO]);
    let t = tools(&fake);
    let (out, _) = call(&t, "network_policy_list", json!({"namespace": "payments"})).await;
    for needle in [
        "== NetworkPolicy (3 in namespace payments)",
        "default-deny  <all>",
        "Ingress,Egress",
        "ns(kubernetes.io/metadata.name=web)/pods(app=frontend) :8080/TCP",
        "ns(kubernetes.io/metadata.name=kube-system)/pods(k8s-app=kube-dns) :53/UDP,53/TCP",
        "== CiliumNetworkPolicy (0 in namespace payments)",
        "== CiliumClusterwideNetworkPolicy (2 cluster-wide)",
        "nodes: role=ingress-edge",
        "out: cidr(169.254.169.254/32)",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    let (out, _) = call(
        &t,
        "network_policy_list",
        json!({"resource_type": "cnp", "all_namespaces": true}),
    )
    .await;
    assert!(
        out.contains("NAMESPACE") && out.contains("shop       api-egress"),
        "{out}"
    );
    assert!(out.contains("fqdn(api.stripe.com) :443/TCP"), "{out}");
    assert!(out.contains("dns(*)"), "{out}");
    assert!(out.contains("http(GET /api/.*)"), "{out}");
    let (one, _) = call(
        &t,
        "network_policy_list",
        json!({"resource_type": "ccnp", "resource_name": "host-firewall"}),
    )
    .await;
    assert!(
        one.contains("nodeSelector:") && one.contains("ingress-edge"),
        "{one}"
    );
    let e = call_err(&t, "network_policy_list", json!({"resource_type": "pods"})).await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &t,
        "network_policy_list",
        json!({"resource_type": "np", "resource_name": "nope"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
    for (name, args) in [
        ("network_policy_list", json!({"namespace": "web/x"})),
        ("network_policy_analyze", json!({"namespace": "Web"})),
        (
            "network_policy_create_default_deny",
            json!({"namespace": "web", "name": "deny all"}),
        ),
    ] {
        let e = call_err(&t, name, args.clone()).await;
        assert!(
            matches!(e, ToolError::InvalidArguments { .. })
                && e.to_string().contains("is not a valid"),
            "{name} {args}: {e:?}"
        );
    }
}

#[tokio::test]
async fn cilium_policies_are_validated_structurally() {
    let fake = cluster(&[CILIUM_CRDS, SCENARIO]);
    let t = tools(&fake);
    let (out, st) = call(
        &t,
        "cilium_validate_cilium_network_policies",
        json!({"namespace": "shop", "enable_k8s": true}),
    )
    .await;
    assert!(
        out.starts_with(
            "Checked 7 Cilium policies in namespace shop (and cluster-wide): 6 valid, 1 with errors"
        ),
        "{out}"
    );
    let fs = findings(&st);
    let all: String = fs
        .iter()
        .map(|f| {
            format!(
                "{} {}: {}\n",
                f["path"].as_str().unwrap_or(""),
                f["name"],
                f["message"]
            )
        })
        .collect();
    for needle in [
        "spec.ingress[0] \"InvalidPolicy\": \"Combining FromEndpoints and FromCIDR is not supported yet\"",
        "spec.ingress[1].toPorts[0].rules \"InvalidPolicy\": \"L7 rules can only apply to TCP (not UDP) except for DNS rules\"",
        "spec.egress[0].toFqdns \"UnknownField\": \"unknown field \\\"toFqdns\\\" in egress rule (did you mean \\\"toFQDNs\\\"?)",
        "spec.ingress[0] \"EmptyRule\"",
    ] {
        assert!(all.contains(needle), "missing {needle}:\n{all}");
    }
    assert!(
        fs.iter()
            .filter(|f| f["level"] == "error")
            .all(|f| f["object"] == "checkout"),
        "{all}"
    );
    assert_eq!(
        st.unwrap()["invalid"],
        json!(["CiliumNetworkPolicy shop/checkout"])
    );

    let (out, _) = call(
        &t,
        "cilium_validate_cilium_network_policies",
        json!({"namespace": "shop", "policy_name": "api-egress"}),
    )
    .await;
    assert!(out.starts_with("Checked 1 Cilium policies"), "{out}");
    assert!(out.contains("1 valid, 0 with errors."), "{out}");
    let e = call_err(
        &t,
        "cilium_validate_cilium_network_policies",
        json!({"namespace": "shop", "policy_name": "nope"}),
    )
    .await;
    assert!(
        matches!(e, ToolError::NotFound { .. }) && e.to_string().contains("api-egress"),
        "{e:?}"
    );

    // a manifest before it is applied: toFQDNs without DNS visibility, a bad CIDR, an unknown entity
    let manifest = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: new-egress, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: checkout}}
  egress:
  - toFQDNs: [{matchPattern: "*.stripe.com"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
  - toCIDR: ["10.0.0.300/8"]
  - toEntities: [internet]
---
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: fine}
spec:
  endpointSelector: {}
  egressDeny:
  - toCIDRSet: [{cidr: 169.254.0.0/16, except: [169.254.1.0/24]}]
"#;
    let (out, st) = call(
        &t,
        "cilium_validate_cilium_network_policies",
        json!({"manifest": manifest}),
    )
    .await;
    assert!(
        out.starts_with("Checked 2 documents of the manifest: 1 valid, 1 with errors"),
        "{out}"
    );
    let all: String = findings(&st)
        .iter()
        .map(|f| format!("{}: {}\n", f["name"], f["message"].as_str().unwrap()))
        .collect();
    assert!(all.contains("FQDNWithoutDNSVisibility"), "{all}");
    assert!(
        all.contains("unable to parse CIDR: \"10.0.0.300/8\""),
        "{all}"
    );
    assert!(all.contains("unsupported entity: internet"), "{all}");
    let e = call_err(
        &t,
        "cilium_validate_cilium_network_policies",
        json!({"manifest": "{{{"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");

    // a cluster without Cilium
    let plain = cluster(&[]);
    let t = tools(&plain);
    let e = call_err(&t, "cilium_validate_cilium_network_policies", json!({})).await;
    assert!(
        matches!(e, ToolError::NotFound { .. }) && e.to_string().contains("Cilium's CRDs"),
        "{e:?}"
    );
    let (out, _) = call(&t, "network_policy_list", json!({})).await;
    assert!(
        out.contains(
            "not served by this cluster: CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy"
        ),
        "{out}"
    );
    let (out, _) = call(
        &t,
        "network_policy_analyze",
        json!({"namespace": "default"}),
    )
    .await;
    assert!(
        out.contains("note: not served by this cluster: CiliumNetworkPolicy"),
        "{out}"
    );
}

#[tokio::test]
async fn default_deny_is_previewed_then_applied() {
    let fake = cluster(&[CILIUM_CRDS, SCENARIO]);
    let t = tools(&fake);
    fake.clear_requests();
    let (out, st) = call(
        &t,
        "network_policy_create_default_deny",
        json!({"namespace": "web", "policy_types": "Ingress,Egress", "dry_run": true}),
    )
    .await;
    assert!(out.starts_with("DRY RUN (server-side, nothing changed): would be networkpolicy.networking.k8s.io/default-deny created in namespace web"), "{out}");
    assert!(
        out.contains("2 pods in web become isolated for Ingress and Egress"),
        "{out}"
    );
    assert!(
        out.contains("so they will receive nothing: worker-7f6e5d4c3-z9x8c"),
        "{out}"
    );
    assert!(
        out.contains("so they will send nothing but DNS: worker-7f6e5d4c3-z9x8c"),
        "{out}"
    );
    assert!(out.contains("+    - port: 53"), "{out}");
    assert_eq!(
        st.unwrap()["no_ingress_allowed"],
        json!(["worker-7f6e5d4c3-z9x8c"])
    );
    for r in fake.requests().iter().filter(|r| r.method != "GET") {
        assert!(r.query.contains("dryRun=All"), "{r:?}");
    }
    assert!(
        fake.get_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "web",
            "default-deny"
        )
        .is_none()
    );

    let (out, _) = call(
        &t,
        "network_policy_create_default_deny",
        json!({"namespace": "legacy"}),
    )
    .await;
    assert!(
        out.starts_with(
            "networkpolicy.networking.k8s.io/default-deny-ingress created in namespace legacy"
        ),
        "{out}"
    );
    let stored = fake
        .get_object(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            "legacy",
            "default-deny-ingress",
        )
        .unwrap();
    assert_eq!(stored["spec"]["policyTypes"], json!(["Ingress"]));
    let (_, st) = call(&t, "network_policy_analyze", json!({"namespace": "legacy"})).await;
    let left: Vec<String> = findings(&st)
        .iter()
        .map(|f| format!("{} {}", f["name"], f["message"]))
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].contains("NoDefaultDeny") && left[0].contains("for egress"),
        "{left:?}"
    );

    let e = call_err(
        &t,
        "network_policy_create_default_deny",
        json!({"namespace": "web", "policy_types": "Sideways"}),
    )
    .await;
    assert!(matches!(e, ToolError::InvalidArguments { .. }), "{e:?}");
    let e = call_err(
        &t,
        "network_policy_create_default_deny",
        json!({"namespace": "ghost"}),
    )
    .await;
    assert!(matches!(e, ToolError::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn read_only_mode_effects_and_an_unreachable_api_server() {
    let fake = cluster(&[CILIUM_CRDS]);
    let all = tools(&fake);
    let ro = NetworkPolicyTools::builder(fake.client().unwrap())
        .read_only(true)
        .build()
        .unwrap();
    assert!(
        all.contains("network_policy_create_default_deny")
            && !ro.contains("network_policy_create_default_deny")
    );
    for spec in all.specs() {
        let want = kagent_tools::netpol::TOOLS
            .iter()
            .find(|(n, _)| *n == spec.name)
            .unwrap()
            .1;
        assert_eq!(spec.effect, want, "{}", spec.name);
    }
    assert_eq!(
        ro.specs()
            .iter()
            .filter(|s| s.effect != ToolEffect::ReadOnly)
            .count(),
        0
    );
    // kagent's argument names for the Cilium validation
    let schema = all
        .get("cilium_validate_cilium_network_policies")
        .unwrap()
        .spec()
        .input_schema
        .to_string();
    for arg in ["enable_k8s", "enable_k8s_api_discovery", "node_name"] {
        assert!(schema.contains(arg), "{arg}: {schema}");
    }

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
    config.default_retry = false;
    config.connect_timeout = Some(Duration::from_secs(2));
    let t = NetworkPolicyTools::builder(kube::Client::try_from(config).unwrap())
        .build()
        .unwrap();
    for (name, args) in [
        ("network_policy_analyze", json!({"namespace": "web"})),
        ("network_policy_list", json!({})),
        ("cilium_validate_cilium_network_policies", json!({})),
        (
            "network_policy_create_default_deny",
            json!({"namespace": "web", "dry_run": true}),
        ),
    ] {
        let e = call_err(&t, name, args).await;
        assert!(e.is_fault(), "{name}: {e:?}");
    }
}
