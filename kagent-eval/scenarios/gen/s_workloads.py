"""Workloads and configuration scenarios."""
from common import *  # noqa: F403

POSTGRES = "postgres:16.4"


def postgres(cl, name, port=5432, ns=None, age=20 * DAY, node_i=1, pgport_env=None):
    c = cl.container("postgres", POSTGRES, ports=[("postgres", port)],
                     env=[{"name": "POSTGRES_DB", "value": "app"},
                          {"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": f"{name}-credentials", "key": "password"}}},
                          {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}] + (pgport_env or []),
                     requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "1Gi"},
                     readiness={"exec": {"command": ["pg_isready", "-U", "postgres", "-p", str(port)]},
                                "periodSeconds": 10, "timeoutSeconds": 5, "successThreshold": 1, "failureThreshold": 6},
                     mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}])
    node = cl.node_names[node_i % len(cl.node_names)]
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
               "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3",
                        "resources": {"requests": {"storage": "20Gi"}}, "volumeMode": "Filesystem"}}]
    cl.statefulset(name, [c], 1, [{"node": node, "phase": "Running", "age": age, "statuses": [cl.cs_running(c, age)],
                                   "conditions": cl.conds_ready(age)}], ns=ns, age=age, claims=claims)
    bound_pvc(cl, f"data-{name}-0", "20Gi", ns=ns, age=age, zone_node=node)
    cl.secret(f"{name}-credentials", {"password": "s3cr3t-" + name, "username": "postgres"}, ns=ns, age=age)
    return c, node


def bound_pvc(cl, name, size, ns=None, age=10 * DAY, zone_node="worker-1", sc="gp3", used_by=None):
    ns = ns or cl.ns
    pv = "pvc-" + uid("PersistentVolumeClaim", ns, name)
    zone = [n for n in cl.docs if n["kind"] == "Node" and n["metadata"]["name"] == zone_node][0]["metadata"]["labels"]["topology.kubernetes.io/zone"]
    cl.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": cl.meta("PersistentVolumeClaim", name, ns=ns, age=age,
                                annotations={"pv.kubernetes.io/bind-completed": "yes",
                                             "pv.kubernetes.io/bound-by-controller": "yes",
                                             "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                                             "volume.kubernetes.io/selected-node": zone_node,
                                             "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                     "storageClassName": sc, "volumeMode": "Filesystem", "volumeName": pv},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}}})
    cl.add({"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv, "uid": uid("PersistentVolume", "", pv), "creationTimestamp": ts(age - 0.2),
                         "annotations": {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
                                         "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                         "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
                         "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"]},
            "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
                     "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name, "namespace": ns,
                                  "uid": uid("PersistentVolumeClaim", ns, name)},
                     "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4",
                             "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": "1746000000000-8081-ebs.csi.aws.com"},
                             "volumeHandle": "vol-0" + uid("vol", pv).replace("-", "")[:16]},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
                     "persistentVolumeReclaimPolicy": "Delete", "storageClassName": sc, "volumeMode": "Filesystem"},
            "status": {"phase": "Bound", "lastPhaseTransitionTime": ts(age - 0.2)}})
    return pv


# ============================================================================ workloads
@scenario("crashloop-db-auth-failure", "workloads", "easy", 1,
          task="The orders API in namespace orders has answered 503 for the last 40 minutes. What is wrong?",
          root_cause="The orders-api pods crash at start-up because PostgreSQL rejects their login: "
                     "password authentication failed for user \"orders\" (SQLSTATE 28P01); the password in Secret "
                     "orders-api-db no longer matches the database's.",
          must=[["password authentication failed", "authentication (fail|error)", "credentials? (are |were )?(rejected|invalid|wrong)",
                 "(wrong|invalid|incorrect|rejected) (database )?password", "28P01"]],
          affected=["Deployment/orders-api", "ReplicaSet/orders-api-*", "Pod/orders-api-*", "Service/orders-api"],
          namespace="orders", wrong_causes=["OOMKilled", "out of memory"])
