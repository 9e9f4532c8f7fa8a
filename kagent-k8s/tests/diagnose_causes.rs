//! `diagnose` against the fake API server: the decisive log line of the right container (an
//! init container, a failed Job's last attempt) goes into the root cause, and what it points at
//! (the Service behind a cluster IP and port) is followed; logs that say nothing and logs that
//! cannot be read leave the generic cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use kagent_fake_apiserver::FakeCluster;
use kagent_k8s::{DiagnoseOptions, Diagnosis, ResourceCatalog, diagnose};

const NOW: &str = "2025-06-01T12:00:00Z";

const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
# An init container crash-loops on a database login; the main container never started.
apiVersion: v1
kind: Pod
metadata: {name: billing-0, namespace: app, labels: {app: billing}, creationTimestamp: "2025-06-01T11:20:00Z"}
spec:
  initContainers: [{name: migrate, image: billing-migrate:3}]
  containers: [{name: billing, image: billing:3}]
status:
  phase: Pending
  initContainerStatuses:
  - name: migrate
    ready: false
    restartCount: 7
    state: {waiting: {reason: CrashLoopBackOff, message: back-off 5m0s restarting failed container}}
    lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: "2025-06-01T11:58:00Z"}}
  containerStatuses:
  - name: billing
    ready: false
    restartCount: 0
    state: {waiting: {reason: PodInitializing}}
---
apiVersion: testing.kagent.dev/v1
kind: PodLogs
metadata: {name: billing-0, namespace: app}
containers:
- name: migrate
  previous: |
    2025-06-01T11:57:59Z INFO starting migrations
    2025-06-01T11:58:00Z ERROR connect failed: FATAL: password authentication failed for user "billing"
    2025-06-01T11:58:00Z ERROR giving up, exiting
- name: billing
  current: ""
---
# A failed Job: its attempt's log names the cause; the attempt is not a finding of its own.
apiVersion: batch/v1
kind: Job
metadata: {name: export, namespace: app, uid: export-uid, creationTimestamp: "2025-06-01T11:00:00Z"}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {job-name: export}}
    spec:
      restartPolicy: Never
      containers: [{name: export, image: exporter:1}]
status:
  failed: 1
  conditions:
  - {type: Failed, status: "True", reason: BackoffLimitExceeded, message: Job has reached the specified backoff limit, lastTransitionTime: "2025-06-01T11:05:00Z"}
---
apiVersion: v1
kind: Pod
metadata:
  name: export-x7k2p
  namespace: app
  labels: {job-name: export}
  creationTimestamp: "2025-06-01T11:00:00Z"
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: export, uid: export-uid, controller: true}]
spec:
  restartPolicy: Never
  containers: [{name: export, image: exporter:1}]
status:
  phase: Failed
  containerStatuses:
  - name: export
    ready: false
    restartCount: 0
    state: {terminated: {reason: Error, exitCode: 1, finishedAt: "2025-06-01T11:05:00Z"}}
---
apiVersion: testing.kagent.dev/v1
kind: PodLogs
metadata: {name: export-x7k2p, namespace: app}
containers:
- name: export
  current: |
    {"level":"info","msg":"uploading report"}
    {"level":"error","msg":"upload failed","error":"AccessDenied: Access Denied (Service: S3, Status Code: 403)"}
---
# A client crash-loops on a refused connection to a cluster IP; the Service behind it forwards
# to a port its pods do not listen on.
apiVersion: v1
kind: Service
metadata: {name: ledger-db, namespace: app}
spec:
  clusterIP: 10.96.40.12
  selector: {app: ledger-db}
  ports: [{name: pg, port: 5432, targetPort: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: ledger-db-0, namespace: app, labels: {app: ledger-db}}
spec:
  containers:
  - name: postgres
    image: postgres:16
    ports: [{name: pg, containerPort: 5433}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True", lastTransitionTime: "2025-06-01T10:00:00Z"}]
  containerStatuses:
  - {name: postgres, ready: true, restartCount: 0, state: {running: {startedAt: "2025-06-01T10:00:00Z"}}}
---
apiVersion: v1
kind: Pod
metadata: {name: ledger-api-1, namespace: app, labels: {app: ledger-api}}
spec:
  containers: [{name: api, image: ledger-api:2}]
status:
  phase: Running
  containerStatuses:
  - name: api
    ready: false
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {reason: Error, exitCode: 2, finishedAt: "2025-06-01T11:59:00Z"}}
---
apiVersion: testing.kagent.dev/v1
kind: PodLogs
metadata: {name: ledger-api-1, namespace: app}
containers:
- name: api
  previous: |
    level=info msg="listening" addr=:8080
    level=error msg="cannot reach the database" err="dial tcp 10.96.40.12:5432: connect: connection refused"
---
# Logs that say nothing useful, and a pod whose logs are not there at all.
apiVersion: v1
kind: Pod
metadata: {name: quiet-1, namespace: app, labels: {app: quiet}}
spec:
  containers: [{name: quiet, image: quiet:1}]
status:
  phase: Running
  containerStatuses:
  - name: quiet
    ready: false
    restartCount: 3
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: "2025-06-01T11:59:00Z"}}
---
apiVersion: testing.kagent.dev/v1
kind: PodLogs
metadata: {name: quiet-1, namespace: app}
containers:
- name: quiet
  previous: |
    INFO starting
    INFO stopping
