"""A structural schema of the Kubernetes objects deploy/k8s/ uses.

kubeconform and kubeval are not packaged by Debian, and python3-kubernetes
(22.x) predates gRPC probes, so this is a hand-kept subset of the OpenAPI
schema of Kubernetes 1.27: for every object kind the manifests use, its
fields with their types, which are required, and which enum values are
allowed. Objects are closed: an unknown field (a typo such as
`readinesProbe`) is an error, as `kubectl apply --validate=strict` makes it.
A field this subset does not know must be added here, from the API reference.

validate(doc) returns a list of "path: problem" strings, empty when valid.
"""

# A type is one of: "string", "integer", "boolean", "quantity" (a resource
# quantity: string or number), "int-or-string", ("list", T), ("map", T)
# (string keys), Enum, or the name of an object in OBJECTS.


class Enum:
    def __init__(self, *values):
        self.values = values


# Object name -> {field: (type, required)}.
OBJECTS = {
    "ObjectMeta": {
        "name": ("string", False),
        "namespace": ("string", False),
        "labels": (("map", "string"), False),
        "annotations": (("map", "string"), False),
    },
    "LabelSelector": {
        "matchLabels": (("map", "string"), False),
    },
    # --- core/v1
    "ConfigMap": {
        "apiVersion": ("string", True),
        "kind": ("string", True),
        "metadata": ("ObjectMeta", True),
        "data": (("map", "string"), False),
    },
    "Service": {
        "apiVersion": ("string", True),
        "kind": ("string", True),
        "metadata": ("ObjectMeta", True),
        "spec": ("ServiceSpec", True),
    },
    "ServiceSpec": {
        "clusterIP": ("string", False),
        "selector": (("map", "string"), False),
        "ports": (("list", "ServicePort"), True),
        "publishNotReadyAddresses": ("boolean", False),
        "type": (Enum("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"), False),
    },
    "ServicePort": {
        "name": ("string", False),
        "port": ("integer", True),
        "targetPort": ("int-or-string", False),
        "protocol": (Enum("TCP", "UDP", "SCTP"), False),
    },
    "PodTemplateSpec": {
        "metadata": ("ObjectMeta", False),
        "spec": ("PodSpec", True),
    },
    "PodSpec": {
        "containers": (("list", "Container"), True),
        "volumes": (("list", "Volume"), False),
        "securityContext": ("PodSecurityContext", False),
        "terminationGracePeriodSeconds": ("integer", False),
        "serviceAccountName": ("string", False),
    },
    "PodSecurityContext": {
        "runAsUser": ("integer", False),
        "runAsGroup": ("integer", False),
        "runAsNonRoot": ("boolean", False),
        "fsGroup": ("integer", False),
    },
    "Container": {
        "name": ("string", True),
        "image": ("string", True),
        "imagePullPolicy": (Enum("Always", "IfNotPresent", "Never"), False),
        "command": (("list", "string"), False),
        "args": (("list", "string"), False),
        "env": (("list", "EnvVar"), False),
        "ports": (("list", "ContainerPort"), False),
        "startupProbe": ("Probe", False),
        "readinessProbe": ("Probe", False),
        "livenessProbe": ("Probe", False),
        "resources": ("ResourceRequirements", False),
        "securityContext": ("SecurityContext", False),
        "volumeMounts": (("list", "VolumeMount"), False),
    },
    "EnvVar": {
        "name": ("string", True),
        "value": ("string", False),
    },
    "ContainerPort": {
        "name": ("string", False),
        "containerPort": ("integer", True),
        "protocol": (Enum("TCP", "UDP", "SCTP"), False),
    },
    "Probe": {
        "grpc": ("GRPCAction", False),
        "exec": ("ExecAction", False),
        "httpGet": ("HTTPGetAction", False),
        "tcpSocket": ("TCPSocketAction", False),
        "initialDelaySeconds": ("integer", False),
        "periodSeconds": ("integer", False),
        "timeoutSeconds": ("integer", False),
        "successThreshold": ("integer", False),
        "failureThreshold": ("integer", False),
    },
    # A gRPC probe's port is a number, never a name (unlike httpGet's).
    "ExecAction": {
        "command": (("list", "string"), True),
    },
    "GRPCAction": {
        "port": ("integer", True),
        "service": ("string", False),
    },
    "HTTPGetAction": {
        "path": ("string", False),
        "port": ("int-or-string", True),
    },
    "TCPSocketAction": {
        "port": ("int-or-string", True),
    },
    "ResourceRequirements": {
        "requests": (("map", "quantity"), False),
        "limits": (("map", "quantity"), False),
    },
    "SecurityContext": {
        "allowPrivilegeEscalation": ("boolean", False),
        "readOnlyRootFilesystem": ("boolean", False),
        "runAsNonRoot": ("boolean", False),
        "capabilities": ("Capabilities", False),
    },
    "Capabilities": {
        "add": (("list", "string"), False),
        "drop": (("list", "string"), False),
    },
    "VolumeMount": {
        "name": ("string", True),
        "mountPath": ("string", True),
        "readOnly": ("boolean", False),
        "subPath": ("string", False),
    },
    "Volume": {
        "name": ("string", True),
        "configMap": ("ConfigMapVolumeSource", False),
        "secret": ("SecretVolumeSource", False),
        "emptyDir": ("EmptyDirVolumeSource", False),
    },
    "SecretVolumeSource": {
        "secretName": ("string", True),
        "defaultMode": ("integer", False),
    },
    "ConfigMapVolumeSource": {
        "name": ("string", True),
        "defaultMode": ("integer", False),
    },
    "EmptyDirVolumeSource": {
        "medium": ("string", False),
        "sizeLimit": ("quantity", False),
    },
    "PersistentVolumeClaim": {
        "apiVersion": ("string", False),
        "kind": ("string", False),
        "metadata": ("ObjectMeta", True),
        "spec": ("PersistentVolumeClaimSpec", True),
    },
    "PersistentVolumeClaimSpec": {
        "accessModes": (("list", Enum("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany",
                                      "ReadWriteOncePod")), True),
        "storageClassName": ("string", False),
        "resources": ("ResourceRequirements", True),
    },
    # --- apps/v1
    "StatefulSet": {
        "apiVersion": ("string", True),
        "kind": ("string", True),
        "metadata": ("ObjectMeta", True),
        "spec": ("StatefulSetSpec", True),
    },
    "StatefulSetSpec": {
        "serviceName": ("string", True),
        "replicas": ("integer", False),
        "podManagementPolicy": (Enum("OrderedReady", "Parallel"), False),
        "selector": ("LabelSelector", True),
        "template": ("PodTemplateSpec", True),
        "volumeClaimTemplates": (("list", "PersistentVolumeClaim"), False),
    },
    # --- kustomize
    "Kustomization": {
        "apiVersion": ("string", True),
        "kind": ("string", True),
        "resources": (("list", "string"), True),
        "secretGenerator": (("list", "SecretGenerator"), False),
        "generatorOptions": ("GeneratorOptions", False),
    },
    "SecretGenerator": {
        "name": ("string", True),
        "files": (("list", "string"), True),
    },
    "GeneratorOptions": {
        "disableNameSuffixHash": ("boolean", False),
    },
}

