"""lossctl compute, list, explain."""
