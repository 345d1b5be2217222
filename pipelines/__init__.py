"""The Dagster code location: Definitions, jobs, schedules, sensors and resources."""