def crashloop_db_auth():
    cl = Cluster("orders")
    background(cl, 0)
    postgres(cl, "orders-db")
    cl.secret("orders-api-db", {"DATABASE_USER": "orders", "DATABASE_PASSWORD": "rotated-2025-05"}, age=45)
    c = cl.container("orders-api", "ghcr.io/acme/orders-api:2.8.1", ports=[("http", 8080)],
                     env=[{"name": "DATABASE_HOST", "value": "orders-db.orders.svc.cluster.local"},
                          {"name": "DATABASE_NAME", "value": "orders"}],
                     env_from=[{"secretRef": {"name": "orders-api-db"}}],
                     readiness=probe_http("/readyz", "http"))
    rs = rs_name("orders-api", "orders")
    db_ip = "10.100.61.24"
    log = "\n".join([
        f'{{"level":"info","ts":"{log_ts(0.9)}","caller":"cmd/main.go:61","msg":"starting orders-api","version":"2.8.1","commit":"9f1c2ab"}}',
        f'{{"level":"info","ts":"{log_ts(0.9)}","caller":"db/pool.go:44","msg":"connecting to database","host":"orders-db.orders.svc.cluster.local","port":5432,"database":"orders","user":"orders"}}',
        f'{{"level":"error","ts":"{log_ts(0.88)}","caller":"db/pool.go:58","msg":"database ping failed","attempt":1,"error":"failed to connect to `user=orders database=orders`: {db_ip}:5432 (orders-db.orders.svc.cluster.local): failed SASL auth: FATAL: password authentication failed for user \\"orders\\" (SQLSTATE 28P01)"}}',
        f'{{"level":"error","ts":"{log_ts(0.85)}","caller":"db/pool.go:58","msg":"database ping failed","attempt":2,"error":"failed to connect to `user=orders database=orders`: {db_ip}:5432 (orders-db.orders.svc.cluster.local): failed SASL auth: FATAL: password authentication failed for user \\"orders\\" (SQLSTATE 28P01)"}}',
        f'{{"level":"fatal","ts":"{log_ts(0.8)}","caller":"cmd/main.go:77","msg":"cannot start without a database","error":"giving up after 3 attempts"}}',
    ]) + "\n"
    pods = crashloop_pods(cl, "orders-api", rs, c, 3, restarts=11, previous_log=log, age=44)
    cl.deployment("orders-api", [c], 3, pods, rs_hash=rs, revision="14", generation=14, age=40 * DAY,
                  conditions=cl.deploy_conditions(40 * DAY, f"orders-api-{rs}", available=False, available_since=43))
    cl.service("orders-api", {"app": "orders-api"}, [("http", 80, "http")], age=40 * DAY)
    endpoints_for(cl, "orders-api", "orders-api", rs, pods, [("http", 8080)], age=40 * DAY)
    return cl


@scenario("exec-not-found", "workloads", "easy", 1,
          task="invoice-renderer in namespace billing never starts after the switch to the new base image. Why?",
          root_cause="The container's command is `gunicorn`, which is not in the new image: the runtime fails with "
                     "exec: \"gunicorn\": executable file not found in $PATH (StartError, exit 128).",
          must=[["executable file not found", "not found in \\$PATH", "no such file", "command .*not (found|exist)", "does not (exist|contain)"],
                ["gunicorn"]],
          affected=["Deployment/invoice-renderer", "ReplicaSet/invoice-renderer-*", "Pod/invoice-renderer-*",
                    "Service/invoice-renderer"],
          namespace="billing")
