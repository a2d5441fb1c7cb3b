"""Reviewer lookup for review tasks under FAB: Airflow loads plugins from this folder's top level.

The plugin lives in ``foreigndesk/airflow_side/accounts_plugin.py``; this file only puts it where Airflow looks.
"""

from foreigndesk.airflow_side.accounts_plugin import ForeigndeskAccountsPlugin

__all__ = ["ForeigndeskAccountsPlugin"]
