"""RBAC, autoscaling, jobs, rollouts and observability scenarios."""
from common import *  # noqa: F403
from s_network import simple_app


def hpa(cl, name, target, minr, maxr, current, desired, conditions, metrics=None, current_metrics=None, age=60 * DAY,
        last_scale=None):
    st = {"currentReplicas": current, "desiredReplicas": desired, "conditions": conditions}
    if last_scale:
        st["lastScaleTime"] = ts(last_scale)
    if current_metrics is not None:
        st["currentMetrics"] = current_metrics
    return cl.add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                   "metadata": cl.meta("HorizontalPodAutoscaler", name, age=age),
                   "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                            "minReplicas": minr, "maxReplicas": maxr,
                            "metrics": metrics or [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
                   "status": st})


def hcond(type_, status, reason, message, at):
    return {"type": type_, "status": status, "lastTransitionTime": ts(at), "reason": reason, "message": message}


# ============================================================================ rbac
@scenario("clusterrole-missing-pods", "rbac", "easy", 1,
          task="kube-state-exporter in namespace monitoring crash-loops after its upgrade. Why?",
          root_cause="Its ServiceAccount may not list pods: the upgraded exporter lists pods at cluster scope and the "
                     "API server answers 403 (pods is forbidden ... cannot list resource \"pods\"), because ClusterRole "
                     "kube-state-exporter grants nodes, namespaces and deployments but not pods.",
          must=[["forbidden", "RBAC", "permission", "not allowed", "cannot list", "403"], ["pods"]],
          affected=["Deployment/kube-state-exporter", "ReplicaSet/kube-state-exporter-*", "Pod/kube-state-exporter-*",
                    "ClusterRole/kube-state-exporter", "ClusterRoleBinding/kube-state-exporter"],
          namespace="monitoring")
def clusterrole_missing():
    cl = Cluster("monitoring")
    background(cl, 0)
    cl.service_account("kube-state-exporter")
    cl.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "kube-state-exporter", "uid": uid("ClusterRole", "", "kube-state-exporter"),
                         "creationTimestamp": ts(100 * DAY)},
            "rules": [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["get", "list", "watch"]},
                      {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets"], "verbs": ["list", "watch"]}]})
    cl.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "kube-state-exporter", "uid": uid("ClusterRoleBinding", "", "kube-state-exporter"),
                         "creationTimestamp": ts(100 * DAY)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kube-state-exporter"},
            "subjects": [{"kind": "ServiceAccount", "name": "kube-state-exporter", "namespace": "monitoring"}]})
    c = cl.container("exporter", "ghcr.io/acme/kube-state-exporter:2.0.0", ports=[("metrics", 9100)])
    rs = rs_name("kube-state-exporter", "monitoring", "5")
    log = "\n".join([
        f"I{klog_ts(0.8)}       1 main.go:112] \"Starting kube-state-exporter\" version=\"v2.0.0\"",
        f"I{klog_ts(0.8)}       1 main.go:140] \"Collectors enabled\" collectors=[\"deployments\",\"nodes\",\"pods\"]",
        f"W{klog_ts(0.78)}       1 reflector.go:561] k8s.io/client-go@v0.31.3/tools/cache/reflector.go:243: failed to list *v1.Pod: pods is forbidden: User \"system:serviceaccount:monitoring:kube-state-exporter\" cannot list resource \"pods\" in API group \"\" at the cluster scope",
        f"E{klog_ts(0.78)}       1 reflector.go:158] \"Unhandled Error\" err=\"k8s.io/client-go@v0.31.3/tools/cache/reflector.go:243: Failed to watch *v1.Pod: failed to list *v1.Pod: pods is forbidden: User \\\"system:serviceaccount:monitoring:kube-state-exporter\\\" cannot list resource \\\"pods\\\" in API group \\\"\\\" at the cluster scope\" logger=\"UnhandledError\"",
        f"E{klog_ts(0.5)}       1 main.go:171] \"Informer caches did not sync\" err=\"timed out waiting for caches to sync\"",
    ]) + "\n"
    pods = crashloop_pods(cl, "kube-state-exporter", rs, c, 1, restarts=7, previous_log=log, age=26)
    cl.deployment("kube-state-exporter", [c], 1, pods, rs_hash=rs, revision="5", generation=5, age=100 * DAY,
                  template_extra={"sa": "kube-state-exporter"},
                  conditions=cl.deploy_conditions(100 * DAY, f"kube-state-exporter-{rs}", available=False, available_since=25))
    return cl


def klog_ts(m):
    from k8s import klog_ts as k
    return k(m)


@scenario("rolebinding-wrong-namespace", "rbac", "hard", 2,
          task="The deploy job in namespace ci fails every time since the pipeline moved to its own namespace. Why?",
          root_cause="RoleBinding deployer in namespace shop grants Role deployer to ServiceAccount deployer in "
                     "namespace default, but the job now runs as ci:deployer: its patch of deployment storefront is "
                     "forbidden. The binding's subject namespace must be ci.",
          must=[["RoleBinding", "role binding", "binding", "subject"], ["namespace:? ?\"?default", "default namespace", "ci:deployer", "namespace ci", "\\bci\\b"]],
          affected=["Job/deploy-storefront-*", "Pod/deploy-storefront-*", "RoleBinding/deployer"],
          namespace=None)
