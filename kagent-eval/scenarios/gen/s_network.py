"""Networking, storage and scheduling scenarios."""
from common import *  # noqa: F403
from s_workloads import bound_pvc, postgres


def ingress(cl, name, host, svc, port, ns=None, age=60 * DAY, port_name=None):
    backend = {"service": {"name": svc, "port": ({"name": port_name} if port_name else {"number": port})}}
    return cl.add({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                   "metadata": cl.meta("Ingress", name, ns=ns, age=age, generation=1,
                                       annotations={"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}),
                   "spec": {"ingressClassName": "nginx",
                            "tls": [{"hosts": [host], "secretName": f"{name}-tls"}],
                            "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                                         "backend": backend}]}}]},
                   "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-ingressn-ingressn-4f1c2d3e5a-0123456789.elb.eu-west-1.amazonaws.com"}]}}})


def ingress_class(cl):
    cl.add({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "nginx", "uid": uid("IngressClass", "", "nginx"), "creationTimestamp": ts(90 * DAY),
                         "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
                         "labels": {"app.kubernetes.io/name": "ingress-nginx"}},
            "spec": {"controller": "k8s.io/ingress-nginx"}})


def simple_app(cl, name, image, port, replicas=2, age=20 * DAY, labels=None, env=None, readiness="/healthz",
               port_name="http", svc=True, svc_selector=None, svc_port=80, svc_target=None, revision="1", ns=None,
               first_node=0, extra_ports=None, restarts=0):
    ns = ns or cl.ns
    labels = labels or {"app": name}
    ports = [(port_name, port)] + (extra_ports or [])
    c = cl.container(name, image, ports=ports, env=env,
                     readiness=probe_http(readiness, port_name) if readiness else None)
    rs = rs_name(name, ns, revision)
    pods = ready_pods(cl, name, rs, c, replicas, age=age, ns=ns, first_node=first_node, restarts=restarts)
    cl.deployment(name, [c], replicas, pods, rs_hash=rs, labels=labels, revision=revision,
                  generation=int(revision), age=max(age, 20 * DAY), ns=ns)
    if svc:
        cl.service(name, svc_selector or labels, [(port_name, svc_port, svc_target or port_name)], ns=ns,
                   age=max(age, 20 * DAY))
    return c, rs, pods


# ============================================================================ networking
@scenario("service-selector-typo", "networking", "easy", 1,
          task="https://shop.acme.io answers 503 Service Temporarily Unavailable since the Service was re-applied 20 minutes ago (namespace web). Why?",
          root_cause="Service storefront selects app=store-front, but the storefront pods are labelled app=storefront: "
                     "the selector matches no pod, the Service has no endpoints, and ingress-nginx answers 503.",
          must=[["selector"], ["store-front", "match(es)? no", "no (ready )?(pods|endpoints)", "matches nothing"]],
          affected=["Service/storefront", "Ingress/storefront", "Endpoints/storefront"],
          namespace="web")
def selector_typo():
    cl = Cluster("web")
    background(cl, 0)
    ingress_class(cl)
    c, rs, pods = simple_app(cl, "storefront", "ghcr.io/acme/storefront:9.4.0", 3000, replicas=3, svc=False)
    cl.service("storefront", {"app": "store-front"}, [("http", 80, "http")], age=20)
    cl.endpoints("storefront", [], [], age=20)
    ingress(cl, "storefront", "shop.acme.io", "storefront", 80)
    return cl


@scenario("service-targetport-mismatch", "networking", "medium", 2,
          task="Image thumbnails stopped loading in namespace media after this morning's thumbnailer release. The gallery logs show errors. Find the root cause.",
          root_cause="Service thumbnailer sends traffic to targetPort 8080, but thumbnailer 2.0 listens on 3000 "
                     "(containerPort http: 3000): connections to the Service are refused although the pods are ready.",
          must=[["targetPort", "target port"], ["8080", "3000"]],
          affected=["Service/thumbnailer", "Deployment/thumbnailer", "ReplicaSet/thumbnailer-*", "Pod/thumbnailer-*",
                    "Endpoints/thumbnailer"],
          namespace="media")
def targetport_mismatch():
    cl = Cluster("media")
    background(cl, 1)
    c, rs, pods = simple_app(cl, "thumbnailer", "ghcr.io/acme/thumbnailer:2.0.0", 3000, replicas=2, age=4 * 60,
                             svc=False, revision="4")
    ip = cl.service("thumbnailer", {"app": "thumbnailer"}, [("http", 80, 8080)], age=200 * DAY)
    cl.endpoints("thumbnailer", [(f"thumbnailer-{rs}-{p['sfx']}", p["node"]) for p in pods], [("http", 8080)],
                 age=200 * DAY)
    gc, grs, gpods = simple_app(cl, "gallery", "ghcr.io/acme/gallery:6.2.1", 8080, replicas=2, age=9 * DAY,
                                env=[{"name": "THUMBNAILER_URL", "value": "http://thumbnailer.media.svc.cluster.local"}])
    cl.endpoints("gallery", [(f"gallery-{grs}-{p['sfx']}", p["node"]) for p in gpods], [("http", 8080)], age=20 * DAY)
    for i, p in enumerate(gpods):
        pn = f"gallery-{grs}-{p['sfx']}"
        lines = []
        for k in range(6):
            t = 3.5 - k * 0.5
            lines.append(f'{log_ts(t)} INFO  GET /albums/{4411 + k} 200 38ms')
            lines.append(f'{log_ts(t - 0.01)} ERROR thumbnail fetch failed album={4411 + k} url=http://thumbnailer.media.svc.cluster.local/v1/thumb/{88120 + k}?w=320 '
                         f'err="Get \\"http://thumbnailer.media.svc.cluster.local/v1/thumb/{88120 + k}?w=320\\": dial tcp {ip}:80: connect: connection refused"')
        cl.pod_logs(pn, "gallery", current="\n".join(lines) + "\n")
    cl.event("Deployment", "thumbnailer", "ScalingReplicaSet", f"Scaled up replica set thumbnailer-{rs} to 2",
             component="deployment-controller", first=4 * 60, api="apps/v1")
    return cl


