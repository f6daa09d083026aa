"""Tools around the pipeline: the offline demo, its loopback server, the benchmark."""
