"""The router's configuration, read once from its environment and validated (a bad value fails the cold start)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator, model_validator

from alert_router.constants import (
    DEFAULT_SUPPRESSION_MINUTES,
    ENV_DASHBOARD_URL,
    ENV_DEFAULT_TEAM,
    ENV_SUPPRESSION_MINUTES,
    ENV_SUPPRESSION_TABLE,
    ENV_TEAM_TOPICS,
)
from alert_router.messages import DASHBOARD_FIELDS, dashboard_placeholders
from alert_router.router import RoutingPolicy

_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$"


class RouterSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    team_topics: Json[dict[str, str]] = Field(alias=ENV_TEAM_TOPICS)
    default_team: str = Field(alias=ENV_DEFAULT_TEAM, min_length=1)
    dashboard_url: str = Field(alias=ENV_DASHBOARD_URL, pattern=r"^https://")
    suppression_table: str = Field(alias=ENV_SUPPRESSION_TABLE, min_length=3)
    suppression_minutes: int = Field(
        alias=ENV_SUPPRESSION_MINUTES, default=DEFAULT_SUPPRESSION_MINUTES, ge=1, le=24 * 60
    )

    @field_validator("team_topics")
    @classmethod
    def _topic_arns(cls, topics: dict[str, str]) -> dict[str, str]:
        if not topics:
            raise ValueError("at least one team topic is required")
        wrong = sorted(team for team, arn in topics.items() if not re.match(_TOPIC_ARN, arn))
        if wrong:
            raise ValueError(f"not an SNS topic ARN for team(s) {', '.join(wrong)}")
        return topics

    @field_validator("dashboard_url")
    @classmethod
    def _known_placeholders(cls, url: str) -> str:
        unknown = dashboard_placeholders(url) - DASHBOARD_FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(DASHBOARD_FIELDS)}")
        return url

    @model_validator(mode="after")
    def _default_team_has_a_topic(self) -> RouterSettings:
        if self.default_team not in self.team_topics:
            raise ValueError(f"{ENV_DEFAULT_TEAM} {self.default_team!r} is not a team of {ENV_TEAM_TOPICS}")
        return self

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RouterSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))

    def policy(self) -> RoutingPolicy:
        return RoutingPolicy(
            team_topics=dict(self.team_topics),
            default_team=self.default_team,
            dashboard_url=self.dashboard_url,
            window=timedelta(minutes=self.suppression_minutes),
        )
