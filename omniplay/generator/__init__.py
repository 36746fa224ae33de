"""Deterministic multi-channel retail data: the sources of docs/sources.md plus ground truth."""

from omniplay.generator.dataset import GENERATOR_VERSION, Summary, generate_dataset

__all__ = ["GENERATOR_VERSION", "Summary", "generate_dataset"]
