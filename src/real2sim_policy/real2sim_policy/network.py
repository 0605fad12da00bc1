"""The network of METHOD 7: an SB3 actor-critic policy whose actor sees only the 8 policy
observations and whose critic also sees the 16 privileged values (the objects' state).

:func:`AsymmetricActorCriticPolicy` returns the class (built lazily, once: torch and
stable-baselines3 are heavy imports). Its feature vector is the (24,) training observation
``[policy observation (8), privileged (16)]``; the actor MLP reads ``features[..., :actor_dim]``
(``actor_dim`` = :data:`~real2sim_policy.spaces.OBS_DIM`), the critic MLP all of it. Both MLPs
have the hidden sizes of ``net_arch["pi"]`` and SB3's activation (tanh in training).
"""

from __future__ import annotations

import functools

from .spaces import OBS_DIM

__all__ = ["AsymmetricActorCriticPolicy"]


def _asymmetric_policy_class():
    """Build the SB3 policy class lazily (torch and SB3 are heavy imports)."""
    from stable_baselines3.common.policies import ActorCriticPolicy
    from torch import nn

    class _Extractor(nn.Module):
        """Actor MLP on the first ``actor_dim`` features, critic MLP on all of them."""

        def __init__(self, feature_dim: int, actor_dim: int, hidden, activation):
            super().__init__()
            self.actor_dim = actor_dim

            def mlp(n_in):
                layers, last = [], n_in
                for h in hidden:
                    layers += [nn.Linear(last, int(h)), activation()]
                    last = int(h)
                return nn.Sequential(*layers)

            self.policy_net = mlp(actor_dim)
            self.value_net = mlp(feature_dim)
            self.latent_dim_pi = int(hidden[-1])
            self.latent_dim_vf = int(hidden[-1])

        def forward(self, features):
            return self.forward_actor(features), self.forward_critic(features)

        def forward_actor(self, features):
            return self.policy_net(features[..., : self.actor_dim])

        def forward_critic(self, features):
            return self.value_net(features)

    class AsymmetricPolicy(ActorCriticPolicy):
        """Actor on the 8 policy observations, critic on the full (privileged) vector."""

        def __init__(self, *args, actor_dim: int = OBS_DIM, **kwargs):
            self._actor_dim = actor_dim
            super().__init__(*args, **kwargs)

        def _build_mlp_extractor(self) -> None:
            arch = self.net_arch
            hidden = arch["pi"] if isinstance(arch, dict) else arch
            self.mlp_extractor = _Extractor(self.features_dim, self._actor_dim, hidden,
                                            self.activation_fn)

    return AsymmetricPolicy


@functools.lru_cache(maxsize=1)
def AsymmetricActorCriticPolicy():  # noqa: N802 - returns the class (built lazily, once)
    """The SB3 actor-critic policy class whose actor sees only the first 8 observations."""
    return _asymmetric_policy_class()
