"""OpInfo entries for reductions, scans and sorting (ops/reduce.py, ops/sort.py)."""
