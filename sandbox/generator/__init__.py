"""Seeded generator of messy Salesforce + QBO data with its ground truth, and scenario files.

    from sandbox.generator import generate, load_scenario, write_dataset
    dataset = generate("small", seed=0)
"""

from sandbox.generator.context import PROFILES
from sandbox.generator.core import generate
from sandbox.generator.scenario import ScenarioError, load_scenario, write_dataset
from sandbox.generator.truth import ground_truth_reconciliation

__all__ = ["PROFILES", "ScenarioError", "generate", "ground_truth_reconciliation", "load_scenario", "write_dataset"]
