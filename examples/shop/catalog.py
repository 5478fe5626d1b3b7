"""Products and prices."""

import random


class Product:
    def __init__(self, sku, name, price):
        self.sku = sku
        self.name = name
        self.price = price


def build_catalog(n, seed=7):
    rng = random.Random(seed)
    return {sku: Product(sku, "item-%d" % sku, round(rng.uniform(1, 100), 2))
            for sku in range(n)}


def price_of(catalog, sku):
    return catalog[sku].price
