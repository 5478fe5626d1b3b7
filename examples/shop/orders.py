"""Orders, discounts and totals."""

from . import catalog as cat


def discount(total):
    if total > 500:
        return total * 0.1
    if total > 100:
        return total * 0.05
    return 0.0


def order_total(catalog, lines):
    total = 0.0
    for sku, qty in lines:
        total += cat.price_of(catalog, sku) * qty
    return round(total - discount(total), 2)


def checkout(catalog, orders):
    return [order_total(catalog, lines) for lines in orders]
