//! TLS from the builder (`PrometheusToolsBuilder::tls`, built by kagent-core's
//! `http::client_builder`) against Debian's real Prometheus 2.42 serving HTTPS with mutual TLS
//! (`scripts/setup/prometheus.sh`). Certificates are made by the test (rcgen): a CA, a server
//! certificate for 127.0.0.1 and a client certificate, both signed by the CA.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::time::{Duration, Instant};

use kagent_core::message::render_tool_content;
use kagent_core::{TlsOptions, ToolContext, ToolError, Toolset};
use kagent_tools::testing::{PromStack, ServerTls, StackOptions};
use kagent_tools::{BuildError, PrometheusTools};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;

struct Pki {
    ca_pem: String,
    server: ServerTls,
    /// Client certificate and key in one PEM buffer, as `TlsOptions` takes them.
    client_identity_pem: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kagent test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "prometheus");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "kagent");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &issuer).unwrap();

    Pki {
        ca_pem: ca_cert.pem(),
        server: ServerTls {
            cert_pem: server_cert.pem(),
            key_pem: server_key.serialize_pem(),
            client_ca_pem: Some(ca_cert.pem()),
        },
        client_identity_pem: format!("{}{}", client_cert.pem(), client_key.serialize_pem()),
    }
}

async fn call(tools: &Toolset, args: serde_json::Value) -> Result<String, ToolError> {
    tools
        .call("prometheus_query_tool", args, ToolContext::detached("t"))
        .await
        .map(|o| render_tool_content(&o.content))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_options_from_the_builder_reach_a_real_https_prometheus() {
    let pki = pki();
    let stack = PromStack::start(StackOptions {
        pods: 3,
        alertmanager: false,
        prometheus_tls: Some(pki.server.clone()),
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let url = stack.prometheus_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let trusted = TlsOptions::default()
        .with_ca_cert_pem(pki.ca_pem.clone())
        .with_disable_system_cas(true)
        .with_client_identity_pem(pki.client_identity_pem.clone());
    let tools = PrometheusTools::builder(&url)
        .tls(trusted.clone())
        .build()
        .unwrap();

    // The listener is up; Prometheus answers 503 until its storage is open.
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        match call(&tools, json!({"query": "vector(42)"})).await {
            Ok(text) => break text,
            Err(e) => {
                assert!(Instant::now() < deadline, "no answer over TLS: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert!(answer.contains("VALUE\n42"), "{answer}");

    // The same settings on a client the embedder builds and injects.
    let injected = kagent_core::http::client_builder(&trusted)
        .unwrap()
        .build()
        .unwrap();
    let tools_injected = PrometheusTools::builder(&url)
        .http_client(injected)
        .build()
        .unwrap();
    let again = call(&tools_injected, json!({"query": "vector(7)"}))
        .await
        .unwrap();
    assert!(again.contains("VALUE\n7"), "{again}");

    // Without the CA: the server's certificate is not trusted.
    let untrusted = PrometheusTools::builder(&url)
        .tls(TlsOptions::default().with_client_identity_pem(pki.client_identity_pem.clone()))
        .build()
        .unwrap();
    let e = call(&untrusted, json!({"query": "vector(1)"}))
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::Transport { .. }), "{e:?}");
    let msg = e.to_string();
    println!("untrusted server: {msg}");
    assert!(
        msg.contains(&format!("Prometheus at {url}/api/v1/query")),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");

    // With the CA but no client certificate: Prometheus refuses the handshake.
    let anonymous = PrometheusTools::builder(&url)
        .tls(
            TlsOptions::default()
                .with_ca_cert_pem(pki.ca_pem.clone())
                .with_disable_system_cas(true),
        )
        .build()
        .unwrap();
    let e = call(&anonymous, json!({"query": "vector(1)"}))
        .await
        .unwrap_err();
    println!("no client certificate: {e}");
    assert!(matches!(e, ToolError::Transport { .. }), "{e:?}");
    assert!(e.is_fault());

    // TLS options and an injected client together, and TLS settings that cannot work, fail the
    // build with a typed error.
    let both = PrometheusTools::builder(&url)
        .http_client(reqwest::Client::new())
        .tls(TlsOptions::default())
        .build()
        .unwrap_err();
    assert!(matches!(both, BuildError::TlsWithClient { .. }), "{both:?}");
    let bad_pem = PrometheusTools::builder(&url)
        .tls(TlsOptions::default().with_ca_cert_pem("not a certificate"))
        .build()
        .unwrap_err();
    assert!(
        matches!(bad_pem, BuildError::HttpClient { .. }),
        "{bad_pem:?}"
    );
}
