"""Turnout's benchmarks: ``python bench/run.py [NAME] [options]`` (``make bench``); see bench/README.md."""
