"""Stage 4, opt-in (`game_days.enabled`): AWS FIS experiments on the event processor and the two APIs.

Deployed only in an environment that enables game days, and only from stage 4, when the
eligibility API and the journeys' health alarms (the experiments' stop conditions) exist.
What each experiment shows and how to run one: docs/platform-engineer.md, "Game days".
"""

from __future__ import annotations

from infra.config import ConfigError
from infra.constructs.game_days import GameDays
from infra.stacks.anomaly_alerts_stack import AnomalyAlertsStack
from infra.stacks.eligibility_service_stack import EligibilityServiceStack
from infra.stacks.experience_pathway_stack import ExperiencePathwayStack
from infra.stacks.foundation_stack import FoundationStack
from infra.stacks.platform_stack import PlatformStack
from infra.stacks.profile_service_stack import ProfileServiceStack


class GameDaysStack(PlatformStack):
    def build(self) -> None:
        foundation = self.deps.require(FoundationStack)
        alerts = self.deps.require(AnomalyAlertsStack)
        journeys = tuple(alerts.journey_alarms)
        if not journeys:
            raise ConfigError(
                "game_days.enabled: an experiment needs a stop condition, and the stop conditions are the journeys' "
                "health alarms; add at least one alerts.watches entry"
            )
        self.game_days = GameDays(
            self,
            "GameDays",
            config=self.config,
            key=foundation.key,
            log_bucket=foundation.access_logs,
            targets={
                "event-processor": self.deps.require(ExperiencePathwayStack).processor,
                "profiles": self.deps.require(ProfileServiceStack).function,
                "eligibility": self.deps.require(EligibilityServiceStack).function,
            },
            journey_alarm_names=journeys,
        )
