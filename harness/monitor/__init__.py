"""`harness monitor`: a suite run on a schedule against a deployed model, with drift rules,
alerts (a line, a webhook) and Prometheus gauges. The CLI in harness/cli/monitor.py is a thin
layer over `Monitor` (service.py)."""
