"""The desk board: where every article stands, read off the store's records, as pages and JSON.

Plain Python (no Airflow): :mod:`~foreigndesk.board.states` names every state the
board shows, :mod:`~foreigndesk.board.query` reads them from a Store,
:mod:`~foreigndesk.board.charts` draws the figures as SVG, :mod:`~foreigndesk.board.pages`
renders HTML in Vietnamese or English, :mod:`~foreigndesk.board.actions` is the one
door to the publish stage's operator actions, and :mod:`~foreigndesk.board.app`
builds the FastAPI app that the Airflow plugin (``plugins/foreigndesk_board.py``)
mounts with Airflow's own authentication.
"""
