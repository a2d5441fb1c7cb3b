"""Stage 1, intake: editors' drops (folders, S3 inboxes, outlet feeds) in; revisions or quarantine out."""
