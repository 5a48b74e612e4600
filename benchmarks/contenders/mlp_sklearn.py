"""scikit-learn's MLPClassifier on the shared job: seconds per epoch = fit time / epochs.

No L2 penalty (alpha=0, as lossctl's default). Without --patience, no early stop: exactly `epochs`
passes. With --patience N: early_stopping=True on --validation-fraction of TRAIN, stopping after N
epochs without a better validation score (tol=0); it reports the epochs run and the best held-out
accuracy (the weights it keeps) as val_accuracy.
"""

from __future__ import annotations

import time
import warnings

from mlpjob import parse_job, report
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def main() -> None:
    job = parse_job(__doc__)
    early = job.patience > 0
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
        early_stopping=early,
        validation_fraction=job.validation_fraction,
        n_iter_no_change=job.patience if early else job.epochs + 1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        model.fit(job.x_train, job.y_train)
        seconds = time.perf_counter() - started
    if early:
        report([seconds / model.n_iter_], float(model.best_validation_score_), epochs=model.n_iter_)
    else:
        report([seconds / job.epochs], float(model.score(job.x_val, job.y_val)))


if __name__ == "__main__":
    main()
