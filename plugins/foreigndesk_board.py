"""The desk board in the Airflow UI: Airflow loads plugins from this folder's top level.

The plugin lives in ``foreigndesk/airflow_side/board_plugin.py`` (the only place
that imports Airflow); this file only puts it where Airflow looks.
"""

from foreigndesk.airflow_side.board_plugin import ForeigndeskBoardPlugin, build_app

__all__ = ["ForeigndeskBoardPlugin", "build_app"]