def rolebinding_wrong_ns():
    cl = Cluster("ci")
    cl.namespace("shop", {"team": "commerce"})
    background(cl, 1, ns="shop")
    simple_app(cl, "storefront", "ghcr.io/acme/storefront:9.4.0", 3000, replicas=2, ns="shop")
    cl.service_account("deployer", ns="ci")
    cl.service_account("deployer", ns="default")
    cl.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": cl.meta("Role", "deployer", ns="shop", age=200 * DAY),
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch", "update"]}]})
    cl.add({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": cl.meta("RoleBinding", "deployer", ns="shop", age=200 * DAY),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "default"}]})
    c = cl.container("deploy", "bitnami/kubectl:1.31.4",
                     command=["kubectl", "-n", "shop", "set", "image", "deployment/storefront",
                              "storefront=ghcr.io/acme/storefront:9.5.0"])
    log = ("Error from server (Forbidden): deployments.apps \"storefront\" is forbidden: User "
           "\"system:serviceaccount:ci:deployer\" cannot patch resource \"deployments\" in API group \"apps\" in the "
           "namespace \"shop\"\n")
    for k, at in enumerate([95, 40]):
        jn = f"deploy-storefront-{4811 + k}"
        c2 = dict(c)
        cl.job(jn, c2, False, at, fail_log=log, backoff=1, ns="ci")
        for d in cl.docs:
            if d["kind"] in ("Job",) and d["metadata"]["name"] == jn:
                d["spec"]["template"]["spec"]["serviceAccountName"] = "deployer"
            if d["kind"] == "Pod" and d["metadata"]["name"].startswith(jn):
                d["spec"]["serviceAccountName"] = "deployer"
                d["spec"]["serviceAccount"] = "deployer"
    return cl


@scenario("serviceaccount-missing", "rbac", "medium", 2,
          task="otel-collector in namespace telemetry has no pods at all. Why?",
          root_cause="The ReplicaSet cannot create pods: ServiceAccount otel-collector does not exist in namespace "
                     "telemetry (error looking up service account telemetry/otel-collector: serviceaccount "
                     "\"otel-collector\" not found).",
          must=[["service ?account"], ["otel-collector"], ["not found", "missing", "does not exist", "doesn't exist"]],
          affected=["Deployment/otel-collector", "ReplicaSet/otel-collector-*", "Service/otel-collector",
                    "Endpoints/otel-collector"],
          namespace="telemetry")
def sa_missing():
    cl = Cluster("telemetry")
    background(cl, 3)
    c = cl.container("otel-collector", "otel/opentelemetry-collector-contrib:0.115.1",
                     ports=[("otlp-grpc", 4317), ("otlp-http", 4318)], args=["--config=/conf/config.yaml"])
    rs = rs_name("otel-collector", "telemetry")
    msg = (f'Error creating: pods "otel-collector-{rs}-" is forbidden: error looking up service account '
           f'telemetry/otel-collector: serviceaccount "otel-collector" not found')
    cl.deployment("otel-collector", [c], 2, [], rs_hash=rs, age=48, template_extra={"sa": "otel-collector"},
                  status={"observedGeneration": 1, "unavailableReplicas": 2},
                  conditions=[
                      {"type": "Available", "status": "False", "lastUpdateTime": ts(48), "lastTransitionTime": ts(48),
                       "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
                      {"type": "ReplicaFailure", "status": "True", "lastUpdateTime": ts(48), "lastTransitionTime": ts(48),
                       "reason": "FailedCreate", "message": msg},
                      {"type": "Progressing", "status": "False", "lastUpdateTime": ts(38), "lastTransitionTime": ts(38),
                       "reason": "ProgressDeadlineExceeded", "message": f'ReplicaSet "otel-collector-{rs}" has timed out progressing.'}])
    for d in cl.docs:
        if d["kind"] == "ReplicaSet" and d["metadata"]["name"] == f"otel-collector-{rs}":
            d["spec"]["replicas"] = 2
            d["status"] = {"replicas": 0, "observedGeneration": 1,
                           "conditions": [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": ts(48),
                                           "reason": "FailedCreate", "message": msg}]}
    cl.event("ReplicaSet", f"otel-collector-{rs}", "FailedCreate", msg, type_="Warning", count=16, first=48, last=3,
             component="replicaset-controller", api="apps/v1")
    cl.service("otel-collector", {"app": "otel-collector"}, [("otlp-grpc", 4317, "otlp-grpc")], age=48)
    cl.endpoints("otel-collector", [], [], age=48)
    return cl


# ============================================================================ autoscaling
@scenario("hpa-missing-cpu-request", "autoscaling", "medium", 1,
          task="public-api in namespace api does not scale up under load although CPU is high. Why?",
          root_cause="The HPA cannot compute CPU utilization: the envoy sidecar in the public-api pods has no CPU "
                     "request (missing request for cpu in container envoy), so ScalingActive is False.",
          must=[["request"], ["envoy"]],
          affected=["HorizontalPodAutoscaler/public-api", "Deployment/public-api", "ReplicaSet/public-api-*", "Pod/public-api-*"],
          namespace="api")
def hpa_missing_request():
    cl = Cluster("api")
    background(cl, 1)
    app = cl.container("public-api", "ghcr.io/acme/public-api:8.1.0", ports=[("http", 8080)],
                       requests={"cpu": "500m", "memory": "512Mi"}, readiness=probe_http("/ready", "http"))
    envoy = cl.container("envoy", "envoyproxy/envoy:v1.32.3", ports=[("proxy", 10000)], requests=False,
                         limits={"memory": "256Mi"})
    rs = rs_name("public-api", "api", "11")
    pods = []
    for i in range(3):
        node = cl.node_names[i]
        pods.append({"sfx": suffix(f"api/public-api/{i}"), "node": node, "phase": "Running", "age": 5 * 60,
                     "statuses": [cl.cs_running(envoy, 5 * 60), cl.cs_running(app, 5 * 60)],
                     "conditions": cl.conds_ready(5 * 60)})
    names = cl.deployment("public-api", [app, envoy], 3, pods, rs_hash=rs, revision="11", generation=11, age=200 * DAY)
    first = names[0]
    msg = f"missing request for cpu in container envoy of Pod {first}"
    hpa(cl, "public-api", "public-api", 3, 12, 3, 3, [
        hcond("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale", 200 * DAY),
        hcond("ScalingActive", "False", "FailedGetResourceMetric",
              f"the HPA was unable to compute the replica count: failed to get cpu utilization: {msg}", 5 * 60 - 1)],
        current_metrics=[{"type": ""}] if False else None, age=200 * DAY, last_scale=3 * DAY)
    cl.event("HorizontalPodAutoscaler", "public-api", "FailedGetResourceMetric", f"failed to get cpu utilization: {msg}",
             type_="Warning", count=600, first=5 * 60 - 1, last=0.2, component="horizontal-pod-autoscaler",
             api="autoscaling/v2")
    cl.event("HorizontalPodAutoscaler", "public-api", "FailedComputeMetricsReplicas",
             f"invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: {msg}",
             type_="Warning", count=600, first=5 * 60 - 1, last=0.2, component="horizontal-pod-autoscaler",
             api="autoscaling/v2")
    cl.service("public-api", {"app": "public-api"}, [("http", 80, "proxy")], age=200 * DAY)
    endpoints_for(cl, "public-api", "public-api", rs, pods, [("http", 10000)], age=200 * DAY)
    return cl


@scenario("hpa-at-max-replicas", "autoscaling", "easy", 1,
          task="The web tier in namespace sale is slow during today's sale: p95 latency tripled in the last half hour. What is going on?",
          root_cause="HPA web is pinned at its maximum of 6 replicas (ScalingLimited: TooManyReplicas) while CPU "
                     "utilization is 182% of the 70% target: it cannot add capacity; raise maxReplicas.",
          must=[["maxReplicas", "maximum", "max(imum)? (of )?(6 )?replicas", "at (its )?max", "TooManyReplicas", "ScalingLimited"]],
          affected=["HorizontalPodAutoscaler/web", "Deployment/web"],
          namespace="sale")
def hpa_at_max():
    cl = Cluster("sale")
    background(cl, 2)
    c = cl.container("web", "ghcr.io/acme/web:1.8.2", ports=[("http", 8080)],
                     requests={"cpu": "500m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "512Mi"},
                     readiness=probe_http("/ready", "http"))
    rs = rs_name("web", "sale", "3")
    pods = ready_pods(cl, "web", rs, c, 6, age=3 * DAY)
    for p in pods[2:]:
        p["age"] = 31
        p["statuses"] = [cl.cs_running(c, 31)]
        p["conditions"] = cl.conds_ready(31)
    cl.deployment("web", [c], 6, pods, rs_hash=rs, revision="3", generation=9, age=90 * DAY)
    hpa(cl, "web", "web", 2, 6, 6, 6, [
        hcond("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", 29),
        hcond("ScalingActive", "True", "ValidMetricFound",
              "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", 90 * DAY),
        hcond("ScalingLimited", "True", "TooManyReplicas", "the desired replica count is more than the maximum replica count", 29)],
        current_metrics=[{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 182, "averageValue": "911m"}}}],
        age=90 * DAY, last_scale=31)
    cl.event("HorizontalPodAutoscaler", "web", "SuccessfulRescale",
             "New size: 6; reason: cpu resource utilization (percentage of request) above target",
             component="horizontal-pod-autoscaler", first=31, api="autoscaling/v2")
    cl.service("web", {"app": "web"}, [("http", 80, "http")], age=90 * DAY)
    endpoints_for(cl, "web", "web", rs, pods, [("http", 8080)], age=90 * DAY)
    return cl


@scenario("hpa-target-renamed", "autoscaling", "easy", 1,
          task="The catalog service in namespace catalog stopped autoscaling after last week's rename. Why?",
          root_cause="HPA catalog-api still targets Deployment catalog-api, which no longer exists (the Deployment is "
                     "now called catalog): FailedGetScale, deployments/scale.apps \"catalog-api\" not found.",
          must=[["catalog-api"], ["not found", "does not exist", "doesn't exist", "missing", "no such", "renamed", "no longer exists"]],
          affected=["HorizontalPodAutoscaler/catalog-api"],
          namespace="catalog")
def hpa_target_renamed():
    cl = Cluster("catalog")
    background(cl, 3)
    simple_app(cl, "catalog-svc", "ghcr.io/acme/catalog:2.7.0", 8080, replicas=3, age=6 * DAY)
    hpa(cl, "catalog-api", "catalog-api", 3, 10, 0, 0, [
        hcond("AbleToScale", "False", "FailedGetScale",
              "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"catalog-api\" not found",
              6 * DAY)], age=300 * DAY, last_scale=9 * DAY)
    cl.event("HorizontalPodAutoscaler", "catalog-api", "FailedGetScale", 'deployments/scale.apps "catalog-api" not found',
             type_="Warning", count=2100, first=6 * DAY, last=0.5, component="horizontal-pod-autoscaler",
             api="autoscaling/v2")
    return cl


# ============================================================================ jobs
@scenario("job-backoff-db-role", "jobs", "easy", 1,
          task="The monthly report job in namespace reporting failed. Why?",
          root_cause="Every pod of Job monthly-report-2025-05 exits 2 because PostgreSQL rejects the login: role "
                     "\"report_writer\" does not exist; the Job reached its backoff limit.",
          must=[["report_writer"], ["does not exist", "doesn't exist", "missing", "no such role", "not exist"]],
          affected=["Job/monthly-report-2025-05", "Pod/monthly-report-2025-05-*"],
          namespace="reporting")
def job_backoff():
    cl = Cluster("reporting")
    background(cl, 0)
    c = cl.container("report", "ghcr.io/acme/reports:2025.5.0", command=["/bin/sh", "-c", "./run-report.sh monthly"],
                     env=[{"name": "PGHOST", "value": "warehouse-db.reporting.svc.cluster.local"},
                          {"name": "PGUSER", "value": "report_writer"}])
    log = "\n".join([
        f"{log_ts(30)} run-report: building monthly report for 2025-05",
        'psql: error: connection to server at "warehouse-db.reporting.svc.cluster.local" (10.100.18.77), port 5432 failed: FATAL:  role "report_writer" does not exist',
        f"{log_ts(30)} run-report: query step 'load_orders' failed (exit 2)",
    ]) + "\n"
    cl.job("monthly-report-2025-05", c, False, 40, fail_log=log, backoff=3, fail_exit=2)
    return cl


@scenario("cronjob-s3-access-denied", "jobs", "medium", 1,
          task="Database backups in namespace backup have not succeeded for two days. Why?",
          root_cause="The db-backup CronJob's pods fail to upload the dump: S3 PutObject is denied (AccessDenied) for the "
                     "IRSA role db-backup-irsa on bucket acme-backups, so every run exits 1.",
          must=[["AccessDenied", "access denied", "not authorized", "PutObject", "s3:PutObject"]],
          affected=["CronJob/db-backup", "Job/db-backup-*", "Pod/db-backup-*"],
          namespace="backup")
def cronjob_s3():
    cl = Cluster("backup")
    background(cl, 1)
    c = cl.container("backup", "ghcr.io/acme/pg-backup:1.4.0", command=["/usr/local/bin/backup.sh"],
                     env=[{"name": "S3_BUCKET", "value": "acme-backups"}, {"name": "PGHOST", "value": "orders-db.orders"}])
    cl.service_account("db-backup")
    cl.add({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": cl.meta("CronJob", "db-backup", age=200 * DAY, generation=3),
            "spec": {"schedule": "30 2 * * *", "concurrencyPolicy": "Forbid", "suspend": False,
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"metadata": {"creationTimestamp": None},
                                     "spec": {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": None},
                                                                              "spec": cl.template_spec([c], restart="Never", sa="db-backup")}}}},
            "status": {"lastScheduleTime": ts(9 * 60 + 30), "lastSuccessfulTime": ts(2 * DAY + 9 * 60 + 20)}})
    log = "\n".join([
        f"{log_ts(9 * 60 + 29)} backup: dumping database orders",
        f"{log_ts(9 * 60 + 26)} backup: dump complete (2.1G compressed)",
        "upload failed: ./orders-2025-06-01.sql.gz to s3://acme-backups/db/orders-2025-06-01.sql.gz An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::123456789012:assumed-role/db-backup-irsa/botocore-session-1748745000 is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::acme-backups/db/orders-2025-06-01.sql.gz\" because no identity-based policy allows the s3:PutObject action",
        f"{log_ts(9 * 60 + 25)} backup: FAILED",
    ]) + "\n"
    cl.job(f"db-backup-{29144070}", c, False, 9 * 60 + 30, owner_cron="db-backup", fail_log=log, backoff=2)
    # the successful run from before the policy change
    cl.job(f"db-backup-{29141190}", c, True, 2 * DAY + 9 * 60 + 30, owner_cron="db-backup",
           log=f"{log_ts(2 * DAY + 9 * 60 + 22)} backup: uploaded s3://acme-backups/db/orders-2025-05-30.sql.gz\n")
    cl.event("CronJob", "db-backup", "SawCompletedJob", "Saw completed job: db-backup-29144070, status: Failed",
             first=9 * 60 + 20, component="cronjob-controller", api="batch/v1")
    return cl