@scenario("db-port-mismatch", "networking", "hard", 3,
          task="inventory-api in namespace warehouse crash-loops, but the database looks healthy. Why?",
          root_cause="inventory-api connects to inventory-db:5432, and Service inventory-db forwards port 5432 to "
                     "targetPort 5432, but PostgreSQL in the inventory-db StatefulSet listens on 5433 (PGPORT=5433, "
                     "containerPort 5433): the connection is refused. The Service's targetPort must be 5433.",
          must=[["inventory-db"], ["5433"]],
          affected=["Deployment/inventory-api", "ReplicaSet/inventory-api-*", "Pod/inventory-api-*",
                    "Service/inventory-api", "Endpoints/inventory-api", "Service/inventory-db", "StatefulSet/inventory-db", "Endpoints/inventory-db"],
          namespace="warehouse", wrong_causes=["password authentication", "no such host"])
def db_port_mismatch():
    cl = Cluster("warehouse")
    background(cl, 2)
    pg_c, node = postgres(cl, "inventory-db", port=5433, pgport_env=[{"name": "PGPORT", "value": "5433"}])
    ip = cl.service("inventory-db", {"app": "inventory-db"}, [("postgres", 5432, 5432)], age=20 * DAY)
    cl.endpoints("inventory-db", [("inventory-db-0", node)], [("postgres", 5432)], age=20 * DAY)
    c = cl.container("inventory-api", "ghcr.io/acme/inventory-api:4.4.0", ports=[("http", 8000)],
                     env=[{"name": "DATABASE_URL", "value": "postgresql://inventory@inventory-db.warehouse.svc.cluster.local:5432/app"}],
                     readiness=probe_http("/healthz", "http"))
    rs = rs_name("inventory-api", "warehouse", "8")
    log = "\n".join([
        f"[{log_ts(0.6)}] [1] [INFO] Starting gunicorn 23.0.0",
        f"[{log_ts(0.6)}] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)",
        f"[{log_ts(0.6)}] [7] [INFO] Booting worker with pid: 7",
        f"[{log_ts(0.58)}] [7] [ERROR] Exception in worker process",
        "Traceback (most recent call last):",
        '  File "/app/inventory/db.py", line 24, in connect',
        "    return psycopg2.connect(os.environ[\"DATABASE_URL\"])",
        'psycopg2.OperationalError: connection to server at "inventory-db.warehouse.svc.cluster.local" (' + ip + '), port 5432 failed: Connection refused',
        "\tIs the server running on that host and accepting TCP/IP connections?",
        "",
        f"[{log_ts(0.57)}] [7] [INFO] Worker exiting (pid: 7)",
        f"[{log_ts(0.55)}] [1] [ERROR] Worker (pid:7) exited with code 3",
        f"[{log_ts(0.55)}] [1] [ERROR] Shutting down: Master",
        f"[{log_ts(0.55)}] [1] [ERROR] Reason: Worker failed to boot.",
    ]) + "\n"
    pods = crashloop_pods(cl, "inventory-api", rs, c, 2, restarts=17, exit_code=3, previous_log=log, age=70)
    cl.deployment("inventory-api", [c], 2, pods, rs_hash=rs, revision="8", generation=8, age=60 * DAY,
                  conditions=cl.deploy_conditions(60 * DAY, f"inventory-api-{rs}", available=False, available_since=69))
    cl.service("inventory-api", {"app": "inventory-api"}, [("http", 80, "http")], age=60 * DAY)
    endpoints_for(cl, "inventory-api", "inventory-api", rs, pods, [("http", 8000)], age=60 * DAY)
    # the StatefulSet's template was changed to 5433 75 minutes ago
    cl.event("StatefulSet", "inventory-db", "SuccessfulDelete", "delete Pod inventory-db-0 in StatefulSet inventory-db successful",
             component="statefulset-controller", first=75, api="apps/v1")
    cl.event("StatefulSet", "inventory-db", "SuccessfulCreate",
             "create Pod inventory-db-0 in StatefulSet inventory-db successful", component="statefulset-controller",
             first=74.5, api="apps/v1")
    return cl


@scenario("networkpolicy-blocks-redis", "networking", "hard", 2,
          task="mailer-worker in namespace queue crash-loops with Redis timeouts, while the api, which uses the same Redis, works. Why?",
          root_cause="Namespace queue has a default-deny ingress NetworkPolicy, and allow-redis-from-api admits "
                     "traffic to Redis only from pods labelled app=api; mailer-worker pods (app=mailer-worker) are "
                     "not allowed, so their connections to redis:6379 time out.",
          must=[["NetworkPolicy", "network polic"], ["allow-redis-from-api", "app=api", "app: api", "default-deny", "not allowed", "only from"]],
          affected=["Deployment/mailer-worker", "ReplicaSet/mailer-worker-*", "Pod/mailer-worker-*",
                    "NetworkPolicy/allow-redis-from-api", "NetworkPolicy/default-deny-ingress"],
          namespace="queue", wrong_causes=["redis (is )?down", "redis .*(crash|not running)"])
