"""MediaJobs capacity planner."""
