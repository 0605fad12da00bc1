#!/usr/bin/env python3
"""Write ``docker/upstream.json``: every package, file, executable and launch argument that the
launch files, ``config/panda_gz.urdf.xacro`` and the Dockerfiles name from outside the project
(``scripts/upstream_refs.py``), looked up in the upstream git repositories at the versions the
images pin (:data:`PINS`), with the commit, the package's folder, the file's blob and the line
that declares each executable / launch argument.

    python scripts/make_upstream_listing.py --mirrors DIR

``DIR`` holds git clones (bare or not) of the repositories of :data:`PINS`, as ``DIR/<name>``,
``DIR/<owner>/<name>`` or ``DIR/<owner>+<name>/repo``, e.g. made with
``git clone --bare https://github.com/moveit/moveit2 DIR/moveit/moveit2`` (tags included).
With the ``xacro`` module importable (``pip install xacro``, the ROS 2 xacro from PyPI), it also
expands the robot descriptions the launch files build (:data:`XACRO_RUNS`) against the pinned
upstream packages and records the joints, plugins and SRDF groups they produce.
``tests/system/test_upstream_listing.py`` checks the launch files and Dockerfiles against the
committed listing.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upstream_refs import REPO, all_refs, dockerfile_refs  # noqa: E402

#: image (ROS distribution) -> upstream repository -> pinned tag or commit. Jazzy: the tags of
#: the jazzy release lines (branch ``jazzy``, else the branch Jazzy releases from); Humble: the
#: same for the distribution packages, and the commits the real-robot image builds.
PINS = {
    "jazzy": {
        "moveit/moveit2": "2.12.4",
        "moveit/moveit_resources": "3.0.0",
        "moveit/moveit_msgs": "2.6.0",
        "ros-controls/gz_ros2_control": "1.2.7",
        "gazebosim/ros_gz": "1.0.5",
        "ros-controls/control_msgs": "5.8.0",
        "ros-controls/ros2_control": "4.46.0",
        "ros-controls/ros2_controllers": "4.42.1",
        "ros2/geometry2": "0.36.4",
        "ros2/rviz": "14.1.5",
        "ros2/launch_ros": "0.26.6",
        "ros/robot_state_publisher": "3.3.3",
        "ros/joint_state_publisher": "2.4.0",
        "ros/xacro": "2.0.9",
    },
    "humble": {
        "frankaemika/franka_ros2": "e38ddfc7f819e4fc258626e13fc4cb7242319cfa",
        "moveit/moveit2": "2b2030dd73881aceeaa759e5622c57c99adf2f9c",
        "ros-controls/control_msgs": "4.8.0",
        "ros-controls/ros2_control": "2.54.0",
        "ros-controls/ros2_controllers": "2.54.0",
        "ros2/geometry2": "0.25.8",
        "ros2/rviz": "11.2.13",
        "ros2/launch_ros": "0.19.8",
        "ros/robot_state_publisher": "3.0.3",
        "ros/joint_state_publisher": "2.4.0",
        "ros/xacro": "2.0.9",
    },
}


def _git(repo: Path, *args) -> str:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True,
                          capture_output=True, text=True).stdout


def _find_repo(mirrors: Path, slug: str) -> Path:
    owner, name = slug.split("/")
    for cand in (mirrors / f"{owner}+{name}" / "repo", mirrors / owner / name, mirrors / name,
                 mirrors / f"{name}.git", mirrors / owner / f"{name}.git"):
        if cand.is_dir():
            git = cand / ".git" if (cand / ".git").is_dir() else cand
            return git
    raise SystemExit(f"no clone of {slug} under {mirrors}")


class Source:
    def __init__(self, slug: str, git: Path, ref: str):
        self.slug, self.git, self.ref = slug, git, ref
        self.commit = _git(git, "rev-parse", f"{ref}^{{commit}}").strip()
        self.date = _git(git, "log", "-1", "--format=%cs", self.commit).strip()
        self.paths = _git(git, "ls-tree", "-r", "--name-only", self.commit).splitlines()
        self.packages = {}
        for p in self.paths:
            if p.endswith("package.xml"):
                m = re.search(r"<name>\s*([^<\s]+)\s*</name>", self.show(p))
                if m:
                    self.packages[m.group(1)] = str(Path(p).parent)

    def show(self, path: str) -> str:
        return _git(self.git, "show", f"{self.commit}:{path}")

    def blob(self, path: str) -> str:
        return _git(self.git, "rev-parse", f"{self.commit}:{path}").strip()

    def grep(self, path: str, pattern: str) -> tuple[int, str] | None:
        for i, line in enumerate(self.show(path).splitlines(), 1):
            if re.search(pattern, line):
                return i, line.strip()
        return None


def _package(sources, name):
    for s in sources:
        if name in s.packages:
            return s, s.packages[name]
    return None, None


def _executable_evidence(src, pkg_dir, exe, pkg):
    """The line that installs ``exe`` (CMake add_executable / EXECUTABLE of a registered
    component / an executables list, setup.py/cfg entry point)."""
    for f in ("CMakeLists.txt", "setup.py", "setup.cfg"):
        path = f"{pkg_dir}/{f}" if pkg_dir != "." else f
        if path in src.paths:
            patterns = [rf"add_executable\(\s*{exe}\b", rf"EXECUTABLE\s+{exe}\b",
                        rf"^\s*['\"]?{exe}\s*=", rf"^\s+{exe}\s*$"]
            if exe == pkg:
                patterns.append(r"add_executable\(\$\{PROJECT_NAME\}\s*$")
            hit = next(filter(None, (src.grep(path, pt) for pt in patterns)), None)
            if hit:
                return {"file": path, "line": hit[0], "text": hit[1]}
    # scripts installed by file name (ament_cmake_python / install(PROGRAMS scripts/<exe>))
    for p in src.paths:
        if p.startswith(pkg_dir + "/") and Path(p).name in (exe, f"{exe}.py") and \
                "/test" not in p:
            return {"file": p, "line": 0, "text": "installed script"}
    return None


def _xacro_includes(src, pkg_dir, rel):
    text = src.show(f"{pkg_dir}/{rel}")
    out = []
    for fn in re.findall(r"<xacro:include\s+filename=\"([^\"]+)\"", text):
        m = re.match(r"\$\(find ([A-Za-z0-9_]+)\)/(.+)", fn)
        if m:
            out.append((m.group(1), m.group(2)))
        elif "$(" not in fn:
            out.append((None, str(Path(rel).parent / fn)))
    return out


#: the upstream interface definitions the test fixtures (tests/fixtures/ros_interfaces) copy:
#: fixture package -> (image, upstream package, files)
FIXTURE_INTERFACES = {
    "franka_msgs": ("humble", "franka_msgs", ["action/Move.action", "action/Grasp.action",
                                              "action/Homing.action", "msg/GraspEpsilon.msg"]),
    "control_msgs": ("jazzy", "control_msgs", [
        "action/FollowJointTrajectory.action", "action/GripperCommand.action",
        "msg/GripperCommand.msg", "msg/JointTolerance.msg", "msg/JointComponentTolerance.msg"]),
    "tf2_msgs": ("jazzy", "tf2_msgs", ["msg/TFMessage.msg"]),
}


def normalize_interface(text: str) -> list[str]:
    """An interface definition without comments, blank lines and repeated blanks."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(" ".join(line.split()))
    return out


