"""The planner's Textual TUI. It renders only: every query is a call into the planner's core."""