def netpol_blocks():
    cl = Cluster("queue")
    background(cl, 3)
    simple_app(cl, "api", "ghcr.io/acme/api:12.0.1", 8080, replicas=3,
               env=[{"name": "REDIS_URL", "value": "redis://redis.queue.svc.cluster.local:6379/0"}])
    redis_ip = [d for d in cl.docs if d["kind"] == "Service" and d["metadata"]["name"] == "redis"][0]["spec"]["clusterIP"]
    c = cl.container("mailer-worker", "ghcr.io/acme/mailer-worker:1.6.0",
                     env=[{"name": "REDIS_URL", "value": "redis://redis.queue.svc.cluster.local:6379/0"}])
    rs = rs_name("mailer-worker", "queue", "3")
    log = "\n".join([
        f"{log_ts(1.4)} info: mailer-worker 1.6.0 starting (concurrency=8)",
        f"{log_ts(1.4)} info: connecting to redis://redis.queue.svc.cluster.local:6379/0",
        f"{log_ts(1.23)} warn: [ioredis] Unhandled error event: Error: connect ETIMEDOUT",
        f"    at Socket.<anonymous> (/app/node_modules/ioredis/built/Redis.js:170:41)",
        f"{log_ts(1.06)} warn: [ioredis] Unhandled error event: Error: connect ETIMEDOUT",
        f"{log_ts(0.9)} error: queue connection failed: Error: connect ETIMEDOUT {redis_ip}:6379",
        f"{log_ts(0.9)} error: exiting with code 1",
    ]) + "\n"
    pods = crashloop_pods(cl, "mailer-worker", rs, c, 2, restarts=9, previous_log=log, age=3 * 60)
    cl.deployment("mailer-worker", [c], 2, pods, rs_hash=rs, revision="3", generation=3, age=100 * DAY,
                  conditions=cl.deploy_conditions(100 * DAY, f"mailer-worker-{rs}", available=False, available_since=175))
    cl.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": cl.meta("NetworkPolicy", "default-deny-ingress", age=3 * 60 + 5, generation=1),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    cl.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": cl.meta("NetworkPolicy", "allow-redis-from-api", age=3 * 60 + 5, generation=1),
            "spec": {"podSelector": {"matchLabels": {"app": "redis"}}, "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "api"}}}],
                                  "ports": [{"protocol": "TCP", "port": 6379}]}]}})
    cl.add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": cl.meta("NetworkPolicy", "allow-ingress-controller", age=3 * 60 + 5, generation=1),
            "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "frontend", "catalog", "notifications", "search"]}]},
                     "policyTypes": ["Ingress"],
                     "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]},
                                 {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 3000}, {"protocol": "TCP", "port": 9200}]}]}})
    return cl


@scenario("ingress-backend-missing-service", "networking", "easy", 1,
          task="blog.acme.io returns 503 since the blog was migrated to its new chart (namespace blog). What is wrong?",
          root_cause="Ingress blog routes to Service blog-web, which does not exist: the new chart's Service is named blog.",
          must=[["blog-web"], ["not found", "does not exist", "doesn't exist", "missing", "no (such )?service", "nonexistent", "non-existent"]],
          affected=["Ingress/blog"],
          namespace="blog")
def ingress_missing_service():
    cl = Cluster("blog")
    background(cl, 1)
    ingress_class(cl)
    simple_app(cl, "blog", "ghost:5.105.0", 2368, replicas=2, readiness="/ghost/api/admin/site/", age=2 * 60)
    c_, rs, pods = None, None, None
    d = [x for x in cl.docs if x["kind"] == "Deployment" and x["metadata"]["name"] == "blog"][0]
    rsname = [x for x in cl.docs if x["kind"] == "ReplicaSet" and x["metadata"]["name"].startswith("blog-")][0]["metadata"]["name"]
    pods = [(x["metadata"]["name"], x["spec"]["nodeName"]) for x in cl.docs if x["kind"] == "Pod" and x["metadata"]["name"].startswith(rsname)]
    cl.endpoints("blog", pods, [("http", 2368)], age=2 * 60)
    ingress(cl, "blog", "blog.acme.io", "blog-web", 80, age=300 * DAY)
    cl.event("Ingress", "blog", "Sync", "Scheduled for sync", component="nginx-ingress-controller", first=55,
             last=2, count=3, api="networking.k8s.io/v1")
    return cl


@scenario("coredns-forward-loop", "networking", "hard", 2,
          task="Since this morning's node image upgrade, services in namespace shop fail with name lookup errors. What is wrong?",
          root_cause="CoreDNS crash-loops in kube-system: its loop plugin detects a forwarding loop "
                     "(Loop (127.0.0.1:...) -> :53 detected for zone \".\"), because the nodes' new resolv.conf points at "
                     "a local resolver and CoreDNS forwards to /etc/resolv.conf; with no ready CoreDNS pod, kube-dns has "
                     "no endpoints and lookups are refused.",
          must=[["coredns", "kube-dns", "DNS"], ["loop"]],
          affected=["Deployment/coredns", "ReplicaSet/coredns-*", "Pod/coredns-*", "Service/kube-dns",
                    "Endpoints/kube-dns", "Deployment/cart", "ReplicaSet/cart-*", "Pod/cart-*"],
          namespace=None)