@scenario("cronjob-suspended", "jobs", "easy", 1,
          task="The daily newsletter (namespace marketing) has not gone out for six days. Why?",
          root_cause="CronJob newsletter-sender is suspended (spec.suspend: true); it last ran six days ago.",
          must=[["suspend"]],
          affected=["CronJob/newsletter-sender"],
          namespace="marketing")
def cronjob_suspended():
    cl = Cluster("marketing")
    background(cl, 2)
    c = cl.container("sender", "ghcr.io/acme/newsletter:3.0.1", command=["/app/send", "--list=daily"])
    cl.add({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": cl.meta("CronJob", "newsletter-sender", age=300 * DAY, generation=4),
            "spec": {"schedule": "0 7 * * *", "timeZone": "Europe/Berlin", "concurrencyPolicy": "Forbid", "suspend": True,
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"metadata": {"creationTimestamp": None},
                                     "spec": {"backoffLimit": 1, "template": {"metadata": {"creationTimestamp": None},
                                                                              "spec": cl.template_spec([c], restart="Never")}}}},
            "status": {"lastScheduleTime": ts(6 * DAY + 7 * 60), "lastSuccessfulTime": ts(6 * DAY + 6 * 60 + 50)}})
    cl.job("newsletter-sender-29136900", c, True, 6 * DAY + 7 * 60, owner_cron="newsletter-sender",
           log=f"{log_ts(6 * DAY + 6 * 60 + 51)} sent 48211 mails\n")
    return cl


