"""Speed, memory and quality measurements. Each module runs as `python -m benchmarks.NAME`, prints a table and
ends with one line `NAME: key=value ...`; `python -m benchmarks` runs them all."""
