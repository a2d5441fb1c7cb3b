"""Stage 4, publish: the latest approved decisions in; every channel's copy out, each exactly once."""