def exec_not_found():
    cl = Cluster("billing")
    background(cl, 1)
    c = cl.container("invoice-renderer", "ghcr.io/acme/invoice-renderer:5.0.0-slim", ports=[("http", 8000)],
                     command=["gunicorn"], args=["renderer.wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "2"])
    rs = rs_name("invoice-renderer", "billing", "6")
    msg = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: '
           'unable to start container process: exec: "gunicorn": executable file not found in $PATH: unknown')
    pods = crashloop_pods(cl, "invoice-renderer", rs, c, 2, restarts=8, exit_code=128, reason="StartError",
                          message=msg, age=28, events=True)
    for p in pod_names("invoice-renderer", rs, pods):
        node = [x for x in pods if p.endswith(x["sfx"])][0]["node"]
        cl.event("Pod", p, "Failed", f"Error: {msg}", type_="Warning", count=9, first=27.8, last=0.6, host=node,
                 field_path="spec.containers{invoice-renderer}")
        cl.pod_logs(p, "invoice-renderer", current="", previous="")
    old_rs = {"name": f"invoice-renderer-{rs_name('invoice-renderer', 'billing', '5')}",
              "labels": {"app": "invoice-renderer", "pod-template-hash": rs_name("invoice-renderer", "billing", "5")},
              "containers": [cl.container("invoice-renderer", "ghcr.io/acme/invoice-renderer:4.9.2", ports=[("http", 8000)],
                                          command=["gunicorn"], args=["renderer.wsgi:app", "--bind", "0.0.0.0:8000"])],
              "age": 9 * DAY, "revision": "5"}
    cl.deployment("invoice-renderer", [c], 2, pods, rs_hash=rs, revision="6", generation=6, age=90 * DAY,
                  old_rs=[old_rs], strategy={"type": "Recreate"},
                  conditions=cl.deploy_conditions(90 * DAY, f"invoice-renderer-{rs}", available=False, available_since=28,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "invoice-renderer-{rs}" has timed out progressing.', 18)))
    cl.service("invoice-renderer", {"app": "invoice-renderer"}, [("http", 80, "http")], age=90 * DAY)
    endpoints_for(cl, "invoice-renderer", "invoice-renderer", rs, pods, [("http", 8000)], age=90 * DAY)
    return cl


@scenario("oomkilled-memory-limit", "workloads", "easy", 1,
          task="event-aggregator in namespace analytics keeps restarting. What is going on?",
          root_cause="The aggregator container is OOM-killed (exit 137) when it loads a batch: its memory use exceeds "
                     "its 512Mi limit.",
          must=[["OOMKilled", "out of memory", "OOM", "memory limit"], ["limit", "512Mi"]],
          affected=["Deployment/event-aggregator", "ReplicaSet/event-aggregator-*", "Pod/event-aggregator-*"],
          namespace="analytics")
def oomkilled():
    cl = Cluster("analytics")
    background(cl, 2)
    c = cl.container("aggregator", "ghcr.io/acme/event-aggregator:1.22.0",
                     requests={"cpu": "500m", "memory": "512Mi"}, limits={"memory": "512Mi"},
                     env=[{"name": "BATCH_SIZE", "value": "50000"}, {"name": "KAFKA_BROKERS", "value": "kafka.analytics:9092"}])
    rs = rs_name("event-aggregator", "analytics", "3")
    log = "\n".join([
        f"{log_ts(2.4)} INFO  aggregator: consumer group joined topic=events partitions=[0 1 2 3 4 5]",
        f"{log_ts(2.3)} INFO  aggregator: batch 1 loaded events=50000 window=5m",
        f"{log_ts(2.1)} INFO  aggregator: batch 2 loaded events=50000 window=5m",
        f"{log_ts(1.9)} INFO  aggregator: compacting sessions open=812344",
        f"{log_ts(1.7)} INFO  aggregator: batch 3 loaded events=50000 window=5m",
    ]) + "\n"
    pods = crashloop_pods(cl, "event-aggregator", rs, c, 2, restarts=9, exit_code=137, reason="OOMKilled",
                          previous_log=log, age=3 * 60, started_ago=1.6)
    cl.deployment("event-aggregator", [c], 2, pods, rs_hash=rs, revision="3", generation=3, age=30 * DAY,
                  conditions=cl.deploy_conditions(30 * DAY, f"event-aggregator-{rs}", available=False, available_since=170))
    return cl


@scenario("liveness-kills-slow-start", "workloads", "medium", 1,
          task="The ledger service in namespace accounts restarts every minute or so and never becomes ready. Why?",
          root_cause="The liveness probe kills the container before the application has started: the Spring Boot app "
                     "needs about 90 s to start, but the liveness probe starts after 15 s and fails 3 times 10 s apart, "
                     "so the kubelet restarts it (exit 143) while it is still starting. A startupProbe (or a longer "
                     "initialDelaySeconds) fixes it.",
          must=[["liveness"], ["start(s|ing|up)? ?(is |too )?(slow|time|takes)", "initialDelaySeconds", "startupProbe",
                               "startup probe", "before (it|the app|the application|the container) (has |is )?(start|finish|ready)",
                               "still starting", "too (short|aggressive|early|soon)", "while (it is )?starting", "during start"]],
          affected=["Deployment/ledger", "ReplicaSet/ledger-*", "Pod/ledger-*", "Service/ledger"],
          namespace="accounts", wrong_causes=["OOMKilled", "out of memory"])
def liveness_slow_start():
    cl = Cluster("accounts")
    background(cl, 3)
    postgres(cl, "ledger-db")
    c = cl.container("ledger", "ghcr.io/acme/ledger:3.4.1", ports=[("http", 8080)],
                     requests={"cpu": "500m", "memory": "1Gi"}, limits={"memory": "1536Mi"},
                     env=[{"name": "JAVA_TOOL_OPTIONS", "value": "-XX:MaxRAMPercentage=75"},
                          {"name": "SPRING_DATASOURCE_URL", "value": "jdbc:postgresql://ledger-db:5432/app"}],
                     liveness=probe_http("/actuator/health/liveness", "http", initial=15, period=10, failure=3),
                     readiness=probe_http("/actuator/health/readiness", "http", initial=10, period=5, failure=3))
    rs = rs_name("ledger", "accounts", "9")
    pods = crashloop_pods(cl, "ledger", rs, c, 2, restarts=14, exit_code=143, reason="Error", age=52,
                          previous_log=java_startup("ledger", 1.6, lines=10), started_ago=1.0, backoff="2m40s")
    for pn, p in zip(pod_names("ledger", rs, pods), pods):
        ip = None
        fp = "spec.containers{ledger}"
        cl.event("Pod", pn, "Unhealthy",
                 f'Liveness probe failed: Get "http://10.244.{cl.node_names.index(p["node"])}.77:8080/actuator/health/liveness": dial tcp 10.244.{cl.node_names.index(p["node"])}.77:8080: connect: connection refused',
                 type_="Warning", count=45, first=51.6, last=1.1, host=p["node"], field_path=fp)
        cl.event("Pod", pn, "Unhealthy",
                 f'Readiness probe failed: Get "http://10.244.{cl.node_names.index(p["node"])}.77:8080/actuator/health/readiness": dial tcp 10.244.{cl.node_names.index(p["node"])}.77:8080: connect: connection refused',
                 type_="Warning", count=88, first=51.7, last=1.0, host=p["node"], field_path=fp)
        cl.event("Pod", pn, "Killing", "Container ledger failed liveness probe, will be restarted",
                 count=14, first=51.2, last=1.1, host=p["node"], field_path=fp)
    cl.deployment("ledger", [c], 2, pods, rs_hash=rs, revision="9", generation=9, age=60 * DAY,
                  conditions=cl.deploy_conditions(60 * DAY, f"ledger-{rs}", available=False, available_since=51))
    cl.service("ledger", {"app": "ledger"}, [("http", 80, "http")], age=60 * DAY)
    endpoints_for(cl, "ledger", "ledger", rs, pods, [("http", 8080)], age=60 * DAY)
    return cl


@scenario("init-container-migration-fails", "workloads", "medium", 1,
          task="The checkout pods in namespace shop are stuck and never start since today's release. What is wrong?",
          root_cause="The init container db-migrate crash-loops: the Alembic migration fails with "
                     "DuplicateColumn: column \"discount_code\" of relation \"orders\" already exists, so the app "
                     "container never starts (Init:CrashLoopBackOff).",
          must=[["db-migrate", "init container", "migration"], ["already exists", "DuplicateColumn", "discount_code"]],
          affected=["Deployment/checkout", "ReplicaSet/checkout-*", "Pod/checkout-*", "Service/checkout"],
          namespace="shop")
def init_migration():
    cl = Cluster("shop")
    background(cl, 0)
    postgres(cl, "shop-db")
    image = "ghcr.io/acme/checkout:7.3.0"
    init = cl.container("db-migrate", image, command=["alembic", "upgrade", "head"],
                        env=[{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "url"}}}],
                        requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"})
    c = cl.container("checkout", image, ports=[("http", 8080)],
                     env=[{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "url"}}}],
                     readiness=probe_http("/health/ready", "http"))
    cl.secret("checkout-db", {"url": "postgresql://checkout:pw@shop-db.shop.svc.cluster.local:5432/app"}, age=200 * 60)
    rs = rs_name("checkout", "shop", "31")
    log = "\n".join([
        "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
        "INFO  [alembic.runtime.migration] Will assume transactional DDL.",
        "INFO  [alembic.runtime.migration] Running upgrade 7c1e2d9a4b10 -> 3fa8b21c9d77, add discount codes to orders",
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context',
        "    self.dialect.do_execute(",
        '  File "/usr/local/lib/python3.12/site-packages/sqlalchemy/engine/default.py", line 941, in do_execute',
        "    cursor.execute(statement, parameters)",
        'psycopg2.errors.DuplicateColumn: column "discount_code" of relation "orders" already exists',
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "/usr/local/bin/alembic", line 8, in <module>',
        "    sys.exit(main())",
        '  File "/app/migrations/versions/3fa8b21c9d77_add_discount_codes.py", line 21, in upgrade',
        '    op.add_column("orders", sa.Column("discount_code", sa.String(length=32), nullable=True))',
        'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column "discount_code" of relation "orders" already exists',
        "",
        '[SQL: ALTER TABLE orders ADD COLUMN discount_code VARCHAR(32)]',
        "(Background on this error at: https://sqlalche.me/e/20/f405)",
    ]) + "\n"
    pods = []
    for i in range(2):
        sfx = suffix(f"shop/checkout/{rs}/{i}")
        pn = f"checkout-{rs}-{sfx}"
        node = cl.node_names[i]
        ist = cl.cs_crashloop(init, pn, 9 - i, 1, "Error", last_started=1.3, last_finished=1.1)
        cst = cl.cs_waiting(c, "PodInitializing")
        pods.append({"sfx": sfx, "node": node, "phase": "Pending", "age": 38, "statuses": [cst], "init_statuses": [ist],
                     "conditions": cl.conds_not_ready(38, ["checkout"], initialized=False, init_names=["db-migrate"]),
                     "ready": False})
        cl.pod_logs(pn, "db-migrate", previous=log, current=log.split("Traceback")[0])
        fp = "spec.initContainers{db-migrate}"
        cl.event("Pod", pn, "Scheduled", f"Successfully assigned shop/{pn} to {node}", component="default-scheduler", first=38)
        cl.event("Pod", pn, "Pulled", f'Container image "{image}" already present on machine', count=10, first=37.9, last=1.3,
                 host=node, field_path=fp)
        cl.event("Pod", pn, "Created", "Created container db-migrate", count=10, first=37.9, last=1.3, host=node, field_path=fp)
        cl.event("Pod", pn, "Started", "Started container db-migrate", count=10, first=37.9, last=1.3, host=node, field_path=fp)
        cl.event("Pod", pn, "BackOff", f"Back-off restarting failed container db-migrate in pod {pn}_shop({uid('Pod', 'shop', pn)})",
                 type_="Warning", count=160, first=37, last=0.2, host=node, field_path=fp)
    old = rs_name("checkout", "shop", "30")
    old_c = cl.container("checkout", "ghcr.io/acme/checkout:7.2.4", ports=[("http", 8080)],
                         readiness=probe_http("/health/ready", "http"))
    cl.deployment("checkout", [c], 2, pods, rs_hash=rs, revision="31", generation=31, age=120 * DAY,
                  template_extra={"init": [init]}, strategy={"type": "Recreate"},
                  old_rs=[{"name": f"checkout-{old}", "labels": {"app": "checkout", "pod-template-hash": old},
                           "containers": [old_c], "age": 6 * DAY, "revision": "30"}],
                  conditions=cl.deploy_conditions(120 * DAY, f"checkout-{rs}", available=False, available_since=38,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "checkout-{rs}" has timed out progressing.', 28)))
    cl.service("checkout", {"app": "checkout"}, [("http", 80, "http")], age=120 * DAY)
    cl.endpoints("checkout", [], [("http", 8080)], age=120 * DAY)
    return cl


# ============================================================================ configuration
@scenario("missing-env-var", "configuration", "easy", 1,
          task="payment-gateway 3.1.0 was rolled out in namespace payments an hour ago and the new version never came up. Why?",
          root_cause="Version 3.1.0 requires the environment variable STRIPE_WEBHOOK_SECRET, which the Deployment "
                     "does not set: the new pod exits at start-up (Error: Missing required environment variable: "
                     "STRIPE_WEBHOOK_SECRET) and the rollout is stuck; the old pods still serve.",
          must=[["STRIPE_WEBHOOK_SECRET"], ["missing", "not set", "required", "absent", "undefined", "no .*variable"]],
          affected=["Deployment/payment-gateway", "ReplicaSet/payment-gateway-*", "Pod/payment-gateway-*"],
          namespace="payments")
def missing_env():
    cl = Cluster("payments")
    background(cl, 1)
    env = [{"name": "NODE_ENV", "value": "production"},
           {"name": "STRIPE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "stripe", "key": "api-key"}}}]
    cl.secret("stripe", {"api-key": "sk_live_x", "webhook-secret": "whsec_x"}, age=200 * DAY)
    c_new = cl.container("payment-gateway", "ghcr.io/acme/payment-gateway:3.1.0", ports=[("http", 3000)], env=env,
                         readiness=probe_http("/healthz", "http"))
    c_old = cl.container("payment-gateway", "ghcr.io/acme/payment-gateway:3.0.7", ports=[("http", 3000)], env=env,
                         readiness=probe_http("/healthz", "http"))
    new, old = rs_name("payment-gateway", "payments", "7"), rs_name("payment-gateway", "payments", "6")
    log = "\n".join([
        "", "> payment-gateway@3.1.0 start", "> node dist/server.js", "",
        "/app/dist/config.js:41",
        "    throw new Error(`Missing required environment variable: ${name}`);",
        "    ^", "",
        "Error: Missing required environment variable: STRIPE_WEBHOOK_SECRET",
        "    at required (/app/dist/config.js:41:11)",
        "    at Object.<anonymous> (/app/dist/config.js:58:25)",
        "    at Module._compile (node:internal/modules/cjs/loader:1554:14)",
        "    at Object..js (node:internal/modules/cjs/loader:1706:10)",
        "    at Module.load (node:internal/modules/cjs/loader:1289:32)",
        "    at Function._load (node:internal/modules/cjs/loader:1108:12)",
        "    at Module.require (node:internal/modules/cjs/loader:1311:12)",
        "    at require (node:internal/modules/helpers:136:16)",
        "    at Object.<anonymous> (/app/dist/server.js:7:16)", "",
        "Node.js v20.18.1",
    ]) + "\n"
    new_pods = crashloop_pods(cl, "payment-gateway", new, c_new, 1, restarts=16, previous_log=log, age=62)
    old_pods = ready_pods(cl, "payment-gateway", old, c_old, 2, age=9 * DAY, first_node=1)
    # the Deployment owns two ReplicaSets: the old one serving, the new one stuck
    cl.add({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": cl.meta("Deployment", "payment-gateway", labels={"app": "payment-gateway"}, age=200 * DAY,
                                generation=7, annotations={"deployment.kubernetes.io/revision": "7"}),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "payment-gateway"}},
                     "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "payment-gateway"}},
                                  "spec": cl.template_spec([c_new])},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                     "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": 7, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2,
                       "availableReplicas": 2, "unavailableReplicas": 1,
                       "conditions": cl.deploy_conditions(200 * DAY, f"payment-gateway-{new}", available=True,
                                                          available_since=9 * DAY,
                                                          progressing=("False", "ProgressDeadlineExceeded",
                                                                       f'ReplicaSet "payment-gateway-{new}" has timed out progressing.', 51))}})
    cl.replicaset("payment-gateway", f"payment-gateway-{old}", 2, 2, {"app": "payment-gateway", "pod-template-hash": old},
                  [c_old], 9 * DAY, "6")
    cl.replicaset("payment-gateway", f"payment-gateway-{new}", 1, 0, {"app": "payment-gateway", "pod-template-hash": new},
                  [c_new], 62, "7")
    cl._pods_for(f"payment-gateway-{old}", "ReplicaSet", {"app": "payment-gateway", "pod-template-hash": old}, [c_old],
                 old_pods, "payments", None)
    cl._pods_for(f"payment-gateway-{new}", "ReplicaSet", {"app": "payment-gateway", "pod-template-hash": new}, [c_new],
                 new_pods, "payments", None)
    cl.event("Deployment", "payment-gateway", "ScalingReplicaSet", f"Scaled up replica set payment-gateway-{new} to 1",
             component="deployment-controller", first=62, api="apps/v1")
    cl.service("payment-gateway", {"app": "payment-gateway"}, [("http", 80, "http")], age=200 * DAY)
    cl.endpoints("payment-gateway", [(f"payment-gateway-{old}-{p['sfx']}", p["node"]) for p in old_pods], [("http", 3000)],
                 not_ready=[(f"payment-gateway-{new}-{p['sfx']}", p["node"]) for p in new_pods], age=200 * DAY)
    return cl