@scenario("job-deadline-exceeded", "jobs", "medium", 1,
          task="The backfill-events job in namespace etl shows Failed. What happened?",
          root_cause="Job backfill-events has activeDeadlineSeconds 1800 and was still running after 30 minutes: the "
                     "job controller killed its pod and marked it Failed with DeadlineExceeded.",
          must=[["deadline", "activeDeadlineSeconds", "1800", "30 minutes"]],
          affected=["Job/backfill-events"],
          namespace="etl")
def job_deadline():
    cl = Cluster("etl")
    background(cl, 3)
    c = cl.container("backfill", "ghcr.io/acme/etl:4.0.2", command=["python", "-m", "etl.backfill", "--since=2025-01-01"],
                     requests={"cpu": "1", "memory": "2Gi"}, limits={"memory": "2Gi"})
    cl.job("backfill-events", c, False, 75, deadline=1800, backoff=6, failures=1)
    pn = f"backfill-events-{suffix('backfill-events-run')}"
    cl.event("Job", "backfill-events", "SuccessfulCreate", f"Created pod: {pn}", component="job-controller",
             first=75, api="batch/v1")
    cl.event("Job", "backfill-events", "SuccessfulDelete", f"Deleted pod: {pn}", component="job-controller",
             first=45, api="batch/v1")
    cl.event("Job", "backfill-events", "DeadlineExceeded", "Job was active longer than specified deadline",
             type_="Warning", first=45, component="job-controller", api="batch/v1")
    return cl


