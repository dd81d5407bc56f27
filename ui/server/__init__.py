"""Per-server-process work: the persistent compilation cache, the background warm-up
and the start-up profile. Each runs once per process, not once per session."""
