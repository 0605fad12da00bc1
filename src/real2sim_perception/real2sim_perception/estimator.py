"""Real2Sim state estimation: masks -> coarse 3D hand-object state trajectory.

The method of paper section 3.2 / appendix A.2 with the numbers of METHOD sections 2-4:
per-frame states of the hand (fingertip position, azimuth, elevation) and of the cuboid
objects (size, position, rotation vector) plus one camera (distance, azimuth, elevation)
are free parameters, normalised through tanh/sigmoid; all frames are optimised jointly with
Adam on

* silhouette losses (hand, each object): squared error between the rendered soft silhouette
  and the mask, foreground pixels reweighted by #background / #foreground, empty-mask frames
  skipped;
* object size constancy, and the accelerations of object positions, object rotations, the
  fingertip and the hand angles;
* the hand-object interaction ``p ||v_obj - v_hand|| + (1 - p) ||v_obj||`` with
  ``p = 1 - sigmoid(40 d - 4)`` (``p = 1`` in touching frames).

Constraints of the state model: object 0 rests on the table (``z = size_z / 2``); the
manipulated object of pick-up and put actions rests until the first touch and may be lifted
afterwards; in touching frames the fingertip is tied to the manipulated object's centre.

This module holds the entry point :func:`estimate` (the optimisation loop and the result,
:class:`EstimateResult`); the parts live in :mod:`.state_model` (parametrisation and
constraints), :mod:`.initialisation` (initial values from the masks), :mod:`.fitting`
(rendering and loss terms) and :mod:`.quality` (input warnings). Imports no rclpy.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from real2sim_core.actions import ActionSpec, get_action
from real2sim_core.plausibility import check_trajectory
from real2sim_core.trajectory import ALIGN_SCALE, Camera, StateTrajectory, align

from .config import PerceptionConfig
from .fitting import FitProblem
from .initialisation import init_from_masks
from .inputs import MaskSequence
from .phase import detect_phase
from .quality import input_warnings
from .state_model import StateModel
from .touch import estimate_touch

__all__ = ["EstimateResult", "estimate"]

log = logging.getLogger(__name__)


@dataclass
class EstimateResult:
    """What :func:`estimate` returns.

    Attributes:
        trajectory: the estimated states of all frames, raw world frame (camera fitted).
        aligned: the aligned-frame trajectory (METHOD section 4) of the predicted action phase
            (all frames when ``config.phase.aligned_phase_only`` is False); its ``phase`` holds
            the frames, None when it is not cut (no detectable phase, or all frames wanted).
        losses: final loss terms: weighted terms by name, ``total``, and per-track unweighted
            silhouette losses ``silhouette/<track>``.
        phase: predicted action phase ``(start, stop)``, frame indices, stop exclusive.
        timing: seconds: ``prepare``, ``optimise``, ``total``; ``s_per_iteration``.
        flags: fit quality: ``fit_ok`` (bool; False for a failed track, a severe input
            warning, or an input warning with an implausible result), ``failed_tracks``,
            ``warnings`` (bad input, see :func:`~.quality.input_warnings`), ``input_ok``,
            ``plausible`` / ``plausibility`` (:mod:`real2sim_core.plausibility` on the
            aligned trajectory), ``iou/<track>``, ``notes``.
        touch: ``(T,)`` touch flags used (input or estimated).
        rendered: ``(K, T, h, w)`` final soft silhouettes at the render resolution (NaN in
            frames without a mask).
        targets: ``(K, T, h, w)`` downsampled masks the losses compared against.
        history: total loss per iteration.
    """

    trajectory: StateTrajectory
    aligned: StateTrajectory
    losses: dict
    phase: tuple[int, int]
    timing: dict
    flags: dict
    touch: np.ndarray
    rendered: np.ndarray | None = None
    targets: np.ndarray | None = None
    history: list = field(default_factory=list)

    @property
    def fit_ok(self) -> bool:
        return bool(self.flags.get("fit_ok", False))



# --- public entry point ---------------------------------------------------------------------


def estimate(inputs: MaskSequence, action, config: PerceptionConfig | None = None,
             progress: bool | Callable[[int, int, float], None] = False) -> EstimateResult:
    """Estimate the coarse 3D state trajectory of one video from its masks.

    Args:
        inputs: the masks (and optional touch flags) at the video's frame rate.
        action: action name / template id / :class:`ActionSpec` (decides 1 or 2 objects,
            the manipulated object and whether it may be lifted).
        config: parameters; defaults of :class:`PerceptionConfig` when None.
        progress: True shows a tqdm bar; a callable gets ``(iteration, total, loss)``.

    Returns:
        :class:`EstimateResult` with the raw and aligned trajectories, final losses, the
        predicted phase, timing and fit-quality flags.

    Raises:
        real2sim_core.errors.InputError: the masks do not fit the action (object count), a
            track is never observed, or the configured renderer backend is unavailable.
    """
    from .errors import MaskShapeError

    t0 = time.perf_counter()
    cfg = config or PerceptionConfig()
    spec = get_action(action)
    if inputs.num_objects != spec.num_objects:
        raise MaskShapeError(
            f"action {spec.name!r} needs {spec.num_objects} object track(s) but the masks have "
            f"{inputs.num_objects} ({', '.join(inputs.tracks)})"
        )
    inputs.check_tracks_present()
    threads = torch.get_num_threads()
    if cfg.optim.torch_threads:
        torch.set_num_threads(cfg.optim.torch_threads)
    try:
        return _estimate(inputs, spec, cfg, progress, t0)
    finally:
        torch.set_num_threads(threads)


def _estimate(seq: MaskSequence, spec: ActionSpec, cfg: PerceptionConfig, progress, t0):
    notes = list(seq.notes)
    touch_given = seq.touch is not None
    touch = (np.asarray(seq.touch, dtype=float) if touch_given
             else estimate_touch(seq, cfg.touch))
    touch = (touch > 0.5).astype(float)
    warnings, severe = input_warnings(seq, touch, spec, cfg)
    for text in warnings:
        log.warning("video %s: %s", seq.video_id, text)
    prob = FitProblem(seq, spec, cfg, touch)
    rng = np.random.default_rng(cfg.model.seed)
    torch.manual_seed(cfg.model.seed)
    if cfg.model.init_from_masks:
        init, init_notes = init_from_masks(seq, spec, cfg, prob.intr_full, rng)
        notes += init_notes
    else:
        init = StateModel.random_init(seq.num_frames, spec, cfg, rng)
    model = StateModel(seq.num_frames, spec, cfg, touch, init)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    t1 = time.perf_counter()
    iters = cfg.optim.iterations
    history = []
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=iters, desc=f"estimate {seq.video_id or ''}".strip(), unit="it",
                   leave=False)
    for it in range(iters):
        opt.zero_grad(set_to_none=True)
        total, _, _ = prob.losses(model, prob.sigma(it, iters))
        total.backward()
        opt.step()
        lv = float(total.detach())
        history.append(lv)
        if bar is not None:
            bar.update(1)
            if it % 20 == 0:
                bar.set_postfix(loss=f"{lv:.3f}")
        elif callable(progress):
            progress(it, iters, lv)
    if bar is not None:
        bar.close()
    t2 = time.perf_counter()
    with torch.no_grad():
        sigma_end = prob.sigma(iters, iters)
        total, terms, renders = prob.losses(model, sigma_end)
        st = model.states()
        d, az, el = model.camera()
    losses = {k: float(v) for k, v in terms.items()}
    losses["total"] = float(total)
    k_n, t_n = len(seq.tracks), seq.num_frames
    rendered = np.full((k_n,) + tuple(prob.targets.shape[1:]), np.nan, dtype=np.float32)
    ious = {}
    for k, (idx, img) in enumerate(renders):
        if img is None:
            continue
        rendered[k, idx.numpy()] = img.numpy()
        a = img.numpy() > 0.5
        b = prob.targets[k, idx].numpy() > 0.5
        ious[seq.tracks[k]] = float((a & b).sum() / max((a | b).sum(), 1))
    traj = StateTrajectory(
        times=np.arange(t_n) / seq.fps,
        hand_pos=st["hand_pos"].detach().numpy().astype(float),
        hand_azi=st["hand_azi"].detach().numpy().astype(float),
        hand_ele=st["hand_ele"].detach().numpy().astype(float),
        obj_pos=st["obj_pos"].detach().numpy().astype(float),
        obj_rot=st["obj_rot"].detach().numpy().astype(float),
        obj_size=st["obj_size"].detach().numpy().astype(float),
        touch=touch,
        camera=Camera(float(d), float(az), float(el)),
        fps=seq.fps,
        action=spec.name,
        video_id=seq.video_id,
        warnings=tuple(warnings),
    )
    found = detect_phase(traj.obj_pos[:, spec.manipulated_object], touch, seq.fps, cfg.phase)
    phase = found if found is not None else (0, t_n)
    part = traj.slice(*phase) if cfg.phase.aligned_phase_only else traj
    aligned = align(part, scale=ALIGN_SCALE)
    if cfg.phase.aligned_phase_only and found is not None:
        # states_aligned.csv says which frames it holds; without a detectable phase it holds
        # the whole video and no phase (training refuses it as a demonstration)
        aligned.phase = found
    plaus = check_trajectory(aligned, spec.name)
    q = cfg.quality
    failed = [name for name in seq.tracks
              if losses.get(f"silhouette/{name}", 0.0) > q.max_silhouette_loss
              or ious.get(name, 1.0) < q.min_iou]
    flags = {
        # bad input fails the fit when it is severe or the result is not plausible
        "fit_ok": not failed and not severe and (plaus.plausible or not warnings),
        "failed_tracks": failed,
        "warnings": warnings,
        "input_ok": not warnings,
        "plausible": plaus.plausible,
        "plausibility": plaus.reason,
        **{f"iou/{k}": v for k, v in ious.items()},
        "touch_source": "input" if touch_given else "estimated from masks",
        "hand_length": prob.hand_length,
        "renderer": prob.renderer.name,
        "notes": notes,
    }
    if failed:
        log.warning("video %s: fit failed for %s (silhouette loss / IoU beyond thresholds)",
                    seq.video_id, ", ".join(failed))
    t3 = time.perf_counter()
    timing = {"prepare": t1 - t0, "optimise": t2 - t1, "total": t3 - t0,
              "iterations": iters, "s_per_iteration": (t2 - t1) / max(iters, 1),
              "torch_threads": torch.get_num_threads()}
    return EstimateResult(traj, aligned, losses, phase, timing, flags, touch, rendered,
                          prob.targets.numpy(), history)
