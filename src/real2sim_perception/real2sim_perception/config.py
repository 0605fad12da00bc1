"""Typed configuration of the perception package (``config/perception.yaml``).

Every weight, range and initial value of the Real2Sim state estimator (METHOD sections 2-4)
is a field here. The YAML file is a ROS 2 parameter file::

    real2sim_perception:
      ros__parameters:
        optim:
          lr: 0.01

and is loaded with :func:`load_perception_config` (which wraps
:func:`real2sim_core.config.load_config`). Lengths are metres, angles degrees where the field
name ends in ``_deg`` and radians otherwise, times seconds, image sizes pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from real2sim_core.config import check_choice, check_range, load_config
from real2sim_core.tf_broadcast import TfConfig
from real2sim_core.trajectory import HAND_LENGTH_WRIST

from .frontend import FrontendConfig
from .registry import AUTO, RENDERERS
from .touch import TouchConfig

__all__ = [
    "CameraConfig",
    "RenderConfig",
    "ModelConfig",
    "LossConfig",
    "OptimConfig",
    "PhaseConfig",
    "QualityConfig",
    "PerceptionConfig",
    "load_perception_config",
    "CONFIG_FILE",
    "CONFIG_SECTION",
    "GRASP_OFFSET_CHOICES",
]

GRASP_OFFSET_CHOICES = ("carried", "all", "none")
"""``ModelConfig.grasp_offset``: the actions whose fingertip holds the object at its surface."""

CONFIG_FILE = "perception.yaml"
CONFIG_SECTION = "real2sim_perception"


@dataclass
class CameraConfig:
    """Pinhole camera of one video and its fitted parameters (METHOD section 2).

    Attributes:
        fov_y_deg: vertical field of view of the 240-px-high frame. 60 deg is the default of
            the neural mesh renderer the paper used (``viewing_angle = 30`` deg half-angle);
            the focal length is ``f = (H / 2) / tan(fov_y / 2)`` = 207.8 px at H = 240.
        init_distance: initial camera distance to the world origin, m.
        init_azimuth_param: initial raw azimuth parameter ``a`` (azimuth = max * tanh(a)).
        init_elevation_param: initial raw elevation parameter ``e``
            (elevation = max * sigmoid(e)).
        max_azimuth_deg: azimuth range bound, deg.
        max_elevation_deg: elevation range bound, deg.
        min_distance: the distance is clamped below at this value, m (keeps bodies in front).
        init_distance_from_hand: when True, the initial distance is instead set so that a hand
            of the model's diameter has the median apparent width of the hand masks (a data
            driven start for camera fitting; METHOD's fixed 2.0 m when False).
        near: bodies are kept at least this far in front of the camera, m.
    """

    fov_y_deg: float = 60.0
    init_distance: float = 2.0
    init_azimuth_param: float = 0.0
    init_elevation_param: float = 0.1
    max_azimuth_deg: float = 45.0
    max_elevation_deg: float = 75.0
    min_distance: float = 0.05
    init_distance_from_hand: bool = True
    near: float = 0.02

    def __post_init__(self):
        check_range(self, "fov_y_deg", 1.0, 170.0)
        check_range(self, "init_distance", 0.0, lo_open=True)
        check_range(self, "max_azimuth_deg", 0.0, 180.0, lo_open=True)
        check_range(self, "max_elevation_deg", 0.0, 90.0, lo_open=True)
        check_range(self, "min_distance", 0.0, lo_open=True)
        check_range(self, "near", 0.0, lo_open=True)


@dataclass
class RenderConfig:
    """Soft-silhouette rendering.

    Attributes:
        backend: renderer backend name (``"convex"`` built in; ``"pytorch3d"`` where
            importable; ``"auto"`` picks pytorch3d when importable, else convex).
        height: render and loss resolution (rows); masks are area-downsampled to it.
        sigma_px: softness of the silhouette edge at the end of the optimisation, in pixels
            of the *full-resolution* frame (silhouette = sigmoid(-signed distance / sigma)).
        sigma_start_px: softness at the first iteration (coarse to fine: a wide edge gives
            gradients far from the body); linearly annealed to ``sigma_px``.
        sigma_anneal_fraction: fraction of the iterations over which sigma is annealed.
        cylinder_segments: vertices per cap of the hand cylinder.
    """

    backend: str = "convex"
    height: int = 48
    sigma_px: float = 1.0
    sigma_start_px: float = 24.0
    sigma_anneal_fraction: float = 0.5
    cylinder_segments: int = 16

    def __post_init__(self):
        check_choice(self, "backend", (*RENDERERS, AUTO))
        check_range(self, "height", 8, 480)
        check_range(self, "sigma_px", 0.0, lo_open=True)
        check_range(self, "sigma_start_px", 0.0, lo_open=True)
        check_range(self, "sigma_anneal_fraction", 0.0, 1.0)
        check_range(self, "cylinder_segments", 4, 128)


@dataclass
class ModelConfig:
    """State model: shapes, parameter ranges and initial values (METHOD section 2).

    Attributes:
        hand_radius: hand cylinder radius, m.
        hand_length_forearm: cylinder length when the masks cover the forearm, m.
        hand_length_wrist: cylinder length when only the hand up to the wrist is masked
            (bounding-box inputs), m.
        hand_position_range: hand position = range * tanh(p), m.
        object_position_range: object position = range * tanh(p), m.
        object_size_range: object size = range * sigmoid(s), m.
        init_std: standard deviation of the normal initialisation of raw parameters.
        init_rotation_std: standard deviation of the initial rotation vectors, rad.
        init_hand_azimuth_deg: added to the initial hand azimuth (pointing away from the
            camera at 90 deg).
        lift_range: the manipulated object of pick-up and put actions rests on the table
            until the first touch; afterwards its centre is ``size_z / 2 + lift_range *
            |tanh(l)|`` (lifting allowed, never below the table), m.
        init_lift_param: initial raw lift parameter ``l`` (not 0: |tanh| has no gradient
            there; 0.001 is a 1.2 mm lift).
        rest_after_release: in put actions, the carried object is supported again after the
            last touch: its bottom is at ``size0_z * sigmoid(q)`` (one parameter ``q`` per
            video: on the table, on top of object 0, or between while q is undecided).
        init_support_param: initial ``q`` (-3: 5 % of object 0's height).
        release_support: what a released object (put actions, after the last touch) rests
            on: ``beneath`` (default): whatever lies under its centre of mass, object 0's
            top where the centre is over object 0's footprint and the table elsewhere (no
            object inside another); ``free``: the learned height ``size0_z sigmoid(q)``
            (the earlier model; the silhouettes alone rarely lift it off the table).
        support_softness: ``beneath``: the width of the linear ramp between table and
            object 0's top, centred on object 0's footprint edge, m.
        plausible_objects: the physically plausible object model: an object the hand does not
            hold rests on its support (the table, or object 0 after a put) with roll and pitch
            fixed to a resting pose (a face down; yaw free) and its lowest corner on the
            support, so it can only slide (planar position and yaw) when pushed or pulled; the
            manipulated object of pick-up / put actions is held from the first to the last
            touch and moves in 6 DoF with its lowest corner never below the table. False:
            METHOD section 2's free rotation vector with the centre at half the height.
        held_tilt: with ``plausible_objects``, a held object may also roll and pitch (else
            only its yaw turns).
        hand_above_table: the free fingertip (frames without touch) stays at least a hand
            radius above the table: its height is ``r + k softplus((z - r) / k)`` of the
            unconstrained height ``z`` (a smooth floor).
        hand_floor_softness: ``k`` of that floor, m.
        static_untouched: the manipulated object keeps one pose before the first and one
            after the last touch (an object the hand has not reached yet, or has let go of,
            does not move; without any touch frame it stays free).
        rigid_size: every object has one size for the whole video (a rigid body), instead
            of a size per frame held together by the size constancy loss (METHOD section 2).
        grasp_offset: for which actions, in touching frames, the fingertip is the
            manipulated object's centre plus one learned offset per video (world frame, each
            axis bounded by half the object's size plus the hand radius: the hand holds the
            object at its surface, so the hand silhouette does not drag the object's centre
            to the fingertip), and the fingertip may not sink into the object it holds:
            ``carried`` (pick up and put, whose object is held), ``all`` or ``none``; the
            other actions keep METHOD section 2's fingertip at the object's centre. Push and
            pull keep the centre by default: their policies learn to push at the fingertip's
            demonstrated height, and the offset raised it above the short benchmark
            cylinders (see the perception README).
        static_object_constant: in two-object actions, give object 0 (the one that stays on
            the table) a single pose for the whole video instead of one per frame.
        init_from_masks: initialise positions, sizes and the hand azimuth by back-projecting
            the masks through the initial camera onto the table (objects) and to the
            objects' depth (hand); False uses METHOD section 2's random initial values only.
        seed: random seed of the initialisation.
    """

    hand_radius: float = 0.04
    hand_length_forearm: float = 0.40
    hand_length_wrist: float = HAND_LENGTH_WRIST
    hand_position_range: float = 1.5
    object_position_range: float = 1.2
    object_size_range: float = 0.3
    init_std: float = 0.1
    init_rotation_std: float = 0.01
    init_hand_azimuth_deg: float = 90.0
    lift_range: float = 1.2
    init_lift_param: float = 0.001
    rest_after_release: bool = True
    init_support_param: float = -3.0
    release_support: str = "beneath"
    support_softness: float = 0.001
    plausible_objects: bool = True
    held_tilt: bool = True
    static_untouched: bool = True
    hand_above_table: bool = True
    hand_floor_softness: float = 0.005
    static_object_constant: bool = True
    rigid_size: bool = False
    grasp_offset: str = "carried"
    init_from_masks: bool = True
    seed: int = 0

    def __post_init__(self):
        for name in ("hand_radius", "hand_length_forearm", "hand_length_wrist",
                     "hand_position_range", "object_position_range", "object_size_range",
                     "lift_range", "hand_floor_softness", "support_softness"):
            check_range(self, name, 0.0, lo_open=True)
        check_range(self, "init_std", 0.0)
        check_range(self, "init_rotation_std", 0.0)
        check_choice(self, "release_support", ("beneath", "free"))
        check_choice(self, "grasp_offset", GRASP_OFFSET_CHOICES)


@dataclass
class LossConfig:
    """Loss weights of the published runs (METHOD section 3).

    Attributes:
        silhouette_hand: weight of the hand silhouette term.
        silhouette_object: weight of each object's silhouette term.
        size_constancy: weight of the object size constancy term.
        object_position_acc: weight of the object position acceleration term.
        hand_position_acc: weight of the fingertip position acceleration term.
        hand_angle_acc: weight of the hand azimuth/elevation acceleration term.
        object_rotation_acc: weight of the object rotation acceleration term.
        interaction: weight of the hand-object interaction term.
        interaction_slope: ``a`` in p = 1 - sigmoid(a d - b), 1/m.
        interaction_offset: ``b`` in p = 1 - sigmoid(a d - b).
        fg_reweight: weight foreground pixels by #background / #foreground of their frame.
        penetration: weight of an object-object non-penetration term (two-object actions):
            the mean over frames of the smallest axis overlap of the objects' world-axis
            bounding boxes, m (an addition to METHOD's terms; 0 disables it).
        object_speed: weight of a speed limit on the manipulated object: the mean over
            frames of how far its speed (forward difference, m/s) exceeds
            ``max_object_speed`` (an addition to METHOD's terms; 0 disables it).
        max_object_speed: that limit, m/s.
        silhouette_pixels: the per-pixel squared error is averaged over the image and then
            multiplied by this pixel count, i.e. summed over an image of this many pixels
            independent of the render resolution (1 = a plain per-pixel mean). The
            silhouette term must dominate the physics terms, or shrinking the scene (all
            velocities smaller) wins over fitting the fixed-size hand.
    """

    silhouette_hand: float = 0.3
    silhouette_object: float = 0.3
    size_constancy: float = 4000.0
    object_position_acc: float = 5.0
    hand_position_acc: float = 5.0
    hand_angle_acc: float = 5.0
    object_rotation_acc: float = 5.0
    interaction: float = 1.0
    interaction_slope: float = 40.0
    interaction_offset: float = 4.0
    fg_reweight: bool = True
    silhouette_pixels: float = 6400.0
    penetration: float = 1000.0
    hand_table: float = 1000.0
    hand_object: float = 1000.0
    object_speed: float = 1000.0
    max_object_speed: float = 1.0

    def __post_init__(self):
        check_range(self, "penetration", 0.0)
        check_range(self, "object_speed", 0.0)
        check_range(self, "max_object_speed", 0.0, lo_open=True)
        check_range(self, "hand_table", 0.0)
        check_range(self, "hand_object", 0.0)
        check_range(self, "silhouette_pixels", 0.0, lo_open=True)
        for f in ("silhouette_hand", "silhouette_object", "size_constancy",
                  "object_position_acc", "hand_position_acc", "hand_angle_acc",
                  "object_rotation_acc", "interaction"):
            check_range(self, f, 0.0)


@dataclass
class OptimConfig:
    """Optimiser (METHOD section 3).

    Attributes:
        lr: Adam learning rate.
        iterations: number of Adam steps over all frames jointly.
        torch_threads: torch intra-op threads during estimation (0 = leave torch's setting).
            1 by default: the per-op work is small, and on a shared 2-core machine two
            threads measured 4x slower than one.
    """

    lr: float = 0.01
    iterations: int = 300
    torch_threads: int = 1

    def __post_init__(self):
        check_range(self, "lr", 0.0, lo_open=True)
        check_range(self, "iterations", 1)
        check_range(self, "torch_threads", 0)


@dataclass
class PhaseConfig:
    """Action phase estimation (METHOD section 4).

    Attributes:
        speed_threshold: the manipulated object counts as moving above this speed, m/s
            (after smoothing).
        smooth_frames: width of the moving-average filter on the object position, frames.
        use_touch: touching frames belong to the phase.
        touch_span: with ``use_touch``, a video with touch frames has the span from its first
            to its last touch frame as the phase, whatever the object's speed (the plausible
            object model does not move an untouched object; measured on the Something-Else
            videos: mean IoU 0.83 against 0.71 for touch or speed).
        min_gap_frames: gaps inside the phase shorter than this are filled, frames.
        min_segment_frames: phase segments shorter than this are dropped, frames.
        aligned_phase_only: ``estimate`` returns the aligned trajectory cut to the predicted
            phase (the setting B of the paper); False keeps all frames.
    """

    speed_threshold: float = 0.05
    smooth_frames: int = 5
    use_touch: bool = True
    touch_span: bool = True
    min_gap_frames: int = 6
    min_segment_frames: int = 3
    aligned_phase_only: bool = True

    def __post_init__(self):
        check_range(self, "speed_threshold", 0.0)
        check_range(self, "smooth_frames", 1)
        check_range(self, "min_gap_frames", 0)
        check_range(self, "min_segment_frames", 1)


@dataclass
class QualityConfig:
    """Fit-quality flag written into ``summary.json``.

    Attributes:
        max_silhouette_loss: a track whose final per-frame silhouette loss (unweighted,
            foreground-reweighted squared error per pixel) exceeds this is a failed fit.
        min_iou: a track whose mean IoU between the thresholded rendering and its mask is
            below this is a failed fit.
        max_touch_fraction: bad input: the hand touches the manipulated object in at least
            this fraction of the frames where the object is seen (it is never separated from
            the hand: its resting pose and the action phase cannot be observed).
        max_object_area_fraction: bad input: an object mask covers at least this fraction of
            the frame in the median observed frame (a box around the whole frame).

    Either bad input adds a one-line warning to ``flags["warnings"]`` (``summary.json``) and
    to the trajectory's metadata (``# warning:`` lines of the states files) and flags the
    fit as failed.
    """

    max_silhouette_loss: float = 0.6
    min_iou: float = 0.3
    max_touch_fraction: float = 0.95
    max_object_area_fraction: float = 0.8

    def __post_init__(self):
        check_range(self, "max_silhouette_loss", 0.0, lo_open=True)
        check_range(self, "min_iou", 0.0, 1.0)
        check_range(self, "max_touch_fraction", 0.0, 1.0, lo_open=True)
        check_range(self, "max_object_area_fraction", 0.0, 1.0, lo_open=True)


@dataclass
class PerceptionConfig:
    """All parameters of the Real2Sim state estimator, its video front end and its node.

    ``out_dir`` is the node's default output root (a request's ``out_dir`` wins; empty: a new
    temporary folder).
    """

    camera: CameraConfig = field(default_factory=CameraConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    touch: TouchConfig = field(default_factory=TouchConfig)
    phase: PhaseConfig = field(default_factory=PhaseConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    frontend: FrontendConfig = field(default_factory=FrontendConfig)
    tf: TfConfig = field(default_factory=TfConfig)  # the node's TF frames (not the estimator)
    out_dir: str = ""


def load_perception_config(path=CONFIG_FILE, overrides=None) -> PerceptionConfig:
    """Load :class:`PerceptionConfig` from the ``real2sim_perception`` section of a YAML file.

    Args:
        path: a ROS parameter file; a bare name is looked up in the repository's ``config/``.
        overrides: dotted ``name -> value`` pairs, e.g. ``{"optim.iterations": 100}``.

    Raises:
        ConfigError: file missing, unknown keys, wrong types or out-of-range values.
    """
    return load_config(PerceptionConfig, path, section=CONFIG_SECTION, overrides=overrides)