# ============================================================================ rollouts
def two_rs_deployment(cl, name, c_new, c_old, replicas, new_pods, old_pods, rev_new, rev_old, age, progress_at,
                      available=True, deadline=True):
    ns = cl.ns
    new, old = rs_name(name, ns, rev_new), rs_name(name, ns, rev_old)
    ready_new = sum(1 for p in new_pods if p.get("ready", p["phase"] == "Running"))
    prog = (("False", "ProgressDeadlineExceeded", f'ReplicaSet "{name}-{new}" has timed out progressing.', progress_at)
            if deadline else ("True", "ReplicaSetUpdated", f'ReplicaSet "{name}-{new}" is progressing.', progress_at))
    cl.add({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": cl.meta("Deployment", name, labels={"app": name}, age=age, generation=int(rev_new),
                                annotations={"deployment.kubernetes.io/revision": rev_new}),
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"creationTimestamp": None, "labels": {"app": name}},
                                  "spec": cl.template_spec([c_new])},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": int(rev_new), "replicas": len(new_pods) + len(old_pods),
                       "updatedReplicas": len(new_pods), "readyReplicas": ready_new + len(old_pods),
                       "availableReplicas": ready_new + len(old_pods), "unavailableReplicas": len(new_pods) - ready_new,
                       "conditions": cl.deploy_conditions(age, f"{name}-{new}", available=available,
                                                          available_since=age - 1, progressing=prog)}})
    lab_new = {"app": name, "pod-template-hash": new}
    lab_old = {"app": name, "pod-template-hash": old}
    cl.replicaset(name, f"{name}-{old}", len(old_pods), len(old_pods), lab_old, [c_old], 10 * DAY, rev_old)
    cl.replicaset(name, f"{name}-{new}", len(new_pods), ready_new, lab_new, [c_new], max(p["age"] for p in new_pods), rev_new)
    cl._pods_for(f"{name}-{old}", "ReplicaSet", lab_old, [c_old], old_pods, ns, None)
    cl._pods_for(f"{name}-{new}", "ReplicaSet", lab_new, [c_new], new_pods, ns, None)
    cl.event("Deployment", name, "ScalingReplicaSet", f"Scaled up replica set {name}-{new} to {len(new_pods)}",
             component="deployment-controller", first=max(p["age"] for p in new_pods), api="apps/v1")
    return new, old


@scenario("rollout-image-tag-missing", "rollouts", "medium", 2,
          task="The rollout of cart 2.13.0 in namespace commerce has not progressed for 40 minutes. Why?",
          root_cause="The image ghcr.io/acme/cart:2.13.0 does not exist in the registry (not found): the new "
                     "ReplicaSet's pod is in ImagePullBackOff and the Deployment exceeded its progress deadline; "
                     "the three old pods still serve.",
          must=[["2\\.13\\.0"], ["not found", "does not exist", "doesn't exist", "manifest unknown", "ImagePull", "pull"]],
          affected=["Deployment/cart", "ReplicaSet/cart-*", "Pod/cart-*"],
          namespace="commerce")
def rollout_tag_missing():
    cl = Cluster("commerce")
    background(cl, 0)
    img_new, img_old = "ghcr.io/acme/cart:2.13.0", "ghcr.io/acme/cart:2.12.4"
    c_new = cl.container("cart", img_new, ports=[("http", 8080)], readiness=probe_http("/ready", "http"))
    c_old = cl.container("cart", img_old, ports=[("http", 8080)], readiness=probe_http("/ready", "http"))
    new = rs_name("cart", "commerce", "9")
    fail = (f'Failed to pull image "{img_new}": rpc error: code = NotFound desc = failed to pull and unpack image '
            f'"{img_new}": failed to resolve reference "{img_new}": {img_new}: not found')
    new_pods = waiting_pods(cl, "cart", new, c_new, 1, "ImagePullBackOff", f'Back-off pulling image "{img_new}"', age=41,
                            events=lambda pn, node: (
                                cl.event("Pod", pn, "Pulling", f'Pulling image "{img_new}"', count=12, first=40.9, last=3,
                                         host=node, field_path="spec.containers{cart}"),
                                cl.event("Pod", pn, "Failed", fail, type_="Warning", count=12, first=40.9, last=3,
                                         host=node, field_path="spec.containers{cart}"),
                                cl.event("Pod", pn, "Failed", "Error: ErrImagePull", type_="Warning", count=12, first=40.9,
                                         last=3, host=node, field_path="spec.containers{cart}"),
                                cl.event("Pod", pn, "BackOff", f'Back-off pulling image "{img_new}"', count=170, first=40.8,
                                         last=0.3, host=node, field_path="spec.containers{cart}"),
                                cl.event("Pod", pn, "Failed", "Error: ImagePullBackOff", type_="Warning", count=170,
                                         first=40.8, last=0.3, host=node, field_path="spec.containers{cart}")))
    old = rs_name("cart", "commerce", "8")
    old_pods = ready_pods(cl, "cart", old, c_old, 3, age=10 * DAY)
    two_rs_deployment(cl, "cart", c_new, c_old, 3, new_pods, old_pods, "9", "8", 200 * DAY, 31)
    cl.service("cart", {"app": "cart"}, [("http", 80, "http")], age=200 * DAY)
    cl.endpoints("cart", [(f"cart-{old}-{p['sfx']}", p["node"]) for p in old_pods], [("http", 8080)], age=200 * DAY)
    return cl


