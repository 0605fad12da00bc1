"""What the launch files, the xacro and the Dockerfiles name from outside the project.

Static (AST and text) extraction, no launch_ros needed; used by
``scripts/make_upstream_listing.py`` (which looks every item up in the upstream sources at the
pinned versions and writes ``docker/upstream.json``) and by
``tests/system/test_upstream_listing.py`` (which checks that every item is in that listing and
was found upstream).

Items:
* ``files``: ``(package, path in the package's share dir)`` -- ``PathJoinSubstitution([
  FindPackageShare(P), ...])``, ``os.path.join(get_package_share_directory(P), ...)``,
  ``_yaml(P, ...)``, the files ``MoveItConfigsBuilder`` loads, ``$(find P)/...`` in xacro;
* ``executables``: ``(package, executable)`` of every ``Node``;
* ``launch_arguments``: ``(package, launch file) -> argument names`` passed to included files;
* ``packages``: every package above plus the ``ros-<distro>-*`` apt packages of a Dockerfile,
  each with the image (``jazzy`` / ``humble``) it is used in.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUR_PACKAGES = {"real2sim_bringup", "real2sim_perception", "real2sim_policy", "panda_executor",
                "real2sim_core", "real2sim_interfaces"}
#: launch file -> the image (ROS distribution) it runs in
LAUNCH_IMAGES = {"sim_demo.launch.py": "jazzy", "gazebo_demo.launch.py": "jazzy",
                 "panda_real.launch.py": "humble"}
#: Dockerfile -> ROS distribution
DOCKERFILES = {"Dockerfile": "jazzy", "Dockerfile.panda": "humble"}
XACRO_FILES = {"config/panda_gz.urdf.xacro": "jazzy"}


def _constants(tree) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, str):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node.value.value
    return out


def _str(node, consts) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in consts:
        return consts[node.id]
    return None


def _call_name(call) -> str:
    f = call.func
    return getattr(f, "id", getattr(f, "attr", ""))


def _kw(call, key):
    for k in call.keywords:
        if k.arg == key:
            return k.value
    return None


def _strings(nodes, consts) -> list[str] | None:
    out = [_str(n, consts) for n in nodes]
    return None if any(v is None for v in out) else out


def _package_of(node, consts) -> str | None:
    """``FindPackageShare(P)`` / ``get_package_share_directory(P)`` -> P."""
    if isinstance(node, ast.Call) and _call_name(node) in ("FindPackageShare",
                                                           "get_package_share_directory"):
        return _str(node.args[0], consts) if node.args else None
    return None


def _moveit_builder_files(call_chain: list[ast.Call], consts) -> tuple[str, list[str]]:
    """Files a ``MoveItConfigsBuilder(robot)...to_moveit_configs()`` chain loads (moveit2
    2.12.4 moveit_configs_utils/moveit_configs_builder.py: explicit file_path arguments, the
    defaults of to_moveit_configs, config/<pipeline>_planning.yaml per pipeline)."""
    root = call_chain[0]
    package = _str(root.args[0], consts) + "_moveit_config"
    files = {"config/kinematics.yaml", "config/joint_limits.yaml"}
    for call in call_chain[1:]:
        name = _call_name(call)
        fp = _kw(call, "file_path")
        if fp is not None and _str(fp, consts) is not None:
            files.add(_str(fp, consts))
        if name == "planning_pipelines":
            pipes = _kw(call, "pipelines")
            for p in _strings(pipes.elts, consts) if pipes is not None else []:
                files.add(f"config/{p}_planning.yaml")
                if p == "pilz_industrial_motion_planner":
                    files.add("config/pilz_cartesian_limits.yaml")
    return package, sorted(files)


def launch_refs(path: Path) -> dict:
    tree = ast.parse(path.read_text())
    consts = _constants(tree)
    files, executables, launch_args = set(), set(), {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name == "PathJoinSubstitution" and node.args and isinstance(node.args[0], ast.List):
            elts = node.args[0].elts
            pkg = _package_of(elts[0], consts) if elts else None
            rest = _strings(elts[1:], consts)
            if pkg and rest:
                files.add((pkg, "/".join(rest)))
        elif name == "join" and node.args:
            pkg = _package_of(node.args[0], consts)
            rest = _strings(node.args[1:], consts)
            if pkg and rest:
                files.add((pkg, "/".join(rest)))
        elif name == "_yaml" and node.args:
            vals = _strings(node.args, consts)
            if vals:
                files.add((vals[0], "/".join(vals[1:])))
        elif name == "Node":
            pkg, exe = _str(_kw(node, "package"), consts), _str(_kw(node, "executable"), consts)
            if pkg and exe:
                executables.add((pkg, exe))
        elif name == "to_moveit_configs":
            chain, cur = [], node.func.value
            while isinstance(cur, ast.Call):
                chain.append(cur)
                cur = cur.func.value if isinstance(cur.func, ast.Attribute) else None
            chain.reverse()
            if chain and _call_name(chain[0]) == "MoveItConfigsBuilder":
                pkg, fs = _moveit_builder_files(chain, consts)
                files.update((pkg, f) for f in fs)
        elif name == "IncludeLaunchDescription":
            src = node.args[0] if node.args else None
            target = None
            for sub in ast.walk(src) if src is not None else []:
                if isinstance(sub, ast.Call) and _call_name(sub) == "PathJoinSubstitution":
                    elts = sub.args[0].elts
                    pkg, rest = _package_of(elts[0], consts), _strings(elts[1:], consts)
                    if pkg and rest:
                        target = (pkg, "/".join(rest))
            la = _kw(node, "launch_arguments")
            keys = []
            for sub in ast.walk(la) if la is not None else []:
                if isinstance(sub, ast.Dict):
                    keys += [_str(k, consts) for k in sub.keys]
            if target:
                launch_args[target] = sorted(k for k in keys if k)
    files = {f for f in files if f[0] not in OUR_PACKAGES}
    executables = {e for e in executables if e[0] not in OUR_PACKAGES}
    return {"files": sorted(files), "executables": sorted(executables),
            "launch_arguments": {f"{p}/{f}": a for (p, f), a in sorted(launch_args.items())}}


def xacro_refs(path: Path) -> list[tuple[str, str]]:
    """``$(find P)/path`` of a xacro file."""
    return sorted(set(re.findall(r"\$\(find ([A-Za-z0-9_]+)\)/([^\"'<> ]+)", path.read_text())))


def dockerfile_refs(path: Path) -> dict:
    text = path.read_text()
    apt = sorted(set(re.findall(r"ros-\$\{ROS_DISTRO\}-([a-z0-9-]+)", text)))
    args = dict(re.findall(r"^ARG ([A-Z0-9_]+)=(\S+)", text, flags=re.M))
    clones = sorted(set(re.findall(r"git clone [^\n]*?https://github.com/([\w-]+/[\w.-]+?)(?:\.git)?\s",
                                   text)))
    m = re.search(r"--packages-up-to((?:\s+\\?\s*[a-z0-9_]+)+)", text)
    source_built = sorted(re.findall(r"[a-z0-9_]+", m.group(1))) if m else []
    return {"apt_packages": [p.replace("-", "_") for p in apt], "args": args,
            "git_clones": clones, "source_built": source_built}


def all_refs(repo: Path = REPO) -> dict:
    """Everything, keyed by the ROS distribution of the image it is used in."""
    out: dict = {}
    for name, distro in LAUNCH_IMAGES.items():
        r = launch_refs(repo / "launch" / name)
        d = out.setdefault(distro, {"files": set(), "executables": set(), "launch_arguments": {},
                                    "packages": set()})
        d["files"].update(map(tuple, r["files"]))
        d["executables"].update(map(tuple, r["executables"]))
        d["launch_arguments"].update(r["launch_arguments"])
    for name, distro in XACRO_FILES.items():
        out[distro]["files"].update(xacro_refs(repo / name))
    for name, distro in DOCKERFILES.items():
        dr = dockerfile_refs(repo / "docker" / name)
        out[distro]["packages"].update(dr["apt_packages"] + dr["source_built"])
    for d in out.values():
        d["packages"].update(p for p, _ in d["files"])
        d["packages"].update(p for p, _ in d["executables"])
        d["packages"].update(k.split("/")[0] for k in d["launch_arguments"])
        d["files"] = sorted(d["files"])
        d["executables"] = sorted(d["executables"])
        d["packages"] = sorted(d["packages"] - OUR_PACKAGES)
    return out
