"""The quality loop: what the desk learns from every approval.

Every approved decision is a human reference translation of a real provincial
article. These modules read those records (never write into them) to score the
models (:mod:`.scores`), to try a candidate model on them before it is installed
(:mod:`.compare`) and to mine recurring corrections for the glossary
(:mod:`.suggestions`). :mod:`.approvals` is what they share: the approved texts,
aligned segment by segment with the machine draft and the Vietnamese source.
"""
