"""The held-out scenarios: written with the others, before any analyzer was tuned, and never run
while tuning; their score is reported separately to show how the analyzers generalise."""
from common import *  # noqa: F403
from s_network import ingress, ingress_class, simple_app
from s_platform import hcond, hpa
from s_workloads import postgres


@scenario("image-pull-unauthorized", "workloads", "easy", 1, held_out=True,
          task="billing-worker in namespace billing-ops has not started since it moved to the private registry. Why?",
          root_cause="The image pull is rejected by registry.acme.io with 401 Unauthorized: the pull secret "
                     "regcred the pods use holds expired credentials.",
          must=[["401", "unauthori[sz]ed", "authenticat", "credential", "pull secret", "imagePullSecret", "regcred"]],
          affected=["Deployment/billing-worker", "ReplicaSet/billing-worker-*", "Pod/billing-worker-*", "Secret/regcred"],
          namespace="billing-ops")
def image_pull_401():
    cl = Cluster("billing-ops")
    background(cl, 1)
    cl.secret("regcred", {".dockerconfigjson": '{"auths":{"registry.acme.io":{"auth":"ZXhwaXJlZDp0b2tlbg=="}}}'},
              type_="kubernetes.io/dockerconfigjson", age=95 * DAY)
    img = "registry.acme.io/billing/worker:2.4.1"
    c = cl.container("worker", img)
    rs = rs_name("billing-worker", "billing-ops", "3")
    fail = (f'Failed to pull image "{img}": failed to pull and unpack image "{img}": failed to resolve reference '
            f'"{img}": unexpected status from HEAD request to https://registry.acme.io/v2/billing/worker/manifests/2.4.1: '
            '401 Unauthorized')
    pods = waiting_pods(cl, "billing-worker", rs, c, 2, "ImagePullBackOff", f'Back-off pulling image "{img}"', age=55,
                        events=lambda pn, node: (
                            cl.event("Pod", pn, "Pulling", f'Pulling image "{img}"', count=14, first=54.9, last=4,
                                     host=node, field_path="spec.containers{worker}"),
                            cl.event("Pod", pn, "Failed", fail, type_="Warning", count=14, first=54.9, last=4,
                                     host=node, field_path="spec.containers{worker}"),
                            cl.event("Pod", pn, "Failed", "Error: ErrImagePull", type_="Warning", count=14,
                                     first=54.9, last=4, host=node, field_path="spec.containers{worker}"),
                            cl.event("Pod", pn, "BackOff", f'Back-off pulling image "{img}"', count=230, first=54.8,
                                     last=0.2, host=node, field_path="spec.containers{worker}"),
                            cl.event("Pod", pn, "Failed", "Error: ImagePullBackOff", type_="Warning", count=230,
                                     first=54.8, last=0.2, host=node, field_path="spec.containers{worker}")))
    cl.deployment("billing-worker", [c], 2, pods, rs_hash=rs, revision="3", generation=3, age=200 * DAY,
                  template_extra={"extra": {"imagePullSecrets": [{"name": "regcred"}]}}, strategy={"type": "Recreate"},
                  conditions=cl.deploy_conditions(200 * DAY, f"billing-worker-{rs}", available=False, available_since=55,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "billing-worker-{rs}" has timed out progressing.', 45)))
    return cl


@scenario("ingress-wrong-service-port", "networking", "medium", 1, held_out=True,
          task="docs.acme.io returns 503 since the docs Ingress was edited (namespace docs). Why?",
          root_cause="Ingress docs routes to port 8080 of Service docs, but the Service only exposes port 80 "
                     "(targetPort http): the ingress controller finds no endpoints for service port 8080.",
          must=[["8080"], ["port"]],
          affected=["Ingress/docs", "Service/docs"],
          namespace="docs")
def ingress_wrong_port():
    cl = Cluster("docs")
    background(cl, 0)
    ingress_class(cl)
    c, rs, pods = simple_app(cl, "docs", "ghcr.io/acme/docs-site:2025.5.2", 8080, replicas=2, age=8 * DAY)
    cl.endpoints("docs", [(f"docs-{rs}-{p['sfx']}", p["node"]) for p in pods], [("http", 8080)], age=20 * DAY)
    ingress(cl, "docs", "docs.acme.io", "docs", 8080, age=400 * DAY)
    for d in cl.docs:
        if d["kind"] == "Ingress":
            d["metadata"]["generation"] = 4
    return cl


@scenario("metrics-server-x509", "autoscaling", "hard", 2, held_out=True,
          task="None of the HorizontalPodAutoscalers in namespace shop scale any more; they show <unknown> targets. Why?",
          root_cause="metrics-server in kube-system cannot scrape the kubelets (x509: cannot validate certificate for "
                     "<node IP> because it doesn't contain any IP SANs), so it is not ready and the resource metrics API "
                     "is unavailable; every HPA fails with FailedGetResourceMetric.",
          must=[["metrics-server", "metrics server", "metrics API"], ["x509", "certificate", "tls", "IP SAN"]],
          affected=["Deployment/metrics-server", "ReplicaSet/metrics-server-*", "Pod/metrics-server-*",
                    "HorizontalPodAutoscaler/*", "Service/metrics-server"],
          namespace=None)
def metrics_server():
    cl = Cluster("shop")
    background(cl, 3)
    c = cl.container("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
                     ports=[("https", 10250)], args=["--secure-port=10250", "--cert-dir=/tmp",
                                                     "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                                                     "--kubelet-use-node-status-port", "--metric-resolution=15s"],
                     requests={"cpu": "100m", "memory": "200Mi"}, limits=False,
                     readiness={"httpGet": {"path": "/readyz", "port": "https", "scheme": "HTTPS"},
                                "initialDelaySeconds": 20, "periodSeconds": 10, "timeoutSeconds": 1,
                                "successThreshold": 1, "failureThreshold": 3})
    rs = rs_name("metrics-server", "kube-system", "2")
    pn = f"metrics-server-{rs}-{suffix('ms')}"
    st = cl.cs_running(c, 70, ready=False)
    pods = [{"sfx": suffix("ms"), "node": "worker-1", "phase": "Running", "age": 70, "statuses": [st],
             "conditions": cl.conds_not_ready(70, ["metrics-server"]), "ready": False}]
    cl.deployment("metrics-server", [c], 1, pods, rs_hash=rs, revision="2", generation=2, age=300 * DAY, ns="kube-system",
                  labels={"k8s-app": "metrics-server"},
                  conditions=cl.deploy_conditions(300 * DAY, f"metrics-server-{rs}", available=False, available_since=69))
    lines = []
    for k in range(3):
        t = 2 - k * 0.25
        for i, ip in enumerate(["10.0.1.11", "10.0.1.12", "10.0.1.13"]):
            lines.append(f'E{klog(t)}       1 scraper.go:149] "Failed to scrape node" err="Get \\"https://{ip}:10250/metrics/resource\\": '
                         f'tls: failed to verify certificate: x509: cannot validate certificate for {ip} because it doesn\'t contain any IP SANs" node="worker-{i + 1}"')
        lines.append(f'I{klog(t - 0.05)}       1 server.go:191] "Failed probe" probe="metric-storage-ready" err="no metrics to serve"')
    cl.pod_logs(pn, "metrics-server", current="\n".join(lines) + "\n", ns="kube-system")
    cl.event("Pod", pn, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", type_="Warning",
             count=410, first=69, last=0.1, host="worker-1", field_path="spec.containers{metrics-server}", ns="kube-system")
    cl.service("metrics-server", {"k8s-app": "metrics-server"}, [("https", 443, "https")], ns="kube-system", age=300 * DAY)
    cl.endpoints("metrics-server", [], [("https", 10250)], not_ready=[(pn, "worker-1")], ns="kube-system", age=300 * DAY)
    err = ("the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for "
           "resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle the "
           "request (get pods.metrics.k8s.io)")
    for name in ("frontend", "catalog"):
        hpa(cl, name, name, 2, 8, 3 if name == "frontend" else 2, 3 if name == "frontend" else 2, [
            hcond("AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale", 60 * DAY),
            hcond("ScalingActive", "False", "FailedGetResourceMetric", err, 68)], age=60 * DAY, last_scale=3 * DAY)
        cl.event("HorizontalPodAutoscaler", name, "FailedGetResourceMetric",
                 "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server is currently unable to handle the request (get pods.metrics.k8s.io)",
                 type_="Warning", count=270, first=68, last=0.3, component="horizontal-pod-autoscaler", api="autoscaling/v2")
    return cl


def klog(m):
    from k8s import klog_ts
    return klog_ts(m)


@scenario("cronjob-image-typo", "jobs", "easy", 1, held_out=True,
          task="The sitemap has not been rebuilt since yesterday's change to the sitemap-builder CronJob in namespace seo. Why?",
          root_cause="The CronJob's image ghcr.io/acme/sitemap-builder:1.4.O (letter O instead of zero) does not exist: "
                     "the job's pod is stuck in ImagePullBackOff (not found), so no run completes.",
          must=[["1\\.4\\.O", "image", "tag"], ["not found", "does not exist", "doesn't exist", "manifest unknown", "ImagePull"]],
          affected=["CronJob/sitemap-builder", "Job/sitemap-builder-*", "Pod/sitemap-builder-*"],
          namespace="seo")
def cronjob_image_typo():
    cl = Cluster("seo")
    background(cl, 2)
    img = "ghcr.io/acme/sitemap-builder:1.4.O"
    c = cl.container("builder", img, command=["/app/build-sitemap"])
    cl.add({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": cl.meta("CronJob", "sitemap-builder", age=300 * DAY, generation=7),
            "spec": {"schedule": "15 */6 * * *", "concurrencyPolicy": "Forbid", "suspend": False,
                     "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                     "jobTemplate": {"metadata": {"creationTimestamp": None},
                                     "spec": {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": None},
                                                                              "spec": cl.template_spec([c], restart="Never")}}}},
            "status": {"active": [{"apiVersion": "batch/v1", "kind": "Job", "name": "sitemap-builder-29144535",
                                   "namespace": "seo", "uid": uid("Job", "seo", "sitemap-builder-29144535")}],
                       "lastScheduleTime": ts(5 * 60 + 45), "lastSuccessfulTime": ts(DAY + 3 * 60)}})
    jn = "sitemap-builder-29144535"
    juid = uid("Job", "seo", jn)
    plabels = {"batch.kubernetes.io/controller-uid": juid, "batch.kubernetes.io/job-name": jn, "controller-uid": juid, "job-name": jn}
    cl.add({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": cl.meta("Job", jn, age=5 * 60 + 45, generation=1, owner=("CronJob", "sitemap-builder", "batch/v1"),
                                labels=plabels),
            "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 2, "completionMode": "NonIndexed", "suspend": False,
                     "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": juid}},
                     "template": {"metadata": {"creationTimestamp": None, "labels": plabels},
                                  "spec": cl.template_spec([c], restart="Never")}},
            "status": {"startTime": ts(5 * 60 + 45), "active": 1, "ready": 0, "terminating": 0,
                       "uncountedTerminatedPods": {}}})
    pn = f"{jn}-{suffix(jn)}"
    fail = (f'Failed to pull image "{img}": rpc error: code = NotFound desc = failed to pull and unpack image "{img}": '
            f'failed to resolve reference "{img}": {img}: not found')
    cl.pod(pn, plabels, cl.pod_spec([c], node="worker-2", restart="Never"), "Pending", 5 * 60 + 45,
           statuses=[cl.cs_waiting(c, "ImagePullBackOff", f'Back-off pulling image "{img}"', image_id=False)],
           conditions=cl.conds_not_ready(5 * 60 + 45, ["builder"]), owner=("Job", jn, "batch/v1"), node="worker-2")
    for reason, msg, t, n in [("Pulling", f'Pulling image "{img}"', "Normal", 70), ("Failed", fail, "Warning", 70),
                              ("Failed", "Error: ErrImagePull", "Warning", 70),
                              ("BackOff", f'Back-off pulling image "{img}"', "Normal", 1500),
                              ("Failed", "Error: ImagePullBackOff", "Warning", 1500)]:
        cl.event("Pod", pn, reason, msg, type_=t, count=n, first=5 * 60 + 44, last=0.5, host="worker-2",
                 field_path="spec.containers{builder}")
    cl.event("Job", jn, "SuccessfulCreate", f"Created pod: {pn}", component="job-controller", first=5 * 60 + 45, api="batch/v1")
    return cl


