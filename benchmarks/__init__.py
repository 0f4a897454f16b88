"""Benchmarks of braindecode-augnet: speed, memory and accuracy against braindecode.

Not part of the installed library: run each from the repository root as a
module, e.g. ``python -m benchmarks.bench_transforms --quick``;
``python -m benchmarks.run_all`` runs them in turn. The options that every
script shares are in :mod:`benchmarks._common` (``base_parser``,
``add_window_arguments``, ``add_sleep_training_arguments``); figures and
their commands are in benchmarks/README.rst.
"""
