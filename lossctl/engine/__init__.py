"""Engines: where the parts of an input are read and reduced. Every engine has the same contract,
blocks in, partials out: `Computation.partials()` turns the blocks of one input into small partial
sums, `compute.combine` adds such partials, and `Computation.finish()` turns the total into results.

* local (`Computation.reduced()`): this process's threads, one block per core at a time.
* dask (`engine.dask`, extra `lossctl[dask]`): one task per part file on the workers of a Dask
  cluster, the partials added in a tree of tasks; only the total comes back.
"""
