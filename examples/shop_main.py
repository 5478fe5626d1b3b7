"""Runs a day of the example shop: python shop_main.py [ORDERS]"""

import random
import sys
import threading

from shop import catalog, orders, report


def day(n_orders, seed):
    rng = random.Random(seed)
    items = catalog.build_catalog(200)
    day_orders = [[(rng.randrange(200), rng.randint(1, 5))
                   for _ in range(rng.randint(1, 8))] for _ in range(n_orders)]
    return orders.checkout(items, day_orders)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    results = {}
    worker = threading.Thread(
        target=lambda: results.setdefault("branch", day(n // 2, 2)),
        name="branch-office")
    worker.start()
    totals = day(n, 1)
    worker.join()
    print(report.to_json(report.summarize(totals + results["branch"])))


if __name__ == "__main__":
    main()
