# The acdscope image for docker-compose: the same locked dependencies as `make install`, without dev tools.
FROM python:3.11-slim
ENV UV_PYTHON_DOWNLOADS=never PYTHONUNBUFFERED=1 PATH="/app/.venv/bin:$PATH"
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.8
COPY pyproject.toml uv.lock README.md ./
COPY acdscope ./acdscope
COPY streams ./streams
COPY producers ./producers
COPY infra ./infra
COPY sql ./sql
COPY tenants ./tenants
RUN uv sync --frozen --no-dev --python python3.11
RUN useradd --system --create-home acdscope && mkdir -p /var/lib/acdscope && chown acdscope /var/lib/acdscope
USER acdscope
CMD ["acdscope", "--help"]
