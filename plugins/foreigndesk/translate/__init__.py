"""Stage 2, translate: a registered revision in; one machine draft per language out
(Markdown-aware units, glossary masking, translation memory, QA findings)."""