def coredns_loop():
    holder = {}

    def broken(c):
        cl = holder["cl"]
        rs = "7db6d8ff4d"
        log = "\n".join([
            ".:53",
            "[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908",
            "CoreDNS-1.11.3",
            "linux/amd64, go1.22.7, a6338e9",
            '[FATAL] plugin/loop: Loop (127.0.0.1:59312 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 4547991504243258144.3688648895315093531."',
        ]) + "\n"
        pods = crashloop_pods(cl, "coredns", rs, c, 2, restarts=12, previous_log=log, age=58, ns="kube-system")
        cl.deployment("coredns", [c], 2, pods, rs_hash=rs, labels={"k8s-app": "kube-dns"}, age=30 * DAY, ns="kube-system",
                      dep_labels={"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"},
                      template_extra={"volumes": [{"name": "config-volume", "configMap": {"name": "coredns", "defaultMode": 420,
                                                                                         "items": [{"key": "Corefile", "path": "Corefile"}]}}],
                                      "sa": "coredns"},
                      conditions=cl.deploy_conditions(30 * DAY, f"coredns-{rs}", available=False, available_since=57))
        cl.service("kube-dns", {"k8s-app": "kube-dns"}, [("dns", 53, 53), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
                   ns="kube-system", ip="10.100.0.10", age=30 * DAY, labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
        endpoints_for(cl, "kube-dns", "coredns", rs, pods, [("dns", 53), ("dns-tcp", 53), ("metrics", 9153)], ns="kube-system",
                      age=30 * DAY)
        cl.configmap("coredns", {"Corefile": ".:53 {\n    errors\n    health {\n        lameduck 5s\n    }\n    ready\n"
                                             "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n"
                                             "      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n"
                                             "    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n"
                                             "    loadbalance\n}\n"}, ns="kube-system", age=30 * DAY,
                     labels={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"})

    class DnsCluster(Cluster):
        def coredns(self, broken_=None):
            holder["cl"] = self
            return Cluster.coredns(self, broken)

    cl = DnsCluster("shop")
    background(cl, 2)
    # cart crash-loops on its first lookup; the others log errors and keep running
    redis_ip = "10.100.0.10"
    c = cl.container("cart", "ghcr.io/acme/cart:3.2.0", ports=[("grpc", 7070)],
                     env=[{"name": "REDIS_ADDR", "value": "redis.shop.svc.cluster.local:6379"}])
    rs = rs_name("cart", "shop", "5")
    log = "\n".join([
        f"{log_ts(0.7)} INFO cart service starting on :7070",
        f"{log_ts(0.69)} ERROR redis: dial tcp: lookup redis.shop.svc.cluster.local on {redis_ip}:53: read udp 10.244.1.45:41872->{redis_ip}:53: read: connection refused",
        f"{log_ts(0.69)} FATAL cannot reach cart store: dial tcp: lookup redis.shop.svc.cluster.local on {redis_ip}:53: read udp 10.244.1.45:41872->{redis_ip}:53: read: connection refused",
    ]) + "\n"
    pods = crashloop_pods(cl, "cart", rs, c, 2, restarts=8, previous_log=log, age=50, first_node=1)
    cl.deployment("cart", [c], 2, pods, rs_hash=rs, revision="5", generation=5, age=40 * DAY,
                  conditions=cl.deploy_conditions(40 * DAY, f"cart-{rs}", available=False, available_since=49))
    for n in cl.docs:
        if n["kind"] == "Node":
            n["status"]["nodeInfo"]["osImage"] = "Amazon Linux 2023.7.20250527"
            n["status"]["nodeInfo"]["bootID"] = uid("boot2", n["metadata"]["name"])
    return cl


# ============================================================================ storage
@scenario("pvc-storageclass-missing", "storage", "easy", 1,
          task="The new clickhouse StatefulSet in namespace data has been Pending for half an hour. Why?",
          root_cause="Its volume claim data-clickhouse-0 asks for StorageClass io2, which does not exist in the "
                     "cluster (only gp3): the claim stays Pending (ProvisioningFailed) and the pod cannot be scheduled.",
          must=[["io2"], ["StorageClass", "storage class", "storageclass"]],
          affected=["StatefulSet/clickhouse", "Pod/clickhouse-*", "PersistentVolumeClaim/data-clickhouse-*",
                    "Service/clickhouse", "Endpoints/clickhouse"],
          namespace="data")
def pvc_sc_missing():
    cl = Cluster("data")
    background(cl, 3)
    c = cl.container("clickhouse", "clickhouse/clickhouse-server:24.8.4", ports=[("http", 8123), ("native", 9000)],
                     requests={"cpu": "1", "memory": "4Gi"}, limits={"memory": "8Gi"},
                     mounts=[{"name": "data", "mountPath": "/var/lib/clickhouse"}])
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "io2",
                        "resources": {"requests": {"storage": "200Gi"}}, "volumeMode": "Filesystem"}}]
    msg = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    cl.statefulset("clickhouse", [c], 3, [{"phase": "Pending", "age": 31, "statuses": None, "node": None,
                                           "conditions": cl.conds_unschedulable(31, msg), "ready": False}],
                   age=31, claims=claims)
    cl.event("Pod", "clickhouse-0", "FailedScheduling", msg, type_="Warning", count=7, first=31, last=1,
             component="default-scheduler")
    cl.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": cl.meta("PersistentVolumeClaim", "data-clickhouse-0", age=31,
                                labels={"app": "clickhouse"}, annotations=None),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "200Gi"}},
                     "storageClassName": "io2", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}})
    cl.event("PersistentVolumeClaim", "data-clickhouse-0", "ProvisioningFailed",
             'storageclass.storage.k8s.io "io2" not found', type_="Warning", count=124, first=31, last=0.2,
             component="persistentvolume-controller")
    cl.event("StatefulSet", "clickhouse", "SuccessfulCreate",
             "create Claim data-clickhouse-0 Pod clickhouse-0 in StatefulSet clickhouse success",
             component="statefulset-controller", first=31, api="apps/v1")
    cl.event("StatefulSet", "clickhouse", "SuccessfulCreate", "create Pod clickhouse-0 in StatefulSet clickhouse successful",
             component="statefulset-controller", first=31, api="apps/v1")
    cl.service("clickhouse", {"app": "clickhouse"}, [("http", 8123, "http"), ("native", 9000, "native")], headless=True, age=31)
    cl.endpoints("clickhouse", [], [], age=31)
    return cl


@scenario("rwo-volume-multi-attach", "storage", "medium", 1,
          task="After scaling uploads to 2 replicas in namespace cms, the second pod is stuck in ContainerCreating. Why?",
          root_cause="Both replicas mount the same ReadWriteOnce EBS claim uploads-data; the volume is attached to the "
                     "node of the first pod, so the second pod on another node fails with a Multi-Attach error.",
          must=[["Multi-Attach", "ReadWriteOnce", "RWO", "already (used|attached)", "multi attach"]],
          affected=["Deployment/uploads", "ReplicaSet/uploads-*", "Pod/uploads-*", "PersistentVolumeClaim/uploads-data"],
          namespace="cms")