# kind -> the apiVersion it must carry.
KINDS = {
    "ConfigMap": "v1",
    "Service": "v1",
    "StatefulSet": "apps/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}

# Probe handlers: exactly one per probe.
PROBE_HANDLERS = ("grpc", "exec", "httpGet", "tcpSocket")


def _check(value, typ, path, errors):
    if isinstance(typ, Enum):
        if value not in typ.values:
            errors.append(f"{path}: {value!r} is not one of {', '.join(typ.values)}")
    elif isinstance(typ, tuple):
        container, inner = typ
        if container == "list":
            if not isinstance(value, list):
                errors.append(f"{path}: expected a list")
                return
            for i, item in enumerate(value):
                _check(item, inner, f"{path}[{i}]", errors)
        else:
            if not isinstance(value, dict):
                errors.append(f"{path}: expected a map")
                return
            for key, item in value.items():
                if not isinstance(key, str):
                    errors.append(f"{path}: key {key!r} is not a string")
                _check(item, inner, f"{path}.{key}", errors)
    elif typ == "string":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a string, got {type(value).__name__} "
                          f"(quote it)")
    elif typ == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer")
    elif typ == "boolean":
        if not isinstance(value, bool):
            errors.append(f"{path}: expected true or false")
    elif typ in ("quantity", "int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append(f"{path}: expected a number or a string")
    else:
        _check_object(value, typ, path, errors)


def _check_object(value, name, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({name})")
        return
    fields = OBJECTS[name]
    for key in value:
        if key not in fields:
            errors.append(f"{path}.{key}: unknown field of {name}")
    for key, (typ, required) in fields.items():
        if key in value:
            _check(value[key], typ, f"{path}.{key}", errors)
        elif required:
            errors.append(f"{path}.{key}: required field of {name} is missing")
    if name == "Probe":
        handlers = [h for h in PROBE_HANDLERS if h in value]
        if len(handlers) != 1:
            errors.append(f"{path}: a probe needs exactly one of {', '.join(PROBE_HANDLERS)}")


def validate(doc, where="document"):
    """Returns the problems of one parsed manifest (a list of strings)."""
    if not isinstance(doc, dict):
        return [f"{where}: not a mapping"]
    kind = doc.get("kind")
    if kind not in KINDS:
        return [f"{where}: kind {kind!r} is not one this schema knows ({', '.join(KINDS)})"]
    errors = []
    if doc.get("apiVersion") != KINDS[kind]:
        errors.append(f"{where}: {kind} needs apiVersion {KINDS[kind]}, "
                      f"not {doc.get('apiVersion')!r}")
    _check_object(doc, kind, f"{where}:{kind}", errors)
    if kind != "Kustomization" and not (doc.get("metadata") or {}).get("name"):
        errors.append(f"{where}: metadata.name is required")
    return errors
