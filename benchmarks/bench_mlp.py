"""MLP training side by side: lkreg.neural_network against scikit-learn's MLPClassifier and a
torch CPU loop (when torch is installed), in one run, round-robin.

    python benchmarks/bench_mlp.py [--quick] [--threads 2] [--rounds 5] [--mnist]

``load_digits`` (30% test split, one hidden layer of 128, batch 200, Adam lr 1e-3, 30 epochs):
time per epoch (median over rounds; each round fits every model once, in turn, so load on a
shared machine hits them alike) and test accuracy. ``--mnist`` adds a synthetic MNIST-sized
problem (60000 x 784, hidden 256-128, 10 classes): training samples per second. Every library
runs on ``--threads`` threads (lkreg, BLAS through threadpoolctl, torch). Also collected by
pytest-benchmark (benchmarks/test_bench_mlp.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

import lkreg
from lkreg._bench import _torch


def digits_data() -> Tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return tuple(train_test_split(X / 16.0, y, test_size=0.3, random_state=0))


def mnist_like_data(n: int = 60000, n_test: int = 10000) -> Tuple[np.ndarray, ...]:
    """Ten Gaussian classes in 784 dimensions with a low-rank structure, pixel-like range."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(32, 784)).astype(np.float32)
    centers = rng.normal(size=(10, 32)).astype(np.float32)
    y = rng.integers(0, 10, n + n_test)
    X = (centers[y] + 0.8 * rng.normal(size=(n + n_test, 32)).astype(np.float32)) @ basis
    X = (X - X.min()) / (X.max() - X.min())
    return X[:n], X[n:], y[:n], y[n:]


def _lkreg_fit(hidden: Tuple[int, ...], epochs: int, dropout: float) -> Callable[..., Any]:
    from lkreg.neural_network import MLPClassifier

    def fit(Xtr: np.ndarray, ytr: np.ndarray) -> Any:
        return MLPClassifier(hidden, dropout=dropout, batch_size=200, max_epochs=epochs,
                             tol=0.0, n_iter_no_change=epochs + 1, random_state=0).fit(Xtr, ytr)
    return fit


def _sklearn_fit(hidden: Tuple[int, ...], epochs: int) -> Callable[..., Any]:
    from sklearn.neural_network import MLPClassifier

    def fit(Xtr: np.ndarray, ytr: np.ndarray) -> Any:
        return MLPClassifier(hidden, batch_size=200, max_iter=epochs, tol=0.0,
                             n_iter_no_change=epochs + 1, alpha=0.0,
                             random_state=0).fit(Xtr, ytr)
    return fit


def _torch_fit(hidden: Tuple[int, ...], epochs: int, dropout: float) -> Callable[..., Any]:
    torch = _torch()

    def fit(Xtr: np.ndarray, ytr: np.ndarray) -> Any:
        torch.manual_seed(0)
        layers: List[Any] = []
        width = Xtr.shape[1]
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            if dropout:
                layers.append(torch.nn.Dropout(dropout))
            width = h
        layers.append(torch.nn.Linear(width, int(ytr.max()) + 1))
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        X = torch.from_numpy(np.ascontiguousarray(Xtr, dtype=np.float32))
        y = torch.from_numpy(ytr.astype(np.int64))
        model.train()
        for _ in range(epochs):
            order = torch.randperm(X.shape[0])
            for start in range(0, X.shape[0], 200):
                rows = order[start:start + 200]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[rows]), y[rows])
                loss.backward()
                opt.step()
        model.eval()

        class Fitted:
            def score(self, Xte: np.ndarray, yte: np.ndarray) -> float:
                with torch.no_grad():
                    out = model(torch.from_numpy(np.ascontiguousarray(Xte, dtype=np.float32)))
                return float((out.argmax(1).numpy() == yte).mean())
        return Fitted()
    return fit


def models(hidden: Tuple[int, ...], epochs: int) -> List[Tuple[str, Callable[..., Any]]]:
    rows = [
        ("scikit-learn MLPClassifier (float64, no dropout)", _sklearn_fit(hidden, epochs)),
        ("lkreg MLPClassifier (float32, no dropout)", _lkreg_fit(hidden, epochs, 0.0)),
        ("lkreg MLPClassifier (float32, dropout 0.2)", _lkreg_fit(hidden, epochs, 0.2)),
    ]
    if _torch() is not None:
        rows += [
            ("torch (float32, no dropout)", _torch_fit(hidden, epochs, 0.0)),
            ("torch (float32, dropout 0.2)", _torch_fit(hidden, epochs, 0.2)),
        ]
    return rows


def measure(data: Tuple[np.ndarray, ...], hidden: Tuple[int, ...], epochs: int, rounds: int,
            log: Optional[Callable[[str], None]] = None) -> List[Dict[str, Any]]:
    """Round-robin fits; per model the median seconds per epoch and the test accuracy."""
    Xtr, Xte, ytr, yte = data
    table = models(hidden, epochs)
    times: Dict[str, List[float]] = {name: [] for name, _ in table}
    scores: Dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(rounds):
            for name, fit in table:
                start = time.perf_counter()
                fitted = fit(Xtr, ytr)
                times[name].append((time.perf_counter() - start) / epochs)
                scores[name] = fitted.score(Xte, yte)
    base = statistics.median(times[table[0][0]])
    rows = []
    for name, _ in table:
        per_epoch = statistics.median(times[name])
        rows.append(dict(model=name, seconds_per_epoch=per_epoch, vs_sklearn=per_epoch / base,
                         samples_per_second=Xtr.shape[0] / per_epoch,
                         test_accuracy=scores[name]))
        if log:
            log(f"| {name} | {per_epoch * 1e3:.2f} ms | {per_epoch / base:.2f}x | "
                f"{scores[name]:.3f} |")
    return rows


HEADER = "| model | time per epoch | vs scikit-learn | test accuracy |\n|---|---|---|---|"


def main(argv: Optional[List[str]] = None) -> None:
    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 10 epochs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mnist", action="store_true", help="add the 60000 x 784 problem")
    args = parser.parse_args(argv)
    epochs, rounds = (10, 3) if args.quick else (30, args.rounds)
    lkreg.set_num_threads(args.threads)
    torch = _torch()
    if torch is not None:
        torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        print(f"load_digits, hidden (128,), batch 200, {epochs} epochs, {args.threads} threads, "
              f"median of {rounds} round-robin rounds")
        print(HEADER)
        measure(digits_data(), (128,), epochs, rounds, log=print)
        if args.mnist:
            print(f"\nsynthetic 60000 x 784, hidden (256, 128), batch 200, 2 epochs, "
                  f"{args.threads} threads, median of {min(rounds, 3)} rounds")
            print(HEADER)
            rows = measure(mnist_like_data(), (256, 128), 2, min(rounds, 3), log=print)
            for row in rows:
                print(f"{row['model']}: {row['samples_per_second']:.0f} samples/s")


if __name__ == "__main__":
    main()
