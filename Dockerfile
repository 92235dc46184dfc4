# The Visage image: API (`serve`), worker (`worker`) and the operator commands (`migrate`,
# `backup`, `restore`, `doctor`, `security`) from one build. Written to the python:3.11-slim
# image's documented contract; not built here (no Docker engine on the development machine).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VISAGE_DATA_DIR=/var/lib/visage \
    API_HOST=0.0.0.0 \
    API_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --system --home-dir /var/lib/visage --create-home visage

# The data dir keeps the ONNX conversions of the face models (made on first start), logs and,
# without STORAGE_URL, photos: give it a volume.
VOLUME ["/var/lib/visage"]
USER visage
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}/health/db\", timeout=4)"]

ENTRYPOINT ["visage"]
CMD ["serve", "--workers", "0"]
