"""A plain PyTorch CPU training loop on the shared job (val accuracy computed inside each epoch)."""

from __future__ import annotations

import time

import torch
from mlpjob import Job, parse_job, report
from torch import nn


def build(job: Job) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = job.x_train.shape[1]
    for hidden in job.hidden:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, job.classes))
    return nn.Sequential(*layers)


def main() -> None:
    job = parse_job(__doc__)
    torch.manual_seed(job.seed)
    x, y = torch.from_numpy(job.x_train), torch.from_numpy(job.y_train)
    x_val, y_val = torch.from_numpy(job.x_val), torch.from_numpy(job.y_val)
    model = build(job)
    optimizer = torch.optim.Adam(model.parameters(), lr=job.lr)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds, accuracy = [], 0.0
    for _ in range(job.epochs):
        started = time.perf_counter()
        for rows in torch.randperm(len(x)).split(job.batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[rows]), y[rows]).backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = float((model(x_val).argmax(dim=1) == y_val).float().mean())
        epoch_seconds.append(time.perf_counter() - started)
    report(epoch_seconds, accuracy, threads=torch.get_num_threads())


if __name__ == "__main__":
    main()
