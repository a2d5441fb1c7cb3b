"""Stage 3, review: a draft in; a translator's decision out (approved, rejected, needs fix, expired)."""
