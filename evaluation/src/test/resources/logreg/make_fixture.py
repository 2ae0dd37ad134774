"""Regenerates fixture.json: a small multinomial logistic regression solved to high precision by scipy's L-BFGS-B
on the objective of scikit-learn / cuML LogisticRegression(penalty="l2", C): mean cross-entropy + ||W||^2 / (2 C n),
intercept unpenalised. Run: python3 make_fixture.py > fixture.json"""
import json

import numpy as np
from scipy.optimize import minimize

rng = np.random.default_rng(0)
n, d, k = 30, 4, 3
y = np.arange(n) % k
X = rng.normal(size=(n, d)) + np.eye(k, d)[y] * 1.2
X = X.astype(np.float32).astype(np.float64)   # the Java side holds float32 features


def f(theta, C):
    W = theta[: d * k].reshape(d, k)
    b = theta[d * k:]
    z = X @ W + b
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    ce = (lse - z[np.arange(n), y]).mean()
    lam = 1.0 / (C * n)
    p = np.exp(z - lse[:, None])
    p[np.arange(n), y] -= 1
    gW = X.T @ p / n + lam * W
    gb = p.sum(axis=0) / n
    return ce + 0.5 * lam * (W ** 2).sum(), np.concatenate([gW.ravel(), gb])


cases = []
for C in [0.01, 1.0, 100.0]:
    r = minimize(f, np.zeros(d * k + k), args=(C,), jac=True, method="L-BFGS-B",
                 options={"maxiter": 10000, "ftol": 1e-15, "gtol": 1e-11})
    W = r.x[: d * k]
    b = r.x[d * k:]
    cases.append({"C": C, "W": W.tolist(), "b_centered": (b - b.mean()).tolist(), "objective": float(r.fun)})
print(json.dumps({"X": X.tolist(), "y": y.tolist(), "classes": k, "cases": cases}))
