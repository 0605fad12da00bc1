"""frames.py conventions, typed config loading, and the real2sim CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from real2sim_core.config import (
    ConfigError,
    check_range,
    flatten,
    from_flat,
    load_config,
    parse_overrides,
)

from real2sim_core import frames


def test_hand_direction_conventions():
    np.testing.assert_allclose(frames.hand_direction(0.0, 0.0), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(frames.hand_direction(np.pi / 2, 0.0), [0, 1, 0], atol=1e-12)
    # positive elevation points down
    np.testing.assert_allclose(frames.hand_direction(0.0, np.pi / 2), [0, 0, -1], atol=1e-12)
    az, el = frames.hand_angles_from_direction(frames.hand_direction(0.7, 0.4))
    np.testing.assert_allclose([az, el], [0.7, 0.4])


def test_gripper_quat_points_along_hand_direction():
    az, el = np.array([0.3, -2.0, 1.0]), np.array([1.2, -0.5, 0.0])
    q = frames.gripper_quat_from_hand_angles(az, el)
    m = frames.rotvec_to_matrix(frames.quat_to_rotvec(q))
    np.testing.assert_allclose(m[:, :, 2], frames.hand_direction(az, el), atol=1e-12)
    assert np.allclose(m[:, 2, 1], 0.0)  # finger axis horizontal at zero roll
    back = frames.hand_angles_from_gripper_quat(q)
    np.testing.assert_allclose(back, [az, el], atol=1e-12)


def test_camera_position_and_look_at():
    cam = frames.camera_position(2.0, 0.0, 0.0)
    np.testing.assert_allclose(cam, [0, -2, 0], atol=1e-12)  # on -y looking towards +y
    r = frames.look_at_matrix(cam)
    np.testing.assert_allclose(r @ np.array([1.0, 0, 0]), [1, 0, 0], atol=1e-12)  # +x is right
    np.testing.assert_allclose(r @ np.array([0, 0, 1.0]), [0, -1, 0], atol=1e-12)  # up is -v


def test_torch_rodrigues_matches_numpy():
    torch = pytest.importorskip("torch")
    rv = np.array([[0.3, -0.2, 0.9], [1e-6, 0, 0], [0, 0, 0]])
    m = frames.rotvec_to_matrix_torch(torch.tensor(rv)).numpy()
    np.testing.assert_allclose(m, frames.rotvec_to_matrix(rv), atol=1e-9)
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    frames.rotvec_to_matrix_torch(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_compose_planar():
    pose = frames.Pose2D(0.5, 0.1, np.pi / 2)
    p, q = frames.compose_planar(pose, [[0.1, 0, 0]], [frames.yaw_quat(0.0)])
    np.testing.assert_allclose(p, [[0.5, 0.2, 0]], atol=1e-12)
    np.testing.assert_allclose(frames.quat_angle(q[0], frames.yaw_quat(np.pi / 2)), 0, atol=1e-7)


@dataclasses.dataclass
class _Inner:
    lr: float = 0.01
    iters: int = 400

    def __post_init__(self):
        check_range(self, "lr", 0.0, lo_open=True)


@dataclasses.dataclass
class _Schema:
    name: str = "x"
    inner: _Inner = dataclasses.field(default_factory=_Inner)
    flags: list[float] = dataclasses.field(default_factory=lambda: [1.0])


def test_config_load_flatten_and_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("node:\n  ros__parameters:\n    inner:\n      lr: 0.5\n    flags: [1, 2]\n")
    cfg = load_config(_Schema, p, section="node", overrides={"inner.iters": 10})
    assert cfg.inner.lr == 0.5 and cfg.inner.iters == 10 and cfg.flags == [1.0, 2.0]
    flat = flatten(cfg)
    assert flat == {"name": "x", "inner.lr": 0.5, "inner.iters": 10, "flags": [1.0, 2.0]}
    assert from_flat(_Schema, flat) == cfg
    p.write_text("node:\n  ros__parameters:\n    inner:\n      lr: -1.0\n")
    with pytest.raises(ConfigError,
                       match=r"_Inner.lr = -1.0 is out of range; allowed \(0.0, inf\]"):
        load_config(_Schema, p, section="node")
    p.write_text("node:\n  ros__parameters:\n    inner:\n      lrr: 1.0\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) lrr; valid keys: lr, iters"):
        load_config(_Schema, p, section="node")
    p.write_text("node:\n  ros__parameters:\n    inner:\n      iters: 'many'\n")
    with pytest.raises(ConfigError, match=r"inner.iters: expected an integer, got 'many'"):
        load_config(_Schema, p, section="node")
    with pytest.raises(ConfigError, match="no section 'other'"):
        load_config(_Schema, p, section="other")


def test_parse_overrides_one_syntax_one_error(tmp_path):
    got = parse_overrides(["inner.iters=10", " flags = [1, 2]", "name=a=b", "inner.lr=0.001"])
    assert got == {"inner.iters": 10, "flags": [1, 2], "name": "a=b", "inner.lr": 0.001}
    assert parse_overrides(None) == {} and parse_overrides([]) == {}
    for bad in ("inner.iters", "=3"):
        with pytest.raises(ConfigError, match=rf"--set '{bad}': expected KEY=VALUE, e.g. a.b=1"):
            parse_overrides([bad], example="a.b=1")
    with pytest.raises(ConfigError, match=r"--set 'flags=\[1': the value is not valid YAML"):
        parse_overrides(["flags=[1"])
    p = tmp_path / "c.yaml"
    p.write_text("node:\n  ros__parameters:\n    inner:\n      lr: 0.5\n")
    cfg = load_config(_Schema, p, section="node", overrides=parse_overrides(["inner.iters=7"]))
    assert cfg.inner.iters == 7 and cfg.inner.lr == 0.5


def _real2sim(*args, **kw):
    exe = Path(sys.executable).with_name("real2sim")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, **kw)


def test_cli_help_and_doctor():
    r = _real2sim("--help")
    assert r.returncode == 0 and "doctor" in r.stdout
    r = _real2sim("doctor")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[ok     ] real2sim_interfaces" in r.stdout
    assert "[ok     ] rclpy + RMW" in r.stdout
    assert "optional" in r.stdout


def test_doctor_fails_when_a_required_component_is_missing():
    from real2sim_core import doctor

    def broken():
        raise ImportError("No module named 'pybullet'")

    checks = [doctor.Check("pybullet", True, broken, "pip install pybullet"),
              doctor.Check("pytorch3d", False, broken)]
    res = doctor.run_checks(checks)
    assert [ok for _, ok, _ in res] == [False, False]
    assert "pip install pybullet" in res[0][2]
