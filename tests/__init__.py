"""Tests for the WattShift integration."""
