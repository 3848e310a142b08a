"""Logger and metrics of the loader: counts only.

Nothing a run contains is ever logged (names, e-mails, phones, addresses): the
summary holds counts and field names, and errors name keys and data sets.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from mdm_loader.constants import MDM_LOADER_SERVICE
from mdm_loader.loader import LoadSummary, ProfileOutcome

# The service is named here, not from POWERTOOLS_SERVICE_NAME, so its logs and metric
# dimension stay "mdm-loader" wherever it runs; the namespace comes from the environment.
logger = Logger(service=MDM_LOADER_SERVICE)
metrics = Metrics(service=MDM_LOADER_SERVICE)


def metric_values(summary: LoadSummary) -> dict[str, int]:
    return {
        "ProfilesCreated": summary.profiles[ProfileOutcome.CREATED],
        "ProfilesFilled": summary.profiles[ProfileOutcome.FILLED],
        "ProfilesUnchanged": summary.profiles[ProfileOutcome.UNCHANGED],
        "ProfilesErasedSkipped": summary.profiles[ProfileOutcome.ERASED],
        "LinksWritten": summary.links_written,
        "LinkConflicts": summary.link_conflicts,
        "LinksRepointed": summary.links_repointed,
        "MergesApplied": summary.merges_applied,
        "InvalidValuesSkipped": summary.invalid_values_skipped,
    }


def publish(summary: LoadSummary) -> None:
    logger.info("run loaded", extra={"summary": summary.as_log()})
    for name, value in metric_values(summary).items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
