"""The weekly trend report: data, statistics, charts, rendering."""
