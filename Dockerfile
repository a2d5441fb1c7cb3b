# The desk's image for the production-like stack (docker-compose.yaml).
# Airflow's official image, plus the desk's pinned dependencies and package.
FROM apache/airflow:3.3.2-python3.11

ENV ORT_DISABLE_TELEMETRY=1 \
    ARGOS_PACKAGES_DIR=/opt/airflow/argos-packages \
    XDG_DATA_HOME=/opt/airflow/xdg/data \
    XDG_CONFIG_HOME=/opt/airflow/xdg/config \
    XDG_CACHE_HOME=/opt/airflow/xdg/cache

COPY --chown=airflow:root requirements.txt pyproject.toml README.md /opt/foreigndesk/
COPY --chown=airflow:root plugins /opt/foreigndesk/plugins
RUN pip install --no-cache-dir -r /opt/foreigndesk/requirements.txt \
 && pip install --no-cache-dir --no-deps /opt/foreigndesk
