"""How drift is judged and checked: per endpoint, in fleet.yaml under `drift:`. Only pydantic
here, so loading settings never imports numpy or scipy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DriftOptions(BaseModel):
    """How an endpoint's drift is judged; every field has Evidently's default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    methods: dict[str, str] = Field(default_factory=dict,
                                    description="column -> ks, wasserstein, chisquare, z or "
                                                "jensenshannon, instead of the default choice.")
    thresholds: dict[str, float] = Field(default_factory=dict,
                                         description="method or column -> threshold.")
    categorical: tuple[str, ...] = Field(default=(), description="Numeric-looking columns to "
                                         "treat as categories (codes, ids).")
    drift_share: float = Field(default=0.5, gt=0, le=1, description="The dataset has drifted "
                               "when at least this share of its columns has.")
    min_rows: int = Field(default=30, ge=2, description="Non-null rows each side needs.")
    accuracy_drop: float = Field(default=0.05, gt=0, le=1, description="A classifier has "
                                 "degraded when its realised accuracy is this much (absolute) "
                                 "below its accuracy at registration.")
    rmse_rise: float = Field(default=0.25, gt=0, description="A regressor has degraded when "
                             "its realised RMSE is this much (relative) above its RMSE at "
                             "registration.")
    min_labels: int = Field(default=30, ge=1, description="Labels a window needs before its "
                            "realised performance can raise an alert.")


class DriftConfig(BaseModel):
    """`drift:` in fleet.yaml. `endpoints` overrides `defaults` per endpoint (whole
    DriftOptions objects: give every field you change)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    window_s: float = Field(default=3600.0, gt=0, description="The current window a check "
                            "reads by default: the last hour of logged predictions.")
    max_rows: int = Field(default=1_000_000, ge=100, description="Logged rows read per "
                          "window at most (the newest).")
    plots: bool = True
    defaults: DriftOptions = DriftOptions()
    endpoints: dict[str, DriftOptions] = Field(default_factory=dict)

    def options_for(self, endpoint: str | None) -> DriftOptions:
        return self.endpoints.get(endpoint or "", self.defaults)
