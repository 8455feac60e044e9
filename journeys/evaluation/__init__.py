"""The evaluation: the Success Case Method, statistics, business value, interviews, exports."""
