"""Evaluation beyond one number: losses per group, bootstrap intervals, paired comparisons.

Everything here adds partial sums (`losses.reduction.Partial`): a group keeps one per key and
bootstrap bucket (`groups`), the bootstrap weighs the buckets of each replicate (`bootstrap`), and a
comparison keeps two, one per model, for the same rows (`compare`). Nothing re-reads a file.
"""
