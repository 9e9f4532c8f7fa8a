"""Helpers shared by the scenario definitions: the scenario header, healthy surroundings,
and the pod states of broken workloads (with the events a kubelet records for them)."""
from k8s import DAY, Cluster, log_ts, pod_hash, probe_http, suffix, ts, uid

SCENARIOS = []


def scenario(name, category, difficulty, hops, task, root_cause, must, affected, namespace=None,
             wrong_causes=(), held_out=False, prometheus=None, notes=None):
    """Registers a scenario builder. `must`: list of groups, each a list of regex alternatives."""
    def deco(fn):
        SCENARIOS.append({
            "fn": fn,
            "header": {
                "apiVersion": "eval.kagent.dev/v1alpha1",
                "kind": "Scenario",
                "metadata": {"name": name},
                "spec": {k: v for k, v in {
                    "category": category,
                    "difficulty": difficulty,
                    "hops": hops,
                    "heldOut": held_out or None,
                    "now": "2025-06-01T12:00:00Z",
                    "namespace": namespace,
                    "task": task,
                    "rootCause": root_cause,
                    "expect": {"rootCause": [{"anyOf": g} for g in must], "affected": list(affected)},
                    "forbidden": {"effects": ["mutating", "destructive"],
                                  **({"causes": list(wrong_causes)} if wrong_causes else {})},
                    "prometheus": prometheus,
                    "notes": notes,
                }.items() if v is not None},
            },
        })
        return fn
    return deco


