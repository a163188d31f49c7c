"""Measure what each WattShift webhook response costs against a baseline webhook."""
