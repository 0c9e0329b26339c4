"""How Compose sees containers, and how to re-create one the way `docker compose up` does.

Compose finds a service's containers by label (`com.docker.compose.project`, `...service`,
`...oneoff=False`) and, when the service's config changes (a new image), re-creates it: a new
container with the same config on the new image, the old one stopped and removed, the new one
renamed to the old name and started.

We do not have the compose file, so "the service's config" is read back from the running
container: whatever the container has that its image did not give it (environment, command,
labels, ... set by the compose file) is the service's; whatever came from the old image is left
for the new image to supply (its own CMD, ENTRYPOINT, ENV, HEALTHCHECK, labels).

Blocking helpers on the SDK's low-level APIClient; the executor calls them in a thread.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_HASH = "com.docker.compose.config-hash"
VERSION = "hunter.version"  # the app version the container runs
PREVIOUS_IMAGE = "hunter.previous-image"  # the image id that served before this one (for rollback)
PREVIOUS_VERSION = "hunter.previous-version"

# Config fields an image provides defaults for: kept on the new container only where the old
# container differs from its old image (i.e. the compose file set them).
_IMAGE_FIELDS = ("Cmd", "Entrypoint", "WorkingDir", "User", "Healthcheck", "StopSignal", "Shell", "OnBuild")
_NO_HOSTNAME_MODES = ("host", "none")


def service_filters(project: str, service: str) -> dict[str, Any]:
    return {"label": [f"{PROJECT}={project}", f"{SERVICE}={service}"]}


def find_service_containers(api: Any, project: str, service: str) -> list[dict[str, Any]]:
    """The service's containers (running or not, one-offs excluded), lowest container number first,
    as `docker inspect` dicts."""
    found = api.containers(all=True, filters=service_filters(project, service))
    inspected = [api.inspect_container(c["Id"]) for c in found]
    inspected = [c for c in inspected if (c["Config"].get("Labels") or {}).get(ONEOFF, "False") != "True"]

    def order(c: dict[str, Any]) -> tuple[int, int, str]:
        labels = c["Config"].get("Labels") or {}
        running = 0 if c["State"].get("Running") else 1
        try:
            number = int(labels.get(NUMBER, "1"))
        except ValueError:
            number = 1
        return running, number, c["Name"]

    return sorted(inspected, key=order)


@dataclass
class CreateSpec:
    """Everything needed to create one container: POST /containers/create, in SDK terms."""

    name: str
    image: str
    config: dict[str, Any]  # Config fields (Env, Cmd, Labels, ...): None or absent = the image's
    host_config: dict[str, Any]
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"Aliases": [...]}

    def config_hash(self) -> str:
        """Like Compose's: a sha256 of the service config (the image included), stable across runs."""
        labels = {k: v for k, v in (self.config.get("Labels") or {}).items() if k != CONFIG_HASH}
        payload = {"image": self.image, "config": {**self.config, "Labels": labels}, "host": self.host_config,
                   "networks": sorted(self.networks)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _env_dict(env: list[str] | None) -> dict[str, str]:
    out = {}
    for entry in env or []:
        key, _, value = entry.partition("=")
        out[key] = value
    return out


def spec_from_container(container: dict[str, Any], image_config: dict[str, Any] | None, *, image: str) -> CreateSpec:
    """The create spec for `container`'s service on `image`.

    With `image_config` (the Config of the container's current image) the spec keeps only what the
    service set on top of its image, so the new image's defaults apply. Without it, the container's
    whole config is kept (re-creating the very same container, e.g. to bring the old one back).
    """
    config = container["Config"]
    host_config = dict(container["HostConfig"])
    network_mode = host_config.get("NetworkMode") or "default"
    out: dict[str, Any] = {}
    if image_config is None:
        out["Env"] = list(config.get("Env") or [])
        out["Labels"] = dict(config.get("Labels") or {})
        for key in _IMAGE_FIELDS:
            if config.get(key) not in (None, "", []):
                out[key] = config[key]
        out["ExposedPorts"] = config.get("ExposedPorts")
        out["Volumes"] = config.get("Volumes")
    else:
        image_env = _env_dict(image_config.get("Env"))
        out["Env"] = [e for e in config.get("Env") or [] if _env_dict([e]).items() - image_env.items()]
        image_labels = image_config.get("Labels") or {}
        out["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if image_labels.get(k) != v}
        for key in _IMAGE_FIELDS:
            if config.get(key) != image_config.get(key) and config.get(key) not in (None, "", []):
                out[key] = config[key]
        image_ports = image_config.get("ExposedPorts") or {}
        ports = {p: v for p, v in (config.get("ExposedPorts") or {}).items() if p not in image_ports}
        out["ExposedPorts"] = ports or None
        image_volumes = image_config.get("Volumes") or {}
        volumes = {p: v for p, v in (config.get("Volumes") or {}).items() if p not in image_volumes}
        out["Volumes"] = volumes or None
    for key in ("Tty", "OpenStdin", "StdinOnce", "StopTimeout", "Domainname"):
        if config.get(key) not in (None, "", False):
            out[key] = config[key]
    hostname = config.get("Hostname") or ""
    if network_mode not in _NO_HOSTNAME_MODES and not network_mode.startswith("container:") \
            and hostname and not container["Id"].startswith(hostname):
        out["Hostname"] = hostname
    networks: dict[str, dict[str, Any]] = {}
    if network_mode not in ("host", "none", "bridge", "default") and not network_mode.startswith("container:"):
        for net, endpoint in ((container.get("NetworkSettings") or {}).get("Networks") or {}).items():
            aliases = [a for a in endpoint.get("Aliases") or [] if not container["Id"].startswith(a)]
            networks[net] = {"Aliases": aliases} if aliases else {}
    return CreateSpec(name=container["Name"].lstrip("/"), image=image, config=out, host_config=host_config,
                      networks=networks)


def create_container(api: Any, spec: CreateSpec, *, name: str | None = None) -> str:
    """Create (not start) a container from `spec`; its id. Extra networks are connected after."""
    c = spec.config
    networking = None
    first, *rest = list(spec.networks) or [None]
    if first is not None:
        networking = {"EndpointsConfig": {first: spec.networks[first]}}
    healthcheck = c.get("Healthcheck")
    created = api.create_container(
        spec.image,
        command=c.get("Cmd"),
        entrypoint=c.get("Entrypoint"),
        environment=c.get("Env") or None,
        labels=c.get("Labels") or None,
        working_dir=c.get("WorkingDir") or None,
        user=c.get("User") or None,
        healthcheck=healthcheck,
        stop_signal=c.get("StopSignal") or None,
        stop_timeout=c.get("StopTimeout"),
        ports=list(c["ExposedPorts"]) if c.get("ExposedPorts") else None,
        volumes=list(c["Volumes"]) if c.get("Volumes") else None,
        hostname=c.get("Hostname"),
        domainname=c.get("Domainname"),
        tty=bool(c.get("Tty")),
        stdin_open=bool(c.get("OpenStdin")),
        host_config=spec.host_config,
        networking_config=networking,
        name=name or spec.name,
        detach=True,
        use_config_proxy=False,
    )
    container_id = created["Id"]
    for net in rest:
        api.connect_container_to_network(container_id, net, aliases=spec.networks[net].get("Aliases"))
    return container_id


def version_of(container: dict[str, Any], image: dict[str, Any] | None, image_repo: str) -> str | None:
    """The app version a container runs: its `hunter.version` label, else its image's tag in
    `image_repo` (not `rollback`/`latest`), else the image's `hunter.version` label."""
    labels = container["Config"].get("Labels") or {}
    if labels.get(VERSION):
        return labels[VERSION]
    if image is not None:
        for tag in image.get("RepoTags") or []:
            repo, _, version = tag.rpartition(":")
            if repo == image_repo and version not in ("rollback", "latest"):
                return version
        image_labels = (image.get("Config") or {}).get("Labels") or {}
        if image_labels.get(VERSION):
            return image_labels[VERSION]
    return None
