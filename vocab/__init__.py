"""The words every package shares: the error tree with its exit policy, the record states, and the one-place rules
(stance thresholds, back-off). Imports nothing from kstance and nothing heavy, so any package may import it."""
