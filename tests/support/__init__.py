"""Helpers the tests share (conftest.py holds the fixtures; these are plain functions)."""