#: xacro runs with the upstream files of the pinned versions: image -> (label, file, args);
#: ``@pkg/rel`` is a file of an upstream package, otherwise a path in this repository
XACRO_RUNS = {
    "jazzy": [
        ("gazebo robot", "config/panda_gz.urdf.xacro", []),
        ("mock-hardware robot (MoveItConfigsBuilder mapping)",
         "@moveit_resources_panda_moveit_config/config/panda.urdf.xacro",
         ["ros2_control_hardware_type:=mock_components"]),
    ],
    "humble": [
        ("franka robot (panda_real.launch.py)", "@franka_description/robots/panda_arm.urdf.xacro",
         ["hand:=true", "robot_ip:=172.16.0.2", "use_fake_hardware:=false",
          "fake_sensor_commands:=false"]),
        ("franka robot, fake hardware", "@franka_description/robots/panda_arm.urdf.xacro",
         ["hand:=true", "robot_ip:=dont-care", "use_fake_hardware:=true",
          "fake_sensor_commands:=false"]),
        ("franka SRDF", "@franka_moveit_config/srdf/panda_arm.srdf.xacro", ["hand:=true"]),
    ],
}


def _xacro_runs(distro, sources, tmp: Path, needed) -> list[dict]:
    """Expand the XACRO_RUNS of ``distro`` with the ``xacro`` module (pip ``xacro``) against
    an ament prefix made of the pinned packages (``git archive``); None when xacro is absent."""
    import io
    import os
    import tarfile
    import xml.dom.minidom

    try:
        import xacro
    except ImportError:
        return None
    prefix = tmp / distro
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True, exist_ok=True)
    for src in sources:
        for name, d in src.packages.items():
            if name not in needed:
                continue
            raw = subprocess.run(["git", "--git-dir", str(src.git), "archive", src.commit, d],
                                 check=True, capture_output=True).stdout
            with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                for m in tar.getmembers():
                    if not m.isfile() or (d != "." and not m.name.startswith(d + "/")):
                        continue
                    rel = Path(m.name).relative_to(d) if d != "." else Path(m.name)
                    if True:
                        out = prefix / "share" / name / rel
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_bytes(tar.extractfile(m).read())
            (index / name).touch()
    os.environ["AMENT_PREFIX_PATH"] = str(prefix)
    results = []
    for label, path, args in XACRO_RUNS[distro]:
        file = prefix / "share" / path[1:] if path.startswith("@") else REPO / path
        out = tmp / "out.xml"
        saved = sys.argv
        sys.argv = ["xacro", str(file), *args, "-o", str(out)]
        try:
            xacro.main()
            doc = xml.dom.minidom.parse(str(out))
            root = doc.documentElement
            joints = sorted(j.getAttribute("name") for j in root.getElementsByTagName("joint")
                            if j.parentNode is root and j.getAttribute("type") != "fixed")
            plugins = sorted({p.firstChild.data.strip() for p in root.getElementsByTagName(
                "plugin") if p.firstChild is not None and p.firstChild.data.strip()}
                | {p.getAttribute("filename") for p in root.getElementsByTagName("plugin")
                   if p.getAttribute("filename")})
            results.append({"what": label, "file": path, "args": args, "expanded": True,
                            "root": root.tagName,
                            "links": len([n for n in root.getElementsByTagName("link")
                                          if n.parentNode is root]),
                            "movable_joints": joints, "plugins": plugins,
                            "groups": sorted(g.getAttribute("name") for g in
                                             root.getElementsByTagName("group")
                                             if g.parentNode is root)})
        except SystemExit as e:
            results.append({"what": label, "file": path, "args": args, "expanded": False,
                            "error": f"xacro exited {e.code}"})
        finally:
            sys.argv = saved
    return results


