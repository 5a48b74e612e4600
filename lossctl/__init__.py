"""lossctl: compute Keras and PyTorch losses from CSV files, and train small numpy MLPs."""

__version__ = "0.1.0"
