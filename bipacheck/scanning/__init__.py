"""The scan step: one object in, its faces (or the reason it was skipped) out (scan.py), run over a
stream of listed objects in this process, worker processes or a dask cluster (engine.py), with an
incremental cache keyed by each object's change key (cache.py, sidecar_stamps.py)."""
