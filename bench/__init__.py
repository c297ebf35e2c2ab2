"""qualkit benchmarks: speed, memory and accuracy figures (never asserted in unit tests)."""