def rwo_multi_attach():
    cl = Cluster("cms")
    background(cl, 0)
    pv = bound_pvc(cl, "uploads-data", "50Gi", age=90 * DAY, zone_node="worker-1")
    c = cl.container("uploads", "ghcr.io/acme/uploads:3.3.1", ports=[("http", 8080)],
                     mounts=[{"name": "data", "mountPath": "/srv/uploads"}], readiness=probe_http("/healthz", "http"))
    rs = rs_name("uploads", "cms", "6")
    ok = ready_pods(cl, "uploads", rs, c, 1, age=20 * DAY, first_node=0)
    first = f"uploads-{rs}-{ok[0]['sfx']}"
    msg1 = f'Multi-Attach error for volume "{pv}" Volume is already used by pod(s) {first}'
    msg2 = ("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data kube-api-access-7xq2m]: "
            "timed out waiting for the condition")
    stuck = waiting_pods(cl, "uploads", rs, c, 1, "ContainerCreating", None, age=26, first_node=1, sandbox=False,
                         sfxs=[suffix("cms/uploads/second")],
                         events=lambda pn, node: (
                             cl.event("Pod", pn, "FailedAttachVolume", msg1, type_="Warning", count=1, first=25.9,
                                      component="attachdetach-controller"),
                             cl.event("Pod", pn, "FailedMount", msg2, type_="Warning", count=11, first=23.8, last=1.6,
                                      host=node)))
    cl.deployment("uploads", [c], 2, ok + stuck, rs_hash=rs, revision="6", generation=7, age=90 * DAY,
                  template_extra={"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "uploads-data"}}]})
    cl.event("Deployment", "uploads", "ScalingReplicaSet", f"Scaled up replica set uploads-{rs} to 2 from 1",
             component="deployment-controller", first=26, api="apps/v1")
    cl.service("uploads", {"app": "uploads"}, [("http", 80, "http")], age=90 * DAY)
    cl.endpoints("uploads", [(first, "worker-1")], [("http", 8080)], age=90 * DAY)
    return cl


@scenario("postgres-disk-full", "storage", "medium", 2,
          task="The ledger database in namespace finance keeps restarting and every app using it fails. What is wrong?",
          root_cause="PostgreSQL (ledger-db-0) PANICs because its volume is full: could not write to file "
                     "\"pg_wal/...\": No space left on device. The 5Gi claim data-ledger-db-0 must be expanded (or WAL "
                     "space freed).",
          must=[["No space left", "disk (is )?full", "volume (is )?full", "out of (disk|space)", "full"],
                ["data-ledger-db-0", "PVC", "PersistentVolumeClaim", "volume", "5Gi"]],
          affected=["StatefulSet/ledger-db", "Pod/ledger-db-*", "PersistentVolumeClaim/data-ledger-db-0",
                    "Service/ledger-db", "Endpoints/ledger-db"],
          namespace="finance", wrong_causes=["OOMKilled", "out of memory"])
def postgres_disk_full():
    cl = Cluster("finance")
    background(cl, 1)
    c = cl.container("postgres", "postgres:16.4", ports=[("postgres", 5432)],
                     env=[{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
                     requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "2Gi"},
                     readiness={"exec": {"command": ["pg_isready", "-U", "postgres"]}, "periodSeconds": 10,
                                "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 6},
                     mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}])
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "resources": {"requests": {"storage": "5Gi"}}, "volumeMode": "Filesystem"}}]
    log = "\n".join([
        f"{log_ts(0.9)} UTC [1] LOG:  starting PostgreSQL 16.4 (Debian 16.4-1.pgdg120+2) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
        f"{log_ts(0.9)} UTC [1] LOG:  listening on IPv4 address \"0.0.0.0\", port 5432",
        f"{log_ts(0.89)} UTC [29] LOG:  database system was interrupted; last known up at {log_ts(62)} UTC",
        f"{log_ts(0.88)} UTC [29] LOG:  database system was not properly shut down; automatic recovery in progress",
        f"{log_ts(0.87)} UTC [29] LOG:  redo starts at 1/7A3F2C18",
        f"{log_ts(0.85)} UTC [29] PANIC:  could not write to file \"pg_wal/xlogtemp.29\": No space left on device",
        f"{log_ts(0.85)} UTC [1] LOG:  startup process (PID 29) was terminated by signal 6: Aborted",
        f"{log_ts(0.85)} UTC [1] LOG:  aborting startup due to startup process failure",
        f"{log_ts(0.84)} UTC [1] LOG:  database system is shut down",
    ]) + "\n"
    pods = [{"node": "worker-2", "phase": "Running", "age": 25 * DAY,
             "statuses": [cl.cs_crashloop(c, "ledger-db-0", 13, 1, "Error", last_started=1.0, last_finished=0.84)],
             "conditions": cl.conds_not_ready(25 * DAY, ["postgres"], since=61), "ready": False}]
    cl.statefulset("ledger-db", [c], 1, pods, age=25 * DAY, claims=claims)
    cl.pod_logs("ledger-db-0", "postgres", previous=log, current=log.split("PANIC")[0].rsplit("\n", 1)[0] + "\n")
    bound_pvc(cl, "data-ledger-db-0", "5Gi", age=25 * DAY, zone_node="worker-2")
    cl.event("Pod", "ledger-db-0", "BackOff", f"Back-off restarting failed container postgres in pod ledger-db-0_finance({uid('Pod', 'finance', 'ledger-db-0')})",
             type_="Warning", count=240, first=60, last=0.5, host="worker-2", field_path="spec.containers{postgres}")
    cl.service("ledger-db", {"app": "ledger-db"}, [("postgres", 5432, "postgres")], age=25 * DAY)
    cl.endpoints("ledger-db", [], [("postgres", 5432)], not_ready=[("ledger-db-0", "worker-2")], age=25 * DAY)
    # an app that uses it, running but failing requests
    simple_app(cl, "ledger-api", "ghcr.io/acme/ledger-api:2.2.0", 8080, replicas=2)
    return cl


@scenario("pv-zone-node-cordoned", "storage", "hard", 2,
          task="loki-1 in namespace logging has been Pending since worker-2 was taken out of service for maintenance. Why can it not start elsewhere?",
          root_cause="loki-1's volume (claim storage-loki-1) is an EBS volume in zone eu-west-1b, and the only node in "
                     "that zone, worker-2, is cordoned (unschedulable); the other nodes are in other zones (volume node "
                     "affinity conflict). Uncordon worker-2 or add a node in eu-west-1b.",
          must=[["worker-2", "eu-west-1b"], ["cordon", "unschedulable", "volume node affinity", "zone"]],
          affected=["StatefulSet/loki", "Pod/loki-1", "PersistentVolumeClaim/storage-loki-1", "Node/worker-2"],
          namespace="logging")
