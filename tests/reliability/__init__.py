"""Reliability figures (`make reliability`): each test measures a figure and asserts its target.

The figures are collected by the `figures` fixture (conftest.py) and printed as one table,
"Reliability figures", at the end of the run. The table is a report; the assertions in the
tests are what make a missed figure fail.
"""
