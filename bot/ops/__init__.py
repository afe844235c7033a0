"""Running support with Baton: SLA timers, feedback, the five KPIs, gaps, reports and digests.

Everything here reads the core's store (and writes only its own two tables, ``sla_timers`` and
``ops_runs``), so it can run in the web process, in a CLI command or in a test alike.
"""
