"""The shop's compensation settings (the ``compensation:`` section of shop.yml).

Read from a plain dict so the engine does not depend on how the rest of the product
loads its settings: ``BargainConfig.from_dict(yaml.safe_load(...)["compensation"])``.
Unknown keys are refused, so a typo in shop.yml fails at start-up, not mid-chat.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

SHOP_YML = Path(__file__).resolve().parents[1] / "shop.yml"


def _dec(value: Any) -> Decimal:
    """Decimal from YAML ints/floats/strings without binary-float noise (0.1 -> 0.1)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class BargainConfig:
    """How much the shop may give, and how fast it concedes (R9).

    The defaults equal shop.yml (tuned with scripts/bench_bargain.py), so a settings
    object that passes on only some keys still gets the tuned schedule. Amounts are 元. Route bands anchor on one-way shipping; high-value items reach
    20-50 元 depending on their margin rate; ``keep_margin_share`` of the margin always
    stays with the shop.
    """

    same_city_min: Decimal = Decimal(5)
    same_city_max: Decimal = Decimal(10)
    same_province_min: Decimal = Decimal(8)
    same_province_max: Decimal = Decimal(12)
    other_province_min: Decimal = Decimal(10)
    other_province_max: Decimal = Decimal(15)
    high_value_price: Decimal = Decimal(500)
    high_value_min: Decimal = Decimal(20)
    high_value_max: Decimal = Decimal(50)
    margin_rate_low: Decimal = Decimal("0.2")  # at or below: high-value ceiling = high_value_min
    margin_rate_high: Decimal = Decimal("0.6")  # at or above: high-value ceiling = high_value_max
    keep_margin_share: Decimal = Decimal("0.5")
    minor_share: Decimal = Decimal("0.8")  # minor issues stop this far up the band; moderate: top
    opening_share: Decimal = Decimal(0)  # where the opening sits between the band's low end and the ceiling
    concessions: Tuple[Decimal, ...] = (Decimal("0.6"), Decimal("0.9"), Decimal(1))
    meet_within: Decimal = Decimal(2)  # a counter this close above the next step is met outright
    min_offer: Decimal = Decimal(3)  # below this, offer return/exchange instead of pocket money
    max_rounds: int = 3
    concede_above_ceiling: bool = True  # decline a demand above the ceiling, yet still take the next step

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> "BargainConfig":
        """Build from the YAML section; missing keys keep their defaults."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown compensation settings: {', '.join(unknown)}")
        kwargs: dict = {}
        for key, value in data.items():
            if key == "max_rounds":
                kwargs[key] = int(value)
            elif key == "concede_above_ceiling":
                kwargs[key] = value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
            elif key == "concessions":
                kwargs[key] = tuple(_dec(v) for v in value)
            else:
                kwargs[key] = _dec(value)
        config = cls(**kwargs)
        config.validate()
        return config

    @classmethod
    def coerce(cls, source: Any) -> "BargainConfig":
        """Accept a BargainConfig, a dict, or any settings object with these attributes.

        The product's settings loader may hand over its own object; reading the known
        attribute names keeps the engine independent of it.
        """
        if isinstance(source, cls):
            return source
        if source is None:
            return cls()
        if isinstance(source, Mapping):
            return cls.from_dict(source)
        if hasattr(source, "model_dump"):  # pydantic v2
            return cls.from_dict(source.model_dump())
        picked = {f.name: getattr(source, f.name) for f in fields(cls) if hasattr(source, f.name)}
        return cls.from_dict(picked)

    def validate(self) -> None:
        """Refuse settings that would break the engine's promises (bands upside down...)."""
        pairs = [
            (self.same_city_min, self.same_city_max, "same_city"),
            (self.same_province_min, self.same_province_max, "same_province"),
            (self.other_province_min, self.other_province_max, "other_province"),
            (self.high_value_min, self.high_value_max, "high_value"),
            (self.margin_rate_low, self.margin_rate_high, "margin_rate"),
        ]
        for low, high, name in pairs:
            if low < 0 or low > high:
                raise ValueError(f"compensation {name}: min {low} must be between 0 and max {high}")
        if not Decimal(0) <= self.keep_margin_share < 1:
            raise ValueError("compensation keep_margin_share must be in [0, 1)")
        if self.max_rounds < 1:
            raise ValueError("compensation max_rounds must be at least 1")
        for share in (self.minor_share, self.opening_share, *self.concessions):
            if not Decimal(0) <= share <= 1:
                raise ValueError("compensation shares must be in [0, 1]")
        if list(self.concessions) != sorted(self.concessions):
            raise ValueError("compensation concessions must not decrease")
        if self.min_offer <= 0 or self.meet_within < 0:
            raise ValueError("compensation min_offer must be positive and meet_within not negative")


def load_config(path: Path = SHOP_YML) -> BargainConfig:
    """The ``compensation:`` section of shop.yml (scripts and tests; the bot uses settings)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        return BargainConfig.from_dict((yaml.safe_load(handle) or {}).get("compensation"))
