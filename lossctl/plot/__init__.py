"""Pictures of losses: data -> `Figure` -> a renderer.

`valley` (a loss as a function of one prediction, and gradient descent on it) and `history`
(training curves) build `Figure`s from the registry's values and gradients and from history CSVs;
`terminal` draws a Figure as text (uniplot), `image` as PNG or SVG (matplotlib, the `plot` extra).
"""
