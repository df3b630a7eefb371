"""Writes the bundled demo tensor and BN parameters (run with Debian's python3).

input.npy:     (1, 3, 4, 4) float32, NCHW, values around a non-zero mean.
bn_params.npy: (4, 3) float32, rows gamma, beta, running mean, running var:
               the statistics of a trained BatchNorm2d(3), one negative gamma.
"""
import numpy as np

rng = np.random.default_rng(2026)
x = (rng.normal(size=(1, 3, 4, 4)) * [[[[2.0]], [[0.5]], [[1.0]]]]
     + [[[[1.0]], [[-3.0]], [[0.25]]]]).astype(np.float32)
params = np.array([
    [1.25, -0.8, 0.6],     # gamma
    [0.1, 0.5, -0.2],      # beta
    [1.0, -3.0, 0.25],     # running mean
    [4.0, 0.25, 1.0],      # running var
], dtype=np.float32)
np.save("input.npy", x)
np.save("bn_params.npy", params)
