"""The gateway's settings, resolved from the one run config (``rtrec.config.RtrecConfig``).

The gateway keeps no setting of its own that training also uses: the pseudonym key, session
gap, event weights, clock skew, bot rate and text limit come from ``ingestion``, the history
length from ``trainer.hparams``, and its own (addresses, arms, limits) from ``gateway``. This
module only resolves them (reads the key, builds the experiment) into one frozen object.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtrec.config import GatewayConfig, RtrecConfig
from rtrec.timeline import pseudonym_key
from serving.gateway.ab import ArmConfig, ExperimentConfig, ExperimentConfigError
from serving.gateway.models import LATEST

DEFAULT_ARM = ArmConfig("default", LATEST, 1.0)
"""No arms configured: everybody on the newest available version."""
EVENTS_PER_STEP = 4
"""Stored events per history step: funnels collapse several events into one step."""


@dataclass(frozen=True)
class Settings:
    gateway: GatewayConfig
    key: bytes
    session_gap_s: float
    event_weights: dict[str, float]
    max_clock_skew_s: float
    max_text_chars: int
    bot_max_events_per_minute: int
    history_length: int
    experiment: ExperimentConfig
    token: str | None
    """The bearer token of write endpoints; None only with ``insecure``."""

    @property
    def keep_last(self) -> int:
        """Events kept per user: enough for ``history_length`` steps of funnels, and for the
        bot rule to see a whole minute of a user at the limit."""
        return max(EVENTS_PER_STEP * self.history_length, 2 * self.bot_max_events_per_minute)

    @classmethod
    def from_config(cls, cfg: RtrecConfig, token: str | None) -> Settings:
        ing, gw = cfg.ingestion, cfg.gateway
        try:
            arms = tuple(ArmConfig(**arm) for arm in gw.arms) or (DEFAULT_ARM,)
        except TypeError as err:
            raise ExperimentConfigError(
                f"gateway.arms {gw.arms!r}: each arm is {{name, label, share}} ({err})"
            ) from None
        return cls(
            gateway=gw,
            key=pseudonym_key(ing.pseudonym_key_env),
            session_gap_s=float(ing.session_gap_s),
            event_weights=dict(ing.event_weights),
            max_clock_skew_s=float(ing.max_clock_skew_s),
            max_text_chars=ing.max_text_chars,
            bot_max_events_per_minute=ing.bot_max_events_per_minute,
            history_length=cfg.trainer.hparams.history_length,
            experiment=ExperimentConfig(gw.experiment, arms, gw.salt),
            token=token,
        )
