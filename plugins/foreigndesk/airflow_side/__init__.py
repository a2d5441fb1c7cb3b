"""The Airflow side: task bodies per stage, the review operator, connections.

The only code that imports Airflow. It turns Airflow's context (run conf, Variables,
Connections) into plain arguments and calls the stages.
"""
