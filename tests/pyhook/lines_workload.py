"""A module for the line-event test: its line numbers are asserted."""


def inner(x):
    y = x + 1
    return y * 2


def run():
    total = 0
    for i in range(3):
        total += inner(i)
    return total