@scenario("rollout-readiness-404", "rollouts", "medium", 1,
          task="profile-api 5.0 in namespace profile never becomes ready, so its rollout is stuck. Why?",
          root_cause="The readiness probe still calls /healthz, which profile-api 5.0 no longer serves (it answers 404; "
                     "the endpoint moved to /health): the new pod never becomes ready and the rollout stalls.",
          must=[["readiness"], ["404", "/healthz"]],
          affected=["Deployment/profile-api", "ReplicaSet/profile-api-*", "Pod/profile-api-*"],
          namespace="profile")
def rollout_readiness():
    cl = Cluster("profile")
    background(cl, 1)
    c_new = cl.container("profile-api", "ghcr.io/acme/profile-api:5.0.0", ports=[("http", 8080)],
                         readiness=probe_http("/healthz", "http"))
    c_old = cl.container("profile-api", "ghcr.io/acme/profile-api:4.9.3", ports=[("http", 8080)],
                         readiness=probe_http("/healthz", "http"))
    new = rs_name("profile-api", "profile", "5")
    pn = f"profile-api-{new}-{suffix('profile/new')}"
    st = cl.cs_running(c_new, 27, ready=False)
    new_pods = [{"sfx": suffix("profile/new"), "node": "worker-2", "phase": "Running", "age": 27, "statuses": [st],
                 "conditions": cl.conds_not_ready(27, ["profile-api"]), "ready": False}]
    cl.event("Pod", pn, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404", type_="Warning",
             count=160, first=26.8, last=0.1, host="worker-2", field_path="spec.containers{profile-api}")
    cl.pod_logs(pn, "profile-api", current="\n".join(
        [f'{log_ts(26.9)} {{"level":"info","msg":"listening","addr":":8080","routes":["/health","/v1/profiles"]}}'] +
        [f'{log_ts(26.5 - k * 0.5)} {{"level":"info","msg":"request","method":"GET","path":"/healthz","status":404,"duration_ms":0.2,"user_agent":"kube-probe/1.31"}}'
         for k in range(6)]) + "\n")
    old = rs_name("profile-api", "profile", "4")
    old_pods = ready_pods(cl, "profile-api", old, c_old, 3, age=12 * DAY)
    two_rs_deployment(cl, "profile-api", c_new, c_old, 3, new_pods, old_pods, "5", "4", 150 * DAY, 17)
    cl.service("profile-api", {"app": "profile-api"}, [("http", 80, "http")], age=150 * DAY)
    cl.endpoints("profile-api", [(f"profile-api-{old}-{p['sfx']}", p["node"]) for p in old_pods], [("http", 8080)],
                 not_ready=[(pn, "worker-2")], age=150 * DAY)
    return cl


@scenario("rollout-paused", "rollouts", "easy", 1,
          task="We deployed recommender 1.8.0 in namespace recs an hour ago but the pods still run 1.7.3. Why?",
          root_cause="Deployment recommender is paused (spec.paused: true, condition DeploymentPaused): the template "
                     "change to 1.8.0 is recorded but no new ReplicaSet is rolled out.",
          must=[["paused", "pause"]],
          affected=["Deployment/recommender"],
          namespace="recs")
def rollout_paused():
    cl = Cluster("recs")
    background(cl, 2)
    c_new = cl.container("recommender", "ghcr.io/acme/recommender:1.8.0", ports=[("http", 8080)],
                         readiness=probe_http("/ready", "http"))
    c_old = cl.container("recommender", "ghcr.io/acme/recommender:1.7.3", ports=[("http", 8080)],
                         readiness=probe_http("/ready", "http"))
    rs = rs_name("recommender", "recs", "6")
    pods = ready_pods(cl, "recommender", rs, c_old, 2, age=9 * DAY)
    cl.deployment("recommender", [c_new], 2, [], rs_hash=rs, revision="6", generation=8, age=100 * DAY, paused=True,
                  status={"observedGeneration": 8, "replicas": 2, "updatedReplicas": 0, "readyReplicas": 2,
                          "availableReplicas": 2},
                  conditions=[
                      {"type": "Available", "status": "True", "lastUpdateTime": ts(9 * DAY), "lastTransitionTime": ts(9 * DAY),
                       "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                      {"type": "Progressing", "status": "Unknown", "lastUpdateTime": ts(2 * DAY), "lastTransitionTime": ts(2 * DAY),
                       "reason": "DeploymentPaused", "message": "Deployment is paused"}])
    for d in cl.docs:
        if d["kind"] == "ReplicaSet" and d["metadata"]["name"] == f"recommender-{rs}":
            d["spec"]["template"]["spec"] = cl.template_spec([c_old])
            d["spec"]["replicas"] = 2
            d["status"] = {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
                           "observedGeneration": 1}
    cl._pods_for(f"recommender-{rs}", "ReplicaSet", {"app": "recommender", "pod-template-hash": rs}, [c_old], pods,
                 "recs", None)
    cl.service("recommender", {"app": "recommender"}, [("http", 80, "http")], age=100 * DAY)
    cl.endpoints("recommender", [(f"recommender-{rs}-{p['sfx']}", p["node"]) for p in pods], [("http", 8080)], age=100 * DAY)
    return cl


