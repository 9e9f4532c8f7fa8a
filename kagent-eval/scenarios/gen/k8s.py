"""Building blocks for evaluation scenarios: Kubernetes objects as a real API server returns
them (full status, events with their real message formats, container logs).

Every timestamp is relative to NOW (2025-06-01T12:00:00Z); the runner moves that instant to the
moment a scenario is loaded. UIDs are derived from kind/namespace/name so that events'
involvedObject.uid and ownerReferences line up, and the output is stable.
"""
import datetime as dt
import hashlib

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
DAY = 60 * 24


def ts(minutes_ago=0.0):
    t = NOW - dt.timedelta(minutes=minutes_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def log_ts(minutes_ago=0.0):
    """A log-line timestamp with milliseconds (shifted on load like every other timestamp)."""
    t = NOW - dt.timedelta(minutes=minutes_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def klog_ts(minutes_ago=0.0):
    """klog's header time (`I0601 11:58:01.123456`): not shifted, as in a real log."""
    t = NOW - dt.timedelta(minutes=minutes_ago)
    return t.strftime("%m%d %H:%M:%S.") + f"{t.microsecond:06d}"


def h(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def uid(*parts):
    x = h(*parts)
    return f"{x[0:8]}-{x[8:12]}-4{x[13:16]}-8{x[17:20]}-{x[20:32]}"


def pod_hash(s):
    """A pod-template-hash: 9-10 characters from the alphabet Kubernetes uses."""
    return h(s)[:10].translate(str.maketrans("0123456789abcdef", "bcdfghjk56789xzw")).rstrip("w")[:10]


def suffix(s, n=5):
    return h(s)[:n].translate(str.maketrans("0123456789abcdef", "bcdfghjklmnpqrst"))


class Cluster:
    """A growing list of objects for one scenario, plus the pod logs."""

    def __init__(self, ns, nodes=3, zones="abc", ns_labels=None):
        self.ns = ns
        self.docs = []
        self.logs = {}  # (ns, pod) -> [ {name, current, previous} ]
        self.node_ips = {}
        self.node_names = []
        self._ip = {}
        self.namespace(ns, ns_labels)
        for i in range(nodes):
            self.node(f"worker-{i + 1}", zone=f"eu-west-1{zones[i % len(zones)]}", index=i)
        self.storage_class("gp3", default=True)
        self.coredns()

    # ------------------------------------------------------------------ metadata
    def meta(self, kind, name, ns=None, age=3 * DAY, labels=None, annotations=None, owner=None, generation=None):
        ns = self.ns if ns is None else ns
        m = {"name": name}
        if ns:
            m["namespace"] = ns
        m["uid"] = uid(kind, ns or "", name)
        m["resourceVersion"] = str(int(h(kind, ns or "", name)[:6], 16))
        if generation is not None:
            m["generation"] = generation
        m["creationTimestamp"] = ts(age)
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = dict(annotations)
        if owner:
            okind, oname, oapi = owner
            m["ownerReferences"] = [{
                "apiVersion": oapi, "kind": okind, "name": oname, "uid": uid(okind, ns or "", oname),
                "controller": True, "blockOwnerDeletion": True,
            }]
        return m

    def add(self, obj):
        self.docs.append(obj)
        return obj

    # ------------------------------------------------------------------ cluster-scoped
    def namespace(self, name, labels=None, age=60 * DAY):
        lab = {"kubernetes.io/metadata.name": name}
        lab.update(labels or {})
        return self.add({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": name, "uid": uid("Namespace", "", name), "creationTimestamp": ts(age),
                                      "labels": lab},
                         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def node(self, name, zone, index, cpu="4", memory_ki=16069568, ready=True, taints=None, labels=None,
             unschedulable=False, not_ready_since=None, instance="m5.xlarge"):
        ip = f"10.0.1.{11 + index}"
        self.node_ips[name] = ip
        self.node_names.append(name)
        lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
               "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
               "node.kubernetes.io/instance-type": instance, "topology.kubernetes.io/zone": zone,
               "topology.kubernetes.io/region": "eu-west-1"}
        lab.update(labels or {})
        alloc_cpu = f"{int(cpu) * 1000 - 80}m"
        spec = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"],
                "providerID": f"aws:///{zone}/i-0{index}{h('node', name)[:15]}"}
        if taints:
            spec["taints"] = taints
        if unschedulable:
            spec["unschedulable"] = True
        hb = ts(0.4)
        since = ts(30 * DAY)
        if not_ready_since is None:
            conds = [
                ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ]
            conditions = [{"type": t, "status": s, "lastHeartbeatTime": hb, "lastTransitionTime": since,
                           "reason": r, "message": m} for t, s, r, m in conds]
        else:
            last_hb = ts(not_ready_since + 0.7)
            conditions = [{"type": t, "status": "Unknown", "lastHeartbeatTime": last_hb,
                           "lastTransitionTime": ts(not_ready_since), "reason": "NodeStatusUnknown",
                           "message": "Kubelet stopped posting node status."}
                          for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        return self.add({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": uid("Node", "", name), "creationTimestamp": ts(30 * DAY),
                         "labels": lab,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": spec,
            "status": {
                "capacity": {"cpu": cpu, "memory": f"{memory_ki}Ki", "pods": "58", "ephemeral-storage": "83873772Ki",
                             "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
                "allocatable": {"cpu": alloc_cpu, "memory": f"{memory_ki - 1014784}Ki", "pods": "58",
                                "ephemeral-storage": "76224326324", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
                "conditions": conditions,
                "addresses": [{"type": "InternalIP", "address": ip},
                              {"type": "InternalDNS", "address": f"ip-{ip.replace('.', '-')}.eu-west-1.compute.internal"},
                              {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"kubeletVersion": "v1.31.4-eks-aeac579", "kubeProxyVersion": "v1.31.4-eks-aeac579",
                             "containerRuntimeVersion": "containerd://1.7.24",
                             "kernelVersion": "6.1.119-129.201.amzn2023.x86_64",
                             "osImage": "Amazon Linux 2023.6.20241212", "operatingSystem": "linux",
                             "architecture": "amd64", "machineID": h("machine", name)[:32],
                             "systemUUID": uid("sys", name), "bootID": uid("boot", name)},
            },
        })

    def storage_class(self, name, default=False, provisioner="ebs.csi.aws.com", binding="WaitForFirstConsumer"):
        ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
        m = {"name": name, "uid": uid("StorageClass", "", name), "creationTimestamp": ts(30 * DAY)}
        if ann:
            m["annotations"] = ann
        return self.add({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": m,
                         "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": binding,
                         "allowVolumeExpansion": True, "parameters": {"type": "gp3", "fsType": "ext4"}})

    # ------------------------------------------------------------------ pods
    def pod_ip(self, node):
        i = self.node_names.index(node)
        self._ip[node] = self._ip.get(node, 10) + 7
        return f"10.244.{i}.{self._ip[node] % 250 + 2}"

    def container(self, name, image, ports=None, requests=None, limits=None, env=None, env_from=None,
                  readiness=None, liveness=None, startup=None, command=None, args=None, mounts=None):
        c = {"name": name, "image": image}
        if command:
            c["command"] = command
        if args:
            c["args"] = args
        if ports:
            c["ports"] = [({"name": p[0], "containerPort": p[1], "protocol": "TCP"} if isinstance(p, tuple)
                           else {"containerPort": p, "protocol": "TCP"}) for p in ports]
        if env_from:
            c["envFrom"] = env_from
        if env:
            c["env"] = env
        res = {}
        if limits is not False:
            res["limits"] = limits or {"memory": "512Mi"}
        if requests is not False:
            res["requests"] = requests or {"cpu": "100m", "memory": "256Mi"}
        c["resources"] = res
        if mounts:
            c["volumeMounts"] = mounts
        if liveness:
            c["livenessProbe"] = liveness
        if readiness:
            c["readinessProbe"] = readiness
        if startup:
            c["startupProbe"] = startup
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        c["imagePullPolicy"] = "IfNotPresent"
        return c

    def pod_spec(self, containers, node=None, init=None, volumes=None, sa="default", node_selector=None,
                 tolerations=None, affinity=None, restart="Always", extra=None):
        s = {}
        if init:
            s["initContainers"] = init
        s["containers"] = containers
        s["restartPolicy"] = restart
        s["terminationGracePeriodSeconds"] = 30
        s["dnsPolicy"] = "ClusterFirst"
        s["serviceAccountName"] = sa
        s["serviceAccount"] = sa
        if node:
            s["nodeName"] = node
        if node_selector:
            s["nodeSelector"] = node_selector
        if affinity:
            s["affinity"] = affinity
        s["securityContext"] = {}
        s["schedulerName"] = "default-scheduler"
        tol = list(tolerations or [])
        tol += [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ]
        s["tolerations"] = tol
        if volumes:
            s["volumes"] = volumes
        s["priority"] = 0
        s["enableServiceLinks"] = True
        s["preemptionPolicy"] = "PreemptLowerPriority"
        if extra:
            s.update(extra)
        return s

    def template_spec(self, containers, **kw):
        """A pod template's spec: no node, no defaults the API server adds to pods only."""
        s = self.pod_spec(containers, **kw)
        for k in ("serviceAccount", "priority", "enableServiceLinks", "preemptionPolicy"):
            s.pop(k, None)
        s["tolerations"] = [t for t in s["tolerations"] if t["key"] not in
                            ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
        if not s["tolerations"]:
            s.pop("tolerations")
        return s

    def image_id(self, image):
        repo = image.split(":")[0]
        return f"{repo}@sha256:{h('img', image)}"

    # container statuses -------------------------------------------------
    def cs_running(self, c, started, restarts=0, ready=True, last=None):
        return {"name": c["name"], "state": {"running": {"startedAt": ts(started)}},
                "lastState": last or {}, "ready": ready, "restartCount": restarts, "image": c["image"],
                "imageID": self.image_id(c["image"]),
                "containerID": "containerd://" + h("cid", c["name"], c["image"], str(started)),
                "started": True}

    def terminated(self, exit_code, reason, started, finished, c, message=None):
        t = {"exitCode": exit_code, "reason": reason, "startedAt": ts(started), "finishedAt": ts(finished),
             "containerID": "containerd://" + h("cid-t", c["name"], c["image"], str(finished))}
        if message:
            t["message"] = message
        return {"terminated": t}

    def cs_crashloop(self, c, pod_name, restarts, exit_code=1, reason="Error", last_started=1.2, last_finished=1.0,
                     message=None, backoff="5m0s"):
        return {"name": c["name"],
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": f"back-off {backoff} restarting failed container={c['name']} pod={pod_name}_{self.ns}({uid('Pod', self.ns, pod_name)})"}},
                "lastState": self.terminated(exit_code, reason, last_started, last_finished, c, message),
                "ready": False, "restartCount": restarts, "image": c["image"], "imageID": self.image_id(c["image"]),
                "containerID": "containerd://" + h("cid-t", c["name"], c["image"], str(last_finished)),
                "started": False}

    def cs_waiting(self, c, reason, message=None, restarts=0, image_id=True):
        w = {"reason": reason}
        if message:
            w["message"] = message
        st = {"name": c["name"], "state": {"waiting": w}, "lastState": {}, "ready": False,
              "restartCount": restarts, "image": c["image"], "imageID": self.image_id(c["image"]) if image_id else "",
              "started": False}
        return st

    def cs_terminated(self, c, exit_code, reason, started, finished, restarts=0, message=None):
        st = {"name": c["name"], "state": self.terminated(exit_code, reason, started, finished, c, message),
              "lastState": {}, "ready": False, "restartCount": restarts, "image": c["image"],
              "imageID": self.image_id(c["image"]),
              "containerID": "containerd://" + h("cid-t", c["name"], c["image"], str(finished)), "started": False}
        return st

    # pod conditions ------------------------------------------------------
    @staticmethod
    def cond(type_, status, at, reason=None, message=None):
        c = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": ts(at)}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def conds_ready(self, age, ready_at=None):
        r = age - 0.3 if ready_at is None else ready_at
        return [self.cond("PodReadyToStartContainers", "True", age - 0.05), self.cond("Initialized", "True", age),
                self.cond("Ready", "True", r), self.cond("ContainersReady", "True", r),
                self.cond("PodScheduled", "True", age)]

    def conds_not_ready(self, age, names, since=None, initialized=True, init_names=None, sandbox=True):
        since = age - 0.3 if since is None else since
        msg = f"containers with unready status: [{' '.join(names)}]"
        out = [self.cond("PodReadyToStartContainers", "True" if sandbox else "False", age - 0.05)]
        if initialized:
            out.append(self.cond("Initialized", "True", age))
        else:
            out.append(self.cond("Initialized", "False", age, "ContainersNotInitialized",
                                 f"containers with incomplete status: [{' '.join(init_names or [])}]"))
        out += [self.cond("Ready", "False", since, "ContainersNotReady", msg),
                self.cond("ContainersReady", "False", since, "ContainersNotReady", msg),
                self.cond("PodScheduled", "True", age)]
        return out

    def conds_unschedulable(self, age, message):
        return [self.cond("PodScheduled", "False", age, "Unschedulable", message)]

    def pod(self, name, labels, spec, phase, age, statuses=None, init_statuses=None, conditions=None, owner=None,
            node=None, qos="Burstable", ns=None, annotations=None, deleting=None, ip=True):
        ns = self.ns if ns is None else ns
        node = node or spec.get("nodeName")
        status = {"phase": phase}
        if conditions is not None:
            status["conditions"] = conditions
        if node:
            status["hostIP"] = self.node_ips[node]
            status["hostIPs"] = [{"ip": self.node_ips[node]}]
            if ip:
                p = self.pod_ip(node)
                status["podIP"] = p
                status["podIPs"] = [{"ip": p}]
            status["startTime"] = ts(age)
        if init_statuses is not None:
            status["initContainerStatuses"] = init_statuses
        if statuses is not None:
            status["containerStatuses"] = statuses
        status["qosClass"] = qos
        md = self.meta("Pod", name, ns=ns, labels=labels, age=age, owner=owner, annotations=annotations)
        if deleting is not None:
            md["deletionTimestamp"] = ts(deleting)
            md["deletionGracePeriodSeconds"] = 30
        return self.add({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec, "status": status})

    def pod_logs(self, pod, container, current=None, previous=None, ns=None):
        ns = self.ns if ns is None else ns
        entry = {"name": container}
        if current is not None:
            entry["current"] = current
        if previous is not None:
            entry["previous"] = previous
        self.logs.setdefault((ns, pod), []).append(entry)

    # ------------------------------------------------------------------ events
    def event(self, kind, name, reason, message, type_="Normal", count=1, first=10.0, last=None,
              component="kubelet", host=None, field_path=None, api="v1", ns=None):
        ns = self.ns if ns is None else ns
        last = first if last is None else last
        ename = f"{name}.{h(kind, name, reason, message)[:16]}"
        io = {"kind": kind, "namespace": ns, "name": name, "uid": uid(kind, ns, name), "apiVersion": api,
              "resourceVersion": str(int(h(kind, ns, name)[:6], 16))}
        if field_path:
            io["fieldPath"] = field_path
        if kind in ("Node", "PersistentVolume"):
            io.pop("namespace")
        src = {"component": component}
        if host:
            src["host"] = host
        self.add({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": ename, "namespace": ns, "uid": uid("Event", ns, ename),
                         "resourceVersion": str(int(h("ev", ename)[:6], 16)), "creationTimestamp": ts(first)},
            "involvedObject": io, "reason": reason, "message": message, "source": src,
            "firstTimestamp": ts(first), "lastTimestamp": ts(last), "count": count, "type": type_,
            "eventTime": None, "reportingComponent": component if component != "kubelet" else "kubelet",
            "reportingInstance": host or "",
        })

    def pod_started_events(self, pod, c, node, at, pulled=True, ns=None):
        """The normal events of a pod that started fine (Scheduled, Pulled, Created, Started)."""
        ns = self.ns if ns is None else ns
        self.event("Pod", pod, "Scheduled", f"Successfully assigned {ns}/{pod} to {node}",
                   component="default-scheduler", first=at, ns=ns)
        fp = f"spec.containers{{{c['name']}}}"
        if pulled:
            self.event("Pod", pod, "Pulled", f'Container image "{c["image"]}" already present on machine',
                       host=node, field_path=fp, first=at - 0.05, ns=ns)
        self.event("Pod", pod, "Created", f"Created container {c['name']}", host=node, field_path=fp,
                   first=at - 0.06, ns=ns)
        self.event("Pod", pod, "Started", f"Started container {c['name']}", host=node, field_path=fp,
                   first=at - 0.07, ns=ns)

    # ------------------------------------------------------------------ workloads
    def deployment(self, name, containers, replicas, pods, rs_hash=None, labels=None, age=3 * DAY, ns=None,
                   generation=1, revision="1", conditions=None, status=None, template_extra=None, paused=False,
                   selector=None, dep_labels=None, old_rs=None, strategy=None):
        """A Deployment, its current ReplicaSet and the given pods.

        `pods` is a list of dicts {sfx, node, phase, age, statuses, conditions, init_statuses, qos, deleting}
        built by the caller; ready counts are derived from them.
        """
        ns = self.ns if ns is None else ns
        labels = labels or {"app": name}
        selector = selector or dict(labels)
        rs_hash = rs_hash or pod_hash(f"{ns}/{name}/{revision}")
        rs_name = f"{name}-{rs_hash}"
        tpl_spec = self.template_spec(containers, **(template_extra or {}))
        ready = sum(1 for p in pods if p.get("ready", p["phase"] == "Running"))
        spec = {"replicas": replicas, "selector": {"matchLabels": selector},
                "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)}, "spec": tpl_spec},
                "strategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
        if paused:
            spec["paused"] = True
        st = status or {"observedGeneration": generation, "replicas": len(pods), "updatedReplicas": len(pods),
                        "readyReplicas": ready, "availableReplicas": ready}
        if ready < len(pods) and "unavailableReplicas" not in st and status is None:
            st["unavailableReplicas"] = max(replicas - ready, 0)
        if st.get("readyReplicas") == 0:
            st.pop("readyReplicas")
            st.pop("availableReplicas", None)
        st["conditions"] = conditions or self.deploy_conditions(age, rs_name, available=ready >= max(replicas - replicas // 4, 1))
        dl = dep_labels or dict(labels)
        self.add({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": self.meta("Deployment", name, ns=ns, labels=dl, age=age, generation=generation,
                                        annotations={"deployment.kubernetes.io/revision": revision}),
                  "spec": spec, "status": st})
        for o in old_rs or []:
            self.replicaset(name, o["name"], 0, 0, o["labels"], o["containers"], o["age"], o["revision"], ns=ns,
                            template_extra=template_extra)
        rs_labels = dict(labels)
        rs_labels["pod-template-hash"] = rs_hash
        self.replicaset(name, rs_name, replicas if status is None else st.get("updatedReplicas", replicas), ready,
                        rs_labels, containers, age if not pods else max(p["age"] for p in pods), revision, ns=ns,
                        template_extra=template_extra)
        return self._pods_for(rs_name, "ReplicaSet", rs_labels, containers, pods, ns, template_extra)

    def _pods_for(self, owner_name, owner_kind, labels, containers, pods, ns, template_extra, name_fn=None):
        out = []
        for i, p in enumerate(pods):
            pname = name_fn(i, p) if name_fn else f"{owner_name}-{p.get('sfx') or suffix(owner_name + str(i))}"
            extra = dict(template_extra or {})
            spec = self.pod_spec(p.get("containers", containers), node=p.get("node"), **extra)
            if p.get("hostname"):
                spec["hostname"] = p["hostname"]
                spec["subdomain"] = p.get("subdomain")
            lab = dict(labels)
            lab.update(p.get("labels", {}))
            self.pod(pname, lab, spec, p["phase"], p["age"], statuses=p.get("statuses"),
                     init_statuses=p.get("init_statuses"), conditions=p.get("conditions"),
                     owner=(owner_kind, owner_name, "apps/v1" if owner_kind != "Job" else "batch/v1"),
                     node=p.get("node"), qos=p.get("qos", "Burstable"), ns=ns, deleting=p.get("deleting"),
                     ip=p.get("ip", True))
            out.append(pname)
        return out

    def deploy_conditions(self, age, rs_name, available=True, progressing=None, available_since=None):
        p = progressing or ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.', age - 1)
        asince = available_since if available_since is not None else age - 1
        return [
            {"type": "Available", "status": "True" if available else "False",
             "lastUpdateTime": ts(asince), "lastTransitionTime": ts(asince),
             "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if available else "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": p[0], "lastUpdateTime": ts(p[3]), "lastTransitionTime": ts(p[3]),
             "reason": p[1], "message": p[2]},
        ]

    def replicaset(self, deploy, rs_name, replicas, ready, labels, containers, age, revision="1", ns=None,
                   template_extra=None, conditions=None):
        ns = self.ns if ns is None else ns
        st = {"replicas": replicas, "fullyLabeledReplicas": replicas, "observedGeneration": 1}
        if ready:
            st["readyReplicas"] = ready
            st["availableReplicas"] = ready
        if conditions:
            st["conditions"] = conditions
        return self.add({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": self.meta("ReplicaSet", rs_name, ns=ns, labels=labels, age=age, generation=1,
                                  owner=("Deployment", deploy, "apps/v1"),
                                  annotations={"deployment.kubernetes.io/desired-replicas": str(replicas),
                                               "deployment.kubernetes.io/max-replicas": str(replicas + max(1, replicas // 4)),
                                               "deployment.kubernetes.io/revision": revision}),
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                                  "spec": self.template_spec(containers, **(template_extra or {}))}},
            "status": st,
        })

    def statefulset(self, name, containers, replicas, pods, labels=None, age=10 * DAY, ns=None, service=None,
                    claims=None, template_extra=None, current_revision=None, update_revision=None):
        ns = self.ns if ns is None else ns
        labels = labels or {"app": name}
        rev = current_revision or f"{name}-{pod_hash(name)[:10]}"
        ready = sum(1 for p in pods if p.get("ready", p["phase"] == "Running"))
        spec = {"replicas": replicas, "serviceName": service or name, "selector": {"matchLabels": dict(labels)},
                "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                             "spec": self.template_spec(containers, **(template_extra or {}))},
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}}
        if claims:
            spec["volumeClaimTemplates"] = claims
        st = {"observedGeneration": 1, "replicas": len(pods), "readyReplicas": ready, "currentReplicas": len(pods),
              "updatedReplicas": len(pods), "currentRevision": rev, "updateRevision": update_revision or rev,
              "collisionCount": 0, "availableReplicas": ready}
        if ready == 0:
            st.pop("readyReplicas")
        self.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
                  "metadata": self.meta("StatefulSet", name, ns=ns, labels=labels, age=age, generation=1),
                  "spec": spec, "status": st})
        lab = dict(labels)
        lab["controller-revision-hash"] = rev
        names = []
        for i, p in enumerate(pods):
            pn = f"{name}-{i}"
            lab_i = dict(lab)
            lab_i["apps.kubernetes.io/pod-index"] = str(i)
            lab_i["statefulset.kubernetes.io/pod-name"] = pn
            vols = list((template_extra or {}).get("volumes") or [])
            for cl in claims or []:
                vols.insert(0, {"name": cl["metadata"]["name"],
                                "persistentVolumeClaim": {"claimName": f"{cl['metadata']['name']}-{pn}"}})
            extra = dict(template_extra or {})
            extra["volumes"] = vols or None
            spec_p = self.pod_spec(p.get("containers", containers), node=p.get("node"), **extra)
            spec_p["hostname"] = pn
            spec_p["subdomain"] = service or name
            self.pod(pn, lab_i, spec_p, p["phase"], p["age"], statuses=p.get("statuses"),
                     init_statuses=p.get("init_statuses"), conditions=p.get("conditions"),
                     owner=("StatefulSet", name, "apps/v1"), node=p.get("node"), ns=ns, deleting=p.get("deleting"),
                     ip=p.get("ip", True))
            names.append(pn)
        return names

    def service(self, name, selector, ports, ns=None, ip=None, age=3 * DAY, headless=False, type_="ClusterIP",
                labels=None):
        """ports: [(name, port, targetPort)]"""
        ns = self.ns if ns is None else ns
        ip = ip or f"10.100.{int(h('svc', ns, name)[:2], 16)}.{int(h('svc', ns, name)[2:4], 16) % 250 + 2}"
        spec = {"type": type_, "selector": dict(selector) if selector is not None else None,
                "ports": [{"name": pn, "port": p, "targetPort": tp, "protocol": "TCP"} for pn, p, tp in ports],
                "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"}
        if spec["selector"] is None:
            spec.pop("selector")
        if headless:
            spec["clusterIP"] = "None"
            spec["clusterIPs"] = ["None"]
        else:
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        self.add({"apiVersion": "v1", "kind": "Service",
                  "metadata": self.meta("Service", name, ns=ns, labels=labels or {"app": name}, age=age),
                  "spec": spec, "status": {"loadBalancer": {}}})
        return ip

    def endpoints(self, name, ready, ports, not_ready=(), ns=None, age=3 * DAY, labels=None):
        """ready / not_ready: [(pod_name, node)]; ports: [(name, port)] as the Endpoints carry them."""
        ns = self.ns if ns is None else ns
        pods = {d["metadata"]["name"]: d for d in self.docs if d["kind"] == "Pod" and d["metadata"].get("namespace") == ns}
        def addr(pn, node):
            ip = pods[pn]["status"].get("podIP", "10.244.0.2") if pn in pods else "10.244.0.2"
            return {"ip": ip, "nodeName": node, "targetRef": {"kind": "Pod", "namespace": ns, "name": pn,
                                                              "uid": uid("Pod", ns, pn)}}
        e = {"apiVersion": "v1", "kind": "Endpoints",
             "metadata": self.meta("Endpoints", name, ns=ns, labels=labels or {"app": name}, age=age,
                                   annotations={"endpoints.kubernetes.io/last-change-trigger-time": ts(min(age, 30))})}
        if ready or not_ready:
            sub = {}
            if ready:
                sub["addresses"] = [addr(pn, n) for pn, n in ready]
            if not_ready:
                sub["notReadyAddresses"] = [addr(pn, n) for pn, n in not_ready]
            sub["ports"] = [{"name": pn, "port": p, "protocol": "TCP"} for pn, p in ports]
            e["subsets"] = [sub]
        return self.add(e)

    def configmap(self, name, data, ns=None, age=3 * DAY, labels=None):
        return self.add({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": self.meta("ConfigMap", name, ns=ns, age=age, labels=labels), "data": data})

    def secret(self, name, keys, ns=None, age=3 * DAY, type_="Opaque", labels=None):
        import base64
        data = {k: base64.b64encode(v.encode()).decode() for k, v in keys.items()}
        return self.add({"apiVersion": "v1", "kind": "Secret",
                         "metadata": self.meta("Secret", name, ns=ns, age=age, labels=labels), "type": type_,
                         "data": data})

    def service_account(self, name, ns=None, age=10 * DAY):
        return self.add({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": self.meta("ServiceAccount", name, ns=ns, age=age)})

    # ------------------------------------------------------------------ the usual cluster add-ons
    def coredns(self, broken=None):
        """CoreDNS in kube-system (healthy unless `broken` is a callable building its pods)."""
        ns = "kube-system"
        c = self.container("coredns", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.3-eksbuild.2",
                           ports=[("dns", 53), ("dns-tcp", 53), ("metrics", 9153)],
                           requests={"cpu": "100m", "memory": "70Mi"}, limits={"memory": "170Mi"},
                           args=["-conf", "/etc/coredns/Corefile"],
                           liveness={"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                                     "initialDelaySeconds": 60, "timeoutSeconds": 5, "periodSeconds": 10,
                                     "successThreshold": 1, "failureThreshold": 5},
                           readiness={"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
                                      "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                                      "failureThreshold": 3},
                           mounts=[{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}])
        self._coredns_c = c
        if broken:
            return broken(c)
        age = 30 * DAY
        names = self.deployment("coredns", [c], 2,
                                [{"node": "worker-1", "phase": "Running", "age": age, "statuses": [self.cs_running(c, age)],
                                  "conditions": self.conds_ready(age), "sfx": "4xk9p"},
                                 {"node": "worker-2", "phase": "Running", "age": age, "statuses": [self.cs_running(c, age)],
                                  "conditions": self.conds_ready(age), "sfx": "wz7qm"}],
                                rs_hash="7db6d8ff4d", labels={"k8s-app": "kube-dns"}, age=age, ns=ns,
                                dep_labels={"k8s-app": "kube-dns", "eks.amazonaws.com/component": "coredns"},
                                template_extra={"volumes": [{"name": "config-volume", "configMap": {"name": "coredns", "defaultMode": 420,
                                                                                                   "items": [{"key": "Corefile", "path": "Corefile"}]}}],
                                                "sa": "coredns"})
        self.service("kube-dns", {"k8s-app": "kube-dns"}, [("dns", 53, 53), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
                     ns=ns, ip="10.100.0.10", age=age, labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
        self.endpoints("kube-dns", [(n, "worker-1" if i == 0 else "worker-2") for i, n in enumerate(names)],
                       [("dns", 53), ("dns-tcp", 53), ("metrics", 9153)], ns=ns, age=age,
                       labels={"k8s-app": "kube-dns"})
        return names

    # ------------------------------------------------------------------ a healthy app in one call
    def healthy_app(self, name, image, replicas=2, port=8080, age=3 * DAY, ns=None, env=None, readiness_path="/healthz",
                    service=True, labels=None, incident=None, requests=None, limits=None, extra_labels=None):
        """A Deployment with `replicas` ready pods and its Service + Endpoints.

        `incident` leaves traces of a past, resolved problem (what a real cluster keeps):
        - "oom-2d": the first pod was OOM-killed two days ago and has run since (restartCount 1)
        - "probe-startup": readiness failed a few times while the pods started 40 minutes ago (Warning events)
        - "scheduled-late": the last pod waited for capacity 35 minutes ago (FailedScheduling event), now Running
        - "image-pull-retry": a pull failed once with a registry timeout 50 minutes ago, then succeeded
        """
        ns = self.ns if ns is None else ns
        labels = labels or {"app": name}
        c = self.container(name, image, ports=[("http", port)], env=env, requests=requests, limits=limits,
                           readiness={"httpGet": {"path": readiness_path, "port": "http", "scheme": "HTTP"},
                                      "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                                      "failureThreshold": 3})
        rs_hash = pod_hash(f"{ns}/{name}")
        pods = []
        recent = incident in ("probe-startup", "scheduled-late", "image-pull-retry")
        for i in range(replicas):
            node = self.node_names[(i + len(name)) % len(self.node_names)]
            pa = 40 if recent else age - i * 7
            if incident == "oom-2d" and i == 0:
                last = self.terminated(137, "OOMKilled", 2 * DAY + 300, 2 * DAY, c)
                st = self.cs_running(c, 2 * DAY, restarts=1, last=last)
            else:
                st = self.cs_running(c, pa)
            conds = self.conds_ready(pa, ready_at=pa - (1.5 if incident == "probe-startup" else 0.3))
            if incident == "scheduled-late" and i == replicas - 1:
                # created 40 minutes ago, scheduled once the new node joined (35.5 minutes ago)
                st = self.cs_running(c, 35.2)
                conds = [self.cond("PodReadyToStartContainers", "True", 35.3), self.cond("Initialized", "True", 35.5),
                         self.cond("Ready", "True", 35.0), self.cond("ContainersReady", "True", 35.0),
                         self.cond("PodScheduled", "True", 35.5)]
            pods.append({"node": node, "phase": "Running", "age": pa, "statuses": [st], "conditions": conds,
                         "sfx": suffix(f"{ns}/{name}/{i}")})
        names = self.deployment(name, [c], replicas, pods, rs_hash=rs_hash, labels=labels, age=age, ns=ns,
                                revision="2" if recent else "1", generation=2 if recent else 1,
                                dep_labels=dict(labels, **(extra_labels or {})))
        rs = f"{name}-{rs_hash}"
        if recent:
            self.event("Deployment", name, "ScalingReplicaSet",
                       f"Scaled up replica set {rs} to {replicas}" if incident != "scheduled-late" else f"Scaled up replica set {rs} to {replicas} from {replicas - 1}",
                       component="deployment-controller", first=41, api="apps/v1", ns=ns)
            for pn in names:
                self.event("ReplicaSet", rs, "SuccessfulCreate", f"Created pod: {pn}", component="replicaset-controller",
                           first=41, api="apps/v1", ns=ns)
        if incident == "probe-startup":
            for pn, p in zip(names, pods):
                self.event("Pod", pn, "Unhealthy",
                           f"Readiness probe failed: Get \"http://{self._pod_ip_of(pn, ns)}:{port}{readiness_path}\": dial tcp {self._pod_ip_of(pn, ns)}:{port}: connect: connection refused",
                           type_="Warning", count=2, first=39.8, last=39.6, host=p["node"],
                           field_path=f"spec.containers{{{name}}}", ns=ns)
        if incident == "scheduled-late":
            pn = names[-1]
            self.event("Pod", pn, "FailedScheduling",
                       f"0/{len(self.node_names)} nodes are available: {len(self.node_names)} Insufficient memory. preemption: 0/{len(self.node_names)} nodes are available: {len(self.node_names)} No preemption victims found for incoming pod.",
                       type_="Warning", count=3, first=40.5, last=36, component="default-scheduler", ns=ns)
            self.event("Pod", pn, "TriggeredScaleUp",
                       "pod triggered scale-up: [{eks-workers-2b3c4d5e 3->4 (max: 6)}]", first=40.3, component="cluster-autoscaler", ns=ns)
            self.event("Pod", pn, "Scheduled", f"Successfully assigned {ns}/{pn} to {pods[-1]['node']}",
                       component="default-scheduler", first=35.5, ns=ns)
        if incident == "image-pull-retry":
            pn = names[0]
            self.event("Pod", pn, "Failed",
                       f"Failed to pull image \"{image}\": failed to pull and unpack image \"{image}\": failed to copy: httpReadSeeker: failed open: failed to do request: Get \"https://{image.split('/')[0]}/v2/\": net/http: TLS handshake timeout",
                       type_="Warning", count=1, first=40.8, host=pods[0]["node"], field_path=f"spec.containers{{{name}}}", ns=ns)
            self.event("Pod", pn, "Pulled", f"Successfully pulled image \"{image}\" in 4.211s (4.211s including waiting). Image size: 48213577 bytes.",
                       first=40.1, host=pods[0]["node"], field_path=f"spec.containers{{{name}}}", ns=ns)
        if service:
            self.service(name, labels, [("http", 80, "http")], ns=ns, age=age)
            self.endpoints(name, [(pn, p["node"]) for pn, p in zip(names, pods)], [("http", port)], ns=ns, age=age)
        return names

    def _pod_ip_of(self, pod, ns=None):
        ns = self.ns if ns is None else ns
        for d in self.docs:
            if d["kind"] == "Pod" and d["metadata"]["name"] == pod and d["metadata"].get("namespace") == ns:
                return d["status"].get("podIP", "")
        return ""

    def pod_ip_of(self, pod, ns=None):
        return self._pod_ip_of(pod, ns)

    def cronjob_history(self, name, image, schedule="0 * * * *", ns=None, old_failure=False, command=None,
                        log_ok="done", age=20 * DAY):
        """A healthy CronJob with its last successful Jobs (and, with old_failure, the failed Job of two days
        ago that failedJobsHistoryLimit keeps)."""
        ns = self.ns if ns is None else ns
        c = self.container(name, image, command=command, requests={"cpu": "50m", "memory": "64Mi"},
                           limits={"memory": "128Mi"})
        runs = [(120 + 60 * k) for k in range(3)]  # minutes ago, newest first
        tpl = {"spec": {"backoffLimit": 2, "template": {"metadata": {"creationTimestamp": None},
                                                        "spec": self.template_spec([c], restart="OnFailure")}}}
        self.add({"apiVersion": "batch/v1", "kind": "CronJob",
                  "metadata": self.meta("CronJob", name, ns=ns, age=age, generation=1),
                  "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid", "suspend": False,
                           "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                           "jobTemplate": {"metadata": {"creationTimestamp": None}, **tpl}},
                  "status": {"lastScheduleTime": ts(runs[0]), "lastSuccessfulTime": ts(runs[0] - 1.5)}})
        jobs = [(r, True) for r in runs]
        if old_failure:
            jobs.append((2 * DAY + 60, False))
        for at, ok in jobs:
            jn = f"{name}-{29117520 - int(at)}"
            self.job(jn, c, ok, at, owner_cron=name, ns=ns, log=log_ok if ok else None)
        return c

    def job(self, name, c, succeeded, at, owner_cron=None, ns=None, log=None, backoff=2, failures=None,
            fail_log=None, fail_exit=1, deadline=None, parallel=None):
        ns = self.ns if ns is None else ns
        owner = ("CronJob", owner_cron, "batch/v1") if owner_cron else None
        uid_ = uid("Job", ns, name)
        sel = {"batch.kubernetes.io/controller-uid": uid_}
        plabels = {"batch.kubernetes.io/controller-uid": uid_, "batch.kubernetes.io/job-name": name,
                   "controller-uid": uid_, "job-name": name}
        spec = {"parallelism": 1, "completions": 1, "backoffLimit": backoff, "completionMode": "NonIndexed",
                "suspend": False, "podReplacementPolicy": "TerminatingOrFailed", "manualSelector": False,
                "selector": {"matchLabels": sel},
                "template": {"metadata": {"creationTimestamp": None, "labels": plabels},
                             "spec": self.template_spec([c], restart="Never")}}
        if deadline:
            spec["activeDeadlineSeconds"] = deadline
        n_fail = failures if failures is not None else (0 if succeeded else backoff + 1)
        status = {"startTime": ts(at), "terminating": 0, "ready": 0,
                  "uncountedTerminatedPods": {}}
        if succeeded:
            status.update({"completionTime": ts(at - 1.4), "succeeded": 1,
                           "conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": ts(at - 1.4),
                                           "lastTransitionTime": ts(at - 1.4), "reason": "CompletionsReached",
                                           "message": "Reached expected number of succeeded pods"},
                                          {"type": "Complete", "status": "True", "lastProbeTime": ts(at - 1.4),
                                           "lastTransitionTime": ts(at - 1.4), "reason": "CompletionsReached",
                                           "message": "Reached expected number of succeeded pods"}]})
            if n_fail:
                status["failed"] = n_fail
        else:
            end = at - 3 - 2 * n_fail if not deadline else at - deadline / 60
            reason, msg = (("DeadlineExceeded", "Job was active longer than specified deadline") if deadline
                           else ("BackoffLimitExceeded", "Job has reached the specified backoff limit"))
            status.update({"failed": n_fail, "conditions": [
                {"type": "FailureTarget", "status": "True", "lastProbeTime": ts(end), "lastTransitionTime": ts(end),
                 "reason": reason, "message": msg},
                {"type": "Failed", "status": "True", "lastProbeTime": ts(end), "lastTransitionTime": ts(end),
                 "reason": reason, "message": msg}]})
        self.add({"apiVersion": "batch/v1", "kind": "Job",
                  "metadata": self.meta("Job", name, ns=ns, age=at, generation=1, owner=owner,
                                        labels={"batch.kubernetes.io/controller-uid": uid_,
                                                "batch.kubernetes.io/job-name": name, "controller-uid": uid_,
                                                "job-name": name},
                                        annotations={"batch.kubernetes.io/job-tracking": ""} if not owner_cron else
                                        {"batch.kubernetes.io/cronjob-scheduled-timestamp": ts(at)}),
                  "spec": spec, "status": status})
        pods = []
        node_cycle = self.node_names
        if succeeded:
            pn = f"{name}-{suffix(name + 'ok')}"
            node = node_cycle[int(h(pn)[:2], 16) % len(node_cycle)]
            cs = self.cs_terminated(c, 0, "Completed", at - 0.1, at - 1.3)
            self.pod(pn, plabels, self.pod_spec([c], node=node, restart="Never"), "Succeeded", at,
                     statuses=[cs], owner=("Job", name, "batch/v1"), node=node,
                     conditions=[self.cond("PodReadyToStartContainers", "False", at - 1.35),
                                 self.cond("Initialized", "True", at),
                                 self.cond("Ready", "False", at - 1.3, "PodCompleted"),
                                 self.cond("ContainersReady", "False", at - 1.3, "PodCompleted"),
                                 self.cond("PodScheduled", "True", at)])
            if log:
                self.pod_logs(pn, c["name"], current=log, ns=ns)
            pods.append(pn)
        if not succeeded and not deadline:
            for k in range(n_fail):
                pn = f"{name}-{suffix(name + 'fail' + str(k))}"
                node = node_cycle[(k + 1) % len(node_cycle)]
                start = at - (k * 2.2 if k else 0.05)
                cs = self.cs_terminated(c, fail_exit, "Error", start - 0.05, start - 0.4)
                self.pod(pn, plabels, self.pod_spec([c], node=node, restart="Never"), "Failed", start,
                         statuses=[cs], owner=("Job", name, "batch/v1"), node=node,
                         conditions=[self.cond("PodReadyToStartContainers", "False", start - 0.45),
                                     self.cond("Initialized", "True", start),
                                     self.cond("Ready", "False", start - 0.4, "PodFailed"),
                                     self.cond("ContainersReady", "False", start - 0.4, "PodFailed"),
                                     self.cond("PodScheduled", "True", start)])
                if fail_log:
                    self.pod_logs(pn, c["name"], current=fail_log, ns=ns)
                self.event("Job", name, "SuccessfulCreate", f"Created pod: {pn}", component="job-controller",
                           first=start, api="batch/v1", ns=ns)
                pods.append(pn)
            self.event("Job", name, "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                       type_="Warning", first=at - 3 - 2 * n_fail, component="job-controller", api="batch/v1", ns=ns)
        return pods

    # ------------------------------------------------------------------ output
    def documents(self):
        out = list(self.docs)
        for (ns, pod), containers in self.logs.items():
            out.append({"apiVersion": "testing.kagent.dev/v1", "kind": "PodLogs",
                        "metadata": {"name": pod, "namespace": ns}, "containers": containers})
        return out


def probe_http(path, port, initial=0, period=10, timeout=1, failure=3):
    p = {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}, "timeoutSeconds": timeout,
         "periodSeconds": period, "successThreshold": 1, "failureThreshold": failure}
    if initial:
        p["initialDelaySeconds"] = initial
    return p
