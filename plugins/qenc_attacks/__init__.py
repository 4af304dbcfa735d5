"""First-party attacks: FGSM and PGD under an L-infinity budget on pixels in [0, 1]."""

from __future__ import annotations

import numpy as np

from qenc_bench import Attack, AttackSpec, ConfigError, GradientFn, hookimpl, project


class FGSM(Attack):
    """Fast gradient sign method (Goodfellow et al. 2015): x' = clip(x + eps sign(grad), 0, 1)."""

    name = "fgsm"

    def perturb(self, x: np.ndarray, gradient: GradientFn, eps: float, rng: np.random.Generator) -> np.ndarray:
        return project(x + eps * np.sign(gradient(x)), x, eps)


class PGD(Attack):
    """Projected gradient descent (Madry et al. 2018), L-infinity.

    :param steps: iterations (default 10).
    :param step: step size per iteration (default 2.5 eps / steps).
    :param random_start: start from a uniform point of the eps ball (default True).

    With ``steps=1``, ``step=eps`` and no random start it is FGSM.
    """

    name = "pgd"

    def __init__(self, steps: int = 10, step: float | None = None, random_start: bool = True):
        if int(steps) < 1:
            raise ConfigError(f"pgd steps must be at least 1, got {steps}")
        if step is not None and float(step) <= 0:
            raise ConfigError(f"pgd step must be positive, got {step}")
        self.steps, self.step, self.random_start = int(steps), step, bool(random_start)

    def perturb(self, x: np.ndarray, gradient: GradientFn, eps: float, rng: np.random.Generator) -> np.ndarray:
        step = float(self.step) if self.step is not None else 2.5 * eps / self.steps
        x_adv = x.copy()
        if self.random_start:  # only pixels the model reads (non-zero gradient) start off-centre
            noise = rng.uniform(-eps, eps, size=x.shape) * (gradient(x) != 0)
            x_adv = project(x + noise, x, eps)
        for _ in range(self.steps):
            x_adv = project(x_adv + step * np.sign(gradient(x_adv)), x, eps)
        return x_adv


@hookimpl
def qenc_bench_register_attacks(register):
    register(AttackSpec(name="fgsm", factory=FGSM, description="fast gradient sign method, L-inf eps on pixels"))
    register(AttackSpec(name="pgd", factory=PGD,
                        description="projected gradient descent, L-inf (options: steps, step, random_start)"))
