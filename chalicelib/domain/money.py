"""Amounts in a currency's minor units, as payment providers count them."""

from __future__ import annotations

from decimal import Decimal

# Currencies whose smallest unit is the unit itself, and those counted in thousandths, as the payment provider
# (Stripe) takes amounts; every other currency is counted in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())


THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())


# Counted in hundredths, but card networks take whole units only (Stripe refuses fractional amounts).
WHOLE_UNITS_ONLY = ZERO_DECIMAL_CURRENCIES | {"ISK"}


def minor_units(price: Decimal, currency: str) -> int:
    """`price` in the currency's minor unit, as the payment provider takes it (500 JPY is 500, 5 USD is 500,
    5 KWD is 5000); ValueError when the currency cannot carry it (a fraction of a yen or a krona)."""
    if currency in WHOLE_UNITS_ONLY and price != price.to_integral_value():
        raise ValueError(f"{currency} is charged in whole units: the price must be a whole number.")
    if currency in ZERO_DECIMAL_CURRENCIES:
        return int(price)
    factor = 1000 if currency in THREE_DECIMAL_CURRENCIES else 100
    return int(price * factor)


def major_units(amount: int, currency: str) -> Decimal:
    """`amount` minor units of `currency` as a decimal amount (1250 USD cents is 12.50)."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount)
    exponent = 3 if code in THREE_DECIMAL_CURRENCIES else 2
    return Decimal(amount).scaleb(-exponent)