@scenario("secret-key-missing", "configuration", "easy", 1,
          task="crm-backend in namespace crm has not started since it was redeployed. Find the cause.",
          root_cause="The container's DB_PASSWORD comes from key `password` of Secret crm-db, but that Secret only has "
                     "the keys `username` and `postgres-password`: CreateContainerConfigError \"couldn't find key "
                     "password in Secret crm/crm-db\".",
          must=[["couldn't find key", "key .*password.* (is )?(missing|not found|does not exist|absent)", "no key",
                 "missing key", "(has|have|contains) no .*password"], ["crm-db"]],
          affected=["Deployment/crm-backend", "ReplicaSet/crm-backend-*", "Pod/crm-backend-*", "Service/crm-backend"],
          namespace="crm")
def secret_key_missing():
    cl = Cluster("crm")
    background(cl, 2)
    cl.secret("crm-db", {"username": "crm", "postgres-password": "pw"}, age=20 * DAY)
    c = cl.container("crm-backend", "ghcr.io/acme/crm-backend:11.0.3", ports=[("http", 8080)],
                     env=[{"name": "DB_HOST", "value": "crm-db-postgresql"},
                          {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "crm-db", "key": "username"}}},
                          {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "crm-db", "key": "password"}}}],
                     readiness=probe_http("/health", "http"))
    rs = rs_name("crm-backend", "crm", "4")
    msg = "couldn't find key password in Secret crm/crm-db"
    pods = waiting_pods(cl, "crm-backend", rs, c, 2, "CreateContainerConfigError", msg, age=22,
                        events=lambda pn, node: (
                            cl.event("Pod", pn, "Pulled", f'Container image "{c["image"]}" already present on machine',
                                     count=104, first=21.9, last=0.4, host=node, field_path="spec.containers{crm-backend}"),
                            cl.event("Pod", pn, "Failed", f"Error: {msg}", type_="Warning", count=104, first=21.9,
                                     last=0.4, host=node, field_path="spec.containers{crm-backend}")))
    cl.deployment("crm-backend", [c], 2, pods, rs_hash=rs, revision="4", generation=4, age=20 * DAY,
                  strategy={"type": "Recreate"},
                  conditions=cl.deploy_conditions(20 * DAY, f"crm-backend-{rs}", available=False, available_since=22,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "crm-backend-{rs}" has timed out progressing.', 12)))
    cl.service("crm-backend", {"app": "crm-backend"}, [("http", 80, "http")], age=20 * DAY)
    cl.endpoints("crm-backend", [], [("http", 8080)], age=20 * DAY)
    return cl


@scenario("configmap-missing-envfrom", "configuration", "easy", 1,
          task="The indexer in namespace search is not running. What is wrong?",
          root_cause="The indexer's envFrom references ConfigMap indexer-settings, which does not exist (the ConfigMap "
                     "in the namespace is called indexer-config): CreateContainerConfigError.",
          must=[["indexer-settings"], ["not found", "missing", "does not exist", "doesn't exist", "absent"]],
          affected=["Deployment/indexer", "ReplicaSet/indexer-*", "Pod/indexer-*"],
          namespace="search")
def configmap_missing():
    cl = Cluster("search")
    background(cl, 3)
    cl.configmap("indexer-config", {"INDEX_BATCH": "500", "ES_URL": "http://search:9200"}, age=40 * DAY)
    c = cl.container("indexer", "ghcr.io/acme/indexer:2.1.0",
                     env_from=[{"configMapRef": {"name": "indexer-settings"}}])
    rs = rs_name("indexer", "search", "2")
    msg = 'configmap "indexer-settings" not found'
    pods = waiting_pods(cl, "indexer", rs, c, 1, "CreateContainerConfigError", msg, age=16,
                        events=lambda pn, node: cl.event("Pod", pn, "Failed", f"Error: {msg}", type_="Warning", count=77,
                                                         first=15.9, last=0.2, host=node,
                                                         field_path="spec.containers{indexer}"))
    cl.deployment("indexer", [c], 1, pods, rs_hash=rs, revision="2", generation=2, age=40 * DAY,
                  strategy={"type": "Recreate"},
                  conditions=cl.deploy_conditions(40 * DAY, f"indexer-{rs}", available=False, available_since=16,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "indexer-{rs}" has timed out progressing.', 6)))
    return cl


@scenario("configmap-volume-missing", "configuration", "easy", 1,
          task="The edge gateway pods in namespace edge are stuck in ContainerCreating. Why?",
          root_cause="The pods mount ConfigMap gateway-nginx-conf as a volume, and that ConfigMap does not exist "
                     "(the chart now creates gateway-nginx): MountVolume.SetUp fails, so the containers never start.",
          must=[["gateway-nginx-conf"], ["not found", "missing", "does not exist", "doesn't exist"]],
          affected=["Deployment/gateway", "ReplicaSet/gateway-*", "Pod/gateway-*", "Service/gateway"],
          namespace="edge")
def configmap_volume_missing():
    cl = Cluster("edge")
    background(cl, 0)
    cl.configmap("gateway-nginx", {"nginx.conf": "events {}\nhttp { include /etc/nginx/conf.d/*.conf; }\n"}, age=35)
    c = cl.container("nginx", "nginx:1.27.3", ports=[("http", 80)],
                     mounts=[{"name": "nginx-conf", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf"}],
                     readiness=probe_http("/healthz", "http"))
    rs = rs_name("gateway", "edge", "12")
    msg = 'MountVolume.SetUp failed for volume "nginx-conf" : configmap "gateway-nginx-conf" not found'
    pods = waiting_pods(cl, "gateway", rs, c, 2, "ContainerCreating", None, age=34, sandbox=False,
                        events=lambda pn, node: cl.event("Pod", pn, "FailedMount", msg, type_="Warning", count=24,
                                                         first=33.9, last=1.8, host=node))
    vols = [{"name": "nginx-conf", "configMap": {"name": "gateway-nginx-conf", "defaultMode": 420}}]
    cl.deployment("gateway", [c], 2, pods, rs_hash=rs, revision="12", generation=12, age=80 * DAY,
                  template_extra={"volumes": vols}, strategy={"type": "Recreate"},
                  conditions=cl.deploy_conditions(80 * DAY, f"gateway-{rs}", available=False, available_since=34,
                                                  progressing=("False", "ProgressDeadlineExceeded",
                                                               f'ReplicaSet "gateway-{rs}" has timed out progressing.', 24)))
    cl.service("gateway", {"app": "gateway"}, [("http", 80, "http")], age=80 * DAY)
    cl.endpoints("gateway", [], [("http", 80)], age=80 * DAY)
    return cl


@scenario("config-invalid-duration", "configuration", "medium", 2,
          task="log-shipper in namespace ingest crash-loops after this morning's config change. What exactly is wrong and where do we fix it?",
          root_cause="FLUSH_INTERVAL is \"30sec\", which is not a Go duration (time: unknown unit \"sec\"); the value "
                     "comes from key flush_interval of ConfigMap log-shipper-config, changed this morning. It must be "
                     "\"30s\".",
          must=[["FLUSH_INTERVAL", "flush_interval", "30sec"], ["log-shipper-config"]],
          affected=["Deployment/log-shipper", "ReplicaSet/log-shipper-*", "Pod/log-shipper-*", "ConfigMap/log-shipper-config"],
          namespace="ingest")
def config_invalid_duration():
    cl = Cluster("ingest")
    background(cl, 1)
    cl.configmap("log-shipper-config", {"flush_interval": "30sec", "batch_size": "2000",
                                        "sink_url": "http://loki-gateway.logging.svc:80/loki/api/v1/push"}, age=50 * DAY)
    c = cl.container("log-shipper", "ghcr.io/acme/log-shipper:0.14.2",
                     env=[{"name": "FLUSH_INTERVAL", "valueFrom": {"configMapKeyRef": {"name": "log-shipper-config", "key": "flush_interval"}}},
                          {"name": "BATCH_SIZE", "valueFrom": {"configMapKeyRef": {"name": "log-shipper-config", "key": "batch_size"}}},
                          {"name": "SINK_URL", "valueFrom": {"configMapKeyRef": {"name": "log-shipper-config", "key": "sink_url"}}}])
    rs = rs_name("log-shipper", "ingest", "3")
    log = "\n".join([
        f'time={log_ts(0.7)} level=INFO msg="log-shipper starting" version=0.14.2',
        f'time={log_ts(0.7)} level=ERROR msg="invalid configuration" err="FLUSH_INTERVAL: time: unknown unit \\"sec\\" in duration \\"30sec\\""',
        f'time={log_ts(0.7)} level=ERROR msg="exiting" code=1',
    ]) + "\n"
    pods = crashloop_pods(cl, "log-shipper", rs, c, 2, restarts=21, previous_log=log, age=95)
    cl.deployment("log-shipper", [c], 2, pods, rs_hash=rs, revision="3", generation=3, age=50 * DAY,
                  conditions=cl.deploy_conditions(50 * DAY, f"log-shipper-{rs}", available=False, available_since=94))
    return cl


@scenario("db-host-wrong-service-name", "configuration", "hard", 2,
          task="stock-service in namespace inventory cannot start. Find the root cause.",
          root_cause="DB_HOST (from ConfigMap stock-service-env) is postgres.inventory.svc.cluster.local, but there is "
                     "no Service named postgres in inventory: the database's Service is inventory-postgres, so the "
                     "lookup fails with \"no such host\" and the app exits.",
          must=[["no such host", "does not exist", "doesn't exist", "no service (named|called)", "not resolve", "NXDOMAIN", "wrong (host|service)"],
                ["inventory-postgres", "stock-service-env", "DB_HOST"]],
          affected=["Deployment/stock-service", "ReplicaSet/stock-service-*", "Pod/stock-service-*",
                    "ConfigMap/stock-service-env"],
          namespace="inventory", wrong_causes=["password authentication"])
def db_host_wrong():
    cl = Cluster("inventory")
    background(cl, 2)
    postgres(cl, "inventory-postgres")
    cl.configmap("stock-service-env", {"DB_HOST": "postgres.inventory.svc.cluster.local", "DB_PORT": "5432",
                                       "DB_NAME": "stock"}, age=4 * 60)
    c = cl.container("stock-service", "ghcr.io/acme/stock-service:1.9.0", ports=[("http", 8080)],
                     env_from=[{"configMapRef": {"name": "stock-service-env"}}],
                     readiness=probe_http("/ready", "http"))
    rs = rs_name("stock-service", "inventory", "5")
    log = "\n".join([
        f"{log_ts(0.5)} INFO  stock-service 1.9.0 starting",
        f"{log_ts(0.5)} INFO  opening database postgres.inventory.svc.cluster.local:5432/stock",
        f"{log_ts(0.45)} ERROR db: dial tcp: lookup postgres.inventory.svc.cluster.local on 10.100.0.10:53: no such host",
        f"{log_ts(0.45)} FATAL could not open database: dial tcp: lookup postgres.inventory.svc.cluster.local on 10.100.0.10:53: no such host",
    ]) + "\n"
    pods = crashloop_pods(cl, "stock-service", rs, c, 2, restarts=44, previous_log=log, age=4 * 60 - 2)
    cl.deployment("stock-service", [c], 2, pods, rs_hash=rs, revision="5", generation=5, age=30 * DAY,
                  conditions=cl.deploy_conditions(30 * DAY, f"stock-service-{rs}", available=False, available_since=4 * 60 - 3))
    cl.service("inventory-postgres", {"app": "inventory-postgres"}, [("postgres", 5432, "postgres")], age=20 * DAY)
    cl.endpoints("inventory-postgres", [("inventory-postgres-0", cl.node_names[1])], [("postgres", 5432)], age=20 * DAY)
    return cl


@scenario("resourcequota-exceeded", "scheduling", "medium", 2,
          task="feature-store in namespace team-ml was scaled to 6 replicas an hour ago but still runs 2. Why?",
          root_cause="The ReplicaSet cannot create the extra pods: ResourceQuota team-ml-quota caps requests.cpu at 4 "
                     "and 3500m are used, so each new pod (1 CPU) is forbidden (exceeded quota).",
          must=[["quota"], ["team-ml-quota", "requests\\.cpu", "cpu"]],
          affected=["Deployment/feature-store", "ReplicaSet/feature-store-*", "ResourceQuota/team-ml-quota"],
          namespace="team-ml")
def quota_exceeded():
    cl = Cluster("team-ml")
    background(cl, 3)
    c = cl.container("feature-store", "ghcr.io/acme/feature-store:0.31.0", ports=[("grpc", 6566)],
                     requests={"cpu": "1", "memory": "2Gi"}, limits={"memory": "4Gi"})
    rs = rs_name("feature-store", "team-ml", "2")
    pods = ready_pods(cl, "feature-store", rs, c, 2, age=8 * DAY)
    msg = (f'Error creating: pods "feature-store-{rs}-" is forbidden: exceeded quota: team-ml-quota, requested: '
           f'requests.cpu=1, used: requests.cpu=3500m, limited: requests.cpu=4')
    cl.add({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": cl.meta("ResourceQuota", "team-ml-quota", age=90 * DAY),
            "spec": {"hard": {"requests.cpu": "4", "requests.memory": "16Gi", "limits.memory": "32Gi", "pods": "20"}},
            "status": {"hard": {"requests.cpu": "4", "requests.memory": "16Gi", "limits.memory": "32Gi", "pods": "20"},
                       "used": {"requests.cpu": "3500m", "requests.memory": "7Gi", "limits.memory": "14Gi", "pods": "9"}}})
    cl.deployment("feature-store", [c], 6, pods, rs_hash=rs, revision="2", generation=3, age=30 * DAY,
                  status={"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                          "availableReplicas": 2, "unavailableReplicas": 4},
                  conditions=[
                      {"type": "Available", "status": "False", "lastUpdateTime": ts(61), "lastTransitionTime": ts(61),
                       "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
                      {"type": "ReplicaFailure", "status": "True", "lastUpdateTime": ts(61), "lastTransitionTime": ts(61),
                       "reason": "FailedCreate", "message": msg},
                      {"type": "Progressing", "status": "False", "lastUpdateTime": ts(51), "lastTransitionTime": ts(51),
                       "reason": "ProgressDeadlineExceeded",
                       "message": f'ReplicaSet "feature-store-{rs}" has timed out progressing.'}])
    # the ReplicaSet wants 6 and has 2; its events say why
    for d in cl.docs:
        if d["kind"] == "ReplicaSet" and d["metadata"]["name"] == f"feature-store-{rs}":
            d["spec"]["replicas"] = 6
            d["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = "6"
            d["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "lastTransitionTime": ts(61),
                                          "reason": "FailedCreate", "message": msg}]
    cl.event("Deployment", "feature-store", "ScalingReplicaSet", f"Scaled up replica set feature-store-{rs} to 6 from 2",
             component="deployment-controller", first=61, api="apps/v1")
    cl.event("ReplicaSet", f"feature-store-{rs}", "FailedCreate", msg, type_="Warning", count=19, first=61, last=2,
             component="replicaset-controller", api="apps/v1")
    cl.service("feature-store", {"app": "feature-store"}, [("grpc", 6566, "grpc")], age=30 * DAY)
    endpoints_for(cl, "feature-store", "feature-store", rs, pods, [("grpc", 6566)], age=30 * DAY)
    return cl
