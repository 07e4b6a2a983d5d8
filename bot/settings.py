"""The shop's after-sales settings (bot/shop.yml), read once and checked at start-up.

Business people edit shop.yml; the code reads it through ``load_settings()`` so a typo
or a missing figure stops the bot at start-up with a message naming the file and the
key, instead of surfacing mid-conversation. ``SHOP_SETTINGS`` points to another file
(tests, a second shop). The ``compensation:`` section belongs to ``bot.bargain``: it is
kept as a plain dict and checked by ``BargainConfig`` here, so it fails early too.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

SHOP_YML = Path(__file__).resolve().parent / "shop.yml"
ENV_VAR = "SHOP_SETTINGS"


class SettingsError(ValueError):
    """shop.yml is missing, unreadable, or holds a value the rules cannot use."""


@dataclass(frozen=True)
class ShopInfo:
    name: str = ""
    timezone: str = "Asia/Shanghai"  # how dates are shown to shoppers


@dataclass(frozen=True)
class ReturnSettings:
    """Windows and deadlines of R6, R7, R12, R13 and R16, in days or hours."""

    no_reason_days: int  # R6, from delivery
    exchange_days: int  # R13, from delivery
    response_deadline_hours: int  # R7
    failure_return_days: int = 7  # R13, from delivery
    deduct_shipping_on_cancel: bool = True  # R12 (never on free-shipping orders, R3)
    evidence_reminder_hours: int = 24  # R16
    compensation_days: int = 15  # R9: compensation only within this many days of receipt
    compensation_evidence: Tuple[str, ...] = ("color_mismatch", "small_flaw", "size_slightly_off")  # R10, R16


@dataclass(frozen=True)
class LogisticsSettings:
    """Thresholds of R4 and R11, in hours."""

    no_pickup_alert_hours: int  # R4
    news_promise_hours: int  # R11
    max_news_hours: int  # R11: never promise later than this
    stalled_after_hours: int  # in transit without a new scan this long = delayed


@dataclass(frozen=True)
class Warehouse:
    """Where returns to one warehouse go (R6: the address must be valid, per warehouse)."""

    key: str
    name: str
    city: str
    province: str
    address: str
    receiver: str
    phone: str

    @property
    def return_address(self) -> str:
        """The one line a shopper copies onto the return parcel."""
        return f"{self.address}，收件人：{self.receiver}，电话：{self.phone}"


@dataclass(frozen=True)
class WarrantyTerms:
    """R13 terms of one category: repair period, and what happens within and after it."""

    months: int
    replace_not_repair: bool = False  # small appliances: replaced, not repaired
    manufacturer_after: bool = False  # laptops: the manufacturer's service after our period


@dataclass(frozen=True)
class IdentitySettings:
    """Ownership proof (issue #11): wrong proofs per order number, across all conversations."""

    max_proof_failures: int = 3  # within the window, then the number is locked
    failure_window_minutes: int = 60
    lockout_minutes: int = 30
    # whatever the order numbers: one conversation, and one client address (shared behind NAT)
    max_failures_per_conversation: int = 6
    max_failures_per_client: int = 20


@dataclass(frozen=True)
class LimitSettings:
    """What one conversation or one client address may send (issue #11); see shop.yml ``limits``."""

    max_message_chars: int = 1000
    max_body_bytes: int = 65536  # any request to the Rasa server except photo uploads
    messages_per_minute_conversation: int = 20
    messages_per_minute_client: int = 600
    uploads_per_conversation: int = 10
    uploads_per_minute_client: int = 20
    ratings_per_conversation: int = 3
    upload_retention_days: int = 90


@dataclass(frozen=True)
class Settings:
    shop: ShopInfo
    returns: ReturnSettings
    logistics: LogisticsSettings
    warehouses: Dict[str, Warehouse]
    warranty: Dict[str, WarrantyTerms]
    compensation: Dict[str, Any] = field(default_factory=dict)  # bot.bargain reads it
    source: str = ""  # the file it came from, for error messages
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def warehouse(self, key: str) -> Warehouse:
        """The warehouse an order shipped from; an unknown key is a data error, said plainly."""
        try:
            return self.warehouses[key]
        except KeyError:
            known = ", ".join(sorted(self.warehouses))
            raise SettingsError(f"{self.source}: no warehouse {key!r} (known: {known})") from None

    def warranty_for(self, category: str) -> Optional[WarrantyTerms]:
        """The category's R13 terms, or None when shop.yml does not list it."""
        return self.warranty.get(category)


def settings_path(path: Union[str, Path, None] = None) -> Path:
    """The file to read: the argument, else $SHOP_SETTINGS, else bot/shop.yml."""
    return Path(path or os.environ.get(ENV_VAR) or SHOP_YML)


def load_settings(path: Union[str, Path, None] = None) -> Settings:
    """Read and check shop.yml; raise SettingsError naming the file and key on any fault."""
    source = settings_path(path)
    raw = _read_yaml(source)
    where = str(source)
    return Settings(
        shop=_shop(raw.get("shop") or {}, where),
        returns=_returns(_section(raw, "returns", where), where),
        logistics=_logistics(_section(raw, "logistics", where), where),
        warehouses=_warehouses(_section(raw, "warehouses", where), where),
        warranty=_warranty(_section(raw, "warranty", where), where),
        compensation=_compensation(raw.get("compensation"), where),
        source=where,
        identity=_build(IdentitySettings, raw.get("identity") or {}, f"{where}: identity"),
        limits=_build(LimitSettings, raw.get("limits") or {}, f"{where}: limits"),
    )


def _read_yaml(source: Path) -> Dict[str, Any]:
    """The file as a mapping; YAML syntax errors keep their line number in the message."""
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError(f"cannot read shop settings {source}: {err.strerror or err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SettingsError(f"{source}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise SettingsError(f"{source}: expected a mapping of sections (returns:, logistics:, ...)")
    return data


def _section(raw: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict) or not value:
        raise SettingsError(f"{where}: section {name!r} is missing or not a mapping")
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    """A settings dataclass from a mapping: unknown keys (typos) and missing keys are refused."""
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: expected a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})")
    values = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise SettingsError(f"{where}.{name} is missing")
            continue
        values[name] = _check(data[name], spec.type, f"{where}.{name}")
    return cls(**values)