def build(mirrors: Path) -> dict:
    refs = all_refs()
    listing = {"generated_by": "scripts/make_upstream_listing.py", "images": {}}
    for distro, pins in PINS.items():
        sources = [Source(slug, _find_repo(mirrors, slug), ref) for slug, ref in pins.items()]
        r = refs[distro]
        img = {"sources": {s.slug: {"ref": s.ref, "commit": s.commit, "date": s.date}
                           for s in sources},
               "packages": {}, "files": [], "executables": [], "launch_arguments": []}
        for name in r["packages"] + sorted({p for p, _ in r["files"]} - set(r["packages"])):
            src, d = _package(sources, name)
            img["packages"][name] = {"source": src.slug if src else None, "path": d,
                                     "found": src is not None}
        todo = list(r["files"])
        seen = set()
        while todo:
            pkg, rel = todo.pop(0)
            if (pkg, rel) in seen:
                continue
            seen.add((pkg, rel))
            src, d = _package(sources, pkg)
            entry = {"package": pkg, "path": rel, "source": src.slug if src else None,
                     "found": False}
            if src is not None:
                full = f"{d}/{rel}" if d != "." else rel
                entry["repo_path"] = full
                if full in src.paths:
                    entry.update(found=True, blob=src.blob(full))
                    if rel.endswith(".xacro"):
                        for ipkg, irel in _xacro_includes(src, d, rel):
                            todo.append((ipkg or pkg, irel))
                elif full + ".in" in src.paths:  # configured at build time (ros_gz_sim)
                    entry.update(found=True, blob=src.blob(full + ".in"),
                                 note=f"installed from {full}.in")
            img["files"].append(entry)
        for pkg, exe in r["executables"]:
            src, d = _package(sources, pkg)
            ev = _executable_evidence(src, d, exe, pkg) if src else None
            img["executables"].append({"package": pkg, "executable": exe,
                                       "source": src.slug if src else None,
                                       "found": ev is not None, "evidence": ev})
        for target, args in r["launch_arguments"].items():
            pkg, rel = target.split("/", 1)
            src, d = _package(sources, pkg)
            path = f"{d}/{rel}"
            if src and path not in src.paths and path + ".in" in src.paths:
                path += ".in"
            for a in args:
                hit = src.grep(path, rf"DeclareLaunchArgument\(\s*['\"]{a}['\"]|"
                                     rf"{a}_parameter_name\s*=\s*['\"]{a}['\"]") if src else None
                img["launch_arguments"].append({"launch_file": target, "argument": a,
                                                "found": hit is not None,
                                                "evidence": {"file": path, "line": hit[0],
                                                             "text": hit[1]} if hit else None})
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            runs = _xacro_runs(distro, sources, Path(tmp),
                               {e["package"] for e in img["files"]})
        if runs is not None:
            img["xacro"] = runs
        listing["images"][distro] = img
        for fixture, (fdistro, pkg, files) in FIXTURE_INTERFACES.items():
            if fdistro != distro:
                continue
            src, d = _package(sources, pkg)
            listing.setdefault("interfaces", {})[fixture] = {
                "image": distro, "source": src.slug, "ref": src.ref,
                "files": {f: normalize_interface(src.show(f"{d}/{f}")) for f in files}}
    listing["dockerfiles"] = {n: dockerfile_refs(REPO / "docker" / n)
                              for n in ("Dockerfile", "Dockerfile.panda")}
    return listing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", required=True, type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "docker" / "upstream.json")
    args = ap.parse_args()
    listing = build(args.mirrors)
    args.out.write_text(json.dumps(listing, indent=1, sort_keys=False) + "\n")
    missing = [f"{d}: {e}" for d, img in listing["images"].items()
               for kind in ("files", "executables", "launch_arguments")
               for e in img[kind] if not e["found"]]
    missing += [f"{d}: package {n}" for d, img in listing["images"].items()
                for n, p in img["packages"].items() if not p["found"]]
    not_run = [{"what": "not run (pip install xacro)", "expanded": False}]
    missing += [f"{d}: xacro {r['what']} ({r.get('error')})"
                for d, img in listing["images"].items()
                for r in img.get("xacro") or not_run if not r["expanded"]]
    print(f"wrote {args.out}; {len(missing)} item(s) not found upstream")
    for m in missing:
        print("  MISSING", m)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
