"""qenc-example-attack: registers the attack ``random-sign`` with qenc-bench.

``random-sign`` moves every pixel by exactly ``eps`` in a uniformly random direction,
``x' = clip(x + eps * s, 0, 1)`` with each ``s_j`` = +1 or -1 with probability 1/2, drawn
from the generator the harness passes (so a run is reproducible from its seed). It never
asks for a gradient. It is the baseline every robustness study should report next to FGSM
and PGD at the same eps: a gradient attack that does no better than random signs has found
nothing, and a model whose accuracy falls under random signs is fragile to noise, not to an
adversary.

Pixels the encoder ignores (ATP's pruned pixels) are moved too; that changes nothing,
because the encoder never reads them.
"""

from __future__ import annotations

import numpy as np

from qenc_bench import Attack, AttackSpec, GradientFn, hookimpl, project


class RandomSign(Attack):
    """A uniform random sign perturbation of size ``eps`` under the L-infinity budget."""

    name = "random-sign"

    def perturb(self, x: np.ndarray, gradient: GradientFn, eps: float, rng: np.random.Generator) -> np.ndarray:
        signs = rng.choice(np.array([-1.0, 1.0]), size=x.shape)
        return project(x + eps * signs, x, eps)


@hookimpl
def qenc_bench_register_attacks(register):
    register(
        AttackSpec(
            name="random-sign",
            factory=RandomSign,
            description="uniform random sign perturbation of size eps: the gradient-free baseline",
        )
    )
