"""MediaJobs metrics collectors."""
