"""Benchmark suites for wedgecore: each compares against a framework's own spatial dropout."""
