"""scikit-learn's MLPClassifier on the shared job: seconds per epoch = fit time / epochs.

No L2 penalty (alpha=0, as lossctl's default), no early stop: exactly `epochs` passes.
"""

from __future__ import annotations

import time
import warnings

from mlpjob import parse_job, report
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def main() -> None:
    job = parse_job(__doc__)
    model = MLPClassifier(
        hidden_layer_sizes=job.hidden,
        activation="relu",
        solver="adam",
        alpha=0.0,
        batch_size=job.batch_size,
        learning_rate_init=job.lr,
        max_iter=job.epochs,
        shuffle=True,
        random_state=job.seed,
        tol=0.0,
        n_iter_no_change=job.epochs + 1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(job.x_train, job.y_train)
        seconds = time.perf_counter() - started
    report([seconds / job.epochs], float(model.score(job.x_val, job.y_val)))


if __name__ == "__main__":
    main()
