"""The desk board: where every article stands, read off the store's records, as pages and JSON.

Plain Python (no Airflow): :mod:`~foreigndesk.board.states` names every state the
board shows, :mod:`~foreigndesk.board.rows` reads them from a Store (through the record
copies of :mod:`~foreigndesk.board.copies`, kept in the store between starts by
:mod:`~foreigndesk.board.index`),
:mod:`~foreigndesk.board.filters` narrows them, :mod:`~foreigndesk.board.chart_data` and
:mod:`~foreigndesk.board.history` sum them up per period and per article,
:mod:`~foreigndesk.board.charts` draws the figures as SVG, :mod:`~foreigndesk.board.pages`
renders HTML in Vietnamese or English, :mod:`~foreigndesk.board.actions` is the one
door to the publish stage's operator actions, and :mod:`~foreigndesk.board.app`
builds the FastAPI app that the Airflow plugin (``plugins/foreigndesk_board.py``)
mounts with Airflow's own authentication.
"""
