"""The small core every stage stands on: settings, the store, the journal, the shared names, and
the record types each stage writes (revisions, drafts, review requests and decisions).

Core imports no stage. A stage reads another stage's records through the types here, never
through that stage's code.
"""
