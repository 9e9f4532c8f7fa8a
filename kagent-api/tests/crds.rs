//! The generated CRDs: kagent's names, columns, field paths, defaults, enums, required fields,
//! bounds and CEL rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::collections::BTreeSet;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

const SKIP_SUBTREES: &[&str] = &[
    "volumes",
    "volumeMounts",
    "env",
    "envFrom",
    "resources",
    "tolerations",
    "affinity",
    "topologySpreadConstraints",
    "securityContext",
    "podSecurityContext",
    "extraContainers",
    "imagePullSecrets",
    "initContainer",
    "gitAuthSecretRef",
    "selector",
    "endpointFrom",
    "conditions",
    "lastDiscoveryTime",
    "additionalModelRequestFields",
];

/// The same listing as tests/fixtures/kagent-crd-fields.txt, from a generated schema.
fn walk(s: &Value, p: &str, out: &mut Vec<String>) {
    let mut attrs = Vec::new();
    if let Some(d) = s.get("default") {
        attrs.push(format!("default={d}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        let vals: Vec<String> = e
            .iter()
            .filter(|v| !v.is_null())
            .map(ToString::to_string)
            .collect();
        attrs.push(format!("enum={}", vals.join("|")));
    }
    if let Some(r) = s
        .get("required")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
    {
        let mut names: Vec<&str> = r.iter().map(|v| v.as_str().unwrap()).collect();
        names.sort_unstable();
        attrs.push(format!("required={}", names.join(",")));
    }
    for k in [
        "maxItems",
        "minItems",
        "minLength",
        "maxLength",
        "minimum",
        "pattern",
    ] {
        if let Some(v) = s.get(k) {
            let v = match v.as_f64() {
                Some(f) if !v.is_string() => format!("{}", f as i64),
                _ => v.to_string(),
            };
            attrs.push(format!("{k}={v}"));
        }
    }
    if let Some(c) = s.get("x-kubernetes-validations").and_then(Value::as_array) {
        attrs.push(format!("cel={}", c.len()));
    }
    out.push(format!("{p} {}", attrs.join(" ")).trim_end().to_string());
    let last = p.trim_end_matches("[]").rsplit('.').next().unwrap();
    if SKIP_SUBTREES.contains(&last) && p.matches('.').count() > 1 {
        return;
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, c) in props {
            walk(c, &format!("{p}.{k}"), out);
        }
    }
    if let Some(items) = s.get("items") {
        walk(items, &format!("{p}[]"), out);
    }
}

fn listing(crd: &CustomResourceDefinition) -> BTreeSet<String> {
    let v = serde_json::to_value(crd).unwrap();
    let schema = &v["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let mut out = Vec::new();
    for k in ["spec", "status"] {
        if let Some(s) = schema["properties"].get(k) {
            walk(s, &format!(".{k}"), &mut out);
        }
    }
    out.into_iter().collect()
}

fn kagent_listing(kind: &str) -> BTreeSet<String> {
    let text = include_str!("fixtures/kagent-crd-fields.txt");
    let mut in_kind = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(k) = line.strip_prefix('[') {
            in_kind = k.trim_end_matches(']') == kind;
            continue;
        }
        if in_kind {
            out.insert(line.to_string());
        }
    }
    assert!(!out.is_empty(), "{kind}");
    out
}

#[test]
fn field_listing_matches_kagents_crds() {
    let mut report = String::new();
    for crd in kagent_api::crd::crds() {
        let kind = crd.spec.names.kind.clone();
        let ours = listing(&crd);
        let theirs = kagent_listing(&kind);
        for only in theirs.difference(&ours) {
            report.push_str(&format!("{kind} kagent only: {only}\n"));
        }
        for only in ours.difference(&theirs) {
            report.push_str(&format!("{kind} ours only:   {only}\n"));
        }
    }
    // k8s-openapi's LocalObjectReference and ConfigMapKeySelector require `name`; the Go types
    // kagent generates its CRDs from default it to "".
    let known = "\
Agent kagent only: .spec.skills.gitAuthSecretRef
Agent ours only:   .spec.skills.gitAuthSecretRef required=name
ModelConfig kagent only: .spec.foundry.endpointFrom required=key
ModelConfig ours only:   .spec.foundry.endpointFrom required=key,name
";
    assert_eq!(report, known);
}

#[test]
fn names_columns_and_subresources_are_kagents() {
    let yaml = kagent_api::crd::crds_yaml().unwrap();
    let crds: Vec<CustomResourceDefinition> = serde_yaml::Deserializer::from_str(&yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let summary: Vec<(String, String, Vec<String>, Vec<String>, Vec<String>)> = crds
        .iter()
        .map(|c| {
            let v = &c.spec.versions[0];
            assert_eq!(c.spec.group, "kagent.dev");
            assert_eq!(c.spec.scope, "Namespaced");
            assert_eq!(
                (v.name.as_str(), v.served, v.storage),
                ("v1alpha2", true, true)
            );
            assert!(v.subresources.as_ref().unwrap().status.is_some());
            (
                c.metadata.name.clone().unwrap(),
                c.spec.names.kind.clone(),
                c.spec.names.short_names.clone().unwrap_or_default(),
                c.spec.names.categories.clone().unwrap_or_default(),
                v.additional_printer_columns
                    .iter()
                    .flatten()
                    .map(|p| format!("{}={}", p.name, p.json_path))
                    .collect(),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        summary,
        [
            (
                "agents.kagent.dev".into(),
                "Agent".into(),
                vec![],
                s(&["kagent"]),
                s(&[
                    "Type=.spec.type",
                    "Runtime=.spec.declarative.runtime",
                    "Ready=.status.conditions[?(@.type=='Ready')].status",
                    "Accepted=.status.conditions[?(@.type=='Accepted')].status",
                ])
            ),
            (
                "modelconfigs.kagent.dev".into(),
                "ModelConfig".into(),
                s(&["mc"]),
                s(&["kagent"]),
                s(&["Provider=.spec.provider", "Model=.spec.model"])
            ),
            (
                "remotemcpservers.kagent.dev".into(),
                "RemoteMCPServer".into(),
                s(&["rmcps"]),
                s(&["kagent"]),
                s(&[
                    "Protocol=.spec.protocol",
                    "URL=.spec.url",
                    "Accepted=.status.conditions[?(@.type=='Accepted')].status"
                ])
            ),
            (
                "modelproviderconfigs.kagent.dev".into(),
                "ModelProviderConfig".into(),
                s(&["mprov"]),
                s(&["kagent"]),
                s(&[
                    "Type=.spec.type",
                    "Endpoint=.spec.endpoint",
                    "Models=.status.modelCount",
                    "Ready=.status.conditions[?(@.type=='Ready')].status",
                    "Age=.metadata.creationTimestamp"
                ])
            ),
        ]
    );
    // required string fields carry no schema default of ""
    assert!(
        !yaml.contains("default: ''"),
        "a required field kept a default"
    );
}
