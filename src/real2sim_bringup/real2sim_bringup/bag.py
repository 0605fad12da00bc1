"""rosbag2 (MCAP) recording without a ROS installation, through the ``rosbags`` library.

:class:`BagWriter` writes CDR-serialized messages (as rclpy produces them, e.g. from a raw
subscription) into a real rosbag2 directory (``metadata.yaml`` + ``.mcap``) whose type hashes
match rclpy's. Our own message types are registered from the ``.msg`` files that the colcon
build installs (``share/real2sim_interfaces/msg``).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["BagWriter", "msgtype_name", "interface_definitions_dir", "read_bag"]


def msgtype_name(msg_class) -> str:
    """``real2sim_interfaces.msg.StateTrajectory`` class ->
    ``real2sim_interfaces/msg/StateTrajectory``."""
    pkg = msg_class.__module__.split(".")[0]
    kind = msg_class.__module__.split(".")[1]
    return f"{pkg}/{kind}/{msg_class.__name__}"


def interface_definitions_dir(package: str = "real2sim_interfaces") -> Path:
    """Where the package's ``msg/*.msg`` files are installed (or, failing that, the sources)."""
    cands = [Path(sys.prefix) / "share" / package]
    try:
        from ament_index_python.packages import get_package_share_directory

        cands.insert(0, Path(get_package_share_directory(package)))
    except Exception:  # noqa: BLE001 - no ament index (pip-style install): use the prefix
        pass
    cands.append(Path(__file__).resolve().parents[2] / package)
    for c in cands:
        if (c / "msg").is_dir():
            return c
    raise FileNotFoundError(f"cannot find {package}/msg/*.msg in {', '.join(map(str, cands))}")


def _typestore():
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    root = interface_definitions_dir()
    types = {}
    for f in sorted((root / "msg").glob("*.msg")):
        types.update(get_types_from_msg(f.read_text(), f"real2sim_interfaces/msg/{f.stem}"))
    store.register(types)
    return store


class BagWriter:
    """Write serialized messages into a rosbag2 MCAP directory.

    Example::

        with BagWriter("out/bag") as bag:
            bag.write("/real2sim/state_trajectory", StateTrajectory, cdr_bytes, stamp_ns)
    """

    def __init__(self, path):
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path}: bag directory exists; choose a new path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._store = _typestore()
        self._writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections = {}
        self.counts: dict[str, int] = {}

    def write(self, topic: str, msg_class, data: bytes, stamp_ns: int) -> None:
        """Write one CDR-serialized message of type ``msg_class`` at ``stamp_ns``."""
        conn = self._connections.get(topic)
        if conn is None:
            conn = self._writer.add_connection(topic, msgtype_name(msg_class),
                                               typestore=self._store)
            self._connections[topic] = conn
        self._writer.write(conn, int(stamp_ns), bytes(data))
        self.counts[topic] = self.counts.get(topic, 0) + 1

    def write_message(self, topic: str, msg, stamp_ns: int) -> None:
        """Serialize an rclpy message and write it."""
        from rclpy.serialization import serialize_message

        self.write(topic, type(msg), serialize_message(msg), stamp_ns)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_bag(path) -> dict[str, list]:
    """Topic -> list of (msgtype, stamp_ns, cdr bytes) of a rosbag2 directory."""
    from rosbags.rosbag2 import Reader

    out: dict[str, list] = {}
    with Reader(Path(path)) as reader:
        for conn, stamp, raw in reader.messages():
            out.setdefault(conn.topic, []).append((conn.msgtype, stamp, raw))
    return out
