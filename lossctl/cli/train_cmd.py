"""lossctl train, predict, evaluate."""
