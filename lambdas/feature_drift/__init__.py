"""Feature drift: a daily job comparing the live model inputs with the training baseline (PSI per feature)."""