---
apiVersion: v1
kind: Pod
metadata: {name: nolog-1, namespace: app, labels: {app: nolog}}
spec:
  containers: [{name: nolog, image: nolog:1}]
status:
  phase: Running
  containerStatuses:
  - name: nolog
    ready: false
    restartCount: 3
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: "2025-06-01T11:59:00Z"}}
"#;

async fn diagnosis(options: DiagnoseOptions) -> (FakeCluster, Diagnosis) {
    let cluster = tokio::task::spawn_blocking(|| {
        let c = FakeCluster::start().expect("fake cluster");
        c.load_yaml_relative(CLUSTER, NOW).expect("objects load");
        c
    })
    .await
    .unwrap();
    let client = cluster.client().unwrap();
    let catalog = ResourceCatalog::new(client.clone());
    let d = diagnose(&client, &catalog, &options).await.unwrap();
    (cluster, d)
}

fn message<'a>(d: &'a Diagnosis, name: &str) -> &'a str {
    d.findings
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no finding on {name}:\n{}", d.render()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decisive_log_line_of_the_right_container_is_the_cause() {
    let (cluster, d) = diagnosis(DiagnoseOptions::default().namespace(Some("app".into()))).await;

    // the init container's log, not the main container's (empty) one
    let billing = message(&d, "billing-0");
    assert!(
        billing.contains("log of migrate:")
            && billing.contains("password authentication failed for user \"billing\""),
        "{billing}"
    );
    assert!(!billing.contains("giving up"), "{billing}");

    // the failed Job says why from its last attempt; the attempt has no finding of its own
    let export = message(&d, "export");
    assert!(
        export.contains("log of export:") && export.contains("AccessDenied"),
        "{export}"
    );
    assert!(
        !d.findings.iter().any(|f| f.name == "export-x7k2p"),
        "{}",
        d.render()
    );

    // a refused connection to a cluster IP leads to the Service and its pods' ports
    let api = message(&d, "ledger-api-1");
    assert!(
        api.contains("connection refused")
            && api.contains(
                "Service ledger-db forwards port 5432 to targetPort 5432, but its pods listen on pg:5433"
            ),
        "{api}"
    );
    // and the Service is a finding of its own
    let svc = d
        .findings
        .iter()
        .find(|f| {
            f.kind == "Service" && f.name == "ledger-db" && f.reason == "TargetPortNotExposed"
        })
        .unwrap_or_else(|| panic!("{}", d.render()));
    assert!(svc.message.contains("listen on pg:5433"), "{}", svc.message);

    // INFO lines only, or no log at all: the generic cause stays, nothing is made up
    let quiet = message(&d, "quiet-1");
    assert!(!quiet.contains("log of"), "{quiet}");
    let nolog = message(&d, "nolog-1");
    assert!(!nolog.contains("log of"), "{nolog}");

    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_logs_the_status_alone_is_reported() {
    let (cluster, d) = diagnosis(
        DiagnoseOptions::default()
            .namespace(Some("app".into()))
            .include_logs(false),
    )
    .await;
    for f in &d.findings {
        assert!(!f.message.contains("log of"), "{}", d.render());
    }
    // the port mismatch is found from the objects alone
    assert!(
        d.findings
            .iter()
            .any(|f| f.name == "ledger-db" && f.reason == "TargetPortNotExposed"),
        "{}",
        d.render()
    );
    drop(cluster);
}
