"""Reports (issue 19): visit rows from the event log, figures, dashboard, exports, simulator, planner.

The JSON endpoints are the `reports` blueprint of the web package (queue_server/web/reports.py);
the dashboard and report pages sit on top of them. Commands `report`, `simulate` and `plan` are
registered through the motcua.commands entry points. See docs/reports.md and docs/planner.md.
"""