@scenario("chart-upgrade-labels-changed", "rollouts", "hard", 3,
          task="Checkout fails for every customer since the payments chart upgrade 25 minutes ago (namespace pay). Checkout itself looks healthy. What broke?",
          root_cause="The upgraded chart recreated Deployment payments with the labels app.kubernetes.io/name=payments "
                     "instead of app=payments, but Service payments still selects app=payments: it matches no pod, has "
                     "no endpoints, and checkout's calls to it are refused.",
          must=[["selector", "label"], ["app(=|: ?)payments", "app\\.kubernetes\\.io/name", "match(es)? no", "no (ready )?(pods|endpoints)"]],
          affected=["Service/payments", "Endpoints/payments", "Deployment/payments", "ReplicaSet/payments-*", "Pod/payments-*"],
          namespace="pay")
def labels_changed():
    cl = Cluster("pay")
    background(cl, 3)
    labels = {"app.kubernetes.io/name": "payments", "app.kubernetes.io/instance": "payments"}
    c = cl.container("payments", "ghcr.io/acme/payments:6.0.0", ports=[("http", 8080)], readiness=probe_http("/ready", "http"))
    rs = rs_name("payments", "pay", "1")
    pods = ready_pods(cl, "payments", rs, c, 2, age=25)
    cl.deployment("payments", [c], 2, pods, rs_hash=rs, labels=labels, age=25,
                  dep_labels=dict(labels, **{"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "payments-6.0.0"}))
    ip = cl.service("payments", {"app": "payments"}, [("http", 80, "http")], age=300 * DAY,
                    labels={"app": "payments", "app.kubernetes.io/managed-by": "Helm"})
    cl.endpoints("payments", [], [], age=300 * DAY)
    cc, crs, cpods = simple_app(cl, "checkout", "ghcr.io/acme/checkout:7.2.4", 8080, replicas=2, age=6 * DAY,
                                env=[{"name": "PAYMENTS_URL", "value": "http://payments.pay.svc.cluster.local"}])
    cl.endpoints("checkout", [(f"checkout-{crs}-{p['sfx']}", p["node"]) for p in cpods], [("http", 8080)], age=20 * DAY)
    for p in cpods:
        pn = f"checkout-{crs}-{p['sfx']}"
        lines = []
        for k in range(5):
            t = 4 - k * 0.7
            lines.append(f'{log_ts(t)} level=error msg="payment request failed" order_id=ord_{88231 + k} '
                         f'err="Post \\"http://payments.pay.svc.cluster.local/v1/charges\\": dial tcp {ip}:80: connect: connection refused"')
            lines.append(f'{log_ts(t - 0.01)} level=info msg="POST /api/checkout" status=502 duration=3.1ms')
        cl.pod_logs(pn, "checkout", current="\n".join(lines) + "\n")
    cl.event("Deployment", "payments", "ScalingReplicaSet", f"Scaled up replica set payments-{rs} to 2",
             component="deployment-controller", first=25, api="apps/v1")
    return cl


# ============================================================================ observability
THROTTLE_SERIES_LABELS = 'namespace="storefront",pod="checkout-api-{p}",container="checkout-api"'


@scenario("alert-cpu-throttling", "observability", "hard", 2,
          task="Alert CheckoutLatencyHigh is firing: p99 latency of checkout-api in namespace storefront has been above 1s for 15 minutes. Nothing crashed. Why is it slow?",
          root_cause="checkout-api is CPU-throttled: its containers have a 250m CPU limit and were throttled in ~78% of "
                     "CFS periods since traffic rose; raise or remove the CPU limit.",
          must=[["throttl"], ["limit", "250m"]],
          affected=["Deployment/checkout-api", "ReplicaSet/checkout-api-*", "Pod/checkout-api-*"],
          namespace="storefront",
          prometheus={
              "interval": "1m",
              "series": [
                  {"series": 'container_cpu_cfs_throttled_periods_total{namespace="storefront",pod="checkout-api-6d4f8b7c9-2kq8n",container="checkout-api"}',
                   "values": "0+12x30 372+470x29"},
                  {"series": 'container_cpu_cfs_periods_total{namespace="storefront",pod="checkout-api-6d4f8b7c9-2kq8n",container="checkout-api"}',
                   "values": "0+600x59"},
                  {"series": 'container_spec_cpu_quota{namespace="storefront",pod="checkout-api-6d4f8b7c9-2kq8n",container="checkout-api"}',
                   "values": "25000x59"},
                  {"series": 'histogram_quantile_0_99_http_request_duration_seconds{namespace="storefront",service="checkout-api"}',
                   "values": "0.18x30 1.4+0.01x29"},
              ],
              "alerts": [
                  {"labels": {"alertname": "CheckoutLatencyHigh", "severity": "page", "namespace": "storefront",
                              "service": "checkout-api"},
                   "annotations": {"summary": "checkout-api p99 latency above 1s",
                                   "description": "p99 latency is 1.43s (threshold 1s) for 15m."},
                   "state": "firing", "activeAt": "2025-06-01T11:40:00Z", "value": "1.43e+00"},
                  {"labels": {"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": "storefront",
                              "pod": "checkout-api-6d4f8b7c9-2kq8n", "container": "checkout-api"},
                   "annotations": {"summary": "Processes experience elevated CPU throttling.",
                                   "description": "78.3% throttling of CPU in namespace storefront for container checkout-api in pod checkout-api-6d4f8b7c9-2kq8n."},
                   "state": "firing", "activeAt": "2025-06-01T11:44:00Z", "value": "7.83e-01"},
              ],
          },
          notes="Only Prometheus shows the throttling; the Kubernetes objects show healthy pods with a 250m CPU limit.")
def cpu_throttling():
    cl = Cluster("storefront")
    background(cl, 0)
    c = cl.container("checkout-api", "ghcr.io/acme/checkout-api:3.9.0", ports=[("http", 8080)],
                     requests={"cpu": "250m", "memory": "256Mi"}, limits={"cpu": "250m", "memory": "512Mi"},
                     readiness=probe_http("/ready", "http", timeout=2))
    rs = "6d4f8b7c9"
    pods = ready_pods(cl, "checkout-api", rs, c, 3, age=6 * DAY)
    pods[0]["sfx"] = "2kq8n"
    cl.deployment("checkout-api", [c], 3, pods, rs_hash=rs, revision="12", generation=12, age=300 * DAY)
    cl.service("checkout-api", {"app": "checkout-api"}, [("http", 80, "http")], age=300 * DAY)
    endpoints_for(cl, "checkout-api", "checkout-api", rs, pods, [("http", 8080)], age=300 * DAY)
    return cl


@scenario("alert-target-down-metrics-port", "observability", "medium", 2,
          task="Alert TargetDown fires for job ledger-metrics in namespace ledger: 100% of its targets are down. The ledger pods work fine. Why?",
          root_cause="Service ledger-metrics (scraped by Prometheus) points its metrics port at targetPort 9090, but the "
                     "ledger containers expose metrics on 9102 (port name metrics): every scrape is refused.",
          must=[["targetPort", "target port"], ["9102", "9090"]],
          affected=["Service/ledger-metrics", "Endpoints/ledger-metrics"],
          namespace="ledger",
          prometheus={"interval": "1m",
                      "series": [{"series": 'up{job="ledger-metrics",namespace="ledger",service="ledger-metrics"}', "values": "1x20 0x39"}],
                      "alerts": [{"labels": {"alertname": "TargetDown", "severity": "warning", "job": "ledger-metrics",
                                             "namespace": "ledger", "service": "ledger-metrics"},
                                  "annotations": {"summary": "One or more targets are unreachable.",
                                                  "description": "100% of the ledger-metrics/ledger-metrics targets in ledger namespace are down."},
                                  "state": "firing", "activeAt": "2025-06-01T11:29:00Z", "value": "1e+02"}]})
def target_down():
    cl = Cluster("ledger")
    background(cl, 1)
    c, rs, pods = simple_app(cl, "ledger", "ghcr.io/acme/ledger-svc:7.0.1", 8080, replicas=2, age=40,
                             extra_ports=[("metrics", 9102)], revision="9")
    cl.endpoints("ledger", [(f"ledger-{rs}-{p['sfx']}", p["node"]) for p in pods], [("http", 8080)], age=20 * DAY)
    cl.service("ledger-metrics", {"app": "ledger"}, [("metrics", 9090, 9090)], age=200 * DAY,
               labels={"app": "ledger", "monitoring": "enabled"})
    cl.endpoints("ledger-metrics", [(f"ledger-{rs}-{p['sfx']}", p["node"]) for p in pods], [("metrics", 9090)],
                 age=200 * DAY)
    return cl


@scenario("alert-crashloop-nil-pointer", "observability", "easy", 1,
          task="Alert KubePodCrashLooping fired for geoip in namespace geo. What is the cause?",
          root_cause="geoip panics at start-up with a nil pointer dereference in main.loadGeoIP (runtime error: invalid "
                     "memory address or nil pointer dereference, SIGSEGV) and exits 2.",
          must=[["nil pointer", "panic", "SIGSEGV", "segmentation", "invalid memory address"]],
          affected=["Deployment/geoip", "ReplicaSet/geoip-*", "Pod/geoip-*", "Service/geoip"],
          namespace="geo", wrong_causes=["OOMKilled", "out of memory"],
          prometheus={"interval": "1m", "series": [],
                      "alerts": [{"labels": {"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "geo",
                                             "pod": "geoip-5f7b9c6d8-hx2lq", "container": "geoip"},
                                  "annotations": {"description": "Pod geo/geoip-5f7b9c6d8-hx2lq (geoip) is in waiting state (reason: \"CrashLoopBackOff\").",
                                                  "summary": "Pod is crash looping."},
                                  "state": "firing", "activeAt": "2025-06-01T11:45:00Z", "value": "1e+00"}]})
def crash_nil():
    cl = Cluster("geo")
    background(cl, 2)
    c = cl.container("geoip", "ghcr.io/acme/geoip:1.11.0", ports=[("http", 8080)],
                     env=[{"name": "GEOIP_DB_PATH", "value": "/data/GeoLite2-City.mmdb"}])
    rs = "5f7b9c6d8"
    log = "\n".join([
        f"{log_ts(0.4)} INFO geoip 1.11.0 starting",
        f"{log_ts(0.4)} WARN geoip database /data/GeoLite2-City.mmdb: open /data/GeoLite2-City.mmdb: no such file or directory; continuing without city data",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x28 pc=0x7c1f3a]",
        "",
        "goroutine 1 [running]:",
        "main.loadGeoIP(0x0)",
        "\t/src/cmd/geoip/main.go:88 +0x3a",
        "main.main()",
        "\t/src/cmd/geoip/main.go:41 +0x1c5",
    ]) + "\n"
    pods = crashloop_pods(cl, "geoip", rs, c, 2, restarts=6, exit_code=2, previous_log=log, age=20,
                          sfxs=["hx2lq", "r7wzn"])
    cl.deployment("geoip", [c], 2, pods, rs_hash=rs, revision="4", generation=4, age=80 * DAY,
                  conditions=cl.deploy_conditions(80 * DAY, f"geoip-{rs}", available=False, available_since=19))
    cl.service("geoip", {"app": "geoip"}, [("http", 80, "http")], age=80 * DAY)
    endpoints_for(cl, "geoip", "geoip", rs, pods, [("http", 8080)], age=80 * DAY)
    return cl
