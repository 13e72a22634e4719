"""Studies as pipelines: a study YAML -> typed stage params -> child processes, with
content-hashed caching and a run manifest (``rnce-bag run``, ``rnce-bag demo``).

Modules: :mod:`pipeline.study` (the study model), :mod:`pipeline.registry` (stage kind ->
params model and function), :mod:`pipeline.plan` (a study's stages and their params),
:mod:`pipeline.runner` (cache, lock, child processes), :mod:`pipeline.oracle` (the
labelled ORACLE rows of a simulated cohort).
"""