def _check(value: Any, type_name: Any, where: str) -> Any:
    """Check one value against its annotated type (a string: this module uses postponed annotations)."""
    kind = str(type_name)
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"{where} must be true or false, got {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettingsError(f"{where} must be a whole number of at least 0, got {value!r}")
        return value
    if kind.startswith("Tuple[str"):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise SettingsError(f"{where} must be a list of names, got {value!r}")
        return tuple(value)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where} must be a non-empty text, got {value!r}")
    return value


def _shop(data: Any, where: str) -> ShopInfo:
    """Dates are shown to shoppers in the shop's time zone, so the name must be a real one."""
    built: ShopInfo = _build(ShopInfo, data, f"{where}: shop")
    try:
        ZoneInfo(built.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise SettingsError(f"{where}: shop.timezone {built.timezone!r} is not a known time zone") from err
    return built


def _returns(data: Mapping[str, Any], where: str) -> ReturnSettings:
    """Windows of at least a day; the 三包 return window lies inside the exchange window (R13)."""
    built: ReturnSettings = _build(ReturnSettings, data, f"{where}: returns")
    for name in ("no_reason_days", "exchange_days", "failure_return_days", "response_deadline_hours"):
        if getattr(built, name) < 1:
            raise SettingsError(f"{where}: returns.{name} must be at least 1")
    if built.failure_return_days > built.exchange_days:
        raise SettingsError(
            f"{where}: returns.failure_return_days ({built.failure_return_days}) must not exceed "
            f"exchange_days ({built.exchange_days}) (R13: return within 7 days, exchange within 15)"
        )
    return built


def _logistics(data: Mapping[str, Any], where: str) -> LogisticsSettings:
    """R11: the promised news deadline never goes past its maximum."""
    built: LogisticsSettings = _build(LogisticsSettings, data, f"{where}: logistics")
    if not 0 < built.news_promise_hours <= built.max_news_hours:
        raise SettingsError(
            f"{where}: logistics.news_promise_hours ({built.news_promise_hours}) must be above 0 "
            f"and at most max_news_hours ({built.max_news_hours}) (R11)"
        )
    return built


def _warehouses(data: Mapping[str, Any], where: str) -> Dict[str, Warehouse]:
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict):
            raise SettingsError(f"{where}: warehouses.{key} must be a mapping (name, address, ...)")
        out[str(key)] = _build(Warehouse, {"key": str(key), **entry}, f"{where}: warehouses.{key}")
    return out


def _warranty(data: Mapping[str, Any], where: str) -> Dict[str, WarrantyTerms]:
    return {str(k): _build(WarrantyTerms, v, f"{where}: warranty.{k}") for k, v in data.items()}


def _compensation(data: Any, where: str) -> Dict[str, Any]:
    """Kept as the plain dict bot.bargain expects, but checked now so errors show at start-up."""
    from bot.bargain.config import BargainConfig

    section = dict(data or {})
    try:
        BargainConfig.from_dict(section)
    except (ValueError, TypeError, ArithmeticError) as err:
        raise SettingsError(f"{where}: compensation: {err}") from err
    return section
