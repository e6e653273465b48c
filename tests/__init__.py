"""Whole-app tests, and tests.factories: the test data and helpers the whole suite shares."""
