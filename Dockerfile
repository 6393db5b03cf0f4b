# learnlog API image: `docker build -t learnlog .`, then
# `docker run -p 8000:8000 -v "$PWD/content:/content:ro" learnlog`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 learnlog && mkdir /data && chown 10001 /data
USER 10001
WORKDIR /home/learnlog
ENV LEARNLOG_CONTENT_DIR=/content \
    LEARNLOG_DATABASE_URL=sqlite:////data/learnlog.db \
    PYTHONUNBUFFERED=1
VOLUME ["/content", "/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["learnlog", "serve", "--host", "0.0.0.0", "--port", "8000"]