def pv_zone():
    cl = Cluster("logging")
    for n in cl.docs:
        if n["kind"] == "Node" and n["metadata"]["name"] == "worker-2":
            n["spec"]["unschedulable"] = True
            n["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                                    "timeAdded": ts(47)}]
    background(cl, 0)
    # move the background's pods off the cordoned node (they were drained)
    for d in cl.docs:
        if d["kind"] == "Pod" and d["spec"].get("nodeName") == "worker-2":
            d["spec"]["nodeName"] = "worker-3"
            d["status"]["hostIP"] = cl.node_ips["worker-3"]
            d["status"]["hostIPs"] = [{"ip": cl.node_ips["worker-3"]}]
    for d in cl.docs:
        if d["kind"] == "Endpoints":
            for s in d.get("subsets", []):
                for a in s.get("addresses", []):
                    if a.get("nodeName") == "worker-2":
                        a["nodeName"] = "worker-3"
    c = cl.container("loki", "grafana/loki:3.3.2", ports=[("http-metrics", 3100), ("grpc", 9095)],
                     args=["-config.file=/etc/loki/config/config.yaml", "-target=all"],
                     requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "2Gi"},
                     readiness=probe_http("/ready", "http-metrics", initial=15),
                     mounts=[{"name": "storage", "mountPath": "/var/loki"}])
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "storage"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "resources": {"requests": {"storage": "50Gi"}}, "volumeMode": "Filesystem"}}]
    msg = ("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had volume node affinity conflict. "
           "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    pods = [{"node": "worker-1", "phase": "Running", "age": 40 * DAY, "statuses": [cl.cs_running(c, 40 * DAY)],
             "conditions": cl.conds_ready(40 * DAY)},
            {"node": None, "phase": "Pending", "age": 46, "statuses": None,
             "conditions": cl.conds_unschedulable(46, msg), "ready": False},
            {"node": "worker-3", "phase": "Running", "age": 40 * DAY, "statuses": [cl.cs_running(c, 40 * DAY)],
             "conditions": cl.conds_ready(40 * DAY)}]
    cl.statefulset("loki", [c], 3, pods, age=40 * DAY, claims=claims)
    for i, node in enumerate(["worker-1", "worker-2", "worker-3"]):
        bound_pvc(cl, f"storage-loki-{i}", "50Gi", age=40 * DAY, zone_node=node)
    cl.event("Pod", "loki-1", "FailedScheduling", msg, type_="Warning", count=14, first=46, last=2,
             component="default-scheduler")
    cl.event("Node", "worker-2", "NodeNotSchedulable", "Node worker-2 status is now: NodeNotSchedulable",
             first=47, component="kubelet", host="worker-2", ns="default")
    cl.service("loki", {"app": "loki"}, [("http-metrics", 3100, "http-metrics"), ("grpc", 9095, "grpc")], age=40 * DAY)
    cl.endpoints("loki", [("loki-0", "worker-1"), ("loki-2", "worker-3")], [("http-metrics", 3100), ("grpc", 9095)],
                 age=40 * DAY)
    return cl


# ============================================================================ scheduling
@scenario("insufficient-cpu", "scheduling", "easy", 1,
          task="The trainer deployment in namespace ml has been Pending since it was created. Why?",
          root_cause="Each trainer pod requests 6 CPUs, more than any node can offer (4-CPU nodes, 3920m allocatable): "
                     "the scheduler reports Insufficient cpu on every node.",
          must=[["Insufficient cpu", "cpu"], ["request", "6", "allocatable", "capacity"]],
          affected=["Deployment/trainer", "ReplicaSet/trainer-*", "Pod/trainer-*"],
          namespace="ml")
