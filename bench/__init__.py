"""Benchmarks, run by hand (see README.md here); a package so that the tests can import the data generator."""