@scenario("init-waits-for-scaled-down-db", "workloads", "hard", 2, held_out=True,
          task="New orders-web pods in namespace orders-2 have been stuck in Init:0/1 for an hour. What is wrong?",
          root_cause="The init container wait-for-db loops until orders-db:5432 answers, but StatefulSet orders-db is "
                     "scaled to 0 replicas (left so after last night's maintenance), so Service orders-db has no "
                     "endpoints and the init container never finishes.",
          must=[["orders-db"], ["0 replicas", "zero replicas", "scaled (down|to 0|to zero)", "replicas: 0", "no endpoints",
                                "no (ready )?pods"]],
          affected=["Deployment/orders-web", "ReplicaSet/orders-web-*", "Pod/orders-web-*", "StatefulSet/orders-db",
                    "Service/orders-db", "Endpoints/orders-db"],
          namespace="orders-2")
def init_wait():
    cl = Cluster("orders-2")
    background(cl, 0)
    pg = cl.container("postgres", "postgres:16.4", ports=[("postgres", 5432)],
                      mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}])
    cl.statefulset("orders-db", [pg], 0, [], age=90 * DAY,
                   claims=[{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                                     "resources": {"requests": {"storage": "20Gi"}}, "volumeMode": "Filesystem"}}])
    for d in cl.docs:
        if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "orders-db":
            d["metadata"]["generation"] = 2
            d["status"] = {"observedGeneration": 2, "replicas": 0, "availableReplicas": 0,
                           "currentRevision": d["status"]["currentRevision"], "updateRevision": d["status"]["updateRevision"],
                           "collisionCount": 0}
    cl.event("StatefulSet", "orders-db", "SuccessfulDelete", "delete Pod orders-db-0 in StatefulSet orders-db successful",
             component="statefulset-controller", first=14 * 60, api="apps/v1")
    cl.service("orders-db", {"app": "orders-db"}, [("postgres", 5432, "postgres")], age=90 * DAY)
    cl.endpoints("orders-db", [], [], age=90 * DAY)
    init = cl.container("wait-for-db", "busybox:1.37", command=["sh", "-c", "until nc -z orders-db 5432; do echo waiting for orders-db:5432; sleep 5; done"],
                        requests={"cpu": "10m", "memory": "16Mi"}, limits={"memory": "32Mi"})
    c = cl.container("orders-web", "ghcr.io/acme/orders-web:5.1.0", ports=[("http", 8080)], readiness=probe_http("/ready", "http"))
    rs = rs_name("orders-web", "orders-2", "7")
    pods = []
    for i in range(2):
        sfx = suffix(f"ow{i}")
        pn = f"orders-web-{rs}-{sfx}"
        node = cl.node_names[i + 1]
        ist = cl.cs_running(init, 61, ready=False)
        pods.append({"sfx": sfx, "node": node, "phase": "Pending", "age": 61, "statuses": [cl.cs_waiting(c, "PodInitializing")],
                     "init_statuses": [ist], "ready": False,
                     "conditions": cl.conds_not_ready(61, ["orders-web"], initialized=False, init_names=["wait-for-db"])})
        cl.pod_logs(pn, "wait-for-db", current="waiting for orders-db:5432\n" * 40)
        cl.event("Pod", pn, "Scheduled", f"Successfully assigned orders-2/{pn} to {node}", component="default-scheduler", first=61)
        cl.event("Pod", pn, "Started", "Started container wait-for-db", first=60.9, host=node,
                 field_path="spec.initContainers{wait-for-db}")
    old = rs_name("orders-web", "orders-2", "6")
    oc = cl.container("orders-web", "ghcr.io/acme/orders-web:5.0.9", ports=[("http", 8080)], readiness=probe_http("/ready", "http"))
    cl.deployment("orders-web", [c], 2, pods, rs_hash=rs, revision="7", generation=7, age=200 * DAY,
                  template_extra={"init": [init]}, strategy={"type": "Recreate"},
                  old_rs=[{"name": f"orders-web-{old}", "labels": {"app": "orders-web", "pod-template-hash": old},
                           "containers": [oc], "age": 20 * DAY, "revision": "6"}],
                  conditions=cl.deploy_conditions(200 * DAY, f"orders-web-{rs}", available=False, available_since=61,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "orders-web-{rs}" has timed out progressing.', 51)))
    cl.service("orders-web", {"app": "orders-web"}, [("http", 80, "http")], age=200 * DAY)
    cl.endpoints("orders-web", [], [("http", 8080)], age=200 * DAY)
    return cl


@scenario("es-disk-watermark", "observability", "hard", 2, held_out=True,
          task="Alert KubePersistentVolumeFillingUp fired for namespace search-logs and indexing into Elasticsearch fails with 429s. What is going on?",
          root_cause="The Elasticsearch data volumes are almost full (97%): Elasticsearch passed its flood-stage disk "
                     "watermark and set the indices read-only (index.blocks.read_only_allow_delete), so writes are "
                     "rejected; the 30Gi claims need expanding or old indices deleting.",
          must=[["disk", "volume", "storage", "PVC"], ["full", "watermark", "9[5-7]%", "filling", "read-only", "read_only"]],
          affected=["StatefulSet/elasticsearch", "Pod/elasticsearch-*", "PersistentVolumeClaim/data-elasticsearch-*"],
          namespace="search-logs",
          prometheus={"interval": "5m",
                      "series": [{"series": 'kubelet_volume_stats_available_bytes{namespace="search-logs",persistentvolumeclaim="data-elasticsearch-0"}',
                                  "values": "9663676416-120000000x60"},
                                 {"series": 'kubelet_volume_stats_capacity_bytes{namespace="search-logs",persistentvolumeclaim="data-elasticsearch-0"}',
                                  "values": "32212254720x60"}],
                      "alerts": [{"labels": {"alertname": "KubePersistentVolumeFillingUp", "severity": "critical",
                                             "namespace": "search-logs", "persistentvolumeclaim": "data-elasticsearch-0"},
                                  "annotations": {"summary": "PersistentVolume is filling up.",
                                                  "description": "The PersistentVolume claimed by data-elasticsearch-0 in Namespace search-logs is only 2.9% free."},
                                  "state": "firing", "activeAt": "2025-06-01T11:20:00Z", "value": "2.9e-02"}]})
def es_disk():
    cl = Cluster("search-logs")
    background(cl, 1)
    from s_workloads import bound_pvc
    c = cl.container("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.16.1",
                     ports=[("http", 9200), ("transport", 9300)], requests={"cpu": "1", "memory": "4Gi"},
                     limits={"memory": "4Gi"},
                     readiness={"exec": {"command": ["bash", "-c", "curl -s localhost:9200/_cluster/health?local=true | grep -vq '\"status\":\"red\"'"]},
                                "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 5, "successThreshold": 3,
                                "failureThreshold": 3},
                     mounts=[{"name": "data", "mountPath": "/usr/share/elasticsearch/data"}])
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "resources": {"requests": {"storage": "30Gi"}}, "volumeMode": "Filesystem"}}]
    age = 60 * DAY
    pods = [{"node": n, "phase": "Running", "age": age, "statuses": [cl.cs_running(c, age)], "conditions": cl.conds_ready(age)}
            for n in cl.node_names]
    cl.statefulset("elasticsearch", [c], 3, pods, age=age, claims=claims)
    for i, n in enumerate(cl.node_names):
        bound_pvc(cl, f"data-elasticsearch-{i}", "30Gi", age=age, zone_node=n)
        cl.pod_logs(f"elasticsearch-{i}", "elasticsearch", current="\n".join([
            f'{{"@timestamp":"{log_ts(45)}", "log.level": "WARN", "message":"high disk watermark [90%] exceeded on [elasticsearch-{i}][/usr/share/elasticsearch/data] free: 2.8gb[9.3%], shards will be relocated away from this node; currently relocating away shards totalling [0] bytes; the node is expected to continue to exceed the high disk watermark when these relocations are complete", "ecs.version": "1.2.0","service.name":"ES_ECS","event.dataset":"elasticsearch.server","process.thread.name":"elasticsearch[elasticsearch-{i}][generic][T#3]","log.logger":"org.elasticsearch.cluster.routing.allocation.DiskThresholdMonitor"}}',
            f'{{"@timestamp":"{log_ts(38)}", "log.level": "WARN", "message":"flood stage disk watermark [95%] exceeded on [elasticsearch-{i}][/usr/share/elasticsearch/data] free: 1.1gb[3.6%], all indices on this node will be marked read-only", "ecs.version": "1.2.0","service.name":"ES_ECS","event.dataset":"elasticsearch.server","log.logger":"org.elasticsearch.cluster.routing.allocation.DiskThresholdMonitor"}}',
        ]) + "\n")
    cl.service("elasticsearch", {"app": "elasticsearch"}, [("http", 9200, "http")], age=age)
    cl.endpoints("elasticsearch", [(f"elasticsearch-{i}", n) for i, n in enumerate(cl.node_names)], [("http", 9200)], age=age)
    return cl