def insufficient_cpu():
    cl = Cluster("ml")
    background(cl, 1)
    c = cl.container("trainer", "ghcr.io/acme/trainer:0.8.0", requests={"cpu": "6", "memory": "8Gi"},
                     limits={"cpu": "6", "memory": "8Gi"})
    rs = rs_name("trainer", "ml")
    msg = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
           "3 No preemption victims found for incoming pod.")
    pods = pending_pods(cl, "trainer", rs, c, 1, msg, age=42)
    for p in pods:
        p["qos"] = "Guaranteed"
    cl.deployment("trainer", [c], 1, pods, rs_hash=rs, age=42,
                  conditions=cl.deploy_conditions(42, f"trainer-{rs}", available=False, available_since=42,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "trainer-{rs}" has timed out progressing.', 32)))
    return cl


@scenario("gpu-taint-not-tolerated", "scheduling", "medium", 1,
          task="llm-server in namespace inference stays Pending although we added a GPU node. Why?",
          root_cause="The GPU node gpu-1 carries the taint nvidia.com/gpu=present:NoSchedule and the llm-server pods "
                     "have no matching toleration; the other nodes do not match its nodeSelector, so no node fits.",
          must=[["taint", "toleration", "tolerate"], ["nvidia.com/gpu", "gpu-1"]],
          affected=["Deployment/llm-server", "ReplicaSet/llm-server-*", "Pod/llm-server-*", "Service/llm-server",
                    "Endpoints/llm-server"],
          namespace="inference")
def gpu_taint():
    cl = Cluster("inference")
    cl.node("gpu-1", zone="eu-west-1a", index=3, cpu="8", memory_ki=63922952, instance="g5.2xlarge",
            labels={"nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": "NVIDIA-A10G"},
            taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
    for n in cl.docs:
        if n["kind"] == "Node" and n["metadata"]["name"] == "gpu-1":
            n["status"]["capacity"]["nvidia.com/gpu"] = "1"
            n["status"]["allocatable"]["nvidia.com/gpu"] = "1"
            n["metadata"]["creationTimestamp"] = ts(3 * 60)
    background(cl, 2)
    c = cl.container("llm-server", "vllm/vllm-openai:v0.6.4", ports=[("http", 8000)],
                     args=["--model", "/models/llama-3.1-8b-instruct", "--max-model-len", "8192"],
                     requests={"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": "1"},
                     limits={"memory": "28Gi", "nvidia.com/gpu": "1"})
    rs = rs_name("llm-server", "inference")
    msg = ("0/4 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 3 node(s) didn't match "
           "Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
    pods = pending_pods(cl, "llm-server", rs, c, 1, msg, age=2 * 60 + 40)
    cl.deployment("llm-server", [c], 1, pods, rs_hash=rs, age=2 * 60 + 40,
                  template_extra={"node_selector": {"nvidia.com/gpu.present": "true"}},
                  conditions=cl.deploy_conditions(160, f"llm-server-{rs}", available=False, available_since=160,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "llm-server-{rs}" has timed out progressing.', 150)))
    cl.service("llm-server", {"app": "llm-server"}, [("http", 80, "http")], age=160)
    cl.endpoints("llm-server", [], [], age=160)
    return cl


@scenario("nodeselector-no-match", "scheduling", "easy", 1,
          task="video-encoder in namespace media-batch never gets a node. What is wrong?",
          root_cause="Its nodeSelector requires node.kubernetes.io/instance-type=c6i.4xlarge, and no node has that "
                     "label (all nodes are m5.xlarge): 3 node(s) didn't match Pod's node affinity/selector.",
          must=[["nodeSelector", "node selector", "affinity", "didn't match", "does not match"], ["c6i\\.4xlarge", "instance-type"]],
          affected=["Deployment/video-encoder", "ReplicaSet/video-encoder-*", "Pod/video-encoder-*"],
          namespace="media-batch")
def nodeselector():
    cl = Cluster("media-batch")
    background(cl, 3)
    c = cl.container("encoder", "ghcr.io/acme/video-encoder:1.2.0", requests={"cpu": "2", "memory": "4Gi"},
                     limits={"memory": "6Gi"})
    rs = rs_name("video-encoder", "media-batch")
    msg = ("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
           "available: 3 Preemption is not helpful for scheduling.")
    pods = pending_pods(cl, "video-encoder", rs, c, 2, msg, age=75)
    cl.deployment("video-encoder", [c], 2, pods, rs_hash=rs, age=75,
                  template_extra={"node_selector": {"node.kubernetes.io/instance-type": "c6i.4xlarge"}},
                  conditions=cl.deploy_conditions(75, f"video-encoder-{rs}", available=False, available_since=75,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "video-encoder-{rs}" has timed out progressing.', 65)))
    return cl


@scenario("anti-affinity-too-many-replicas", "scheduling", "medium", 1,
          task="nats in namespace messaging was scaled to 4 replicas; one stays Pending. Why?",
          root_cause="The nats pods have a required pod anti-affinity on kubernetes.io/hostname (one per node) and the "
                     "cluster has only 3 schedulable nodes, so the 4th replica cannot be placed.",
          must=[["anti-?affinity"]],
          affected=["Deployment/nats", "ReplicaSet/nats-*", "Pod/nats-*"],
          namespace="messaging")
def anti_affinity():
    cl = Cluster("messaging")
    background(cl, 0)
    aff = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "nats"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    c = cl.container("nats", "nats:2.10.24-alpine", ports=[("client", 4222), ("cluster", 6222), ("monitor", 8222)],
                     readiness=probe_http("/healthz?js-enabled-only=true", "monitor"))
    rs = rs_name("nats", "messaging", "2")
    ok = ready_pods(cl, "nats", rs, c, 3, age=15 * DAY)
    msg = ("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are "
           "available: 3 No preemption victims found for incoming pod.")
    pend = pending_pods(cl, "nats", rs, c, 1, msg, age=33, sfxs=[suffix("messaging/nats/4th")])
    cl.deployment("nats", [c], 4, ok + pend, rs_hash=rs, revision="2", generation=3, age=60 * DAY,
                  template_extra={"affinity": aff})
    cl.event("Deployment", "nats", "ScalingReplicaSet", f"Scaled up replica set nats-{rs} to 4 from 3",
             component="deployment-controller", first=33, api="apps/v1")
    cl.service("nats", {"app": "nats"}, [("client", 4222, "client")], age=60 * DAY)
    endpoints_for(cl, "nats", "nats", rs, ok, [("client", 4222)], age=60 * DAY)
    return cl


@scenario("node-notready-statefulset", "scheduling", "medium", 2,
          task="Kafka in namespace streaming is running with 2 of 3 brokers since about 15 minutes ago. Why?",
          root_cause="Node worker-3 is NotReady (Kubelet stopped posting node status 14 minutes ago); kafka-2 was on "
                     "it and is stuck Terminating, and the StatefulSet will not start a replacement until the node "
                     "comes back or the pod is force-deleted.",
          must=[["worker-3"], ["NotReady", "not ready", "unreachable", "stopped posting", "status unknown", "down", "lost"]],
          affected=["StatefulSet/kafka", "Pod/kafka-2", "Node/worker-3", "Service/kafka", "Endpoints/kafka"],
          namespace="streaming")
def node_notready():
    cl = Cluster("streaming")
    for n in cl.docs:
        if n["kind"] == "Node" and n["metadata"]["name"] == "worker-3":
            since = 14
            for cond in n["status"]["conditions"]:
                cond.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                             "message": "Kubelet stopped posting node status.", "lastTransitionTime": ts(since),
                             "lastHeartbeatTime": ts(since + 0.7)})
            n["spec"]["taints"] = [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": ts(since)},
                                   {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ts(since - 0.1)}]
    background(cl, 1)
    # the background's pods on worker-3 were evicted and replaced elsewhere
    for d in cl.docs:
        if d["kind"] == "Pod" and d["spec"].get("nodeName") == "worker-3":
            d["spec"]["nodeName"] = "worker-1"
            d["status"]["hostIP"] = cl.node_ips["worker-1"]
            d["status"]["hostIPs"] = [{"ip": cl.node_ips["worker-1"]}]
    for d in cl.docs:
        if d["kind"] == "Endpoints":
            for s in d.get("subsets", []):
                for a in s.get("addresses", []):
                    if a.get("nodeName") == "worker-3":
                        a["nodeName"] = "worker-1"
    c = cl.container("kafka", "bitnami/kafka:3.8.1", ports=[("client", 9092), ("controller", 9093)],
                     requests={"cpu": "500m", "memory": "2Gi"}, limits={"memory": "3Gi"},
                     readiness={"tcpSocket": {"port": "client"}, "initialDelaySeconds": 10, "periodSeconds": 10,
                                "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 6},
                     mounts=[{"name": "data", "mountPath": "/bitnami/kafka"}])
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "resources": {"requests": {"storage": "100Gi"}}, "volumeMode": "Filesystem"}}]
    age = 30 * DAY
    stale = cl.cs_running(c, age)
    stale["ready"] = False
    pods = [{"node": "worker-1", "phase": "Running", "age": age, "statuses": [cl.cs_running(c, age)], "conditions": cl.conds_ready(age)},
            {"node": "worker-2", "phase": "Running", "age": age, "statuses": [cl.cs_running(c, age)], "conditions": cl.conds_ready(age)},
            {"node": "worker-3", "phase": "Running", "age": age, "statuses": [stale], "ready": False, "deleting": 8.5,
             "conditions": [cl.cond("PodReadyToStartContainers", "True", age), cl.cond("Initialized", "True", age),
                            cl.cond("Ready", "False", 13.9, "NodeNotReady", None),
                            cl.cond("ContainersReady", "True", age), cl.cond("PodScheduled", "True", age),
                            {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                             "lastTransitionTime": ts(8.5), "reason": "DeletionByTaintManager",
                             "message": "Taint manager: deleting due to NoExecute taint"}]}]
    for p in pods[2:]:
        p["conditions"][2].pop("reason", None)
        p["conditions"][2]["status"] = "False"
    cl.statefulset("kafka", [c], 3, pods, age=age, claims=claims, service="kafka-headless")
    for i, node in enumerate(["worker-1", "worker-2", "worker-3"]):
        bound_pvc(cl, f"data-kafka-{i}", "100Gi", age=age, zone_node=node)
    cl.event("Pod", "kafka-2", "NodeNotReady", "Node is not ready", type_="Warning", first=13.9, component="node-controller")
    cl.event("Pod", "kafka-2", "TaintManagerEviction", "Marking for deletion Pod streaming/kafka-2", first=8.5,
             component="taint-eviction-controller")
    cl.event("Node", "worker-3", "NodeNotReady", "Node worker-3 status is now: NodeNotReady", first=13.9,
             component="node-controller", ns="default")
    cl.service("kafka", {"app": "kafka"}, [("client", 9092, "client")], age=age)
    cl.service("kafka-headless", {"app": "kafka"}, [("client", 9092, "client"), ("controller", 9093, "controller")],
               headless=True, age=age)
    cl.endpoints("kafka", [("kafka-0", "worker-1"), ("kafka-1", "worker-2")], [("client", 9092)],
                 not_ready=[("kafka-2", "worker-3")], age=age)
    return cl


@scenario("pdb-blocks-drain", "scheduling", "medium", 1,
          task="The drain of node worker-2 for its kernel upgrade has not finished after 20 minutes. What is blocking it?",
          root_cause="PodDisruptionBudget zookeeper requires minAvailable 3 of the 3 zookeeper pods, so no disruption "
                     "is ever allowed (disruptionsAllowed 0): the eviction of zookeeper-1 on worker-2 is refused and the "
                     "drain retries forever.",
          must=[["PodDisruptionBudget", "disruption budget", "PDB"], ["zookeeper"]],
          affected=["PodDisruptionBudget/zookeeper", "Node/worker-2", "StatefulSet/zookeeper", "Pod/zookeeper-1"],
          namespace="coord")
def pdb_drain():
    cl = Cluster("coord")
    for n in cl.docs:
        if n["kind"] == "Node" and n["metadata"]["name"] == "worker-2":
            n["spec"]["unschedulable"] = True
            n["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": ts(21)}]
    background(cl, 2)
    for d in cl.docs:
        if d["kind"] == "Pod" and d["spec"].get("nodeName") == "worker-2" and d["metadata"]["namespace"] == "coord":
            d["spec"]["nodeName"] = "worker-1"
            d["status"]["hostIP"] = cl.node_ips["worker-1"]
            d["status"]["hostIPs"] = [{"ip": cl.node_ips["worker-1"]}]
    for d in cl.docs:
        if d["kind"] == "Endpoints" and d["metadata"]["namespace"] == "coord":
            for s in d.get("subsets", []):
                for a in s.get("addresses", []):
                    if a.get("nodeName") == "worker-2":
                        a["nodeName"] = "worker-1"
    c = cl.container("zookeeper", "bitnami/zookeeper:3.9.3", ports=[("client", 2181), ("follower", 2888), ("election", 3888)],
                     readiness={"exec": {"command": ["/bin/bash", "-ec", "ZOO_HC_TIMEOUT=2 /opt/bitnami/scripts/zookeeper/healthcheck.sh"]},
                                "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 5, "successThreshold": 1,
                                "failureThreshold": 6})
    age = 50 * DAY
    pods = [{"node": n, "phase": "Running", "age": age, "statuses": [cl.cs_running(c, age)], "conditions": cl.conds_ready(age)}
            for n in ["worker-1", "worker-2", "worker-3"]]
    cl.statefulset("zookeeper", [c], 3, pods, age=age, service="zookeeper-headless")
    cl.add({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": cl.meta("PodDisruptionBudget", "zookeeper", age=age, generation=1),
            "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "zookeeper"}}},
            "status": {"observedGeneration": 1, "disruptionsAllowed": 0, "currentHealthy": 3, "desiredHealthy": 3,
                       "expectedPods": 3,
                       "conditions": [{"type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods",
                                       "message": "", "observedGeneration": 1, "lastTransitionTime": ts(age)}]}})
    cl.add({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": cl.meta("PodDisruptionBudget", "frontend", age=age, generation=1),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "frontend"}}},
            "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2,
                       "expectedPods": 3,
                       "conditions": [{"type": "DisruptionAllowed", "status": "True", "reason": "SufficientPods",
                                       "message": "", "observedGeneration": 1, "lastTransitionTime": ts(age)}]}})
    cl.event("Node", "worker-2", "NodeNotSchedulable", "Node worker-2 status is now: NodeNotSchedulable",
             first=21, host="worker-2", ns="default")
    cl.service("zookeeper", {"app": "zookeeper"}, [("client", 2181, "client")], age=age)
    cl.service("zookeeper-headless", {"app": "zookeeper"}, [("follower", 2888, "follower"), ("election", 3888, "election")],
               headless=True, age=age)
    cl.endpoints("zookeeper", [("zookeeper-0", "worker-1"), ("zookeeper-1", "worker-2"), ("zookeeper-2", "worker-3")],
                 [("client", 2181)], age=age)
    return cl
