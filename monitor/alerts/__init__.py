"""Alerting: incidents become at most one message per transition, to exactly one owner.

The chain (composed in `pipeline.build_pipeline`): inhibit → silence → group → dedup → route → notify,
in modules named after their stage; `config` loads the routing file, `state` keeps the tables,
`people` is what engineers do from the CLI, `delivery` is the network edge (apprise).
"""

from monitor.alerts.config import AlertingConfig, AlertingConfigError, load_alerting
from monitor.alerts.pipeline import Pipeline, build_pipeline, tick_forever

__all__ = ["AlertingConfig", "AlertingConfigError", "Pipeline", "build_pipeline", "load_alerting",
           "tick_forever"]
