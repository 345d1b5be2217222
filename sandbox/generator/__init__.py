"""Seeded generator of messy Salesforce + QBO data with its ground truth, and scenario files.

    from sandbox.generator import generate, load_scenario, write_dataset
    dataset = generate("small", seed=0)
"""

from sandbox.generator.context import PROFILES
from sandbox.generator.core import generate
from sandbox.generator.truth import ground_truth_reconciliation

__all__ = ["PROFILES", "generate", "ground_truth_reconciliation"]
