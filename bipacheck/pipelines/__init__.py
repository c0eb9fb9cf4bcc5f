"""The jobs the commands and the Python API run, each a short sequence of the layers below:
audit (scan, judge, report), check (the pre-commit hook's audit of a commit's files), scan (faces
only), baseline (accepted findings), redact (copies with faces obscured)."""