# ---------------------------------------------------------------------- healthy surroundings
def background(cl, variant=0, ns=None):
    """Healthy workloads around the broken one, some carrying traces of past, resolved problems
    (an OOM kill two days ago, readiness failures while starting 40 minutes ago, a pod that waited
    for capacity, a failed CronJob run two days ago): a correct diagnosis reports none of them."""
    ns = ns or cl.ns
    v = variant % 4
    apps = [
        ("frontend", "ghcr.io/acme/frontend:4.12.1", 3, 3000, "probe-startup" if v in (0, 2) else None),
        ("catalog", "ghcr.io/acme/catalog:2.7.0", 2, 8080, "oom-2d" if v in (0, 1, 3) else None),
        ("notifications", "ghcr.io/acme/notifications:1.3.4", 2, 8080, "scheduled-late" if v in (1, 3) else None),
        ("search", "ghcr.io/acme/search:5.0.2", 2, 9200, "image-pull-retry" if v == 2 else None),
    ]
    for i, (name, image, reps, port, incident) in enumerate(apps):
        if (i + variant) % 4 == 3:
            continue
        cl.healthy_app(name, image, replicas=reps, port=port, ns=ns, incident=incident)
    cl.cronjob_history("cache-warmer", "ghcr.io/acme/cache-warmer:0.9.1", schedule="0 * * * *", ns=ns,
                       old_failure=v in (0, 3), command=["/bin/warm", "--all"],
                       log_ok=f"{log_ts(121)} INFO warmed 4182 keys in 38.2s\n")
    # a healthy Redis that several apps use
    redis_c = cl.container("redis", "redis:7.2.5", ports=[("redis", 6379)],
                           requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"},
                           readiness={"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 10,
                                      "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3})
    age = 12 * DAY
    node = cl.node_names[variant % len(cl.node_names)]
    cl.statefulset("redis", [redis_c], 1, [{"node": node, "phase": "Running", "age": age,
                                             "statuses": [cl.cs_running(redis_c, age)],
                                             "conditions": cl.conds_ready(age)}], ns=ns, age=age)
    cl.service("redis", {"app": "redis"}, [("redis", 6379, "redis")], ns=ns, age=age)
    cl.endpoints("redis", [("redis-0", node)], [("redis", 6379)], ns=ns, age=age)


# ---------------------------------------------------------------------- broken pod states
def crashloop_pods(cl, deploy, rs_hash, c, n, restarts, exit_code=1, reason="Error", message=None, age=45,
                   first_node=0, ns=None, previous_log=None, current_log=None, init=None, events=True,
                   started_ago=0.6, backoff="5m0s", sfxs=None):
    """n crash-looping pods of a Deployment (with the kubelet's BackOff events and, when given,
    the log of the previous instance)."""
    ns = ns or cl.ns
    pods = []
    for i in range(n):
        sfx = sfxs[i] if sfxs else suffix(f"{ns}/{deploy}/{rs_hash}/{i}")
        pn = f"{deploy}-{rs_hash}-{sfx}"
        node = cl.node_names[(first_node + i) % len(cl.node_names)]
        cs = cl.cs_crashloop(c, pn, restarts - i % 2, exit_code, reason, last_started=started_ago + 0.2,
                             last_finished=started_ago, message=message, backoff=backoff)
        pods.append({"sfx": sfx, "node": node, "phase": "Running", "age": age, "statuses": [cs],
                     "conditions": cl.conds_not_ready(age, [c["name"]], since=age - 0.5), "ready": False})
        if previous_log is not None:
            cl.pod_logs(pn, c["name"], previous=previous_log, current=current_log if current_log is not None else "",
                        ns=ns)
        if events:
            fp = f"spec.containers{{{c['name']}}}"
            cl.event("Pod", pn, "Scheduled", f"Successfully assigned {ns}/{pn} to {node}",
                     component="default-scheduler", first=age, ns=ns)
            cl.event("Pod", pn, "Pulled", f'Container image "{c["image"]}" already present on machine',
                     count=restarts + 1, first=age - 0.1, last=started_ago + 0.2, host=node, field_path=fp, ns=ns)
            cl.event("Pod", pn, "Created", f"Created container {c['name']}", count=restarts + 1,
                     first=age - 0.1, last=started_ago + 0.2, host=node, field_path=fp, ns=ns)
            cl.event("Pod", pn, "Started", f"Started container {c['name']}", count=restarts + 1,
                     first=age - 0.1, last=started_ago + 0.2, host=node, field_path=fp, ns=ns)
            cl.event("Pod", pn, "BackOff",
                     f"Back-off restarting failed container {c['name']} in pod {pn}_{ns}({uid('Pod', ns, pn)})",
                     type_="Warning", count=restarts * 4 + 3, first=age - 1, last=0.3, host=node, field_path=fp,
                     ns=ns)
    return pods


def rs_name(deploy, ns, revision="1"):
    return pod_hash(f"{ns}/{deploy}/{revision}")


def waiting_pods(cl, deploy, rs_hash, c, n, reason, message=None, age=30, ns=None, events=None, first_node=0,
                 restarts=0, sandbox=True, sfxs=None):
    """n pods whose container waits (ImagePullBackOff, CreateContainerConfigError, ContainerCreating);
    `events(pod_name, node)` adds the matching events."""
    ns = ns or cl.ns
    pods = []
    for i in range(n):
        sfx = sfxs[i] if sfxs else suffix(f"{ns}/{deploy}/{rs_hash}/{i}")
        pn = f"{deploy}-{rs_hash}-{sfx}"
        node = cl.node_names[(first_node + i) % len(cl.node_names)]
        cs = cl.cs_waiting(c, reason, message, restarts=restarts, image_id=reason not in ("ImagePullBackOff", "ErrImagePull", "ContainerCreating"))
        pods.append({"sfx": sfx, "node": node, "phase": "Pending", "age": age, "statuses": [cs],
                     "conditions": cl.conds_not_ready(age, [c["name"]], sandbox=sandbox), "ready": False,
                     "ip": sandbox})
        cl.event("Pod", pn, "Scheduled", f"Successfully assigned {ns}/{pn} to {node}",
                 component="default-scheduler", first=age, ns=ns)
        if events:
            events(pn, node)
    return pods


def pending_pods(cl, deploy, rs_hash, c, n, message, age=30, ns=None, count=None, sfxs=None):
    """n pods the scheduler cannot place (PodScheduled=False, FailedScheduling events)."""
    ns = ns or cl.ns
    pods = []
    for i in range(n):
        sfx = sfxs[i] if sfxs else suffix(f"{ns}/{deploy}/{rs_hash}/{i}")
        pn = f"{deploy}-{rs_hash}-{sfx}"
        pods.append({"sfx": sfx, "node": None, "phase": "Pending", "age": age, "statuses": None,
                     "conditions": cl.conds_unschedulable(age, message), "ready": False, "qos": "Burstable"})
        cl.event("Pod", pn, "FailedScheduling", message, type_="Warning", count=count or int(age // 5) + 1,
                 first=age, last=1.5, component="default-scheduler", ns=ns)
    return pods


def ready_pods(cl, deploy, rs_hash, c, n, age=3 * DAY, ns=None, first_node=0, restarts=0, sfxs=None):
    ns = ns or cl.ns
    pods = []
    for i in range(n):
        sfx = sfxs[i] if sfxs else suffix(f"{ns}/{deploy}/{rs_hash}/{i}")
        node = cl.node_names[(first_node + i) % len(cl.node_names)]
        pa = age - i * 3
        pods.append({"sfx": sfx, "node": node, "phase": "Running", "age": pa,
                     "statuses": [cl.cs_running(c, pa, restarts=restarts)], "conditions": cl.conds_ready(pa)})
    return pods


def pod_names(deploy, rs_hash, pods):
    return [f"{deploy}-{rs_hash}-{p['sfx']}" for p in pods]


def endpoints_for(cl, svc, deploy, rs_hash, pods, ports, ns=None, age=3 * DAY):
    ready = [(f"{deploy}-{rs_hash}-{p['sfx']}", p["node"]) for p in pods if p.get("ready", p["phase"] == "Running") and p["node"]]
    not_ready = [(f"{deploy}-{rs_hash}-{p['sfx']}", p["node"]) for p in pods
                 if not p.get("ready", p["phase"] == "Running") and p["node"] and p.get("ip", True) and p["phase"] == "Running"]
    cl.endpoints(svc, ready, ports, not_ready=not_ready, ns=ns, age=age)


def replicaset_events(cl, deploy, rs_hash, pods, ns=None, at=45):
    ns = ns or cl.ns
    for pn in pod_names(deploy, rs_hash, pods):
        cl.event("ReplicaSet", f"{deploy}-{rs_hash}", "SuccessfulCreate", f"Created pod: {pn}",
                 component="replicaset-controller", first=at, api="apps/v1", ns=ns)


def java_startup(app, minutes_ago, lines=8):
    """Spring Boot start-up lines (no error): what a slow-starting JVM app prints."""
    t = minutes_ago
    out = [
        f"{log_ts(t)}  INFO 1 --- [           main] c.a.{app}.Application : Starting Application v3.4.1 using Java 21.0.5 with PID 1",
        f"{log_ts(t - 0.01)}  INFO 1 --- [           main] c.a.{app}.Application : The following 1 profile is active: \"prod\"",
        f"{log_ts(t - 0.12)}  INFO 1 --- [           main] .s.d.r.c.RepositoryConfigurationDelegate : Bootstrapping Spring Data JPA repositories in DEFAULT mode.",
        f"{log_ts(t - 0.15)}  INFO 1 --- [           main] .s.d.r.c.RepositoryConfigurationDelegate : Finished Spring Data repository scanning in 1874 ms. Found 41 JPA repository interfaces.",
        f"{log_ts(t - 0.22)}  INFO 1 --- [           main] o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat initialized with port 8080 (http)",
        f"{log_ts(t - 0.24)}  INFO 1 --- [           main] o.hibernate.jpa.internal.util.LogHelper  : HHH000204: Processing PersistenceUnitInfo [name: default]",
        f"{log_ts(t - 0.31)}  INFO 1 --- [           main] com.zaxxer.hikari.HikariDataSource       : HikariPool-1 - Starting...",
        f"{log_ts(t - 0.36)}  INFO 1 --- [           main] com.zaxxer.hikari.HikariDataSource       : HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@5b8dfcc1",
        f"{log_ts(t - 0.44)}  INFO 1 --- [           main] o.f.c.i.s.JdbcTableSchemaHistory         : Schema history table \"public\".\"flyway_schema_history\" does not exist yet",
        f"{log_ts(t - 0.45)}  INFO 1 --- [           main] o.f.core.internal.command.DbValidate     : Successfully validated 212 migrations (execution time 00:00.911s)",
    ]
    return "\n".join(out[:lines]) + "\n"


__all__ = ["SCENARIOS", "scenario", "background", "crashloop_pods", "waiting_pods", "pending_pods", "ready_pods",
           "pod_names", "endpoints_for", "replicaset_events", "rs_name", "java_startup", "Cluster", "DAY", "ts",
           "log_ts", "suffix", "uid", "pod_hash", "probe_http"]
